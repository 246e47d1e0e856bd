import type {
  V2HorizontalPodAutoscaler,
  V2HorizontalPodAutoscalerBehavior,
  V2MetricSpec,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  groupPods,
  HorizontalPodAutoscalerController,
  MetricsError,
  PodMetricsInfo,
  ReplicaCalculator,
  tolerancesOf,
  type MetricReading,
  type PodView,
  type Tolerances,
} from "../../../src/simulate/hpa.js";

const QUEUE_METRIC: V2MetricSpec = {
  type: "Pods",
  pods: { metric: { name: "inference_queue_depth" }, target: { type: "AverageValue", averageValue: "10" } },
};
const CPU_METRIC: V2MetricSpec = {
  type: "Resource",
  resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
};

function hpa(options: {
  min?: number;
  max?: number;
  metrics?: V2MetricSpec[];
  behavior?: V2HorizontalPodAutoscalerBehavior;
}): V2HorizontalPodAutoscaler {
  return {
    spec: {
      scaleTargetRef: { kind: "Deployment", name: "model" },
      minReplicas: options.min ?? 1,
      maxReplicas: options.max ?? 100,
      metrics: options.metrics ?? [QUEUE_METRIC],
      behavior: options.behavior,
    },
  };
}

const readyPod: PodView = {
  phase: "Running",
  ready: true,
  startedAt: -10_000,
  readyTransitionAt: -9_000,
  requestsMilli: { cpu: 1000 },
};
const readyPods = (count: number): PodView[] => Array.from({ length: count }, () => readyPod);

/** One sync where every pod reports the same queue depth per pod. */
function syncQueue(
  controller: HorizontalPodAutoscalerController,
  now: number,
  replicas: number,
  perPod: number,
) {
  return controller.sync({
    now,
    specReplicas: replicas,
    statusReplicas: replicas,
    pods: readyPods(replicas),
    readMetric: (): MetricReading => ({
      kind: "perPod",
      valuesMilli: readyPods(replicas).map(() => perPod * 1000),
    }),
  });
}

const wide = { up: 0.1, down: 0.1 };

/** A ReplicaCalculator over fixed pods and per-pod samples (the same samples for every API). */
function calculator(pods: readonly PodView[], valuesMilli: readonly (number | undefined)[], external = 0) {
  const samples = () => {
    const metrics = PodMetricsInfo.of(
      valuesMilli.flatMap((value, pod) =>
        value === undefined ? [] : [[pod, { value, timestamp: 0, window: 15 }] as const],
      ),
    );
    if (metrics.size === 0) throw new MetricsError("no metrics returned");
    return { metrics, timestamp: 0 };
  };
  return (now: number) =>
    new ReplicaCalculator(
      {
        getResourceMetric: samples,
        getRawMetric: samples,
        getObjectMetric: () => ({ value: external, timestamp: 0 }),
        getExternalMetric: () => ({ values: [external], timestamp: 0 }),
      },
      () => pods,
      300,
      30,
      () => now,
    );
}

function plainMetricReplicas(args: {
  currentReplicas: number;
  targetMilli: number;
  pods: readonly PodView[];
  valueMilli: readonly (number | undefined)[];
  tolerances: Tolerances;
  now: number;
}): number {
  return calculator(
    args.pods,
    args.valueMilli,
  )(args.now).getMetricReplicas(args.currentReplicas, args.targetMilli, "queue", args.tolerances)
    .replicaCount;
}

describe("tolerance", () => {
  it("keeps the current count inside [0.9, 1.1] and scales outside it", () => {
    const propose = (perPodMilli: number) =>
      plainMetricReplicas({
        currentReplicas: 10,
        targetMilli: 10_000,
        pods: readyPods(10),
        valueMilli: readyPods(10).map(() => perPodMilli),
        tolerances: wide,
        now: 0,
      });
    // 10.9 / 10 = 1.09 <= 1.1: within, stays 10.
    expect(propose(10_900)).toBe(10);
    // 11.1 / 10 = 1.11: ceil(1.11 * 10) = 12.
    expect(propose(11_100)).toBe(12);
    // 9.1 / 10 = 0.91 >= 0.9: within.
    expect(propose(9_100)).toBe(10);
    // 0.89 * 10 = 8.9 -> 9.
    expect(propose(8_900)).toBe(9);
  });

  it("uses per-direction tolerances from behavior (KEP-4951)", () => {
    const tolerances = tolerancesOf({ scaleUp: { tolerance: "0.05" }, scaleDown: { tolerance: "200m" } });
    expect(tolerances).toEqual({ up: 0.05, down: 0.2 });
    const propose = (perPodMilli: number) =>
      plainMetricReplicas({
        currentReplicas: 10,
        targetMilli: 10_000,
        pods: readyPods(10),
        valueMilli: readyPods(10).map(() => perPodMilli),
        tolerances,
        now: 0,
      });
    // 1.06 > 1.05: ceil(10.6) = 11 (the default 10 % would have held at 10).
    expect(propose(10_600)).toBe(11);
    // 0.81 >= 0.8: within the wider scale-down band, stays 10.
    expect(propose(8_100)).toBe(10);
    // 0.79 < 0.8: ceil(7.9) = 8.
    expect(propose(7_900)).toBe(8);
  });

  it("applies to External AverageValue as usage / (target * status.replicas)", () => {
    const externalReplicas = (usageMilli: number) =>
      calculator(readyPods(2), [], usageMilli)(0).getExternalPerPodMetricReplicas(2, 100_000, "rps", wide)
        .replicaCount;
    // 205 / (100 * 2) = 1.025: within, stays at status.replicas = 2.
    expect(externalReplicas(205_000)).toBe(2);
    // 250 / 200 = 1.25: ceil(250 / 100) = 3, whatever the current count.
    expect(externalReplicas(250_000)).toBe(3);
  });
});

describe("no behavior", () => {
  it("clamps a scale-up to max(2 * current, 4)", () => {
    const controller = new HorizontalPodAutoscalerController(hpa({ max: 20 }));
    // 1 pod at 100 per pod vs 10: ratio 10 -> 10 wanted, cap max(2, 4) = 4.
    expect(syncQueue(controller, 0, 1, 100).desiredReplicas).toBe(4);
    // 4 pods: 40 wanted, cap max(8, 4) = 8.
    expect(syncQueue(controller, 15, 4, 100).desiredReplicas).toBe(8);
    // 8 pods: 80 wanted, cap 16.
    expect(syncQueue(controller, 30, 8, 100).desiredReplicas).toBe(16);
    // 16 pods: cap 32, but maxReplicas 20.
    expect(syncQueue(controller, 45, 16, 100).desiredReplicas).toBe(20);
  });

  it("holds a scale-down for 5 minutes (max over the window, seeded with the current count)", () => {
    const controller = new HorizontalPodAutoscalerController(hpa({ max: 20 }));
    // t=0: ratio 1, recommendation 10 (and the seed 10@0).
    expect(syncQueue(controller, 0, 10, 10).desiredReplicas).toBe(10);
    // From t=15 the metric says 2 (ratio 0.2 -> 2), but 10@0 is not before the cutoff until t=300 passes.
    for (let now = 15; now <= 300; now += 15) {
      const decision = syncQueue(controller, now, 10, 2);
      expect(decision.rescale, `t=${now}`).toBe(false);
    }
    // t=315: cutoff 15, both records at 0 are older; the window holds only 2s.
    expect(syncQueue(controller, 315, 10, 2).desiredReplicas).toBe(2);
  });
});

describe("behavior: stabilization windows", () => {
  it("scale-up waits for the minimum over the up window", () => {
    const controller = new HorizontalPodAutoscalerController(
      hpa({
        max: 20,
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 60,
            policies: [{ type: "Pods", value: 100, periodSeconds: 15 }],
          },
        },
      }),
    );
    expect(syncQueue(controller, 0, 2, 10).desiredReplicas).toBe(2);
    // Wanted ceil(5 * 2) = 10, but 2@0 is within (now - 60, now] until t=60.
    expect(syncQueue(controller, 15, 2, 50).desiredReplicas).toBe(2);
    expect(syncQueue(controller, 30, 2, 50).desiredReplicas).toBe(2);
    expect(syncQueue(controller, 45, 2, 50).desiredReplicas).toBe(2);
    // t=60: records at 0 are not after the cutoff 0; min(10, 10, 10, 10) = 10; Pods 100 allows it.
    expect(syncQueue(controller, 60, 2, 50).desiredReplicas).toBe(10);
  });

  it("scale-down waits for the maximum over the down window", () => {
    const controller = new HorizontalPodAutoscalerController(
      hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } }),
    );
    expect(syncQueue(controller, 0, 10, 10).desiredReplicas).toBe(10);
    // Wanted 2, held at max(2, 10@0) = 10 while 10@0 is inside the window.
    for (const now of [15, 30, 45]) expect(syncQueue(controller, now, 10, 2).desiredReplicas).toBe(10);
    // t=60: only 2s remain; default scale-down policy Percent 100 / 15 s allows down to 0, min is 1.
    expect(syncQueue(controller, 60, 10, 2).desiredReplicas).toBe(2);
  });
});

describe("behavior: rate-limit policies", () => {
  const up = (selectPolicy: string): V2HorizontalPodAutoscalerBehavior => ({
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy,
      policies: [
        { type: "Pods", value: 4, periodSeconds: 60 },
        { type: "Percent", value: 50, periodSeconds: 60 },
      ],
    },
  });

  it("scale-up Max picks the larger of Pods and Percent", () => {
    const controller = new HorizontalPodAutoscalerController(hpa({ behavior: up("Max") }));
    // Wanted 40. Pods: 10 + 4 = 14; Percent: ceil(10 * 1.5) = 15. Max -> 15.
    expect(syncQueue(controller, 0, 10, 40).desiredReplicas).toBe(15);
    // t=15: the +5 at t=0 is inside both 60 s periods: period start 10 -> limit 15 = current, no change.
    expect(syncQueue(controller, 15, 15, 40).desiredReplicas).toBe(15);
    // t=75: the event at 0 has left the period: start 15 -> Pods 19, Percent ceil(22.5) = 23.
    expect(syncQueue(controller, 75, 15, 40).desiredReplicas).toBe(23);
  });

  it("scale-up Min picks the smaller, Disabled forbids scaling up", () => {
    expect(
      syncQueue(new HorizontalPodAutoscalerController(hpa({ behavior: up("Min") })), 0, 10, 40)
        .desiredReplicas,
    ).toBe(14);
    const disabled = syncQueue(
      new HorizontalPodAutoscalerController(hpa({ behavior: up("Disabled") })),
      0,
      10,
      40,
    );
    expect(disabled.desiredReplicas).toBe(10);
    expect(disabled.rescale).toBe(false);
  });

  const down = (selectPolicy: string): V2HorizontalPodAutoscalerBehavior => ({
    scaleDown: {
      stabilizationWindowSeconds: 0,
      selectPolicy,
      policies: [
        { type: "Pods", value: 3, periodSeconds: 60 },
        { type: "Percent", value: 50, periodSeconds: 60 },
      ],
    },
  });

  it("scale-down Max takes the biggest step, Min the smallest, Disabled none", () => {
    // Wanted ceil(0.1 * 10) = 1. Pods: 10 - 3 = 7; Percent: int(10 * 0.5) = 5.
    expect(
      syncQueue(new HorizontalPodAutoscalerController(hpa({ behavior: down("Max") })), 0, 10, 1)
        .desiredReplicas,
    ).toBe(5);
    expect(
      syncQueue(new HorizontalPodAutoscalerController(hpa({ behavior: down("Min") })), 0, 10, 1)
        .desiredReplicas,
    ).toBe(7);
    expect(
      syncQueue(new HorizontalPodAutoscalerController(hpa({ behavior: down("Disabled") })), 0, 10, 1)
        .desiredReplicas,
    ).toBe(10);
  });

  it("fills defaults field by field: scale-up Pods 4 or Percent 100 per 15 s", () => {
    const controller = new HorizontalPodAutoscalerController(
      hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }),
    );
    // 3 pods wanting 30: Pods 3 + 4 = 7, Percent ceil(3 * 2) = 6; Max -> 7.
    expect(syncQueue(controller, 0, 3, 100).desiredReplicas).toBe(7);
  });
});

describe("gate and clamps", () => {
  it("does nothing at zero replicas when minReplicas is not zero", () => {
    const controller = new HorizontalPodAutoscalerController(hpa({ min: 1 }));
    const decision = syncQueue(controller, 0, 0, 100);
    expect(decision.rescale).toBe(false);
    expect(decision.reason).toBe("ScalingDisabled");
  });

  it("moves straight to max or min without reading metrics", () => {
    const controller = new HorizontalPodAutoscalerController(hpa({ min: 2, max: 10 }));
    expect(syncQueue(controller, 0, 12, 0).desiredReplicas).toBe(10);
    expect(syncQueue(controller, 15, 1, 1000).desiredReplicas).toBe(2);
  });

  it("never goes below minReplicas after stabilization", () => {
    const controller = new HorizontalPodAutoscalerController(
      hpa({ min: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }),
    );
    expect(syncQueue(controller, 0, 10, 0.5).desiredReplicas).toBe(3);
  });
});

describe("not-ready and missing pods", () => {
  const loading: PodView = {
    phase: "Running",
    ready: false,
    startedAt: 0,
    readyTransitionAt: 0,
    requestsMilli: { cpu: 1000 },
  };
  const pending: PodView = {
    phase: "Pending",
    ready: undefined,
    startedAt: undefined,
    readyTransitionAt: 50,
  };
  const samples = (...values: (number | undefined)[]) =>
    PodMetricsInfo.of(
      values.flatMap((value, pod) =>
        value === undefined ? [] : [[pod, { value, timestamp: 0, window: 15 }] as const],
      ),
    );

  it("classifies pods the way groupPods does, the CPU sample's time against the pod's readiness", () => {
    const justReady: PodView = { phase: "Running", ready: true, startedAt: 0, readyTransitionAt: 100 };
    const sampleAt = (timestamp: number) => PodMetricsInfo.of([[0, { value: 1, timestamp, window: 15 }]]);
    // Pending: unready; no sample: missing.
    expect(groupPods([pending, readyPod], samples(1), "queue", 300, 30, 10)).toEqual({
      readyPodCount: 0,
      unreadyPods: [0],
      missingPods: [1],
      ignoredPods: [],
    });
    // CPU, inside the 5 minute initialization period: a sample taken 10 s after readiness does not
    // cover its 15 s window after it, so the pod is unready, whenever the sync runs.
    expect(groupPods([justReady], sampleAt(110), "cpu", 300, 30, 200).unreadyPods).toEqual([0]);
    // A sample taken 15 s after readiness counts.
    expect(groupPods([justReady], sampleAt(115), "cpu", 300, 30, 115).readyPodCount).toBe(1);
    // CPU after the initialization period: a pod that never became ready is unready.
    expect(groupPods([loading], samples(1), "cpu", 300, 30, 400).unreadyPods).toEqual([0]);
    // Non-CPU metrics skip the readiness test: a running pod with a sample counts.
    expect(groupPods([loading], samples(1), "queue", 300, 30, 10).readyPodCount).toBe(1);
  });

  it("CPU scale-up counts unready pods as idle, and keeps the count when that flips direction", () => {
    // 2 ready pods at 100 % of a 1000m request, 2 loading; target 90 %.
    // Ready only: ratio 100 / 90 = 1.11 -> ceil(1.11 * 2) = 3, a scale *down* from 4.
    // With unready at 0: trunc(2000 * 100 / 4000) = 50 -> ratio 0.56 < 1 flips direction -> keep 4.
    const replicas = calculator(
      [readyPod, readyPod, loading, loading],
      [1000, 1000, 0, 0],
    )(30).getResourceReplicas(4, 90, "cpu", wide).replicaCount;
    expect(replicas).toBe(4);
  });

  it("Pods metric scale-down counts missing pods as at target", () => {
    // 2 ready pods at 2 per pod (target 10), 2 loading pods with no sample yet.
    // Ready only: ratio 0.2 -> 1. Missing filled with 10: avg (2 + 2 + 10 + 10) / 4 = 6 -> 0.6 -> ceil(2.4) = 3.
    const proposal = plainMetricReplicas({
      currentReplicas: 4,
      targetMilli: 10_000,
      pods: [readyPod, readyPod, loading, loading],
      valueMilli: [2000, 2000, undefined, undefined],
      tolerances: wide,
      now: 30,
    });
    expect(proposal).toBe(3);
  });

  it("Pods metric exactly at target leaves missing pods out", () => {
    // 2 ready pods at exactly 10 (ratio 1), 2 loading with no sample. Neither fill applies at ratio 1,
    // so the ratio stays 1: within tolerance, keep 4. (Counting them as 0 would halve it to 0.5 -> 2.)
    const proposal = plainMetricReplicas({
      currentReplicas: 4,
      targetMilli: 10_000,
      pods: [readyPod, readyPod, loading, loading],
      valueMilli: [10_000, 10_000, undefined, undefined],
      tolerances: wide,
      now: 30,
    });
    expect(proposal).toBe(4);
  });
});

describe("several metrics", () => {
  const twoMetrics = hpa({ metrics: [CPU_METRIC, QUEUE_METRIC], max: 50 });

  it("takes the largest proposal", () => {
    const controller = new HorizontalPodAutoscalerController(twoMetrics);
    // CPU: 60 % / 50 % = 1.2 -> ceil(4.8) = 5; queue: 30 / 10 = 3 -> 12. Max 12, then (no behavior)
    // clamped to max(2 * 4, 4) = 8.
    const decision = controller.sync({
      now: 0,
      specReplicas: 4,
      statusReplicas: 4,
      pods: readyPods(4),
      readMetric: (metric): MetricReading =>
        metric.type === "Resource"
          ? { kind: "perPod", valuesMilli: [600, 600, 600, 600] }
          : { kind: "perPod", valuesMilli: [30_000, 30_000, 30_000, 30_000] },
    });
    expect(decision.proposals.map((proposal) => proposal.replicas)).toEqual([5, 12]);
    expect(decision.desiredReplicas).toBe(8);
  });

  it("skips the cycle when a metric fails and the others propose fewer replicas than now", () => {
    const controller = new HorizontalPodAutoscalerController(twoMetrics);
    const decision = controller.sync({
      now: 0,
      specReplicas: 4,
      statusReplicas: 4,
      pods: readyPods(4),
      readMetric: (metric): MetricReading =>
        metric.type === "Resource"
          ? { kind: "perPod", valuesMilli: [100, 100, 100, 100] }
          : { kind: "error", message: "custom metrics unavailable" },
    });
    expect(decision.rescale).toBe(false);
    expect(decision.reason).toBe("FailedComputeMetricsReplicas");
  });

  it("still scales up on the working metric when one fails", () => {
    const controller = new HorizontalPodAutoscalerController(twoMetrics);
    const decision = controller.sync({
      now: 0,
      specReplicas: 4,
      statusReplicas: 4,
      pods: readyPods(4),
      readMetric: (metric): MetricReading =>
        metric.type === "Resource"
          ? { kind: "perPod", valuesMilli: [750, 750, 750, 750] }
          : { kind: "error", message: "custom metrics unavailable" },
    });
    // CPU 75 / 50 = 1.5 -> 6.
    expect(decision.desiredReplicas).toBe(6);
  });
});
