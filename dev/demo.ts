// What the demo (`npm start`) and the end-to-end tests do to run the examples together on the local
// control plane: room for them on the fake nodes, and an order of applying them that packs them.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import {
  createKafkaClient,
  createRabbitMqClient,
  createSqsClient,
  type QueueClient,
} from "../src/brokers/index.js";
import { PRESETS } from "../src/controllers/mlautoscalepolicy/desired/behavior.js";
import {
  ADAPTER_RELIST_SECONDS,
  METRICS_SERVER_RESOLUTION_SECONDS,
  SCRAPE_INTERVAL_SECONDS,
} from "./controlplane/addons/metrics.js";
import { repoRoot } from "./controlplane/binaries.js";
import type { ClusterAddresses } from "./controlplane/index.js";
import { addNodes, nodePool, removeNodes, type FakeNodeSpec } from "./controlplane/nodes.js";
import { waitFor } from "./controlplane/net.js";

export const EXAMPLES_DIR = join(repoRoot, "examples");

/**
 * The local cluster's metric pipeline (docs/local-control-plane.md) as `simulate` takes it, for a
 * loadtest's --compare-simulation: its scrape interval, metrics-server resolution and adapter relist
 * instead of the components' defaults; the emulator takes a message off the broker as it receives it,
 * and a pod starts about a second after its creation (the scheduler binds it, KWOK starts it).
 */
export const LOCAL_CLUSTER_MODEL_FLAGS: readonly string[] = [
  "--scrape-interval",
  String(SCRAPE_INTERVAL_SECONDS),
  "--metric-resolution",
  String(METRICS_SERVER_RESOLUTION_SECONDS),
  "--relist-interval",
  String(ADAPTER_RELIST_SECONDS),
  "--ack-on-receipt",
  "--scheduling-delay",
  "1",
];

/**
 * The harness's four nodes hold 16 GPU-node CPUs; the examples' minimum replicas ask for 19 (the training
 * worker alone takes a whole p3.2xlarge), and their maximums far more. These nodes, in both zones, give
 * every example room to reach its peak during the demo's replay, so that what limits a workload is its
 * policy, not the cluster's size: the LLM server (example 5) one single-GPU g6.xlarge per replica.
 */
export const DEMO_NODES: readonly FakeNodeSpec[] = [
  ...nodePool(
    "gpu-p3",
    ["b", "c", "d", "e"],
    { instanceType: "p3.2xlarge", cpu: "8", memory: "61Gi", gpus: 4 },
    ["zone-b", "zone-a"],
  ),
  ...nodePool("gpu-g4dn", ["c", "d", "e", "f"], {
    instanceType: "g4dn.xlarge",
    cpu: "4",
    memory: "16Gi",
    gpus: 4,
  }),
  ...nodePool("gpu-g6", ["a", "b", "c", "d"], {
    instanceType: "g6.xlarge",
    cpu: "4",
    memory: "16Gi",
    gpus: 1,
  }),
];

/** Creates the demo nodes (KWOK manages every node) and waits for them to be Ready. */
export async function addDemoNodes(kubeConfig: KubeConfig, timeoutMs = 60_000): Promise<void> {
  await addNodes(kubeConfig, DEMO_NODES, timeoutMs);
}

export async function removeDemoNodes(kubeConfig: KubeConfig): Promise<void> {
  await removeNodes(kubeConfig, DEMO_NODES);
}

export interface ExamplePolicy {
  file: string;
  name: string;
  /** CPU one replica requests, in millicores. */
  cpuMillis: number;
}

/** "8" -> 8000, "500m" -> 500, "1.5" -> 1500. */
export function cpuMillis(quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  const text = String(quantity);
  return text.endsWith("m") ? Number(text.slice(0, -1)) : Math.round(Number(text) * 1000);
}

interface PolicyDocument {
  kind?: string;
  metadata?: { name?: string };
  spec?: { workload?: { template?: { resources?: { requests?: { cpu?: string | number } } } } };
}

/** The policies of examples/*.yaml, largest CPU request per replica first. */
export function examplePolicies(dir = EXAMPLES_DIR): ExamplePolicy[] {
  const policies: ExamplePolicy[] = [];
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .sort()) {
    for (const document of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      const policy = document.toJS() as PolicyDocument | null;
      if (policy?.kind !== "MLAutoscalePolicy" || policy.metadata?.name === undefined) continue;
      policies.push({
        file: join(dir, file),
        name: policy.metadata.name,
        cpuMillis: cpuMillis(policy.spec?.workload?.template?.resources?.requests?.cpu),
      });
    }
  }
  return policies.sort((a, b) => b.cpuMillis - a.cpuMillis);
}

export type Kubectl = (
  args: string[],
  input?: string,
) => Promise<{ code: number; stdout: string; stderr: string }>;

/** The pinned kubectl with a kubeconfig; `input` goes to its standard input. */
export function kubectlWith(kubectlPath: string, kubeconfigPath: string): Kubectl {
  return (args, input) =>
    new Promise((resolve, reject) => {
      // Standard input is always a pipe, closed at once when there is nothing to send.
      const child = spawn(kubectlPath, [`--kubeconfig=${kubeconfigPath}`, ...args], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      child.stdin.end(input ?? "");
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
}

async function mustSucceed(kubectl: Kubectl, args: string[]): Promise<string> {
  const result = await kubectl(args);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** CPU one replica of a policy document requests, in millicores. */
function documentCpuMillis(document: unknown): number {
  return cpuMillis((document as PolicyDocument).spec?.workload?.template?.resources?.requests?.cpu);
}

/**
 * Applies policy documents into `namespace` (`kubectl apply -f -`): first the one with the largest CPU
 * request per replica, once its pods are bound to nodes, then the rest. The scheduler spreads pods over
 * the emptiest nodes, so applied all at once the small pods would leave no node empty enough for the
 * training worker that needs a whole one; largest first is first-fit decreasing.
 */
export async function applyExamples(
  kubectl: Kubectl,
  namespace: string,
  documents: readonly unknown[],
  options: { timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<string[]> {
  const log = options.log ?? (() => undefined);
  const policies = documents
    .filter((d) => (d as PolicyDocument).kind === "MLAutoscalePolicy")
    .sort((a, b) => documentCpuMillis(b) - documentCpuMillis(a));
  const nameOf = (d: unknown): string => (d as PolicyDocument).metadata?.name ?? "";
  const apply = async (batch: readonly unknown[]): Promise<void> => {
    const result = await kubectl(
      ["apply", "-n", namespace, "-f", "-"],
      batch.map((d) => JSON.stringify(d)).join("\n"),
    );
    if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr}`);
  };
  const [largest, ...rest] = policies;
  if (largest !== undefined) {
    log(`applying ${nameOf(largest)} first: ${documentCpuMillis(largest) / 1000} CPU per replica`);
    await apply([largest]);
    await waitFor(
      `the pods of ${nameOf(largest)} to be bound to nodes`,
      async () => {
        const out = await mustSucceed(kubectl, [
          "get",
          "pods",
          "-n",
          namespace,
          "-l",
          `mlautoscale.io/policy=${nameOf(largest)}`,
          "-o",
          "json",
        ]);
        const pods = (JSON.parse(out) as { items: { spec?: { nodeName?: string } }[] }).items;
        return pods.length > 0 && pods.every((pod) => pod.spec?.nodeName) ? true : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 120_000, intervalMs: 250 },
    );
  }
  if (rest.length > 0) {
    log(`applying ${rest.map(nameOf).join(", ")}`);
    await apply(rest);
  }
  return policies.map(nameOf);
}

/** What a policy document of examples/ looks like to the code that points it at the local cluster. */
interface LocalizablePolicy {
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    scaling?: {
      metrics?: Record<string, unknown>;
      triggers?: { type?: string; metadata?: Record<string, string> }[];
    };
  };
}

/**
 * The examples name the addresses a user's cluster has (prometheus.monitoring.svc, a real SQS queue URL,
 * a Kafka service); KEDA runs on this machine and reaches the local add-ons on loopback instead. This
 * rewrites exactly those addresses, and nothing else, in a copy of each policy.
 */
export function localizePolicy<T>(policy: T, addresses: Readonly<ClusterAddresses>): T {
  const copy = structuredClone(policy) as LocalizablePolicy;
  if (copy.kind !== "MLAutoscalePolicy") return copy as T;
  const scaling = copy.spec?.scaling;
  for (const metric of Object.values(scaling?.metrics ?? {})) {
    const { prometheus, activation } = metric as {
      prometheus?: { serverAddress?: string };
      activation?: { serverAddress?: string };
    };
    if (prometheus !== undefined && addresses.PROMETHEUS_URL !== undefined) {
      prometheus.serverAddress = addresses.PROMETHEUS_URL;
    }
    // An LLM server's activation query may name a Prometheus of its own (a gateway's).
    if (activation?.serverAddress !== undefined && addresses.PROMETHEUS_URL !== undefined) {
      activation.serverAddress = addresses.PROMETHEUS_URL;
    }
  }
  for (const trigger of scaling?.triggers ?? []) {
    const metadata = (trigger.metadata ??= {});
    if (trigger.type === "prometheus" && addresses.PROMETHEUS_URL !== undefined) {
      metadata["serverAddress"] = addresses.PROMETHEUS_URL;
    }
    if (trigger.type === "aws-sqs-queue" && addresses.SQS_ENDPOINT !== undefined) {
      metadata["awsEndpoint"] = addresses.SQS_ENDPOINT;
    }
    if (trigger.type === "kafka" && addresses.KAFKA_BROKERS !== undefined) {
      metadata["bootstrapServers"] = addresses.KAFKA_BROKERS;
    }
  }
  return copy as T;
}

/** The documents of examples/*.yaml (all of them: policies and anything else), each localized. */
export function localExamples(addresses: Readonly<ClusterAddresses>, dir = EXAMPLES_DIR): unknown[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), "utf8"))
        .map((document) => document.toJS() as unknown)
        .filter((document) => document !== null)
        .map((document) => localizePolicy(document, addresses)),
    );
}

/**
 * What the examples' triggers expect to exist, made on the local brokers: the Secret that example 2's
 * TriggerAuthentication reads the RabbitMQ address from, its queue, the SQS queue of example 3, and the
 * topic and consumer group of any Kafka trigger. Returns what it made, for the log.
 */
export async function prepareLocalBrokers(
  kubectl: Kubectl,
  namespace: string,
  policies: readonly unknown[],
  addresses: Readonly<ClusterAddresses>,
): Promise<string[]> {
  const made: string[] = [];
  for (const policy of policies as LocalizablePolicy[]) {
    for (const trigger of policy.spec?.scaling?.triggers ?? []) {
      const metadata = trigger.metadata ?? {};
      let client: QueueClient | undefined;
      if (trigger.type === "rabbitmq" && addresses.RABBITMQ_URL !== undefined && metadata["queueName"]) {
        client = await createRabbitMqClient({
          url: addresses.RABBITMQ_URL,
          queueName: metadata["queueName"],
        });
      } else if (
        trigger.type === "aws-sqs-queue" &&
        addresses.SQS_ENDPOINT !== undefined &&
        metadata["queueURL"]
      ) {
        client = await createSqsClient({
          queueUrl: metadata["queueURL"],
          region: metadata["awsRegion"] ?? "us-east-1",
          endpoint: addresses.SQS_ENDPOINT,
          credentials: { accessKeyId: "local", secretAccessKey: "local" },
          createIfMissing: true,
        });
      } else if (trigger.type === "kafka" && addresses.KAFKA_BROKERS !== undefined && metadata["topic"]) {
        client = await createKafkaClient({
          brokers: addresses.KAFKA_BROKERS.split(","),
          topic: metadata["topic"],
          consumerGroup: metadata["consumerGroup"] ?? "",
        });
      }
      if (client === undefined) continue;
      made.push(client.description);
      await client.close();
    }
  }
  if (addresses.RABBITMQ_URL !== undefined) {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "rabbitmq-credentials", namespace },
      stringData: { host: addresses.RABBITMQ_URL },
    };
    const applied = await kubectl(["apply", "-f", "-"], JSON.stringify(secret));
    if (applied.code !== 0) throw new Error(`creating Secret rabbitmq-credentials: ${applied.stderr}`);
    made.push(`Secret ${namespace}/rabbitmq-credentials (host: the local RabbitMQ)`);
  }
  return made;
}

interface TimedPolicy {
  kind?: string;
  spec?: {
    workload?: {
      template?: {
        model?: { loadSeconds?: number };
        shutdown?: { drainSeconds?: number; maxRequestSeconds?: number };
      };
    };
    scaling?: {
      pollingIntervalSeconds?: number;
      scaleToZero?: { cooldownSeconds?: number; initialCooldownSeconds?: number; activationValue?: number };
      behavior?: {
        preset?: keyof typeof PRESETS;
        scaleUp?: TimedRules;
        scaleDown?: TimedRules;
      };
    };
  };
}

interface TimedRules {
  stabilizationWindowSeconds?: number;
  policies?: { periodSeconds: number }[];
}

/** The default model load time and KEDA defaults a policy gets when it sets none (the schema's). */
const UNSET = { loadSeconds: 60, pollingIntervalSeconds: 30, cooldownSeconds: 300 } as const;

/**
 * A copy of a policy with every duration it sets divided by `factor`: model load time, drain and longest
 * request, KEDA polling and cooldowns, and the behavior's windows and periods (a preset is written out as
 * its rules first). Durations stay whole seconds, at least 1 where the API requires it. The local demo
 * uses it so that a scale-up and scale-down cycle of the examples fits in minutes; the controllers' own
 * periods (the HPA's 15 s sync) are untouched, so the faster the factor, the more they dominate.
 */
export function compressTimes<T>(policy: T, factor: number): T {
  if (!(factor >= 1)) throw new Error(`time compression factor must be >= 1, got ${factor}`);
  const copy = structuredClone(policy) as TimedPolicy;
  if (copy.kind !== "MLAutoscalePolicy" || factor === 1) return copy as T;
  const shorter = (seconds: number, min = 1): number => Math.max(min, Math.round(seconds / factor));
  const spec = copy.spec ?? {};
  const template = spec.workload?.template;
  if (template !== undefined) {
    const model = (template.model ??= {});
    model.loadSeconds = shorter(model.loadSeconds ?? UNSET.loadSeconds, 0);
    const shutdown = template.shutdown;
    if (shutdown?.drainSeconds !== undefined) shutdown.drainSeconds = shorter(shutdown.drainSeconds, 0);
    if (shutdown?.maxRequestSeconds !== undefined)
      shutdown.maxRequestSeconds = shorter(shutdown.maxRequestSeconds);
  }
  const scaling = (spec.scaling ??= {});
  if (scaling.pollingIntervalSeconds !== undefined)
    scaling.pollingIntervalSeconds = shorter(scaling.pollingIntervalSeconds);
  const zero = scaling.scaleToZero;
  if (zero !== undefined) {
    zero.cooldownSeconds = shorter(zero.cooldownSeconds ?? UNSET.cooldownSeconds, 0);
    if (zero.initialCooldownSeconds !== undefined)
      zero.initialCooldownSeconds = shorter(zero.initialCooldownSeconds, 0);
  }
  // Without one, a policy gets the Realtime preset (the schema's default), which has windows too.
  const behavior = (scaling.behavior ??= { preset: "Realtime" });
  if (behavior.preset !== undefined) {
    const rules = PRESETS[behavior.preset];
    delete behavior.preset;
    behavior.scaleUp = structuredClone(rules.scaleUp);
    behavior.scaleDown = structuredClone(rules.scaleDown);
  }
  for (const rules of [behavior.scaleUp, behavior.scaleDown]) {
    if (rules === undefined) continue;
    if (rules.stabilizationWindowSeconds !== undefined)
      rules.stabilizationWindowSeconds = shorter(rules.stabilizationWindowSeconds, 0);
    for (const rule of rules.policies ?? []) rule.periodSeconds = shorter(rule.periodSeconds);
  }
  return copy as T;
}
