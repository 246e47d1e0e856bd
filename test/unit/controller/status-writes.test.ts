// The status is written once per reconcile, from the caches and the API server's answers to the writes
// just made; a cache that has not yet seen the last status written neither causes a second write nor
// moves lastTransitionTime; and events follow the transitions that were written.
import { describe, expect, it } from "vitest";
import { deepFreeze } from "../../../src/runtime/object.js";
import { validBasePolicy } from "../../fixtures/invalid-policies.js";
import { createHarness, reconcileOnce } from "../../fixtures/reconciler-harness.js";

function clock(start: string) {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
  };
}

describe("the status of a reconcile", () => {
  it("reports the children from the API server's answers, before the caches have seen them", async () => {
    const { status, statuses } = await reconcileOnce(validBasePolicy(), {
      answer: (desired) =>
        desired.kind === "HorizontalPodAutoscaler"
          ? {
              status: {
                currentReplicas: 1,
                desiredReplicas: 3,
                conditions: [
                  { type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: "ok" },
                ],
              },
            }
          : desired.kind === "Deployment"
            ? { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } }
            : undefined,
    });
    expect(statuses).toHaveLength(1);
    expect(status?.desiredReplicas).toBe(3);
    expect(status?.readyReplicas).toBe(1);
    expect(status?.conditions?.find((c) => c.type === "ScalingActive")).toMatchObject({
      status: "True",
      reason: "ValidMetricFound",
    });
    expect(status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True" });
  });
});

describe("a cache that lags behind the status just written", () => {
  it("makes no second write and keeps lastTransitionTime", async () => {
    const time = clock("2026-12-01T10:00:00Z");
    const harness = createHarness(validBasePolicy(), { now: time.now });
    await harness.reconcile();
    expect(harness.recorded.statuses).toHaveLength(1);
    const first = harness.recorded.statuses[0];

    // The cache still holds the policy without the status: the next reconcile goes by the one written.
    time.advance(5);
    await harness.reconcile();
    expect(harness.recorded.statuses).toHaveLength(1);

    // Once the cache has the write (its resourceVersion), it is the cache that counts again.
    harness.policies.upsert(
      deepFreeze({
        ...harness.policy(),
        status: first,
        metadata: { ...harness.policy().metadata, resourceVersion: "1" },
      }),
    );
    time.advance(5);
    await harness.reconcile();
    expect(harness.recorded.statuses).toHaveLength(1);
  });

  it("lets go of the status written as soon as the policy cache shows it, with no reconcile", async () => {
    // A status change does not reconcile the policy again: the cache's update event is what tells.
    const harness = createHarness(validBasePolicy());
    await harness.reconcile();
    expect(harness.reconciler.statusesAwaitingCache).toBe(1);

    // An update from before the write keeps it.
    const before = harness.policy();
    harness.reconciler.policyCached(
      deepFreeze({ ...before, metadata: { ...before.metadata, resourceVersion: "0" } }),
    );
    expect(harness.reconciler.statusesAwaitingCache).toBe(1);

    const written = deepFreeze({
      ...before,
      status: harness.recorded.statuses[0],
      metadata: { ...before.metadata, resourceVersion: "1" },
    });
    harness.policies.upsert(written);
    harness.reconciler.policyCached(written);
    expect(harness.reconciler.statusesAwaitingCache).toBe(0);
    await harness.reconcile();
    expect(harness.recorded.statuses).toHaveLength(1);
  });

  it("trusts the status written for a bounded time only: another writer's later status then counts", async () => {
    const time = clock("2026-12-01T10:00:00Z");
    const harness = createHarness(validBasePolicy(), { now: time.now });
    await harness.reconcile();
    time.advance(60);
    await harness.reconcile();
    // The cache never showed the write: after the bound the cache's (empty) status is the previous one,
    // so the status is written again, with a new transition time.
    expect(harness.recorded.statuses).toHaveLength(2);
    const times = harness.recorded.statuses.map(
      (s) => s.conditions?.find((c) => c.type === "Reconciled")?.lastTransitionTime,
    );
    expect(times[0]).not.toBe(times[1]);
  });
});

describe("events of condition changes", () => {
  // The Deployment answers ready: Ready turns True, which is an event.
  const ready = (desired: { kind?: string }) =>
    desired.kind === "Deployment"
      ? { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } }
      : undefined;

  it("are recorded only when the status that holds them was written", async () => {
    const failing = createHarness(validBasePolicy(), {
      answer: ready,
      statusError: new Error("unavailable"),
    });
    await expect(failing.reconcile()).rejects.toThrow("unavailable");
    expect(failing.recorded.events.filter((e) => !e.startsWith("Normal Created"))).toEqual([]);

    const written = await reconcileOnce(validBasePolicy(), { answer: ready });
    expect(written.events.filter((e) => !e.startsWith("Normal Created"))).toEqual([
      expect.stringMatching(/^Normal Available: /) as unknown,
    ]);
  });
});
