import { describe, expect, it } from "vitest";
import { compareRuns, simulatedSeconds } from "../../../src/loadtest/compare.js";
import type { ObservedStep } from "../../../src/loadtest/timeline.js";
import { summarize } from "../../../src/loadtest/timeline.js";
import type { SimulationResult, SimulationSummary } from "../../../src/simulate/simulate.js";
import { StepTable } from "../../../src/simulate/steps.js";

/** A simulation with a tick of 5 s: (t, desired, ready, queue) per tick. */
function simulation(rows: [number, number, number, number][], tick = 5): SimulationResult {
  const table = new StepTable(rows.length);
  for (const [t, desiredReplicas, readyReplicas, queue] of rows) {
    table.push({
      t,
      load: 0,
      desiredReplicas,
      readyReplicas,
      loadingReplicas: 0,
      pendingReplicas: 0,
      queue,
      waitSeconds: 0,
      served: 0,
      dropped: 0,
      sloViolations: 0,
      utilization: 0,
    });
  }
  return {
    table,
    steps: table.toArray(),
    events: [],
    summary: { name: "svc", engine: "HPA", tickSeconds: tick } as SimulationSummary,
  };
}

function observed(rows: [number | null, number | null, number | null][]): ObservedStep[] {
  return rows.map(([replicas, readyReplicas, queue], t) => ({
    t,
    traceT: t,
    load: 1,
    desiredReplicas: replicas,
    replicas,
    readyReplicas,
    queue,
  }));
}

describe("the simulation per second", () => {
  it("holds each tick's replicas, interpolates its queue, and ends with the simulation", () => {
    const sim = simulation([
      [0, 1, 1, 0],
      [5, 2, 1, 7],
    ]);
    const seconds = simulatedSeconds(sim, 12);
    expect(seconds).toHaveLength(10);
    expect(seconds.map((s) => s.desiredReplicas)).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    // The queue goes from 0 at the start of the second tick to 7 at its end: 3/5 of the way after second 7.
    expect(seconds[7]).toEqual({ t: 7, desiredReplicas: 2, readyReplicas: 1, queue: 4.2 });
    expect(seconds[9]?.queue).toBe(7);
  });
});

describe("observed beside simulated", () => {
  it("compares peak replicas, the first scale-up, replica-seconds and the queue over the seconds both cover", () => {
    // Simulated: 1 replica for 5 s, then 3 (ready 1 then 3).
    const sim = simulation([
      [0, 1, 1, 0],
      [5, 3, 1, 10],
      [10, 3, 3, 2],
    ]);
    // Observed: scales at 8 s to 2, ready at 12 s; 20 s observed, only 15 s simulated.
    const seen = observed(
      Array.from({ length: 20 }, (_, t): [number, number, number] => [
        t < 8 ? 1 : 2,
        t < 12 ? 1 : 2,
        t === 9 ? 14 : 3,
      ]),
    );
    const comparison = compareRuns(seen, sim);
    expect(comparison.windowSeconds).toBe(15);
    expect(comparison.peakReplicas).toEqual({ observed: 2, simulated: 3, difference: -1 });
    expect(comparison.firstScaleUpSeconds).toEqual({ observed: 8, simulated: 5, difference: 3 });
    // 8 x 1 + 7 x 2 = 22 observed; 5 x 1 + 10 x 3 = 35 simulated.
    expect(comparison.replicaSeconds).toEqual({ observed: 22, simulated: 35, difference: -13 });
    // 12 x 1 + 3 x 2 = 18 observed; 10 x 1 + 5 x 3 = 25 simulated.
    expect(comparison.readyReplicaSeconds).toEqual({ observed: 18, simulated: 25, difference: -7 });
    expect(comparison.maxQueue).toEqual({ observed: 14, simulated: 10, difference: 4 });
    expect(comparison.notes).toEqual([
      "peak replicas: 2 observed, 3 simulated: the cluster scaled less than predicted",
      "first scale-up: at 8 s observed, 5 s simulated: the cluster was 3 s slower",
      "replica-seconds: 22 observed, 35 simulated (-37.1%)",
      "ready replica-seconds: 18 observed, 25 simulated (-28%)",
      "largest queue: 14 observed, 10 simulated",
    ]);
  });

  it("says when only one of them scaled up, and skips unknown samples", () => {
    const sim = simulation([[0, 2, 2, 0]], 15);
    const seen = observed([
      [2, 2, 0],
      [null, null, null],
      [3, 2, 5],
    ]);
    const comparison = compareRuns(seen, sim);
    expect(comparison.firstScaleUpSeconds).toEqual({ observed: 2, simulated: null, difference: null });
    expect(comparison.notes).toContain(
      "first scale-up: 2 s observed, never simulated: the cluster scaled up where the simulation did not",
    );
    expect(comparison.replicaSeconds.observed).toBe(5);
  });
});

describe("the observed summary", () => {
  it("totals what was sent and finds the peaks and the first scale-up", () => {
    const steps = observed([
      [1, 1, 1],
      [1, 0, 4],
      [3, 1, 9],
      [null, null, null],
      [2, 3, 2],
    ]);
    expect(
      summarize(steps, {
        scheduled: 5,
        traceArrivals: 5.2,
        missedSamples: 1,
        maxLagSeconds: 0.2,
        interrupted: false,
      }),
    ).toEqual({
      durationSeconds: 5,
      published: 5,
      scheduled: 5,
      traceArrivals: 5.2,
      initialReplicas: 1,
      peakDesiredReplicas: 3,
      peakReplicas: 3,
      peakReadyReplicas: 3,
      firstScaleUpSeconds: 2,
      replicaSeconds: 7,
      readyReplicaSeconds: 5,
      maxQueue: 9,
      finalQueue: 2,
      missedSamples: 1,
      maxLagSeconds: 0.2,
      interrupted: false,
    });
  });
});
