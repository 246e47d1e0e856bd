// How closely `mlautoscale simulate` predicts the real scaling loop. Each example policy runs on the local
// cluster's real loop (kube-controller-manager's HPA controller, KEDA, metrics-server, Prometheus,
// prometheus-adapter, the brokers; KWOK plays the pods, the workload emulator their servers) under
// `mlautoscale loadtest --compare-simulation`, once per trace: a step, a spike and five minutes of the
// Azure LLM inference log (bench/fidelity-traces.ts, which credits it). The simulation gets the same
// load and the cluster's parameters (its scrape interval, metric resolution, relist, the emulator's
// service rate and acknowledgement on receipt). Per run: the mean absolute difference of desired and of
// Ready replicas per second, and the time offset of each scale event (bench/fidelity-metrics.ts).
// Examples 1-3 run on a cluster with KEDA; example 4's External metric needs one without.
//
// Run (heavy: twelve runs of ten minutes, about two hours of the whole machine):
//   npx tsx bench/fidelity.bench.ts [--workloads 1,2,3,4] [--traces step,spike,azure]
// Results: bench/results/fidelity.json; method and figures: docs/benchmarks.md.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { startControlPlane, type ClusterAddresses, type ControlPlane } from "../dev/controlplane/index.js";
import { fakeNode } from "../dev/controlplane/nodes.js";
import { kubectlWith, LOCAL_CLUSTER_MODEL_FLAGS, localExamples, prepareLocalBrokers } from "../dev/demo.js";
import { defaultDependencies, runLoadtestCommand } from "../src/loadtest/command.js";
import { KubeRestClient } from "../src/runtime/rest.js";
import {
  fidelity,
  type Fidelity,
  type ObservedSecond,
  type ScaleChange,
  type SimulatedTick,
} from "./fidelity-metrics.js";
import { traceCsv, type TraceName, type TraceShape } from "./fidelity-traces.js";
import { compileOperator } from "./operator/setup.js";
import { eventually, getIfExists, sleep } from "./wait.js";

const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const resultsPath = join(repoRoot, "bench", "results", "fidelity.json");
const POLICY_API = "/apis/mlautoscale.io/v1alpha1";
const FIELD_MANAGER = "fidelity-bench";
/** How long a workload may take to reach its state before the load. */
const BASELINE_TIMEOUT_MS = 480_000;
/** Sampling after the last arrival. */
const SETTLE_SECONDS = 60;
/** kube-controller-manager's HPA sync period in the local cluster (its default). */
const HPA_SYNC_SECONDS = 15;

const { values: flags } = parseArgs({
  options: {
    workloads: { type: "string", default: "1,2,3,4,5" },
    traces: { type: "string", default: "step,spike,azure" },
  },
  strict: true,
});
const selectedWorkloads = new Set(flags.workloads.split(",").map((s) => Number(s.trim())));
const selectedTraces = flags.traces.split(",").map((s) => s.trim()) as TraceName[];

const benchStart = Date.now();
function log(message: string): void {
  console.error(`[${((Date.now() - benchStart) / 1000).toFixed(0).padStart(5)} s] ${message}`);
}

type Document = {
  kind?: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
};

interface Workload {
  example: number;
  name: string;
  engine: "HPA" | "KEDA";
  cluster: "keda" | "no-keda";
  /** Requests (messages) per second one Ready pod of the emulator serves. */
  serviceRate: number;
  /** The traces' levels for this workload, in arrivals per second. */
  shape: TraceShape;
  /** The example, localized, with this run's queue. */
  policy(addresses: Readonly<ClusterAddresses>, namespace: string): Document;
}

function example(addresses: Readonly<ClusterAddresses>, name: string): Document {
  const found = (localExamples(addresses) as Document[]).find(
    (d) => d.kind === "MLAutoscalePolicy" && d.metadata.name === name,
  );
  if (found === undefined) throw new Error(`no example policy ${name}`);
  return found;
}

function triggersOf(policy: Document): { metadata: Record<string, string> }[] {
  return (policy.spec["scaling"] as { triggers: { metadata: Record<string, string> }[] }).triggers;
}

const WORKLOADS: Workload[] = [
  {
    // HTTP load through the emulator: 15/s keeps its 2 replicas 75 % busy; the step and spike need 6
    // and 10 (its maximum). The log at about 7/s against 1 request/s per replica (an LLM's conversation
    // turns) needs 7 or more.
    example: 1,
    name: "resnet50-inference",
    engine: "HPA",
    cluster: "keda",
    serviceRate: 10,
    shape: { base: 15, high: 60, azureScale: 10 },
    policy: (addresses) => example(addresses, "resnet50-inference"),
  },
  {
    example: 2,
    name: "batch-embeddings",
    engine: "KEDA",
    cluster: "keda",
    serviceRate: 10,
    shape: { base: 2, high: 40, azureScale: 4 },
    policy: (addresses, namespace) => {
      const policy = example(addresses, "batch-embeddings");
      for (const trigger of triggersOf(policy)) trigger.metadata["queueName"] = `${namespace}-inference`;
      return policy;
    },
  },
  {
    example: 3,
    name: "finetune-workers",
    engine: "KEDA",
    cluster: "keda",
    serviceRate: 1,
    shape: { base: 0.5, high: 4, azureScale: 0.5 },
    policy: (addresses, namespace) => {
      const policy = example(addresses, "finetune-workers");
      for (const trigger of triggersOf(policy)) {
        trigger.metadata["queueURL"] = `https://sqs.us-east-1.amazonaws.com/123456789012/${namespace}-jobs`;
      }
      return policy;
    },
  },
  {
    // requests_per_second{service="hybrid-ml"} against 100 per pod: 200/s keeps it at its minimum of 3.
    example: 4,
    name: "hybrid-ranker",
    engine: "HPA",
    cluster: "no-keda",
    serviceRate: 100,
    shape: { base: 200, high: 900, azureScale: 100 },
    policy: (addresses) => example(addresses, "hybrid-ranker"),
  },
  {
    // Chats through the emulator's LLM server: two a second per replica at a full batch (the demo's rate).
    // 1/s wakes one replica; the step and spike need 3 and its maximum of 4; the log's ~7/s at half is 2.
    example: 5,
    name: "llama-chat",
    engine: "KEDA",
    cluster: "keda",
    serviceRate: 2,
    shape: { base: 1, high: 6, azureScale: 0.5 },
    policy: (addresses) => example(addresses, "llama-chat"),
  },
];

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
  // Roomy GPU nodes of the examples' instance types in both zones: no pod waits for room, as the
  // simulation assumes by default.
  for (const instanceType of ["g4dn.xlarge", "p3.2xlarge", "g6.xlarge"]) {
    for (const zone of ["zone-a", "zone-b"]) {
      const node = fakeNode({
        name: `fid-${instanceType.replace(".", "-")}-${zone}`,
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
  return { controlPlane, rest, addresses: controlPlane.addresses };
}

function startOperator(cluster: Cluster, cli: string, logName: string): ChildProcess {
  const logPath = join(cluster.controlPlane.dir, "logs", `${logName}.log`);
  const logFd = openSync(logPath, "a");
  const child = spawn(
    process.execPath,
    [
      cli,
      "operator",
      `--kubeconfig=${cluster.controlPlane.kubeconfigPath}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      "--metrics-port=0",
    ],
    { cwd: repoRoot, stdio: ["ignore", logFd, logFd], env: { ...process.env, KUBECONFIG: "" } },
  );
  closeSync(logFd);
  if (child.pid === undefined) throw new Error("the operator did not start");
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 35_000);
  await exited;
  clearTimeout(timer);
}

interface DeploymentListed {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; availableReplicas?: number };
}
interface PodListed {
  metadata?: { creationTimestamp?: string };
  status?: {
    startTime?: string;
    conditions?: { type?: string; status?: string; lastTransitionTime?: string }[];
  };
}

/** The loadtest JSON this bench reads. */
interface LoadtestDocument {
  steps: ObservedSecond[];
  summary: { maxLagSeconds: number; missedSamples: number };
  simulation?: {
    summary: { tickSeconds: number };
    steps: SimulatedTick[];
    events: (ScaleChange & { by: string; reason: string })[];
    parameters: {
      model: {
        hpaFirstSyncSeconds?: number;
        kedaFirstPollSeconds?: number;
        hpaLastRecommendationSeconds?: number;
      };
    };
  };
}

interface Run {
  workload: number;
  name: string;
  trace: TraceName;
  namespace: string;
  serviceRate: number;
  initialReplicas: number;
  /** The random wait before the load, in [0, the autoscaler's period). */
  phaseDelaySeconds: number;
  /**
   * Seconds from the load's start to the HPA controller's next sync of the HPA, and (KEDA) to KEDA's next
   * poll: what `loadtest --compare-simulation` gave the simulation, from the HPA's creation.
   */
  hpaFirstSyncSeconds?: number;
  kedaFirstPollSeconds?: number;
  /** Seconds from the HPA's last recommendation to the load's start, when it had stopped computing them. */
  hpaLastRecommendationSeconds?: number;
  /** Pod creation to container start, and start to Ready, as the pods' own timestamps say (seconds). */
  podStartSeconds: number[];
  podReadySeconds: number[];
  fidelity?: Fidelity;
  observedEvents?: ScaleChange[];
  simulatedEvents?: (ScaleChange & { by: string; reason: string })[];
  maxLagSeconds?: number;
  missedSamples?: number;
  error?: string;
}

async function waitForBaseline(cluster: Cluster, workload: Workload, namespace: string): Promise<number> {
  const { rest } = cluster;
  const deploymentPath = `/apis/apps/v1/namespaces/${namespace}/deployments/${workload.name}`;
  const hpaPath = `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers/${workload.name}`;
  const minReplicas = workload.engine === "KEDA" ? 0 : workload.example === 1 ? 2 : 3;
  await eventually(
    `${namespace}/${workload.name} at its state before the load`,
    BASELINE_TIMEOUT_MS,
    async () => {
      const deployment = await getIfExists<DeploymentListed>(rest, deploymentPath);
      if (deployment?.spec?.replicas !== minReplicas) return undefined;
      if ((deployment.status?.readyReplicas ?? 0) !== minReplicas) return undefined;
      if (workload.engine === "KEDA") return true;
      const hpa = await getIfExists<{ status?: { desiredReplicas?: number; currentMetrics?: unknown[] } }>(
        rest,
        hpaPath,
      );
      return hpa?.status?.desiredReplicas === minReplicas && (hpa.status.currentMetrics?.length ?? 0) > 0
        ? true
        : undefined;
    },
  );
  return minReplicas;
}

/** Seconds from each pod's creation to its start, and from its start to Ready. */
async function podTimes(
  cluster: Cluster,
  namespace: string,
  name: string,
): Promise<{ start: number[]; ready: number[] }> {
  const pods = await cluster.rest.request<{ items?: PodListed[] }>(
    "GET",
    `/api/v1/namespaces/${namespace}/pods`,
    {
      query: { labelSelector: `mlautoscale.io/policy=${name}` },
    },
  );
  const start: number[] = [];
  const ready: number[] = [];
  for (const pod of pods.items ?? []) {
    const created = Date.parse(pod.metadata?.creationTimestamp ?? "");
    const started = Date.parse(pod.status?.startTime ?? "");
    const readyAt = Date.parse(
      pod.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True")?.lastTransitionTime ??
        "",
    );
    if (Number.isFinite(created) && Number.isFinite(started)) start.push((started - created) / 1000);
    if (Number.isFinite(started) && Number.isFinite(readyAt)) ready.push((readyAt - started) / 1000);
  }
  return { start, ready };
}

async function runOne(cluster: Cluster, workload: Workload, trace: TraceName, scratch: string): Promise<Run> {
  const namespace = `fid-${workload.example}-${trace}`;
  const run: Run = {
    workload: workload.example,
    name: workload.name,
    trace,
    namespace,
    serviceRate: workload.serviceRate,
    initialReplicas: 0,
    phaseDelaySeconds: 0,
    podStartSeconds: [],
    podReadySeconds: [],
  };
  const { rest, addresses, controlPlane } = cluster;
  const kubectl = kubectlWith(join(controlPlane.binDir, "kubectl"), controlPlane.kubeconfigPath);
  const policy = { apiVersion: "mlautoscale.io/v1alpha1", ...workload.policy(addresses, namespace) };
  policy.metadata = { ...policy.metadata, namespace };
  await rest.request("POST", "/api/v1/namespaces", { body: { metadata: { name: namespace } } });
  await prepareLocalBrokers(kubectl, namespace, [policy], addresses);
  await rest.request("PATCH", `${POLICY_API}/namespaces/${namespace}/mlautoscalepolicies/${workload.name}`, {
    query: { fieldManager: FIELD_MANAGER, force: true },
    contentType: "application/apply-patch+yaml",
    body: policy,
  });
  // The emulator serves at the workload's rate; loadtest reads it from there for the simulation.
  await eventually("the emulator to know the workload", 120_000, async () => {
    const response = await fetch(
      `${addresses.EMULATOR_URL ?? ""}/v1/workloads/${namespace}/${workload.name}`,
      {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ serviceRatePerReplica: workload.serviceRate }),
      },
    );
    return response.ok ? true : undefined;
  });
  run.initialReplicas = await waitForBaseline(cluster, workload, namespace);
  // A quiet spell, then a random part of the autoscaler's period: a fixed wait would start every trace
  // at the same phase of the HPA's syncs or KEDA's polls.
  const period =
    workload.engine === "KEDA"
      ? ((policy.spec["scaling"] as { pollingIntervalSeconds?: number }).pollingIntervalSeconds ?? 30)
      : HPA_SYNC_SECONDS;
  const phaseDelayMs = Math.round(Math.random() * period * 1000);
  run.phaseDelaySeconds = Math.round(phaseDelayMs / 100) / 10;
  await sleep(20_000 + phaseDelayMs);

  const policyFile = join(scratch, `${namespace}.json`);
  writeFileSync(policyFile, JSON.stringify(policy));
  const traceFile = join(scratch, `${namespace}.csv`);
  writeFileSync(traceFile, traceCsv(trace, workload.shape));
  let stdout = "";
  const code = await runLoadtestCommand(
    [
      "-f",
      policyFile,
      "--trace",
      traceFile,
      "-n",
      namespace,
      "--kubeconfig",
      controlPlane.kubeconfigPath,
      "--compare-simulation",
      "--settle-seconds",
      String(SETTLE_SECONDS),
      "-o",
      "json",
      ...LOCAL_CLUSTER_MODEL_FLAGS,
    ],
    { stdout: (text) => (stdout += text), stderr: (text) => process.stderr.write(`  ${text}`) },
    { ...defaultDependencies(), env: { ...process.env, ...addresses }, stderrIsTTY: false },
  );
  if (code !== 0) throw new Error(`loadtest exited ${code}`);
  const document = JSON.parse(stdout) as LoadtestDocument;
  const simulation = document.simulation;
  if (!simulation) throw new Error("loadtest printed no simulation");
  run.hpaFirstSyncSeconds = simulation.parameters.model.hpaFirstSyncSeconds;
  if (workload.engine === "KEDA") run.kedaFirstPollSeconds = simulation.parameters.model.kedaFirstPollSeconds;
  const lastRecommendation = simulation.parameters.model.hpaLastRecommendationSeconds;
  if (lastRecommendation !== undefined && lastRecommendation > 0)
    run.hpaLastRecommendationSeconds = lastRecommendation;
  run.fidelity = fidelity(
    document.steps,
    simulation.steps,
    simulation.summary.tickSeconds,
    simulation.events,
  );
  run.simulatedEvents = simulation.events;
  run.maxLagSeconds = document.summary.maxLagSeconds;
  run.missedSamples = document.summary.missedSamples;
  const times = await podTimes(cluster, namespace, workload.name);
  run.podStartSeconds = times.start;
  run.podReadySeconds = times.ready;
  return run;
}

function summaryLine(run: Run): string {
  const f = run.fidelity;
  if (!f) return `| ${run.workload} ${run.name} | ${run.trace} | error: ${run.error ?? "?"} |`;
  const offsets = f.events.map((e) => `${e.offsetSeconds > 0 ? "+" : ""}${e.offsetSeconds}`).join(", ");
  return (
    `| ${run.workload} ${run.name} | ${run.trace} | ${f.meanAbsDesired.toFixed(2)} | ${f.meanAbsReady.toFixed(2)} | ` +
    `${f.events.length} | ${offsets || "-"} | ${f.unmatchedObserved.length} / ${f.unmatchedSimulated.length} |`
  );
}

async function main(): Promise<void> {
  const cli = compileOperator(log);
  const scratch = join(repoRoot, "node_modules", ".cache", "mlautoscale-bench", "fidelity");
  mkdirSync(scratch, { recursive: true });
  const runs: Run[] = [];
  for (const kind of ["keda", "no-keda"] as const) {
    const workloads = WORKLOADS.filter((w) => w.cluster === kind && selectedWorkloads.has(w.example));
    if (workloads.length === 0) continue;
    const cluster = await openCluster(kind === "keda");
    const operator = startOperator(cluster, cli, "operator-fidelity");
    try {
      for (const workload of workloads) {
        for (const trace of selectedTraces) {
          log(`example ${workload.example} ${workload.name}, trace ${trace}`);
          const started = Date.now();
          try {
            runs.push(await runOne(cluster, workload, trace, scratch));
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            log(`  failed: ${message}`);
            runs.push({
              workload: workload.example,
              name: workload.name,
              trace,
              namespace: `fid-${workload.example}-${trace}`,
              serviceRate: workload.serviceRate,
              initialReplicas: 0,
              phaseDelaySeconds: 0,
              podStartSeconds: [],
              podReadySeconds: [],
              error: message,
            });
          }
          const last = runs.at(-1);
          if (last) log(`  ${summaryLine(last)} (${Math.round((Date.now() - started) / 1000)} s)`);
          // The namespace goes, its pods drain; the next run has its own.
          await cluster.rest
            .request("DELETE", `/api/v1/namespaces/fid-${workload.example}-${trace}`)
            .catch(() => undefined);
          writeResults(runs);
        }
      }
    } finally {
      await stopProcess(operator);
      await cluster.controlPlane.stop();
    }
  }
  writeResults(runs);
  console.log(
    "| workload | trace | mean abs. desired | mean abs. Ready | events paired | offsets (s, cluster - simulation) | unpaired (cluster / sim.) |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | --- | --- |");
  for (const run of runs) console.log(summaryLine(run));
}

function writeResults(runs: readonly Run[]): void {
  mkdirSync(join(repoRoot, "bench", "results"), { recursive: true });
  writeFileSync(
    resultsPath,
    `${JSON.stringify(
      {
        machine: {
          cpus: cpus().length,
          model: cpus()[0]?.model,
          memoryGiB: Math.round(totalmem() / 2 ** 30),
          kernel: release(),
          loadAverage: loadavg(),
        },
        startedAt: new Date(benchStart).toISOString(),
        clusterModelFlags: LOCAL_CLUSTER_MODEL_FLAGS,
        settleSeconds: SETTLE_SECONDS,
        runs,
      },
      null,
      2,
    )}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
