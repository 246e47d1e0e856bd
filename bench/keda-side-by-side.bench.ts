// mlautoscale against KEDA alone, side by side on one local cluster running the real KEDA: N policies
// through the operator, and N hand-written Deployment + ScaledObject pairs (the specs the operator would
// write, from renderPolicy) applied straight to the API server. For each path: the time from the first
// apply until every ScaledObject is Ready and every HPA KEDA generates exists, API requests per object
// (the operator's own mlautoscale_api_requests_total, KEDA's own rest_client_requests_total, the client's
// applies), the CPU of every process on the machine's path, and the resident memory of the operator, KEDA's
// operator, its metrics server and its webhooks.
// Method and figures: docs/benchmarks.md.
//
// Run: npx tsx bench/keda-side-by-side.bench.ts [--objects 1000] [--order direct-first|operator-first]
//        [--settle-seconds 60] [--apply-concurrency 16] [--loop] [--ready-timeout-seconds 1800]
//        [--between delete|keep] [--keda-api-qps N] [--controller-manager-api-qps N]
import { spawn, execFile, type ChildProcess } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { startControlPlane, type ControlPlane } from "../dev/controlplane/index.js";
import { freePorts } from "../dev/controlplane/net.js";
import { parsePolicy } from "../src/api/v1alpha1/index.js";
import { renderPolicy } from "../src/render/index.js";
import { OperatorConfigSchema } from "../src/config.js";
import { Informer, type ResourceSelector, type SharedInformer } from "../src/runtime/informer.js";
import type { KubeObject } from "../src/runtime/object.js";
import { KubeRestClient } from "../src/runtime/rest.js";
import { compileOperator, createBenchNodes, imageNodeFlags, PODS_PER_BENCH_NODE } from "./operator/setup.js";
import { cpuSpent, readCpu, type CpuReading } from "./operator/machine-cpu.js";
import { operatorMetricsText } from "./operator/operator-metrics.js";
import { readProcessCpuSeconds, readProcessMemory } from "./operator/process-memory.js";
import { percentile, type ListedPolicy } from "./operator/readiness.js";
import { RolloutClock, type RolloutCounts, type RolloutStep } from "./operator/rollout-clock.js";
import {
  parseApiServerRequestTotals,
  parseOperatorRequestTotals,
  sortedEntries,
  subtractCounts,
  totalOf,
  writesOnly,
  type RequestCounts,
} from "./operator/request-counts.js";
import {
  latencySummary,
  parseApiServerLatencies,
  parseFlowControlWaits,
  parseWebhookLatencies,
  subtractLatencies,
  type Latencies,
  type LatencyRow,
} from "./operator/request-latency.js";

const execFileAsync = promisify(execFile);
const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const resultsPath = join(repoRoot, "bench", "results", "keda-side-by-side.json");

const POLICY_API = "/apis/mlautoscale.io/v1alpha1";
const KEDA_API = "/apis/keda.sh/v1alpha1";
const DIRECT_NAMESPACE = "keda-direct";
const OPERATOR_NAMESPACE = "via-operator";
const FIELD_MANAGER = "keda-side-by-side-bench";
const POLL_INTERVAL_MS = 2_000;
const MEMORY_SAMPLE_MS = 5_000;
/** How many kinds of request the latency tables keep, those that took the most time first. */
const LATENCY_ROWS = 15;
const KEDA_PROGRAMS = ["keda-operator", "keda-adapter", "keda-webhooks"] as const;
type KedaProgram = (typeof KEDA_PROGRAMS)[number];

const { values: flags } = parseArgs({
  options: {
    objects: { type: "string", default: "1000" },
    order: { type: "string", default: "direct-first" },
    "settle-seconds": { type: "string", default: "60" },
    "apply-concurrency": { type: "string", default: "16" },
    "ready-timeout-seconds": { type: "string", default: "1800" },
    loop: { type: "boolean", default: false },
    between: { type: "string", default: "delete" },
    // KEDA's operator's client limit (its --kube-api-qps, burst 1.5 times it); unset: KEDA's own 20/30.
    "keda-api-qps": { type: "string" },
    // kube-controller-manager's client limit, likewise; unset: its own 20/30.
    "controller-manager-api-qps": { type: "string" },
    // A directory for a V8 CPU profile of the operator (node --cpu-prof), written when it stops.
    "operator-cpu-profile-dir": { type: "string" },
  },
  strict: true,
});

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const objectCount = positiveInteger("objects", flags.objects);
const settleMs = positiveInteger("settle-seconds", flags["settle-seconds"]) * 1000;
const applyConcurrency = positiveInteger("apply-concurrency", flags["apply-concurrency"]);
const readyTimeoutMs = positiveInteger("ready-timeout-seconds", flags["ready-timeout-seconds"]) * 1000;
const order = flags.order;
if (order !== "direct-first" && order !== "operator-first") {
  throw new Error("--order must be direct-first or operator-first");
}
const kedaApiQps =
  flags["keda-api-qps"] === undefined ? undefined : positiveInteger("keda-api-qps", flags["keda-api-qps"]);
const kedaClient =
  kedaApiQps === undefined
    ? { qps: 20, burst: 30, setByBenchmark: false }
    : { qps: kedaApiQps, burst: Math.ceil(kedaApiQps * 1.5), setByBenchmark: true };
const controllerManagerApiQps =
  flags["controller-manager-api-qps"] === undefined
    ? undefined
    : positiveInteger("controller-manager-api-qps", flags["controller-manager-api-qps"]);
const controllerManagerClient =
  controllerManagerApiQps === undefined
    ? undefined
    : { qps: controllerManagerApiQps, burst: Math.ceil(controllerManagerApiQps * 1.5), setByBenchmark: true };
/** The operator runs with its defaults. */
const operatorDefaults = OperatorConfigSchema.parse({});
const between = flags.between;
if (between !== "delete" && between !== "keep") throw new Error("--between must be delete or keep");

const benchStart = Date.now();
function log(message: string): void {
  console.error(`[${((Date.now() - benchStart) / 1000).toFixed(0).padStart(5)} s] ${message}`);
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number): number => Math.round(ms / 100) / 10;
const mib = (value: number): number => Math.round(value * 10) / 10;
const perObject = (count: number): number => Math.round((count / objectCount) * 100) / 100;

// ---------------------------------------------------------------------------------------------------
// what is applied

function objectName(index: number): string {
  return `bench-${String(index).padStart(5, "0")}`;
}

/**
 * A KEDA policy on CPU: one small replica (10m CPU requested, so KEDA's webhook accepts the cpu
 * trigger), min 1 (KEDA's webhook refuses a cpu-only ScaledObject that could scale to zero), a model that
 * loads in 1 s (the least the API allows; pods are Ready a second after they start). A cpu trigger is
 * evaluated by the HPA from metrics-server, never by KEDA's own scale loop (its scaler returns without
 * I/O), so neither path waits on a broker.
 */
function benchPolicy(index: number, namespace: string): Record<string, unknown> {
  return {
    apiVersion: "mlautoscale.io/v1alpha1",
    kind: "MLAutoscalePolicy",
    metadata: { name: objectName(index), namespace },
    spec: {
      workload: {
        template: {
          image: "registry.example.com/ml/model-server:1.0.0",
          model: { loadSeconds: 1 },
          resources: { requests: { cpu: "10m", memory: "32Mi" } },
        },
      },
      replicas: { min: 1, max: 2 },
      scaling: { engine: "KEDA", metrics: { cpu: { targetUtilization: 70 } } },
    },
  };
}

interface HandWritten {
  deployment: Record<string, unknown>;
  scaledObject: Record<string, unknown>;
}

/** The Deployment and ScaledObject the operator would apply for the same policy, without owner refs. */
function handWritten(index: number): HandWritten {
  const parsed = parsePolicy(benchPolicy(index, DIRECT_NAMESPACE));
  if (!parsed.ok) throw new Error(`bench policy invalid: ${parsed.problems.join("; ")}`);
  const rendered = renderPolicy(parsed.policy, { kedaInstalled: true });
  if (rendered.deployment === undefined || rendered.scaledObject === undefined) {
    throw new Error("the bench policy did not render to a Deployment and a ScaledObject");
  }
  const strip = (object: object): Record<string, unknown> => {
    const copy = structuredClone(object) as { metadata?: { ownerReferences?: unknown } };
    if (copy.metadata !== undefined) delete copy.metadata.ownerReferences;
    return copy;
  };
  return { deployment: strip(rendered.deployment), scaledObject: strip(rendered.scaledObject) };
}

// ---------------------------------------------------------------------------------------------------
// the cluster and its processes

interface KedaProcess {
  program: KedaProgram;
  pid: number;
  /** http://127.0.0.1:<port>/metrics, Prometheus text. */
  metricsUrl: string;
  binary: string;
}

/**
 * KEDA's three programs of this control plane, found in /proc by their command line (the program name
 * and this control plane's admin kubeconfig), with the port of their Prometheus endpoint: the operator's
 * and the webhooks' --metrics-bind-address, the metrics server's --port.
 */
function findKedaProcesses(controlPlane: ControlPlane): Map<KedaProgram, KedaProcess> {
  const found = new Map<KedaProgram, KedaProcess>();
  const kubeconfigArg = `--kubeconfig=${controlPlane.kubeconfigPath}`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
      continue;
    }
    const program = KEDA_PROGRAMS.find((name) => basename(argv[0] ?? "") === name);
    if (program === undefined || !argv.includes(kubeconfigArg)) continue;
    const flag = (name: string): string | undefined =>
      argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
    const port = program === "keda-adapter" ? flag("port") : flag("metrics-bind-address")?.split(":").at(-1);
    if (port === undefined)
      throw new Error(`${program} (pid ${entry}) has no metrics port on its command line`);
    found.set(program, {
      program,
      pid: Number(entry),
      metricsUrl: `http://127.0.0.1:${port}/metrics`,
      binary: argv[0] ?? "",
    });
  }
  for (const program of KEDA_PROGRAMS) {
    if (!found.has(program)) throw new Error(`${program} of this control plane is not running`);
  }
  return found;
}

interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition. */
function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(LABEL_PAIR)) labels[pair[1] ?? ""] = pair[2] ?? "";
    samples.push({ name: match[1] ?? "", labels, value });
  }
  return samples;
}

function sumOf(
  samples: readonly MetricSample[],
  name: string,
  where: (labels: Record<string, string>) => boolean = () => true,
): number {
  return samples.filter((s) => s.name === name && where(s.labels)).reduce((sum, s) => sum + s.value, 0);
}

/** rest_client_requests_total by HTTP method (client-go's label; it carries no resource). */
function restClientRequests(samples: readonly MetricSample[]): Record<string, number> {
  const byMethod: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== "rest_client_requests_total") continue;
    const method = s.labels["method"] ?? "?";
    byMethod[method] = (byMethod[method] ?? 0) + s.value;
  }
  return byMethod;
}

function subtractRecords(
  after: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta !== 0) out[key] = delta;
  }
  return out;
}

const recordTotal = (record: Record<string, number>): number =>
  Object.values(record).reduce((sum, n) => sum + n, 0);

async function scrape(url: string): Promise<MetricSample[]> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return parseMetrics(await response.text());
}

async function kubectl(controlPlane: ControlPlane, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    join(controlPlane.binDir, "kubectl"),
    [`--kubeconfig=${controlPlane.kubeconfigPath}`, ...args],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  return stdout;
}

async function apiServerMetricsText(controlPlane: ControlPlane): Promise<string> {
  return kubectl(controlPlane, ["get", "--raw", "/metrics"]);
}

/** Lines of a log file that contain `needle` (client-go logs each client-side throttling wait over 1 s). */
function countLogLines(path: string, needle: string): number {
  if (!existsSync(path) || statSync(path).size === 0) return 0;
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.includes(needle)).length;
}

// ---------------------------------------------------------------------------------------------------
// the operator

interface OperatorProcess {
  child: ChildProcess;
  pid: number;
  logPath: string;
  metricsUrl: string;
}

/**
 * Starts the compiled operator as its own process, connected to kube-apiserver with TLS as in a cluster
 * (the admin kubeconfig): it counts its own requests (mlautoscale_api_requests_total), so no proxy sits
 * between them to cost the machine CPU on this path only.
 */
async function startOperator(controlPlane: ControlPlane, command: string[]): Promise<OperatorProcess> {
  const [port] = await freePorts(1);
  const logPath = join(controlPlane.dir, "logs", "operator.log");
  const logFd = openSync(logPath, "a");
  const child = spawn(
    process.execPath,
    [
      ...command,
      "operator",
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      // Its own namespace only, so that its caches hold its N policies and their children, not the
      // hand-written pairs of the other phase (KEDA, cluster-wide, holds both).
      `--namespaces=${OPERATOR_NAMESPACE}`,
      "--leader-elect=true",
      "--leader-election-namespace=default",
      "--bind-address=127.0.0.1",
      `--metrics-port=${port ?? 0}`,
    ],
    { cwd: repoRoot, stdio: ["ignore", logFd, logFd], env: { ...process.env, KUBECONFIG: "" } },
  );
  closeSync(logFd);
  if (child.pid === undefined) throw new Error("the operator did not start");
  return { child, pid: child.pid, logPath, metricsUrl: `http://127.0.0.1:${port ?? 0}/metrics` };
}

async function stopOperator(operator: OperatorProcess): Promise<void> {
  const { child } = operator;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 35_000);
  await exited;
  clearTimeout(timer);
}

async function waitForLeadership(rest: KubeRestClient, operator: OperatorProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (operator.child.exitCode !== null) {
      throw new Error(`the operator exited:\n${readFileSync(operator.logPath, "utf8").slice(-3000)}`);
    }
    try {
      const lease = await rest.request<{ spec?: { holderIdentity?: string } }>(
        "GET",
        "/apis/coordination.k8s.io/v1/namespaces/default/leases/mlautoscale-operator",
      );
      if ((lease.spec?.holderIdentity ?? "") !== "") return;
    } catch {
      // Not created yet.
    }
    if (Date.now() > deadline) throw new Error("the operator took no lease within 120 s");
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------------
// applying

interface ApplyLog {
  /** "APPLY deployments" -> requests the bench client sent, retries included. */
  requests: Record<string, number>;
  /** Applies refused (e.g. by KEDA's webhook) and sent again. */
  retries: number;
  firstErrors: string[];
  /** When each object's apply was sent (ms since the epoch), by name. */
  sentAt: Map<string, number>;
  durationMs: number;
}

async function applyObject(
  rest: KubeRestClient,
  path: string,
  body: unknown,
  resource: string,
  applyLog: ApplyLog,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    applyLog.requests[`APPLY ${resource}`] = (applyLog.requests[`APPLY ${resource}`] ?? 0) + 1;
    try {
      await rest.request("PATCH", path, {
        query: { fieldManager: FIELD_MANAGER, force: true },
        contentType: "application/apply-patch+yaml",
        body,
      });
      return;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (applyLog.firstErrors.length < 5) applyLog.firstErrors.push(`${resource}: ${message.slice(0, 400)}`);
      if (attempt >= 10) throw error;
      applyLog.retries++;
      await sleep(1000 * attempt);
    }
  }
}

/** Runs `applyOne(i)` for i in 0..count-1, `applyConcurrency` at a time. */
async function applyAll(count: number, applyOne: (index: number) => Promise<void>): Promise<number> {
  const startedAt = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await applyOne(next++);
  };
  await Promise.all(Array.from({ length: applyConcurrency }, worker));
  return Date.now() - startedAt;
}

// ---------------------------------------------------------------------------------------------------
// observing

interface Listed {
  metadata?: { name?: string; creationTimestamp?: string };
}

type Progress = RolloutCounts;
type Milestone = RolloutStep;

/** How often the phase's counts are kept for its timeline. */
const TIMELINE_INTERVAL_MS = 10_000;

type TimelinePoint = Partial<Progress> & {
  /** Seconds since the first apply. */
  seconds: number;
  /** ScaledObjects waiting in KEDA's operator's work queue. */
  kedaQueueDepth: number;
};

async function list<T>(rest: KubeRestClient, path: string): Promise<T[]> {
  // resourceVersion=0: served from the API server's watch cache, as informers list; cheaper for it.
  const result = await rest.request<{ items?: T[] }>("GET", path, { query: { resourceVersion: "0" } });
  return result.items ?? [];
}

interface PhaseObservation {
  progress: Partial<Progress>;
  /** ms since the phase started at which each milestone first reached N. */
  reachedMs: Partial<Record<Milestone, number>>;
  /** Per object: ms since the epoch at which it was first seen Ready (ScaledObject, policy). */
  soReadyAt: ReadonlyMap<string, number>;
  policyReadyAt: ReadonlyMap<string, number>;
  loadAverages: number[];
  kedaRequestRatePeak: number;
  kedaActiveWorkersPeak: number;
  kedaQueueDepthPeak: number;
  operatorQueueDepthPeak: number;
  timedOut: boolean;
  timeline: TimelinePoint[];
}

/** The steps a path is done with: the operator's adds its policies'. */
function milestonesOf(withPolicies: boolean): Milestone[] {
  const steps: Milestone[] = ["scaledObjects", "scaledObjectsReady", "hpas", "deploymentsAvailable"];
  return withPolicies ? [...steps, "policiesReconciled", "policiesReady", "policiesScalingActive"] : steps;
}

/**
 * Informers (the operator's own runtime) on the namespace's ScaledObjects, HPAs, Deployments and, for the
 * operator's path, policies, feeding `clock` as each event arrives. Started before the first apply.
 */
async function watchNamespace(
  rest: KubeRestClient,
  namespace: string,
  withPolicies: boolean,
  clock: RolloutClock,
): Promise<SharedInformer<KubeObject>[]> {
  const watched: [ResourceSelector, (object: KubeObject) => void][] = [
    [{ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject" }, (o) => clock.scaledObject(o, Date.now())],
    [
      { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" },
      (o) => clock.hpa(o.metadata?.name ?? "", Date.now()),
    ],
    [{ apiVersion: "apps/v1", kind: "Deployment" }, (o) => clock.deployment(o, Date.now())],
  ];
  if (withPolicies) {
    watched.push([
      { apiVersion: "mlautoscale.io/v1alpha1", kind: "MLAutoscalePolicy" },
      (o) => clock.policy(o as ListedPolicy, Date.now()),
    ]);
  }
  const informers = watched.map(([resource, see]) => {
    const informer = new Informer<KubeObject>({ rest, resource, namespace });
    informer.addEventHandler({
      onAdd: (object) => see(object as KubeObject),
      onUpdate: (_previous, object) => see(object as KubeObject),
    });
    informer.start();
    return informer;
  });
  await Promise.all(informers.map((informer) => informer.waitForSync()));
  return informers;
}

/**
 * Until everything is Ready (or the timeout): every POLL_INTERVAL_MS, the counts the watches gave `clock`,
 * KEDA's and the operator's metrics (request rate, workers, queues) and the load average, without
 * listing anything from the API server.
 */
async function observe(
  clock: RolloutClock,
  namespace: string,
  withPolicies: boolean,
  startedAt: number,
  keda: KedaProcess,
  operatorMetricsUrl: string | undefined,
  stillApplying: () => boolean,
): Promise<PhaseObservation> {
  const milestones = milestonesOf(withPolicies);
  const observation: PhaseObservation = {
    progress: {},
    reachedMs: {},
    soReadyAt: clock.times("scaledObjectsReady"),
    policyReadyAt: clock.times("policiesReady"),
    loadAverages: [],
    kedaRequestRatePeak: 0,
    kedaActiveWorkersPeak: 0,
    kedaQueueDepthPeak: 0,
    operatorQueueDepthPeak: 0,
    timedOut: false,
    timeline: [],
  };
  let lastLog = 0;
  let lastKeda: { t: number; requests: number } | undefined;
  for (;;) {
    const now = Date.now();
    const [kedaMetrics, operatorMetrics] = await Promise.all([
      scrape(keda.metricsUrl).catch(() => [] as MetricSample[]),
      operatorMetricsUrl === undefined
        ? Promise.resolve([] as MetricSample[])
        : scrape(operatorMetricsUrl).catch(() => [] as MetricSample[]),
    ]);
    observation.loadAverages.push(loadavg()[0] ?? 0);
    const counts = clock.counts();
    const progress = Object.fromEntries(milestones.map((step) => [step, counts[step]])) as Partial<Progress>;
    observation.progress = progress;
    for (const step of milestones) {
      const at = clock.reachedBy(step, objectCount);
      if (at !== undefined) observation.reachedMs[step] = at - startedAt;
    }
    let kedaQueueDepth = 0;
    if (kedaMetrics.length > 0) {
      const requests = recordTotal(restClientRequests(kedaMetrics));
      if (lastKeda !== undefined && now > lastKeda.t) {
        const rate = ((requests - lastKeda.requests) * 1000) / (now - lastKeda.t);
        observation.kedaRequestRatePeak = Math.max(observation.kedaRequestRatePeak, rate);
      }
      lastKeda = { t: now, requests };
      const isScaledObject = (labels: Record<string, string>): boolean =>
        labels["controller"] === "scaledobject" || labels["name"] === "scaledobject";
      observation.kedaActiveWorkersPeak = Math.max(
        observation.kedaActiveWorkersPeak,
        sumOf(kedaMetrics, "controller_runtime_active_workers", isScaledObject),
      );
      kedaQueueDepth = sumOf(kedaMetrics, "workqueue_depth", isScaledObject);
      observation.kedaQueueDepthPeak = Math.max(observation.kedaQueueDepthPeak, kedaQueueDepth);
    }
    if (operatorMetrics.length > 0) {
      observation.operatorQueueDepthPeak = Math.max(
        observation.operatorQueueDepthPeak,
        sumOf(operatorMetrics, "workqueue_depth"),
      );
    }
    const sinceStart = now - startedAt;
    if (sinceStart >= observation.timeline.length * TIMELINE_INTERVAL_MS) {
      observation.timeline.push({ seconds: seconds(sinceStart), ...progress, kedaQueueDepth });
    }
    const done = !stillApplying() && milestones.every((step) => counts[step] >= objectCount);
    if (done) return observation;
    if (now - lastLog > 15_000) {
      log(`${namespace}: ${JSON.stringify(progress)}`);
      lastLog = now;
    }
    if (now - startedAt > readyTimeoutMs) {
      log(`${namespace}: timed out after ${seconds(now - startedAt)} s: ${JSON.stringify(progress)}`);
      observation.timedOut = true;
      return observation;
    }
    await sleep(Math.max(0, POLL_INTERVAL_MS - (Date.now() - now)));
  }
}

// ---------------------------------------------------------------------------------------------------
// a phase

interface ProcessFigures {
  pid: number;
  rssMiB: number;
  peakRssMiB: number;
  /** CPU seconds from the first apply until everything was Ready. */
  cpuSecondsToReady: number;
  /** CPU seconds from the first apply until the end of the settle period. */
  cpuSecondsToSettled: number;
}

interface KedaRequestFigures {
  /** rest_client_requests_total deltas, by HTTP method, from the first apply until all Ready. */
  toReady: Record<string, number>;
  toReadyTotal: number;
  toReadyPerObject: number;
  /** The same until the end of the settle period. */
  toSettled: Record<string, number>;
  toSettledTotal: number;
  toSettledPerObject: number;
}

interface PhaseResult {
  path: "direct" | "operator";
  namespace: string;
  applySeconds: number;
  client: {
    requests: Record<string, number>;
    requestsTotal: number;
    perObject: number;
    retries: number;
    firstErrors: string[];
  };
  seconds: Partial<Record<Milestone, number>>;
  /** The phase's goal line: every ScaledObject Ready and every HPA there (and for the operator, every policy Ready). */
  allDoneSeconds: number | undefined;
  perObjectSoReadySeconds: { p50: number; p90: number; p99: number; max: number };
  perPolicyReadySeconds?: { p50: number; p90: number; p99: number; max: number };
  finalProgress: Partial<Progress>;
  timedOut: boolean;
  keda: Record<KedaProgram, KedaRequestFigures & ProcessFigures>;
  kedaRequestRatePeakPerSecond: number;
  kedaActiveWorkersPeak: number;
  kedaQueueDepthPeak: number;
  kedaThrottlingLogLines: number;
  kedaReconciles: number;
  kedaReconcileSecondsMean: number | undefined;
  operator?: ProcessFigures & {
    requestsToReady: Record<string, number>;
    requestsToReadyTotal: number;
    requestsToReadyPerObject: number;
    writesToReady: Record<string, number>;
    writesToReadyTotal: number;
    writesToReadyPerObject: number;
    requestsToSettled: Record<string, number>;
    requestsToSettledTotal: number;
    baselineRssMiB: number;
    reconciles: number;
    reconcileSecondsMean: number | undefined;
    queueDepthPeak: number;
  };
  /**
   * CPU seconds of each process from the first apply until everything was Ready: the control plane's
   * components, KEDA's programs, the operator (its phase only), this benchmark, and the machine as a whole.
   */
  cpuSecondsToReady: Record<string, number>;
  /** The counts, every TIMELINE_INTERVAL_MS from the first apply, and KEDA's ScaledObject queue. */
  timeline: TimelinePoint[];
  /** kube-apiserver's apiserver_request_total writes of the whole phase (every client), by resource. */
  apiServerWrites: Record<string, number>;
  apiServerWritesTotal: number;
  /**
   * kube-apiserver's time from the first apply until everything was Ready, by kind of request (every
   * client; watches left out), the most time in all first: where a path's requests wait.
   */
  apiServerLatencyToReady: Record<string, LatencyRow>;
  /** The admission webhooks' time (KEDA's), by webhook, over the same span. */
  webhookLatencyToReady: Record<string, LatencyRow>;
  /** The time requests queued in API Priority and Fairness before they ran, by priority level. */
  flowControlWaitToReady: Record<string, LatencyRow>;
  /** Objects in the namespace at the end, by kind. */
  objectsAtEnd: Record<string, number>;
  loadAverage: { min: number; max: number; mean: number };
}

function spread(values: number[]): { p50: number; p90: number; p99: number; max: number } {
  return {
    p50: seconds(percentile(values, 50)),
    p90: seconds(percentile(values, 90)),
    p99: seconds(percentile(values, 99)),
    max: seconds(percentile(values, 100)),
  };
}

interface Context {
  controlPlane: ControlPlane;
  rest: KubeRestClient;
  keda: Map<KedaProgram, KedaProcess>;
  command: string[];
}

function kedaProcess(context: Context, program: KedaProgram): KedaProcess {
  const found = context.keda.get(program);
  if (found === undefined) throw new Error(`${program} not found`);
  return found;
}

async function scrapeAll(context: Context): Promise<Record<KedaProgram, MetricSample[]>> {
  const entries = await Promise.all(
    KEDA_PROGRAMS.map(
      async (program) => [program, await scrape(kedaProcess(context, program).metricsUrl)] as const,
    ),
  );
  return Object.fromEntries(entries) as Record<KedaProgram, MetricSample[]>;
}

async function countObjects(rest: KubeRestClient, namespace: string): Promise<Record<string, number>> {
  const kinds: [string, string][] = [
    ["MLAutoscalePolicy", `${POLICY_API}/namespaces/${namespace}/mlautoscalepolicies`],
    ["Deployment", `/apis/apps/v1/namespaces/${namespace}/deployments`],
    ["ScaledObject", `${KEDA_API}/namespaces/${namespace}/scaledobjects`],
    ["TriggerAuthentication", `${KEDA_API}/namespaces/${namespace}/triggerauthentications`],
    ["HorizontalPodAutoscaler", `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`],
    ["PodDisruptionBudget", `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets`],
    ["ReplicaSet", `/apis/apps/v1/namespaces/${namespace}/replicasets`],
    ["Pod", `/api/v1/namespaces/${namespace}/pods`],
  ];
  const counts: Record<string, number> = {};
  for (const [kind, path] of kinds) counts[kind] = (await list<Listed>(rest, path)).length;
  return counts;
}

/**
 * One scrape of the operator's /metrics: its requests so far (its own mlautoscale_api_requests_total) and
 * every sample (its reconciles). Nothing when it does not run (the direct path).
 */
async function operatorMetricsSoFar(
  operator: OperatorProcess | undefined,
): Promise<{ requests: RequestCounts; samples: MetricSample[] }> {
  if (operator === undefined) return { requests: new Map(), samples: [] };
  const text = await operatorMetricsText(operator.metricsUrl);
  return { requests: parseOperatorRequestTotals(text), samples: parseMetrics(text) };
}

/** The operator's name among the processes whose CPU readMachineCpu reads. */
const OPERATOR_PROCESS = "mlautoscale operator";

/**
 * CPU so far of the control plane's components (KEDA's programs among them, by the names KEDA_PROGRAMS
 * uses), the operator and the machine.
 */
function readMachineCpu(context: Context, operator: OperatorProcess | undefined): CpuReading {
  const roots = new Map(context.controlPlane.componentPids());
  if (operator !== undefined) roots.set(OPERATOR_PROCESS, operator.pid);
  return readCpu(roots, "benchmark (client, observer)");
}

async function runPhase(context: Context, path: "direct" | "operator"): Promise<PhaseResult> {
  const { controlPlane, rest } = context;
  const namespace = path === "direct" ? DIRECT_NAMESPACE : OPERATOR_NAMESPACE;
  let operator: OperatorProcess | undefined;
  let informers: SharedInformer<KubeObject>[] = [];
  let operatorBaselineRss = 0;
  const killOnExit = (): void => {
    if (operator !== undefined && operator.child.exitCode === null) operator.child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);
  try {
    if (path === "operator") {
      operator = await startOperator(controlPlane, context.command);
      await waitForLeadership(rest, operator);
      await sleep(15_000);
      operatorBaselineRss = readProcessMemory(operator.pid).rssMiB;
      log(`operator ${operator.pid} leads; RSS ${operatorBaselineRss.toFixed(1)} MiB with no policy`);
    }
    const clock = new RolloutClock();
    informers = await watchNamespace(rest, namespace, path === "operator", clock);
    const kedaOperator = kedaProcess(context, "keda-operator");
    const kedaLog = join(controlPlane.dir, "logs", "keda-operator.log");
    const throttlingBefore = countLogLines(kedaLog, "client-side throttling");
    const apiTextBefore = await apiServerMetricsText(controlPlane);
    const kedaBefore = await scrapeAll(context);
    const operatorBefore = (await operatorMetricsSoFar(operator)).requests;
    const machineBefore = readMachineCpu(context, operator);
    const cpuBefore = (name: string): number => machineBefore.processes.get(name) ?? 0;

    const applyLog: ApplyLog = {
      requests: {},
      retries: 0,
      firstErrors: [],
      sentAt: new Map(),
      durationMs: 0,
    };
    let applying = true;
    const startedAt = Date.now();
    log(
      `${path}: applying ${objectCount} ${path === "direct" ? "Deployment + ScaledObject pairs" : "policies"}`,
    );
    const applied = applyAll(objectCount, async (index) => {
      const name = objectName(index);
      if (path === "direct") {
        const pair = handWritten(index);
        applyLog.sentAt.set(name, Date.now());
        // The workload first, then its autoscaler, as the operator writes them.
        await applyObject(
          rest,
          `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
          pair.deployment,
          "deployments",
          applyLog,
        );
        await applyObject(
          rest,
          `${KEDA_API}/namespaces/${namespace}/scaledobjects/${name}`,
          pair.scaledObject,
          "scaledobjects.keda.sh",
          applyLog,
        );
      } else {
        applyLog.sentAt.set(name, Date.now());
        await applyObject(
          rest,
          `${POLICY_API}/namespaces/${namespace}/mlautoscalepolicies/${name}`,
          benchPolicy(index, namespace),
          "mlautoscalepolicies.mlautoscale.io",
          applyLog,
        );
      }
    }).then((ms) => {
      applyLog.durationMs = ms;
      applying = false;
      log(`${path}: applied in ${seconds(ms)} s`);
    });
    const observed = observe(
      clock,
      namespace,
      path === "operator",
      startedAt,
      kedaOperator,
      operator?.metricsUrl,
      () => applying,
    );
    await applied;
    const observation = await observed;
    const kedaAtReady = await scrapeAll(context);
    const apiTextAtReady = await apiServerMetricsText(controlPlane);
    const machineAtReady = readMachineCpu(context, operator);
    const cpuToReady = (name: string): number => (machineAtReady.processes.get(name) ?? 0) - cpuBefore(name);
    const { requests: operatorAtReady, samples: operatorMetricsAtReady } =
      await operatorMetricsSoFar(operator);
    // Everything was Ready when the last step was first reached for the last object (the watches' moment,
    // not the poll's that noticed it), and the last apply had returned.
    const allDoneMs = observation.timedOut
      ? undefined
      : Math.max(applyLog.durationMs, ...Object.values(observation.reachedMs));
    log(
      `${path}: everything Ready after ${allDoneMs === undefined ? "-" : seconds(allDoneMs)} s ` +
        JSON.stringify(observation.reachedMs),
    );

    // Settle: memory sampled every 5 s, the last sample reported (peak: the process's own VmHWM).
    log(`${path}: settling for ${seconds(settleMs)} s`);
    const settleUntil = Date.now() + settleMs;
    while (Date.now() < settleUntil) await sleep(Math.min(MEMORY_SAMPLE_MS, settleUntil - Date.now()));
    const kedaSettled = await scrapeAll(context);
    const apiTextAfter = await apiServerMetricsText(controlPlane);
    const operatorSettled = (await operatorMetricsSoFar(operator)).requests;

    const keda = {} as Record<KedaProgram, KedaRequestFigures & ProcessFigures>;
    for (const program of KEDA_PROGRAMS) {
      const proc = kedaProcess(context, program);
      const memory = readProcessMemory(proc.pid);
      const before = restClientRequests(kedaBefore[program]);
      const toReady = subtractRecords(restClientRequests(kedaAtReady[program]), before);
      const toSettled = subtractRecords(restClientRequests(kedaSettled[program]), before);
      keda[program] = {
        pid: proc.pid,
        rssMiB: mib(memory.rssMiB),
        peakRssMiB: mib(memory.peakRssMiB),
        cpuSecondsToReady: seconds(cpuToReady(program) * 1000),
        cpuSecondsToSettled: seconds((readProcessCpuSeconds(proc.pid) - cpuBefore(program)) * 1000),
        toReady,
        toReadyTotal: recordTotal(toReady),
        toReadyPerObject: perObject(recordTotal(toReady)),
        toSettled,
        toSettledTotal: recordTotal(toSettled),
        toSettledPerObject: perObject(recordTotal(toSettled)),
      };
    }
    const isScaledObject = (labels: Record<string, string>): boolean =>
      labels["controller"] === "scaledobject";
    const kedaReconciles =
      sumOf(kedaAtReady["keda-operator"], "controller_runtime_reconcile_total", isScaledObject) -
      sumOf(kedaBefore["keda-operator"], "controller_runtime_reconcile_total", isScaledObject);
    const kedaReconcileSeconds =
      sumOf(kedaAtReady["keda-operator"], "controller_runtime_reconcile_time_seconds_sum", isScaledObject) -
      sumOf(kedaBefore["keda-operator"], "controller_runtime_reconcile_time_seconds_sum", isScaledObject);

    const apiWrites = writesOnly(
      subtractCounts(parseApiServerRequestTotals(apiTextAfter), parseApiServerRequestTotals(apiTextBefore)),
    );
    const toReady = (parse: (text: string) => Latencies): Latencies =>
      subtractLatencies(parse(apiTextAtReady), parse(apiTextBefore));
    const clientTotal = recordTotal(applyLog.requests);
    const soReadyDelays = [...observation.soReadyAt].map(
      ([name, at]) => at - (applyLog.sentAt.get(name) ?? at),
    );
    const result: PhaseResult = {
      path,
      namespace,
      applySeconds: seconds(applyLog.durationMs),
      client: {
        requests: applyLog.requests,
        requestsTotal: clientTotal,
        perObject: perObject(clientTotal),
        retries: applyLog.retries,
        firstErrors: applyLog.firstErrors,
      },
      seconds: Object.fromEntries(
        Object.entries(observation.reachedMs).map(([key, ms]) => [key, seconds(ms)]),
      ),
      allDoneSeconds: allDoneMs === undefined ? undefined : seconds(allDoneMs),
      perObjectSoReadySeconds: spread(soReadyDelays),
      finalProgress: observation.progress,
      timedOut: observation.timedOut,
      keda,
      kedaRequestRatePeakPerSecond: Math.round(observation.kedaRequestRatePeak * 10) / 10,
      kedaActiveWorkersPeak: observation.kedaActiveWorkersPeak,
      kedaQueueDepthPeak: observation.kedaQueueDepthPeak,
      kedaThrottlingLogLines: countLogLines(kedaLog, "client-side throttling") - throttlingBefore,
      kedaReconciles,
      kedaReconcileSecondsMean:
        kedaReconciles > 0 ? Math.round((kedaReconcileSeconds / kedaReconciles) * 1000) / 1000 : undefined,
      apiServerWrites: Object.fromEntries(sortedEntries(apiWrites)),
      apiServerWritesTotal: totalOf(apiWrites),
      apiServerLatencyToReady: latencySummary(toReady(parseApiServerLatencies), LATENCY_ROWS),
      webhookLatencyToReady: latencySummary(toReady(parseWebhookLatencies), LATENCY_ROWS),
      flowControlWaitToReady: latencySummary(toReady(parseFlowControlWaits), LATENCY_ROWS),
      cpuSecondsToReady: cpuSpent(machineBefore, machineAtReady),
      timeline: observation.timeline,
      objectsAtEnd: await countObjects(rest, namespace),
      loadAverage: {
        min: Math.round(Math.min(...observation.loadAverages) * 10) / 10,
        max: Math.round(Math.max(...observation.loadAverages) * 10) / 10,
        mean:
          Math.round(
            (observation.loadAverages.reduce((a, b) => a + b, 0) /
              Math.max(1, observation.loadAverages.length)) *
              10,
          ) / 10,
      },
    };
    if (path === "operator" && operator !== undefined) {
      const policyDelays = [...observation.policyReadyAt].map(
        ([name, at]) => at - (applyLog.sentAt.get(name) ?? at),
      );
      result.perPolicyReadySeconds = spread(policyDelays);
      const memory = readProcessMemory(operator.pid);
      const toReady = subtractCounts(operatorAtReady, operatorBefore);
      const writes = writesOnly(toReady);
      const toSettled = subtractCounts(operatorSettled, operatorBefore);
      const reconciles = sumOf(operatorMetricsAtReady, "controller_runtime_reconcile_total");
      const reconcileSeconds = sumOf(operatorMetricsAtReady, "controller_runtime_reconcile_time_seconds_sum");
      result.operator = {
        pid: operator.pid,
        rssMiB: mib(memory.rssMiB),
        peakRssMiB: mib(memory.peakRssMiB),
        baselineRssMiB: mib(operatorBaselineRss),
        cpuSecondsToReady: seconds(cpuToReady(OPERATOR_PROCESS) * 1000),
        cpuSecondsToSettled: seconds(
          (readProcessCpuSeconds(operator.pid) - cpuBefore(OPERATOR_PROCESS)) * 1000,
        ),
        requestsToReady: Object.fromEntries(sortedEntries(toReady)),
        requestsToReadyTotal: totalOf(toReady),
        requestsToReadyPerObject: perObject(totalOf(toReady)),
        writesToReady: Object.fromEntries(sortedEntries(writes)),
        writesToReadyTotal: totalOf(writes),
        writesToReadyPerObject: perObject(totalOf(writes)),
        requestsToSettled: Object.fromEntries(sortedEntries(toSettled)),
        requestsToSettledTotal: totalOf(toSettled),
        reconciles,
        reconcileSecondsMean:
          reconciles > 0 ? Math.round((reconcileSeconds / reconciles) * 1000) / 1000 : undefined,
        queueDepthPeak: observation.operatorQueueDepthPeak,
      };
    }
    return result;
  } finally {
    // The operator is left running only for its own phase: the other phase is KEDA alone.
    if (operator !== undefined) await stopOperator(operator);
    await Promise.all(informers.map((informer) => informer.stop()));
    process.off("exit", killOnExit);
  }
}

// ---------------------------------------------------------------------------------------------------
// between the phases

interface Interlude {
  namespace: string;
  deleteSeconds: number;
  kedaQueueEmptySeconds: number;
  kedaRequests: Record<string, number>;
  kedaRssAfterMiB: number;
}

/**
 * Deletes the first phase's namespace and waits until it is gone and KEDA's ScaledObject queue is empty,
 * then 30 s more: each active cpu ScaledObject left in place would cost KEDA a status patch of
 * lastActiveTime every polling interval (30 s), charged to the second phase.
 */
async function deleteFirstPhase(context: Context, namespace: string): Promise<Interlude> {
  const { rest } = context;
  const keda = kedaProcess(context, "keda-operator");
  const before = restClientRequests(await scrape(keda.metricsUrl));
  const startedAt = Date.now();
  log(`deleting namespace ${namespace} and waiting for KEDA to finish with it`);
  await rest.request("DELETE", `/api/v1/namespaces/${namespace}`);
  for (;;) {
    try {
      await rest.request("GET", `/api/v1/namespaces/${namespace}`);
    } catch {
      break;
    }
    if (Date.now() - startedAt > readyTimeoutMs) throw new Error(`namespace ${namespace} was not deleted`);
    await sleep(POLL_INTERVAL_MS);
  }
  const deletedAt = Date.now();
  for (;;) {
    const samples = await scrape(keda.metricsUrl);
    const depth = sumOf(
      samples,
      "workqueue_depth",
      (l) => l["name"] === "scaledobject" || l["controller"] === "scaledobject",
    );
    const active = sumOf(
      samples,
      "controller_runtime_active_workers",
      (l) => l["controller"] === "scaledobject",
    );
    if (depth === 0 && active === 0) break;
    await sleep(POLL_INTERVAL_MS);
  }
  const emptyAt = Date.now();
  await sleep(30_000);
  const after = restClientRequests(await scrape(keda.metricsUrl));
  return {
    namespace,
    deleteSeconds: seconds(deletedAt - startedAt),
    kedaQueueEmptySeconds: seconds(emptyAt - startedAt),
    kedaRequests: subtractRecords(after, before),
    kedaRssAfterMiB: mib(readProcessMemory(keda.pid).rssMiB),
  };
}

// ---------------------------------------------------------------------------------------------------
// the run

async function main(): Promise<void> {
  const profileDir = flags["operator-cpu-profile-dir"];
  const command = [
    ...imageNodeFlags(),
    ...(profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]),
    compileOperator(log),
  ];
  log(`starting the e2e control plane with KEDA${flags.loop ? " and the scaling loop" : ""}`);
  const controlPlane = await startControlPlane({
    profile: "e2e",
    keda: true,
    loop: flags.loop,
    ...(kedaClient.setByBenchmark && {
      kedaOperatorArgs: [`--kube-api-qps=${kedaClient.qps}`, `--kube-api-burst=${kedaClient.burst}`],
    }),
    ...(controllerManagerClient !== undefined && {
      controllerManagerArgs: [
        `--kube-api-qps=${controllerManagerClient.qps}`,
        `--kube-api-burst=${controllerManagerClient.burst}`,
      ],
    }),
  });
  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    const rest = new KubeRestClient(kubeConfig);
    const version = await rest.request<{ gitVersion?: string }>("GET", "/version");
    const nodeCount = Math.ceil((2 * objectCount) / PODS_PER_BENCH_NODE) + 1;
    log(`adding ${nodeCount} nodes of ${PODS_PER_BENCH_NODE} pods`);
    await createBenchNodes(rest, nodeCount);
    for (const name of [DIRECT_NAMESPACE, OPERATOR_NAMESPACE]) {
      await rest.request("POST", "/api/v1/namespaces", {
        body: { apiVersion: "v1", kind: "Namespace", metadata: { name } },
      });
    }
    const keda = findKedaProcesses(controlPlane);
    const context: Context = {
      controlPlane,
      rest,
      keda,
      command,
    };
    await sleep(15_000);
    const kedaIdle = Object.fromEntries(
      KEDA_PROGRAMS.map((program) => {
        const memory = readProcessMemory(kedaProcess(context, program).pid);
        return [program, { rssMiB: mib(memory.rssMiB), peakRssMiB: mib(memory.peakRssMiB) }];
      }),
    );
    log(`KEDA idle: ${JSON.stringify(kedaIdle)}`);

    const phases: PhaseResult[] = [];
    let interlude: Interlude | undefined;
    const paths =
      order === "direct-first" ? (["direct", "operator"] as const) : (["operator", "direct"] as const);
    for (const [i, path] of paths.entries()) {
      if (i > 0 && between === "delete") {
        interlude = await deleteFirstPhase(context, phases[0]?.namespace ?? "");
      }
      phases.push(await runPhase(context, path));
    }
    const direct = phases.find((p) => p.path === "direct");
    const viaOperator = phases.find((p) => p.path === "operator");
    if (direct === undefined || viaOperator === undefined) throw new Error("a phase is missing");

    const kedaBinary = kedaProcess(context, "keda-operator").binary;
    const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
      a === undefined || b === undefined || b === 0 ? undefined : Math.round((a / b) * 100) / 100;
    const operatorTotalRequests =
      (viaOperator.operator?.requestsToReadyTotal ?? 0) + viaOperator.client.requestsTotal;
    const kedaOperatorRequests = (phase: PhaseResult): number => phase.keda["keda-operator"].toReadyTotal;
    const results = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        kernel: release(),
        node: process.version,
        loadAverageAtStart: loadavg(),
      },
      versions: {
        kubernetes: version.gitVersion,
        keda: /keda-(v[\d.]+)/.exec(kedaBinary)?.[1] ?? kedaBinary,
        kedaDefaults: {
          scaledObjectMaxConcurrentReconciles: 5,
          clientQps: 20,
          clientBurst: 30,
          source: "github.com/kedacore/keda/v2@v2.20.2 cmd/operator/main.go:107-108,187-188,229,286",
        },
        kedaClient,
        controllerManagerClient: controllerManagerClient ?? { qps: 20, burst: 30, setByBenchmark: false },
        operator: { workers: operatorDefaults.workers, clientRateLimit: "none" },
      },
      parameters: {
        objects: objectCount,
        order,
        applyConcurrency,
        settleSeconds: settleMs / 1000,
        pollIntervalSeconds: POLL_INTERVAL_MS / 1000,
        scalingLoop: flags.loop,
        benchNodes: nodeCount,
        policy: benchPolicy(0, OPERATOR_NAMESPACE),
        handWritten: handWritten(0),
      },
      kedaIdle,
      between: {
        mode: between,
        why:
          between === "delete"
            ? "every active cpu ScaledObject costs KEDA a status write per polling interval (lastActiveTime), so the first phase's objects are deleted, and KEDA left idle, before the second phase starts"
            : "the first phase's objects stay: the second phase shares KEDA with them",
        interlude,
      },
      phases,
      comparison: {
        directAllScaledObjectsReadyAndHpasSeconds: direct.allDoneSeconds,
        operatorAllPoliciesReadySeconds: viaOperator.seconds.policiesReady,
        operatorAllScaledObjectsReadySeconds: viaOperator.seconds.scaledObjectsReady,
        operatorAllHpasSeconds: viaOperator.seconds.hpas,
        operatorAllDoneSeconds: viaOperator.allDoneSeconds,
        timeRatioOperatorOverDirect: ratio(viaOperator.allDoneSeconds, direct.allDoneSeconds),
        scaledObjectsReadyRatioOperatorOverDirect: ratio(
          viaOperator.seconds.scaledObjectsReady,
          direct.seconds.scaledObjectsReady,
        ),
        requestsPerObject: {
          operatorPathOperator: viaOperator.operator?.requestsToReadyPerObject,
          operatorPathClient: viaOperator.client.perObject,
          operatorPathKedaOperator: viaOperator.keda["keda-operator"].toReadyPerObject,
          directPathClient: direct.client.perObject,
          directPathKedaOperator: direct.keda["keda-operator"].toReadyPerObject,
          operatorPathTotal: perObject(operatorTotalRequests + kedaOperatorRequests(viaOperator)),
          directPathTotal: perObject(direct.client.requestsTotal + kedaOperatorRequests(direct)),
        },
        memory: {
          operatorRssMiB: viaOperator.operator?.rssMiB,
          operatorPeakRssMiB: viaOperator.operator?.peakRssMiB,
          kedaOperatorRssAfterDirectMiB: direct.keda["keda-operator"].rssMiB,
          kedaOperatorRssAfterOperatorMiB: viaOperator.keda["keda-operator"].rssMiB,
          operatorOverKedaOperator: ratio(
            viaOperator.operator?.rssMiB,
            viaOperator.keda["keda-operator"].rssMiB,
          ),
        },
      },
      totalSeconds: seconds(Date.now() - benchStart),
    };
    mkdirSync(join(repoRoot, "bench", "results"), { recursive: true });
    writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
    printSummary(direct, viaOperator, results.comparison.timeRatioOperatorOverDirect);
    console.log(`\nwritten to ${resultsPath}`);
  } finally {
    await controlPlane.stop();
  }
}

function printSummary(direct: PhaseResult, viaOperator: PhaseResult, timeRatio: number | undefined): void {
  const row = (label: string, a: string, b: string): void =>
    console.log(`  ${label.padEnd(58)} ${a.padStart(16)} ${b.padStart(16)}`);
  const s = (value: number | undefined): string => (value === undefined ? "-" : `${value} s`);
  const n = (value: number | undefined): string => (value === undefined ? "-" : String(value));
  console.log(
    `\n${objectCount} objects, ${order}, first phase's objects: ${between === "delete" ? "deleted before the second" : "kept"}`,
  );
  row("", "straight to KEDA", "via mlautoscale");
  row("applying", s(direct.applySeconds), s(viaOperator.applySeconds));
  row(
    "first apply -> all ScaledObjects exist",
    s(direct.seconds.scaledObjects),
    s(viaOperator.seconds.scaledObjects),
  );
  row(
    "first apply -> all ScaledObjects Ready (KEDA)",
    s(direct.seconds.scaledObjectsReady),
    s(viaOperator.seconds.scaledObjectsReady),
  );
  row("first apply -> all KEDA HPAs created", s(direct.seconds.hpas), s(viaOperator.seconds.hpas));
  row(
    "first apply -> all Deployments available",
    s(direct.seconds.deploymentsAvailable),
    s(viaOperator.seconds.deploymentsAvailable),
  );
  row("first apply -> all policies Reconciled", "-", s(viaOperator.seconds.policiesReconciled));
  row("first apply -> all policies Ready", "-", s(viaOperator.seconds.policiesReady));
  row("first apply -> all policies ScalingActive", "-", s(viaOperator.seconds.policiesScalingActive));
  row("first apply -> everything above", s(direct.allDoneSeconds), s(viaOperator.allDoneSeconds));
  const p = (x: { p50: number; p90: number; max: number }): string => `${x.p50}/${x.p90}/${x.max} s`;
  row(
    "per object, apply -> ScaledObject Ready (p50/p90/max)",
    p(direct.perObjectSoReadySeconds),
    p(viaOperator.perObjectSoReadySeconds),
  );
  row(
    "client requests per object (applies, retries)",
    n(direct.client.perObject),
    n(viaOperator.client.perObject),
  );
  row(
    "mlautoscale operator requests per object (to Ready)",
    "-",
    n(viaOperator.operator?.requestsToReadyPerObject),
  );
  row(
    "mlautoscale operator writes per object (to Ready)",
    "-",
    n(viaOperator.operator?.writesToReadyPerObject),
  );
  row(
    "keda-operator requests per object (to Ready)",
    n(direct.keda["keda-operator"].toReadyPerObject),
    n(viaOperator.keda["keda-operator"].toReadyPerObject),
  );
  row(
    `keda-operator peak request rate (req/s, QPS limit ${kedaClient.qps})`,
    n(direct.kedaRequestRatePeakPerSecond),
    n(viaOperator.kedaRequestRatePeakPerSecond),
  );
  row(
    "keda-operator client-side throttling log lines",
    n(direct.kedaThrottlingLogLines),
    n(viaOperator.kedaThrottlingLogLines),
  );
  row(
    "keda-operator active reconcile workers, peak (of 5)",
    n(direct.kedaActiveWorkersPeak),
    n(viaOperator.kedaActiveWorkersPeak),
  );
  row(
    "keda-webhooks requests per object",
    n(direct.keda["keda-webhooks"].toReadyPerObject),
    n(viaOperator.keda["keda-webhooks"].toReadyPerObject),
  );
  row(
    "keda-adapter requests per object",
    n(direct.keda["keda-adapter"].toReadyPerObject),
    n(viaOperator.keda["keda-adapter"].toReadyPerObject),
  );
  row(
    "mlautoscale operator RSS (peak) after settle",
    "-",
    `${viaOperator.operator?.rssMiB ?? "-"} (${viaOperator.operator?.peakRssMiB ?? "-"}) MiB`,
  );
  for (const program of KEDA_PROGRAMS) {
    row(
      `${program} RSS (peak) after settle`,
      `${direct.keda[program].rssMiB} (${direct.keda[program].peakRssMiB}) MiB`,
      `${viaOperator.keda[program].rssMiB} (${viaOperator.keda[program].peakRssMiB}) MiB`,
    );
  }
  // The operator path's processes in its order (most CPU first, then the sums), with the direct path beside.
  for (const name of Object.keys(viaOperator.cpuSecondsToReady)) {
    row(`CPU to Ready: ${name}`, s(direct.cpuSecondsToReady[name]), s(viaOperator.cpuSecondsToReady[name]));
  }
  row("objects in the namespace at the end", JSON.stringify(direct.objectsAtEnd), "");
  row("", "", JSON.stringify(viaOperator.objectsAtEnd));
  // Where kube-apiserver's time went: the kinds of request that took the most on the operator path, with
  // the direct path's figures for the same kinds (count, mean latency).
  const latency = (rows: Record<string, LatencyRow>, key: string): string => {
    const found = rows[key];
    return found === undefined ? "-" : `${found.count} x ${found.meanMs} ms`;
  };
  for (const key of Object.keys(viaOperator.apiServerLatencyToReady).slice(0, 8)) {
    row(
      `API latency to Ready: ${key}`,
      latency(direct.apiServerLatencyToReady, key),
      latency(viaOperator.apiServerLatencyToReady, key),
    );
  }
  for (const key of Object.keys(viaOperator.webhookLatencyToReady)) {
    row(
      `webhook latency to Ready: ${key}`,
      latency(direct.webhookLatencyToReady, key),
      latency(viaOperator.webhookLatencyToReady, key),
    );
  }
  row(
    "load average during the phase (min/mean/max)",
    `${direct.loadAverage.min}/${direct.loadAverage.mean}/${direct.loadAverage.max}`,
    `${viaOperator.loadAverage.min}/${viaOperator.loadAverage.mean}/${viaOperator.loadAverage.max}`,
  );
  console.log(`\n  time ratio, via mlautoscale / straight to KEDA (everything Ready): ${timeRatio ?? "-"}`);
}

await main();
