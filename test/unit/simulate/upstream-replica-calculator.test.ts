// The table of Kubernetes' pkg/controller/podautoscaler/replica_calculator_test.go (v1.35), case by
// case, through the simulator's ReplicaCalculator: each case keeps upstream's name and figures.
//
// Upstream's fixture, restated: every pod has two containers, each requesting `requests[i]` and
// using `levels[i]` (so a pod requests and uses twice that); samples are timestamped at the zero
// time with a one-minute window; the Ready condition's last transition is the zero time; "hot" pods
// started now, "cool" ones three minutes ago, others at the zero time; the CPU initialization period
// is 2 minutes and the initial readiness delay 10 s (defaultTestingCPUInitializationPeriod and
// defaultTestingDelayOfInitialReadinessStatus). Pods are listed as many as currentReplicas, or as
// podPhase has entries when it has more.
//
// Not ported: the ContainerResource variants (the simulator has no per-container usage), the int64
// overflow cases (JavaScript numbers do not overflow there), TestCalculateRequests (per-container and
// pod-level requests, which the simulator sums up front) and TestReplicaCalcComputedToleranceAlgImplementation,
// which TestReplicaCalcTolerance's figures already cover.
import { describe, expect, it } from "vitest";
import {
  groupPods,
  MetricsError,
  PodMetricsInfo,
  ReplicaCalculator,
  type MetricsClient,
  type PodView,
  type Tolerances,
} from "../../../src/simulate/hpa.js";
import { UPSTREAM_TEST_TIME } from "./support.js";

const { NOW, ZERO, HOT, COOL, CPU_INITIALIZATION_PERIOD, DELAY_OF_INITIAL_READINESS } = UPSTREAM_TEST_TIME;
const DEFAULT_TOLERANCES: Tolerances = { up: 0.1, down: 0.1 };
const CONTAINERS_PER_POD = 2;

type Phase = PodView["phase"];

interface ResourceInfo {
  /** Per pod, each container's request (milli-cores). */
  requests: number[];
  /** Per pod with a sample, each container's usage (milli-cores). */
  levels: number[];
  /** Samples for pods the lister does not hold (upstream's podNames): one past the pod list each. */
  unknownPods?: boolean;
  targetUtilization: number;
  expectedUtilization?: number;
  expectedValue?: number;
}

interface MetricInfo {
  type: "pods" | "object" | "objectPerPod" | "external" | "externalPerPod";
  levels: number[];
  target: number;
  expectedUsage: number;
}

interface CalcCase {
  name: string;
  currentReplicas: number;
  expectedReplicas?: number;
  expectedError?: RegExp;
  tolerances?: Tolerances;
  resource?: ResourceInfo;
  metric?: MetricInfo;
  podReadiness?: boolean[];
  podStartTime?: number[];
  podPhase?: Phase[];
  podDeletion?: boolean[];
}

function podsOf(tc: CalcCase): PodView[] {
  const count = Math.max(tc.currentReplicas, tc.podPhase?.length ?? 0);
  return Array.from({ length: count }, (_, index): PodView => {
    const request = tc.resource?.requests[index];
    return {
      name: `test-pod-${index}`,
      phase: tc.podPhase?.[index] ?? "Running",
      ready: tc.podReadiness?.[index] ?? true,
      startedAt: tc.podStartTime?.[index] ?? ZERO,
      readyTransitionAt: ZERO,
      deleting: tc.podDeletion?.[index] ?? false,
      ...(request !== undefined && { requestsMilli: { cpu: request * CONTAINERS_PER_POD } }),
    };
  });
}

/** The metrics APIs of the case: what upstream's fake clients answer. */
function metricsClientOf(tc: CalcCase, podCount: number): MetricsClient {
  const sample = (value: number) => ({ value, timestamp: ZERO, window: 60 });
  const perPod = (levels: readonly number[], scale: number, offset: number): PodMetricsInfo => {
    if (levels.length === 0) throw new MetricsError("no metrics returned from resource metrics API");
    return PodMetricsInfo.of(levels.map((level, index) => [offset + index, sample(level * scale)] as const));
  };
  return {
    getResourceMetric: () => ({
      metrics: perPod(tc.resource?.levels ?? [], CONTAINERS_PER_POD, tc.resource?.unknownPods ? podCount : 0),
      timestamp: ZERO,
    }),
    getRawMetric: () => ({ metrics: perPod(tc.metric?.levels ?? [], 1, 0), timestamp: ZERO }),
    getObjectMetric: () => ({ value: tc.metric?.levels[0] ?? 0, timestamp: ZERO }),
    getExternalMetric: () => ({ values: tc.metric?.levels ?? [], timestamp: ZERO }),
  };
}

function run(tc: CalcCase): {
  replicas: number;
  utilization?: number;
  rawUtilization?: number;
  usage?: number;
} {
  const pods = podsOf(tc);
  const calculator = new ReplicaCalculator(
    metricsClientOf(tc, pods.length),
    () => pods,
    CPU_INITIALIZATION_PERIOD,
    DELAY_OF_INITIAL_READINESS,
    () => NOW,
  );
  const tolerances = tc.tolerances ?? DEFAULT_TOLERANCES;
  if (tc.resource) {
    const result = calculator.getResourceReplicas(
      tc.currentReplicas,
      tc.resource.targetUtilization,
      "cpu",
      tolerances,
    );
    return {
      replicas: result.replicaCount,
      utilization: result.utilization,
      rawUtilization: result.rawUtilization,
    };
  }
  const metric = tc.metric;
  if (!metric) throw new Error("a case needs a resource or a metric");
  const result = {
    pods: () => calculator.getMetricReplicas(tc.currentReplicas, metric.target, "qps", tolerances),
    object: () => calculator.getObjectMetricReplicas(tc.currentReplicas, metric.target, "qps", tolerances),
    objectPerPod: () =>
      calculator.getObjectPerPodMetricReplicas(tc.currentReplicas, metric.target, "qps", tolerances),
    external: () =>
      calculator.getExternalMetricReplicas(tc.currentReplicas, metric.target, "qps", tolerances),
    externalPerPod: () =>
      calculator.getExternalPerPodMetricReplicas(tc.currentReplicas, metric.target, "qps", tolerances),
  }[metric.type]();
  return { replicas: result.replicaCount, usage: result.usage };
}

const cpu = (requests: number[], levels: number[], target: number, utilization: number, value: number) => ({
  requests,
  levels,
  targetUtilization: target,
  expectedUtilization: utilization,
  expectedValue: value,
});
const ones = (count: number) => Array.from({ length: count }, () => 1000);

const CASES: CalcCase[] = [
  {
    name: "TestReplicaCalcDisjointResourcesMetrics",
    currentReplicas: 1,
    expectedError: /no metrics returned matched known pods/,
    resource: { requests: [1000], levels: [100], unknownPods: true, targetUtilization: 100 },
  },
  {
    name: "TestReplicaCalcScaleUp",
    currentReplicas: 3,
    expectedReplicas: 5,
    resource: cpu(ones(3), [300, 500, 700], 30, 50, 2 * 500),
  },
  {
    name: "TestReplicaCalcScaleUpUnreadyLessScale",
    currentReplicas: 3,
    expectedReplicas: 4,
    podReadiness: [false, true, true],
    resource: cpu(ones(3), [300, 500, 700], 30, 60, 2 * 600),
  },
  {
    name: "TestReplicaCalcScaleUpHotCpuLessScale",
    currentReplicas: 3,
    expectedReplicas: 4,
    podStartTime: [HOT, COOL, COOL],
    resource: cpu(ones(3), [300, 500, 700], 30, 60, 2 * 600),
  },
  {
    name: "TestReplicaCalcScaleUpUnreadyNoScale",
    currentReplicas: 3,
    expectedReplicas: 3,
    podReadiness: [true, false, false],
    resource: cpu(ones(3), [400, 500, 700], 30, 40, 2 * 400),
  },
  {
    name: "TestReplicaCalcScaleHotCpuNoScale",
    currentReplicas: 3,
    expectedReplicas: 3,
    podReadiness: [true, false, false],
    podStartTime: [COOL, HOT, HOT],
    resource: cpu(ones(3), [400, 500, 700], 30, 40, 2 * 400),
  },
  {
    name: "TestReplicaCalcScaleUpIgnoresFailedPods",
    currentReplicas: 2,
    expectedReplicas: 4,
    podReadiness: [true, true, false, false],
    podPhase: ["Running", "Running", "Failed", "Failed"],
    resource: cpu(ones(4), [500, 700], 30, 60, 2 * 600),
  },
  {
    name: "TestReplicaCalcScaleUpIgnoresDeletionPods",
    currentReplicas: 2,
    expectedReplicas: 4,
    podReadiness: [true, true, false, false],
    podPhase: ["Running", "Running", "Running", "Running"],
    podDeletion: [false, false, true, true],
    resource: cpu(ones(4), [500, 700], 30, 60, 2 * 600),
  },
  {
    name: "TestReplicaCalcScaleUpCM",
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { type: "pods", levels: [20000, 10000, 30000], target: 15000, expectedUsage: 20000 },
  },
  {
    name: "TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale",
    currentReplicas: 3,
    expectedReplicas: 6,
    podReadiness: [true, true, false],
    podStartTime: [COOL, COOL, HOT],
    metric: { type: "pods", levels: [50000, 10000, 30000], target: 15000, expectedUsage: 30000 },
  },
  {
    name: "TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown",
    currentReplicas: 3,
    expectedReplicas: 7,
    podReadiness: [false, true, false],
    podStartTime: [HOT, COOL, HOT],
    metric: { type: "pods", levels: [50000, 15000, 30000], target: 15000, expectedUsage: 31666 },
  },
  {
    name: "TestReplicaCalcScaleUpCMObject",
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { type: "object", levels: [20000], target: 15000, expectedUsage: 20000 },
  },
  {
    name: "TestReplicaCalcScaleUpCMPerPodObject",
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { type: "objectPerPod", levels: [20000], target: 5000, expectedUsage: 6667 },
  },
  {
    // If unready pods were not ignored, 15 replicas.
    name: "TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods",
    currentReplicas: 3,
    expectedReplicas: 5,
    podReadiness: [false, true, false],
    metric: { type: "object", levels: [50000], target: 10000, expectedUsage: 50000 },
  },
  {
    name: "TestReplicaCalcScaleUpCMExternal",
    currentReplicas: 1,
    expectedReplicas: 2,
    metric: { type: "pods", levels: [8600], target: 4400, expectedUsage: 8600 },
  },
  {
    // 6 if unready pods were not ignored.
    name: "TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods",
    currentReplicas: 3,
    expectedReplicas: 2,
    podReadiness: [false, true, false],
    metric: { type: "external", levels: [8600], target: 4400, expectedUsage: 8600 },
  },
  {
    name: "TestReplicaCalcScaleUpCMExternalNoLabels",
    currentReplicas: 1,
    expectedReplicas: 2,
    metric: { type: "pods", levels: [8600], target: 4400, expectedUsage: 8600 },
  },
  {
    name: "TestReplicaCalcScaleUpPerPodCMExternal",
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { type: "externalPerPod", levels: [8600], target: 2150, expectedUsage: 2867 },
  },
  {
    name: "TestReplicaCalcScaleDown",
    currentReplicas: 5,
    expectedReplicas: 3,
    resource: cpu(ones(5), [100, 300, 500, 250, 250], 50, 28, 2 * 280),
  },
  {
    name: "TestReplicaCalcScaleDownCM",
    currentReplicas: 5,
    expectedReplicas: 3,
    metric: {
      type: "pods",
      levels: [12000, 12000, 12000, 12000, 12000],
      target: 20000,
      expectedUsage: 12000,
    },
  },
  {
    name: "TestReplicaCalcScaleDownPerPodCMObject",
    currentReplicas: 5,
    expectedReplicas: 3,
    metric: { type: "objectPerPod", levels: [6000], target: 2000, expectedUsage: 1200 },
  },
  {
    name: "TestReplicaCalcScaleDownCMObject",
    currentReplicas: 5,
    expectedReplicas: 3,
    metric: { type: "object", levels: [12000], target: 20000, expectedUsage: 12000 },
  },
  {
    name: "TestReplicaCalcScaleDownCMExternal",
    currentReplicas: 5,
    expectedReplicas: 3,
    metric: { type: "external", levels: [8600], target: 14334, expectedUsage: 8600 },
  },
  {
    name: "TestReplicaCalcScaleDownPerPodCMExternal",
    currentReplicas: 5,
    expectedReplicas: 3,
    metric: { type: "externalPerPod", levels: [8600], target: 2867, expectedUsage: 1720 },
  },
  {
    name: "TestReplicaCalcScaleDownExcludeUnreadyPods",
    currentReplicas: 5,
    expectedReplicas: 2,
    podReadiness: [true, true, true, false, false],
    resource: cpu(ones(5), [100, 300, 500, 250, 250], 50, 30, 2 * 300),
  },
  {
    name: "TestReplicaCalcScaleDownExcludeUnscheduledPods",
    currentReplicas: 5,
    expectedReplicas: 1,
    podReadiness: [true, false, false, false, false],
    podPhase: ["Running", "Pending", "Pending", "Pending", "Pending"],
    resource: cpu(ones(5), [100], 50, 10, 2 * 100),
  },
  {
    name: "TestReplicaCalcScaleDownIgnoreHotCpuPods",
    currentReplicas: 5,
    expectedReplicas: 2,
    podStartTime: [COOL, COOL, COOL, HOT, HOT],
    resource: cpu(ones(5), [100, 300, 500, 250, 250], 50, 30, 2 * 300),
  },
  {
    name: "TestReplicaCalcScaleDownIgnoresFailedPods",
    currentReplicas: 5,
    expectedReplicas: 3,
    podReadiness: [true, true, true, true, true, false, false],
    podPhase: ["Running", "Running", "Running", "Running", "Running", "Failed", "Failed"],
    resource: cpu(ones(7), [100, 300, 500, 250, 250], 50, 28, 2 * 280),
  },
  {
    name: "TestReplicaCalcScaleDownIgnoresDeletionPods",
    currentReplicas: 5,
    expectedReplicas: 3,
    podReadiness: [true, true, true, true, true, false, false],
    podPhase: ["Running", "Running", "Running", "Running", "Running", "Running", "Running"],
    podDeletion: [false, false, false, false, false, true, true],
    resource: cpu(ones(7), [100, 300, 500, 250, 250], 50, 28, 2 * 280),
  },
  {
    name: "TestReplicaCalcTolerance",
    currentReplicas: 3,
    expectedReplicas: 3,
    resource: cpu([900, 1000, 1100], [1010, 1030, 1020], 100, 102, 2 * 1020),
  },
  {
    name: "TestReplicaCalcToleranceCM",
    currentReplicas: 3,
    expectedReplicas: 3,
    metric: { type: "pods", levels: [20000, 21000, 21000], target: 20000, expectedUsage: 20666 },
  },
  {
    name: "TestReplicaCalcToleranceCMObject",
    currentReplicas: 3,
    expectedReplicas: 3,
    metric: { type: "object", levels: [20666], target: 20000, expectedUsage: 20666 },
  },
  {
    name: "TestReplicaCalcTolerancePerPodCMObject",
    currentReplicas: 4,
    expectedReplicas: 4,
    metric: { type: "objectPerPod", levels: [20166], target: 5000, expectedUsage: 5042 },
  },
  {
    name: "TestReplicaCalcToleranceCMExternal",
    currentReplicas: 3,
    expectedReplicas: 3,
    metric: { type: "external", levels: [8600], target: 8888, expectedUsage: 8600 },
  },
  {
    name: "TestReplicaCalcTolerancePerPodCMExternal",
    currentReplicas: 3,
    expectedReplicas: 3,
    metric: { type: "externalPerPod", levels: [8600], target: 2900, expectedUsage: 2867 },
  },
  {
    name: "TestReplicaCalcConfigurableTolerance: Outside of a 0% tolerance",
    tolerances: { down: 0, up: 0 },
    currentReplicas: 3,
    expectedReplicas: 4,
    resource: cpu([900, 1000, 1100], [909, 1010, 1111], 100, 101, 2 * 1010),
  },
  {
    name: "TestReplicaCalcConfigurableTolerance: Within a 200% scale-up tolerance",
    tolerances: { down: 0.1, up: 2 },
    currentReplicas: 3,
    expectedReplicas: 3,
    resource: cpu([900, 1000, 1100], [1890, 1910, 1900], 100, 190, 2 * 1900),
  },
  {
    name: "TestReplicaCalcConfigurableTolerance: Outside 8% scale-up tolerance (and superfluous scale-down tolerance)",
    tolerances: { down: 2, up: 0.08 },
    currentReplicas: 3,
    expectedReplicas: 4,
    resource: cpu([900, 1000, 1100], [1100, 1080, 1090], 100, 109, 2 * 1090),
  },
  {
    name: "TestReplicaCalcConfigurableTolerance: Within a 36% scale-down tolerance",
    tolerances: { down: 0.36, up: 0.1 },
    currentReplicas: 3,
    expectedReplicas: 3,
    resource: cpu([900, 1000, 1100], [660, 640, 650], 100, 65, 2 * 650),
  },
  {
    name: "TestReplicaCalcConfigurableTolerance: Outside a 34% scale-down tolerance",
    tolerances: { down: 0.34, up: 0.1 },
    currentReplicas: 3,
    expectedReplicas: 2,
    resource: cpu([900, 1000, 1100], [660, 640, 650], 100, 65, 2 * 650),
  },
  {
    name: "TestReplicaCalcConfigurableToleranceCM",
    tolerances: { down: 0.1, up: 0.01 },
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { type: "pods", levels: [20000, 21000, 21000], target: 20000, expectedUsage: 20666 },
  },
  {
    name: "TestReplicaCalcConfigurableToleranceCMObject",
    tolerances: { down: 0.1, up: 0.01 },
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { type: "object", levels: [20666], target: 20000, expectedUsage: 20666 },
  },
  {
    name: "TestReplicaCalcConfigurableTolerancePerPodCMObject",
    tolerances: { down: 0.1, up: 0.01 },
    currentReplicas: 4,
    expectedReplicas: 5,
    metric: { type: "objectPerPod", levels: [20208], target: 5000, expectedUsage: 5052 },
  },
  {
    name: "TestReplicaCalcConfigurableToleranceCMExternal",
    tolerances: { down: 0.1, up: 0.01 },
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { type: "external", levels: [8900], target: 8800, expectedUsage: 8900 },
  },
  {
    name: "TestReplicaCalcConfigurableTolerancePerPodCMExternal",
    tolerances: { down: 0.1, up: 0.01 },
    currentReplicas: 3,
    expectedReplicas: 4,
    metric: { type: "externalPerPod", levels: [8600], target: 2800, expectedUsage: 2867 },
  },
  {
    name: "TestReplicaCalcSuperfluousMetrics",
    currentReplicas: 4,
    expectedReplicas: 24,
    resource: cpu(ones(4), [4000, 9500, 3000, 7000, 3200, 2000], 100, 587, 2 * 5875),
  },
  {
    name: "TestReplicaCalcMissingMetrics",
    currentReplicas: 4,
    expectedReplicas: 3,
    resource: cpu(ones(4), [400, 95], 100, 24, 495),
  },
  {
    name: "TestReplicaCalcEmptyMetrics",
    currentReplicas: 4,
    expectedError: /no metrics returned from resource metrics API/,
    resource: { requests: ones(3), levels: [], targetUtilization: 100 },
  },
  {
    name: "TestReplicaCalcEmptyCPURequest",
    currentReplicas: 1,
    expectedError: /missing request for/,
    resource: { requests: [], levels: [200], targetUtilization: 100 },
  },
  {
    name: "TestPlainMetricReplicaCalcMissingMetricsNoChangeEq",
    currentReplicas: 5,
    expectedReplicas: 5,
    metric: { type: "pods", levels: [20000, 19000, 21000], target: 20000, expectedUsage: 20000 },
  },
  {
    name: "TestReplicaCalcMissingMetricsNoChangeEq",
    currentReplicas: 2,
    expectedReplicas: 2,
    resource: cpu(ones(2), [1000], 100, 100, 2 * 1000),
  },
  {
    name: "TestReplicaCalcMissingMetricsNoChangeGt",
    currentReplicas: 2,
    expectedReplicas: 2,
    resource: cpu(ones(2), [1900], 100, 190, 2 * 1900),
  },
  {
    name: "TestReplicaCalcMissingMetricsNoChangeLt",
    currentReplicas: 2,
    expectedReplicas: 2,
    resource: cpu(ones(2), [600], 100, 60, 2 * 600),
  },
  {
    name: "TestReplicaCalcMissingMetricsUnreadyChange",
    currentReplicas: 3,
    expectedReplicas: 3,
    podReadiness: [false, true, true],
    resource: cpu(ones(3), [100, 450], 50, 45, 2 * 450),
  },
  {
    name: "TestReplicaCalcMissingMetricsHotCpuNoChange",
    currentReplicas: 3,
    expectedReplicas: 3,
    podStartTime: [HOT, COOL, COOL],
    resource: cpu(ones(3), [100, 450], 50, 45, 2 * 450),
  },
  {
    name: "TestReplicaCalcMissingMetricsUnreadyScaleUp",
    currentReplicas: 3,
    expectedReplicas: 4,
    podReadiness: [false, true, true],
    resource: cpu(ones(3), [100, 2000], 50, 200, 2 * 2000),
  },
  {
    name: "TestReplicaCalcMissingMetricsHotCpuScaleUp",
    currentReplicas: 3,
    expectedReplicas: 4,
    podReadiness: [false, true, true],
    podStartTime: [HOT, COOL, COOL],
    resource: cpu(ones(3), [100, 2000], 50, 200, 2 * 2000),
  },
  {
    name: "TestReplicaCalcMissingMetricsUnreadyScaleDown",
    currentReplicas: 4,
    expectedReplicas: 3,
    podReadiness: [false, true, true, true],
    resource: cpu(ones(4), [100, 100, 100], 50, 10, 2 * 100),
  },
  {
    name: "TestReplicaCalcMissingMetricsScaleDownTargetOver100",
    currentReplicas: 4,
    expectedReplicas: 2,
    podReadiness: [false, true, true, true],
    resource: cpu([1000, 1000, 2000, 2000], [200, 100, 100], 300, 6, 2 * 100),
  },
  {
    name: "TestReplicaCalcDuringRollingUpdateWithMaxSurge",
    currentReplicas: 2,
    expectedReplicas: 2,
    podPhase: ["Running", "Running", "Running"],
    resource: cpu(ones(3), [100, 100], 50, 10, 2 * 100),
  },
  {
    name: "TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM",
    currentReplicas: 2,
    expectedReplicas: 2,
    podPhase: ["Running", "Running", "Running"],
    metric: { type: "pods", levels: [10000, 10000], target: 17000, expectedUsage: 10000 },
  },
];

describe("replica_calculator_test.go", () => {
  it.each(CASES.map((tc) => [tc.name, tc] as const))("%s", (_, tc) => {
    if (tc.expectedError) {
      expect(() => run(tc)).toThrow(tc.expectedError);
      return;
    }
    const result = run(tc);
    expect(result.replicas).toBe(tc.expectedReplicas);
    if (tc.resource) {
      expect(result.utilization).toBe(tc.resource.expectedUtilization);
      expect(result.rawUtilization).toBe(tc.resource.expectedValue);
    }
    if (tc.metric) expect(result.usage).toBe(tc.metric.expectedUsage);
  });
});

// TestGroupPods, the same pods and samples; "now" is 0 and times are seconds from it.
describe("replica_calculator_test.go TestGroupPods", () => {
  const sample = (value: number, timestamp = ZERO, window = 0) => ({ value, timestamp, window });
  const pod = (name: string, fields: Partial<PodView>): PodView => ({
    name,
    phase: "Succeeded",
    ready: undefined,
    startedAt: undefined,
    readyTransitionAt: ZERO,
    ...fields,
  });
  const cases: {
    name: string;
    pods: PodView[];
    metrics: [number, ReturnType<typeof sample>][];
    resource: string;
    readyPodCount: number;
    unready: number[];
    missing: number[];
    ignored: number[];
  }[] = [
    {
      name: "void",
      pods: [],
      metrics: [],
      resource: "cpu",
      readyPodCount: 0,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: "count in a ready pod - memory",
      pods: [pod("bentham", {})],
      metrics: [[0, sample(1, NOW, 60)]],
      resource: "memory",
      readyPodCount: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: "unready a pod without ready condition - CPU",
      pods: [pod("lucretius", { startedAt: NOW })],
      metrics: [[0, sample(1)]],
      resource: "cpu",
      readyPodCount: 0,
      unready: [0],
      missing: [],
      ignored: [],
    },
    {
      name: "count in a ready pod with fresh metrics during initialization period - CPU",
      pods: [pod("bentham", { startedAt: NOW - 60, ready: true, readyTransitionAt: NOW - 30 })],
      metrics: [[0, sample(1, NOW, 30)]],
      resource: "cpu",
      readyPodCount: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: "unready a ready pod without fresh metrics during initialization period - CPU",
      pods: [pod("bentham", { startedAt: NOW - 60, ready: true, readyTransitionAt: NOW - 30 })],
      metrics: [[0, sample(1, NOW, 60)]],
      resource: "cpu",
      readyPodCount: 0,
      unready: [0],
      missing: [],
      ignored: [],
    },
    {
      name: "unready an unready pod during initialization period - CPU",
      pods: [pod("lucretius", { startedAt: NOW - 600, ready: false, readyTransitionAt: NOW - 594 })],
      metrics: [[0, sample(1)]],
      resource: "cpu",
      readyPodCount: 0,
      unready: [0],
      missing: [],
      ignored: [],
    },
    {
      name: "count in a ready pod without fresh metrics after initialization period - CPU",
      pods: [pod("bentham", { startedAt: NOW - 180, ready: true, readyTransitionAt: NOW - 180 })],
      metrics: [[0, sample(1, NOW - 120, 60)]],
      resource: "cpu",
      readyPodCount: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: "count in an unready pod that was ready after initialization period - CPU",
      pods: [pod("lucretius", { startedAt: NOW - 600, ready: false, readyTransitionAt: NOW - 540 })],
      metrics: [[0, sample(1)]],
      resource: "cpu",
      readyPodCount: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      // Upstream's name says "unready", its expectation counts the pod in: the transition came 10 s
      // after the start, not within the 10 s delay of initial readiness.
      name: "unready pod that has never been ready after initialization period - CPU",
      pods: [pod("lucretius", { startedAt: NOW - 600, ready: false, readyTransitionAt: NOW - 590 })],
      metrics: [[0, sample(1)]],
      resource: "cpu",
      readyPodCount: 1,
      unready: [],
      missing: [],
      ignored: [],
    },
    {
      name: "a missing pod",
      pods: [pod("epicurus", { startedAt: NOW - 180 })],
      metrics: [],
      resource: "cpu",
      readyPodCount: 0,
      unready: [],
      missing: [0],
      ignored: [],
    },
    {
      name: "several pods",
      pods: [
        pod("lucretius", { startedAt: NOW }),
        pod("niccolo", { startedAt: NOW - 180, ready: true, readyTransitionAt: NOW - 180 }),
        pod("epicurus", { startedAt: NOW - 180 }),
      ],
      metrics: [
        [0, sample(1)],
        [1, sample(1)],
      ],
      resource: "cpu",
      readyPodCount: 1,
      unready: [0],
      missing: [2],
      ignored: [],
    },
    {
      name: "pending pods are unreadied",
      pods: [pod("unscheduled", { phase: "Pending" })],
      metrics: [],
      resource: "cpu",
      readyPodCount: 0,
      unready: [0],
      missing: [],
      ignored: [],
    },
    {
      name: "ignore pods with deletion timestamps",
      pods: [pod("deleted", { phase: "Pending", deleting: true })],
      metrics: [[0, sample(1)]],
      resource: "cpu",
      readyPodCount: 0,
      unready: [],
      missing: [],
      ignored: [0],
    },
    {
      name: "ignore pods in a failed state",
      pods: [pod("failed", { phase: "Failed" })],
      metrics: [[0, sample(1)]],
      resource: "cpu",
      readyPodCount: 0,
      unready: [],
      missing: [],
      ignored: [0],
    },
  ];
  it.each(cases.map((tc) => [tc.name, tc] as const))("%s", (_, tc) => {
    const groups = groupPods(
      tc.pods,
      PodMetricsInfo.of(tc.metrics),
      tc.resource,
      CPU_INITIALIZATION_PERIOD,
      DELAY_OF_INITIAL_READINESS,
      NOW,
    );
    expect(groups).toEqual({
      readyPodCount: tc.readyPodCount,
      unreadyPods: tc.unready,
      missingPods: tc.missing,
      ignoredPods: tc.ignored,
    });
  });
});
