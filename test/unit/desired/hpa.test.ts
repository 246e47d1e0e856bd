import { describe, expect, it } from "vitest";
import { buildBehavior, PRESETS } from "../../../src/controllers/mlautoscalepolicy/desired/behavior.js";
import {
  buildHorizontalPodAutoscaler,
  buildHpaMetrics,
} from "../../../src/controllers/mlautoscalepolicy/desired/hpa.js";
import { hpaPolicy } from "./policies.js";

describe("buildHpaMetrics", () => {
  it("orders Resource (cpu, memory), Pods, then External metrics by name", () => {
    const policy = hpaPolicy({
      "spec.scaling.metrics": {
        external: [
          {
            metricName: "requests_per_second",
            selector: { service: "svc", env: "prod" },
            targetAverageValue: 100,
          },
          { metricName: "backlog", targetValue: "2k" },
        ],
        gpuUtilization: { targetUtilization: 70 },
        queueDepth: { targetAverageValue: 10 },
        memory: { targetUtilization: 80 },
        cpu: { targetUtilization: 70 },
      },
    });
    expect(buildHpaMetrics(policy.spec)).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      },
      {
        type: "Resource",
        resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } },
      },
      {
        type: "Pods",
        pods: {
          metric: { name: "inference_queue_depth" },
          target: { type: "AverageValue", averageValue: "10" },
        },
      },
      {
        type: "External",
        external: {
          metric: { name: "DCGM_FI_DEV_GPU_UTIL" },
          target: { type: "AverageValue", averageValue: "70" },
        },
      },
      { type: "External", external: { metric: { name: "backlog" }, target: { type: "Value", value: "2k" } } },
      {
        type: "External",
        external: {
          metric: { name: "requests_per_second", selector: { matchLabels: { env: "prod", service: "svc" } } },
          target: { type: "AverageValue", averageValue: "100" },
        },
      },
    ]);
  });

  it("sorts selector labels so the HPA does not change when the policy's key order does", () => {
    const metrics = buildHpaMetrics(
      hpaPolicy({
        "spec.scaling.metrics.external": [
          { metricName: "rps", selector: { b: "2", a: "1" }, targetAverageValue: 1 },
        ],
      }).spec,
    );
    const selector = metrics[1]?.external?.metric.selector?.matchLabels ?? {};
    expect(Object.keys(selector)).toEqual(["a", "b"]);
  });
});

describe("buildHorizontalPodAutoscaler", () => {
  it("targets the policy's Deployment with its replica bounds", () => {
    const hpa = buildHorizontalPodAutoscaler(hpaPolicy({ "spec.replicas": { min: 2, max: 7 } }));
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.kind).toBe("HorizontalPodAutoscaler");
    expect(hpa.metadata?.name).toBe("base-policy");
    expect(hpa.spec?.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "base-policy",
    });
    expect(hpa.spec?.minReplicas).toBe(2);
    expect(hpa.spec?.maxReplicas).toBe(7);
    expect(hpa.spec?.behavior).toEqual(PRESETS.Realtime);
  });

  it("targets the referenced workload in targetRef mode", () => {
    const hpa = buildHorizontalPodAutoscaler(
      hpaPolicy({
        "spec.workload.template": undefined,
        "spec.workload.targetRef": { kind: "StatefulSet", name: "llm" },
      }),
    );
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "StatefulSet", name: "llm" });
  });
});

describe("buildBehavior", () => {
  it.each(["Realtime", "Batch", "Conservative"] as const)("copies the %s preset", (preset) => {
    const behavior = buildBehavior(hpaPolicy({ "spec.scaling.behavior": { preset } }).spec);
    expect(behavior).toEqual(PRESETS[preset]);
    // A copy: a caller that changes it must not change the preset for every later policy.
    expect(behavior).not.toBe(PRESETS[preset]);
    expect(behavior.scaleUp?.policies).not.toBe(PRESETS[preset].scaleUp?.policies);
  });

  it("writes explicit rules with policies sorted and tolerance as a quantity", () => {
    const behavior = buildBehavior(
      hpaPolicy({
        "spec.scaling.behavior": {
          scaleUp: {
            stabilizationWindowSeconds: 60,
            selectPolicy: "Max",
            policies: [
              { type: "Pods", value: 2, periodSeconds: 30 },
              { type: "Percent", value: 100, periodSeconds: 30 },
            ],
          },
          scaleDown: { selectPolicy: "Disabled", tolerance: 0.05 },
        },
      }).spec,
    );
    expect(behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 60,
        selectPolicy: "Max",
        policies: [
          { type: "Percent", value: 100, periodSeconds: 30 },
          { type: "Pods", value: 2, periodSeconds: 30 },
        ],
      },
      scaleDown: { selectPolicy: "Disabled", tolerance: "0.05" },
    });
  });

  it("leaves out a direction the policy does not set", () => {
    const behavior = buildBehavior(
      hpaPolicy({ "spec.scaling.behavior": { scaleDown: { stabilizationWindowSeconds: 600 } } }).spec,
    );
    expect(behavior).toEqual({ scaleDown: { stabilizationWindowSeconds: 600 } });
  });
});
