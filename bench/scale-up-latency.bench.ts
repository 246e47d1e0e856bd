// End-to-end scale-up latency of the four example workloads on the local cluster's real scaling loop:
// load starts (emulator HTTP load or a broker publish) -> the metric shows it where the autoscaler reads
// it -> the autoscaler raises the replicas -> the first new replica is Ready (after its model's load
// time, which is never shortened here). Split into the metrics pipeline, the autoscaler, and scheduling
// plus model load; and the operator's share, which should be none: its writes in each scale-up window
// come from its own request counter, and the last repetition of each workload runs with the operator stopped.
// Examples 1-3 run on a cluster with KEDA; example 4's External metric needs one without (only one
// server can hold external.metrics.k8s.io), a second cluster. Method and figures: docs/benchmarks.md.
//
// Run: npx tsx bench/scale-up-latency.bench.ts [--repetitions 3] [--workloads 1,2,3,4] [--sequential]
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { startControlPlane, type ClusterAddresses, type ControlPlane } from "../dev/controlplane/index.js";
import { freePorts } from "../dev/controlplane/net.js";
import { fakeNode } from "../dev/controlplane/nodes.js";
import { kubectlWith, localExamples, prepareLocalBrokers } from "../dev/demo.js";
import { createRabbitMqClient, createSqsClient, type QueueClient } from "../src/brokers/index.js";
import { KubeRestClient } from "../src/runtime/rest.js";
import { quantityValue } from "../src/runtime/quantity.js";
import { compileOperator } from "./operator/setup.js";
import { operatorRequestCounts } from "./operator/operator-metrics.js";
import { sortedEntries, subtractCounts, writesOnly } from "./operator/request-counts.js";
import { eventually, getIfExists, sleep } from "./wait.js";

const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const resultsPath = join(repoRoot, "bench", "results", "scale-up-latency.json");
const POLICY_API = "/apis/mlautoscale.io/v1alpha1";
const FIELD_MANAGER = "scale-up-latency-bench";
const SAMPLE_MS = 1_000;
/** How long one scale-up may take before the repetition is recorded as timed out. */
const SCALE_UP_TIMEOUT_MS = 600_000;
/** How long a workload may take to reach its state before the load (its minimum, or zero). */
const BASELINE_TIMEOUT_MS = 420_000;
/** kube-controller-manager's --horizontal-pod-autoscaler-sync-period in the local cluster (its default). */
const HPA_SYNC_SECONDS = 15;
/** HPA tolerance (kube-controller-manager's default --horizontal-pod-autoscaler-tolerance). */
const HPA_TOLERANCE = 0.1;

const { values: flags } = parseArgs({
  options: {
    repetitions: { type: "string", default: "3" },
    workloads: { type: "string", default: "1,2,3,4" },
    sequential: { type: "boolean", default: false },
  },
  strict: true,
});
const repetitions = Number(flags.repetitions);
if (!Number.isInteger(repetitions) || repetitions < 1)
  throw new Error("--repetitions must be a positive integer");
const selected = new Set(flags.workloads.split(",").map((s) => Number(s.trim())));

const benchStart = Date.now();
function log(message: string): void {
  console.error(`[${((Date.now() - benchStart) / 1000).toFixed(0).padStart(5)} s] ${message}`);
}
const seconds = (ms: number): number => Math.round(ms / 100) / 10;

// ---------------------------------------------------------------------------------------------------
// the workloads

type Document = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
};

type Load =
  { kind: "http"; rps: number } | { kind: "rabbitmq"; messages: number } | { kind: "sqs"; messages: number };

interface Workload {
  example: number;
  name: string;
  engine: "HPA" | "KEDA";
  /** The cluster it runs on: with KEDA, or without (example 4's External metric). */
  cluster: "keda" | "no-keda";
  load: Load;
  /** What the autoscaler reads, as the bench reads it too. */
  source: string;
  /** Changes to the example, all off the scale-up path (stated in the results). */
  changes: string[];
  /** The example, localized, with this repetition's queue. */
  policy(addresses: Readonly<ClusterAddresses>, namespace: string): Document;
}

function example(addresses: Readonly<ClusterAddresses>, name: string): Document {
  const found = (localExamples(addresses) as Document[]).find(
    (d) => d.kind === "MLAutoscalePolicy" && d.metadata.name === name,
  );
  if (found === undefined) throw new Error(`no example policy ${name}`);
  return found;
}

function scaling(policy: Document): {
  triggers: { metadata: Record<string, string> }[];
  scaleToZero?: Record<string, number>;
} {
  return policy.spec["scaling"] as {
    triggers: { metadata: Record<string, string> }[];
    scaleToZero?: Record<string, number>;
  };
}

/**
 * Scale to zero before the load: the examples' 300 s and 600 s cooldowns only decide how soon an idle
 * workload goes to zero, which is before the measurement, never during it.
 */
const QUICK_ZERO = { cooldownSeconds: 20, initialCooldownSeconds: 5 };

const WORKLOADS: Workload[] = [
  {
    example: 1,
    name: "resnet50-inference",
    engine: "HPA",
    cluster: "keda",
    // Two replicas serving 10 requests/s each: the queue grows by 40 a second and CPU saturates.
    load: { kind: "http", rps: 60 },
    source:
      "custom.metrics.k8s.io inference_queue_depth (prometheus-adapter over Prometheus) and metrics.k8s.io CPU (metrics-server)",
    changes: ["none to the policy (the emulator's memory use is set to 40 % of the request, as in test/e2e)"],
    policy: (addresses) => example(addresses, "resnet50-inference"),
  },
  {
    example: 2,
    name: "batch-embeddings",
    engine: "KEDA",
    cluster: "keda",
    load: { kind: "rabbitmq", messages: 10 },
    source: "the RabbitMQ queue's depth over AMQP (what KEDA's rabbitmq scaler polls)",
    changes: [
      "its own queue per repetition",
      `scaleToZero ${JSON.stringify(QUICK_ZERO)} (was cooldown 300 s): only how soon it is at zero before the load`,
    ],
    policy: (addresses, namespace) => {
      const policy = example(addresses, "batch-embeddings");
      for (const trigger of scaling(policy).triggers)
        trigger.metadata["queueName"] = `${namespace}-inference`;
      scaling(policy).scaleToZero = { ...QUICK_ZERO };
      return policy;
    },
  },
  {
    example: 3,
    name: "finetune-workers",
    engine: "KEDA",
    cluster: "keda",
    load: { kind: "sqs", messages: 4 },
    source:
      "the SQS queue's ApproximateNumberOfMessages(+NotVisible) (what KEDA's aws-sqs-queue scaler polls)",
    changes: [
      "its own queue per repetition",
      `scaleToZero ${JSON.stringify(QUICK_ZERO)} (was cooldown 600 s): only how soon it is at zero before the load`,
    ],
    policy: (addresses, namespace) => {
      const policy = example(addresses, "finetune-workers");
      for (const trigger of scaling(policy).triggers) {
        trigger.metadata["queueURL"] = `https://sqs.us-east-1.amazonaws.com/123456789012/${namespace}-jobs`;
      }
      scaling(policy).scaleToZero = { ...QUICK_ZERO };
      return policy;
    },
  },
  {
    example: 4,
    name: "hybrid-ranker",
    engine: "HPA",
    cluster: "no-keda",
    // 1,000 requests/s over 3 pods: requests_per_second{service="hybrid-ml"} sums to 1,000, 100 per pod wanted.
    load: { kind: "http", rps: 1000 },
    source:
      "external.metrics.k8s.io requests_per_second{service=hybrid-ml} (prometheus-adapter over Prometheus)",
    changes: ["none"],
    policy: (addresses) => example(addresses, "hybrid-ranker"),
  },
];

function pollingIntervalOf(policy: Document): number {
  const value = (policy.spec["scaling"] as { pollingIntervalSeconds?: number }).pollingIntervalSeconds;
  return value ?? 30;
}

// ---------------------------------------------------------------------------------------------------
// cluster helpers

interface Cluster {
  controlPlane: ControlPlane;
  rest: KubeRestClient;
  addresses: Readonly<ClusterAddresses>;
}

async function openCluster(keda: boolean): Promise<Cluster> {
  log(`starting the e2e control plane ${keda ? "with" : "without"} KEDA`);
  const controlPlane = await startControlPlane({ profile: "e2e", keda });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
  const rest = new KubeRestClient(kubeConfig);
  // Roomy GPU nodes of the examples' instance types in both zones: scheduling never waits for room.
  for (const instanceType of ["g4dn.xlarge", "p3.2xlarge"]) {
    for (const zone of ["zone-a", "zone-b"]) {
      const node = fakeNode({
        name: `lat-${instanceType.replace(".", "-")}-${zone}`,
        instanceType,
        zone,
        cpu: "128",
        memory: "1Ti",
        gpus: 64,
      });
      if (node.status?.capacity !== undefined) node.status.capacity["pods"] = "500";
      if (node.status?.allocatable !== undefined) node.status.allocatable["pods"] = "500";
      await rest.request("POST", "/api/v1/nodes", { body: node });
    }
  }
  return {
    controlPlane,
    rest,
    addresses: controlPlane.addresses,
  };
}

async function emulator(cluster: Cluster, method: string, path: string, body: unknown): Promise<void> {
  const url = cluster.addresses.EMULATOR_URL;
  if (url === undefined) throw new Error("no emulator");
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`emulator ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
}

async function prometheusValue(cluster: Cluster, query: string): Promise<number | undefined> {
  const url = cluster.addresses.PROMETHEUS_URL;
  if (url === undefined) return undefined;
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
  if (!response.ok) return undefined;
  const body = (await response.json()) as { data?: { result?: { value?: [number, string] }[] } };
  const value = body.data?.result?.[0]?.value?.[1];
  return value === undefined ? undefined : Number(value);
}

// ---------------------------------------------------------------------------------------------------
// the operator (one per workload, so that stopping one leaves the others)

interface OperatorProcess {
  child: ChildProcess;
  logPath: string;
  metricsUrl: string;
}

async function startOperator(
  cluster: Cluster,
  cli: string,
  id: string,
  namespaces: string[],
): Promise<OperatorProcess> {
  // Connected with TLS as in a cluster; it counts its own requests (mlautoscale_api_requests_total).
  const [metricsPort] = await freePorts(1);
  const logPath = join(cluster.controlPlane.dir, "logs", `operator-${id}.log`);
  const logFd = openSync(logPath, "a");
  const child = spawn(
    process.execPath,
    [
      cli,
      "operator",
      `--kubeconfig=${cluster.controlPlane.kubeconfigPath}`,
      `--namespaces=${namespaces.join(",")}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--metrics-port=${metricsPort ?? 0}`,
    ],
    { cwd: repoRoot, stdio: ["ignore", logFd, logFd], env: { ...process.env, KUBECONFIG: "" } },
  );
  closeSync(logFd);
  if (child.pid === undefined) throw new Error("the operator did not start");
  return { child, logPath, metricsUrl: `http://127.0.0.1:${metricsPort ?? 0}/metrics` };
}

async function stopOperator(operator: OperatorProcess): Promise<void> {
  const { child } = operator;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 35_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------
// one repetition

interface PodListed {
  metadata?: { name?: string; creationTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    startTime?: string;
    conditions?: { type?: string; status?: string; lastTransitionTime?: string }[];
  };
}
interface DeploymentListed {
  spec?: { replicas?: number };
  status?: { availableReplicas?: number; readyReplicas?: number };
}
interface HpaListed {
  status?: { desiredReplicas?: number; currentMetrics?: unknown[] };
}
interface EventListed {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
}

interface Repetition {
  workload: number;
  repetition: number;
  namespace: string;
  operatorRunning: boolean;
  baselineReplicas: number;
  /** The random part of the wait before the load, in [0, the autoscaler's period). */
  phaseDelaySeconds?: number;
  loadStartedAt: string;
  /** All in seconds from the load's start (the publish call, or the emulator's PUT). */
  prometheusShowsIt?: number;
  metricVisible?: number;
  /** What `metricVisible` saw, e.g. "queue 14.2 per pod (target 10)". */
  metricVisibleDetail?: string;
  kedaActive?: number;
  hpaDesiredRaised?: number;
  replicasRaised?: number;
  replicasRaisedTo?: number;
  firstNewPodSeen?: number;
  firstNewPodReady?: number;
  /** From the new pod's own timestamps (whole seconds, the API server's clock). */
  pod?: {
    name: string;
    node: string | undefined;
    created: number | undefined;
    scheduled: number | undefined;
    started: number | undefined;
    ready: number | undefined;
  };
  split?: { metricsPipeline: number; autoscaler: number; schedulingAndModelLoad: number; total: number };
  autoscalerEvents: string[];
  operatorWritesInWindow?: Record<string, number>;
  operatorWritesToScalingObjects?: number;
  timedOut: boolean;
  error?: string;
}

async function runRepetition(
  cluster: Cluster,
  workload: Workload,
  repetition: number,
  namespace: string,
  operator: OperatorProcess,
  stopOperatorFirst: boolean,
): Promise<Repetition> {
  const { rest, addresses } = cluster;
  const name = workload.name;
  const policy = { apiVersion: "mlautoscale.io/v1alpha1", ...workload.policy(addresses, namespace) };
  policy.metadata = { ...policy.metadata, namespace };
  const kubectl = kubectlWith(
    join(cluster.controlPlane.binDir, "kubectl"),
    cluster.controlPlane.kubeconfigPath,
  );
  await prepareLocalBrokers(kubectl, namespace, [policy], addresses);
  await rest.request("PATCH", `${POLICY_API}/namespaces/${namespace}/mlautoscalepolicies/${name}`, {
    query: { fieldManager: FIELD_MANAGER, force: true },
    contentType: "application/apply-patch+yaml",
    body: policy,
  });
  const deploymentPath = `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
  const hpaPath = `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers/${name}`;
  const soPath = `/apis/keda.sh/v1alpha1/namespaces/${namespace}/scaledobjects/${name}`;
  const podsPath = `/api/v1/namespaces/${namespace}/pods`;
  const selector = `mlautoscale.io/policy=${name}`;
  const result: Repetition = {
    workload: workload.example,
    repetition,
    namespace,
    operatorRunning: !stopOperatorFirst,
    baselineReplicas: 0,
    loadStartedAt: "",
    autoscalerEvents: [],
    timedOut: false,
  };

  // The state before the load: at the minimum with the HPA reading every metric, or at zero.
  if (workload.example === 1) {
    await eventually("the emulator to know the workload", 120_000, async () => {
      await emulator(cluster, "PUT", `/v1/workloads/${namespace}/${name}`, { memoryUtilizationPercent: 40 });
      return true;
    });
  }
  const minReplicas = workload.engine === "KEDA" ? 0 : workload.example === 1 ? 2 : 3;
  await eventually(`${namespace}/${name} at its state before the load`, BASELINE_TIMEOUT_MS, async () => {
    const deployment = await getIfExists<DeploymentListed>(rest, deploymentPath);
    if (deployment === undefined) return undefined;
    if (workload.engine === "KEDA") {
      const so = await getIfExists<{ status?: { conditions?: { type?: string; status?: string }[] } }>(
        rest,
        soPath,
      );
      const ready = so?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
      return ready && deployment.spec?.replicas === 0 ? true : undefined;
    }
    const hpa = await getIfExists<HpaListed>(rest, hpaPath);
    const metricsRead = (hpa?.status?.currentMetrics?.length ?? 0) > 0;
    return (deployment.status?.availableReplicas ?? 0) >= minReplicas &&
      deployment.spec?.replicas === minReplicas &&
      hpa?.status?.desiredReplicas === minReplicas &&
      metricsRead
      ? true
      : undefined;
  });
  // A quiet spell at the baseline (the HPA's stabilization window then holds only baseline
  // recommendations), plus a random part of the autoscaler's period: the baseline is reached at one of
  // its syncs or polls, and a fixed wait would start every load at the same phase of the next one.
  const period = workload.engine === "KEDA" ? pollingIntervalOf(policy) : HPA_SYNC_SECONDS;
  const phaseDelayMs = Math.round(Math.random() * period * 1000);
  result.phaseDelaySeconds = seconds(phaseDelayMs);
  await sleep(20_000 + phaseDelayMs);
  result.baselineReplicas = (await getIfExists<DeploymentListed>(rest, deploymentPath))?.spec?.replicas ?? 0;
  const baselinePods = new Set(
    (
      await rest.request<{ items?: PodListed[] }>("GET", podsPath, { query: { labelSelector: selector } })
    ).items?.map((p) => p.metadata?.name ?? "") ?? [],
  );
  if (stopOperatorFirst) {
    log(`${namespace}: stopping the operator for this repetition`);
    await stopOperator(operator);
  }

  // Broker clients are opened before the clock starts: the publish alone is the load's start.
  let queue: QueueClient | undefined;
  if (workload.load.kind === "rabbitmq") {
    queue = await createRabbitMqClient({
      url: addresses.RABBITMQ_URL ?? "",
      queueName: `${namespace}-inference`,
    });
  } else if (workload.load.kind === "sqs") {
    queue = await createSqsClient({
      queueUrl: `https://sqs.us-east-1.amazonaws.com/123456789012/${namespace}-jobs`,
      region: "us-east-1",
      endpoint: addresses.SQS_ENDPOINT ?? "",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
  }
  const requestsBefore = await operatorRequestCounts(operator.metricsUrl);
  const t0 = Date.now();
  result.loadStartedAt = new Date(t0).toISOString();
  const at = (ms: number): number => seconds(ms - t0);
  try {
    const load = workload.load;
    if (load.kind === "http") {
      await emulator(cluster, "PUT", `/v1/workloads/${namespace}/${name}/load`, { rps: load.rps });
    } else {
      await queue?.publish(load.messages);
    }
    log(`${namespace}: load started (${JSON.stringify(load)})`);
    let firstNewPod: string | undefined;
    for (;;) {
      const now = Date.now();
      if (now - t0 > SCALE_UP_TIMEOUT_MS) {
        result.timedOut = true;
        break;
      }
      const [deployment, pods, hpa, so, signal] = await Promise.all([
        getIfExists<DeploymentListed>(rest, deploymentPath),
        rest.request<{ items?: PodListed[] }>("GET", podsPath, { query: { labelSelector: selector } }),
        getIfExists<HpaListed>(rest, hpaPath),
        workload.engine === "KEDA"
          ? getIfExists<{ status?: { conditions?: { type?: string; status?: string }[] } }>(rest, soPath)
          : Promise.resolve(undefined),
        readSignal(cluster, workload, namespace, queue, result.baselineReplicas).catch(() => undefined),
      ]);
      if (signal !== undefined) {
        if (signal.prometheus && result.prometheusShowsIt === undefined) result.prometheusShowsIt = at(now);
        if (signal.visible !== undefined && result.metricVisible === undefined) {
          result.metricVisible = at(signal.readAt);
          result.metricVisibleDetail = signal.visible;
        }
      }
      if (
        so?.status?.conditions?.some((c) => c.type === "Active" && c.status === "True") === true &&
        result.kedaActive === undefined
      ) {
        result.kedaActive = at(now);
      }
      if (
        (hpa?.status?.desiredReplicas ?? 0) > result.baselineReplicas &&
        result.hpaDesiredRaised === undefined
      ) {
        result.hpaDesiredRaised = at(now);
      }
      const replicas = deployment?.spec?.replicas ?? 0;
      if (replicas > result.baselineReplicas && result.replicasRaised === undefined) {
        result.replicasRaised = at(now);
        result.replicasRaisedTo = replicas;
      }
      const fresh = (pods.items ?? []).filter((p) => !baselinePods.has(p.metadata?.name ?? ""));
      if (fresh.length > 0 && result.firstNewPodSeen === undefined) {
        result.firstNewPodSeen = at(now);
        firstNewPod = fresh
          .map((p) => p.metadata?.name ?? "")
          .sort()
          .at(0);
      }
      const readyPod = fresh.find((p) =>
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      if (readyPod !== undefined) {
        result.firstNewPodReady = at(now);
        firstNewPod = readyPod.metadata?.name ?? firstNewPod;
        const condition = (type: string): number | undefined => {
          const time = readyPod.status?.conditions?.find((c) => c.type === type)?.lastTransitionTime;
          return time === undefined ? undefined : at(Date.parse(time));
        };
        result.pod = {
          name: firstNewPod ?? "",
          node: readyPod.spec?.nodeName,
          created:
            readyPod.metadata?.creationTimestamp === undefined
              ? undefined
              : at(Date.parse(readyPod.metadata.creationTimestamp)),
          scheduled: condition("PodScheduled"),
          started:
            readyPod.status?.startTime === undefined ? undefined : at(Date.parse(readyPod.status.startTime)),
          ready: condition("Ready"),
        };
        break;
      }
      await sleep(Math.max(0, SAMPLE_MS - (Date.now() - now)));
    }
    const requestsAfter = await operatorRequestCounts(operator.metricsUrl);
    const writes = writesOnly(subtractCounts(requestsAfter, requestsBefore));
    result.operatorWritesInWindow = Object.fromEntries(sortedEntries(writes));
    result.operatorWritesToScalingObjects = [...writes]
      .filter(([key]) => /deployments|horizontalpodautoscalers|scaledobjects|replicasets|pods/.test(key))
      .reduce((sum, [, n]) => sum + n, 0);
    if (
      result.metricVisible !== undefined &&
      result.replicasRaised !== undefined &&
      result.firstNewPodReady !== undefined
    ) {
      result.split = {
        metricsPipeline: result.metricVisible,
        autoscaler: seconds((result.replicasRaised - result.metricVisible) * 1000),
        schedulingAndModelLoad: seconds((result.firstNewPodReady - result.replicasRaised) * 1000),
        total: result.firstNewPodReady,
      };
    }
    const events = await rest.request<{ items?: EventListed[] }>(
      "GET",
      `/api/v1/namespaces/${namespace}/events`,
    );
    result.autoscalerEvents = (events.items ?? [])
      .filter((e) => ["HorizontalPodAutoscaler", "ScaledObject"].includes(e.involvedObject?.kind ?? ""))
      .filter((e) => Date.parse(e.lastTimestamp ?? e.eventTime ?? "") >= t0 - 1000)
      .map(
        (e) =>
          `${at(Date.parse(e.lastTimestamp ?? e.eventTime ?? ""))} s ${e.involvedObject?.kind ?? ""} ${e.reason ?? ""}: ${e.message ?? ""}`,
      )
      .slice(0, 10);
  } finally {
    if (workload.load.kind === "http") {
      await emulator(cluster, "PUT", `/v1/workloads/${namespace}/${name}/load`, { rps: 0 }).catch(
        () => undefined,
      );
    }
    await queue?.close();
  }
  log(`${namespace}: ${JSON.stringify(result.split ?? { timedOut: result.timedOut })}`);
  return result;
}

interface Signal {
  /** Prometheus has a sample that shows the load. */
  prometheus: boolean;
  /** Set when the autoscaler's own source shows a value that asks for more replicas. */
  visible: string | undefined;
  readAt: number;
}

interface MetricValueList {
  items?: { value?: string; containers?: { usage?: { cpu?: string } }[] }[];
}

/** Reads, once, what the workload's autoscaler reads, and says whether it now asks for more replicas. */
async function readSignal(
  cluster: Cluster,
  workload: Workload,
  namespace: string,
  queue: QueueClient | undefined,
  replicas: number,
): Promise<Signal> {
  const { rest } = cluster;
  const readAt = Date.now();
  const selector = encodeURIComponent(`mlautoscale.io/policy=${workload.name}`);
  if (workload.example === 1) {
    const [queueMetric, podMetrics, promQueue] = await Promise.all([
      getIfExists<MetricValueList>(
        rest,
        `/apis/custom.metrics.k8s.io/v1beta1/namespaces/${namespace}/pods/*/inference_queue_depth?labelSelector=${selector}`,
      ),
      getIfExists<MetricValueList>(
        rest,
        `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods?labelSelector=${selector}`,
      ),
      prometheusValue(cluster, `avg(inference_queue_depth{namespace="${namespace}"})`),
    ]);
    const values = (queueMetric?.items ?? []).map((i) => quantityValue(i.value ?? "0") ?? 0);
    const averageQueue = values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
    const cpuCores = (podMetrics?.items ?? []).map((i) =>
      (i.containers ?? []).reduce((sum, c) => sum + (quantityValue(c.usage?.cpu ?? "0") ?? 0), 0),
    );
    // Utilization of the 2-CPU request, averaged over the pods, as the HPA computes it.
    const cpuUtilization =
      cpuCores.length === 0 ? 0 : (cpuCores.reduce((a, b) => a + b, 0) / cpuCores.length / 2) * 100;
    const visible =
      averageQueue > 10 * (1 + HPA_TOLERANCE)
        ? `inference_queue_depth ${averageQueue.toFixed(1)} per pod (target 10)`
        : cpuUtilization > 70 * (1 + HPA_TOLERANCE)
          ? `CPU ${cpuUtilization.toFixed(0)} % of requests (target 70 %)`
          : undefined;
    return { prometheus: (promQueue ?? 0) > 10 * (1 + HPA_TOLERANCE), visible, readAt };
  }
  if (workload.example === 4) {
    const [external, promRps] = await Promise.all([
      getIfExists<MetricValueList>(
        rest,
        `/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespace}/requests_per_second?labelSelector=${encodeURIComponent("service=hybrid-ml")}`,
      ),
      prometheusValue(cluster, `sum(requests_per_second{namespace="${namespace}",service="hybrid-ml"})`),
    ]);
    const total = (external?.items ?? []).reduce((sum, i) => sum + (quantityValue(i.value ?? "0") ?? 0), 0);
    const threshold = 100 * replicas * (1 + HPA_TOLERANCE);
    return {
      prometheus: (promRps ?? 0) > threshold,
      visible:
        total > threshold ? `requests_per_second ${total.toFixed(0)} in all (target 100 per pod)` : undefined,
      readAt,
    };
  }
  // KEDA's brokers: the depth KEDA polls; activation at more than activationValue 1.
  const depth = (await queue?.depth()) ?? 0;
  return {
    prometheus: false,
    visible: depth > 1 ? `queue depth ${depth} (activation 1)` : undefined,
    readAt,
  };
}

// ---------------------------------------------------------------------------------------------------
// the run

interface Summary {
  workload: number;
  name: string;
  repetitions: number;
  metricsPipeline: Stats;
  autoscaler: Stats;
  schedulingAndModelLoad: Stats;
  total: Stats;
  operatorWritesToScalingObjects: number;
}

interface Stats {
  median: number;
  min: number;
  max: number;
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median: Math.round(median * 10) / 10, min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

async function runWorkload(cluster: Cluster, cli: string, workload: Workload): Promise<Repetition[]> {
  const namespaces = Array.from({ length: repetitions }, (_, i) => `lat-${workload.example}-r${i + 1}`);
  for (const ns of namespaces) {
    await cluster.rest.request("POST", "/api/v1/namespaces", { body: { metadata: { name: ns } } });
  }
  const operator = await startOperator(cluster, cli, String(workload.example), namespaces);
  const results: Repetition[] = [];
  try {
    for (const [i, namespace] of namespaces.entries()) {
      // The last repetition (when there are several) runs with the operator stopped once its workload is at
      // the baseline: a scale-up that still happens, as fast, shows the operator is not on the path.
      const stopFirst = repetitions > 1 && i === repetitions - 1;
      try {
        results.push(await runRepetition(cluster, workload, i + 1, namespace, operator, stopFirst));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`${namespace}: failed: ${message}`);
        results.push({
          workload: workload.example,
          repetition: i + 1,
          namespace,
          operatorRunning: !stopFirst,
          baselineReplicas: 0,
          loadStartedAt: "",
          autoscalerEvents: [],
          timedOut: false,
          error: `${message}\n${readFileSync(operator.logPath, "utf8").slice(-1500)}`,
        });
      }
    }
  } finally {
    await stopOperator(operator);
  }
  return results;
}

function summarize(workload: Workload, reps: Repetition[]): Summary {
  const done = reps.filter((r) => r.split !== undefined);
  const pick = (key: keyof NonNullable<Repetition["split"]>): number[] =>
    done.map((r) => r.split?.[key] ?? NaN);
  return {
    workload: workload.example,
    name: workload.name,
    repetitions: done.length,
    metricsPipeline: stats(pick("metricsPipeline")),
    autoscaler: stats(pick("autoscaler")),
    schedulingAndModelLoad: stats(pick("schedulingAndModelLoad")),
    total: stats(pick("total")),
    operatorWritesToScalingObjects: reps.reduce((sum, r) => sum + (r.operatorWritesToScalingObjects ?? 0), 0),
  };
}

async function main(): Promise<void> {
  const cli = compileOperator(log);
  const chosen = WORKLOADS.filter((w) => selected.has(w.example));
  const all: { workload: Workload; reps: Repetition[] }[] = [];
  const loads: number[] = [];
  const loadSampler = setInterval(() => loads.push(loadavg()[0] ?? 0), 5_000);
  try {
    for (const clusterKind of ["keda", "no-keda"] as const) {
      const here = chosen.filter((w) => w.cluster === clusterKind);
      if (here.length === 0) continue;
      const cluster = await openCluster(clusterKind === "keda");
      try {
        if (flags.sequential) {
          for (const workload of here)
            all.push({ workload, reps: await runWorkload(cluster, cli, workload) });
        } else {
          // The workloads of one cluster side by side, each in its own namespaces with its own operator:
          // their paths are timers (scrapes, syncs, polls, model loads), not CPU.
          const reps = await Promise.all(here.map((workload) => runWorkload(cluster, cli, workload)));
          here.forEach((workload, i) => all.push({ workload, reps: reps[i] ?? [] }));
        }
      } finally {
        await cluster.controlPlane.stop();
      }
    }
  } finally {
    clearInterval(loadSampler);
  }
  all.sort((a, b) => a.workload.example - b.workload.example);
  const summaries = all.map(({ workload, reps }) => summarize(workload, reps));
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
      loadAverage: {
        min: Math.round(Math.min(...loads) * 10) / 10,
        max: Math.round(Math.max(...loads) * 10) / 10,
        mean: Math.round((loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length)) * 10) / 10,
      },
    },
    parameters: {
      repetitions,
      parallelWorkloads: !flags.sequential,
      sampleIntervalSeconds: SAMPLE_MS / 1000,
      loadStart:
        "20 s after the baseline is reached, plus a uniformly random part of the autoscaler's period (KEDA polling interval or HPA sync)",
      timeCompression:
        "none: compressTimes is not applied; model load times, polling intervals and behaviors are the examples' own",
      operatorStoppedRepetition: repetitions > 1 ? repetitions : undefined,
      cluster: {
        prometheusScrapeSeconds: 5,
        metricsServerResolutionSeconds: 15,
        prometheusAdapterRelistSeconds: 10,
        hpaSyncSeconds: HPA_SYNC_SECONDS,
      },
    },
    workloads: all.map(({ workload, reps }) => ({
      example: workload.example,
      name: workload.name,
      engine: workload.engine,
      cluster: workload.cluster === "keda" ? "e2e with KEDA" : "e2e without KEDA (keda: false)",
      load: workload.load,
      source: workload.source,
      changes: workload.changes,
      repetitions: reps,
    })),
    summary: summaries,
    totalSeconds: seconds(Date.now() - benchStart),
  };
  mkdirSync(join(repoRoot, "bench", "results"), { recursive: true });
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);

  const cell = (s: Stats): string => `${s.median} (${s.min}-${s.max})`;
  console.log("\nScale-up latency, seconds from the load's start: median (min-max) over the repetitions");
  console.log(
    `  ${"workload".padEnd(24)} ${"n".padStart(2)} ${"metrics pipeline".padStart(18)} ${"autoscaler".padStart(18)} ${"sched + model".padStart(18)} ${"total".padStart(18)}  operator writes on the path`,
  );
  for (const s of summaries) {
    console.log(
      `  ${`${s.workload} ${s.name}`.padEnd(24)} ${String(s.repetitions).padStart(2)} ${cell(s.metricsPipeline).padStart(18)} ${cell(s.autoscaler).padStart(18)} ${cell(s.schedulingAndModelLoad).padStart(18)} ${cell(s.total).padStart(18)}  ${s.operatorWritesToScalingObjects}`,
    );
  }
  for (const { workload, reps } of all) {
    for (const r of reps) {
      console.log(
        `  ${workload.example} r${r.repetition}${r.operatorRunning ? "" : " (operator stopped)"}: ${JSON.stringify(r.split ?? { timedOut: r.timedOut, error: r.error?.split("\n")[0] })} ${r.metricVisibleDetail ?? ""}; operator writes ${JSON.stringify(r.operatorWritesInWindow ?? {})}`,
      );
    }
  }
  console.log(`\nwritten to ${resultsPath}`);
}

await main();
