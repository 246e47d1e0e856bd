import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  LeaderElector,
  restLeaseClient,
  type Lease,
  type LeaseClient,
} from "../../src/runtime/leader-election.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from "../support/cluster.js";

describe("leader election on a real Lease", () => {
  let namespace: string;
  let client: LeaseClient;
  const running: LeaderElector[] = [];

  beforeAll(async () => {
    namespace = await createTestNamespace("runtime-leader");
    client = restLeaseClient(new KubeRestClient(testKubeConfig()));
  });

  afterAll(async () => {
    await Promise.all(running.map((elector) => elector.stop()));
    await deleteTestNamespace(namespace);
  });

  function candidate(
    name: string,
    identity: string,
    events: string[],
    timing: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number },
    releaseOnStop = true,
  ): LeaderElector {
    const elector = new LeaderElector({
      client,
      namespace,
      name,
      identity,
      releaseOnStop,
      ...timing,
      onStartedLeading: () => events.push(`${identity} started`),
      onStoppedLeading: () => events.push(`${identity} stopped`),
    });
    running.push(elector);
    void elector.run();
    return elector;
  }

  async function readLease(name: string): Promise<Lease> {
    const lease = await client.get(namespace, name);
    if (!lease) throw new Error(`lease ${name} not found`);
    return lease;
  }

  const fast = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };

  it("elects exactly one of two candidates, which keeps renewing", async () => {
    const events: string[] = [];
    const a = candidate("one-leader", "replica-a", events, fast);
    const b = candidate("one-leader", "replica-b", events, fast);
    await vi.waitFor(() => expect(events).toHaveLength(1), 15_000);
    const leader = a.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    const lease = await readLease("one-leader");
    expect(lease.spec.holderIdentity).toBe(leader.identity);
    expect(lease.spec.leaseDurationSeconds).toBe(4);
    // Several renewals later the same replica still leads and the follower never started.
    await vi.waitFor(async () => {
      const renewed = await readLease("one-leader");
      expect(renewed.spec.renewTime).not.toBe(lease.spec.renewTime);
    }, 15_000);
    expect(leader.isLeader()).toBe(true);
    expect(follower.isLeader()).toBe(false);
    expect(events).toEqual([`${leader.identity} started`]);
    await leader.stop();
    await follower.stop();
  });

  it("lets the other replica take over once a leader that vanished without releasing has expired", async () => {
    const events: string[] = [];
    const a = candidate("crash", "replica-a", events, fast, false);
    await vi.waitFor(() => expect(a.isLeader()).toBe(true), 15_000);
    const b = candidate("crash", "replica-b", events, fast);
    // The leader disappears without clearing the lease (as after a crash).
    await a.stop();
    const abandoned = await readLease("crash");
    expect(abandoned.spec.holderIdentity).toBe("replica-a");
    await vi.waitFor(() => expect(b.isLeader()).toBe(true), 3 * fast.leaseDurationMs);
    const taken = await readLease("crash");
    expect(taken.spec.holderIdentity).toBe("replica-b");
    expect(taken.spec.leaseTransitions).toBe((abandoned.spec.leaseTransitions ?? 0) + 1);
    // b waited for the lease to expire: it acquired no earlier than a lease duration after a's last renewal.
    const gapMs = Date.parse(taken.spec.acquireTime ?? "") - Date.parse(abandoned.spec.renewTime ?? "");
    expect(gapMs).toBeGreaterThanOrEqual(fast.leaseDurationMs);
    expect(events).toEqual(["replica-a started", "replica-a stopped", "replica-b started"]);
    await b.stop();
  });

  it("hands over at once after the leader releases the lease, without waiting for it to expire", async () => {
    const events: string[] = [];
    // A lease far longer than the test waits: only a release lets b in.
    const slow = { leaseDurationMs: 120_000, renewDeadlineMs: 60_000, retryPeriodMs: 500 };
    const a = candidate("release", "replica-a", events, slow);
    await vi.waitFor(() => expect(a.isLeader()).toBe(true), 15_000);
    const b = candidate("release", "replica-b", events, slow);
    const held = await readLease("release");
    expect(held.spec.holderIdentity).toBe("replica-a");
    await a.stop();
    // Released: empty, unless b, retrying every 500 ms, has already taken it.
    const released = await readLease("release");
    expect(["", "replica-b"]).toContain(released.spec.holderIdentity);
    await vi.waitFor(() => expect(b.isLeader()).toBe(true), 15_000);
    const taken = await readLease("release");
    expect(taken.spec.holderIdentity).toBe("replica-b");
    // Long before a's lease would have expired: only the release let b in.
    expect(Date.parse(taken.spec.acquireTime ?? "") - Date.parse(held.spec.renewTime ?? "")).toBeLessThan(
      slow.leaseDurationMs / 4,
    );
    expect(events).toEqual(["replica-a started", "replica-a stopped", "replica-b started"]);
    await b.stop();
  });
});
