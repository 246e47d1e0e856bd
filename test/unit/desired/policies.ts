// Policies for the builder tests: the fixture's valid bases with changes, parsed as the controller would.
import { parsePolicy, type MLAutoscalePolicy } from "../../../src/api/v1alpha1/index.js";
import {
  validBasePolicy,
  validKedaBasePolicy,
  withChanges,
  type Json,
} from "../../fixtures/invalid-policies.js";

function parsed(value: unknown): MLAutoscalePolicy {
  const result = parsePolicy(value);
  if (!result.ok) throw new Error(`test policy is invalid:\n${result.problems.join("\n")}`);
  return result.policy;
}

/** The HPA base (template, 1-10 replicas, CPU 70 %) with changes, in namespace "ml". */
export function hpaPolicy(changes: Record<string, Json | undefined> = {}): MLAutoscalePolicy {
  return parsed(withChanges(validBasePolicy(), { "metadata.namespace": "ml", ...changes }));
}

/** The KEDA base (0-10 replicas, a rabbitmq trigger, a Secret-backed TriggerAuthentication) with changes. */
export function kedaPolicy(changes: Record<string, Json | undefined> = {}): MLAutoscalePolicy {
  return parsed(withChanges(validKedaBasePolicy(), { "metadata.namespace": "ml", ...changes }));
}
