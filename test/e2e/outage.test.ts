// What the loop does when a part of it fails or is taken away: Prometheus stopped under running KEDA
// workloads, and a node drained under every example at its minimum.
import { afterAll, describe, expect, it } from "vitest";
import {
  addDemoNodes,
  applyExamples,
  compressTimes,
  localExamples,
  prepareLocalBrokers,
  removeDemoNodes,
  type Kubectl,
} from "../../dev/demo.js";
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
  waitForCondition,
  waitForReplicas,
} from "../support/policies.js";

const namespaces: string[] = [];
const operators: InProcessOperator[] = [];

afterAll(async () => {
  await startAddon("prometheus");
  await Promise.all(operators.map((operator) => operator.stop()));
  for (const ns of namespaces) await deleteTestNamespace(ns);
});

async function namespaceWithOperator(prefix: string): Promise<string> {
  const ns = await createTestNamespace(prefix);
  namespaces.push(ns);
  operators.push(await startOperator(testKubeConfig(), { namespaces: [ns] }));
  return ns;
}

const kubectlIn =
  (namespace: string): Kubectl =>
  (args, input) =>
    kubectl(args, { namespace, ...(input !== undefined && { input }) });

/** A KEDA policy scaled on the pods' queue read from Prometheus (a prometheus trigger). */
function queuePolicy(name: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: "mlautoscale.io/v1alpha1",
    kind: "MLAutoscalePolicy",
    metadata: { name },
    spec: {
      workload: {
        template: { image: "registry.example.com/ml/model-server:1.0.0", model: { loadSeconds: 5 } },
      },
      scaling: {
        engine: "KEDA",
        pollingIntervalSeconds: 5,
        metrics: {
          queueDepth: {
            targetAverageValue: 10,
            prometheus: { serverAddress: clusterAddresses().PROMETHEUS_URL },
          },
        },
      },
      ...extra,
    },
  };
}

describe("a metrics outage", () => {
  it("applies KEDA's fallback where the policy sets one, scales nothing to zero, says which metric fails, and recovers", async () => {
    const ns = await namespaceWithOperator("outage");
    // "fallback": 1-6 replicas, 4 while its metric cannot be read twice in a row. "zero": 0-6, no fallback,
    // 20 s cooldown; 25 requests wait in its queue and nobody serves them, so it runs 3 replicas.
    const fallbackPolicy = queuePolicy("fallback", { replicas: { min: 1, max: 6 } });
    const zeroPolicy = queuePolicy("zero", { replicas: { min: 0, max: 6 } });
    const scalingOf = (policy: Record<string, unknown>): Record<string, unknown> =>
      (policy["spec"] as { scaling: Record<string, unknown> }).scaling;
    scalingOf(fallbackPolicy)["fallback"] = { failureThreshold: 2, replicas: 4 };
    // Back from the fallback within a 20 s window (the Realtime preset's would be 5 minutes).
    scalingOf(fallbackPolicy)["behavior"] = {
      scaleDown: {
        stabilizationWindowSeconds: 20,
        policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
      },
    };
    // The queue is the pods' own metric: it exists only while a pod serves. The initial cooldown keeps the
    // first pod until its model has loaded and reports the queue; the outage comes after it has passed.
    const initialCooldownSeconds = 45;
    scalingOf(zeroPolicy)["scaleToZero"] = { cooldownSeconds: 20, initialCooldownSeconds };
    const applied = Date.now();
    await applyObjects(ns, fallbackPolicy, zeroPolicy);
    await eventually(async () => {
      await configureWorkload(ns, "zero", { serviceRatePerReplica: 0, requestTimeoutSeconds: 3600 });
      await addArrivals(ns, "zero", 25);
      return true;
    }, "the emulator to know zero");
    await waitForCondition(ns, "fallback", "ScalingActive", "True", undefined, 120_000);
    await waitForReplicas(
      ns,
      "zero",
      (r) => r === 3,
      "zero to run 3 replicas for 25 waiting requests",
      180_000,
    );
    await waitForReplicas(ns, "fallback", (r) => r === 1, "fallback idle at 1", 120_000);
    const sinceApplied = Date.now() - applied;
    if (sinceApplied < initialCooldownSeconds * 1000) {
      await new Promise((resolve) => setTimeout(resolve, initialCooldownSeconds * 1000 - sinceApplied));
    }

    await stopAddon("prometheus");
    // The fallback's 4 replicas, after two failed polls (5 s apart) and the HPA's next sync.
    await waitForReplicas(ns, "fallback", (r) => r === 4, "KEDA's fallback of 4 replicas", 120_000);
    const inFallback = await waitForCondition(
      ns,
      "fallback",
      "ScalingActive",
      "False",
      "MetricsUnavailable",
      120_000,
    );
    expect(condition(inFallback, "ScalingActive")?.message).toMatch(
      /KEDA fallback is active.*failing: queue-depth \(prometheus, metric s0-prometheus\)/,
    );
    const failing = await waitForCondition(
      ns,
      "zero",
      "ScalingActive",
      "False",
      "MetricsUnavailable",
      120_000,
    );
    expect(condition(failing, "ScalingActive")?.message).toContain("queue-depth (prometheus");
    // Well past its 20 s cooldown, the workload without a fallback still runs: a metric that cannot be
    // read is not a queue that is empty.
    await new Promise((resolve) => setTimeout(resolve, 45_000));
    expect((await getDeployment(ns, "zero"))?.spec?.replicas).toBeGreaterThanOrEqual(1);

    await startAddon("prometheus");
    await waitForReplicas(ns, "fallback", (r) => r === 1, "fallback back to its metric (idle: 1)", 240_000);
    await waitForCondition(ns, "fallback", "ScalingActive", "True", undefined, 120_000);
    await waitForCondition(ns, "zero", "ScalingActive", "True", undefined, 120_000);
    expect((await getDeployment(ns, "zero"))?.spec?.replicas).toBe(3);
  }, 900_000);
});

describe("a node drain", () => {
  it("succeeds while every example sits at its minimum: no PDB of theirs blocks it", async () => {
    const ns = await namespaceWithOperator("drain");
    // The examples at once need more than the suite's four nodes: the demo's as well.
    await addDemoNodes(testKubeConfig());
    const documents = localExamples(clusterAddresses()).map((d) => compressTimes(d, 10));
    await prepareLocalBrokers(kubectlIn(ns), ns, documents, clusterAddresses());
    await applyExamples(kubectlIn(ns), ns, documents);
    for (const name of [
      "resnet50-inference",
      "batch-embeddings",
      "finetune-workers",
      "hybrid-ranker",
      "llama-chat",
    ]) {
      await waitForCondition(ns, name, "Ready", "True", undefined, 180_000);
    }
    // At their minimum: 2, 0, 0, 3 and 0 replicas (the KEDA ones scaled to zero with nothing queued).
    await waitForReplicas(ns, "batch-embeddings", (r) => r === 0, "batch-embeddings at zero", 180_000);
    await waitForReplicas(ns, "finetune-workers", (r) => r === 0, "finetune-workers at zero", 180_000);
    await waitForReplicas(ns, "llama-chat", (r) => r === 0, "llama-chat at zero", 180_000);
    const onNode = async (node: string): Promise<number> => {
      const pods = await kubectl(["get", "pods", "--field-selector", `spec.nodeName=${node}`, "-o", "name"], {
        namespace: ns,
      });
      return pods.stdout.trim() === "" ? 0 : pods.stdout.trim().split("\n").length;
    };
    // Drain the node that runs the most of them, wherever the scheduler put them.
    const placed = await kubectl(["get", "pods", "-o", "jsonpath={.items[*].spec.nodeName}"], {
      namespace: ns,
    });
    const perNode = new Map<string, number>();
    for (const name of placed.stdout
      .trim()
      .split(/\s+/)
      .filter((n) => n !== "")) {
      perNode.set(name, (perNode.get(name) ?? 0) + 1);
    }
    const [node, most] = [...perNode].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
    expect(most, placed.stdout).toBeGreaterThan(0);
    try {
      const drained = await kubectl([
        "drain",
        node,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=240s",
      ]);
      expect(drained.code, drained.stderr).toBe(0);
      expect(await onNode(node)).toBe(0);
      // Every policy still serves its minimum.
      await waitForCondition(ns, "resnet50-inference", "Ready", "True", "Available", 120_000);
      await waitForCondition(ns, "hybrid-ranker", "Ready", "True", "Available", 120_000);
    } finally {
      await kubectl(["uncordon", node]);
      await deleteTestNamespace(ns);
      await kubectl(["wait", "--for=delete", `namespace/${ns}`, "--timeout=120s"]);
      await removeDemoNodes(testKubeConfig());
    }
  }, 900_000);
});
