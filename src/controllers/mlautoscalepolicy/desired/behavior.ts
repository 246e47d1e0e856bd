// HPA autoscaling/v2 behavior from a preset or explicit rules. The same behavior goes to an HPA or to a
// ScaledObject's advanced.horizontalPodAutoscalerConfig.behavior.
import type {
  V2HorizontalPodAutoscalerBehavior,
  V2HPAScalingPolicy,
  V2HPAScalingRules,
} from "@kubernetes/client-node";
import type { BEHAVIOR_PRESETS, PolicySpec, ScalingRules } from "../../../api/v1alpha1/index.js";
import { NEWEST_KUBERNETES_FEATURES, type KubernetesFeatures } from "./kubernetes-features.js";
import { compareStrings } from "./metadata.js";

type Preset = (typeof BEHAVIOR_PRESETS)[number];

/**
 * Realtime: latency-bound inference; scale up at once (double or +4 pods per 15 s), and down by at most
 * 50 % a minute after 5 minutes of lower load, so a replica that took a minute to load is not dropped on a dip.
 * Batch: queue-fed work; scale up in large steps, release capacity slowly after 10 minutes.
 * Conservative: expensive GPUs and spiky signals; one pod a minute up after 2 minutes, one per 5 minutes down.
 */
export const PRESETS: Record<Preset, V2HorizontalPodAutoscalerBehavior> = {
  Realtime: {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [
        { type: "Percent", value: 100, periodSeconds: 15 },
        { type: "Pods", value: 4, periodSeconds: 15 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: 300,
      selectPolicy: "Max",
      policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
    },
  },
  Batch: {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [
        { type: "Percent", value: 200, periodSeconds: 30 },
        { type: "Pods", value: 10, periodSeconds: 30 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: 600,
      selectPolicy: "Max",
      policies: [{ type: "Percent", value: 25, periodSeconds: 120 }],
    },
  },
  Conservative: {
    scaleUp: {
      stabilizationWindowSeconds: 120,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: 900,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 1, periodSeconds: 300 }],
    },
  },
};

function comparePolicies(a: V2HPAScalingPolicy, b: V2HPAScalingPolicy): number {
  return compareStrings(a.type, b.type) || a.periodSeconds - b.periodSeconds || a.value - b.value;
}

function rulesFrom(rules: ScalingRules, features: KubernetesFeatures): V2HPAScalingRules {
  const out: V2HPAScalingRules = {};
  if (rules.stabilizationWindowSeconds !== undefined)
    out.stabilizationWindowSeconds = rules.stabilizationWindowSeconds;
  if (rules.selectPolicy !== undefined) out.selectPolicy = rules.selectPolicy;
  if (rules.policies !== undefined)
    out.policies = rules.policies.map((p) => ({ ...p })).sort(comparePolicies);
  // tolerance is a resource.Quantity in autoscaling/v2. A server without the field would drop it.
  if (rules.tolerance !== undefined && features.hpaTolerance) out.tolerance = String(rules.tolerance);
  return out;
}

function copyBehavior(behavior: V2HorizontalPodAutoscalerBehavior): V2HorizontalPodAutoscalerBehavior {
  return structuredClone(behavior);
}

export function buildBehavior(
  spec: PolicySpec,
  features: KubernetesFeatures = NEWEST_KUBERNETES_FEATURES,
): V2HorizontalPodAutoscalerBehavior {
  const behavior = spec.scaling.behavior;
  if (behavior.preset !== undefined) return copyBehavior(PRESETS[behavior.preset]);
  const out: V2HorizontalPodAutoscalerBehavior = {};
  if (behavior.scaleUp !== undefined) out.scaleUp = rulesFrom(behavior.scaleUp, features);
  if (behavior.scaleDown !== undefined) out.scaleDown = rulesFrom(behavior.scaleDown, features);
  return out;
}
