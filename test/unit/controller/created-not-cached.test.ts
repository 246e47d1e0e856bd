// A child the reconciler created is taken as existing until the caches show it: another reconcile of the
// policy in between (its other children's events bring one) does not send the create again, which the
// API server would answer 409 AlreadyExists and the writer would follow with a read.
import { describe, expect, it } from "vitest";
import { validBasePolicy } from "../../fixtures/invalid-policies.js";
import { createHarness } from "../../fixtures/reconciler-harness.js";

const NAME = "base-policy";
const CHILDREN = [`Deployment ${NAME}`, `HorizontalPodAutoscaler ${NAME}`, `PodDisruptionBudget ${NAME}`];

function clock(startMs: number): { now: () => Date; advance: (ms: number) => void } {
  let nowMs = startMs;
  return { now: () => new Date(nowMs), advance: (ms) => (nowMs += ms) };
}

describe("children created and not yet in the caches", () => {
  it("are not created again by the next reconcile, nor announced twice", async () => {
    const harness = createHarness(validBasePolicy());
    await harness.reconcile();
    expect([...harness.recorded.creates].sort()).toEqual(CHILDREN);
    const createdEvents = harness.recorded.events.filter((e) => e.startsWith("Normal Created"));
    expect(createdEvents).toHaveLength(1);

    await harness.reconcile();
    expect(harness.recorded.creates).toHaveLength(CHILDREN.length);
    expect(harness.recorded.events.filter((e) => e.startsWith("Normal Created"))).toEqual(createdEvents);
  });

  it("are created again once the caches have shown their deletion", async () => {
    const harness = createHarness(validBasePolicy());
    await harness.reconcile();
    for (const object of harness.recorded.applied) harness.reconciler.childCached(object);
    await harness.reconcile();
    expect(harness.recorded.creates).toHaveLength(2 * CHILDREN.length);
  });

  it("are created again when the caches have not shown them within the trust period", async () => {
    const time = clock(Date.parse("2026-12-07T12:00:00Z"));
    const harness = createHarness(validBasePolicy(), { now: time.now });
    await harness.reconcile();
    time.advance(29_000);
    await harness.reconcile();
    expect(harness.recorded.creates).toHaveLength(CHILDREN.length);
    time.advance(2_000);
    await harness.reconcile();
    expect(harness.recorded.creates).toHaveLength(2 * CHILDREN.length);
  });
});
