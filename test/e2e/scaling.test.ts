// The real scaling loop, one example workload at a time: load goes in (HTTP requests through the
// workload emulator, or messages to the real brokers), the real metrics pipeline and autoscalers (the
// HPA controller, KEDA) act, replicas rise and fall the way each policy says, and new replicas are
// Ready only after their model's load time. Windows are shortened (stated at each test) so the suite
// stays fast; the HPA controller keeps its default 15 s sync period, as in a user's cluster.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { V1Pod } from "@kubernetes/client-node";
import { addNodes, nodePool, removeNodes } from "../../dev/controlplane/nodes.js";
import {
  createKafkaClient,
  createRabbitMqClient,
  createSqsClient,
  type QueueClient,
} from "../../src/brokers/index.js";
import { localExamples, prepareLocalBrokers, type Kubectl } from "../../dev/demo.js";
import { clusterAddresses, kubectl, testKubeConfig } from "../support/cluster.js";
import { configureWorkload, explainedByEmulator, setLoad } from "../support/emulator.js";
import { eventually, OperatorNamespaces } from "../support/operator.js";
import { applyObjects, getDeployment, rest, waitForCondition, waitForReplicas } from "../support/policies.js";

type Document = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
};

const HPA_SYNC_SECONDS = 15;
const namespaces = new OperatorNamespaces();

/**
 * Room for the workloads of these tests to scale side by side: each of them at its maximum, on the
 * instance types its policy names.
 */
const EXTRA_NODES = [
  ...nodePool(
    "scale-g4dn",
    ["1", "2", "3", "4", "5", "6"],
    { instanceType: "g4dn.xlarge", cpu: "4", memory: "16Gi", gpus: 4 },
    ["zone-b", "zone-a"],
  ),
  ...nodePool("scale-p3", ["1", "2"], { instanceType: "p3.2xlarge", cpu: "8", memory: "61Gi", gpus: 4 }, [
    "zone-a",
    "zone-a",
  ]),
];

beforeAll(async () => {
  await addNodes(testKubeConfig(), EXTRA_NODES);
});

afterAll(async () => {
  await namespaces.stop();
  await removeNodes(testKubeConfig(), EXTRA_NODES);
});

const kubectlIn =
  (namespace: string): Kubectl =>
  (args, input) =>
    kubectl(args, { namespace, ...(input !== undefined && { input }) });

function example(name: string): Document {
  const found = (localExamples(clusterAddresses()) as Document[]).find(
    (d) => d.kind === "MLAutoscalePolicy" && d.metadata.name === name,
  );
  if (found === undefined) throw new Error(`no example policy ${name}`);
  return found;
}

function set(document: Document, path: string, value: unknown): Document {
  const keys = path.split(".");
  let cursor = document as unknown as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) cursor = (cursor[key] ??= {}) as Record<string, unknown>;
  cursor[keys.at(-1) ?? ""] = value;
  return document;
}

interface Sample {
  /** Seconds since the recorder started. */
  t: number;
  replicas: number;
  ready: number;
}

/** Samples a Deployment's spec.replicas and readyReplicas every second until stopped. */
function recordReplicas(
  ns: string,
  name: string,
): { samples: Sample[]; stop: () => Promise<void>; now: () => number } {
  const samples: Sample[] = [];
  const started = Date.now();
  let running = true;
  const loop = (async () => {
    while (running) {
      const deployment = await getDeployment(ns, name).catch(() => undefined);
      if (deployment !== undefined) {
        samples.push({
          t: (Date.now() - started) / 1000,
          replicas: deployment.spec?.replicas ?? 0,
          ready: deployment.status?.readyReplicas ?? 0,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  })();
  return {
    samples,
    now: () => (Date.now() - started) / 1000,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** The moments spec.replicas changed: [t, from, to]. */
function changes(samples: readonly Sample[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1];
    const after = samples[i];
    if (before !== undefined && after !== undefined && after.replicas !== before.replicas) {
      out.push([after.t, before.replicas, after.replicas]);
    }
  }
  return out;
}

async function pods(ns: string, policy: string): Promise<V1Pod[]> {
  return (
    await rest().request<{ items: V1Pod[] }>("GET", `/api/v1/namespaces/${ns}/pods`, {
      query: { labelSelector: `mlautoscale.io/policy=${policy}` },
    })
  ).items;
}

async function withQueue<T>(
  client: Promise<QueueClient>,
  use: (queue: QueueClient) => Promise<T>,
): Promise<T> {
  const queue = await client;
  try {
    return await use(queue);
  } finally {
    await queue.close();
  }
}

describe("every example workload scales the way its policy says", () => {
  it.concurrent(
    "1 (HTTP, HPA on CPU, memory and queue depth): up in the steps its behavior allows, Ready after the model loads, down after its window",
    async () => {
      const ns = await namespaces.create("scale-realtime");
      // Example 1 with a 10 s model and its windows shortened: up after 15 s in steps of 100 % or 2 pods
      // per 30 s (the larger), down after 45 s by at most 50 % per 30 s.
      const policy = example("resnet50-inference");
      set(policy, "spec.workload.template.model.loadSeconds", 10);
      set(policy, "spec.scaling.behavior", {
        scaleUp: {
          stabilizationWindowSeconds: 15,
          selectPolicy: "Max",
          policies: [
            { type: "Percent", value: 100, periodSeconds: 30 },
            { type: "Pods", value: 2, periodSeconds: 30 },
          ],
        },
        scaleDown: {
          stabilizationWindowSeconds: 45,
          policies: [{ type: "Percent", value: 50, periodSeconds: 30 }],
        },
      });
      await applyObjects(ns, policy);
      await waitForCondition(ns, "resnet50-inference", "Ready", "True", "Available", 120_000);
      // The model's weights hold 40 % of the memory request. (At the emulator's default of 60 %, the real
      // HPA stops at 3, not 2: against the 80 % target, ceil(3 x 60 / 80) = 3. The simulator agrees.)
      await eventually(
        () => configureWorkload(ns, "resnet50-inference", { memoryUtilizationPercent: 40 }).then(() => true),
        "the emulator to know resnet50-inference",
      );

      const recorder = recordReplicas(ns, "resnet50-inference");
      try {
        // 60 requests per second on two replicas serving 10 each: the queue grows, CPU saturates.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const loadStarted = recorder.now();
        await setLoad(ns, "resnet50-inference", 60);
        await waitForReplicas(
          ns,
          "resnet50-inference",
          (r) => r >= 8,
          "the HPA to scale up to 8 or more",
          240_000,
        );
        const loadStopped = recorder.now();
        await setLoad(ns, "resnet50-inference", 0);
        await waitForReplicas(ns, "resnet50-inference", (r) => r === 2, "back to the minimum of 2", 360_000);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        await recorder.stop();

        const steps = changes(recorder.samples);
        const ups = steps.filter(([, from, to]) => to > from && from >= 2);
        const downs = steps.filter(([, from, to]) => to < from);
        const firstUp = ups[0];
        expect(firstUp, JSON.stringify(steps)).toBeDefined();
        // Within one HPA sync plus the 15 s window, plus the metrics pipeline (Prometheus scrapes every
        // 5 s, metrics-server resolves every 15 s), with room for a busy machine.
        expect((firstUp?.[0] ?? Infinity) - loadStarted).toBeLessThan(HPA_SYNC_SECONDS + 15 + 15 + 30);
        // Every step up within what the behavior allows over its 30 s period.
        for (const [i, a] of recorder.samples.entries()) {
          for (const b of recorder.samples.slice(i + 1)) {
            if (b.t - a.t >= 29) break;
            if (b.t < loadStopped) {
              expect(b.replicas, `${a.replicas} at ${a.t} -> ${b.replicas} at ${b.t}`).toBeLessThanOrEqual(
                Math.max(2 * a.replicas, a.replicas + 2),
              );
            } else {
              expect(b.replicas, `${a.replicas} at ${a.t} -> ${b.replicas} at ${b.t}`).toBeGreaterThanOrEqual(
                Math.floor(a.replicas / 2),
              );
            }
          }
        }
        // Down no sooner than the 45 s window after the load stopped.
        expect((downs[0]?.[0] ?? 0) - loadStopped).toBeGreaterThanOrEqual(45);
        expect(Math.max(...recorder.samples.map((s) => s.replicas))).toBeLessThanOrEqual(10);
      } finally {
        await recorder.stop();
      }
      // Every pod that became Ready did so only once its model had loaded (10 s after it started).
      const started = (await pods(ns, "resnet50-inference")).filter(
        (pod) => pod.status?.startTime !== undefined,
      );
      expect(started.length).toBeGreaterThanOrEqual(2);
      for (const pod of started) {
        const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
        if (ready?.status !== "True") continue;
        const loadedAfter =
          (new Date(String(ready.lastTransitionTime)).getTime() -
            new Date(String(pod.status?.startTime)).getTime()) /
          1000;
        expect(loadedAfter, pod.metadata?.name).toBeGreaterThanOrEqual(10 - 1);
      }
    },
    600_000,
  );

  it.concurrent(
    "2 (RabbitMQ, KEDA): from 0, scales to ceil(queue / 5) bounded by 20, drains, and returns to 0 after the cooldown",
    async () => {
      const ns = await namespaces.create("scale-rabbitmq");
      const queueName = `${ns}-inference`;
      // Example 2 with polling every 5 s, a 20 s cooldown and a 5 s model; its own queue.
      const policy = example("batch-embeddings");
      set(policy, "spec.scaling.pollingIntervalSeconds", 5);
      set(policy, "spec.scaling.scaleToZero", { cooldownSeconds: 20, initialCooldownSeconds: 5 });
      set(policy, "spec.workload.template.model.loadSeconds", 5);
      for (const trigger of (policy.spec["scaling"] as { triggers: { metadata: Record<string, string> }[] })
        .triggers) {
        trigger.metadata["queueName"] = queueName;
      }
      await prepareLocalBrokers(kubectlIn(ns), ns, [policy], clusterAddresses());
      await applyObjects(ns, policy);
      await waitForReplicas(ns, "batch-embeddings", (r) => r === 0, "scaled to zero", 180_000);
      // The workers hold off until the HPA has reached its ceiling, so that the backlog stays put.
      await eventually(
        () => configureWorkload(ns, "batch-embeddings", { serviceRatePerReplica: 0 }).then(() => true),
        "the emulator to know batch-embeddings",
      );

      const recorder = recordReplicas(ns, "batch-embeddings");
      const rabbit = createRabbitMqClient({ url: clusterAddresses().RABBITMQ_URL ?? "", queueName });
      try {
        await withQueue(rabbit, (queue) => queue.publish(150));
        // ceil(150 / 5) = 30, bounded by max 20.
        await explainedByEmulator(ns, "batch-embeddings", () =>
          waitForReplicas(
            ns,
            "batch-embeddings",
            (r) => r === 20,
            "the HPA to reach its maximum of 20",
            180_000,
          ),
        );
        await configureWorkload(ns, "batch-embeddings", { serviceRatePerReplica: 2 });
        await explainedByEmulator(ns, "batch-embeddings", () =>
          withQueue(
            createRabbitMqClient({ url: clusterAddresses().RABBITMQ_URL ?? "", queueName }),
            (queue) =>
              eventually(
                async () => ((await queue.depth()) === 0 ? true : undefined),
                "the workers to drain the queue",
                300_000,
                1_000,
              ),
          ),
        );
        const drained = recorder.now();
        await waitForReplicas(ns, "batch-embeddings", (r) => r === 0, "back to zero", 180_000);
        const zero = recorder.now();
        await recorder.stop();
        expect(Math.max(...recorder.samples.map((s) => s.replicas))).toBe(20);
        // KEDA waits for its cooldown after the last poll that saw work (polls are 5 s apart).
        expect(zero - drained).toBeGreaterThanOrEqual(20 - 5);
      } finally {
        await recorder.stop();
      }
    },
    600_000,
  );

  it.concurrent(
    "3 (SQS, KEDA): from 0 to at most 5 on the SQS endpoint, and back",
    async () => {
      const ns = await namespaces.create("scale-sqs");
      // Example 3 with polling every 5 s, a 20 s cooldown, a 5 s model, 30 s requests, and scale-up of 2
      // pods per 15 s (its Conservative preset needs minutes); its own queue.
      const queueUrl = `https://sqs.us-east-1.amazonaws.com/123456789012/${ns}-jobs`;
      const policy = example("finetune-workers");
      set(policy, "spec.scaling.pollingIntervalSeconds", 5);
      set(policy, "spec.scaling.scaleToZero", { cooldownSeconds: 20, initialCooldownSeconds: 5 });
      set(policy, "spec.workload.template.model.loadSeconds", 5);
      set(policy, "spec.workload.template.shutdown.maxRequestSeconds", 30);
      set(policy, "spec.scaling.behavior", {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 2, periodSeconds: 15 }] },
        scaleDown: {
          stabilizationWindowSeconds: 30,
          policies: [{ type: "Pods", value: 1, periodSeconds: 15 }],
        },
      });
      for (const trigger of (policy.spec["scaling"] as { triggers: { metadata: Record<string, string> }[] })
        .triggers) {
        trigger.metadata["queueURL"] = queueUrl;
      }
      await prepareLocalBrokers(kubectlIn(ns), ns, [policy], clusterAddresses());
      await applyObjects(ns, policy);
      await waitForReplicas(ns, "finetune-workers", (r) => r === 0, "scaled to zero", 180_000);
      // The workers hold off until the HPA has reached its ceiling, so that the jobs stay queued.
      await eventually(
        () => configureWorkload(ns, "finetune-workers", { serviceRatePerReplica: 0 }).then(() => true),
        "the emulator to know finetune-workers",
      );
      const sqs = () =>
        createSqsClient({
          queueUrl,
          region: "us-east-1",
          endpoint: clusterAddresses().SQS_ENDPOINT ?? "",
          credentials: { accessKeyId: "local", secretAccessKey: "local" },
        });
      const recorder = recordReplicas(ns, "finetune-workers");
      try {
        await withQueue(sqs(), (queue) => queue.publish(20));
        // ceil(20 / 2) = 10, bounded by max 5.
        await explainedByEmulator(ns, "finetune-workers", () =>
          waitForReplicas(
            ns,
            "finetune-workers",
            (r) => r === 5,
            "the HPA to reach its maximum of 5",
            180_000,
          ),
        );
        await configureWorkload(ns, "finetune-workers", { serviceRatePerReplica: 0.5 });
        await explainedByEmulator(ns, "finetune-workers", () =>
          withQueue(sqs(), (queue) =>
            eventually(
              async () => ((await queue.depth()) === 0 ? true : undefined),
              "the workers to finish the jobs",
              300_000,
              1_000,
            ),
          ),
        );
        await waitForReplicas(ns, "finetune-workers", (r) => r === 0, "back to zero", 180_000);
        await recorder.stop();
        expect(Math.max(...recorder.samples.map((s) => s.replicas))).toBe(5);
      } finally {
        await recorder.stop();
      }
    },
    600_000,
  );

  it.concurrent(
    "3 on Kafka: lag scales it, capped by KEDA at one replica per partition unless idle consumers are allowed",
    async () => {
      const ns = await namespaces.create("scale-kafka");
      const brokers = clusterAddresses().KAFKA_BROKERS ?? "";
      const topic = `${ns}-jobs`;
      const group = `${ns}-workers`;
      const policy = (allowIdle: boolean): Document => ({
        apiVersion: "mlautoscale.io/v1alpha1",
        kind: "MLAutoscalePolicy",
        metadata: { name: "kafka-workers" },
        spec: {
          workload: {
            template: { image: "registry.example.com/training/worker:1.0.0", model: { loadSeconds: 5 } },
          },
          replicas: { min: 0, max: 6 },
          scaling: {
            pollingIntervalSeconds: 5,
            scaleToZero: { cooldownSeconds: 20, initialCooldownSeconds: 5 },
            behavior: {
              scaleUp: {
                stabilizationWindowSeconds: 0,
                policies: [{ type: "Pods", value: 6, periodSeconds: 15 }],
              },
            },
            triggers: [
              {
                type: "kafka",
                metadata: {
                  bootstrapServers: brokers,
                  consumerGroup: group,
                  topic,
                  lagThreshold: "5",
                  ...(allowIdle && { allowIdleConsumers: "true" }),
                },
              },
            ],
          },
        },
      });
      // Three partitions: a lag of 50 would ask for 10 replicas, KEDA allows 3 (one per partition).
      await withQueue(
        createKafkaClient({ brokers: [brokers], topic, consumerGroup: group, partitions: 3 }),
        async (queue) => {
          await applyObjects(ns, policy(false));
          await waitForReplicas(ns, "kafka-workers", (r) => r === 0, "scaled to zero", 180_000);
          await eventually(
            () => configureWorkload(ns, "kafka-workers", { serviceRatePerReplica: 0 }).then(() => true),
            "the emulator to know kafka-workers",
          );
          await queue.publish(50);
          await waitForReplicas(
            ns,
            "kafka-workers",
            (r) => r === 3,
            "3 replicas, one per partition",
            180_000,
          );
          await new Promise((resolve) => setTimeout(resolve, 2 * HPA_SYNC_SECONDS * 1000));
          expect((await getDeployment(ns, "kafka-workers"))?.spec?.replicas).toBe(3);
          // With idle consumers allowed, the lag counts in full: 50 / 5 = 10, bounded by max 6.
          await applyObjects(ns, policy(true));
          await waitForReplicas(
            ns,
            "kafka-workers",
            (r) => r === 6,
            "6 replicas with idle consumers allowed",
            180_000,
          );
          // The workers catch up; the lag goes, and so do the replicas.
          await configureWorkload(ns, "kafka-workers", { serviceRatePerReplica: null });
          await waitForReplicas(ns, "kafka-workers", (r) => r === 0, "back to zero", 240_000);
        },
      );
    },
    600_000,
  );
});
