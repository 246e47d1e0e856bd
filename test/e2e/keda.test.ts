// Every KEDA path of the operator against the real KEDA (operator, metrics API server and admission
// webhooks, enforcing) on the e2e cluster: the examples' ScaledObjects, scale to zero and back, the
// HPA <-> KEDA hand-over under load, KEDA going down and coming back, and KEDA refusing an object.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { createRabbitMqClient } from "../../src/brokers/index.js";
import type { ScaledObject } from "../../src/keda/types.js";
import { localExamples, prepareLocalBrokers, type Kubectl } from "../../dev/demo.js";
import {
  clusterAddresses,
  createTestNamespace,
  deleteTestNamespace,
  kubectl,
  startAddon,
  stopAddon,
  testKubeConfig,
} from "../support/cluster.js";
import { addArrivals, configureWorkload } from "../support/emulator.js";
import { eventually, startOperator, type InProcessOperator } from "../support/operator.js";
import {
  applyObjects,
  condition,
  getDeployment,
  getHpa,
  getPolicy,
  getScaledObject,
  listHpas,
  rest,
  waitForCondition,
  waitForReplicas,
  type Policy,
} from "../support/policies.js";

type Document = { kind?: string; metadata: { name: string }; spec: Record<string, unknown> };

const namespaces: string[] = [];
const operators: InProcessOperator[] = [];

async function namespaceWithOperator(prefix: string): Promise<{ ns: string; operator: InProcessOperator }> {
  const ns = await createTestNamespace(prefix);
  namespaces.push(ns);
  const operator = await startOperator(testKubeConfig(), {
    namespaces: [ns],
    kedaDiscoveryIntervalMs: 2_000,
  });
  operators.push(operator);
  return { ns, operator };
}

afterAll(async () => {
  await Promise.all(operators.map((operator) => operator.stop()));
  for (const ns of namespaces) await deleteTestNamespace(ns);
});

beforeAll(() => {
  if (!inject("keda")) throw new Error("these tests need the e2e cluster with KEDA running");
});

const kubectlIn =
  (namespace: string): Kubectl =>
  (args, input) =>
    kubectl(args, { namespace, ...(input !== undefined && { input }) });

function example(name: string): Document {
  const found = (localExamples(clusterAddresses()) as Document[]).find(
    (document) => document.kind === "MLAutoscalePolicy" && document.metadata.name === name,
  );
  if (found === undefined) throw new Error(`no example policy ${name}`);
  return found;
}

/** A change to a policy document at a dotted path (creating objects on the way). */
function set(document: Document, path: string, value: unknown): Document {
  const keys = path.split(".");
  let cursor = document as unknown as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) cursor = (cursor[key] ??= {}) as Record<string, unknown>;
  const last = keys.at(-1) ?? "";
  if (value === undefined) delete cursor[last];
  else cursor[last] = value;
  return document;
}

function kedaCondition(so: ScaledObject | undefined, type: string): string | undefined {
  return so?.status?.conditions?.find((c) => c.type === type)?.status;
}

async function waitForScaledObjectReady(ns: string, name: string): Promise<ScaledObject> {
  return eventually(
    async () => {
      const so = await getScaledObject(ns, name);
      return kedaCondition(so, "Ready") === "True" ? so : undefined;
    },
    `KEDA to report ScaledObject ${ns}/${name} Ready`,
    120_000,
    500,
  );
}

async function publish(queueName: string, count: number): Promise<void> {
  const url = clusterAddresses().RABBITMQ_URL;
  if (url === undefined) throw new Error("no RabbitMQ in this cluster");
  const client = await createRabbitMqClient({ url, queueName });
  try {
    await client.publish(count);
  } finally {
    await client.close();
  }
}

/** The HPAs in `ns` that scale Deployment `name`. */
async function hpasOf(ns: string, name: string): Promise<V2HorizontalPodAutoscaler[]> {
  return (await listHpas(ns)).filter(
    (hpa) => hpa.spec?.scaleTargetRef.kind === "Deployment" && hpa.spec.scaleTargetRef.name === name,
  );
}

describe("the examples' KEDA workloads on the real KEDA", () => {
  it("become ScaledObjects KEDA reports Ready, with the HPA KEDA generates under the policy's name", async () => {
    const { ns } = await namespaceWithOperator("keda-examples");
    const policies = [example("batch-embeddings"), example("finetune-workers")];
    await prepareLocalBrokers(kubectlIn(ns), ns, policies, clusterAddresses());
    // The emulated workers take nothing from the queue: what is published stays there.
    for (const policy of policies) await applyObjects(ns, policy);
    for (const policy of policies) {
      const name = policy.metadata.name;
      const so = await waitForScaledObjectReady(ns, name);
      expect(so.status?.hpaName).toBe(name);
      const hpa = await eventually(() => getHpa(ns, name), `KEDA's HPA ${name}`);
      expect(hpa.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: "ScaledObject", name, uid: so.metadata.uid, controller: true }),
      ]);
      expect(hpa.spec?.metrics?.every((metric) => metric.type === "External")).toBe(true);
      // Nothing is waiting: KEDA says Idle, and the policy mirrors it.
      const policyStatus = await waitForCondition(ns, name, "ScalingActive", "True", "Idle");
      expect(condition(policyStatus, "Reconciled")?.reason).toBe("ReconcileSucceeded");
    }
    await configureWorkload(ns, "batch-embeddings", { serviceRatePerReplica: 0 });
    await publish("ml-inference-queue", 10);
    const active = await eventually(
      async () => {
        const so = await getScaledObject(ns, "batch-embeddings");
        return kedaCondition(so, "Active") === "True" ? so : undefined;
      },
      "KEDA to see the published messages",
      90_000,
      500,
    );
    expect(active.status?.conditions?.find((c) => c.type === "Active")?.reason).toBe("ScalerActive");
    await waitForCondition(ns, "batch-embeddings", "ScalingActive", "True", "Active");
  });
});

describe("scale to zero on the real KEDA", () => {
  it("goes to 0 after the cooldown, wakes when the activation threshold is crossed, and returns to 0", async () => {
    const { ns } = await namespaceWithOperator("keda-zero");
    const queue = `${ns}-jobs`;
    // Example 2 with windows short enough for a test: polling 5 s, cooldown 15 s, a 5 s model.
    const policy = example("batch-embeddings");
    set(policy, "spec.scaling.pollingIntervalSeconds", 5);
    set(policy, "spec.scaling.scaleToZero", { cooldownSeconds: 15, initialCooldownSeconds: 5 });
    set(policy, "spec.workload.template.model.loadSeconds", 5);
    const triggers = policy.spec["scaling"] as { triggers: { metadata: Record<string, string> }[] };
    for (const trigger of triggers.triggers) trigger.metadata["queueName"] = queue;
    await prepareLocalBrokers(kubectlIn(ns), ns, [policy], clusterAddresses());
    await applyObjects(ns, policy);

    await waitForReplicas(ns, "batch-embeddings", (r) => r === 0, "KEDA scales it to zero", 180_000);
    await waitForCondition(ns, "batch-embeddings", "Ready", "True", "ScaledToZero");

    await configureWorkload(ns, "batch-embeddings", { serviceRatePerReplica: 0 });
    await publish(queue, 12);
    await waitForReplicas(ns, "batch-embeddings", (r) => r >= 1, "KEDA wakes it from zero", 60_000);
    // Then the HPA: ceil(12 messages / 5 per replica) = 3, within max 20.
    const scaled = await waitForReplicas(
      ns,
      "batch-embeddings",
      (r) => r === 3,
      "the HPA to reach 3",
      120_000,
    );
    expect(scaled).toBe(3);
    expect(await getDeployment(ns, "batch-embeddings")).toMatchObject({ spec: { replicas: 3 } });

    // The workers drain the queue; with nothing left KEDA scales to zero again after the cooldown.
    await configureWorkload(ns, "batch-embeddings", { serviceRatePerReplica: null });
    await waitForReplicas(ns, "batch-embeddings", (r) => r === 0, "back to zero", 180_000);
  });
});

describe("hand-over between the HPA and KEDA on the real KEDA", () => {
  it("moves a loaded workload HPA -> KEDA -> HPA with one HPA at every moment and no replica lost", async () => {
    const { ns } = await namespaceWithOperator("keda-handover");
    const prometheus = clusterAddresses().PROMETHEUS_URL;
    const policy: Document = {
      kind: "MLAutoscalePolicy",
      metadata: { name: "svc" },
      spec: {
        workload: {
          template: {
            image: "registry.example.com/ml/model-server:1.0.0",
            model: { loadSeconds: 5 },
            resources: { requests: { cpu: "500m", memory: "1Gi" } },
            gpu: { count: 1 },
          },
        },
        replicas: { min: 2, max: 10 },
        // Auto: without a Prometheus server the HPA reads the queue as a Pods metric (prometheus-adapter).
        scaling: { metrics: { queueDepth: { targetAverageValue: 10 } } },
      },
    };
    await applyObjects(ns, { apiVersion: "mlautoscale.io/v1alpha1", ...policy });
    await waitForCondition(ns, "svc", "Reconciled", "True");
    // 40 requests wait and nobody serves them: 40 / 10 per replica = 4 replicas, above the minimum of 2.
    await eventually(
      () =>
        configureWorkload(ns, "svc", { serviceRatePerReplica: 0, requestTimeoutSeconds: 3600 }).then(
          () => true,
        ),
      "the emulator to know svc",
    );
    await addArrivals(ns, "svc", 40);
    await waitForReplicas(ns, "svc", (r) => r === 4, "the HPA to scale to 4 on the queue", 180_000);

    // From here on, every 200 ms: exactly one HPA on the workload, and never fewer than 4 replicas.
    const samples: { hpas: number; replicas: number | undefined; reasons: string[] }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [hpas, deployment, current] = await Promise.all([
          hpasOf(ns, "svc"),
          getDeployment(ns, "svc"),
          getPolicy(ns, "svc"),
        ]);
        samples.push({
          hpas: hpas.length,
          replicas: deployment?.spec?.replicas,
          reasons: (current?.status?.conditions ?? []).map((c) => c.reason),
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    try {
      const hpaBefore = await getHpa(ns, "svc");
      // HPA -> KEDA: with a Prometheus server, Auto picks KEDA, whose ScaledObject adopts the HPA.
      set(policy, "spec.scaling.metrics.queueDepth.prometheus", { serverAddress: prometheus });
      await applyObjects(ns, { apiVersion: "mlautoscale.io/v1alpha1", ...policy });
      await waitForScaledObjectReady(ns, "svc");
      const adopted = await eventually(
        async () => {
          const hpa = await getHpa(ns, "svc");
          return hpa?.metadata?.ownerReferences?.[0]?.kind === "ScaledObject" ? hpa : undefined;
        },
        "KEDA to adopt the HPA",
        60_000,
      );
      expect(adopted.metadata?.uid).toBe(hpaBefore?.metadata?.uid);
      expect((await getPolicy(ns, "svc"))?.status?.engine).toBe("KEDA");
      // KEDA reads the same queue through Prometheus and keeps 4.
      await new Promise((resolve) => setTimeout(resolve, 20_000));

      // KEDA -> HPA: the ScaledObject goes with orphan propagation; the policy adopts KEDA's HPA.
      set(policy, "spec.scaling.metrics.queueDepth.prometheus", undefined);
      await applyObjects(ns, { apiVersion: "mlautoscale.io/v1alpha1", ...policy });
      const back = await eventually(
        async () => {
          const hpa = await getHpa(ns, "svc");
          const soGone = (await getScaledObject(ns, "svc")) === undefined;
          return soGone && hpa?.metadata?.ownerReferences?.[0]?.kind === "MLAutoscalePolicy"
            ? hpa
            : undefined;
        },
        "the policy to take the HPA back",
        90_000,
      );
      expect(back.metadata?.uid).toBe(hpaBefore?.metadata?.uid);
      expect(back.spec?.metrics?.[0]?.type).toBe("Pods");
      await new Promise((resolve) => setTimeout(resolve, 20_000));
    } finally {
      sampling = false;
      await sampler;
    }
    expect(samples.length).toBeGreaterThan(100);
    expect(samples.filter((s) => s.hpas !== 1)).toEqual([]);
    expect(samples.filter((s) => (s.replicas ?? 0) < 4)).toEqual([]);
    // KEDA's webhook took every object: no write was ever refused or failed.
    expect(
      samples.flatMap((s) => s.reasons).filter((r) => r === "ApplyRefused" || r === "ApplyFailed"),
    ).toEqual([]);
    expect((await getPolicy(ns, "svc"))?.status?.engine).toBe("HPA");
  });
});

describe("a targetRef policy that scales to zero, on the real KEDA", () => {
  it("gives the workload back its own replica count when deleted, and never during a hand-over to the HPA", async () => {
    const { ns } = await namespaceWithOperator("keda-restore");
    const prometheus = clusterAddresses().PROMETHEUS_URL;
    if (prometheus === undefined) throw new Error("no Prometheus in this cluster");
    // Two workloads of the user's at 3 replicas; KEDA reads a constant through Prometheus for each.
    const userDeployment = (name: string) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: "app", image: "model:1", resources: { requests: { cpu: "100m" } } }] },
        },
      },
    });
    const zeroPolicy = (name: string, query: string) => ({
      apiVersion: "mlautoscale.io/v1alpha1",
      kind: "MLAutoscalePolicy",
      metadata: { name },
      spec: {
        workload: { targetRef: { kind: "Deployment", name } },
        replicas: { min: 0, max: 10 },
        scaling: {
          pollingIntervalSeconds: 5,
          scaleToZero: { cooldownSeconds: 15, initialCooldownSeconds: 5 },
          triggers: [
            {
              type: "prometheus",
              name: "load",
              metadata: { serverAddress: prometheus, query, threshold: "5" },
            },
          ],
        },
      },
    });
    await applyObjects(ns, userDeployment("idle"), userDeployment("busy"));
    await applyObjects(ns, zeroPolicy("idle", "vector(0)"), zeroPolicy("busy", "vector(20)"));
    await waitForReplicas(ns, "idle", (r) => r === 0, "KEDA to scale the idle workload to zero", 180_000);
    // 20 / 5 per replica.
    await waitForReplicas(ns, "busy", (r) => r === 4, "KEDA to scale the busy workload to 4", 180_000);
    expect((await getScaledObject(ns, "idle"))?.status?.originalReplicaCount).toBe(3);

    // Deleting the policy sets the user's workload back to the 3 replicas it had, not 0.
    const deleted = await kubectl(["delete", "mlautoscalepolicy", "idle"], { namespace: ns });
    expect(deleted.code).toBe(0);
    await waitForReplicas(ns, "idle", (r) => r === 3, "the workload's own 3 replicas back", 90_000);

    // A hand-over to the HPA deletes the ScaledObject too, but KEDA must not set 3 under the HPA. The
    // HPA's Pods metric has no series for these pods, so it holds the count: 4 at every sample.
    const samples: (number | undefined)[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push((await getDeployment(ns, "busy"))?.spec?.replicas);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    try {
      await applyObjects(ns, {
        apiVersion: "mlautoscale.io/v1alpha1",
        kind: "MLAutoscalePolicy",
        metadata: { name: "busy" },
        spec: {
          workload: { targetRef: { kind: "Deployment", name: "busy" } },
          replicas: { min: 1, max: 10 },
          scaling: { engine: "HPA", metrics: { queueDepth: { targetAverageValue: 10 } } },
        },
      });
      await eventually(
        async () => {
          const hpa = await getHpa(ns, "busy");
          const soGone = (await getScaledObject(ns, "busy")) === undefined;
          return soGone && hpa?.metadata?.ownerReferences?.[0]?.kind === "MLAutoscalePolicy"
            ? true
            : undefined;
        },
        "the policy to take KEDA's HPA over and the ScaledObject to go",
        90_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 20_000));
    } finally {
      sampling = false;
      await sampler;
    }
    expect(samples.length).toBeGreaterThan(50);
    expect(samples.filter((r) => r !== 4)).toEqual([]);
  });
});

describe("KEDA refusing an object", () => {
  it("reaches Reconciled verbatim, is not retried until something changes, and converges when it does", async () => {
    const { ns, operator } = await namespaceWithOperator("keda-refusal");
    // A user's Deployment whose container requests no CPU: KEDA refuses a cpu trigger on it.
    await applyObjects(ns, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "legacy" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "legacy" } },
        template: {
          metadata: { labels: { app: "legacy" } },
          spec: { containers: [{ name: "app", image: "legacy:1" }] },
        },
      },
    });
    await eventually(
      async () => ((await getDeployment(ns, "legacy"))?.status?.availableReplicas === 1 ? true : undefined),
      "the legacy Deployment to be available",
    );
    await applyObjects(ns, {
      apiVersion: "mlautoscale.io/v1alpha1",
      kind: "MLAutoscalePolicy",
      metadata: { name: "legacy" },
      spec: {
        workload: { targetRef: { kind: "Deployment", name: "legacy" } },
        replicas: { min: 1, max: 4 },
        scaling: { engine: "KEDA", metrics: { cpu: { targetUtilization: 60 } } },
      },
    });
    const refused = await waitForCondition(ns, "legacy", "Reconciled", "False", "ApplyRefused");
    expect(condition(refused, "Reconciled")?.message).toContain(
      `admission webhook "vscaledobject.kb.io" denied the request: the scaledobject has a cpu trigger but the container app doesn't have the cpu request defined`,
    );

    const reconciles = async (): Promise<number> => {
      const text = await operator.metrics.registry.metrics();
      return [...text.matchAll(/^controller_runtime_reconcile_total\{[^}]*\} (\d+)/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    };
    const before = await reconciles();
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    expect(await reconciles()).toBe(before);
    expect(await getScaledObject(ns, "legacy")).toBeUndefined();

    // The cluster changes: the user gives the container a CPU request. The policy converges by itself.
    await rest().request("PATCH", `/apis/apps/v1/namespaces/${ns}/deployments/legacy`, {
      contentType: "application/strategic-merge-patch+json",
      body: {
        spec: {
          template: { spec: { containers: [{ name: "app", resources: { requests: { cpu: "250m" } } }] } },
        },
      },
    });
    await waitForCondition(ns, "legacy", "Reconciled", "True", undefined, 90_000);
    await waitForScaledObjectReady(ns, "legacy");
  });
});

describe("KEDA reading the workload at admission", () => {
  it("accepts a cpu trigger on the policy's own new Deployment, with no refusal on the way", async () => {
    const { ns } = await namespaceWithOperator("keda-order");
    await applyObjects(ns, {
      apiVersion: "mlautoscale.io/v1alpha1",
      kind: "MLAutoscalePolicy",
      metadata: { name: "cpu-keda" },
      spec: {
        workload: {
          template: {
            image: "registry.example.com/ml/model-server:1.0.0",
            model: { loadSeconds: 5 },
            resources: { requests: { cpu: "500m", memory: "1Gi" } },
          },
        },
        replicas: { min: 1, max: 4 },
        scaling: { engine: "KEDA", metrics: { cpu: { targetUtilization: 60 } } },
      },
    });
    const seen: string[] = [];
    const ready = await eventually(
      async () => {
        const policy = await getPolicy(ns, "cpu-keda");
        const reconciled = condition(policy, "Reconciled");
        if (reconciled !== undefined) seen.push(reconciled.reason);
        return reconciled?.status === "True" ? policy : undefined;
      },
      "cpu-keda to be reconciled",
      60_000,
      100,
    );
    expect(ready.status?.engine).toBe("KEDA");
    // Not even once refused on the way: KEDA found the Deployment when the ScaledObject arrived.
    expect(seen.filter((reason) => reason !== "ReconcileSucceeded")).toEqual([]);
    const events = await kubectl(["get", "events", "-o", "json"], { namespace: ns });
    const warnings = (
      JSON.parse(events.stdout) as { items: { type?: string; reason?: string; message?: string }[] }
    ).items
      .filter((event) => event.type === "Warning")
      .map((event) => `${event.reason ?? ""}: ${event.message ?? ""}`);
    expect(warnings).toEqual([]);
    await waitForScaledObjectReady(ns, "cpu-keda");
  });
});

describe("KEDA's CRDs installed but KEDA not running", () => {
  afterAll(async () => {
    await startAddon("keda");
  });

  it("keeps what runs, serves with the HPA what it can, says what waits for KEDA, and converges when KEDA is back", async () => {
    const { ns } = await namespaceWithOperator("keda-down");
    const queue = `${ns}-jobs`;
    const triggerPolicy = (name: string): Record<string, unknown> => ({
      apiVersion: "mlautoscale.io/v1alpha1",
      kind: "MLAutoscalePolicy",
      metadata: { name },
      spec: {
        workload: { template: { image: "registry.example.com/ml/worker:1.0.0", model: { loadSeconds: 5 } } },
        replicas: { min: 1, max: 5 },
        scaling: {
          triggers: [{ type: "rabbitmq", metadata: { queueName: queue, mode: "QueueLength", value: "5" } }],
        },
        authentication: {
          secretRef: { name: "rabbitmq-credentials", parameters: [{ parameter: "host", key: "host" }] },
        },
      },
    });
    await prepareLocalBrokers(kubectlIn(ns), ns, [triggerPolicy("running")], clusterAddresses());
    await applyObjects(ns, triggerPolicy("running"));
    await waitForScaledObjectReady(ns, "running");
    const kedaHpa = await eventually(() => getHpa(ns, "running"), "KEDA's HPA of running");

    await stopAddon("keda");
    // The operator sees KEDA's metrics server go unavailable (kube-apiserver's availability check).
    const waiting = await waitForCondition(
      ns,
      "running",
      "ScalingActive",
      "False",
      "KedaNotRunning",
      180_000,
    );
    expect(condition(waiting, "ScalingActive")?.message).toContain("keda/keda-metrics-apiserver");

    // A policy an HPA can serve gets the HPA; one that needs KEDA waits and says why.
    const prometheus = clusterAddresses().PROMETHEUS_URL;
    await applyObjects(ns, {
      apiVersion: "mlautoscale.io/v1alpha1",
      kind: "MLAutoscalePolicy",
      metadata: { name: "auto" },
      spec: {
        workload: {
          template: { image: "registry.example.com/ml/model-server:1.0.0", model: { loadSeconds: 5 } },
        },
        replicas: { min: 1, max: 5 },
        scaling: {
          metrics: { queueDepth: { targetAverageValue: 10, prometheus: { serverAddress: prometheus } } },
        },
      },
    });
    const auto = await waitForCondition(ns, "auto", "Reconciled", "True");
    expect(auto.status?.engine).toBe("HPA");
    await applyObjects(ns, triggerPolicy("waiting"));
    const blocked = await waitForCondition(ns, "waiting", "Reconciled", "False", "KedaNotRunning");
    expect(condition(blocked, "Reconciled")?.message).toContain("scaling.triggers");
    expect(await getDeployment(ns, "waiting")).toBeUndefined();

    // Nothing that ran was deleted or changed.
    expect((await getScaledObject(ns, "running"))?.metadata.uid).toBeDefined();
    expect((await getHpa(ns, "running"))?.metadata?.uid).toBe(kedaHpa.metadata?.uid);
    expect((await getDeployment(ns, "running"))?.spec?.replicas).toBeGreaterThanOrEqual(1);
    expect((await getPolicy(ns, "running"))?.status?.engine).toBe("KEDA");

    await startAddon("keda");
    await waitForCondition(ns, "running", "ScalingActive", "True", undefined, 180_000);
    await waitForScaledObjectReady(ns, "waiting");
    await waitForCondition(ns, "waiting", "Reconciled", "True");
    const onKeda = await eventually(
      async () => {
        const policy: Policy | undefined = await getPolicy(ns, "auto");
        return policy?.status?.engine === "KEDA" && (await getScaledObject(ns, "auto")) !== undefined
          ? policy
          : undefined;
      },
      "auto to move to KEDA once KEDA runs",
      180_000,
    );
    expect(condition(onKeda, "Reconciled")?.status).toBe("True");
    expect(await hpasOf(ns, "auto")).toHaveLength(1);
  });
});
