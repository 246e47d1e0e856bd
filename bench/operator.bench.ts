// The operator against a local e2e control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, KWOK; with --loop also KEDA and the scaling loop): time for 1,000 policies to become
// Ready and the CPU each process spent until they were all Reconciled, API writes in steady state, and the
// operator's resident memory at 1,000 and 5,000 policies. Method and figures: docs/benchmarks.md.
//
// Run: npx tsx bench/operator.bench.ts [--policies 1000] [--steady-seconds 300] [--rss-policies 1000,5000]
//        [--namespaces 1] [--apply parallel|kubectl] [--operator-runtime compiled|tsx] [--loop]
//        [--ready-timeout-seconds 1800] [--operator-args "--workers=16 ..."]
//        [--operator-node-args="--cpu-prof --cpu-prof-dir=DIR"] [--operator-log FILE]
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { startControlPlane, type ControlPlane } from "../dev/controlplane/index.js";
import { KubeRestClient } from "../src/runtime/rest.js";
import { compileOperator, createBenchNodes, imageNodeFlags, PODS_PER_BENCH_NODE } from "./operator/setup.js";
import { readProcessCpuSeconds, readProcessMemory, type ProcessMemory } from "./operator/process-memory.js";
import { ConditionClock } from "./operator/condition-clock.js";
import { referenceWorkMs } from "./operator/cpu-reference.js";
import { operatorMetricsText, operatorRequestCounts } from "./operator/operator-metrics.js";
import { cpuSpent, readCpu, type CpuReading } from "./operator/machine-cpu.js";
import { percentile, progressOf, secondsToReady, type ListedPolicy } from "./operator/readiness.js";
import {
  parseApiServerRequestTotals,
  parseOperatorRequestTotals,
  parseReconcileTotal,
  sortedEntries,
  splitKey,
  subtractCounts,
  totalOf,
  writesOnly,
  type RequestCounts,
} from "./operator/request-counts.js";

const execFileAsync = promisify(execFile);
const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const resultsPath = join(repoRoot, "bench", "results", "operator.json");

const POLICY_API = "/apis/mlautoscale.io/v1alpha1";
const LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/default/leases/mlautoscale-operator";
/** Pods one bench node takes; enough nodes are added that scheduling is never short of room. */
const POLL_INTERVAL_MS = 2_000;
/** After the last policy is reconciled, how long memory is sampled before it is reported. */
const MEMORY_SETTLE_MS = 60_000;
const BENCH_FIELD_MANAGER = "mlautoscale-bench";
/** Server-side applies in flight at once (--apply parallel). */
const APPLY_CONCURRENCY = 16;

const { values: flags } = parseArgs({
  options: {
    policies: { type: "string", default: "1000" },
    "steady-seconds": { type: "string", default: "300" },
    "rss-policies": { type: "string", default: "1000,5000" },
    namespaces: { type: "string", default: "1" },
    "operator-runtime": { type: "string", default: "compiled" },
    "ready-timeout-seconds": { type: "string", default: "1800" },
    apply: { type: "string", default: "parallel" },
    "operator-args": { type: "string", default: "" },
    "operator-node-args": { type: "string", default: "" },
    "operator-log": { type: "string", default: "" },
    loop: { type: "boolean", default: false },
  },
  strict: true,
});

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const rolloutPolicies = positiveInteger("policies", flags.policies);
const steadySeconds = positiveInteger("steady-seconds", flags["steady-seconds"]);
const namespaceCount = positiveInteger("namespaces", flags.namespaces);
const readyTimeoutMs = positiveInteger("ready-timeout-seconds", flags["ready-timeout-seconds"]) * 1000;
const rssPolicies = flags["rss-policies"]
  .split(",")
  .filter((s) => s.trim().length > 0)
  .map((s) => positiveInteger("rss-policies", s.trim()));
const operatorRuntime = flags["operator-runtime"];
if (operatorRuntime !== "compiled" && operatorRuntime !== "tsx") {
  throw new Error("--operator-runtime must be compiled or tsx");
}
/** Extra flags for the operator (e.g. --workers=16), recorded with the results. */
const operatorArgs = flags["operator-args"].split(/\s+/).filter((arg) => arg.length > 0);
/** Flags for the operator's Node.js (e.g. --cpu-prof --cpu-prof-dir=DIR), recorded with the results. */
const operatorNodeArgs = flags["operator-node-args"].split(/\s+/).filter((arg) => arg.length > 0);
const applyMethod = flags.apply;
if (applyMethod !== "parallel" && applyMethod !== "kubectl")
  throw new Error("--apply must be parallel or kubectl");
/** Policy counts to reach, in order: the roll-out count, then each memory point. */
const stages = [...new Set([rolloutPolicies, ...rssPolicies])].sort((a, b) => a - b);
const applyDescription =
  applyMethod === "kubectl"
    ? "kubectl apply --server-side of one multi-document file"
    : `server-side apply of each policy, ${APPLY_CONCURRENCY} requests in flight`;
const maxPolicies = stages.at(-1) ?? rolloutPolicies;

const benchStart = Date.now();
function log(message: string): void {
  console.error(`[${((Date.now() - benchStart) / 1000).toFixed(0).padStart(5)} s] ${message}`);
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number): number => Math.round(ms / 100) / 10;
const secondsOrUndefined = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : seconds(ms);

/**
 * Node's arguments: the image's flags, then --operator-node-args (which may override them), then the
 * operator's entry point: tsc output (as the container image runs it) or the sources through tsx.
 */
function operatorCommand(): string[] {
  const flags = [...imageNodeFlags(), ...operatorNodeArgs];
  if (operatorRuntime === "tsx") return [...flags, "--import", "tsx", join(repoRoot, "src", "cli.ts")];
  return [...flags, compileOperator(log)];
}

function policyName(index: number): string {
  return `bench-${String(index).padStart(5, "0")}`;
}

function namespaceOf(index: number): string {
  return `bench-${index % namespaceCount}`;
}

/** A CPU-only policy: one small replica, HPA on CPU, the default PDB. */
function benchPolicy(index: number): object {
  return {
    apiVersion: "mlautoscale.io/v1alpha1",
    kind: "MLAutoscalePolicy",
    metadata: { name: policyName(index), namespace: namespaceOf(index) },
    spec: {
      workload: {
        template: {
          image: "registry.example.com/ml/model-server:1.0.0",
          resources: { requests: { cpu: "10m", memory: "32Mi" } },
        },
      },
      replicas: { min: 1, max: 2 },
      scaling: { metrics: { cpu: { targetUtilization: 70 } } },
    },
  };
}

async function kubectl(controlPlane: ControlPlane, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    join(controlPlane.binDir, "kubectl"),
    [`--kubeconfig=${controlPlane.kubeconfigPath}`, ...args],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  return stdout;
}

async function apiServerRequestTotals(controlPlane: ControlPlane): Promise<RequestCounts> {
  return parseApiServerRequestTotals(await kubectl(controlPlane, ["get", "--raw", "/metrics"]));
}

async function listPolicies(rest: KubeRestClient): Promise<ListedPolicy[]> {
  const list = await rest.request<{ items?: ListedPolicy[] }>("GET", `${POLICY_API}/mlautoscalepolicies`);
  return list.items ?? [];
}

interface RolloutTimes {
  allReconciledMs: number | undefined;
  allReadyMs: number | undefined;
  policies: ListedPolicy[];
  /** When half, 90 % and 99 % of the `expected` policies were Reconciled. */
  reconciledByShareMs: { p50?: number; p90?: number; p99?: number };
}

/**
 * Watches every policy from now on and records in `clock` when each first shows Reconciled and Ready;
 * calls `onChange` after each event. A watch the server ends is opened again after a fresh list. Runs
 * until `signal` aborts.
 */
async function watchPolicies(
  rest: KubeRestClient,
  clock: ConditionClock,
  onChange: () => void,
  signal: AbortSignal,
): Promise<void> {
  const path = `${POLICY_API}/mlautoscalepolicies`;
  while (!signal.aborted) {
    try {
      const list = await rest.request<{ metadata?: { resourceVersion?: string }; items?: ListedPolicy[] }>(
        "GET",
        path,
        { signal },
      );
      const listedAt = Date.now();
      for (const policy of list.items ?? []) clock.observe(policy, listedAt);
      onChange();
      await rest.watch(
        path,
        { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 3600 },
        (event) => {
          if (event.type !== "ADDED" && event.type !== "MODIFIED") return;
          clock.observe(event.object, Date.now());
          onChange();
        },
        signal,
      );
    } catch (error) {
      if (signal.aborted) return;
      log(`policy watch: ${error instanceof Error ? error.message : String(error)}; watching again`);
      await sleep(1_000);
    }
  }
}

/**
 * Waits until `expected` policies are Ready (or only Reconciled, when `untilReady` is false) and calls
 * `onAllReconciled` the moment they first all are Reconciled. A watch times each policy's conditions
 * as its status is written; a list every few seconds reports progress, and decides the end should the
 * watch have missed a policy.
 */
async function waitForPolicies(
  rest: KubeRestClient,
  operator: OperatorProcess,
  expected: number,
  startedAt: number,
  untilReady: boolean,
  applying: Promise<unknown>,
  onAllReconciled: () => void = () => undefined,
): Promise<RolloutTimes> {
  const clock = new ConditionClock();
  const stopWatch = new AbortController();
  let reconciledNoticed = false;
  const noticeAllReconciled = (): void => {
    if (reconciledNoticed) return;
    reconciledNoticed = true;
    onAllReconciled();
  };
  const watching = watchPolicies(
    rest,
    clock,
    () => {
      if (clock.counts().reconciled >= expected) noticeAllReconciled();
    },
    stopWatch.signal,
  );
  try {
    await applying;
    let lastLog = 0;
    for (;;) {
      assertOperatorRunning(operator);
      const policies = await listPolicies(rest);
      const progress = progressOf(policies);
      const now = Date.now();
      for (const policy of policies) clock.observe(policy, now);
      if (progress.reconciled >= expected) noticeAllReconciled();
      const sinceStart = (time: number | undefined): number | undefined =>
        time === undefined ? undefined : time - startedAt;
      const allReconciledMs = sinceStart(clock.reconciledBy(expected));
      const done = progress.ready >= expected || (!untilReady && allReconciledMs !== undefined);
      if (done) {
        const reconciledShare = (share: number): number | undefined =>
          sinceStart(clock.reconciledBy(Math.ceil(expected * share)));
        return {
          allReconciledMs,
          allReadyMs: progress.ready >= expected ? (clock.readyBy(expected) ?? now) - startedAt : undefined,
          policies,
          reconciledByShareMs: {
            p50: reconciledShare(0.5),
            p90: reconciledShare(0.9),
            p99: reconciledShare(0.99),
          },
        };
      }
      if (now - lastLog > 15_000) {
        log(
          `policies ${progress.total}/${expected}, Reconciled ${progress.reconciled}, Ready ${progress.ready}`,
        );
        lastLog = now;
      }
      if (now - startedAt > readyTimeoutMs) {
        throw new Error(
          `after ${seconds(now - startedAt)} s only ${progress.reconciled} Reconciled and ${progress.ready} Ready of ${expected}`,
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }
  } finally {
    stopWatch.abort();
    await watching;
  }
}

/** Server-side applies policies `from`..`to - 1`; returns how long it took. */
async function applyPolicies(
  controlPlane: ControlPlane,
  rest: KubeRestClient,
  from: number,
  to: number,
): Promise<number> {
  const startedAt = Date.now();
  if (applyMethod === "kubectl") {
    const file = join(controlPlane.dir, `policies-${from}-${to}.yaml`);
    const documents: string[] = [];
    for (let i = from; i < to; i++) documents.push(stringify(benchPolicy(i)));
    writeFileSync(file, documents.join("---\n"));
    await kubectl(controlPlane, [
      "apply",
      "--server-side",
      `--field-manager=${BENCH_FIELD_MANAGER}`,
      "-f",
      file,
    ]);
    return Date.now() - startedAt;
  }
  // The request kubectl apply --server-side sends for each object, APPLY_CONCURRENCY at a time.
  let next = from;
  const applyOne = async (): Promise<void> => {
    while (next < to) {
      const index = next++;
      await rest.request(
        "PATCH",
        `${POLICY_API}/namespaces/${namespaceOf(index)}/mlautoscalepolicies/${policyName(index)}`,
        {
          query: { fieldManager: BENCH_FIELD_MANAGER, force: true },
          contentType: "application/apply-patch+yaml",
          body: benchPolicy(index),
        },
      );
    }
  };
  await Promise.all(Array.from({ length: APPLY_CONCURRENCY }, applyOne));
  return Date.now() - startedAt;
}

interface OperatorProcess {
  child: ChildProcess;
  pid: number;
  logPath: string;
  /** Its /metrics on 127.0.0.1. */
  metricsPort: number;
}

/** A port free on loopback now, for the operator's /metrics. */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The requests the operator has sent so far, by verb and resource, from its own
 * mlautoscale_api_requests_total (a counter its API client keeps, named as kube-apiserver names them).
 */
async function requestsSoFar(operator: OperatorProcess): Promise<RequestCounts> {
  return operatorRequestCounts(metricsUrl(operator));
}

/**
 * One scrape of the operator's /metrics: its requests as requestsSoFar gives them, and the
 * reconciles it has run so far, whatever their result (controller_runtime_reconcile_total).
 */
async function operatorCounts(operator: OperatorProcess): Promise<OperatorCounts> {
  const text = await operatorMetricsText(metricsUrl(operator));
  return { requests: parseOperatorRequestTotals(text), reconciles: parseReconcileTotal(text) };
}

interface OperatorCounts {
  requests: RequestCounts;
  reconciles: number;
}

function metricsUrl(operator: OperatorProcess): string {
  return `http://127.0.0.1:${operator.metricsPort}/metrics`;
}

function startOperator(controlPlane: ControlPlane, metricsPort: number, command: string[]): OperatorProcess {
  const logPath = flags["operator-log"] || join(controlPlane.dir, "logs", "operator.log");
  const logFd = openSync(logPath, "a");
  const child = spawn(
    process.execPath,
    [
      ...command,
      "operator",
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      "--leader-elect=true",
      "--leader-election-namespace=default",
      "--bind-address=127.0.0.1",
      `--metrics-port=${metricsPort}`,
      ...operatorArgs,
    ],
    { cwd: repoRoot, stdio: ["ignore", logFd, logFd], env: { ...process.env, KUBECONFIG: "" } },
  );
  closeSync(logFd);
  if (child.pid === undefined) throw new Error("the operator did not start");
  return { child, pid: child.pid, logPath, metricsPort };
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
      const lease = await rest.request<{ spec?: { holderIdentity?: string } }>("GET", LEASE_PATH);
      if ((lease.spec?.holderIdentity ?? "") !== "") return;
    } catch {
      // Not created yet.
    }
    if (Date.now() > deadline) throw new Error("the operator took no lease within 120 s");
    await sleep(500);
  }
}

/** Samples memory for `durationMs`; returns the last sample (the peak is the process's own VmHWM). */
async function settledMemory(operator: OperatorProcess, durationMs: number): Promise<ProcessMemory> {
  const deadline = Date.now() + durationMs;
  let memory = readProcessMemory(operator.pid);
  while (Date.now() < deadline) {
    await sleep(5_000);
    assertOperatorRunning(operator);
    memory = readProcessMemory(operator.pid);
  }
  return memory;
}

function assertOperatorRunning(operator: OperatorProcess): void {
  if (operator.child.exitCode === null && operator.child.signalCode === null) return;
  throw new Error(
    `the operator exited (${operator.child.exitCode ?? operator.child.signalCode ?? ""}):\n` +
      readFileSync(operator.logPath, "utf8").slice(-3000),
  );
}

function countsObject(counts: RequestCounts): Record<string, number> {
  return Object.fromEntries(sortedEntries(counts));
}

/**
 * CPU seconds so far of each process on the roll-out's path: the control plane's components (with what
 * they started), the operator, and this benchmark (the applying client, the policy watch and lists).
 */
function processCpuSeconds(controlPlane: ControlPlane, operator: OperatorProcess): CpuReading {
  return readCpu(
    new Map([...controlPlane.componentPids(), ["mlautoscale operator", operator.pid]]),
    "benchmark (client, watch)",
  );
}

function isOperatorLease(key: string): boolean {
  return splitKey(key).resource === "leases.coordination.k8s.io";
}

interface MemoryPoint {
  policies: number;
  rssMiB: number;
  peakRssMiB: number;
  applySeconds: number;
  allReconciledSeconds: number | undefined;
  readyWhenSampled: number;
  /** CPU the operator used from the first apply of this stage until all its policies were reconciled. */
  operatorCpuSeconds: number;
}

async function main(): Promise<void> {
  const command = operatorCommand();
  log("starting the e2e control plane");
  const controlPlaneStartedAt = Date.now();
  const controlPlane = await startControlPlane({ profile: "e2e", keda: flags.loop, loop: flags.loop });
  const controlPlaneSeconds = seconds(Date.now() - controlPlaneStartedAt);
  let operator: OperatorProcess | undefined;
  const killOperatorOnExit = (): void => {
    if (operator !== undefined && operator.child.exitCode === null) operator.child.kill("SIGKILL");
  };
  process.on("exit", killOperatorOnExit);
  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    const rest = new KubeRestClient(kubeConfig);

    const nodeCount = Math.ceil(maxPolicies / PODS_PER_BENCH_NODE) + 1;
    log(
      `control plane ready in ${controlPlaneSeconds} s; adding ${nodeCount} nodes of ${PODS_PER_BENCH_NODE} pods`,
    );
    await createBenchNodes(rest, nodeCount);
    for (let i = 0; i < Math.min(namespaceCount, maxPolicies); i++) {
      await rest.request("POST", "/api/v1/namespaces", {
        body: { apiVersion: "v1", kind: "Namespace", metadata: { name: `bench-${i}` } },
      });
    }

    operator = startOperator(controlPlane, await freeLoopbackPort(), command);
    await waitForLeadership(rest, operator);
    const baseline = await settledMemory(operator, 15_000);
    log(`operator ${operator.pid} leads; RSS ${baseline.rssMiB.toFixed(1)} MiB with no policy`);
    const cpuReferenceMs: CpuReference = {
      beforeRollout: referenceWorkMs(),
    };
    log(`reference work on one core: ${cpuReferenceMs.beforeRollout} ms`);

    let created = 0;
    let rollout:
      | {
          policies: number;
          applySeconds: number;
          allReconciledSeconds: number | undefined;
          allReadySeconds: number | undefined;
          reconciledSeconds: { p50: number | undefined; p90: number | undefined; p99: number | undefined };
          secondsToReady: { p50: number; p90: number; p99: number; max: number };
          operatorWrites: Record<string, number>;
          operatorWritesToAllReconciled: Record<string, number>;
          operatorCpuSeconds: number;
          cpuSecondsToAllReconciled: Record<string, number>;
          reconcilesToAllReconciled: number;
        }
      | undefined;
    let steady:
      | {
          seconds: number;
          operatorWrites: Record<string, number>;
          operatorWritesTotal: number;
          operatorWritesBesidesLease: number;
          controlPlaneWrites: Record<string, number>;
          controlPlaneWritesTotal: number;
          operatorReads: Record<string, number>;
          operatorCpuSeconds: number;
        }
      | undefined;
    const memory: MemoryPoint[] = [];

    for (const target of stages) {
      const isRollout = target === rolloutPolicies;
      const operatorBefore = await operatorCounts(operator);
      log(`applying policies ${created}..${target - 1} (${applyDescription})`);
      const startedAt = Date.now();
      const cpuBefore = readProcessCpuSeconds(operator.pid);
      const running = operator;
      const processesBefore = processCpuSeconds(controlPlane, running);
      let processesReconciled = processesBefore;
      let operatorCountsReconciled: Promise<OperatorCounts> = Promise.resolve(operatorBefore);
      const applying = applyPolicies(controlPlane, rest, created, target).then((ms) => {
        log(`applying took ${seconds(ms)} s`);
        return ms;
      });
      const times = await waitForPolicies(rest, operator, target, startedAt, isRollout, applying, () => {
        processesReconciled = processCpuSeconds(controlPlane, running);
        operatorCountsReconciled = operatorCounts(running);
      });
      const applyMs = await applying;
      created = target;
      const operatorCpuSeconds = seconds((readProcessCpuSeconds(operator.pid) - cpuBefore) * 1000);
      log(
        `all ${target} Reconciled after ${seconds(times.allReconciledMs ?? NaN)} s` +
          (times.allReadyMs === undefined ? "" : `, all Ready after ${seconds(times.allReadyMs)} s`),
      );
      if (isRollout) {
        const perPolicy = secondsToReady(times.policies);
        const atAllReconciled = await operatorCountsReconciled;
        rollout = {
          policies: target,
          applySeconds: seconds(applyMs),
          allReconciledSeconds: secondsOrUndefined(times.allReconciledMs),
          allReadySeconds: secondsOrUndefined(times.allReadyMs),
          reconciledSeconds: {
            p50: secondsOrUndefined(times.reconciledByShareMs.p50),
            p90: secondsOrUndefined(times.reconciledByShareMs.p90),
            p99: secondsOrUndefined(times.reconciledByShareMs.p99),
          },
          secondsToReady: {
            p50: percentile(perPolicy, 50),
            p90: percentile(perPolicy, 90),
            p99: percentile(perPolicy, 99),
            max: percentile(perPolicy, 100),
          },
          operatorWrites: countsObject(
            writesOnly(subtractCounts(await requestsSoFar(operator), operatorBefore.requests)),
          ),
          operatorWritesToAllReconciled: countsObject(
            writesOnly(subtractCounts(atAllReconciled.requests, operatorBefore.requests)),
          ),
          operatorCpuSeconds,
          cpuSecondsToAllReconciled: cpuSpent(processesBefore, processesReconciled),
          reconcilesToAllReconciled: atAllReconciled.reconciles - operatorBefore.reconciles,
        };
      }
      if (rssPolicies.includes(target)) {
        const sampled = await settledMemory(operator, MEMORY_SETTLE_MS);
        const progress = progressOf(await listPolicies(rest));
        memory.push({
          policies: target,
          rssMiB: Math.round(sampled.rssMiB * 10) / 10,
          peakRssMiB: Math.round(sampled.peakRssMiB * 10) / 10,
          applySeconds: seconds(applyMs),
          allReconciledSeconds: secondsOrUndefined(times.allReconciledMs),
          readyWhenSampled: progress.ready,
          operatorCpuSeconds,
        });
        log(
          `RSS ${sampled.rssMiB.toFixed(1)} MiB (peak ${sampled.peakRssMiB.toFixed(1)}) with ${target} policies`,
        );
      }
      if (isRollout) {
        log(`steady state: counting API writes for ${steadySeconds} s`);
        const apiBefore = await apiServerRequestTotals(controlPlane);
        const operatorRequestsBefore = await requestsSoFar(operator);
        const steadyCpuBefore = readProcessCpuSeconds(operator.pid);
        await sleep(steadySeconds * 1000);
        const apiAfter = await apiServerRequestTotals(controlPlane);
        const operatorRequests = subtractCounts(await requestsSoFar(operator), operatorRequestsBefore);
        const operatorWrites = writesOnly(operatorRequests);
        // Every write in the window that the operator did not count came from the control plane's own
        // components (the bench itself only reads).
        const controlPlaneWrites = subtractCounts(
          writesOnly(subtractCounts(apiAfter, apiBefore)),
          operatorWrites,
        );
        const besidesLease = [...operatorWrites].filter(([key]) => !isOperatorLease(key));
        steady = {
          seconds: steadySeconds,
          operatorWrites: countsObject(operatorWrites),
          operatorWritesTotal: totalOf(operatorWrites),
          operatorWritesBesidesLease: besidesLease.reduce((sum, [, n]) => sum + n, 0),
          controlPlaneWrites: countsObject(controlPlaneWrites),
          controlPlaneWritesTotal: totalOf(controlPlaneWrites),
          operatorCpuSeconds: seconds((readProcessCpuSeconds(operator.pid) - steadyCpuBefore) * 1000),
          operatorReads: countsObject(
            new Map([...operatorRequests].filter(([key]) => !operatorWrites.has(key))),
          ),
        };
        cpuReferenceMs.afterRollout = referenceWorkMs();
        log(`reference work on one core: ${cpuReferenceMs.afterRollout} ms`);
      }
    }

    const results = {
      machine: {
        cpus: cpus().length,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        cpuReferenceMs,
      },
      date: new Date().toISOString(),
      parameters: {
        policies: rolloutPolicies,
        steadySeconds,
        rssPolicies,
        namespaces: namespaceCount,
        operatorRuntime,
        operatorArgs,
        operatorNodeArgs,
        applyMethod: applyDescription,
        benchNodes: nodeCount,
        scalingLoop: flags.loop,
      },
      controlPlaneStartSeconds: controlPlaneSeconds,
      baselineRssMiB: Math.round(baseline.rssMiB * 10) / 10,
      rollout,
      steadyState: steady,
      memory,
      totalSeconds: seconds(Date.now() - benchStart),
    };
    mkdirSync(join(repoRoot, "bench", "results"), { recursive: true });
    writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
    printTable(results);
    console.log(`\nwritten to ${resultsPath}`);
  } finally {
    if (operator !== undefined) await stopOperator(operator);
    await controlPlane.stop();
    process.off("exit", killOperatorOnExit);
  }
}

/** The reference work's time on one core (bench/operator/cpu-reference.ts), before and after the roll-out. */
interface CpuReference {
  beforeRollout: number;
  afterRollout?: number;
}

interface PrintableResults {
  baselineRssMiB: number;
  rollout?:
    | {
        policies: number;
        applySeconds: number;
        allReconciledSeconds: number | undefined;
        allReadySeconds: number | undefined;
        reconciledSeconds: { p50: number | undefined; p90: number | undefined; p99: number | undefined };
        secondsToReady: { p50: number; p90: number; p99: number; max: number };
        operatorCpuSeconds: number;
        cpuSecondsToAllReconciled: Record<string, number>;
        operatorWritesToAllReconciled: Record<string, number>;
        reconcilesToAllReconciled: number;
      }
    | undefined;
  steadyState?:
    | {
        seconds: number;
        operatorWrites: Record<string, number>;
        operatorWritesBesidesLease: number;
        controlPlaneWrites: Record<string, number>;
        controlPlaneWritesTotal: number;
        operatorCpuSeconds: number;
      }
    | undefined;
  memory: MemoryPoint[];
  machine: { cpuReferenceMs: CpuReference };
}

function printTable(results: PrintableResults): void {
  const row = (label: string, value: string): void => console.log(`  ${label.padEnd(52)} ${value}`);
  const { rollout, steadyState } = results;
  if (rollout !== undefined) {
    console.log(`\nRoll-out of ${rollout.policies} policies`);
    row(`applying (${applyMethod})`, `${rollout.applySeconds} s`);
    const r = rollout.reconciledSeconds;
    row(
      "apply start -> 50 / 90 / 99 / 100 % Reconciled",
      `${r.p50 ?? "-"} / ${r.p90 ?? "-"} / ${r.p99 ?? "-"} / ${rollout.allReconciledSeconds ?? "-"} s`,
    );
    row("apply start -> all Ready", `${rollout.allReadySeconds ?? "-"} s`);
    const t = rollout.secondsToReady;
    row(
      "per policy, creation -> Ready (p50 / p90 / p99 / max)",
      `${t.p50} / ${t.p90} / ${t.p99} / ${t.max} s`,
    );
    row("reconciles until all were Reconciled", String(rollout.reconcilesToAllReconciled));
    console.log("\nCPU from the first apply until all were Reconciled");
    for (const [name, cpu] of Object.entries(rollout.cpuSecondsToAllReconciled)) row(name, `${cpu} s`);
    const reference = results.machine.cpuReferenceMs;
    row(
      "reference work on one core, before / after (lower: faster)",
      `${reference.beforeRollout} / ${reference.afterRollout ?? "-"} ms`,
    );
    console.log("\nThe operator's writes from the first apply until all were Reconciled");
    for (const [key, count] of Object.entries(rollout.operatorWritesToAllReconciled)) row(key, String(count));
  }
  if (steadyState !== undefined) {
    console.log(`\nAPI writes in ${steadyState.seconds} s of steady state`);
    for (const [key, count] of Object.entries(steadyState.operatorWrites))
      row(`operator  ${key}`, String(count));
    row("operator, besides its lease", String(steadyState.operatorWritesBesidesLease));
    for (const [key, count] of Object.entries(steadyState.controlPlaneWrites)) {
      row(`control plane  ${key}`, String(count));
    }
    row("control plane, total", String(steadyState.controlPlaneWritesTotal));
    row("operator CPU in the window", `${steadyState.operatorCpuSeconds} s`);
  }
  console.log("\nOperator memory (steady state after reconcile)");
  row("no policy: RSS", `${results.baselineRssMiB} MiB`);
  for (const point of results.memory) {
    row(`${point.policies} policies: RSS (peak so far)`, `${point.rssMiB} MiB (${point.peakRssMiB} MiB)`);
    row(
      `${point.policies} policies: reconciled after, operator CPU`,
      `${point.allReconciledSeconds ?? "-"} s, ${point.operatorCpuSeconds} s`,
    );
  }
}

await main();
