import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { sleep, systemClock, type Clock } from "./clock.js";
import { errorMessage, isConflict, isNotFound } from "./errors.js";
import type { KubeRestClient } from "./rest.js";

/** The fields of a coordination.k8s.io/v1 Lease that leader election uses. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: RFC 3339 with microseconds. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/**
 * The three calls leader election makes; conflicts (409) and not-found (404) surface as errors. Each
 * takes the signal that bounds it: a renewal must not outlive the renew deadline.
 */
export interface LeaseClient {
  get(namespace: string, name: string, signal?: AbortSignal): Promise<Lease | undefined>;
  create(lease: Lease, signal?: AbortSignal): Promise<Lease>;
  /** Replaces the lease; must fail with 409 if metadata.resourceVersion is stale. */
  update(lease: Lease, signal?: AbortSignal): Promise<Lease>;
}

/** A LeaseClient on the Kubernetes REST API. The lease is the one write no leadership fence guards. */
export function restLeaseClient(rest: Pick<KubeRestClient, "request">): LeaseClient {
  const path = (namespace: string, name?: string): string =>
    `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases${name ? `/${encodeURIComponent(name)}` : ""}`;
  return {
    async get(namespace, name, signal) {
      try {
        return await rest.request<Lease>("GET", path(namespace, name), {
          unfenced: true,
          ...(signal && { signal }),
        });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    create: (lease, signal) =>
      rest.request<Lease>("POST", path(lease.metadata.namespace), {
        body: lease,
        unfenced: true,
        ...(signal && { signal }),
      }),
    update: (lease, signal) =>
      rest.request<Lease>("PUT", path(lease.metadata.namespace, lease.metadata.name), {
        body: lease,
        unfenced: true,
        ...(signal && { signal }),
      }),
  };
}

/** Formats a Kubernetes MicroTime (the API server rejects fewer than six fractional digits). */
export function microTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** A unique identity for this process: hostname plus a random suffix (client-go uses hostname_uuid). */
export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(6).toString("hex")}`;
}

export interface LeaderElectorOptions {
  client: LeaseClient;
  namespace: string;
  name: string;
  identity?: string;
  /** How long a non-leader waits after the last observed change before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up leadership. Default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts. Default 2 s. */
  retryPeriodMs?: number;
  /** Clear the holder on stop so another replica takes over at once (client-go ReleaseOnCancel). */
  releaseOnStop?: boolean;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  logger?: Logger;
}

export type ElectorState = "idle" | "candidate" | "leader" | "stopped";

/**
 * Lease-based leader election with client-go `tools/leaderelection` semantics:
 * - a candidate tries every retry period; it takes the lease when nobody holds it, when the holder
 *   cleared it, or when the lease record has not changed for a lease duration as seen on this
 *   replica's own clock (so clock skew between replicas does not matter);
 * - the leader renews every retry period; if no renewal succeeds within the renew deadline it stops
 *   leading (onStoppedLeading) and returns to being a candidate only when started again;
 * - every write carries the resourceVersion it read, so two candidates cannot both win: the loser
 *   gets 409 Conflict and tries again next period.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly client: LeaseClient;
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private currentState: ElectorState = "idle";
  private observedLease: Lease | undefined;
  private observedRecordJson = "";
  private observedAt = 0;
  private lastKnownLeader = "";
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.identity = options.identity ?? defaultIdentity();
    this.client = options.client;
    this.clock = options.clock ?? systemClock;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs)
      throw new Error("renew deadline must be below the lease duration");
  }

  get state(): ElectorState {
    return this.currentState;
  }

  isLeader(): boolean {
    return this.currentState === "leader";
  }

  /** Starts campaigning; resolves when leadership is lost or the elector is stopped. */
  run(): Promise<void> {
    if (!this.loop) {
      this.abort = new AbortController();
      this.loop = this.campaign(this.abort.signal);
    }
    return this.loop;
  }

  /** Stops campaigning or leading; releases the lease first if configured and leading. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    if (this.currentState === "leader") await this.leave();
    this.currentState = "stopped";
  }

  /** One attempt to take or renew the lease; true when this replica holds it afterwards. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const now = this.clock.now();
    const existing = await this.client.get(this.options.namespace, this.options.name, signal);
    if (!existing) {
      const created = await this.client.create(
        {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.options.name, namespace: this.options.namespace },
          spec: this.recordFor(undefined, now),
        },
        signal,
      );
      this.observe(created, now);
      return true;
    }
    this.observe(existing, now);
    const holder = existing.spec.holderIdentity ?? "";
    const heldByOther = holder !== "" && holder !== this.identity;
    if (heldByOther && this.observedAt + this.leaseDurationMsOf(existing) > now) return false;
    const updated = await this.client.update(
      { ...existing, metadata: { ...existing.metadata }, spec: this.recordFor(existing.spec, now) },
      signal,
    );
    this.observe(updated, now);
    return true;
  }

  private leaseDurationMsOf(lease: Lease): number {
    const seconds = lease.spec.leaseDurationSeconds;
    return seconds === undefined ? this.leaseDurationMs : seconds * 1000;
  }

  private recordFor(previous: LeaseSpec | undefined, now: number): LeaseSpec {
    const alreadyHolder = previous?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: alreadyHolder && previous?.acquireTime ? previous.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: alreadyHolder
        ? (previous?.leaseTransitions ?? 0)
        : (previous?.leaseTransitions ?? -1) + 1,
    };
  }

  /** Remembers when the lease record last changed, on this replica's clock. */
  private observe(lease: Lease, now: number): void {
    this.observedLease = lease;
    const recordJson = JSON.stringify(lease.spec);
    if (recordJson !== this.observedRecordJson) {
      this.observedRecordJson = recordJson;
      this.observedAt = now;
    }
    const holder = lease.spec.holderIdentity ?? "";
    if (holder !== "" && holder !== this.lastKnownLeader) {
      this.lastKnownLeader = holder;
      this.options.onNewLeader?.(holder);
    }
  }

  /**
   * One attempt, abandoned after `timeoutMs` (or when `signal` aborts): a request that hangs must not
   * hold the elector past its renew deadline while another replica takes the lease.
   */
  private async attempt(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    const bounded = new AbortController();
    const timer = this.clock.setTimer(timeoutMs, () =>
      bounded.abort(new Error(`lease request took longer than ${timeoutMs} ms`)),
    );
    const onAbort = (): void => bounded.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    // The call's own promise cannot be trusted to settle (that is the point): race it with the signal.
    const abandoned = new Promise<never>((_resolve, reject) => {
      bounded.signal.addEventListener("abort", () => reject(bounded.signal.reason as Error), { once: true });
    });
    try {
      return await Promise.race([this.tryAcquireOrRenew(bounded.signal), abandoned]);
    } catch (error) {
      if (!isConflict(error)) this.options.logger?.warn({ err: errorMessage(error) }, "lease update failed");
      return false;
    } finally {
      timer.cancel();
      signal.removeEventListener("abort", onAbort);
      if (!bounded.signal.aborted) bounded.abort();
    }
  }

  private jitteredRetry(): number {
    // client-go adds up to 20% jitter while acquiring so candidates do not stampede in lockstep.
    return this.retryPeriodMs * (1 + Math.random() * 0.2);
  }

  private async campaign(signal: AbortSignal): Promise<void> {
    this.currentState = "candidate";
    while (!signal.aborted && !(await this.attempt(signal, this.renewDeadlineMs))) {
      await sleep(this.clock, this.jitteredRetry(), signal);
    }
    if (signal.aborted) return;
    this.currentState = "leader";
    this.options.logger?.info({ identity: this.identity, lease: this.options.name }, "became leader");
    this.options.onStartedLeading?.();

    let lastRenewal = this.clock.now();
    while (!signal.aborted) {
      await sleep(this.clock, this.retryPeriodMs, signal);
      if (signal.aborted) return;
      // Bounded by what is left of the renew deadline, so leadership ends at the deadline at the latest.
      const left = Math.max(0, lastRenewal + this.renewDeadlineMs - this.clock.now());
      if (await this.attempt(signal, left)) {
        lastRenewal = this.clock.now();
      } else if (this.clock.now() - lastRenewal >= this.renewDeadlineMs) {
        this.options.logger?.warn(
          { identity: this.identity },
          "failed to renew the lease in time; leadership lost",
        );
        this.currentState = "stopped";
        this.options.onStoppedLeading?.();
        return;
      }
    }
  }

  /** Gives up leadership on stop: clears the holder (if configured) and tells the owner. */
  private async leave(): Promise<void> {
    if (this.options.releaseOnStop ?? true) {
      const lease = this.observedLease;
      if (lease && lease.spec.holderIdentity === this.identity) {
        const now = this.clock.now();
        try {
          // As client-go's release: empty holder, 1 s duration, times now, transitions kept.
          await this.client.update(
            {
              ...lease,
              spec: {
                holderIdentity: "",
                leaseDurationSeconds: 1,
                acquireTime: microTime(now),
                renewTime: microTime(now),
                leaseTransitions: lease.spec.leaseTransitions ?? 0,
              },
            },
            AbortSignal.timeout(this.renewDeadlineMs),
          );
        } catch (error) {
          this.options.logger?.warn({ err: errorMessage(error) }, "failed to release the lease");
        }
      }
    }
    this.currentState = "stopped";
    this.options.onStoppedLeading?.();
  }
}
