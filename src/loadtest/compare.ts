// The observed timeline beside the simulator's prediction for the same load. Pure.
import type { SimulationResult } from "../simulate/simulate.js";
import { firstRise, type ObservedStep } from "./timeline.js";

/** The simulation at one real second: the values of the simulated tick that second falls in. */
export interface SimulatedSecond {
  t: number;
  desiredReplicas: number;
  readyReplicas: number;
  queue: number;
}

/**
 * The simulation's timeline (one row per tick) as one row per second, for `seconds` seconds. Replicas
 * hold for the tick, as the controllers set them at its start; the queue, which the simulator gives at
 * the end of each tick, is interpolated from the end of the previous tick, so that second s shows about
 * what waits at s + 1, as the load test's sample after that second's messages does.
 */
export function simulatedSeconds(result: SimulationResult, seconds: number): SimulatedSecond[] {
  const steps = result.steps;
  const tick = result.summary.tickSeconds;
  const out: SimulatedSecond[] = [];
  let index = 0;
  for (let t = 0; t < seconds; t++) {
    while (index + 1 < steps.length && (steps[index + 1]?.t ?? Infinity) <= t) index++;
    const step = steps[index];
    if (!step || step.t > t) break;
    // Past the simulation's last tick the timeline ends: no invented values.
    if (t >= step.t + tick) break;
    const before = steps[index - 1]?.queue ?? 0;
    const fraction = Math.min(1, (t + 1 - step.t) / tick);
    out.push({
      t,
      desiredReplicas: step.desiredReplicas,
      readyReplicas: step.readyReplicas,
      queue: before + (step.queue - before) * fraction,
    });
  }
  return out;
}

export interface Difference {
  observed: number | null;
  simulated: number | null;
  /** observed - simulated, when both are known. */
  difference: number | null;
}

export interface Comparison {
  /** The seconds both timelines cover, from 0: the comparison is over these only. */
  windowSeconds: number;
  peakReplicas: Difference;
  firstScaleUpSeconds: Difference;
  replicaSeconds: Difference;
  readyReplicaSeconds: Difference;
  maxQueue: Difference;
  /** A few sentences on where the two differ. */
  notes: string[];
}

function difference(observed: number | null, simulated: number | null): Difference {
  return {
    observed,
    simulated,
    difference: observed === null || simulated === null ? null : observed - simulated,
  };
}

function maxKnown(values: readonly (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : Math.max(...known);
}

function sumKnown(values: readonly (number | null)[]): number {
  return values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function seconds(value: number | null): string {
  return value === null ? "never" : `${round(value)} s`;
}

function percent(observed: number, simulated: number): string {
  if (simulated === 0) return observed === 0 ? "" : " (the simulation has none)";
  const change = ((observed - simulated) / simulated) * 100;
  return ` (${change >= 0 ? "+" : ""}${round(change)}%)`;
}

/**
 * Peak replicas, time to the first scale-up, replica-seconds and the largest queue, observed and
 * simulated, over the seconds both cover. Replicas are spec.replicas on both sides (the simulator's
 * desiredReplicas is the Deployment's replicas after the controllers acted).
 */
export function compareRuns(observed: readonly ObservedStep[], simulation: SimulationResult): Comparison {
  const simulated = simulatedSeconds(simulation, observed.length);
  const window = Math.min(observed.length, simulated.length);
  const seen = observed.slice(0, window);
  const predicted = simulated.slice(0, window);
  const comparison: Comparison = {
    windowSeconds: window,
    peakReplicas: difference(
      maxKnown(seen.map((step) => step.replicas)),
      maxKnown(predicted.map((step) => step.desiredReplicas)),
    ),
    firstScaleUpSeconds: difference(
      firstRise(seen.map((step) => step.replicas)),
      firstRise(predicted.map((step) => step.desiredReplicas)),
    ),
    replicaSeconds: difference(
      sumKnown(seen.map((step) => step.replicas)),
      sumKnown(predicted.map((step) => step.desiredReplicas)),
    ),
    readyReplicaSeconds: difference(
      sumKnown(seen.map((step) => step.readyReplicas)),
      sumKnown(predicted.map((step) => step.readyReplicas)),
    ),
    maxQueue: difference(
      maxKnown(seen.map((step) => step.queue)),
      maxKnown(predicted.map((step) => step.queue)),
    ),
    notes: [],
  };
  comparison.notes = describe(comparison);
  return comparison;
}

function describe(c: Comparison): string[] {
  if (c.windowSeconds === 0) return ["nothing to compare: no second was observed"];
  const notes: string[] = [];
  const peak = c.peakReplicas;
  if (peak.observed !== null && peak.simulated !== null) {
    notes.push(
      peak.observed === peak.simulated
        ? `peak replicas: ${peak.observed} observed and simulated`
        : `peak replicas: ${peak.observed} observed, ${peak.simulated} simulated: the cluster scaled ${
            peak.observed > peak.simulated ? "higher" : "less"
          } than predicted`,
    );
  }
  const first = c.firstScaleUpSeconds;
  if (first.observed === null && first.simulated === null) {
    notes.push("first scale-up: neither scaled up");
  } else if (first.observed === null || first.simulated === null) {
    notes.push(
      `first scale-up: ${seconds(first.observed)} observed, ${seconds(first.simulated)} simulated: ${
        first.observed === null
          ? "the cluster never scaled up where the simulation did"
          : "the cluster scaled up where the simulation did not"
      }`,
    );
  } else {
    const delta = first.observed - first.simulated;
    notes.push(
      `first scale-up: at ${seconds(first.observed)} observed, ${seconds(first.simulated)} simulated${
        delta === 0 ? "" : `: the cluster was ${seconds(Math.abs(delta))} ${delta > 0 ? "slower" : "faster"}`
      }`,
    );
  }
  const replicas = c.replicaSeconds;
  if (replicas.observed !== null && replicas.simulated !== null) {
    notes.push(
      `replica-seconds: ${round(replicas.observed)} observed, ${round(replicas.simulated)} simulated${percent(
        replicas.observed,
        replicas.simulated,
      )}`,
    );
  }
  const ready = c.readyReplicaSeconds;
  if (ready.observed !== null && ready.simulated !== null && ready.observed !== ready.simulated) {
    notes.push(
      `ready replica-seconds: ${round(ready.observed)} observed, ${round(ready.simulated)} simulated${percent(
        ready.observed,
        ready.simulated,
      )}`,
    );
  }
  const queue = c.maxQueue;
  if (queue.observed !== null && queue.simulated !== null) {
    notes.push(`largest queue: ${round(queue.observed)} observed, ${round(queue.simulated)} simulated`);
  }
  return notes;
}
