import type { Logger } from "pino";
import { errorMessage } from "./errors.js";
import type { Controller } from "./controller.js";
import type { WriteFence } from "./fence.js";
import type { SharedInformer } from "./informer.js";
import { LeaderElector, type LeaderElectorOptions } from "./leader-election.js";
import type { KubeObject } from "./object.js";

/** A named check for /healthz or /readyz, served by whatever exposes them (observability/server.ts). */
export interface HealthCheck {
  name: string;
  /** Returns undefined when healthy, or a reason when not. */
  check(): string | undefined;
}

/** The Lease and timings; the manager supplies the callbacks, the logger and releaseOnStop. */
export type LeaderElectionConfig = Pick<
  LeaderElectorOptions,
  "client" | "namespace" | "name" | "identity" | "leaseDurationMs" | "renewDeadlineMs" | "retryPeriodMs"
>;

export interface ManagerOptions {
  logger: Logger;
  /** Omit to run controllers without election (a single replica, or tests). */
  leaderElection?: LeaderElectionConfig;
  /** How long shutdown waits for in-flight reconciles. Default 30 s. */
  shutdownTimeoutMs?: number;
  /**
   * The fence of the REST client the controllers write through: opened while this replica leads,
   * closed the moment it stops (so no write of an old leader reaches the API server).
   */
  fence?: WriteFence;
}

/** The part of an informer the manager drives; independent of the object type. */
type InformerLifecycle = Pick<
  SharedInformer<KubeObject>,
  "start" | "stop" | "isRunning" | "hasSynced" | "waitForSync"
>;

interface RegisteredInformer {
  name: string;
  informer: InformerLifecycle;
  startWithManager: boolean;
}

/**
 * Runs the operator's parts in controller-runtime's order: caches on every replica; controllers only
 * on the elected leader, once caches have synced; on shutdown (or lost leadership) controllers stop
 * taking work and finish in-flight reconciles within a deadline, then the lease is released, then
 * caches stop.
 */
export class Manager {
  private readonly informers: RegisteredInformer[] = [];
  private readonly controllers: Controller[] = [];
  private readonly logger: Logger;
  private readonly elector: LeaderElector | undefined;
  private controllersRunning = false;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private resolveStopped: () => void = () => {};
  private readonly startAbort = new AbortController();
  private leadershipLost = false;

  constructor(private readonly options: ManagerOptions) {
    this.logger = options.logger.child({ component: "manager" });
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    const election = options.leaderElection;
    if (election) {
      this.elector = new LeaderElector({
        ...election,
        logger: this.logger,
        releaseOnStop: true,
        onStartedLeading: () => this.startControllers(),
        onStoppedLeading: () => {
          if (this.stopping) return;
          // A replica that lost its lease may be partitioned and another may lead already: no write
          // of this one may reach the API server from now on, in flight or not. Then, like
          // controller-runtime, it exits (non-zero) rather than risk two leaders, and restarts.
          this.leadershipLost = true;
          this.options.fence?.close("this replica lost its lease");
          void this.stop("leadership lost");
        },
      });
    }
  }

  /**
   * Registers an informer. Those with `startWithManager` (default) start with the manager and gate
   * readiness and controllers on their sync. Others (e.g. kinds that come and go, such as KEDA's) are
   * started and stopped by their owner and count for readiness only while running.
   */
  addInformer<T extends KubeObject>(
    name: string,
    informer: SharedInformer<T>,
    options: { startWithManager?: boolean } = {},
  ): void {
    this.informers.push({
      name,
      informer,
      startWithManager: options.startWithManager ?? true,
    });
  }

  addController(controller: Controller): void {
    this.controllers.push(controller);
  }

  /** True once this replica stopped because it lost its lease (the process should exit non-zero). */
  get lostLeadership(): boolean {
    return this.leadershipLost;
  }

  /** Whether this replica currently runs the controllers. */
  isLeader(): boolean {
    return this.controllersRunning;
  }

  /** Liveness: the manager is not shutting down. Readiness: every running cache has synced. */
  healthChecks(): { liveness: HealthCheck[]; readiness: HealthCheck[] } {
    return {
      liveness: [{ name: "manager", check: () => (this.stopping ? "shutting down" : undefined) }],
      readiness: [
        {
          name: "caches",
          check: () => {
            const failures = this.readinessFailures();
            return failures.length === 0 ? undefined : failures.join(", ");
          },
        },
      ],
    };
  }

  /** Ready when every running informer has synced, leader or not. */
  readinessFailures(): string[] {
    return this.informers
      .filter(({ informer, startWithManager }) => startWithManager || informer.isRunning())
      .filter(({ informer }) => !informer.hasSynced())
      .map(({ name }) => `${name} cache not synced`);
  }

  /** Starts everything; resolves once caches have synced and leader election (if any) is running. */
  async start(): Promise<void> {
    const startup = this.informers.filter(({ startWithManager }) => startWithManager);
    for (const { informer } of startup) informer.start();
    await Promise.all(startup.map(({ informer }) => informer.waitForSync(this.startAbort.signal)));
    this.logger.info({ informers: startup.map(({ name }) => name) }, "caches synced");
    if (this.elector) {
      this.logger.info({ identity: this.elector.identity }, "campaigning for leadership");
      void this.elector.run();
    } else {
      this.startControllers();
    }
  }

  /** Resolves when the manager has stopped. */
  done(): Promise<void> {
    return this.stopped;
  }

  /** Graceful shutdown; safe to call more than once. */
  stop(reason = "requested"): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  /** Stops on SIGTERM/SIGINT and sets the exit code; returns a function that removes the handlers. */
  installSignalHandlers(): () => void {
    const onSignal = (signal: NodeJS.Signals): void => {
      this.stop(signal).then(
        () => {
          process.exitCode ??= 0;
        },
        (error: unknown) => {
          this.logger.error({ err: errorMessage(error) }, "shutdown failed");
          process.exitCode = 1;
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    return () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    };
  }

  private startControllers(): void {
    if (this.controllersRunning || this.stopping) return;
    this.controllersRunning = true;
    this.options.fence?.open();
    for (const controller of this.controllers) controller.start();
    this.logger.info(
      { controllers: this.controllers.map((controller) => controller.name) },
      "controllers started",
    );
  }

  private async shutdown(reason: string): Promise<void> {
    this.logger.info({ reason }, "shutting down");
    this.startAbort.abort();
    // After a lost lease the in-flight reconciles can write nothing (the fence is closed): abort them
    // at once rather than wait for them.
    const deadlineMs = this.leadershipLost ? 0 : (this.options.shutdownTimeoutMs ?? 30_000);
    if (this.controllersRunning) {
      await Promise.all(this.controllers.map((controller) => controller.stop(deadlineMs)));
      this.controllersRunning = false;
    }
    this.options.fence?.close("this replica is shutting down");
    // Only after the controllers are quiet may another replica take over.
    await this.elector?.stop();
    await Promise.all(this.informers.map(({ informer }) => informer.stop()));
    this.logger.info("stopped");
    this.resolveStopped();
  }
}
