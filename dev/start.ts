// `npm start`: the operator doing its job on this machine.
//
// Without KUBECONFIG: starts the local cluster (etcd, kube-apiserver, controller manager, scheduler, KWOK
// fake GPU nodes; the real KEDA, metrics-server, Prometheus, prometheus-adapter, RabbitMQ, Kafka, an SQS
// endpoint and the workload emulator), runs the operator against it and applies examples/, pointed at the
// local add-ons and with their durations divided by --time-compression (default 10, so a cycle takes
// minutes). Once every policy is Ready it replays a short trace into each (examples/traces/demo-*.csv,
// through `mlautoscale loadtest`), shows the replicas rise and fall, and ends with each policy's observed
// timeline beside the simulator's prediction; then tears everything down.
// `--exit-when-ready` (or MLAUTOSCALE_EXIT_WHEN_READY=true) stops once every policy is Ready instead:
// exit code 0, or 1 when they are not within --ready-timeout-seconds (default 300). Other arguments go
// to the operator.
//
// With KUBECONFIG set: runs the operator against that cluster and applies nothing.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { main as runCommand } from "../src/commands.js";
import { repoRoot } from "./controlplane/binaries.js";
import { startControlPlane, type ControlPlane } from "./controlplane/index.js";
import {
  addDemoNodes,
  applyExamples,
  compressTimes,
  kubectlWith,
  LOCAL_CLUSTER_MODEL_FLAGS,
  localExamples,
  prepareLocalBrokers,
  type Kubectl,
} from "./demo.js";

// The AWS SDK (the demo's SQS queue) warns, over several lines, that its releases after January 2027 will
// need Node 22: not news in the middle of a demo. Set before any SQS client is made; children inherit it.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

const DEMO_NAMESPACE = "mlautoscale-demo";
const POLL_MS = 1_000;
/** How often the live table prints a line during the replay. */
const TABLE_EVERY_MS = 5_000;
const SETTLE_SECONDS = 90;

/**
 * What each example gets during the replay: its trace, and the rate at which the emulated workers serve
 * (requests or messages per second per Ready replica), which the simulation is told too.
 */
const REPLAYS: Record<string, { trace: string; serviceRate: number; short: string }> = {
  "resnet50-inference": { trace: "demo-realtime.csv", serviceRate: 10, short: "resnet50" },
  "batch-embeddings": { trace: "demo-batch.csv", serviceRate: 1, short: "batch" },
  "finetune-workers": { trace: "demo-training.csv", serviceRate: 0.2, short: "finetune" },
  "hybrid-ranker": { trace: "demo-ranker.csv", serviceRate: 100, short: "ranker" },
  // Two chats a second per replica at a full batch of 32 (16 s each), as the simulator is told.
  "llama-chat": { trace: "demo-llm.csv", serviceRate: 2, short: "llama" },
};

const args = process.argv.slice(2);
const TIMEOUT_FLAG = "--ready-timeout-seconds=";
const COMPRESSION_FLAG = "--time-compression=";
const exitWhenReady =
  args.includes("--exit-when-ready") || process.env["MLAUTOSCALE_EXIT_WHEN_READY"] === "true";
const readyTimeoutMs =
  Number(args.find((arg) => arg.startsWith(TIMEOUT_FLAG))?.slice(TIMEOUT_FLAG.length) ?? 300) * 1000;
if (!Number.isFinite(readyTimeoutMs) || readyTimeoutMs <= 0) throw new Error(`${TIMEOUT_FLAG} takes seconds`);
const compression = Number(
  args.find((arg) => arg.startsWith(COMPRESSION_FLAG))?.slice(COMPRESSION_FLAG.length) ?? 10,
);
if (!(compression >= 1)) throw new Error(`${COMPRESSION_FLAG} takes a factor of 1 or more`);
/** Every other argument is the operator's (later flags win over the ones set here). */
const operatorArgs = args.filter(
  (arg) => arg !== "--exit-when-ready" && !arg.startsWith(TIMEOUT_FLAG) && !arg.startsWith(COMPRESSION_FLAG),
);

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * A command of ours from source, as its own process: its output to `logPath`, or left on the child's pipes
 * for the caller to read.
 */
function startCli(args: string[], logPath?: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src", "cli.ts"), ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    ...(env !== undefined && { env: { ...process.env, ...env } }),
  });
  if (logPath) {
    const log = createWriteStream(logPath);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

/**
 * KUBECONFIG is set: the operator in this process against that cluster, in the foreground, until a signal.
 * Arguments after `--` go to it (e.g. `npm start -- --namespaces=ml-serving`); later flags win.
 */
async function runAgainstExistingCluster(extraArgs: string[]): Promise<number> {
  say(`Running the operator against the cluster of KUBECONFIG (${process.env["KUBECONFIG"] ?? ""}).`);
  return runCommand(["operator", "--leader-elect=false", ...extraArgs], {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

interface PolicyRow {
  namespace: string;
  name: string;
  ready: boolean;
  /** Conditions out of the ordinary (`Type Reason: message`): what the operator holds back and why. */
  remarks: string[];
}

async function policyRows(kubectl: Kubectl): Promise<PolicyRow[]> {
  const result = await kubectl(["get", "mlap", "-A", "-o", "json"]);
  if (result.code !== 0) throw new Error(result.stderr);
  const list = JSON.parse(result.stdout) as {
    items: {
      metadata: { namespace: string; name: string };
      status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
    }[];
  };
  return list.items.map((item) => {
    const conditions = item.status?.conditions ?? [];
    const usual = (c: (typeof conditions)[number]): boolean =>
      c.status === "True" && ["ReconcileSucceeded", "Available", "ScaledToZero"].includes(c.reason ?? "");
    return {
      namespace: item.metadata.namespace,
      name: item.metadata.name,
      ready: conditions.some((c) => c.type === "Ready" && c.status === "True"),
      remarks: remarksOf(
        conditions.filter((c) => !usual(c) && (c.type !== "ScalingActive" || c.status !== "True")),
      ),
    };
  });
}

/** `Reason (Type, Type): message`, once per reason and message: one cause often shows in two conditions. */
function remarksOf(conditions: readonly { type: string; reason?: string; message?: string }[]): string[] {
  const types = new Map<string, string[]>();
  for (const c of conditions) {
    const remark = `${c.reason ?? ""}\u0000${c.message ?? ""}`;
    types.set(remark, [...(types.get(remark) ?? []), c.type]);
  }
  return [...types].map(([remark, names]) => {
    const [reason, message] = remark.split("\u0000");
    return `${reason} (${names.join(", ")}): ${message}`;
  });
}

/** `kubectl get mlap -A` without the AGE column, which changes every second. */
function withoutAge(table: string): string {
  return table
    .split("\n")
    .map((line) => line.replace(/\s+\S+\s*$/, ""))
    .join("\n");
}

interface WorkloadState {
  replicas: number;
  ready: number;
}

async function workloadStates(kubectl: Kubectl): Promise<Map<string, WorkloadState>> {
  const result = await kubectl(["get", "deployments", "-n", DEMO_NAMESPACE, "-o", "json"]);
  const states = new Map<string, WorkloadState>();
  if (result.code !== 0) return states;
  const list = JSON.parse(result.stdout) as {
    items: {
      metadata: { name: string };
      spec?: { replicas?: number };
      status?: { readyReplicas?: number };
    }[];
  };
  for (const item of list.items) {
    states.set(item.metadata.name, {
      replicas: item.spec?.replicas ?? 0,
      ready: item.status?.readyReplicas ?? 0,
    });
  }
  return states;
}

interface Compared {
  observed: number | null;
  simulated: number | null;
}

/** The parts of `mlautoscale loadtest -o json --compare-simulation` the demo prints. */
interface ReplayReport {
  steps: { t: number; replicas: number | null }[];
  simulation?: { steps: { t: number; desiredReplicas: number }[] };
  comparison?: {
    peakReplicas: Compared;
    firstScaleUpSeconds: Compared;
    replicaSeconds: Compared;
    notes: string[];
  };
}

/** Replicas every `every` seconds: the observed ones (per second) and the simulated ones (per tick). */
function timelines(report: ReplayReport, every: number): { observed: string; simulated: string } {
  const observed: string[] = [];
  const simulated: string[] = [];
  const simSteps = report.simulation?.steps ?? [];
  for (let t = 0; t < report.steps.length; t += every) {
    observed.push(String(report.steps[t]?.replicas ?? "?"));
    const tick = simSteps.findLast((step) => step.t <= t);
    simulated.push(String(tick?.desiredReplicas ?? "?"));
  }
  const width = Math.max(...[...observed, ...simulated].map((v) => v.length));
  return {
    observed: observed.map((v) => v.padStart(width)).join(" "),
    simulated: simulated.map((v) => v.padStart(width)).join(" "),
  };
}

const both = (value: Compared | undefined, unit = ""): string => {
  const show = (n: number | null | undefined): string =>
    n === null || n === undefined ? "-" : `${n}${unit}`;
  return `${show(value?.observed)} / ${show(value?.simulated)}`;
};

/** Sets how fast the emulated replicas of a demo workload serve; loadtest tells the simulation the same. */
async function setServiceRate(emulatorUrl: string, name: string, rate: number): Promise<void> {
  const response = await fetch(`${emulatorUrl}/v1/workloads/${DEMO_NAMESPACE}/${name}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ serviceRatePerReplica: rate }),
  });
  if (!response.ok) throw new Error(`the emulator refused the rate of ${name}: ${await response.text()}`);
}

/** The compact live table: one line per sample, `desired/ready` per policy. */
function tableHeader(names: readonly string[]): string {
  return ["    t", ...names.map((name) => (REPLAYS[name]?.short ?? name).padStart(10))].join("  ");
}

function tableLine(seconds: number, names: readonly string[], states: Map<string, WorkloadState>): string {
  return [
    `${String(Math.round(seconds)).padStart(4)}s`,
    ...names.map((name) => {
      const state = states.get(name);
      return (state === undefined ? "-" : `${state.replicas}/${state.ready}`).padStart(10);
    }),
  ].join("  ");
}

/**
 * Replays each example's demo trace through `mlautoscale loadtest --compare-simulation` (one process per
 * example, at once), printing the replicas as they change, then each policy's observation beside the simulation.
 */
async function replay(
  controlPlane: ControlPlane,
  kubectl: Kubectl,
  policyFiles: Map<string, string>,
): Promise<void> {
  const names = [...policyFiles.keys()].sort();
  const logs = join(controlPlane.dir, "logs");
  for (const name of names) {
    await setServiceRate(controlPlane.addresses.EMULATOR_URL ?? "", name, REPLAYS[name]?.serviceRate ?? 10);
  }
  const runs = names.map((name) => {
    const plan = REPLAYS[name];
    if (plan === undefined) throw new Error(`no demo trace for ${name}`);
    const output = join(logs, `loadtest-${name}.json`);
    const child = startCli(
      [
        "loadtest",
        "-f",
        policyFiles.get(name) ?? "",
        "--trace",
        join(repoRoot, "examples", "traces", plan.trace),
        "-n",
        DEMO_NAMESPACE,
        "-o",
        "json",
        "--compare-simulation",
        `--settle-seconds=${SETTLE_SECONDS}`,
        ...LOCAL_CLUSTER_MODEL_FLAGS,
      ],
      undefined,
      controlPlane.addresses,
    );
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const done = once(child, "exit").then(([code]) => {
      writeFileSync(output, stdout);
      writeFileSync(join(logs, `loadtest-${name}.log`), stderr);
      if (code !== 0)
        throw new Error(`loadtest of ${name} exited with ${String(code)}:\n${stderr.slice(-2000)}`);
      return JSON.parse(stdout) as ReplayReport;
    });
    return { name, child, done };
  });
  say(
    `\nReplaying the demo traces (examples/traces/demo-*.csv) for 3 minutes, then ${SETTLE_SECONDS} s more;`,
  );
  say("replicas desired/ready per policy:\n");
  say(tableHeader(names));
  const started = Date.now();
  let lastLine = "";
  let finished = false;
  const all = Promise.all(runs.map((run) => run.done)).finally(() => (finished = true));
  all.catch(() => undefined);
  while (!finished) {
    const line = tableLine((Date.now() - started) / 1000, names, await workloadStates(kubectl));
    if (line.slice(6) !== lastLine.slice(6)) say(line);
    lastLine = line;
    await Promise.race([
      new Promise((resolve) => setTimeout(resolve, TABLE_EVERY_MS)),
      all.catch(() => undefined),
    ]);
  }
  const reports = await all;
  const rows = new Map((await policyRows(kubectl)).map((row) => [row.name, row]));
  say(
    "\nObserved on the cluster beside the simulator's prediction (same policy, same load), replicas every 10 s:\n",
  );
  for (const [index, run] of runs.entries()) {
    const report = reports[index];
    if (report === undefined) continue;
    const lines = timelines(report, 10);
    const comparison = report.comparison;
    say(
      `${run.name}: peak ${both(comparison?.peakReplicas)}, first scale-up ${both(comparison?.firstScaleUpSeconds, " s")}, ` +
        `replica-seconds ${both(comparison?.replicaSeconds)} (observed / simulated)`,
    );
    say(`  observed   ${lines.observed}`);
    say(`  simulated  ${lines.simulated}`);
    for (const note of comparison?.notes ?? []) say(`  ${note}`);
    // What the operator reports is often why the two differ (an HPA it withheld, a corrected budget).
    for (const remark of rows.get(run.name)?.remarks ?? []) say(`  the operator says: ${remark}`);
  }
  say(`\nFull timelines: ${logs}/loadtest-*.json (mlautoscale loadtest -o json).`);
}

async function runDemo(): Promise<number> {
  say("Starting the local cluster (control plane, KWOK GPU nodes, KEDA, metrics pipeline, brokers)...");
  const controlPlane: ControlPlane = await startControlPlane({
    profile: "e2e",
    log: (line) => say(`[cluster] ${line}`),
  });
  let operator: ChildProcess | undefined;
  let stopping = false;
  const teardown = async (): Promise<void> => {
    if (operator) await stopProcess(operator);
    await controlPlane.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      say(`\n${signal}: stopping the operator and the cluster`);
      void teardown().finally(() => process.exit(0));
    });
  }

  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    const kubectl = kubectlWith(join(controlPlane.binDir, "kubectl"), controlPlane.kubeconfigPath);
    await addDemoNodes(kubeConfig);

    const operatorLog = join(controlPlane.dir, "logs", "operator.log");
    operator = startCli(
      [
        "operator",
        `--kubeconfig=${controlPlane.kubeconfigPath}`,
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        "--metrics-port=0",
        ...operatorArgs,
      ],
      operatorLog,
    );
    const operatorExited = once(operator, "exit");
    say(`Operator started (pid ${operator.pid ?? "?"}), logging to ${operatorLog}`);

    const created = await kubectl(["create", "namespace", DEMO_NAMESPACE]);
    if (created.code !== 0) throw new Error(created.stderr);
    // The examples as this cluster runs them: its Prometheus, brokers and SQS endpoint, and every
    // duration divided by the compression factor.
    const documents = localExamples(controlPlane.addresses).map((d) => compressTimes(d, compression));
    say(
      `The examples point at the local Prometheus and brokers; their model load times, windows, periods and ` +
        `cooldowns are divided by ${compression} (--time-compression).`,
    );
    for (const line of await prepareLocalBrokers(
      kubectl,
      DEMO_NAMESPACE,
      documents,
      controlPlane.addresses,
    )) {
      say(`  made ${line}`);
    }
    const policies = await applyExamples(kubectl, DEMO_NAMESPACE, documents, { log: (line) => say(line) });
    const policyDir = join(controlPlane.dir, "policies");
    mkdirSync(policyDir);
    const policyFiles = new Map<string, string>();
    for (const document of documents) {
      const name = (document as { kind?: string; metadata?: { name?: string } }).metadata?.name;
      if ((document as { kind?: string }).kind !== "MLAutoscalePolicy" || name === undefined) continue;
      const file = join(policyDir, `${name}.json`);
      writeFileSync(file, JSON.stringify(document));
      policyFiles.set(name, file);
    }
    say(`Applied ${policies.length} policies; kubectl get mlap -A as it changes:\n`);

    const deadline = Date.now() + readyTimeoutMs;
    let lastTable = "";
    for (;;) {
      if (operator.exitCode !== null) {
        throw new Error(`the operator exited with ${operator.exitCode}:\n${tail(operatorLog)}`);
      }
      const table = (await kubectl(["get", "mlap", "-A"])).stdout;
      if (withoutAge(table) !== withoutAge(lastTable)) {
        say(`${new Date().toISOString()}\n${table}`);
        lastTable = table;
      }
      const rows = await policyRows(kubectl);
      if (rows.length === policies.length && rows.every((row) => row.ready)) break;
      if (Date.now() > deadline) {
        const notReady = rows.filter((row) => !row.ready).map((row) => row.name);
        throw new Error(`not Ready after ${readyTimeoutMs / 1000} s: ${notReady.join(", ")}`);
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, POLL_MS)), operatorExited]);
    }
    say(
      `All ${policies.length} policies are Ready:\n${(await kubectl(["get", "mlap", "-A", "-o", "wide"])).stdout}`,
    );
    say("Their children:\n");
    const children = await kubectl([
      "get",
      "deployments,horizontalpodautoscalers,scaledobjects,poddisruptionbudgets,pods",
      "-n",
      DEMO_NAMESPACE,
      "-o",
      "wide",
    ]);
    say(children.stdout);
    if (!exitWhenReady) {
      await replay(controlPlane, kubectl, policyFiles);
      say(`\nFinal state:\n${(await kubectl(["get", "mlap", "-A", "-o", "wide"])).stdout}`);
    }
    await teardown();
    return 0;
  } catch (error) {
    if (!stopping) {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      await teardown();
    }
    return 1;
  }
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

const kubeconfigSet = (process.env["KUBECONFIG"] ?? "") !== "";
process.exitCode = kubeconfigSet ? await runAgainstExistingCluster(operatorArgs) : await runDemo();
