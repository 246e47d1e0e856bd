// One or two lines per changed field, with a reason taken from the simulation: the recommended policy is
// replayed next to the same policy with that one field back at its original value, and the line names the
// moment where the two differ most (the longest wait, or the most replicas held for nothing).
import { duration } from "../simulate/format.js";
import type { Outcome, Timeline } from "./evaluate.js";
import type { Knob, KnobValue } from "./knobs.js";

export interface Detailed {
  outcome: Outcome;
  timeline: Timeline;
}

export interface ExplainContext {
  serviceRatePerReplica: number;
  /** Seconds from pod creation to Ready: scheduling plus the model's load. */
  startupSeconds: number;
  maxViolationRatio: number;
  /** The trace's time of t = 0, when it knows it. */
  wallClockStart?: number;
}

export interface Change {
  field: string;
  label: string;
  from: KnobValue;
  to: KnobValue;
  /** The sentence: "queue target 10 -> 6: with 10, ... requests wait 14 s ... at 13:05 ...". */
  reason: string;
}

/** `13:05` when the trace knows its time of day (UTC), else the time since its start: `1h05m`. */
export function timeLabel(t: number, wallClockStart: number | undefined): string {
  if (wallClockStart === undefined) return duration(t);
  const date = new Date((wallClockStart + t) * 1000);
  return `${String(date.getUTCHours()).padStart(2, "0")}:${String(date.getUTCMinutes()).padStart(2, "0")}`;
}

export const percent = (ratio: number) => `${(ratio * 100).toFixed(2)}%`;
const seconds = (value: number) => `${value < 10 ? value.toFixed(1) : Math.round(value)} s`;
const rate = (value: number) => `${value < 10 ? value.toFixed(1) : Math.round(value)} req/s`;
const replicas = (value: number) => `${value} replica${value === 1 ? "" : "s"}`;
/** Two decimals, or two significant digits for less than 0.1. */
const amount = (value: number) => (Math.abs(value) >= 0.1 ? value.toFixed(2) : value.toPrecision(2));

function held(timeline: Timeline, index: number): number {
  return (
    (timeline.readyReplicas[index] ?? 0) +
    (timeline.loadingReplicas[index] ?? 0) +
    (timeline.pendingReplicas[index] ?? 0)
  );
}

/** The step where `without` makes requests wait longest among the steps it has more violations than `with`. */
function worstWait(withChange: Timeline, without: Timeline): number {
  let worst = -1;
  for (let index = 0; index < without.t.length; index++) {
    if ((without.sloViolations[index] ?? 0) <= (withChange.sloViolations[index] ?? 0) + 1e-9) continue;
    if (worst < 0 || (without.waitSeconds[index] ?? 0) > (without.waitSeconds[worst] ?? 0)) worst = index;
  }
  return worst;
}

/** The step where `without` holds the most replicas more than `with`. */
function mostExtra(withChange: Timeline, without: Timeline): number {
  let most = -1;
  let mostExtraReplicas = 0;
  for (let index = 0; index < without.t.length; index++) {
    const extra = held(without, index) - held(withChange, index);
    if (extra > mostExtraReplicas) {
      mostExtraReplicas = extra;
      most = index;
    }
  }
  return most;
}

/** The recommended policy and the same with one field back at `from`. */
interface Comparison {
  knob: Knob;
  from: string;
  withChange: Detailed;
  without: Detailed;
  context: ExplainContext;
}

function latencyReason({ knob, from, withChange, without, context }: Comparison): string {
  const index = worstWait(withChange.timeline, without.timeline);
  const w = withChange.timeline;
  const o = without.timeline;
  const at = timeLabel(o.t[index] ?? 0, context.wallClockStart);
  const load = o.load[index] ?? 0;
  const need = Math.ceil(load / context.serviceRatePerReplica - 1e-9);
  const desired = o.desiredReplicas[index] ?? 0;
  const ready = o.readyReplicas[index] ?? 0;
  let how: string;
  if (knob.kind === "max" && need > desired) {
    how = `the replicas stop at ${desired} at ${at}, where ${rate(load)} need ${need}`;
  } else if (knob.kind === "min") {
    how = `${rate(load)} at ${at} meet ${replicas(ready)} ready, and a new one takes ${Math.round(context.startupSeconds)} s to serve`;
  } else if (desired < (w.desiredReplicas[index] ?? 0)) {
    how = `${replicas(desired)} ${desired === 1 ? "is" : "are"} asked for at ${at} (${rate(load)}), against ${w.desiredReplicas[index] ?? 0}`;
  } else {
    how = `${replicas(ready)} are ready at ${at} for ${rate(load)}`;
  }
  return `with ${from}, ${how}: requests wait ${seconds(o.waitSeconds[index] ?? 0)} (${seconds(w.waitSeconds[index] ?? 0)} with the change); SLO violations ${percent(without.outcome.violationRatio)} -> ${percent(withChange.outcome.violationRatio)}`;
}

function costReason({ knob, from, withChange, without, context }: Comparison): string {
  const index = mostExtra(withChange.timeline, without.timeline);
  const extraHours = without.outcome.gpuHours - withChange.outcome.gpuHours;
  const extraCost = without.outcome.cost - withChange.outcome.cost;
  const total = `+${amount(extraHours)} GPU-hours ($${amount(extraCost)}) over the trace`;
  if (index < 0) return `with ${from}, the same replicas run longer: ${total}`;
  const at = timeLabel(without.timeline.t[index] ?? 0, context.wallClockStart);
  const load = without.timeline.load[index] ?? 0;
  const running = held(without.timeline, index);
  const enough = held(withChange.timeline, index);
  const need = Math.ceil(load / context.serviceRatePerReplica - 1e-9);
  const verb = running === 1 ? "runs" : "run";
  if (knob.kind === "min") {
    return `with ${from}, ${replicas(running)} ${verb} at ${at}, where ${rate(load)} needs ${need} at ${context.serviceRatePerReplica} req/s each: ${total}`;
  }
  return `with ${from}, ${replicas(running)} ${verb} at ${at} for ${rate(load)}, against ${enough} with the change: ${total}`;
}

/**
 * Why `knob` moved to `to`: `withChange` is the recommended policy, `without` the same with this field at
 * `fromValue`, its original value (or, for a bound the other bound holds, as near to it as it can be).
 */
export function explainChange(
  knob: Knob,
  fromValue: KnobValue,
  to: KnobValue,
  withChange: Detailed,
  without: Detailed,
  context: ExplainContext,
): Change {
  // A bound cannot go back past the other bound: then the comparison is with the nearest it can be.
  const from =
    fromValue === knob.original
      ? knob.format(fromValue)
      : `${knob.format(fromValue)} (${knob.format(knob.original)} is ${knob.kind === "max" ? "below min" : "above max"} replicas)`;
  const violationsSaved = without.outcome.sloViolations - withChange.outcome.sloViolations;
  const hoursSaved = without.outcome.gpuHours - withChange.outcome.gpuHours;
  const requests = Math.max(withChange.outcome.totalRequests, 1);
  const latency = violationsSaved / requests > 1e-4;
  const cost = hoursSaved > 1e-3 * Math.max(withChange.outcome.gpuHours, 1e-9);
  const comparison: Comparison = { knob, from, withChange, without, context };
  let reason: string;
  if (latency) {
    reason = latencyReason(comparison);
    if (hoursSaved < 0) reason += `, for ${amount(-hoursSaved)} GPU-hours more`;
  } else if (cost) {
    reason = costReason(comparison);
    if (violationsSaved < 0) {
      reason += `; SLO violations ${percent(without.outcome.violationRatio)} -> ${percent(withChange.outcome.violationRatio)} (at most ${percent(context.maxViolationRatio)} allowed)`;
    }
  } else {
    reason =
      "makes no measurable difference on its own on this trace; it does together with the other changes";
  }
  return {
    field: knob.field,
    label: knob.label,
    from: knob.original,
    to,
    reason: `${knob.label} ${knob.format(knob.original)} -> ${knob.format(to)}: ${reason}`,
  };
}

/** A bound that moved only because the other one did: replicas.min must not exceed replicas.max. */
export function explainCoupled(knob: Knob, to: KnobValue, partner: Knob, partnerValue: KnobValue): Change {
  return {
    field: knob.field,
    label: knob.label,
    from: knob.original,
    to,
    reason: `${knob.label} ${knob.format(knob.original)} -> ${knob.format(to)}: follows ${partner.label} ${partner.format(partnerValue)} (replicas.min must not exceed replicas.max)`,
  };
}
