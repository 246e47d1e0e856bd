// `npm start`: the operator end to end on this machine.
//
// Without KUBECONFIG: starts the local control plane (e2e profile: etcd, kube-apiserver, controller manager,
// scheduler, KWOK fake GPU nodes; our CRDs and KEDA's installed), runs the operator against it, applies
// examples/, prints `kubectl get mlap -A` whenever it changes and, once every policy is Ready, their
// children; then keeps running until Ctrl-C and tears everything down.
// `--exit-when-ready` (or MLAUTOSCALE_EXIT_WHEN_READY=true) stops once every policy is Ready: exit code 0,
// or 1 when they are not within --ready-timeout-seconds (default 300). Other arguments go to the operator.
//
// With KUBECONFIG set: runs the operator against that cluster and applies nothing.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { main as runCommand } from "../src/commands.js";
import { repoRoot } from "./controlplane/binaries.js";
import { startControlPlane, type ControlPlane } from "./controlplane/index.js";
import {
  addDemoNodes,
  applyExamples,
  kubectlWith,
  localExamples,
  prepareLocalBrokers,
  type Kubectl,
} from "./demo.js";

const DEMO_NAMESPACE = "mlautoscale-demo";
const POLL_MS = 1_000;

const args = process.argv.slice(2);
const TIMEOUT_FLAG = "--ready-timeout-seconds=";
const exitWhenReady =
  args.includes("--exit-when-ready") || process.env["MLAUTOSCALE_EXIT_WHEN_READY"] === "true";
const readyTimeoutMs =
  Number(args.find((arg) => arg.startsWith(TIMEOUT_FLAG))?.slice(TIMEOUT_FLAG.length) ?? 300) * 1000;
if (!Number.isFinite(readyTimeoutMs) || readyTimeoutMs <= 0) throw new Error(`${TIMEOUT_FLAG} takes seconds`);
/** Every other argument is the operator's (later flags win over the ones set here). */
const operatorArgs = args.filter((arg) => arg !== "--exit-when-ready" && !arg.startsWith(TIMEOUT_FLAG));

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** The operator from source, as its own process: `mlautoscale operator` with these flags. */
function startOperator(args: string[], logPath?: string): ChildProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "src", "cli.ts"), "operator", ...args],
    {
      cwd: repoRoot,
      stdio: ["ignore", logPath ? "pipe" : "inherit", logPath ? "pipe" : "inherit"],
    },
  );
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
}

async function policyRows(kubectl: Kubectl): Promise<PolicyRow[]> {
  const result = await kubectl(["get", "mlap", "-A", "-o", "json"]);
  if (result.code !== 0) throw new Error(result.stderr);
  const list = JSON.parse(result.stdout) as {
    items: {
      metadata: { namespace: string; name: string };
      status?: { conditions?: { type: string; status: string }[] };
    }[];
  };
  return list.items.map((item) => ({
    namespace: item.metadata.namespace,
    name: item.metadata.name,
    ready: item.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
  }));
}

/** `kubectl get mlap -A` without the AGE column, which changes every second. */
function withoutAge(table: string): string {
  return table
    .split("\n")
    .map((line) => line.replace(/\s+\S+\s*$/, ""))
    .join("\n");
}

async function runDemo(): Promise<number> {
  say("Starting a local control plane (etcd, kube-apiserver, controller manager, scheduler, KWOK nodes)...");
  const controlPlane: ControlPlane = await startControlPlane({
    profile: "e2e",
    log: (line) => say(`[control plane] ${line}`),
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
      say(`\n${signal}: stopping the operator and the control plane`);
      void teardown().finally(() => process.exit(0));
    });
  }

  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
    const kubectl = kubectlWith(join(controlPlane.binDir, "kubectl"), controlPlane.kubeconfigPath);
    await addDemoNodes(kubeConfig);

    const operatorLog = join(controlPlane.dir, "logs", "operator.log");
    operator = startOperator(
      [
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
    const documents = localExamples(controlPlane.addresses);
    await prepareLocalBrokers(kubectl, DEMO_NAMESPACE, documents, controlPlane.addresses);
    const policies = await applyExamples(kubectl, DEMO_NAMESPACE, documents, { log: (line) => say(line) });
    say(`Applied ${policies.length} policies; kubectl get mlap -A as it changes:\n`);

    const deadline = Date.now() + readyTimeoutMs;
    let lastTable = "";
    let shownChildren = false;
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
      const allReady = rows.length === policies.length && rows.every((row) => row.ready);
      if (allReady && !shownChildren) {
        shownChildren = true;
        say(`All ${rows.length} policies are Ready:\n${(await kubectl(["get", "mlap", "-A"])).stdout}`);
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
        if (exitWhenReady) break;
        say(
          [
            "The operator keeps running. In another shell:",
            `  export KUBECONFIG=${controlPlane.kubeconfigPath}`,
            `  export PATH=${controlPlane.binDir}:$PATH`,
            `  kubectl -n ${DEMO_NAMESPACE} describe mlap resnet50-inference`,
            "Press Ctrl-C to stop.",
            "",
          ].join("\n"),
        );
      }
      if (!shownChildren && Date.now() > deadline && exitWhenReady) {
        const notReady = rows.filter((row) => !row.ready).map((row) => row.name);
        throw new Error(`not Ready after ${readyTimeoutMs / 1000} s: ${notReady.join(", ")}`);
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, POLL_MS)), operatorExited]);
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
