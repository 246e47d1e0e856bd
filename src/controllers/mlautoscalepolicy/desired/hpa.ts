// The autoscaling/v2 HorizontalPodAutoscaler for the HPA engine.
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import type { MLAutoscalePolicy, PolicySpec } from "../../../api/v1alpha1/index.js";
import { buildBehavior } from "./behavior.js";
import { NEWEST_KUBERNETES_FEATURES, type KubernetesFeatures } from "./kubernetes-features.js";
import { childMetadata, compareStrings, scaleTarget, sortKeys } from "./metadata.js";
import { serverHpaMetrics } from "./server-metrics.js";

const quantity = (value: number | string): string => String(value);

/** Metrics in a stable order: Resource (cpu, memory), Pods, External (by name). */
export function buildHpaMetrics(spec: PolicySpec): V2MetricSpec[] {
  const m = spec.scaling.metrics;
  const metrics: V2MetricSpec[] = [];
  if (m.cpu !== undefined) {
    metrics.push({
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: m.cpu.targetUtilization } },
    });
  }
  if (m.memory !== undefined) {
    metrics.push({
      type: "Resource",
      resource: {
        name: "memory",
        target: { type: "Utilization", averageUtilization: m.memory.targetUtilization },
      },
    });
  }
  if (m.queueDepth !== undefined) {
    metrics.push({
      type: "Pods",
      pods: {
        metric: { name: m.queueDepth.metricName },
        target: { type: "AverageValue", averageValue: quantity(m.queueDepth.targetAverageValue) },
      },
    });
  }
  metrics.push(...serverHpaMetrics(m.server));
  const external: V2MetricSpec[] = [];
  if (m.gpuUtilization !== undefined) {
    // Read through an external metrics adapter; the metric is the sum over the pods, so AverageValue
    // gives replicas = ceil(total / target), the same arithmetic as the KEDA trigger.
    external.push({
      type: "External",
      external: {
        metric: { name: m.gpuUtilization.metricName },
        target: { type: "AverageValue", averageValue: quantity(m.gpuUtilization.targetUtilization) },
      },
    });
  }
  for (const e of m.external ?? []) {
    const target =
      e.targetAverageValue !== undefined
        ? { type: "AverageValue", averageValue: quantity(e.targetAverageValue) }
        : { type: "Value", value: quantity(e.targetValue ?? 0) };
    external.push({
      type: "External",
      external: {
        metric: {
          name: e.metricName,
          ...(e.selector !== undefined && { selector: { matchLabels: sortKeys(e.selector) } }),
        },
        target,
      },
    });
  }
  external.sort((a, b) => compareStrings(a.external?.metric.name ?? "", b.external?.metric.name ?? ""));
  return [...metrics, ...external];
}

export function buildHorizontalPodAutoscaler(
  policy: MLAutoscalePolicy,
  features: KubernetesFeatures = NEWEST_KUBERNETES_FEATURES,
): V2HorizontalPodAutoscaler {
  const spec = policy.spec;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: childMetadata(policy),
    spec: {
      scaleTargetRef: scaleTarget(policy),
      minReplicas: spec.replicas.min,
      maxReplicas: spec.replicas.max,
      metrics: buildHpaMetrics(spec),
      behavior: buildBehavior(spec, features),
    },
  };
}
