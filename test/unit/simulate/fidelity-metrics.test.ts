// The fidelity benchmark's arithmetic (bench/fidelity-metrics.ts).
import { describe, expect, it } from "vitest";
import {
  fidelity,
  mergeAdjacentSeconds,
  observedChanges,
  simulatedChanges,
  type ObservedSecond,
} from "../../../bench/fidelity-metrics.js";

const second = (t: number, replicas: number | null, readyReplicas: number | null): ObservedSecond => ({
  t,
  replicas,
  readyReplicas,
});

describe("fidelity", () => {
  it("compares second by second, holding each simulated tick for its length", () => {
    // Observed: 2 replicas for 4 s, then 4 (3 Ready in the last second).
    const observed = [
      second(0, 2, 2),
      second(1, 2, 2),
      second(2, 2, 2),
      second(3, 2, 2),
      second(4, 4, 2),
      second(5, 4, 3),
    ];
    // Simulated on 3 s ticks: 2 until 3, then 5 (2 Ready).
    const ticks = [
      { t: 0, desiredReplicas: 2, readyReplicas: 2 },
      { t: 3, desiredReplicas: 5, readyReplicas: 2 },
    ];
    const result = fidelity(observed, ticks, 3, [{ t: 3, from: 2, to: 5 }]);
    expect(result.seconds).toBe(6);
    // |2-5| at 3, |4-5| at 4 and 5: 5 / 6.
    expect(result.meanAbsDesired).toBeCloseTo(5 / 6, 12);
    // Ready differs only at 5: 1 / 6.
    expect(result.meanAbsReady).toBeCloseTo(1 / 6, 12);
    expect(result.maxAbsDesired).toBe(3);
    expect(result.events).toEqual([
      {
        direction: "up",
        observed: { t: 4, from: 2, to: 4 },
        simulated: { t: 3, from: 2, to: 5 },
        offsetSeconds: 1,
      },
    ]);
    expect(result.meanAbsOffsetSeconds).toBe(1);
  });

  it("pairs the k-th scale-up with the k-th, scale-downs likewise, and lists what has no counterpart", () => {
    const observed = [second(0, 0, 0), second(1, 1, 0), second(2, 1, 0), second(3, 4, 0), second(4, 2, 1)];
    const ticks = [{ t: 0, desiredReplicas: 0, readyReplicas: 0 }];
    const result = fidelity(observed, ticks, 10, [
      { t: 0, from: 0, to: 1 },
      { t: 2, from: 1, to: 4 },
      { t: 9, from: 4, to: 8 },
    ]);
    expect(result.events.map((event) => [event.direction, event.offsetSeconds])).toEqual([
      ["up", 1],
      ["up", 1],
    ]);
    // The observed scale-down has no simulated one in the window; the simulated third scale-up is past it.
    expect(result.unmatchedObserved).toEqual([{ t: 4, from: 4, to: 2 }]);
    expect(result.unmatchedSimulated).toEqual([]);
  });

  it("takes the simulation's changes in one tick as one, as the cluster's per-second samples show them", () => {
    expect(
      simulatedChanges([
        { t: 9, from: 0, to: 1 },
        { t: 9, from: 1, to: 4 },
        { t: 24, from: 4, to: 10 },
        { t: 30, from: 10, to: 12 },
        { t: 30, from: 12, to: 10 },
      ]),
    ).toEqual([
      { t: 9, from: 0, to: 4 },
      { t: 24, from: 4, to: 10 },
    ]);
    // KEDA's activation and the HPA's first scale-up in one second: the samples see 0 -> 4 once, and the
    // next scale-ups pair with the next ones, not one behind.
    const observed = Array.from({ length: 30 }, (_, t) => second(t, t < 10 ? 0 : t < 25 ? 4 : 10, 0));
    const result = fidelity(observed, [{ t: 0, desiredReplicas: 0, readyReplicas: 0 }], 30, [
      { t: 9, from: 0, to: 1 },
      { t: 9, from: 1, to: 4 },
      { t: 24, from: 4, to: 10 },
    ]);
    expect(result.events.map((event) => event.offsetSeconds)).toEqual([1, 1]);
    expect(result.unmatchedSimulated).toEqual([]);
  });

  it("takes one side's changes one second apart as one event, as KEDA's activation and the HPA's scale-up", () => {
    expect(
      mergeAdjacentSeconds([
        { t: 12, from: 0, to: 1 },
        { t: 13, from: 1, to: 2 },
        { t: 28, from: 2, to: 4 },
        { t: 29, from: 4, to: 3 },
        { t: 40, from: 3, to: 5 },
        { t: 42, from: 5, to: 6 },
      ]),
    ).toEqual([
      { t: 12, from: 0, to: 2 },
      { t: 28, from: 2, to: 4 },
      { t: 29, from: 4, to: 3 },
      { t: 40, from: 3, to: 5 },
      { t: 42, from: 5, to: 6 },
    ]);
    // The cluster's KEDA activated at 12 s and its HPA's write showed at 13 s; the simulation did both at
    // 12 s. Its later scale-up (27 s) pairs with the cluster's (28 s), not with the HPA's first write.
    const observed = Array.from({ length: 40 }, (_, t) =>
      second(t, t < 12 ? 0 : t < 13 ? 1 : t < 28 ? 2 : 4, 0),
    );
    const result = fidelity(observed, [{ t: 0, desiredReplicas: 0, readyReplicas: 0 }], 40, [
      { t: 12, from: 0, to: 1 },
      { t: 12, from: 1, to: 3 },
      { t: 27, from: 3, to: 4 },
    ]);
    expect(result.events.map((event) => event.offsetSeconds)).toEqual([0, 1]);
    expect(result.unmatchedObserved).toEqual([]);
  });

  it("skips seconds whose reads failed, and counts a change across them once", () => {
    expect(observedChanges([second(0, 2, 2), second(1, null, null), second(2, 3, 2)])).toEqual([
      { t: 2, from: 2, to: 3 },
    ]);
    const result = fidelity(
      [second(0, 2, 2), second(1, null, null), second(2, 2, 2)],
      [{ t: 0, desiredReplicas: 3, readyReplicas: 2 }],
      15,
      [],
    );
    expect(result.meanAbsDesired).toBe(1);
  });
});
