// Runs the operator for integration and e2e tests: in this process (to look inside), or as a child
// process of the real CLI (to test signals, leader election and crashes).
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeConfig } from "@kubernetes/client-node";
import { setupPolicyController } from "../../src/controllers/mlautoscalepolicy/controller.js";
import { FIELD_MANAGER } from "../../src/main.js";
import { createLogger } from "../../src/observability/logger.js";
import { OperatorMetrics } from "../../src/observability/metrics.js";
import { Applier } from "../../src/runtime/apply.js";
import { RestEventRecorder } from "../../src/runtime/events.js";
import { Manager } from "../../src/runtime/manager.js";
import { KubeRestClient } from "../../src/runtime/rest.js";

const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");

export interface InProcessOperator {
  manager: Manager;
  metrics: OperatorMetrics;
  stop(): Promise<void>;
}

/** The operator's controller in this process, watching only `namespaces`, without leader election. */
export async function startOperator(
  kubeConfig: KubeConfig,
  options: {
    namespaces: string[];
    resyncPeriodMs?: number;
    kedaDiscoveryIntervalMs?: number;
    workers?: number;
  },
): Promise<InProcessOperator> {
  const logger = createLogger({ level: process.env["OPERATOR_TEST_LOG"] === "1" ? "debug" : "silent" });
  const rest = new KubeRestClient(kubeConfig);
  const metrics = new OperatorMetrics({ processMetrics: false });
  const manager = new Manager({ logger, metrics, shutdownTimeoutMs: 5_000 });
  const { discovery } = setupPolicyController({
    manager,
    rest,
    applier: new Applier(kubeConfig, { fieldManager: FIELD_MANAGER, rest }),
    events: new RestEventRecorder(rest, "mlautoscale-operator", logger, "test"),
    metrics,
    logger,
    namespaces: options.namespaces,
    workers: options.workers ?? 2,
    resyncPeriodMs: options.resyncPeriodMs ?? 60_000,
    kedaDiscoveryIntervalMs: options.kedaDiscoveryIntervalMs ?? 1_000,
  });
  await discovery.start();
  await manager.start();
  return {
    manager,
    metrics,
    stop: async () => {
      discovery.stop();
      await manager.stop("test finished");
    },
  };
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal's name). */
  exited(): Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

/** `mlautoscale operator` as its own process, through the real CLI entry point. */
export function spawnOperator(args: string[], env: Record<string, string> = {}): OperatorProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "src", "cli.ts"), "operator", ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  if (child.pid === undefined) throw new Error("operator process did not start");
  let output = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString("utf8");
    for (const listener of listeners) listener();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    child,
    pid: child.pid,
    output: () => output,
    waitForOutput: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(output)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `operator ${child.pid} did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(-3000)}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    exited: () => exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
