// Runs `mlautoscale operator` as a child process, the way a container would, and waits on what it reports.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");

export interface OperatorProcess {
  readonly child: ChildProcess;
  /** Everything the operator wrote so far (pino JSON lines on stdout, anything on stderr). */
  output(): string;
  /** Resolves with the port of /metrics, /healthz and /readyz once the operator logs it. */
  metricsPort(timeoutMs?: number): Promise<number>;
  /** Resolves once the output matches `pattern`; rejects after `timeoutMs` with the output so far. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code, or the signal's name when a signal ended it. */
  exited(): Promise<number | string>;
  /** Sends `signal` to this process alone, if it still runs. */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM to this process alone; resolves with its exit code. */
  stop(): Promise<number | null>;
}

export interface OperatorProcessOptions {
  /** Folder holding dist/cli.js (a packed install) or the repository. */
  cwd: string;
  /** The command and its arguments after `node`, e.g. ["dist/cli.js", "operator", ...]. */
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export function startOperatorProcess(options: OperatorProcessOptions): OperatorProcess {
  // In-cluster configuration wins when KUBERNETES_SERVICE_HOST is set: make sure the kubeconfig is used.
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env["KUBERNETES_SERVICE_HOST"];
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exit = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const exited = exit.then(({ code }) => code);
  const running = (): boolean => child.exitCode === null && child.signalCode === null;

  return {
    child,
    output: () => output,
    metricsPort: async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const port = servedPort(output);
        if (port !== undefined) return port;
        if (child.exitCode !== null) {
          throw new Error(`operator exited with ${child.exitCode}:\n${output}`);
        }
        if (Date.now() > deadline) throw new Error(`operator did not start serving:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    waitForOutput: async (pattern, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > deadline) {
          throw new Error(
            `operator ${child.pid} did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(-3000)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    exited: () => exit.then(({ code, signal }) => code ?? signal ?? -1),
    kill: (signal) => {
      if (running()) child.kill(signal);
    },
    stop: async () => {
      if (running()) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** `mlautoscale operator` from the sources, through tsx. */
export function startOperatorFromSource(args: string[], env?: NodeJS.ProcessEnv): OperatorProcess {
  return startOperatorProcess({
    cwd: repoRoot,
    args: ["--import", "tsx", join(repoRoot, "src", "cli.ts"), "operator", ...args],
    ...(env !== undefined && { env }),
  });
}

/** The port from the manager's "serving /metrics, /healthz and /readyz" log line. */
function servedPort(output: string): number | undefined {
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
      if (typeof entry.msg === "string" && entry.msg.startsWith("serving /metrics")) {
        if (typeof entry.port === "number") return entry.port;
      }
    } catch {
      // Not a log line of the operator's.
    }
  }
  return undefined;
}

/** GETs a path of the operator's observability server. */
export async function getOperatorEndpoint(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** A kubeconfig that authenticates with a bearer token (e.g. a ServiceAccount's, from TokenRequest). */
export function writeTokenKubeconfig(
  path: string,
  cluster: { server: string; caData: string | undefined; insecure?: boolean },
  user: string,
  token: string,
): void {
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "cluster",
        cluster: {
          server: cluster.server,
          ...(cluster.caData !== undefined && { "certificate-authority-data": cluster.caData }),
          ...(cluster.insecure === true && { "insecure-skip-tls-verify": true }),
        },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: "cluster", user } }],
    "current-context": user,
  };
  // JSON is YAML: kubectl and client-node read it as a kubeconfig.
  writeFileSync(path, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
}

/** The status of one condition of an object, from `kubectl get -o json` output. */
export function conditionStatus(object: unknown, type: string): string | undefined {
  const conditions = (object as { status?: { conditions?: { type?: string; status?: string }[] } }).status
    ?.conditions;
  return conditions?.find((condition) => condition.type === type)?.status;
}
