import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";

/** A component process the harness started; stopped by its own pid, never by name. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when the process has exited (with its exit code, or null after a signal). */
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ManagedProcess>();
const cleanupFolders = new Set<string>();
let handlersInstalled = false;

export interface StartOptions {
  /** Added to (and overriding) the harness's own environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function startProcess(
  name: string,
  binary: string,
  args: string[],
  logPath: string,
  options: StartOptions = {},
): ManagedProcess {
  const logFd = openSync(logPath, "a");
  let child: ChildProcess;
  try {
    // Own process group: a Ctrl-C in the terminal reaches only the harness, which then stops the
    // components in order instead of having them all die at once mid-write.
    child = spawn(binary, args, {
      detached: true,
      stdio: ["ignore", logFd, logFd],
      ...(options.env !== undefined && { env: { ...process.env, ...options.env } }),
      ...(options.cwd !== undefined && { cwd: options.cwd }),
    });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${binary})`);
  let exitedFlag = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitedFlag = true;
      live.delete(managed);
      resolve(code);
    });
  });
  const managed: ManagedProcess = {
    name,
    pid,
    logPath,
    exited,
    hasExited: () => exitedFlag,
    async stop(graceMs = 10_000) {
      if (exitedFlag) return;
      // While stopping, the child must keep the event loop alive: unreferenced, a process that has
      // nothing else pending would exit before the child's exit is seen, and stop() would never resolve.
      child.ref();
      signal(pid, "SIGTERM");
      const killTimer = setTimeout(() => signal(pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(killTimer);
    },
  };
  // Keep the event loop free to exit while components run: the control plane's owner decides when to stop.
  child.unref();
  live.add(managed);
  installHandlers();
  return managed;
}

/** Removes a folder when the process exits, if the harness did not get to it first. */
export function removeOnExit(folder: string): void {
  cleanupFolders.add(folder);
  installHandlers();
}

export function forgetFolder(folder: string): void {
  cleanupFolders.delete(folder);
}

export function logTail(logPath: string, lines = 20): string {
  try {
    return readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function killAllNow(): void {
  for (const managed of live) signal(managed.pid, "SIGKILL");
  live.clear();
  for (const folder of cleanupFolders) {
    try {
      // A component killed a moment ago may still be writing into it: retry rather than fail.
      rmSync(folder, { recursive: true, force: true, maxRetries: 5 });
    } catch {
      // Best effort on the way out; the folder is under the system temporary folder.
    }
  }
  cleanupFolders.clear();
}

async function stopAllGracefully(): Promise<void> {
  await Promise.all([...live].map((managed) => managed.stop(3_000)));
  killAllNow();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Last resort when the owner never called stop(): nothing async can run in an exit handler.
  process.on("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      void stopAllGracefully().finally(() => {
        // If nobody else handles the signal, restore its default effect (terminate) and raise it again.
        process.off(sig, onSignal);
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
    };
    process.on(sig, onSignal);
  }
}
