// Tuning one policy on one trace: the knobs, the search, and the reasons for the recommendation.
import type { MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import type { SimulationOptions } from "../simulate/simulate.js";
import type { Trace } from "../simulate/trace.js";
import { timelineOf, type EvaluationSetup } from "./evaluate.js";
import { explainChange, explainCoupled, type Change, type Detailed, type ExplainContext } from "./explain.js";
import {
  buildCandidate,
  freeKnobs,
  policyKnobs,
  type Knob,
  type KnobValue,
  type TraceNeeds,
} from "./knobs.js";
import type { Evaluator } from "./pool.js";
import { simulatePolicy } from "./prepare.js";
import { paretoFront, Search, type Scored, type SearchResult } from "./search.js";

export interface TuneOptions {
  /** Candidates to simulate at most. */
  budget: number;
  /** Allowed share of requests over the SLO, 0..1. */
  maxViolationRatio: number;
  /** Fields `--fix` keeps as they are. */
  fixed: readonly string[];
}

export interface TuneResult {
  policy: MLAutoscalePolicy;
  /** The knobs searched (those `--fix` left free). */
  knobs: Knob[];
  search: SearchResult;
  front: Scored[];
  recommended: Scored;
  changes: Change[];
  /** The recommended and the original policy's timelines. */
  recommendedDetail: Detailed;
  originalDetail: Detailed;
}

/** Input `tune` cannot work with: the message says which. */
export class TuneInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TuneInputError";
  }
}

/** Replicas the trace's low (5th percentile), median and peak load keep busy. */
export function traceNeeds(load: Float64Array, serviceRatePerReplica: number): TraceNeeds {
  const sorted = Float64Array.from(load).sort();
  const need = (value: number) => Math.max(0, Math.ceil(value / serviceRatePerReplica - 1e-9));
  const at = (quantile: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * quantile))] ?? 0;
  return { low: need(at(0.05)), median: need(at(0.5)), peak: need(sorted[sorted.length - 1] ?? 0) };
}

/** The start of the trace that sets where a tuning run starts: the HPA's default scale-down window. */
export const STARTING_WINDOW_SECONDS = 300;

/**
 * Where a tuning run starts, unless the options say: as many replicas as the highest load of the first
 * five minutes keeps busy, about what an autoscaler that had been running would hold (it keeps the
 * highest recommendation of its last five minutes). Uses a first run of the original policy for the load
 * the simulator sees.
 */
export function startingReplicas(policy: MLAutoscalePolicy, setup: EvaluationSetup): number {
  if (setup.options.initialReplicas !== undefined) return setup.options.initialReplicas;
  const table = simulatePolicy(policy, setup).table;
  const times = table.column("t");
  const load = table.column("load");
  const first = times[0] ?? 0;
  let highest = 0;
  for (let index = 0; index < load.length && (times[index] ?? 0) < first + STARTING_WINDOW_SECONDS; index++) {
    highest = Math.max(highest, load[index] ?? 0);
  }
  return Math.ceil(highest / setup.options.serviceRatePerReplica - 1e-9);
}

/** What every candidate of a tuning run shares: the trace, the workload model, and where runs start. */
export function tuningSetup(
  policy: MLAutoscalePolicy,
  trace: Trace,
  options: SimulationOptions,
  kedaInstalled: boolean,
): EvaluationSetup {
  const setup: EvaluationSetup = { trace, options, kedaInstalled, initialReplicas: 0 };
  setup.initialReplicas = startingReplicas(policy, setup);
  return setup;
}

export async function tunePolicy(
  policy: MLAutoscalePolicy,
  setup: EvaluationSetup,
  evaluator: Evaluator,
  options: TuneOptions,
  explain: Omit<ExplainContext, "maxViolationRatio" | "wallClockStart">,
): Promise<TuneResult> {
  // The original runs here first: a policy the simulator refuses fails as `simulate` reports it.
  const originalRun = simulatePolicy(policy, setup);
  const needs = traceNeeds(originalRun.table.column("load"), setup.options.serviceRatePerReplica);
  const all = policyKnobs(policy, {
    kedaInstalled: setup.kedaInstalled,
    needs,
    serviceRatePerReplica: setup.options.serviceRatePerReplica,
    ...(setup.options.serverConcurrency !== undefined && {
      serverConcurrency: setup.options.serverConcurrency,
    }),
    ...(setup.options.signalOverrides && { signalOverrides: setup.options.signalOverrides }),
  });
  const { knobs, unknown } = freeKnobs(all, options.fixed);
  if (unknown.length > 0) {
    throw new TuneInputError(
      `--fix ${unknown.join(", ")}: not a setting tune changes in this policy; it changes ${all.map((knob) => knob.field).join(", ")}`,
    );
  }
  const evaluate = (policies: MLAutoscalePolicy[]) => evaluator.evaluate(policies);
  const search = await new Search(policy, knobs, evaluate, {
    budget: options.budget,
    maxViolationRatio: options.maxViolationRatio,
  }).run();
  const recommended = search.recommended;

  // Each change next to the recommendation without it; when that is no valid policy, the original with
  // and without it.
  const originalValues = knobs.map((knob) => knob.original);
  const pairs: {
    knob: Knob;
    /** The value without the change: the original, or as near as the other bound allows. */
    from: KnobValue;
    to: KnobValue;
    withChange: MLAutoscalePolicy;
    without: MLAutoscalePolicy;
  }[] = [];
  const coupled: Change[] = [];
  knobs.forEach((knob, index) => {
    const to = recommended.candidate.values[index] ?? knob.original;
    if (to === knob.original) return;
    const reverted = [...recommended.candidate.values];
    reverted[index] = knob.original;
    const without = buildCandidate(policy, knobs, reverted);
    // Undoing a bound moved the other one back: it moved with the other bound.
    if (without.key === recommended.candidate.key) {
      const partnerIndex = knobs.findIndex((other) => other.kind === (knob.kind === "max" ? "min" : "max"));
      const partner = knobs[partnerIndex];
      if (partner) {
        const partnerValue = recommended.candidate.values[partnerIndex] ?? partner.original;
        coupled.push(explainCoupled(knob, to, partner, partnerValue));
        return;
      }
    }
    if (without.ok) {
      const from = without.values[index] ?? knob.original;
      pairs.push({ knob, from, to, withChange: recommended.candidate.policy, without: without.policy });
      return;
    }
    const alone = [...originalValues];
    alone[index] = to;
    const withChange = buildCandidate(policy, knobs, alone);
    if (withChange.ok)
      pairs.push({ knob, from: knob.original, to, withChange: withChange.policy, without: policy });
  });
  const policies = [
    recommended.candidate.policy,
    ...pairs.flatMap((pair) => [pair.withChange, pair.without]),
  ];
  const evaluations = await evaluator.evaluate(policies, true);
  const detailed = evaluations.map((evaluation): Detailed => {
    if (!evaluation.ok || !evaluation.timeline)
      throw new Error("a candidate simulated before failed to run again");
    return { outcome: evaluation.outcome, timeline: evaluation.timeline };
  });
  const context: ExplainContext = { ...explain, maxViolationRatio: options.maxViolationRatio };
  if (setup.trace.wallClockStart !== undefined) context.wallClockStart = setup.trace.wallClockStart;
  const explained = pairs.map((pair, index) => {
    const withChange = detailed[1 + 2 * index];
    const without = detailed[2 + 2 * index];
    if (!withChange || !without) throw new Error("missing simulation of a change");
    return explainChange(pair.knob, pair.from, pair.to, withChange, without, context);
  });
  // In the knobs' order.
  const changes = knobs.flatMap((knob) =>
    [...explained, ...coupled].filter((change) => change.field === knob.field),
  );
  const recommendedDetail = detailed[0];
  if (!recommendedDetail) throw new Error("missing simulation of the recommendation");
  return {
    policy,
    knobs,
    search,
    front: paretoFront(search.evaluated),
    recommended,
    changes,
    recommendedDetail,
    originalDetail: { outcome: search.original.outcome, timeline: timelineOf(originalRun) },
  };
}
