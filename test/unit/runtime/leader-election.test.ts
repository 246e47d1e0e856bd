import { describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import { KubeApiError } from "../../../src/runtime/errors.js";
import {
  LeaderElector,
  microTime,
  type Lease,
  type LeaseClient,
} from "../../../src/runtime/leader-election.js";

/** An in-memory Lease store with the API server's optimistic concurrency on resourceVersion. */
class MemoryLeaseClient implements LeaseClient {
  lease: Lease | undefined;
  private version = 0;
  failing = false;
  updates = 0;

  get(_namespace?: string, _name?: string, _signal?: AbortSignal): Promise<Lease | undefined> {
    if (this.failing) return Promise.reject(new KubeApiError(503, "unavailable"));
    return Promise.resolve(this.lease && structuredClone(this.lease));
  }

  create(lease: Lease): Promise<Lease> {
    if (this.failing) return Promise.reject(new KubeApiError(503, "unavailable"));
    if (this.lease) return Promise.reject(new KubeApiError(409, "already exists"));
    this.lease = {
      ...structuredClone(lease),
      metadata: { ...lease.metadata, resourceVersion: String(++this.version) },
    };
    return Promise.resolve(structuredClone(this.lease));
  }

  update(lease: Lease): Promise<Lease> {
    if (this.failing) return Promise.reject(new KubeApiError(503, "unavailable"));
    if (lease.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
      return Promise.reject(new KubeApiError(409, "the object has been modified"));
    }
    this.updates++;
    this.lease = {
      ...structuredClone(lease),
      metadata: { ...lease.metadata, resourceVersion: String(++this.version) },
    };
    return Promise.resolve(structuredClone(this.lease));
  }
}

function elector(client: LeaseClient, clock: ManualClock, identity: string, events: string[]): LeaderElector {
  return new LeaderElector({
    client,
    clock,
    identity,
    namespace: "ops",
    name: "operator-lock",
    onStartedLeading: () => events.push(`${identity} started`),
    onStoppedLeading: () => events.push(`${identity} stopped`),
  });
}

async function settle(): Promise<void> {
  for (let round = 0; round < 5; round++) await new Promise((resolve) => setImmediate(resolve));
}

/** Advances the clock in small steps, letting the electors' promises run between steps. */
async function advance(clock: ManualClock, totalMs: number, stepMs = 250): Promise<void> {
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    clock.advance(stepMs);
    await settle();
  }
}

describe("LeaderElector", () => {
  it("formats MicroTime with six fractional digits", () => {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe("2026-01-02T03:04:05.678000Z");
  });

  it("creates the lease when there is none and becomes leader", async () => {
    const clock = new ManualClock(1_000_000);
    const client = new MemoryLeaseClient();
    const events: string[] = [];
    const a = elector(client, clock, "a", events);
    void a.run();
    await settle();
    expect(a.isLeader()).toBe(true);
    expect(events).toEqual(["a started"]);
    expect(client.lease?.spec).toMatchObject({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    await a.stop();
  });

  it("lets only one of two candidates lead, and renews every retry period", async () => {
    const clock = new ManualClock(1_000_000);
    const client = new MemoryLeaseClient();
    const events: string[] = [];
    const a = elector(client, clock, "a", events);
    const b = elector(client, clock, "b", events);
    void a.run();
    void b.run();
    await settle();
    await advance(clock, 30_000);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(events).toHaveLength(1);
    // ~15 renewals in 30 s at a 2 s retry period.
    expect(client.updates).toBeGreaterThanOrEqual(14);
    await a.stop();
    await b.stop();
  });

  it("takes over only after the lease record stayed unchanged for a lease duration", async () => {
    const clock = new ManualClock(1_000_000);
    const client = new MemoryLeaseClient();
    const events: string[] = [];
    // A leader that vanished without releasing: its record stays as it was.
    client.lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "operator-lock", namespace: "ops", resourceVersion: "0" },
      spec: {
        holderIdentity: "gone",
        leaseDurationSeconds: 15,
        renewTime: microTime(clock.now()),
        leaseTransitions: 3,
      },
    };
    const b = elector(client, clock, "b", events);
    void b.run();
    await settle();
    expect(b.isLeader()).toBe(false);
    await advance(clock, 14_000);
    expect(b.isLeader()).toBe(false);
    await advance(clock, 4_000);
    expect(b.isLeader()).toBe(true);
    expect(client.lease.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 4 });
    await b.stop();
  });

  it("releases the lease on stop so a waiting candidate takes over at its next attempt", async () => {
    const clock = new ManualClock(1_000_000);
    const client = new MemoryLeaseClient();
    const events: string[] = [];
    const a = elector(client, clock, "a", events);
    const b = elector(client, clock, "b", events);
    void a.run();
    await settle();
    void b.run();
    await advance(clock, 4_000);
    await a.stop();
    expect(client.lease?.spec.holderIdentity).toBe("");
    expect(events).toEqual(["a started", "a stopped"]);
    await advance(clock, 3_000);
    expect(b.isLeader()).toBe(true);
    expect(events).toEqual(["a started", "a stopped", "b started"]);
    await b.stop();
  });

  /** Elector "a", leading on a fresh lease. */
  async function leader() {
    const clock = new ManualClock(1_000_000);
    const client = new MemoryLeaseClient();
    const events: string[] = [];
    const a = elector(client, clock, "a", events);
    const running = a.run();
    await settle();
    return { clock, client, events, a, running };
  }

  it("gives up leadership when renewals keep failing past the renew deadline", async () => {
    const { clock, client, events, a, running } = await leader();
    client.failing = true;
    await advance(clock, 8_000);
    expect(a.isLeader()).toBe(true);
    await advance(clock, 4_000);
    expect(a.isLeader()).toBe(false);
    expect(events).toEqual(["a started", "a stopped"]);
    await running;
  });

  it("ends leadership at the renew deadline when a renewal hangs, and aborts the hung request", async () => {
    const { clock, client, events, a, running } = await leader();
    expect(a.isLeader()).toBe(true);
    // From now on every lease call hangs: it never answers, whatever its signal says.
    const hung: AbortSignal[] = [];
    client.get = (_namespace?: string, _name?: string, signal?: AbortSignal) => {
      if (signal) hung.push(signal);
      return new Promise<never>(() => {});
    };
    // The last renewal succeeded at 0 s; the next attempt starts at 2 s and hangs. Leadership must end
    // at the renew deadline (10 s), not when the request gives up.
    await advance(clock, 9_500);
    expect(a.isLeader()).toBe(true);
    await advance(clock, 750);
    expect(a.isLeader()).toBe(false);
    expect(events).toEqual(["a started", "a stopped"]);
    expect(hung).toHaveLength(1);
    expect(hung[0]?.aborted).toBe(true);
    await running;
  });

  it("loses a write race on a stale resourceVersion instead of overwriting the winner", async () => {
    const clock = new ManualClock(1_000_000);
    const client = new MemoryLeaseClient();
    const b = elector(client, clock, "b", []);
    const a = elector(client, clock, "a", []);
    client.lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "operator-lock", namespace: "ops", resourceVersion: "0" },
      spec: { holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 2 },
    };
    // b reads the released lease, then a re-acquires before b writes: b's write carries a stale version.
    const realGet = client.get.bind(client);
    vi.spyOn(client, "get").mockImplementationOnce(async () => {
      const seen = await realGet();
      await a.tryAcquireOrRenew();
      return seen;
    });
    await expect(b.tryAcquireOrRenew()).rejects.toThrow(/modified/);
    expect(client.lease?.spec.holderIdentity).toBe("a");
  });
});
