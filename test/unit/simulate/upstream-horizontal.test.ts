// Kubernetes' pkg/controller/podautoscaler/horizontal_test.go (v1.35), through the simulator's
// HorizontalPodAutoscalerController: the tables of the normalization functions, then the
// reconcileAutoscaler cases that exercise behavior, stabilization, tolerance, limits and missing or
// unready pods. Each case keeps upstream's name and expected figures.
//
// Upstream's fixture for the reconcile cases, restated: pods as many as reportedCPURequests has
// entries (else statusReplicas), each requesting its entry (1 CPU by default); CPU samples taken now
// over a one-minute window; a pod's Ready transition at its start time; "hot" pods started now,
// "cool" ones three minutes ago, others at the zero time; the controller with a 5 minute downscale
// window, a 0.1 tolerance, a 2 minute CPU initialization period, a 10 s initial readiness delay, and
// scaleUpLimitFactor raised to 8 (horizontal_test.go's init). Custom metrics report reportedLevels
// per pod (Pods), its first entry (Object), or all of them summed (External).
//
// Not ported: the cases about events, conditions, status writes, selectors, conflicts and the REST
// mapping (the simulator has no API objects to write), the ContainerResource variants, and the
// "feature gate disabled" tolerance case (the simulator assumes HPAConfigurableTolerance on, as in
// 1.35). Upstream's "CheddarCheese" metric type is refused up front by the simulator; its cases are
// ported with a metric whose reading fails, which is what they test.
import type {
  V2HorizontalPodAutoscalerBehavior,
  V2HPAScalingRules,
  V2MetricSpec,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  calculateScaleDownLimitWithBehaviors,
  calculateScaleUpLimit,
  calculateScaleUpLimitWithScalingRules,
  convertDesiredReplicasWithRules,
  getReplicasChangePerPeriod,
  HorizontalPodAutoscalerController,
  normalizeBehavior,
  type MetricReading,
  type NormalizationArg,
  type PodView,
  type ScalingRules,
  type TimestampedRecommendation,
  type TimestampedScaleEvent,
} from "../../../src/simulate/hpa.js";
import { UPSTREAM_TEST_TIME } from "./support.js";

const { NOW, ZERO, HOT, COOL, CPU_INITIALIZATION_PERIOD, DELAY_OF_INITIAL_READINESS } = UPSTREAM_TEST_TIME;
const MINUTE = 60;

const TEST_PARAMETERS = {
  tolerance: 0.1,
  downscaleStabilizationSeconds: 300,
  cpuInitializationPeriodSeconds: CPU_INITIALIZATION_PERIOD,
  initialReadinessDelaySeconds: DELAY_OF_INITIAL_READINESS,
  scaleUpLimitFactor: 8,
};

function controllerFor(options: {
  min?: number;
  max?: number;
  metrics?: V2MetricSpec[];
  behavior?: V2HorizontalPodAutoscalerBehavior;
}): HorizontalPodAutoscalerController {
  const controller = new HorizontalPodAutoscalerController(
    {
      spec: {
        scaleTargetRef: { kind: "ReplicationController", name: "test-rc" },
        minReplicas: options.min ?? 1,
        maxReplicas: options.max ?? 1000,
        metrics: options.metrics ?? [],
        ...(options.behavior && { behavior: options.behavior }),
      },
    },
    TEST_PARAMETERS,
  );
  controller.setClock(NOW);
  return controller;
}

/** generateScalingRules: Max of a Pods and a Percent policy, either left out when 0. */
function generateScalingRules(
  pods: number,
  podsPeriod: number,
  percent: number,
  percentPeriod: number,
  stabilizationWindow: number,
): V2HPAScalingRules {
  const policies: V2HPAScalingRules["policies"] = [];
  if (pods !== 0) policies.push({ type: "Pods", value: pods, periodSeconds: podsPeriod });
  if (percent !== 0) policies.push({ type: "Percent", value: percent, periodSeconds: percentPeriod });
  return { stabilizationWindowSeconds: stabilizationWindow, selectPolicy: "Max", policies };
}

/** generateEventsUniformDistribution: the events spread over the last periodSeconds, each mid-segment. */
function generateEventsUniformDistribution(
  rawEvents: number[],
  periodSeconds: number,
): TimestampedScaleEvent[] {
  const segment = periodSeconds / rawEvents.length;
  return rawEvents.map((replicaChange, index) => ({
    replicaChange,
    timestamp: NOW - Math.trunc(periodSeconds - segment * (index + 1) + segment / 2),
    outdated: false,
  }));
}

const rules = (windowSeconds: number): ScalingRules => ({
  stabilizationWindowSeconds: windowSeconds,
  selectPolicy: "Max",
  policies: [],
});

describe("horizontal_test.go: TestConvertDesiredReplicasWithRules", () => {
  it.each<[number, number, number, number, number, string, string]>([
    [5, 7, 3, 8, 7, "DesiredWithinRange", "prenormalized desired replicas within range"],
    [3, 1, 2, 8, 2, "TooFewReplicas", "prenormalized desired replicas < minReplicas"],
    [1, 0, 0, 10, 0, "DesiredWithinRange", "prenormalized desired zeroed replicas within range"],
    [20, 1000, 1, 10, 10, "TooManyReplicas", "maxReplicas is the limit because maxReplicas < scaleUpLimit"],
    [
      3,
      1000,
      1,
      2000,
      calculateScaleUpLimit(3),
      "ScaleUpLimit",
      "scaleUpLimit is the limit because scaleUpLimit < maxReplicas",
    ],
  ])("%i -> %i in [%i, %i]: %i (%s) — %s", (current, desired, min, max, expected, reason) => {
    expect(convertDesiredReplicasWithRules(current, desired, min, max)).toEqual({
      replicas: expected,
      reason,
    });
  });
});

describe("horizontal_test.go: TestCalculateScaleUpLimitWithScalingRules, TestCalculateScaleDownLimitWithBehaviors", () => {
  const minPolicy: ScalingRules = {
    stabilizationWindowSeconds: 300,
    selectPolicy: "Min",
    policies: [
      { type: "Pods", value: 2, periodSeconds: 60 },
      { type: "Percent", value: 50, periodSeconds: 60 },
    ],
  };
  it("Min of Pods 2 and Percent 50 per minute", () => {
    expect(calculateScaleUpLimitWithScalingRules(1, [], [], minPolicy, NOW)).toBe(2);
    expect(calculateScaleDownLimitWithBehaviors(5, [], [], minPolicy, NOW)).toBe(3);
  });
});

describe("horizontal_test.go: TestNormalizeDesiredReplicas", () => {
  it.each<[string, TimestampedRecommendation[], number, number, number]>([
    ["empty log", [], 5, 5, 1],
    [
      "stabilize",
      [
        { recommendation: 4, timestamp: NOW - 2 * MINUTE },
        { recommendation: 5, timestamp: NOW - MINUTE },
      ],
      3,
      5,
      3,
    ],
    [
      "no stabilize",
      [
        { recommendation: 1, timestamp: NOW - 2 * MINUTE },
        { recommendation: 2, timestamp: NOW - MINUTE },
      ],
      3,
      3,
      3,
    ],
    [
      "no stabilize - old recommendations",
      [
        { recommendation: 10, timestamp: NOW - 10 * MINUTE },
        { recommendation: 9, timestamp: NOW - 9 * MINUTE },
      ],
      3,
      3,
      2,
    ],
    [
      "stabilize - old recommendations",
      [
        { recommendation: 10, timestamp: NOW - 10 * MINUTE },
        { recommendation: 4, timestamp: NOW - MINUTE },
        { recommendation: 5, timestamp: NOW - 2 * MINUTE },
        { recommendation: 9, timestamp: NOW - 9 * MINUTE },
      ],
      3,
      5,
      4,
    ],
  ])("%s", (_, recommendations, prenormalized, expected, logLength) => {
    const controller = controllerFor({});
    controller.recommendations = recommendations;
    expect(controller.stabilizeRecommendation(prenormalized)).toBe(expected);
    expect(controller.recommendations).toHaveLength(logLength);
  });
});

describe("horizontal_test.go: TestScalingWithRules", () => {
  interface Case {
    name: string;
    scaleUpEvents?: TimestampedScaleEvent[];
    scaleDownEvents?: TimestampedScaleEvent[];
    specMinReplicas: number;
    specMaxReplicas: number;
    scaleUpRules?: V2HPAScalingRules;
    scaleDownRules?: V2HPAScalingRules;
    currentReplicas: number;
    prenormalizedDesiredReplicas: number;
    expectedReplicas: number;
    expectedCondition: string;
  }
  const events = generateEventsUniformDistribution;
  const cases: Case[] = [
    {
      name: "prenormalized desired replicas within range",
      currentReplicas: 5,
      prenormalizedDesiredReplicas: 7,
      specMinReplicas: 3,
      specMaxReplicas: 8,
      expectedReplicas: 7,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "prenormalized desired replicas < minReplicas",
      currentReplicas: 3,
      prenormalizedDesiredReplicas: 1,
      specMinReplicas: 2,
      specMaxReplicas: 8,
      expectedReplicas: 2,
      expectedCondition: "TooFewReplicas",
    },
    {
      name: "prenormalized desired replicas within range when minReplicas is 0",
      currentReplicas: 1,
      prenormalizedDesiredReplicas: 0,
      specMinReplicas: 0,
      specMaxReplicas: 10,
      expectedReplicas: 0,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "maxReplicas is the limit because maxReplicas < scaleUpLimit",
      currentReplicas: 20,
      prenormalizedDesiredReplicas: 1000,
      specMinReplicas: 1,
      specMaxReplicas: 10,
      expectedReplicas: 10,
      expectedCondition: "TooManyReplicas",
    },
    {
      name: "desired replica count is more than the maximum replica count",
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 1000,
      specMinReplicas: 100,
      specMaxReplicas: 150,
      expectedReplicas: 150,
      expectedCondition: "TooManyReplicas",
    },
    {
      name: "scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies",
      currentReplicas: 3,
      prenormalizedDesiredReplicas: 1000,
      specMinReplicas: 1,
      specMaxReplicas: 2000,
      expectedReplicas: 4,
      expectedCondition: "ScaleUpLimit",
      scaleUpRules: generateScalingRules(0, 0, 1, 60, 0),
    },
    // Upstream skips "scaleDownLimit is the limit because scaleDownLimit > minReplicas with user
    // defined policies" (testThis: true returns early); so does this port.
    {
      name: "scaleUp with default behavior",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 50,
      expectedReplicas: 20,
      expectedCondition: "ScaleUpLimit",
    },
    {
      name: "scaleUp with pods policy larger than percent policy",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(100, 60, 100, 60, 0),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 500,
      expectedReplicas: 110,
      expectedCondition: "ScaleUpLimit",
    },
    {
      name: "scaleUp with percent policy larger than pods policy",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(2, 60, 100, 60, 0),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 500,
      expectedReplicas: 20,
      expectedCondition: "ScaleUpLimit",
    },
    {
      name: "scaleUp with spec MaxReplicas limitation with large pod policy",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(100, 60, 0, 0, 0),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 50,
      expectedReplicas: 50,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "scaleUp with spec MaxReplicas limitation with large percent policy",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(10000, 60, 0, 0, 0),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 50,
      expectedReplicas: 50,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "scaleUp with pod policy limitation",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(30, 60, 0, 0, 0),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 50,
      expectedReplicas: 40,
      expectedCondition: "ScaleUpLimit",
    },
    {
      name: "scaleUp with percent policy limitation",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(0, 0, 200, 60, 0),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 50,
      expectedReplicas: 30,
      expectedCondition: "ScaleUpLimit",
    },
    {
      name: "scaleDown with percent policy larger than pod policy",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(20, 60, 1, 60, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 2,
      expectedReplicas: 80,
      expectedCondition: "ScaleDownLimit",
    },
    {
      name: "scaleDown with pod policy larger than percent policy",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(2, 60, 1, 60, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 2,
      expectedReplicas: 98,
      expectedCondition: "ScaleDownLimit",
    },
    {
      name: "scaleDown with spec MinReplicas=nil limitation with large pod policy",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(100, 60, 0, 0, 300),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 0,
      expectedReplicas: 1,
      expectedCondition: "TooFewReplicas",
    },
    {
      name: "scaleDown with spec MinReplicas limitation with large pod policy",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(100, 60, 0, 0, 300),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 0,
      expectedReplicas: 1,
      expectedCondition: "TooFewReplicas",
    },
    {
      name: "scaleDown with spec MinReplicas limitation with large percent policy",
      specMinReplicas: 5,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(0, 0, 100, 60, 300),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 2,
      expectedReplicas: 5,
      expectedCondition: "TooFewReplicas",
    },
    {
      name: "scaleDown with pod policy limitation",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(5, 60, 0, 0, 300),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 2,
      expectedReplicas: 5,
      expectedCondition: "ScaleDownLimit",
    },
    {
      name: "scaleDown with percent policy limitation",
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(0, 0, 50, 60, 300),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 5,
      expectedReplicas: 5,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "scaleUp with spec MaxReplicas limitation with large pod policy and events",
      scaleUpEvents: events([1, 5, 9], 120),
      specMinReplicas: 1,
      specMaxReplicas: 200,
      scaleUpRules: generateScalingRules(300, 60, 0, 0, 0),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 500,
      expectedReplicas: 200,
      expectedCondition: "TooManyReplicas",
    },
    {
      name: "scaleUp with spec MaxReplicas limitation with large percent policy and events",
      scaleUpEvents: events([1, 5, 9], 120),
      specMinReplicas: 1,
      specMaxReplicas: 200,
      scaleUpRules: generateScalingRules(0, 0, 10000, 60, 0),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 500,
      expectedReplicas: 200,
      expectedCondition: "TooManyReplicas",
    },
    {
      name: "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
      scaleUpEvents: events([1, 5, 9], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(5, 120, 0, 0, 0),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 500,
      expectedReplicas: 100,
      expectedCondition: "ScaleUpLimit",
    },
    {
      name: "scaleUp with pod policy and previous scale up events",
      scaleUpEvents: events([1, 5, 9], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(150, 120, 0, 0, 0),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 500,
      expectedReplicas: 235,
      expectedCondition: "ScaleUpLimit",
    },
    {
      name: "scaleUp with percent policy and previous scale up events",
      scaleUpEvents: events([1, 5, 9], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(0, 0, 200, 120, 0),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 500,
      expectedReplicas: 255,
      expectedCondition: "ScaleUpLimit",
    },
    {
      name: "scaleUp with percent policy and previous scale up and down events",
      scaleUpEvents: events([4], 120),
      scaleDownEvents: events([2], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(0, 0, 300, 300, 0),
      currentReplicas: 6,
      prenormalizedDesiredReplicas: 24,
      expectedReplicas: 16,
      expectedCondition: "ScaleUpLimit",
    },
    {
      name: "scaleDown with default policy and previous events",
      scaleDownEvents: events([1, 5, 9], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 5,
      expectedReplicas: 5,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events",
      scaleDownEvents: events([1, 5, 9], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(115, 120, 0, 0, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 0,
      expectedReplicas: 1,
      expectedCondition: "TooFewReplicas",
    },
    {
      name: "scaleDown with spec MinReplicas limitation with large pod policy and previous events",
      scaleDownEvents: events([1, 5, 9], 120),
      specMinReplicas: 5,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(130, 120, 0, 0, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 0,
      expectedReplicas: 5,
      expectedCondition: "TooFewReplicas",
    },
    {
      name: "scaleDown with spec MinReplicas limitation with large percent policy and previous events",
      scaleDownEvents: events([1, 5, 9], 120),
      specMinReplicas: 5,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(0, 0, 100, 120, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 2,
      expectedReplicas: 5,
      expectedCondition: "TooFewReplicas",
    },
    {
      name: "scaleDown with pod policy limitation and previous events",
      scaleDownEvents: events([1, 5, 9], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(5, 120, 0, 0, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 2,
      expectedReplicas: 100,
      expectedCondition: "ScaleDownLimit",
    },
    {
      name: "scaleDown with percent policy limitation and previous events",
      scaleDownEvents: events([2, 4, 6], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(0, 0, 50, 120, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 0,
      expectedReplicas: 56,
      expectedCondition: "ScaleDownLimit",
    },
    {
      name: "scaleDown with percent policy and previous scale up and down events",
      scaleUpEvents: events([2], 120),
      scaleDownEvents: events([4], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(0, 0, 50, 180, 0),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 1,
      expectedReplicas: 6,
      expectedCondition: "ScaleDownLimit",
    },
    {
      name: "scaleDown with previous events preventing further scale down",
      scaleDownEvents: events([10, 10, 10], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(0, 0, 10, 120, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 0,
      expectedReplicas: 100,
      expectedCondition: "ScaleDownLimit",
    },
    {
      name: "scaleDown with with previous events still allowing more scale down",
      scaleDownEvents: events([10, 10, 10], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(0, 0, 1000, 120, 300),
      currentReplicas: 10,
      prenormalizedDesiredReplicas: 5,
      expectedReplicas: 5,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "check 'outdated' flag for events for one behavior for up",
      scaleUpEvents: events([8, 12, 9, 11], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(1000, 60, 0, 0, 0),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 200,
      expectedReplicas: 200,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "check that events were not marked 'outdated' for two different policies in the behavior for up",
      scaleUpEvents: events([8, 12, 9, 11], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(1000, 120, 100, 60, 0),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 200,
      expectedReplicas: 200,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "check that events were marked 'outdated' for two different policies in the behavior for up",
      scaleUpEvents: events([8, 12, 9, 11], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleUpRules: generateScalingRules(1000, 30, 100, 60, 0),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 200,
      expectedReplicas: 200,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "check 'outdated' flag for events for one behavior for down",
      scaleDownEvents: events([8, 12, 9, 11], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(1000, 60, 0, 0, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 5,
      expectedReplicas: 5,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "check that events were not marked 'outdated' for two different policies in the behavior for down",
      scaleDownEvents: events([8, 12, 9, 11], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(1000, 120, 100, 60, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 5,
      expectedReplicas: 5,
      expectedCondition: "DesiredWithinRange",
    },
    {
      name: "check that events were marked 'outdated' for two different policies in the behavior for down",
      scaleDownEvents: events([8, 12, 9, 11], 120),
      specMinReplicas: 1,
      specMaxReplicas: 1000,
      scaleDownRules: generateScalingRules(1000, 30, 100, 60, 300),
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 5,
      expectedReplicas: 5,
      expectedCondition: "DesiredWithinRange",
    },
  ];
  it.each(cases.map((tc) => [tc.name, tc] as const))("%s", (_, tc) => {
    const controller = controllerFor({ min: tc.specMinReplicas, max: tc.specMaxReplicas });
    controller.scaleUpEvents = tc.scaleUpEvents ?? [];
    controller.scaleDownEvents = tc.scaleDownEvents ?? [];
    const behavior = normalizeBehavior({
      ...(tc.scaleUpRules && { scaleUp: tc.scaleUpRules }),
      ...(tc.scaleDownRules && { scaleDown: tc.scaleDownRules }),
    });
    if (!behavior) throw new Error("a behavior object always normalizes");
    const arg: NormalizationArg = {
      scaleUpBehavior: behavior.scaleUp,
      scaleDownBehavior: behavior.scaleDown,
      minReplicas: tc.specMinReplicas,
      maxReplicas: tc.specMaxReplicas,
      desiredReplicas: tc.prenormalizedDesiredReplicas,
      currentReplicas: tc.currentReplicas,
    };
    expect(controller.convertDesiredReplicasWithBehaviorRate(arg)).toEqual({
      replicas: tc.expectedReplicas,
      reason: tc.expectedCondition,
    });
  });
});

describe("horizontal_test.go: TestStoreScaleEvents", () => {
  const event = (replicaChange: number, ageSeconds: number, outdated = false): TimestampedScaleEvent => ({
    replicaChange,
    timestamp: NOW - ageSeconds,
    outdated,
  });
  const cases: {
    name: string;
    prevScaleEvents: TimestampedScaleEvent[];
    newScaleEvents: [number, boolean][];
    scalingRules?: V2HPAScalingRules;
    expectedReplicasChange: number;
  }[] = [
    {
      name: "empty entries with default behavior",
      prevScaleEvents: [],
      newScaleEvents: [],
      expectedReplicasChange: 0,
    },
    {
      name: "empty entries with two-policy-behavior",
      prevScaleEvents: [],
      newScaleEvents: [[5, false]],
      scalingRules: generateScalingRules(10, 60, 100, 60, 0),
      expectedReplicasChange: 0,
    },
    {
      name: "one outdated entry to be kept untouched without behavior",
      prevScaleEvents: [event(7, 61)],
      newScaleEvents: [[7, false]],
      expectedReplicasChange: 0,
    },
    {
      name: "one outdated entry to be replaced with behavior",
      prevScaleEvents: [event(7, 61)],
      newScaleEvents: [[5, false]],
      scalingRules: generateScalingRules(10, 60, 100, 60, 0),
      expectedReplicasChange: 0,
    },
    {
      name: "one actual entry to be not touched with behavior",
      prevScaleEvents: [event(7, 58)],
      newScaleEvents: [
        [7, false],
        [5, false],
      ],
      scalingRules: generateScalingRules(10, 60, 100, 60, 0),
      expectedReplicasChange: 7,
    },
    {
      name: "two entries, one of them to be replaced",
      prevScaleEvents: [event(7, 61), event(6, 59)],
      newScaleEvents: [
        [5, false],
        [6, false],
      ],
      scalingRules: generateScalingRules(10, 60, 0, 0, 0),
      expectedReplicasChange: 6,
    },
    {
      name: "replace one entry, use policies with different periods",
      prevScaleEvents: [event(8, 29), event(6, 59), event(7, 61), event(9, 61)],
      newScaleEvents: [
        [8, false],
        [6, false],
        [7, true],
        [5, false],
      ],
      scalingRules: generateScalingRules(10, 60, 100, 30, 0),
      expectedReplicasChange: 14,
    },
    {
      name: "two entries, both actual",
      prevScaleEvents: [event(7, 58), event(6, 59)],
      newScaleEvents: [
        [7, false],
        [6, false],
        [5, false],
      ],
      scalingRules: generateScalingRules(10, 120, 100, 30, 0),
      expectedReplicasChange: 13,
    },
  ];
  it.each(cases.map((tc) => [tc.name, tc] as const))("%s", (_, tc) => {
    for (const direction of ["up", "down"] as const) {
      const controller = controllerFor({});
      const copy = tc.prevScaleEvents.map((each) => ({ ...each }));
      if (direction === "up") controller.scaleUpEvents = copy;
      else controller.scaleDownEvents = copy;
      expect(getReplicasChangePerPeriod(60, copy, NOW)).toBe(tc.expectedReplicasChange);
      const behavior = tc.scalingRules
        ? normalizeBehavior(
            direction === "up" ? { scaleUp: tc.scalingRules } : { scaleDown: tc.scalingRules },
          )
        : undefined;
      controller.storeScaleEvent(behavior, 10, direction === "up" ? 15 : 5);
      const stored = direction === "up" ? controller.scaleUpEvents : controller.scaleDownEvents;
      expect(
        stored.map((each) => [each.replicaChange, each.outdated]),
        direction,
      ).toEqual(tc.newScaleEvents);
    }
  });
});

describe("horizontal_test.go: TestNormalizeDesiredReplicasWithBehavior", () => {
  const rec = (recommendation: number, ageMinutes: number): TimestampedRecommendation => ({
    recommendation,
    timestamp: NOW - ageMinutes * MINUTE,
  });
  const cases: {
    name: string;
    recommendations: TimestampedRecommendation[];
    currentReplicas: number;
    prenormalizedDesiredReplicas: number;
    expectedStabilizedReplicas: number;
    expectedRecommendations?: number[];
    up?: number;
    down?: number;
  }[] = [
    {
      name: "empty recommendations for scaling down",
      recommendations: [],
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 5,
      expectedStabilizedReplicas: 5,
      expectedRecommendations: [5],
    },
    {
      name: "simple scale down stabilization",
      recommendations: [rec(4, 2), rec(5, 1)],
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 3,
      expectedStabilizedReplicas: 5,
      expectedRecommendations: [4, 5, 3],
      down: 180,
    },
    {
      name: "simple scale up stabilization",
      recommendations: [rec(4, 2), rec(5, 1)],
      currentReplicas: 1,
      prenormalizedDesiredReplicas: 7,
      expectedStabilizedReplicas: 4,
      expectedRecommendations: [4, 5, 7],
      up: 300,
    },
    {
      name: "no scale down stabilization",
      recommendations: [rec(1, 2), rec(2, 1)],
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 3,
      expectedStabilizedReplicas: 3,
      expectedRecommendations: [1, 2, 3],
      up: 300,
    },
    {
      name: "no scale up stabilization",
      recommendations: [rec(4, 2), rec(5, 1)],
      currentReplicas: 1,
      prenormalizedDesiredReplicas: 3,
      expectedStabilizedReplicas: 3,
      expectedRecommendations: [4, 5, 3],
      down: 300,
    },
    {
      name: "no scale down stabilization, reuse recommendation element",
      recommendations: [rec(10, 10), rec(9, 9)],
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 3,
      expectedStabilizedReplicas: 3,
      expectedRecommendations: [10, 3],
    },
    {
      name: "no scale up stabilization, reuse recommendation element",
      recommendations: [rec(10, 10), rec(9, 9)],
      currentReplicas: 1,
      prenormalizedDesiredReplicas: 100,
      expectedStabilizedReplicas: 100,
      expectedRecommendations: [10, 100],
    },
    {
      name: "scale down stabilization, reuse one of obsolete recommendation element",
      recommendations: [rec(10, 10), rec(4, 1), rec(5, 2), rec(9, 9)],
      currentReplicas: 100,
      prenormalizedDesiredReplicas: 3,
      expectedStabilizedReplicas: 5,
      expectedRecommendations: [10, 4, 5, 3],
      down: 180,
    },
    {
      name: "scale up stabilization, reuse one of obsolete recommendation element",
      recommendations: [rec(10, 100), rec(6, 1), rec(5, 2), rec(9, 3)],
      currentReplicas: 1,
      prenormalizedDesiredReplicas: 100,
      expectedStabilizedReplicas: 5,
      expectedRecommendations: [100, 6, 5, 9],
      up: 300,
    },
    {
      name: "scale up and down stabilization, do not scale up when prenormalized rec goes down",
      recommendations: [rec(2, 100), rec(3, 3)],
      currentReplicas: 2,
      prenormalizedDesiredReplicas: 1,
      expectedStabilizedReplicas: 2,
      up: 300,
      down: 300,
    },
    {
      name: "scale up and down stabilization, do not scale down when prenormalized rec goes up",
      recommendations: [rec(2, 100), rec(1, 3)],
      currentReplicas: 2,
      prenormalizedDesiredReplicas: 3,
      expectedStabilizedReplicas: 2,
      up: 300,
      down: 300,
    },
  ];
  it.each(cases.map((tc) => [tc.name, tc] as const))("%s", (_, tc) => {
    const controller = controllerFor({});
    controller.recommendations = tc.recommendations;
    const stabilized = controller.stabilizeRecommendationWithBehaviors({
      scaleUpBehavior: rules(tc.up ?? 0),
      scaleDownBehavior: rules(tc.down ?? 0),
      minReplicas: 1,
      maxReplicas: 1000,
      currentReplicas: tc.currentReplicas,
      desiredReplicas: tc.prenormalizedDesiredReplicas,
    });
    expect(stabilized).toBe(tc.expectedStabilizedReplicas);
    if (tc.expectedRecommendations) {
      expect(controller.recommendations?.map((each) => each.recommendation)).toEqual(
        tc.expectedRecommendations,
      );
    }
  });
});

// -------------------------------------------------------------------------------------------------
// reconcileAutoscaler cases

interface ReconcileCase {
  name: string;
  minReplicas: number;
  maxReplicas: number;
  specReplicas: number;
  statusReplicas: number;
  expectedDesiredReplicas: number;
  /** CPU utilization target (percent); 0: no CPU metric. */
  CPUTarget?: number;
  /** CPU usage per pod (milli-cores) or the custom metric's levels (milli-units). */
  reportedLevels: number[];
  /** CPU requests per pod (milli-cores); undefined: statusReplicas pods of 1 CPU. */
  reportedCPURequests?: number[];
  reportedPodReadiness?: boolean[];
  reportedPodStartTime?: number[];
  reportedPodPhase?: PodView["phase"][];
  reportedPodDeletionTimestamp?: boolean[];
  metricsTarget?: V2MetricSpec[];
  /** A metric whose reading fails (upstream's CheddarCheese type, or an empty answer). */
  brokenMetric?: V2MetricSpec;
  scaleUpRules?: V2HPAScalingRules;
  scaleDownRules?: V2HPAScalingRules;
  /** undefined: the controller has none yet (nil), so the first sync seeds it with the current count. */
  recommendations?: TimestampedRecommendation[];
}

const pods = (name: string, averageValue: string): V2MetricSpec => ({
  type: "Pods",
  pods: { metric: { name }, target: { type: "AverageValue", averageValue } },
});
const objectValue = (value: string): V2MetricSpec => ({
  type: "Object",
  object: {
    describedObject: { apiVersion: "apps/v1", kind: "Deployment", name: "some-deployment" },
    metric: { name: "qps" },
    target: { type: "Value", value },
  },
});
const objectAverage = (averageValue: string): V2MetricSpec => ({
  type: "Object",
  object: {
    describedObject: { apiVersion: "apps/v1", kind: "Deployment", name: "some-deployment" },
    metric: { name: "qps" },
    target: { type: "AverageValue", averageValue },
  },
});
const external = (target: { value?: string; averageValue?: string }): V2MetricSpec => ({
  type: "External",
  external: {
    metric: { name: "qps", selector: {} },
    target:
      target.value !== undefined
        ? { type: "Value", value: target.value }
        : { type: "AverageValue", averageValue: target.averageValue ?? "0" },
  },
});
const cheddarCheese = external({ value: "1" });
const ones = (count: number) => Array.from({ length: count }, () => 1000);

function reconcile(tc: ReconcileCase): number {
  const metrics: V2MetricSpec[] = [];
  if (tc.CPUTarget) {
    metrics.push({
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: tc.CPUTarget } },
    });
  }
  metrics.push(...(tc.metricsTarget ?? []));
  if (tc.brokenMetric) metrics.push(tc.brokenMetric);
  const behavior =
    tc.scaleUpRules || tc.scaleDownRules
      ? {
          ...(tc.scaleUpRules && { scaleUp: tc.scaleUpRules }),
          ...(tc.scaleDownRules && { scaleDown: tc.scaleDownRules }),
        }
      : undefined;
  const controller = controllerFor({
    min: tc.minReplicas,
    max: tc.maxReplicas,
    metrics,
    ...(behavior && { behavior }),
  });
  if (tc.recommendations) controller.recommendations = tc.recommendations;
  const requests = tc.reportedCPURequests ?? ones(tc.statusReplicas);
  const podList = requests.map((request, index): PodView => {
    const started = tc.reportedPodStartTime?.[index] ?? ZERO;
    return {
      name: `test-pod-${index}`,
      phase: tc.reportedPodPhase?.[index] ?? "Running",
      ready: tc.reportedPodReadiness?.[index] ?? true,
      startedAt: started,
      readyTransitionAt: started,
      deleting: tc.reportedPodDeletionTimestamp?.[index] ?? false,
      requestsMilli: { cpu: request },
    };
  });
  const readMetric = (metric: V2MetricSpec): MetricReading => {
    if (metric === tc.brokenMetric)
      return { kind: "error", message: "no metrics returned from external metrics API" };
    switch (metric.type) {
      case "Resource":
        return {
          kind: "perPod",
          valuesMilli: podList.map((_, index) => tc.reportedLevels[index]),
          timestamp: NOW,
          windowSeconds: MINUTE,
        };
      case "Pods":
        return { kind: "perPod", valuesMilli: podList.map((_, index) => tc.reportedLevels[index]) };
      case "Object":
        return { kind: "total", valueMilli: tc.reportedLevels[0] ?? 0 };
      default:
        return { kind: "total", valueMilli: tc.reportedLevels.reduce((sum, level) => sum + level, 0) };
    }
  };
  const decision = controller.sync({
    now: NOW,
    specReplicas: tc.specReplicas,
    statusReplicas: tc.statusReplicas,
    pods: podList,
    readMetric,
  });
  return decision.desiredReplicas;
}

const RECONCILE_CASES: ReconcileCase[] = [
  {
    name: "TestScaleUp",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 5,
    CPUTarget: 30,
    reportedLevels: [300, 500, 700],
    reportedCPURequests: ones(3),
  },
  {
    name: "TestScaleUpUnreadyLessScale",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    reportedLevels: [300, 500, 700],
    reportedCPURequests: ones(3),
    reportedPodReadiness: [false, true, true],
  },
  {
    name: "TestScaleUpHotCpuLessScale",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    reportedLevels: [300, 500, 700],
    reportedCPURequests: ones(3),
    reportedPodStartTime: [HOT, COOL, COOL],
  },
  {
    name: "TestScaleUpUnreadyNoScale",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    CPUTarget: 30,
    reportedLevels: [400, 500, 700],
    reportedCPURequests: ones(3),
    reportedPodReadiness: [true, false, false],
  },
  {
    name: "TestScaleUpHotCpuNoScale",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    CPUTarget: 30,
    reportedLevels: [400, 500, 700],
    reportedCPURequests: ones(3),
    reportedPodReadiness: [true, false, false],
    reportedPodStartTime: [COOL, HOT, HOT],
  },
  {
    name: "TestScaleUpIgnoresFailedPods",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 2,
    statusReplicas: 2,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    reportedLevels: [500, 700],
    reportedCPURequests: ones(4),
    reportedPodReadiness: [true, true, false, false],
    reportedPodPhase: ["Running", "Running", "Failed", "Failed"],
  },
  {
    name: "TestScaleUpIgnoresDeletionPods",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 2,
    statusReplicas: 2,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    reportedLevels: [500, 700],
    reportedCPURequests: ones(4),
    reportedPodReadiness: [true, true, false, false],
    reportedPodDeletionTimestamp: [false, false, true, true],
  },
  {
    name: "TestScaleUpCM",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    metricsTarget: [pods("qps", "15.0")],
    reportedLevels: [20000, 10000, 30000],
    reportedCPURequests: ones(3),
  },
  {
    name: "TestScaleUpCMUnreadyAndHotCpuNoLessScale",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 6,
    metricsTarget: [pods("qps", "15.0")],
    reportedLevels: [50000, 10000, 30000],
    reportedPodReadiness: [true, true, false],
    reportedPodStartTime: [COOL, COOL, HOT],
    reportedCPURequests: ones(3),
  },
  {
    name: "TestScaleUpCMUnreadyandCpuHot",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 6,
    metricsTarget: [pods("qps", "15.0")],
    reportedLevels: [50000, 15000, 30000],
    reportedPodReadiness: [false, true, false],
    reportedPodStartTime: [HOT, COOL, HOT],
    reportedCPURequests: ones(3),
  },
  {
    name: "TestScaleUpHotCpuNoScaleWouldScaleDown",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 6,
    metricsTarget: [pods("qps", "15.0")],
    reportedLevels: [50000, 15000, 30000],
    reportedCPURequests: ones(3),
    reportedPodStartTime: [HOT, COOL, HOT],
  },
  {
    name: "TestScaleUpCMObject",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    metricsTarget: [objectValue("15.0")],
    reportedLevels: [20000],
  },
  {
    name: "TestScaleUpFromZeroCMObject",
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 0,
    statusReplicas: 0,
    expectedDesiredReplicas: 2,
    metricsTarget: [objectValue("15.0")],
    reportedLevels: [20000],
  },
  {
    name: "TestScaleUpFromZeroIgnoresToleranceCMObject",
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 0,
    statusReplicas: 0,
    expectedDesiredReplicas: 1,
    metricsTarget: [objectValue("1.0")],
    reportedLevels: [1000],
  },
  {
    name: "TestScaleUpPerPodCMObject",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    metricsTarget: [objectAverage("10.0")],
    reportedLevels: [40000],
  },
  {
    name: "TestScaleUpCMExternal",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    metricsTarget: [external({ value: "6666m" })],
    reportedLevels: [8600],
  },
  {
    name: "TestScaleUpPerPodCMExternal",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    metricsTarget: [external({ averageValue: "2222m" })],
    reportedLevels: [8600],
  },
  {
    name: "TestScaleDown",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    recommendations: [],
  },
  {
    name: "TestScaleDownWithScalingRules",
    minReplicas: 2,
    maxReplicas: 6,
    scaleUpRules: generateScalingRules(0, 0, 100, 15, 30),
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    recommendations: [],
  },
  {
    name: "TestScaleUpOneMetricInvalid",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    brokenMetric: cheddarCheese,
    reportedLevels: [300, 400, 500],
    reportedCPURequests: ones(3),
  },
  {
    name: "TestScaleUpFromZeroOneMetricInvalid",
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 0,
    statusReplicas: 0,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    brokenMetric: cheddarCheese,
    reportedLevels: [300, 400, 500],
    reportedCPURequests: ones(3),
    recommendations: [],
  },
  {
    name: "TestScaleUpBothMetricsEmpty",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    brokenMetric: cheddarCheese,
    reportedLevels: [],
    reportedCPURequests: ones(3),
  },
  {
    name: "TestScaleDownStabilizeInitialSize",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 5,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
  },
  {
    name: "TestScaleDownCM",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    metricsTarget: [pods("qps", "20.0")],
    reportedLevels: [12000, 12000, 12000, 12000, 12000],
    reportedCPURequests: ones(5),
    recommendations: [],
  },
  {
    name: "TestScaleDownCMObject",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    metricsTarget: [objectValue("20.0")],
    reportedLevels: [12000],
    reportedCPURequests: ones(5),
    recommendations: [],
  },
  {
    name: "TestScaleDownToZeroCMObject",
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 0,
    metricsTarget: [objectValue("20.0")],
    reportedLevels: [0],
    reportedCPURequests: ones(5),
    recommendations: [],
  },
  {
    name: "TestScaleDownPerPodCMObject",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    metricsTarget: [objectAverage("20.0")],
    reportedLevels: [60000],
    reportedCPURequests: ones(5),
    recommendations: [],
  },
  {
    name: "TestScaleDownCMExternal",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    metricsTarget: [external({ value: "14400m" })],
    reportedLevels: [8600],
    recommendations: [],
  },
  {
    name: "TestScaleDownToZeroCMExternal",
    minReplicas: 0,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 0,
    metricsTarget: [external({ value: "14400m" })],
    reportedLevels: [0],
    recommendations: [],
  },
  {
    name: "TestScaleDownPerPodCMExternal",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    metricsTarget: [external({ averageValue: "3000m" })],
    reportedLevels: [8600],
    recommendations: [],
  },
  {
    name: "TestScaleDownIncludeUnreadyPods",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 2,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    reportedPodReadiness: [true, true, true, false, false],
    recommendations: [],
  },
  {
    name: "TestScaleDownIgnoreHotCpuPods",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 2,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    reportedPodStartTime: [COOL, COOL, COOL, HOT, HOT],
    recommendations: [],
  },
  {
    name: "TestScaleDownIgnoresFailedPods",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(7),
    reportedPodReadiness: [true, true, true, true, true, false, false],
    reportedPodPhase: ["Running", "Running", "Running", "Running", "Running", "Failed", "Failed"],
    recommendations: [],
  },
  {
    name: "TestScaleDownIgnoresDeletionPods",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 3,
    CPUTarget: 50,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(7),
    reportedPodReadiness: [true, true, true, true, true, false, false],
    reportedPodDeletionTimestamp: [false, false, false, false, false, true, true],
    recommendations: [],
  },
  {
    name: "TestTolerance",
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    CPUTarget: 100,
    reportedLevels: [1010, 1030, 1020],
    reportedCPURequests: [900, 1000, 1100],
  },
  {
    name: "TestConfigurableTolerance: Scaling up because of a 1% configurable tolerance",
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    CPUTarget: 100,
    scaleUpRules: { tolerance: "0.01" },
    reportedLevels: [1010, 1030, 1020],
    reportedCPURequests: [900, 1000, 1100],
  },
  {
    name: "TestConfigurableTolerance: No scale-down because of a 90% configurable tolerance",
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    CPUTarget: 100,
    scaleDownRules: { tolerance: "0.9" },
    reportedLevels: [300, 300, 300],
    reportedCPURequests: ones(3),
  },
  {
    name: "TestConfigurableTolerance: No scaling because of the large default tolerance",
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    CPUTarget: 100,
    reportedLevels: [1010, 1030, 1020],
    reportedCPURequests: [900, 1000, 1100],
  },
  {
    name: "TestToleranceCM",
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    metricsTarget: [pods("qps", "20.0")],
    reportedLevels: [20000, 20001, 21000],
    reportedCPURequests: [900, 1000, 1100],
  },
  {
    name: "TestToleranceCMObject",
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 3,
    metricsTarget: [objectValue("20.0")],
    reportedLevels: [20050],
    reportedCPURequests: [900, 1000, 1100],
  },
  {
    name: "TestToleranceCMExternal",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 4,
    metricsTarget: [external({ value: "8666m" })],
    reportedLevels: [8600],
  },
  {
    name: "TestTolerancePerPodCMObject",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 4,
    metricsTarget: [objectAverage("2200m")],
    reportedLevels: [8600],
  },
  {
    name: "TestTolerancePerPodCMExternal",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 4,
    metricsTarget: [external({ averageValue: "2200m" })],
    reportedLevels: [8600],
  },
  {
    name: "TestMinReplicas",
    minReplicas: 2,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 2,
    CPUTarget: 90,
    reportedLevels: [10, 95, 10],
    reportedCPURequests: [900, 1000, 1100],
    recommendations: [],
  },
  {
    name: "TestZeroMinReplicasDesiredZero",
    minReplicas: 0,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 0,
    CPUTarget: 90,
    reportedLevels: [0, 0, 0],
    reportedCPURequests: [900, 1000, 1100],
    recommendations: [],
  },
  {
    name: "TestMinReplicasDesiredZero",
    minReplicas: 2,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 2,
    CPUTarget: 90,
    reportedLevels: [0, 0, 0],
    reportedCPURequests: [900, 1000, 1100],
    recommendations: [],
  },
  {
    name: "TestZeroReplicas",
    minReplicas: 3,
    maxReplicas: 5,
    specReplicas: 0,
    statusReplicas: 0,
    expectedDesiredReplicas: 0,
    CPUTarget: 90,
    reportedLevels: [],
    reportedCPURequests: [],
  },
  {
    name: "TestTooFewReplicas",
    minReplicas: 3,
    maxReplicas: 5,
    specReplicas: 2,
    statusReplicas: 2,
    expectedDesiredReplicas: 3,
    CPUTarget: 90,
    reportedLevels: [],
    reportedCPURequests: [],
  },
  {
    name: "TestTooManyReplicas",
    minReplicas: 3,
    maxReplicas: 5,
    specReplicas: 10,
    statusReplicas: 10,
    expectedDesiredReplicas: 5,
    CPUTarget: 90,
    reportedLevels: [],
    reportedCPURequests: [],
  },
  {
    name: "TestMaxReplicas",
    minReplicas: 2,
    maxReplicas: 5,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 5,
    CPUTarget: 90,
    reportedLevels: [8000, 9500, 1000],
    reportedCPURequests: [900, 1000, 1100],
  },
  {
    name: "TestSuperfluousMetrics",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 6,
    CPUTarget: 100,
    reportedLevels: [4000, 9500, 3000, 7000, 3200, 2000],
    reportedCPURequests: ones(4),
  },
  {
    name: "TestMissingMetrics",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 3,
    CPUTarget: 100,
    reportedLevels: [400, 95],
    reportedCPURequests: ones(4),
    recommendations: [],
  },
  {
    name: "TestEmptyMetrics",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 4,
    CPUTarget: 100,
    reportedLevels: [],
    reportedCPURequests: ones(4),
  },
  {
    name: "TestEmptyCPURequest",
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 1,
    statusReplicas: 1,
    expectedDesiredReplicas: 1,
    CPUTarget: 100,
    reportedLevels: [200],
    reportedCPURequests: [],
  },
  {
    name: "TestMissingReports",
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 2,
    CPUTarget: 50,
    reportedLevels: [200],
    reportedCPURequests: [200],
    recommendations: [],
  },
  {
    name: "TestUpscaleCap",
    minReplicas: 1,
    maxReplicas: 100,
    specReplicas: 3,
    statusReplicas: 3,
    scaleUpRules: generateScalingRules(0, 0, 700, 60, 0),
    expectedDesiredReplicas: 24,
    CPUTarget: 10,
    reportedLevels: [100, 200, 300],
    reportedCPURequests: [100, 100, 100],
  },
  {
    name: "TestUpscaleCapGreaterThanMaxReplicas",
    minReplicas: 1,
    maxReplicas: 20,
    specReplicas: 3,
    statusReplicas: 3,
    scaleUpRules: generateScalingRules(0, 0, 700, 60, 0),
    expectedDesiredReplicas: 20,
    CPUTarget: 10,
    reportedLevels: [100, 200, 300],
    reportedCPURequests: [100, 100, 100],
  },
  {
    name: "TestMoreReplicasThanSpecNoScale",
    minReplicas: 1,
    maxReplicas: 8,
    specReplicas: 4,
    statusReplicas: 5,
    expectedDesiredReplicas: 4,
    CPUTarget: 50,
    reportedLevels: [500, 500, 500, 500, 500],
    reportedCPURequests: ones(5),
  },
  {
    name: "TestStabilizeDownscale",
    minReplicas: 1,
    maxReplicas: 5,
    specReplicas: 4,
    statusReplicas: 4,
    expectedDesiredReplicas: 4,
    CPUTarget: 100,
    reportedLevels: [50, 50, 50],
    reportedCPURequests: [100, 100, 100],
    recommendations: [
      { recommendation: 10, timestamp: NOW - 10 * MINUTE },
      { recommendation: 4, timestamp: NOW - MINUTE },
    ],
  },
  {
    name: "TestScaleUpOneMetricEmpty",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 3,
    statusReplicas: 3,
    expectedDesiredReplicas: 4,
    CPUTarget: 30,
    brokenMetric: external({ value: "100m" }),
    reportedLevels: [300, 400, 500],
    reportedCPURequests: ones(3),
  },
  {
    name: "TestNoScaleDownOneMetricInvalid",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 5,
    CPUTarget: 50,
    brokenMetric: cheddarCheese,
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    recommendations: [],
  },
  {
    name: "TestNoScaleDownOneMetricEmpty",
    minReplicas: 2,
    maxReplicas: 6,
    specReplicas: 5,
    statusReplicas: 5,
    expectedDesiredReplicas: 5,
    CPUTarget: 50,
    brokenMetric: external({ value: "1000m" }),
    reportedLevels: [100, 300, 500, 250, 250],
    reportedCPURequests: ones(5),
    recommendations: [],
  },
];

describe("horizontal_test.go: reconcileAutoscaler", () => {
  it.each(RECONCILE_CASES.map((tc) => [tc.name, tc] as const))("%s", (_, tc) => {
    expect(reconcile(tc)).toBe(tc.expectedDesiredReplicas);
  });
});
