// A rendered candidate through the simulator. The worker threads run this module alone: it imports the
// simulator and nothing of the API or the renderer (prepare.ts renders, in the main thread), so a worker
// starts in a fraction of the time.
import {
  simulate,
  type SimulationOptions,
  type SimulationResult,
  type SimulationTarget,
} from "../simulate/simulate.js";
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

/** A candidate rendered as the operator would, with the replica bounds that clamp where it starts. */
export interface Prepared {
  target: SimulationTarget;
  min: number;
  max: number;
}

/** Runs one rendered candidate; the simulator's errors are thrown as `simulate` would report them. */
export function runPrepared(prepared: Prepared, setup: EvaluationSetup): SimulationResult {
  const { target, min, max } = prepared;
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

/** Runs one rendered candidate; one the simulator refuses is reported, not thrown. */
export function evaluatePrepared(prepared: Prepared, setup: EvaluationSetup, detail: boolean): Evaluation {
  let result: SimulationResult;
  try {
    result = runPrepared(prepared, setup);
  } catch (error) {
    return { ok: false, problem: error instanceof Error ? error.message : String(error) };
  }
  const evaluation: Evaluation = { ok: true, outcome: outcomeOf(result) };
  if (detail) evaluation.timeline = timelineOf(result);
  return evaluation;
}
