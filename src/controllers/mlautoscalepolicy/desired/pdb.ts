// A PodDisruptionBudget derived from the replica range so that it can never block a node drain.
import type { IntOrString, V1LabelSelector, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { MLAutoscalePolicy } from "../../../api/v1alpha1/index.js";
import { childMetadata } from "./metadata.js";

export interface PdbResult {
  pdb: V1PodDisruptionBudget;
  /** Human-readable corrections made to the requested budget (empty when none). */
  corrections: string[];
}

type Budget = { minAvailable: IntOrString } | { maxUnavailable: IntOrString };

const percentOf = (value: string): number => Number.parseInt(value.slice(0, -1), 10);

/**
 * The budget to write, given the requested one and the fewest replicas the workload can run with.
 * A budget blocks a drain when, at that replica count, no pod may be evicted: minAvailable >= replicas, or
 * maxUnavailable 0. Such values are replaced by the nearest budget that still allows one eviction.
 */
export function safeBudget(requested: Budget, minReplicas: number): { budget: Budget; correction?: string } {
  const atLeastOne = Math.max(minReplicas, 1);
  if ("maxUnavailable" in requested) {
    const v = requested.maxUnavailable;
    const blocks = typeof v === "number" ? v === 0 : percentOf(v) === 0;
    return blocks
      ? {
          budget: { maxUnavailable: 1 },
          correction: `maxUnavailable ${v} would block every eviction; using 1`,
        }
      : { budget: requested };
  }
  const v = requested.minAvailable;
  // Pods that must stay up when the workload runs at its minimum (percentages round up, as the
  // disruption controller does).
  const required = typeof v === "number" ? v : Math.ceil((percentOf(v) * atLeastOne) / 100);
  if (required < atLeastOne) return { budget: requested };
  if (minReplicas === 0) {
    return {
      budget: { maxUnavailable: 1 },
      correction: `minAvailable ${v} would block draining the last replica of a scale-to-zero workload; using maxUnavailable 1`,
    };
  }
  if (minReplicas >= 2) {
    return {
      budget: { minAvailable: minReplicas - 1 },
      correction: `minAvailable ${v} would block node drains at ${minReplicas} replicas (replicas.min); using minAvailable ${minReplicas - 1}`,
    };
  }
  return {
    budget: { maxUnavailable: 1 },
    correction: `minAvailable ${v} would block node drains at 1 replica (replicas.min); using maxUnavailable 1`,
  };
}

/**
 * The PDB for a policy. podSelector is the Deployment's selector (template mode) or the target's
 * (targetRef mode, read from the cluster).
 */
export function buildPodDisruptionBudget(policy: MLAutoscalePolicy, podSelector: V1LabelSelector): PdbResult {
  const d = policy.spec.disruption;
  const requested: Budget =
    d.minAvailable !== undefined
      ? { minAvailable: d.minAvailable }
      : { maxUnavailable: d.maxUnavailable ?? 1 };
  const { budget, correction } = safeBudget(requested, policy.spec.replicas.min);
  return {
    pdb: {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: childMetadata(policy),
      spec: {
        ...budget,
        selector: structuredClone(podSelector),
        // Pods that are not ready (e.g. still loading a model) never hold up a drain.
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      },
    },
    corrections: correction === undefined ? [] : [correction],
  };
}
