// The operator against a real kube-apiserver: children, updates, drift, ownership, invalid input, engines,
// conflicts, pausing and status. Each test has its own namespace and its own in-process operator.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { V1Deployment, V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { claimsBefore } from "../../src/controllers/mlautoscalepolicy/scale-target.js";
import type { KubeObject } from "../../src/runtime/object.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import type { PolicyStatus } from "../../src/api/v1alpha1/index.js";
import { INVALID_POLICIES, validBasePolicy, type JsonObject } from "../fixtures/invalid-policies.js";
import { createTestNamespace, kubectl, testKubeConfig } from "../support/cluster.js";
import { eventually, startOperator, type InProcessOperator, getIfExists } from "../support/operator.js";

let rest: KubeRestClient;
const running: InProcessOperator[] = [];

beforeAll(() => {
  rest = new KubeRestClient(testKubeConfig());
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((o) => o.stop()));
});

async function operatorFor(namespace: string, resyncPeriodMs?: number): Promise<InProcessOperator> {
  const operator = await startOperator(testKubeConfig(), {
    namespaces: [namespace],
    ...(resyncPeriodMs !== undefined && { resyncPeriodMs }),
  });
  running.push(operator);
  return operator;
}

type Policy = JsonObject & { status?: PolicyStatus; metadata: { uid?: string; generation?: number } };

const paths = {
  policy: (ns: string, name: string) =>
    `/apis/mlautoscale.io/v1alpha1/namespaces/${ns}/mlautoscalepolicies/${name}`,
  deployment: (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
  hpa: (ns: string, name: string) => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${name}`,
  pdb: (ns: string, name: string) => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${name}`,
  scaledObject: (ns: string, name: string) => `/apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects/${name}`,
  triggerAuthentication: (ns: string, name: string) =>
    `/apis/keda.sh/v1alpha1/namespaces/${ns}/triggerauthentications/${name}`,
  hpas: (ns: string) => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`,
  pdbs: (ns: string) => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`,
};

const get = <T>(path: string): Promise<T | undefined> => getIfExists<T>(rest, path);
const list = async <T>(path: string): Promise<T[]> => (await rest.request<{ items: T[] }>("GET", path)).items;

async function apply(namespace: string, object: JsonObject): Promise<void> {
  const result = await kubectl(["apply", "--server-side", "--field-manager=test-user", "-f", "-"], {
    namespace,
    input: stringify(object),
  });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
}

function policyNamed(name: string, change: (spec: JsonObject) => void = () => {}): JsonObject {
  const policy = validBasePolicy();
  (policy["metadata"] as JsonObject)["name"] = name;
  change(policy["spec"] as JsonObject);
  return policy;
}

function condition(policy: Policy | undefined, type: string) {
  return policy?.status?.conditions?.find((c) => c.type === type);
}

async function waitForCondition(
  namespace: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
): Promise<Policy> {
  return eventually(
    async () => {
      const policy = await get<Policy>(paths.policy(namespace, name));
      const c = condition(policy, type);
      const generationSeen = policy?.status?.observedGeneration === policy?.metadata.generation;
      if (c?.status === status && (reason === undefined || c.reason === reason) && generationSeen) {
        return policy;
      }
      // Thrown so that a timeout says what the condition was instead.
      throw new Error(
        `last seen ${c === undefined ? "no condition" : `${c.status} (${c.reason}): ${c.message}`}` +
          (generationSeen ? "" : `, generation ${policy?.metadata.generation} not yet observed`),
      );
    },
    `${namespace}/${name} ${type}=${status}${reason ? ` (${reason})` : ""}`,
  );
}

/** Plays the deployment controller, which the integration profile does not run. */
async function markDeploymentAvailable(namespace: string, name: string, replicas: number): Promise<void> {
  await rest.request("PATCH", `${paths.deployment(namespace, name)}/status`, {
    contentType: "application/merge-patch+json",
    body: {
      status: { replicas, readyReplicas: replicas, availableReplicas: replicas, updatedReplicas: replicas },
    },
  });
}

/** Writes so far to the kinds the operator touches, from the API server's own counters. */
async function operatorWrites(): Promise<number> {
  const { stdout: text } = await kubectl(["get", "--raw", "/metrics"]);
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    if (!/verb="(APPLY|PATCH|POST|PUT|DELETE)"/.test(line)) continue;
    if (
      !/resource="(deployments|horizontalpodautoscalers|poddisruptionbudgets|scaledobjects|triggerauthentications|mlautoscalepolicies|events)"/.test(
        line,
      )
    ) {
      continue;
    }
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

describe("operator reconciles a template policy", () => {
  it("creates owned children with the intended spec and reports Ready once the workload is available", async () => {
    const ns = await createTestNamespace("create");
    await operatorFor(ns);
    await apply(ns, policyNamed("svc"));
    const policy = await waitForCondition(ns, "svc", "Reconciled", "True", "ReconcileSucceeded");
    const uid = policy.metadata.uid;

    const deployment = await get<V1Deployment>(paths.deployment(ns, "svc"));
    const hpa = await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "svc"));
    const pdb = await get<V1PodDisruptionBudget>(paths.pdb(ns, "svc"));
    for (const child of [deployment, hpa, pdb]) {
      expect(child?.metadata?.ownerReferences).toEqual([
        expect.objectContaining({
          kind: "MLAutoscalePolicy",
          name: "svc",
          uid,
          controller: true,
          blockOwnerDeletion: true,
        }),
      ]);
      expect(child?.metadata?.labels?.["mlautoscale.io/policy"]).toBe("svc");
    }
    const container = deployment?.spec?.template.spec?.containers[0];
    expect(container?.image).toBe("registry.example.com/ml/model-server:1.0.0");
    expect(container?.resources?.limits?.["nvidia.com/gpu"]).toBe("1");
    expect(container?.env).toContainEqual({ name: "MODEL_PATH", value: "/models/base" });
    expect(container?.startupProbe?.failureThreshold).toBe(25); // 2 x 60 s / 5 s + 1
    expect(hpa?.spec?.minReplicas).toBe(1);
    expect(hpa?.spec?.maxReplicas).toBe(10);
    expect(hpa?.spec?.metrics?.[0]?.resource).toEqual({
      name: "cpu",
      target: { type: "Utilization", averageUtilization: 70 },
    });
    expect(pdb?.spec?.maxUnavailable).toBe(1);
    expect(policy.status?.engine).toBe("HPA");
    expect(policy.status?.children?.map((c) => c.kind).sort()).toEqual([
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
    ]);
    expect(condition(policy, "Ready")?.status).toBe("False");

    await markDeploymentAvailable(ns, "svc", 1);
    const ready = await waitForCondition(ns, "svc", "Ready", "True", "Available");
    expect(ready.status?.readyReplicas).toBe(1);
    expect(condition(ready, "Ready")?.observedGeneration).toBe(ready.metadata.generation);
  });

  it("follows updates, recreates deleted children, restores owned fields and keeps others' fields", async () => {
    const ns = await createTestNamespace("update");
    await operatorFor(ns);
    await apply(ns, policyNamed("svc"));
    await waitForCondition(ns, "svc", "Reconciled", "True");

    // update -> children follow
    await apply(
      ns,
      policyNamed("svc", (spec) => {
        (spec["replicas"] as JsonObject)["max"] = 7;
        ((spec["workload"] as JsonObject)["template"] as JsonObject)["image"] =
          "registry.example.com/ml/model-server:2.0.0";
      }),
    );
    await eventually(async () => {
      const hpa = await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "svc"));
      const deployment = await get<V1Deployment>(paths.deployment(ns, "svc"));
      return hpa?.spec?.maxReplicas === 7 &&
        deployment?.spec?.template.spec?.containers[0]?.image === "registry.example.com/ml/model-server:2.0.0"
        ? true
        : undefined;
    }, "children to follow the update");

    // delete a child -> recreated
    const before = await get<V1PodDisruptionBudget>(paths.pdb(ns, "svc"));
    await rest.request("DELETE", paths.pdb(ns, "svc"));
    const recreated = await eventually(async () => {
      const pdb = await get<V1PodDisruptionBudget>(paths.pdb(ns, "svc"));
      return pdb !== undefined && pdb.metadata?.uid !== before?.metadata?.uid ? pdb : undefined;
    }, "the PDB to be recreated");
    expect(recreated.spec?.maxUnavailable).toBe(1);

    // someone changes a field the operator owns -> restored; a label the operator does not own -> kept
    await kubectl(["patch", "hpa", "svc", "--type=merge", "-p", '{"spec":{"maxReplicas":50}}'], {
      namespace: ns,
    });
    await kubectl(["label", "deployment", "svc", "team=vision"], { namespace: ns });
    await eventually(async () => {
      const hpa = await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "svc"));
      return hpa?.spec?.maxReplicas === 7 ? true : undefined;
    }, "maxReplicas to be restored");
    await apply(
      ns,
      policyNamed("svc", (spec) => {
        (spec["replicas"] as JsonObject)["max"] = 8;
      }),
    );
    await eventually(async () => {
      const hpa = await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "svc"));
      return hpa?.spec?.maxReplicas === 8 ? true : undefined;
    }, "the next update");
    const deployment = await get<V1Deployment>(paths.deployment(ns, "svc"));
    expect(deployment?.metadata?.labels?.["team"]).toBe("vision");
  });

  it("makes no writes in a steady state, across resyncs", async () => {
    const ns = await createTestNamespace("steady");
    await operatorFor(ns, 1_000);
    await apply(ns, policyNamed("svc"));
    await markDeploymentAvailable(ns, "svc", 1).catch(() => undefined);
    await eventually(async () => (await get(paths.deployment(ns, "svc"))) ?? undefined, "the Deployment");
    await markDeploymentAvailable(ns, "svc", 1);
    await waitForCondition(ns, "svc", "Ready", "True");
    // Let in-flight events settle, then count over several resync periods.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const before = await operatorWrites();
    // The counter sees the operator's writes: creating the children and the status took several.
    expect(before).toBeGreaterThan(4);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(await operatorWrites()).toBe(before);
  });

  it("reports an invalid update as InvalidSpec and leaves the children as they were", async () => {
    const ns = await createTestNamespace("invalid");
    await operatorFor(ns);
    await apply(ns, policyNamed("svc"));
    await waitForCondition(ns, "svc", "Reconciled", "True");
    const deploymentBefore = await get<V1Deployment>(paths.deployment(ns, "svc"));
    const hpaBefore = await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "svc"));

    // The CRD accepts this URL; the operator's validation does not.
    await apply(
      ns,
      policyNamed("svc", (spec) => {
        (spec["scaling"] as JsonObject)["metrics"] = {
          gpuUtilization: { targetUtilization: 70, prometheus: { serverAddress: "ftp://prometheus:9090" } },
        };
        (spec["replicas"] as JsonObject)["max"] = 3;
      }),
    );
    const policy = await waitForCondition(ns, "svc", "Reconciled", "False", "InvalidSpec");
    expect(condition(policy, "Reconciled")?.message).toContain(
      "spec.scaling.metrics.gpuUtilization.prometheus.serverAddress",
    );
    expect(condition(policy, "Ready")?.status).toBe("False");
    const deploymentAfter = await get<V1Deployment>(paths.deployment(ns, "svc"));
    const hpaAfter = await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "svc"));
    expect(deploymentAfter?.metadata?.resourceVersion).toBe(deploymentBefore?.metadata?.resourceVersion);
    expect(hpaAfter?.metadata?.resourceVersion).toBe(hpaBefore?.metadata?.resourceVersion);
    expect(hpaAfter?.spec?.maxReplicas).toBe(10);
  });

  it("reports every invalid policy the API server accepts, naming its field", async () => {
    const ns = await createTestNamespace("reported");
    await operatorFor(ns);
    const reported = INVALID_POLICIES.filter((c) => c.admission === "reported");
    expect(reported.length).toBeGreaterThan(0);
    for (const [index, entry] of reported.entries()) {
      const policy = structuredClone(entry.policy);
      const name = `reported-${index}`;
      (policy["metadata"] as JsonObject)["name"] = name;
      await apply(ns, policy);
      const stored = await waitForCondition(ns, name, "Reconciled", "False", "InvalidSpec");
      expect(condition(stored, "Reconciled")?.message).toContain(entry.field);
      expect(await get(paths.deployment(ns, name))).toBeUndefined();
    }
  });

  it("writes nothing while paused and reports Paused", async () => {
    const ns = await createTestNamespace("paused");
    await operatorFor(ns);
    await apply(ns, policyNamed("svc"));
    await waitForCondition(ns, "svc", "Reconciled", "True");
    await apply(
      ns,
      policyNamed("svc", (spec) => {
        spec["paused"] = true;
        (spec["replicas"] as JsonObject)["max"] = 4;
      }),
    );
    await waitForCondition(ns, "svc", "Reconciled", "False", "Paused");
    await rest.request("DELETE", paths.pdb(ns, "svc"));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "svc")))?.spec?.maxReplicas).toBe(10);
    expect(await get(paths.pdb(ns, "svc"))).toBeUndefined();

    await apply(
      ns,
      policyNamed("svc", (spec) => {
        (spec["replicas"] as JsonObject)["max"] = 4;
      }),
    );
    await waitForCondition(ns, "svc", "Reconciled", "True");
    expect((await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "svc")))?.spec?.maxReplicas).toBe(4);
    expect(await get(paths.pdb(ns, "svc"))).toBeDefined();
  });
});

describe("operator with existing workloads and other autoscalers", () => {
  const existingDeployment = (name: string): JsonObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "server", image: "registry.example.com/ml/existing:1.0.0" }] },
      },
    },
  });
  /**
   * The HPA controller scales a workload through /scale, which makes spec.replicas its own (a changed
   * value: an update that leaves it as it was takes no ownership): after this the manifest's author no
   * longer writes the field, as once an autoscaler has been scaling it.
   */
  const scaleAsTheHpaController = async (ns: string, name: string, replicas: number): Promise<void> => {
    await rest.request("PATCH", `${paths.deployment(ns, name)}/scale`, {
      query: { fieldManager: "kube-controller-manager" },
      contentType: "application/merge-patch+json",
      body: { spec: { replicas } },
    });
  };
  /** A policy that attaches to the Deployment `existing`. */
  const attaching = (name: string): JsonObject =>
    policyNamed(name, (spec) => {
      spec["workload"] = { targetRef: { kind: "Deployment", name: "existing" } };
    });
  /** An HPA a user wrote by hand for the Deployment `existing`. */
  const handWrittenHpa: JsonObject = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "hand-written" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "existing" },
      minReplicas: 1,
      maxReplicas: 3,
    },
  };

  it("attaches to a targetRef workload without modifying it, and reports a missing target", async () => {
    const ns = await createTestNamespace("target");
    await operatorFor(ns);
    const policy = attaching("attach");
    await apply(ns, policy);
    await waitForCondition(ns, "attach", "Reconciled", "False", "TargetNotFound");

    await apply(ns, existingDeployment("existing"));
    const target = await get<V1Deployment>(paths.deployment(ns, "existing"));
    await waitForCondition(ns, "attach", "Reconciled", "True");
    const hpa = await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "attach"));
    expect(hpa?.spec?.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "existing",
    });
    const pdb = await get<V1PodDisruptionBudget>(paths.pdb(ns, "attach"));
    expect(pdb?.spec?.selector).toEqual({ matchLabels: { app: "existing" } });
    expect(await get(paths.deployment(ns, "attach"))).toBeUndefined();
    const after = await get<V1Deployment>(paths.deployment(ns, "existing"));
    expect(after?.metadata?.resourceVersion).toBe(target?.metadata?.resourceVersion);
    expect(after?.metadata?.ownerReferences).toBeUndefined();
  });

  it("warns while another manager writes the target's replicas, until the autoscaler is its only writer", async () => {
    const ns = await createTestNamespace("replica-writers");
    // The user's manifest sets replicas: its manager (kubectl's server-side apply here) owns the field.
    await apply(ns, existingDeployment("existing"));
    await operatorFor(ns);
    await apply(ns, attaching("attach"));
    const warned = await waitForCondition(ns, "attach", "Reconciled", "True", "ReplicasWrittenElsewhere");
    expect(condition(warned, "Reconciled")?.message).toContain(
      `spec.replicas of Deployment ${ns}/existing is also written by test-user (Apply)`,
    );
    await scaleAsTheHpaController(ns, "existing", 3);
    await waitForCondition(ns, "attach", "Reconciled", "True", "ReconcileSucceeded");
  });

  it("reports a foreign HPA on the same target as Conflict and does not fight it", async () => {
    const ns = await createTestNamespace("conflict");
    await apply(ns, existingDeployment("existing"));
    await apply(ns, handWrittenHpa);
    await operatorFor(ns);
    await apply(ns, attaching("attach"));
    const policy = await waitForCondition(ns, "attach", "Reconciled", "False", "Conflict");
    expect(condition(policy, "Reconciled")?.message).toContain("HorizontalPodAutoscaler");
    expect(condition(policy, "Reconciled")?.message).toContain("hand-written");
    expect(await get(paths.hpa(ns, "attach"))).toBeUndefined();
    const foreign = await get<V2HorizontalPodAutoscaler>(paths.hpa(ns, "hand-written"));
    expect(foreign?.spec?.maxReplicas).toBe(3);

    // Removing the foreign HPA resolves the conflict.
    await rest.request("DELETE", paths.hpa(ns, "hand-written"));
    await waitForCondition(ns, "attach", "Reconciled", "True");
    expect(await get(paths.hpa(ns, "attach"))).toBeDefined();
  });

  it("reports a foreign ScaledObject on the same target as Conflict", async () => {
    const ns = await createTestNamespace("conflict-keda");
    await apply(ns, existingDeployment("existing"));
    await apply(ns, {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name: "team-scaler" },
      spec: {
        scaleTargetRef: { name: "existing" },
        triggers: [{ type: "cpu", metricType: "Utilization", metadata: { value: "50" } }],
      },
    });
    await operatorFor(ns);
    await apply(ns, attaching("attach"));
    const policy = await waitForCondition(ns, "attach", "Reconciled", "False", "Conflict");
    expect(condition(policy, "Reconciled")?.message).toContain("ScaledObject");
    expect(condition(policy, "Reconciled")?.message).toContain("team-scaler");
    expect(await get(paths.hpa(ns, "attach"))).toBeUndefined();
    expect(await get(paths.pdb(ns, "attach"))).toBeUndefined();
  });

  it("of two policies applied at once on one workload, the older keeps the only HPA and PDB", async () => {
    const ns = await createTestNamespace("rivals");
    await apply(ns, existingDeployment("existing"));
    await operatorFor(ns);
    // One request each, at once: the operator's cache knows of neither when it reconciles the first.
    await Promise.all([apply(ns, attaching("left")), apply(ns, attaching("right"))]);
    type Claim = { metadata: { name: string; uid: string; creationTimestamp: string } };
    const claims = await Promise.all(["left", "right"].map((name) => get<Claim>(paths.policy(ns, name))));
    const [older, younger] = [...claims].sort((a, b) =>
      claimsBefore(a as unknown as KubeObject, b as unknown as KubeObject) ? -1 : 1,
    );
    const winner = older?.metadata.name ?? "";
    const loser = younger?.metadata.name ?? "";
    await waitForCondition(ns, winner, "Reconciled", "True");
    const lost = await waitForCondition(ns, loser, "Reconciled", "False", "Conflict");
    expect(condition(lost, "Reconciled")?.message).toContain(`MLAutoscalePolicy ${ns}/${winner} claimed`);
    await eventually(async () => {
      const hpas = await list<V2HorizontalPodAutoscaler>(paths.hpas(ns));
      const pdbs = await list<V1PodDisruptionBudget>(paths.pdbs(ns));
      const names = (items: Array<{ metadata?: { name?: string } }>) => items.map((i) => i.metadata?.name);
      return names(hpas).join() === winner && names(pdbs).join() === winner ? true : undefined;
    }, "only the older policy's HPA and PDB");
  });

  it("removes its own HPA and PDB when a foreign HPA appears on the workload after them", async () => {
    const ns = await createTestNamespace("race-foreign");
    await apply(ns, existingDeployment("existing"));
    await operatorFor(ns);
    // The policy's HPA and PDB exist first, as when the two were created at once and the operator's
    // cache had not seen the foreign one yet.
    await apply(ns, attaching("attach"));
    await waitForCondition(ns, "attach", "Reconciled", "True");
    expect(await get(paths.hpa(ns, "attach"))).toBeDefined();
    expect(await get(paths.pdb(ns, "attach"))).toBeDefined();
    await apply(ns, handWrittenHpa);
    const policy = await waitForCondition(ns, "attach", "Reconciled", "False", "Conflict");
    expect(condition(policy, "Reconciled")?.message).toContain("keeps no autoscaler or PDB");
    await eventually(async () => {
      const hpas = await list<V2HorizontalPodAutoscaler>(paths.hpas(ns));
      return hpas.map((h) => h.metadata?.name).join() === "hand-written" ? true : undefined;
    }, "the foreign HPA alone");
    expect(await get(paths.pdb(ns, "attach"))).toBeUndefined();
  });

  it("makes no PDB for pods another PDB covers, and makes its own once that one is gone", async () => {
    const ns = await createTestNamespace("pdb-overlap");
    await apply(ns, existingDeployment("existing"));
    // Only the PDB is worth a note here, not the manifest's replicas.
    await scaleAsTheHpaController(ns, "existing", 3);
    await apply(ns, {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "team-budget" },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: "existing" } } },
    });
    await operatorFor(ns);
    await apply(ns, attaching("attach"));
    const policy = await waitForCondition(ns, "attach", "Reconciled", "True", "DisruptionBudgetOverlap");
    expect(condition(policy, "Reconciled")?.message).toContain(`PodDisruptionBudget ${ns}/team-budget`);
    expect(await get(paths.hpa(ns, "attach"))).toBeDefined();
    expect(await get(paths.pdb(ns, "attach"))).toBeUndefined();

    // The other PDB's deletion wakes the policy (no resync needed): it now guards the pods itself.
    await rest.request("DELETE", paths.pdb(ns, "team-budget"));
    await waitForCondition(ns, "attach", "Reconciled", "True", "ReconcileSucceeded");
    expect(await get(paths.pdb(ns, "attach"))).toBeDefined();
  });

  it("never takes over an object with a child's name that it does not own", async () => {
    const ns = await createTestNamespace("squat");
    const squatter = existingDeployment("svc");
    await apply(ns, squatter);
    await operatorFor(ns);
    await apply(ns, policyNamed("svc"));
    const policy = await waitForCondition(ns, "svc", "Reconciled", "False", "Conflict");
    expect(condition(policy, "Reconciled")?.message).toContain("Deployment");
    const deployment = await get<V1Deployment>(paths.deployment(ns, "svc"));
    expect(deployment?.spec?.template.spec?.containers[0]?.image).toBe(
      "registry.example.com/ml/existing:1.0.0",
    );
    expect(deployment?.metadata?.ownerReferences).toBeUndefined();
  });
});
