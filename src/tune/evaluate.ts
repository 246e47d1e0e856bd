// One candidate policy through the simulator: rendered as the operator would, then replayed on the trace.
// The same function runs in the main thread and in the worker threads.
import type { MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import { PolicyInputError } from "../render/index.js";
import { policyTarget } from "../simulate/command.js";
import { simulate, type SimulationOptions, type SimulationResult } from "../simulate/simulate.js";
import { STEP_FIELDS } from "../simulate/steps.js";
import type { Trace } from "../simulate/trace.js";

export interface EvaluationSetup {
  trace: Trace;
  options: SimulationOptions;
  kedaInstalled: boolean;
  /**
   * Replicas at the start, before each candidate's bounds clamp them: the trace starts mid-traffic, so
   * a candidate does not pay (or gain) for a start from its own minimum.
   */
  initialReplicas: number;
}

/** What the search compares: the simulation's summary, without the timeline. */
export interface Outcome {
  engine: "HPA" | "KEDA";
  tickSeconds: number;
  totalRequests: number;
  sloViolations: number;
  violationRatio: number;
  droppedRequests: number;
  meanWaitSeconds: number;
  maxWaitSeconds: number;
  peakReplicas: number;
  meanReadyReplicas: number;
  gpuHours: number;
  cost: number;
  scaleUps: number;
  scaleDowns: number;
}

/** The timeline, column by column (a worker hands the buffers over without a copy). */
export type Timeline = Record<(typeof STEP_FIELDS)[number], Float64Array>;

export type Evaluation = { ok: true; outcome: Outcome; timeline?: Timeline } | { ok: false; problem: string };

/** Runs one policy; errors (rendering, simulation) are thrown as `simulate` would report them. */
export function simulatePolicy(policy: MLAutoscalePolicy, setup: EvaluationSetup): SimulationResult {
  const target = policyTarget(policy, setup.kedaInstalled);
  const { min, max } = policy.spec.replicas;
  const floor = target.engine === "HPA" ? Math.max(min, 1) : min;
  const initialReplicas = Math.min(max, Math.max(floor, setup.initialReplicas));
  return simulate(target, setup.trace, { ...setup.options, initialReplicas });
}

export function outcomeOf(result: SimulationResult): Outcome {
  const s = result.summary;
  return {
    engine: s.engine,
    tickSeconds: s.tickSeconds,
    totalRequests: s.totalRequests,
    sloViolations: s.sloViolations,
    violationRatio: s.sloViolationRatio,
    droppedRequests: s.droppedRequests,
    meanWaitSeconds: s.meanWaitSeconds,
    maxWaitSeconds: s.maxWaitSeconds,
    peakReplicas: s.peakReplicas,
    meanReadyReplicas: s.meanReadyReplicas,
    gpuHours: s.gpuHours,
    cost: s.cost,
    scaleUps: s.scaleUps,
    scaleDowns: s.scaleDowns,
  };
}

export function timelineOf(result: SimulationResult): Timeline {
  const columns: Partial<Timeline> = {};
  // Copies: the step table's buffer is one allocation for all columns, and a worker transfers these.
  for (const column of STEP_FIELDS) columns[column] = result.table.column(column).slice();
  return columns as Timeline;
}

/** Runs one candidate; a candidate the renderer or the simulator refuses is reported, not thrown. */
export function evaluatePolicy(
  policy: MLAutoscalePolicy,
  setup: EvaluationSetup,
  detail: boolean,
): Evaluation {
  let result: SimulationResult;
  try {
    result = simulatePolicy(policy, setup);
  } catch (error) {
    const problem =
      error instanceof PolicyInputError
        ? error.problems.join("; ")
        : error instanceof Error
          ? error.message
          : String(error);
    return { ok: false, problem };
  }
  const evaluation: Evaluation = { ok: true, outcome: outcomeOf(result) };
  if (detail) evaluation.timeline = timelineOf(result);
  return evaluation;
}
