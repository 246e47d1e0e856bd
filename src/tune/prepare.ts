// Candidates rendered in the main thread, as `simulate` renders a policy; the worker threads get the
// rendered objects.
import type { MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import { PolicyInputError } from "../render/index.js";
import { policyTarget } from "../simulate/command.js";
import type { SimulationResult } from "../simulate/simulate.js";
import {
  evaluatePrepared,
  runPrepared,
  type Evaluation,
  type EvaluationSetup,
  type Prepared,
} from "./evaluate.js";

/** Throws PolicyInputError when the renderer refuses the policy (e.g. it needs KEDA and KEDA is absent). */
export function prepare(policy: MLAutoscalePolicy, kedaInstalled: boolean): Prepared {
  return { target: policyTarget(policy, kedaInstalled), ...policy.spec.replicas };
}

/** Runs one policy; errors (rendering, simulation) are thrown as `simulate` would report them. */
export function simulatePolicy(policy: MLAutoscalePolicy, setup: EvaluationSetup): SimulationResult {
  return runPrepared(prepare(policy, setup.kedaInstalled), setup);
}

/** The policy rendered, or why it cannot be. */
export function prepareCandidate(
  policy: MLAutoscalePolicy,
  kedaInstalled: boolean,
): { ok: true; prepared: Prepared } | { ok: false; problem: string } {
  try {
    return { ok: true, prepared: prepare(policy, kedaInstalled) };
  } catch (error) {
    if (!(error instanceof PolicyInputError)) throw error;
    return { ok: false, problem: error.problems.join("; ") };
  }
}

/** Runs one candidate; one the renderer or the simulator refuses is reported, not thrown. */
export function evaluatePolicy(
  policy: MLAutoscalePolicy,
  setup: EvaluationSetup,
  detail: boolean,
): Evaluation {
  const candidate = prepareCandidate(policy, setup.kedaInstalled);
  return candidate.ok ? evaluatePrepared(candidate.prepared, setup, detail) : candidate;
}
