// The processes of the local cluster: each started on ports chosen free, watched until its probe says it
// is up, and stopped by its own pid; restartable on the same ports, for outage tests.
import { join } from "node:path";
import { freePorts, httpGet, releasePorts, waitFor, type HttpProbe } from "./net.js";
import { logTail, startProcess, type ManagedProcess, type StartOptions } from "./process.js";

/** Says whether a component is up: an HTTP GET that must answer 200, or a check that resolves when it is. */
export type Probe = HttpProbe | (() => Promise<boolean>);

export interface Launch {
  /** Absolute path of the program. */
  command: string;
  args: string[];
  probe: Probe;
  options?: StartOptions;
}

export interface Component {
  readonly name: string;
  readonly process: ManagedProcess;
  readonly ports: readonly number[];
}

interface Entry extends Component {
  launch: Launch;
}

const PORT_ATTEMPTS = 3;

export class Components {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly logDir: string,
    private readonly log: (line: string) => void,
    private readonly startupTimeoutMs: number,
  ) {}

  get(name: string): Component | undefined {
    return this.entries.get(name);
  }

  require(name: string): Component {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`${name} is not running`);
    return entry;
  }

  /** The log file of a component (kept after it stops). */
  logPath(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  /**
   * Starts a component on `portCount` freshly chosen ports and waits for its probe; if it lost a port to
   * another process between choosing and binding, tries again with new ports.
   */
  async start(name: string, portCount: number, launch: (ports: number[]) => Launch): Promise<Component> {
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(portCount);
      const spec = launch(ports);
      const entry = this.spawn(name, spec, ports);
      try {
        await this.waitHealthy(entry);
        return entry;
      } catch (error) {
        await entry.process.stop();
        this.entries.delete(name);
        releasePorts(ports);
        const portTaken = /address already in use|eaddrinuse/i.test(logTail(entry.process.logPath, 50));
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
        this.log(`${name}: a port was taken, retrying with new ports`);
      }
    }
  }

  /** Stops a component, keeping its ports and launch for restart(). */
  async stop(name: string, graceMs?: number): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry || entry.process.hasExited()) return;
    await entry.process.stop(graceMs);
    this.log(`stopped ${name}`);
  }

  /** Starts a stopped (or running) component again, on the same ports with the same arguments. */
  async restart(name: string, graceMs?: number): Promise<Component> {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`${name} was never started`);
    if (!entry.process.hasExited()) await entry.process.stop(graceMs);
    const restarted = this.spawn(name, entry.launch, [...entry.ports]);
    await this.waitHealthy(restarted);
    return restarted;
  }

  running(name: string): boolean {
    const entry = this.entries.get(name);
    return entry !== undefined && !entry.process.hasExited();
  }

  /** The pid of each running component, by name. */
  pids(): Map<string, number> {
    const running = [...this.entries.values()].filter((entry) => !entry.process.hasExited());
    return new Map(running.map((entry) => [entry.name, entry.process.pid]));
  }

  /** Stops the named components in this order (then any others), and forgets them. */
  async stopAll(order: readonly string[], graceMs?: number): Promise<void> {
    const names = [...order.filter((n) => this.entries.has(n))];
    for (const name of this.entries.keys()) if (!names.includes(name)) names.unshift(name);
    for (const name of names) {
      const entry = this.entries.get(name);
      if (!entry) continue;
      await this.stop(name, graceMs);
      releasePorts(entry.ports);
      this.entries.delete(name);
    }
  }

  private spawn(name: string, launch: Launch, ports: number[]): Entry {
    const managed = startProcess(name, launch.command, launch.args, this.logPath(name), launch.options);
    this.log(`started ${name} (pid ${managed.pid})`);
    const entry: Entry = { name, process: managed, ports, launch };
    this.entries.set(name, entry);
    return entry;
  }

  private async waitHealthy(entry: Entry): Promise<void> {
    const { process: managed, launch } = entry;
    const probe = launch.probe;
    const what = typeof probe === "function" ? `${managed.name} to be up` : `${managed.name} at ${probe.url}`;
    await waitFor(
      what,
      async () => {
        if (typeof probe === "function") return (await probe()) ? true : undefined;
        const { status, body } = await httpGet(probe);
        if (status === 200) return true;
        throw new Error(`HTTP ${status}: ${body.slice(0, 300)}`);
      },
      {
        timeoutMs: this.startupTimeoutMs,
        abortIf: () => {
          if (managed.hasExited()) {
            throw new Error(
              `${managed.name} exited during start-up; its log ends with:\n${logTail(managed.logPath)}`,
            );
          }
        },
      },
    ).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\n(log: ${managed.logPath})`);
    });
    this.log(`${managed.name} is up`);
  }
}
