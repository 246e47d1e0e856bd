// What several simulator tests build alike: a KEDA target, and the clock of upstream's test fixtures.
import type { V1Deployment } from "@kubernetes/client-node";
import type { ScaledObject } from "../../../src/keda/types.js";
import type { SimulationTarget } from "../../../src/simulate/simulate.js";

/** A ScaledObject on Deployment "model", polled every 15 s, at most 20 replicas, and its target. */
export function kedaTarget(
  deployment: V1Deployment,
  triggers: ScaledObject["spec"]["triggers"],
  spec: Partial<ScaledObject["spec"]> = {},
): SimulationTarget {
  return {
    name: "batch",
    engine: "KEDA",
    deployment,
    modelLoadSeconds: 60,
    scaledObject: {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name: "batch" },
      spec: {
        scaleTargetRef: { name: "model" },
        pollingInterval: 15,
        maxReplicaCount: 20,
        triggers,
        ...spec,
      },
    },
  };
}

/**
 * The times of Kubernetes' podautoscaler test fixtures, in seconds: now; the zero time.Time (long
 * before anything); a "hot" pod's start (now) and a "cool" one's (three minutes ago); and the CPU
 * initialization period and initial readiness delay those tests give the controller.
 */
export const UPSTREAM_TEST_TIME: Readonly<
  Record<"NOW" | "ZERO" | "HOT" | "COOL" | "CPU_INITIALIZATION_PERIOD" | "DELAY_OF_INITIAL_READINESS", number>
> = {
  NOW: 0,
  ZERO: -1e12,
  HOT: 0,
  COOL: -180,
  CPU_INITIALIZATION_PERIOD: 120,
  DELAY_OF_INITIAL_READINESS: 10,
};
