// How close a simulation came to what the real loop did, second by second: the mean absolute
// difference of the desired (spec.replicas) and of the Ready replicas, and the time offset of each scale
// event. Pure: the fidelity benchmark (bench/fidelity.bench.ts) feeds it `mlautoscale loadtest`'s JSON.

export interface ObservedSecond {
  t: number;
  /** spec.replicas: what the autoscalers last wrote. */
  replicas: number | null;
  readyReplicas: number | null;
}

export interface SimulatedTick {
  t: number;
  desiredReplicas: number;
  readyReplicas: number;
}

export interface ScaleChange {
  t: number;
  from: number;
  to: number;
}

export interface EventOffset {
  direction: "up" | "down";
  observed: ScaleChange;
  simulated: ScaleChange;
  /** observed.t - simulated.t: positive when the cluster acted later. */
  offsetSeconds: number;
}

export interface Fidelity {
  /** The seconds both sides cover. */
  seconds: number;
  meanAbsDesired: number;
  meanAbsReady: number;
  /** The largest difference of desired replicas at any second. */
  maxAbsDesired: number;
  events: EventOffset[];
  /** Scale events of one side with no counterpart (the k-th up of one side pairs with the other's k-th up). */
  unmatchedObserved: ScaleChange[];
  unmatchedSimulated: ScaleChange[];
  meanAbsOffsetSeconds: number | null;
  maxAbsOffsetSeconds: number | null;
}

/** The simulated value at each second: a tick's value holds for the tick. */
function perSecond(ticks: readonly SimulatedTick[], tickSeconds: number, seconds: number): SimulatedTick[] {
  const out: SimulatedTick[] = [];
  let index = 0;
  for (let t = 0; t < seconds; t++) {
    while (index + 1 < ticks.length && (ticks[index + 1]?.t ?? Infinity) <= t) index++;
    const tick = ticks[index];
    if (!tick || tick.t > t || t >= tick.t + tickSeconds) break;
    out.push({ t, desiredReplicas: tick.desiredReplicas, readyReplicas: tick.readyReplicas });
  }
  return out;
}

/** Each change of spec.replicas between one second and the next. */
export function observedChanges(observed: readonly ObservedSecond[]): ScaleChange[] {
  const changes: ScaleChange[] = [];
  let previous: number | undefined;
  for (const second of observed) {
    if (second.replicas === null) continue;
    if (previous !== undefined && second.replicas !== previous) {
      changes.push({ t: second.t, from: previous, to: second.replicas });
    }
    previous = second.replicas;
  }
  return changes;
}

/**
 * The simulation's scale events as the cluster's per-second samples would show them: changes in one tick
 * (KEDA's activation and the HPA's first scale-up in the same second) are one change, from the first's
 * count to the last's; a tick whose changes cancel out shows none.
 */
export function simulatedChanges(events: readonly ScaleChange[]): ScaleChange[] {
  const changes: ScaleChange[] = [];
  for (const event of events) {
    const last = changes.at(-1);
    if (last !== undefined && last.t === event.t) {
      last.to = event.to;
      if (last.to === last.from) changes.pop();
    } else {
      changes.push({ t: event.t, from: event.from, to: event.to });
    }
  }
  return changes;
}

/**
 * Changes in the same direction one second apart as one event, at the first's time, from the first's count
 * to the last's. KEDA's activation and the HPA's scale-up on the metric that woke the workload are one
 * moment of the loop (a poll and the sync that follows it), but they are two writes a few hundred
 * milliseconds apart, which the cluster's per-second samples show in the same second or in two; taken as
 * one on both sides, the k-th event of one side still pairs with the k-th of the other.
 */
export function mergeAdjacentSeconds(changes: readonly ScaleChange[]): ScaleChange[] {
  const merged: ScaleChange[] = [];
  let lastT = Number.NEGATIVE_INFINITY;
  for (const change of changes) {
    const last = merged.at(-1);
    const up = change.to > change.from;
    if (last !== undefined && change.t - lastT <= 1 && last.to > last.from === up) {
      last.to = change.to;
    } else {
      merged.push({ t: change.t, from: change.from, to: change.to });
    }
    lastT = change.t;
  }
  return merged;
}

function pair(
  observed: readonly ScaleChange[],
  simulated: readonly ScaleChange[],
  direction: "up" | "down",
): { pairs: EventOffset[]; observed: ScaleChange[]; simulated: ScaleChange[] } {
  const isDirection = (change: ScaleChange) =>
    direction === "up" ? change.to > change.from : change.to < change.from;
  const mine = observed.filter(isDirection);
  const theirs = simulated.filter(isDirection);
  const count = Math.min(mine.length, theirs.length);
  const pairs: EventOffset[] = [];
  for (let index = 0; index < count; index++) {
    const o = mine[index] as ScaleChange;
    const s = theirs[index] as ScaleChange;
    pairs.push({ direction, observed: o, simulated: s, offsetSeconds: o.t - s.t });
  }
  return { pairs, observed: mine.slice(count), simulated: theirs.slice(count) };
}

export function fidelity(
  observed: readonly ObservedSecond[],
  simulatedTicks: readonly SimulatedTick[],
  tickSeconds: number,
  simulatedEvents: readonly ScaleChange[],
): Fidelity {
  const simulated = perSecond(simulatedTicks, tickSeconds, observed.length);
  const seconds = Math.min(observed.length, simulated.length);
  let desired = 0;
  let ready = 0;
  let known = 0;
  let maxAbsDesired = 0;
  for (let t = 0; t < seconds; t++) {
    const o = observed[t];
    const s = simulated[t];
    if (!o || !s || o.replicas === null || o.readyReplicas === null) continue;
    const difference = Math.abs(o.replicas - s.desiredReplicas);
    desired += difference;
    ready += Math.abs(o.readyReplicas - s.readyReplicas);
    maxAbsDesired = Math.max(maxAbsDesired, difference);
    known++;
  }
  const window = observed.slice(0, seconds);
  return {
    seconds,
    meanAbsDesired: known > 0 ? desired / known : 0,
    meanAbsReady: known > 0 ? ready / known : 0,
    maxAbsDesired,
    ...pairScaleEvents(
      observedChanges(window),
      simulatedEvents.filter((event) => event.t < seconds),
    ),
  };
}

/**
 * The cluster's scale events (from its per-second samples) against the simulation's, each side's changes
 * one second apart taken as one: the k-th scale-up of one side with the k-th of the other, scale-downs
 * likewise, and the offsets.
 */
export function pairScaleEvents(
  observedEvents: readonly ScaleChange[],
  simulatedEvents: readonly ScaleChange[],
): Pick<
  Fidelity,
  "events" | "unmatchedObserved" | "unmatchedSimulated" | "meanAbsOffsetSeconds" | "maxAbsOffsetSeconds"
> {
  const observed = mergeAdjacentSeconds(observedEvents);
  const simulated = mergeAdjacentSeconds(simulatedChanges(simulatedEvents));
  const up = pair(observed, simulated, "up");
  const down = pair(observed, simulated, "down");
  const events = [...up.pairs, ...down.pairs].sort((a, b) => a.observed.t - b.observed.t);
  const offsets = events.map((event) => Math.abs(event.offsetSeconds));
  return {
    events,
    unmatchedObserved: [...up.observed, ...down.observed],
    unmatchedSimulated: [...up.simulated, ...down.simulated],
    meanAbsOffsetSeconds: offsets.length > 0 ? offsets.reduce((a, b) => a + b, 0) / offsets.length : null,
    maxAbsOffsetSeconds: offsets.length > 0 ? Math.max(...offsets) : null,
  };
}
