// The horizontal pod autoscaler controller's decision, as kube-controller-manager v1.35 computes it:
// pkg/controller/podautoscaler/horizontal.go, replica_calculator.go and metrics/utilization.go. The
// functions carry upstream's names and follow its order of checks, so the two read side by side.
// Differences of form, not of result: one controller object per HPA (upstream keys its maps by HPA),
// time is the simulation clock passed in (upstream reads time.Now()), and errors are thrown
// MetricsErrors (upstream returns them).
import type {
  V2HorizontalPodAutoscaler,
  V2HorizontalPodAutoscalerBehavior,
  V2HPAScalingRules,
  V2MetricSpec,
} from "@kubernetes/client-node";
import { quantityValue, toMilli } from "../runtime/quantity.js";
import { SimulationInputError } from "./errors.js";
import { emptySlots } from "./slots.js";

/**
 * kube-controller-manager's defaults (pkg/controller/podautoscaler/config/v1alpha1/defaults.go), which
 * no HPA object can change; the simulator takes them as model parameters.
 */
export const HPA_CONTROLLER_DEFAULTS = {
  /** --horizontal-pod-autoscaler-sync-period */
  syncPeriodSeconds: 15,
  /** --horizontal-pod-autoscaler-tolerance */
  tolerance: 0.1,
  /** --horizontal-pod-autoscaler-downscale-stabilization */
  downscaleStabilizationSeconds: 300,
  /** --horizontal-pod-autoscaler-cpu-initialization-period */
  cpuInitializationPeriodSeconds: 300,
  /** --horizontal-pod-autoscaler-initial-readiness-delay */
  initialReadinessDelaySeconds: 30,
  /** metricServerDefaultMetricWindow (metrics/client.go): the window of a custom metric that names none. */
  metricWindowSeconds: 60,
  /** scaleUpLimitFactor and scaleUpLimitMinimum (horizontal.go): the cap without behavior. */
  scaleUpLimitFactor: 2,
  scaleUpLimitMinimum: 4,
} as const;

/** The controller-wide settings a simulation may change, in seconds. */
export interface HorizontalControllerParameters {
  tolerance: number;
  downscaleStabilizationSeconds: number;
  cpuInitializationPeriodSeconds: number;
  initialReadinessDelaySeconds: number;
  /**
   * scaleUpLimitFactor: a package variable upstream, not a flag (2 in every cluster); upstream's own
   * horizontal_test.go raises it to 8, which is why it can be set here.
   */
  scaleUpLimitFactor: number;
}

export type SelectPolicy = "Max" | "Min" | "Disabled";

export interface ScalingPolicy {
  type: "Pods" | "Percent";
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: SelectPolicy;
  policies: ScalingPolicy[];
}

export interface NormalizedBehavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/** A failure to read or use a metric: the HPA marks that metric invalid for this sync. */
export class MetricsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetricsError";
  }
}

function normalizePolicies(
  rules: V2HPAScalingRules | undefined,
  defaults: ScalingPolicy[],
  field: string,
): ScalingPolicy[] {
  if (!rules?.policies || rules.policies.length === 0) return defaults.map((policy) => ({ ...policy }));
  return rules.policies.map((policy, index) => {
    if (policy.type !== "Pods" && policy.type !== "Percent") {
      throw new SimulationInputError(
        `${field}.policies[${index}].type`,
        `must be Pods or Percent, got ${policy.type}`,
      );
    }
    if (!(policy.value > 0))
      throw new SimulationInputError(`${field}.policies[${index}].value`, "must be > 0");
    if (!(policy.periodSeconds > 0)) {
      throw new SimulationInputError(`${field}.policies[${index}].periodSeconds`, "must be > 0");
    }
    return { type: policy.type, value: policy.value, periodSeconds: policy.periodSeconds };
  });
}

function normalizeSelectPolicy(value: string | undefined, field: string): SelectPolicy {
  if (value === undefined) return "Max";
  if (value === "Max" || value === "Min" || value === "Disabled") return value;
  throw new SimulationInputError(`${field}.selectPolicy`, `must be Max, Min or Disabled, got ${value}`);
}

/**
 * The API server's defaulting of `behavior`, field by field (pkg/apis/autoscaling/v2/defaults.go
 * GenerateHPAScaleUpRules, GenerateHPAScaleDownRules), then the controller's own default for the
 * scale-down window (maybeInitScaleDownStabilizationWindow). No behavior stays no behavior: the
 * controller then takes the older code path.
 */
export function normalizeBehavior(
  behavior: V2HorizontalPodAutoscalerBehavior | undefined,
  field = "spec.behavior",
  downscaleStabilizationSeconds: number = HPA_CONTROLLER_DEFAULTS.downscaleStabilizationSeconds,
): NormalizedBehavior | undefined {
  if (!behavior) return undefined;
  const up = behavior.scaleUp;
  const down = behavior.scaleDown;
  return {
    scaleUp: {
      stabilizationWindowSeconds: up?.stabilizationWindowSeconds ?? 0,
      selectPolicy: normalizeSelectPolicy(up?.selectPolicy, `${field}.scaleUp`),
      policies: normalizePolicies(
        up,
        [
          { type: "Pods", value: 4, periodSeconds: 15 },
          { type: "Percent", value: 100, periodSeconds: 15 },
        ],
        `${field}.scaleUp`,
      ),
    },
    scaleDown: {
      stabilizationWindowSeconds: down?.stabilizationWindowSeconds ?? downscaleStabilizationSeconds,
      selectPolicy: normalizeSelectPolicy(down?.selectPolicy, `${field}.scaleDown`),
      policies: normalizePolicies(
        down,
        [{ type: "Percent", value: 100, periodSeconds: 15 }],
        `${field}.scaleDown`,
      ),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Tolerances (replica_calculator.go)

export interface Tolerances {
  up: number;
  down: number;
}

function parseTolerance(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = quantityValue(value);
  if (parsed === undefined || parsed < 0)
    throw new SimulationInputError(field, `not a non-negative quantity: ${value}`);
  return parsed;
}

/**
 * tolerancesForHpa: per-direction tolerance from behavior (KEP-4951, feature gate
 * HPAConfigurableTolerance, beta and on since 1.35), else the controller-wide tolerance.
 */
export function tolerancesOf(
  behavior: V2HorizontalPodAutoscalerBehavior | undefined,
  field = "spec.behavior",
  tolerance: number = HPA_CONTROLLER_DEFAULTS.tolerance,
): Tolerances {
  return {
    up: parseTolerance(behavior?.scaleUp?.tolerance, `${field}.scaleUp.tolerance`) ?? tolerance,
    down: parseTolerance(behavior?.scaleDown?.tolerance, `${field}.scaleDown.tolerance`) ?? tolerance,
  };
}

/** Tolerances.isWithin */
export function isWithinTolerance(usageRatio: number, tolerances: Tolerances): boolean {
  return 1 - tolerances.down <= usageRatio && usageRatio <= 1 + tolerances.up;
}

// ---------------------------------------------------------------------------------------------
// What the controller reads: pods (from its pod lister) and metrics (metrics/interfaces.go)

/** What the HPA sees of one pod. Times in seconds on the simulation clock. */
export interface PodView {
  /** The pod's name; `pod-<index>` when left out. */
  name?: string;
  phase: "Pending" | "Running" | "Succeeded" | "Failed";
  /** The status of the Ready condition; undefined when the pod has no Ready condition. */
  ready: boolean | undefined;
  /** status.startTime; undefined while it has none. */
  startedAt: number | undefined;
  /** The Ready condition's lastTransitionTime. */
  readyTransitionAt: number;
  /** metadata.deletionTimestamp is set: the pod is terminating. */
  deleting?: boolean;
  /** The pod's requests, milli-units by resource name (summed over its containers). */
  requestsMilli?: Readonly<Partial<Record<string, number>>>;
}

/** One pod's sample: milli-units, and the time and window it covers (seconds). */
export interface PodMetric {
  value: number;
  timestamp: number;
  window: number;
}

/**
 * PodMetricsInfo: samples by pod. Upstream keys them by pod name in a map; here a pod is its index in
 * the pod list (a sample for a pod the list does not hold has a key past its end) and the samples sit
 * in an array by that index: a day of 15 s syncs over a hundred policies hashes no names
 * (bench/simulate.bench.ts).
 */
export class PodMetricsInfo {
  private readonly samples = emptySlots<PodMetric>();
  private count = 0;
  /** One past the highest pod set since the last clear: the slots beyond hold no sample. */
  private slots = 0;

  static of(entries: Iterable<readonly [number, PodMetric]>): PodMetricsInfo {
    const metrics = new PodMetricsInfo();
    for (const [pod, metric] of entries) metrics.set(pod, metric);
    return metrics;
  }

  get size(): number {
    return this.count;
  }

  get(pod: number): PodMetric | undefined {
    return this.samples[pod];
  }

  set(pod: number, metric: PodMetric): void {
    if (this.samples[pod] === undefined) this.count++;
    this.samples[pod] = metric;
    if (pod >= this.slots) this.slots = pod + 1;
  }

  delete(pod: number): void {
    if (this.samples[pod] === undefined) return;
    this.samples[pod] = undefined;
    this.count--;
  }

  clear(): void {
    // Emptied in place: dropping the array's length would give its storage back on every sync.
    const samples = this.samples;
    for (let pod = 0; pod < this.slots; pod++) samples[pod] = undefined;
    this.count = 0;
    this.slots = 0;
  }

  /**
   * Past the highest pod with a sample (pods after it have none): iterate
   * `for (let pod = 0; pod < metrics.end; pod++)`. The array keeps its length from sync to sync, so
   * this, not its length, bounds the pods of this sync.
   */
  get end(): number {
    return this.slots;
  }
}

/** Each pod's request for a resource, by pod index (upstream: a map by pod name). */
export type PodRequests = readonly (number | undefined)[];

/** What the replica calculator asks of the metrics APIs (metrics.k8s.io, custom and external). */
export interface MetricsClient {
  getResourceMetric(resource: string, container: string): { metrics: PodMetricsInfo; timestamp: number };
  getRawMetric(metricName: string): { metrics: PodMetricsInfo; timestamp: number };
  getObjectMetric(metricName: string): { value: number; timestamp: number };
  getExternalMetric(metricName: string): { values: number[]; timestamp: number };
}

// ---------------------------------------------------------------------------------------------
// metrics/utilization.go

/** GetResourceUtilizationRatio: utilization is int(sum(usage) * 100 / sum(requests)), in percent. */
export function getResourceUtilizationRatio(
  metrics: PodMetricsInfo,
  requests: PodRequests,
  targetUtilization: number,
): { utilizationRatio: number; currentUtilization: number; rawAverageValue: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let numEntries = 0;
  for (let pod = 0; pod < metrics.end; pod++) {
    const metric = metrics.get(pod);
    const request = requests[pod];
    // Missing requests are checked elsewhere: a metric without one is an extraneous metric.
    if (metric === undefined || request === undefined) continue;
    metricsTotal += metric.value;
    requestsTotal += request;
    numEntries++;
  }
  if (requestsTotal === 0) throw new MetricsError("no metrics returned matched known pods");
  const currentUtilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return {
    utilizationRatio: currentUtilization / targetUtilization,
    currentUtilization,
    rawAverageValue: Math.trunc(metricsTotal / numEntries),
  };
}

/** GetMetricUsageRatio: the integer average over the samples, against the target. */
export function getMetricUsageRatio(
  metrics: PodMetricsInfo,
  targetUsage: number,
): { usageRatio: number; currentUsage: number } {
  let metricsTotal = 0;
  for (let pod = 0; pod < metrics.end; pod++) metricsTotal += metrics.get(pod)?.value ?? 0;
  const currentUsage = Math.trunc(metricsTotal / metrics.size);
  return { usageRatio: currentUsage / targetUsage, currentUsage };
}

// ---------------------------------------------------------------------------------------------
// replica_calculator.go

/**
 * A set of pods (sets.Set[string] upstream), as the pod indices in it. groupPods puts each pod in one
 * group once, so a list is a set; lists spare the simulation a hash table per group per sync.
 */
export type PodSet = number[];

export interface PodGroups {
  readyPodCount: number;
  unreadyPods: PodSet;
  missingPods: PodSet;
  ignoredPods: PodSet;
}

/**
 * groupPods: deleted and Failed pods are ignored; Pending pods are unready; pods with no sample are
 * missing. For CPU only, within the initialization period after the pod started, a pod is unready
 * while it is not Ready or while its sample does not cover one full window after it became Ready;
 * after that period, a pod is unready if it is not Ready and never was (its last transition falls
 * within the initial readiness delay of its start).
 */
export function groupPods(
  pods: readonly PodView[],
  metrics: PodMetricsInfo,
  resource: string,
  cpuInitializationPeriod: number,
  delayOfInitialReadinessStatus: number,
  now: number,
): PodGroups {
  const groups: PodGroups = { readyPodCount: 0, unreadyPods: [], missingPods: [], ignoredPods: [] };
  for (let index = 0; index < pods.length; index++) {
    const pod = pods[index];
    if (!pod) continue;
    if (pod.deleting === true || pod.phase === "Failed") {
      groups.ignoredPods.push(index);
      continue;
    }
    if (pod.phase === "Pending") {
      groups.unreadyPods.push(index);
      continue;
    }
    const metric = metrics.get(index);
    if (metric === undefined) {
      groups.missingPods.push(index);
      continue;
    }
    if (resource === "cpu") {
      let unready: boolean;
      if (pod.ready === undefined || pod.startedAt === undefined) {
        unready = true;
      } else if (pod.startedAt + cpuInitializationPeriod > now) {
        unready = !pod.ready || metric.timestamp < pod.readyTransitionAt + metric.window;
      } else {
        unready = !pod.ready && pod.startedAt + delayOfInitialReadinessStatus > pod.readyTransitionAt;
      }
      if (unready) {
        groups.unreadyPods.push(index);
        continue;
      }
    }
    groups.readyPodCount++;
  }
  return groups;
}

/** calculateRequests: each pod's request for the resource (its containers' requests, summed). */
export function calculateRequests(pods: readonly PodView[], resource: string): PodRequests {
  const requests: (number | undefined)[] = new Array<number | undefined>(pods.length);
  for (let index = 0; index < pods.length; index++) {
    const request = pods[index]?.requestsMilli?.[resource];
    if (request === undefined) {
      throw new MetricsError(`missing request for ${resource} in Pod ${pods[index]?.name ?? index}`);
    }
    requests[index] = request;
  }
  return requests;
}

function removeMetricsForPods(metrics: PodMetricsInfo, pods: Readonly<PodSet>): void {
  for (const pod of pods) metrics.delete(pod);
}

export interface ResourceReplicas {
  replicaCount: number;
  utilization: number;
  rawUtilization: number;
  timestamp: number;
}

export interface UsageReplicas {
  replicaCount: number;
  usage: number;
  timestamp: number;
}

/** ReplicaCalculator: turns one metric's samples into a replica count. */
export class ReplicaCalculator {
  constructor(
    private readonly metricsClient: MetricsClient,
    private readonly podLister: () => readonly PodView[],
    private readonly cpuInitializationPeriod: number,
    private readonly delayOfInitialReadinessStatus: number,
    private readonly clock: () => number,
  ) {}

  private listPods(): readonly PodView[] {
    const podList = this.podLister();
    if (podList.length === 0)
      throw new MetricsError("no pods returned by selector while calculating replica count");
    return podList;
  }

  /** GetResourceReplicas: a Utilization target on a resource (percent of the pods' requests). */
  getResourceReplicas(
    currentReplicas: number,
    targetUtilization: number,
    resource: string,
    tolerances: Tolerances,
    container = "",
  ): ResourceReplicas {
    const { metrics, timestamp } = this.metricsClient.getResourceMetric(resource, container);
    const podList = this.listPods();
    const { readyPodCount, unreadyPods, missingPods, ignoredPods } = groupPods(
      podList,
      metrics,
      resource,
      this.cpuInitializationPeriod,
      this.delayOfInitialReadinessStatus,
      this.clock(),
    );
    removeMetricsForPods(metrics, ignoredPods);
    removeMetricsForPods(metrics, unreadyPods);
    if (metrics.size === 0) {
      throw new MetricsError("did not receive metrics for targeted pods (pods might be unready)");
    }
    const requests = calculateRequests(podList, resource);
    const {
      utilizationRatio: usageRatio,
      currentUtilization: utilization,
      rawAverageValue: rawUtilization,
    } = getResourceUtilizationRatio(metrics, requests, targetUtilization);

    const scaleUpWithUnready = unreadyPods.length > 0 && usageRatio > 1.0;
    if (!scaleUpWithUnready && missingPods.length === 0) {
      if (isWithinTolerance(usageRatio, tolerances)) {
        return { replicaCount: currentReplicas, utilization, rawUtilization, timestamp };
      }
      return {
        replicaCount: Math.ceil(usageRatio * readyPodCount),
        utilization,
        rawUtilization,
        timestamp,
      };
    }

    if (missingPods.length > 0) {
      if (usageRatio < 1.0) {
        // On a scale-down a missing pod uses all of its request, or the target when that is above 100 %.
        const fallbackUtilization = Math.max(100, targetUtilization);
        for (const pod of missingPods) {
          const value = Math.trunc(((requests[pod] ?? 0) * fallbackUtilization) / 100);
          metrics.set(pod, { value, timestamp: 0, window: 0 });
        }
      } else if (usageRatio > 1.0) {
        // On a scale-up a missing pod uses nothing.
        for (const pod of missingPods) metrics.set(pod, { value: 0, timestamp: 0, window: 0 });
      }
    }
    if (scaleUpWithUnready) {
      // On a scale-up an unready pod uses nothing.
      for (const pod of unreadyPods) metrics.set(pod, { value: 0, timestamp: 0, window: 0 });
    }

    const newUsageRatio = getResourceUtilizationRatio(metrics, requests, targetUtilization).utilizationRatio;
    if (
      isWithinTolerance(newUsageRatio, tolerances) ||
      (usageRatio < 1.0 && newUsageRatio > 1.0) ||
      (usageRatio > 1.0 && newUsageRatio < 1.0)
    ) {
      // Too small a change, or the fills would turn the direction around.
      return { replicaCount: currentReplicas, utilization, rawUtilization, timestamp };
    }
    const newReplicas = Math.ceil(newUsageRatio * metrics.size);
    if (
      (newUsageRatio < 1.0 && newReplicas > currentReplicas) ||
      (newUsageRatio > 1.0 && newReplicas < currentReplicas)
    ) {
      return { replicaCount: currentReplicas, utilization, rawUtilization, timestamp };
    }
    return { replicaCount: newReplicas, utilization, rawUtilization, timestamp };
  }

  /** GetRawResourceReplicas: an AverageValue target on a resource. */
  getRawResourceReplicas(
    currentReplicas: number,
    targetUsage: number,
    resource: string,
    tolerances: Tolerances,
    container = "",
  ): UsageReplicas {
    const { metrics, timestamp } = this.metricsClient.getResourceMetric(resource, container);
    const { replicaCount, usage } = this.calcPlainMetricReplicas(
      metrics,
      currentReplicas,
      targetUsage,
      tolerances,
      resource,
    );
    return { replicaCount, usage, timestamp };
  }

  /** GetMetricReplicas: a Pods metric with an AverageValue target. */
  getMetricReplicas(
    currentReplicas: number,
    targetUsage: number,
    metricName: string,
    tolerances: Tolerances,
  ): UsageReplicas {
    const { metrics, timestamp } = this.metricsClient.getRawMetric(metricName);
    const { replicaCount, usage } = this.calcPlainMetricReplicas(
      metrics,
      currentReplicas,
      targetUsage,
      tolerances,
      "",
    );
    return { replicaCount, usage, timestamp };
  }

  /** calcPlainMetricReplicas: per-pod averages (Pods metrics, resource AverageValue targets). */
  calcPlainMetricReplicas(
    metrics: PodMetricsInfo,
    currentReplicas: number,
    targetUsage: number,
    tolerances: Tolerances,
    resource: string,
  ): { replicaCount: number; usage: number } {
    const podList = this.listPods();
    const { readyPodCount, unreadyPods, missingPods, ignoredPods } = groupPods(
      podList,
      metrics,
      resource,
      this.cpuInitializationPeriod,
      this.delayOfInitialReadinessStatus,
      this.clock(),
    );
    removeMetricsForPods(metrics, ignoredPods);
    removeMetricsForPods(metrics, unreadyPods);
    if (metrics.size === 0) {
      throw new MetricsError("did not receive metrics for targeted pods (pods might be unready)");
    }
    const { usageRatio, currentUsage: usage } = getMetricUsageRatio(metrics, targetUsage);

    const scaleUpWithUnready = unreadyPods.length > 0 && usageRatio > 1.0;
    if (!scaleUpWithUnready && missingPods.length === 0) {
      if (isWithinTolerance(usageRatio, tolerances)) return { replicaCount: currentReplicas, usage };
      return { replicaCount: Math.ceil(usageRatio * readyPodCount), usage };
    }

    if (missingPods.length > 0) {
      if (usageRatio < 1.0) {
        // On a scale-down a missing pod uses exactly the target.
        for (const pod of missingPods) metrics.set(pod, { value: targetUsage, timestamp: 0, window: 0 });
      } else if (usageRatio > 1.0) {
        for (const pod of missingPods) metrics.set(pod, { value: 0, timestamp: 0, window: 0 });
      }
    }
    if (scaleUpWithUnready) {
      for (const pod of unreadyPods) metrics.set(pod, { value: 0, timestamp: 0, window: 0 });
    }

    const newUsageRatio = getMetricUsageRatio(metrics, targetUsage).usageRatio;
    if (
      isWithinTolerance(newUsageRatio, tolerances) ||
      (usageRatio < 1.0 && newUsageRatio > 1.0) ||
      (usageRatio > 1.0 && newUsageRatio < 1.0)
    ) {
      return { replicaCount: currentReplicas, usage };
    }
    const newReplicas = Math.ceil(newUsageRatio * metrics.size);
    if (
      (newUsageRatio < 1.0 && newReplicas > currentReplicas) ||
      (newUsageRatio > 1.0 && newReplicas < currentReplicas)
    ) {
      return { replicaCount: currentReplicas, usage };
    }
    return { replicaCount: newReplicas, usage };
  }

  /** GetObjectMetricReplicas: an Object metric with a Value target. */
  getObjectMetricReplicas(
    currentReplicas: number,
    targetUsage: number,
    metricName: string,
    tolerances: Tolerances,
  ): UsageReplicas {
    const { value: usage } = this.metricsClient.getObjectMetric(metricName);
    const usageRatio = usage / targetUsage;
    const { replicaCount, timestamp } = this.getUsageRatioReplicaCount(
      currentReplicas,
      usageRatio,
      tolerances,
    );
    return { replicaCount, usage, timestamp };
  }

  /**
   * getUsageRatioReplicaCount: the ratio times the Ready pods, outside the tolerance; from zero
   * replicas (scale to zero enabled), the ratio itself, without tolerance.
   */
  getUsageRatioReplicaCount(
    currentReplicas: number,
    usageRatio: number,
    tolerances: Tolerances,
  ): { replicaCount: number; timestamp: number } {
    if (currentReplicas !== 0) {
      if (isWithinTolerance(usageRatio, tolerances)) return { replicaCount: currentReplicas, timestamp: 0 };
      const readyPodCount = this.getReadyPodsCount();
      const replicaCountFloat = usageRatio * readyPodCount;
      return {
        replicaCount: replicaCountFloat > INT32_MAX ? INT32_MAX : Math.ceil(replicaCountFloat),
        timestamp: 0,
      };
    }
    return { replicaCount: Math.ceil(usageRatio), timestamp: 0 };
  }

  /** GetObjectPerPodMetricReplicas: an Object metric with an AverageValue target. */
  getObjectPerPodMetricReplicas(
    statusReplicas: number,
    targetAverageUsage: number,
    metricName: string,
    tolerances: Tolerances,
  ): UsageReplicas {
    const { value, timestamp } = this.metricsClient.getObjectMetric(metricName);
    let replicaCount = statusReplicas;
    const usageRatio = value / (targetAverageUsage * replicaCount);
    if (!isWithinTolerance(usageRatio, tolerances)) replicaCount = Math.ceil(value / targetAverageUsage);
    return { replicaCount, usage: Math.ceil(value / statusReplicas), timestamp };
  }

  /** getReadyPodsCount: Running pods whose Ready condition is True. */
  getReadyPodsCount(): number {
    const podList = this.listPods();
    let readyPodCount = 0;
    for (const pod of podList) if (pod.phase === "Running" && pod.ready === true) readyPodCount++;
    return readyPodCount;
  }

  /** GetExternalMetricReplicas: an External metric with a Value target; the series are summed. */
  getExternalMetricReplicas(
    currentReplicas: number,
    targetUsage: number,
    metricName: string,
    tolerances: Tolerances,
  ): UsageReplicas {
    const { values } = this.metricsClient.getExternalMetric(metricName);
    let usage = 0;
    for (const value of values) usage += value;
    const usageRatio = usage / targetUsage;
    const { replicaCount, timestamp } = this.getUsageRatioReplicaCount(
      currentReplicas,
      usageRatio,
      tolerances,
    );
    return { replicaCount, usage, timestamp };
  }

  /** GetExternalPerPodMetricReplicas: an External metric with an AverageValue target. */
  getExternalPerPodMetricReplicas(
    statusReplicas: number,
    targetUsagePerPod: number,
    metricName: string,
    tolerances: Tolerances,
  ): UsageReplicas {
    const { values, timestamp } = this.metricsClient.getExternalMetric(metricName);
    let usage = 0;
    for (const value of values) usage += value;
    let replicaCount = statusReplicas;
    const usageRatio = usage / (targetUsagePerPod * replicaCount);
    if (!isWithinTolerance(usageRatio, tolerances)) {
      const replicaCountResult = Math.ceil(usage / targetUsagePerPod);
      replicaCount = replicaCountResult > INT32_MAX ? INT32_MAX : replicaCountResult;
    }
    return { replicaCount, usage: Math.ceil(usage / statusReplicas), timestamp };
  }
}

const INT32_MAX = 2 ** 31 - 1;

// ---------------------------------------------------------------------------------------------
// Normalization (horizontal.go): stabilization and rate limits

export interface TimestampedRecommendation {
  recommendation: number;
  timestamp: number;
}

export interface TimestampedScaleEvent {
  /** Absolute value, non-negative. */
  replicaChange: number;
  timestamp: number;
  outdated: boolean;
}

/** getReplicasChangePerPeriod: the changes recorded after now - period. */
export function getReplicasChangePerPeriod(
  periodSeconds: number,
  scaleEvents: readonly TimestampedScaleEvent[],
  now: number,
): number {
  const cutoff = now - periodSeconds;
  let replicas = 0;
  for (const event of scaleEvents) if (event.timestamp > cutoff) replicas += event.replicaChange;
  return replicas;
}

/** calculateScaleUpLimit: without behavior, at most max(2 x current, 4). */
export function calculateScaleUpLimit(
  currentReplicas: number,
  scaleUpLimitFactor: number = HPA_CONTROLLER_DEFAULTS.scaleUpLimitFactor,
): number {
  return Math.trunc(
    Math.max(scaleUpLimitFactor * currentReplicas, HPA_CONTROLLER_DEFAULTS.scaleUpLimitMinimum),
  );
}

/** markScaleEventsOutdated: events older than the longest policy period may be reused. */
export function markScaleEventsOutdated(
  scaleEvents: TimestampedScaleEvent[],
  longestPolicyPeriod: number,
  now: number,
): void {
  const cutoff = now - longestPolicyPeriod;
  for (const event of scaleEvents) if (event.timestamp < cutoff) event.outdated = true;
}

export function getLongestPolicyPeriod(scalingRules: ScalingRules): number {
  let longestPolicyPeriod = 0;
  for (const policy of scalingRules.policies) {
    if (policy.periodSeconds > longestPolicyPeriod) longestPolicyPeriod = policy.periodSeconds;
  }
  return longestPolicyPeriod;
}

/** calculateScaleUpLimitWithScalingRules: the most replicas the scale-up policies allow now. */
export function calculateScaleUpLimitWithScalingRules(
  currentReplicas: number,
  scaleUpEvents: readonly TimestampedScaleEvent[],
  scaleDownEvents: readonly TimestampedScaleEvent[],
  scalingRules: ScalingRules,
  now: number,
): number {
  if (scalingRules.selectPolicy === "Disabled") return currentReplicas;
  // For scaling up, the smallest change (Min) is the smallest count.
  const selectPolicyFn = scalingRules.selectPolicy === "Min" ? Math.min : Math.max;
  let result = scalingRules.selectPolicy === "Min" ? INT32_MAX : -INT32_MAX - 1;
  for (const policy of scalingRules.policies) {
    const replicasAddedInCurrentPeriod = getReplicasChangePerPeriod(policy.periodSeconds, scaleUpEvents, now);
    const replicasDeletedInCurrentPeriod = getReplicasChangePerPeriod(
      policy.periodSeconds,
      scaleDownEvents,
      now,
    );
    const periodStartReplicas =
      currentReplicas - replicasAddedInCurrentPeriod + replicasDeletedInCurrentPeriod;
    const proposed =
      policy.type === "Pods"
        ? periodStartReplicas + policy.value
        : // Rounded up, or a small percentage of a small count would never add a pod.
          Math.ceil(periodStartReplicas * (1 + policy.value / 100));
    result = selectPolicyFn(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors: the fewest replicas the scale-down policies allow now. */
export function calculateScaleDownLimitWithBehaviors(
  currentReplicas: number,
  scaleUpEvents: readonly TimestampedScaleEvent[],
  scaleDownEvents: readonly TimestampedScaleEvent[],
  scalingRules: ScalingRules,
  now: number,
): number {
  if (scalingRules.selectPolicy === "Disabled") return currentReplicas;
  // For scaling down, the smallest change (Min) is the largest count.
  const selectPolicyFn = scalingRules.selectPolicy === "Min" ? Math.max : Math.min;
  let result = scalingRules.selectPolicy === "Min" ? -INT32_MAX - 1 : INT32_MAX;
  for (const policy of scalingRules.policies) {
    const replicasAddedInCurrentPeriod = getReplicasChangePerPeriod(policy.periodSeconds, scaleUpEvents, now);
    const replicasDeletedInCurrentPeriod = getReplicasChangePerPeriod(
      policy.periodSeconds,
      scaleDownEvents,
      now,
    );
    const periodStartReplicas =
      currentReplicas - replicasAddedInCurrentPeriod + replicasDeletedInCurrentPeriod;
    const proposed =
      policy.type === "Pods"
        ? periodStartReplicas - policy.value
        : Math.trunc(periodStartReplicas * (1 - policy.value / 100));
    result = selectPolicyFn(result, proposed);
  }
  return result;
}

/** A normalized count and the ScalingLimited reason upstream sets with it. */
export interface LimitedReplicas {
  replicas: number;
  reason: string;
}

/** convertDesiredReplicasWithRules: without behavior, clamp to [min, min(max, calculateScaleUpLimit)]. */
export function convertDesiredReplicasWithRules(
  currentReplicas: number,
  desiredReplicas: number,
  hpaMinReplicas: number,
  hpaMaxReplicas: number,
  scaleUpLimitFactor: number = HPA_CONTROLLER_DEFAULTS.scaleUpLimitFactor,
): LimitedReplicas {
  const minimumAllowedReplicas = hpaMinReplicas;
  const scaleUpLimit = calculateScaleUpLimit(currentReplicas, scaleUpLimitFactor);
  let maximumAllowedReplicas: number;
  let possibleLimitingReason: string;
  if (hpaMaxReplicas > scaleUpLimit) {
    maximumAllowedReplicas = scaleUpLimit;
    possibleLimitingReason = "ScaleUpLimit";
  } else {
    maximumAllowedReplicas = hpaMaxReplicas;
    possibleLimitingReason = "TooManyReplicas";
  }
  if (desiredReplicas < minimumAllowedReplicas) {
    return { replicas: minimumAllowedReplicas, reason: "TooFewReplicas" };
  }
  if (desiredReplicas > maximumAllowedReplicas) {
    return { replicas: maximumAllowedReplicas, reason: possibleLimitingReason };
  }
  return { replicas: desiredReplicas, reason: "DesiredWithinRange" };
}

/**
 * Records the newest recommendation over the old sample at `oldSampleIndex`, or appends it. Go stores
 * the struct in the slice element, so the old record is overwritten rather than replaced.
 */
function storeRecommendation(
  recommendations: TimestampedRecommendation[],
  oldSampleIndex: number,
  recommendation: number,
  now: number,
): void {
  const oldSample = recommendations[oldSampleIndex];
  if (oldSample) {
    oldSample.recommendation = recommendation;
    oldSample.timestamp = now;
  } else recommendations.push({ recommendation, timestamp: now });
}

/** NormalizationArg */
export interface NormalizationArg {
  scaleUpBehavior: ScalingRules;
  scaleDownBehavior: ScalingRules;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  desiredReplicas: number;
}

// ---------------------------------------------------------------------------------------------
// The controller for one HPA (horizontal.go)

/** One metric's reading for a sync: per-pod samples (Resource, Pods) or one total (External, Object). */
export type MetricReading =
  | {
      kind: "perPod";
      /** Aligned with SyncInput.pods: undefined where a pod has no sample (missing). */
      valuesMilli: readonly (number | undefined)[];
      /** Each pod's request, when the pods carry none of their own. */
      requestMilli?: number;
      /** When the samples were taken (default: now) and the window each covers (default: 60 s). */
      timestamp?: number;
      windowSeconds?: number;
    }
  | { kind: "total"; valueMilli: number }
  | { kind: "error"; message: string };

export interface SyncInput {
  now: number;
  /** scale.spec.replicas */
  specReplicas: number;
  /** scale.status.replicas: pods that exist and are not terminating, Ready or not. */
  statusReplicas: number;
  pods: readonly PodView[];
  /** The reading of spec.metrics[index]. */
  readMetric: (metric: V2MetricSpec, index: number) => MetricReading;
}

export interface MetricProposal {
  metric: string;
  replicas?: number | undefined;
  error?: string | undefined;
}

const NO_PROPOSALS: MetricProposal[] = [];

export interface SyncDecision {
  currentReplicas: number;
  desiredReplicas: number;
  rescale: boolean;
  /** Upstream's rescale reason, or why nothing was done (ScalingDisabled, FailedComputeMetricsReplicas). */
  reason: string;
  /** The ScalingLimited reason of the normalization: DesiredWithinRange, ScaleUpLimit, TooFewReplicas... */
  limitedBy?: string | undefined;
  proposals: MetricProposal[];
}

export function metricLabel(metric: V2MetricSpec): string {
  switch (metric.type) {
    case "Resource":
      return `resource ${metric.resource?.name ?? "?"}`;
    case "ContainerResource":
      return `container resource ${metric.containerResource?.name ?? "?"}`;
    case "Pods":
      return `pods ${metric.pods?.metric.name ?? "?"}`;
    case "External":
      return `external ${metric.external?.metric.name ?? "?"}`;
    case "Object":
      return `object ${metric.object?.metric.name ?? "?"}`;
    default:
      return metric.type;
  }
}

function quantityMilli(value: string | number | undefined, field: string): number {
  const parsed = value === undefined ? undefined : quantityValue(value);
  if (parsed === undefined || parsed <= 0)
    throw new SimulationInputError(field, `needs a positive quantity, got ${String(value)}`);
  return toMilli(parsed);
}

/** A metric spec turned into what the calculator needs, validated once. */
interface PreparedMetric {
  label: string;
  /** The metric's name as upstream reports it in the rescale reason. */
  reasonName: string;
  spec: V2MetricSpec;
  index: number;
  source: "Resource" | "Pods" | "Object" | "External";
  target: "Utilization" | "AverageValue" | "Value";
  name: string;
  /** Percent for Utilization, milli-units otherwise. */
  targetValue: number;
}

function prepareMetric(spec: V2MetricSpec, index: number): PreparedMetric {
  const field = `spec.metrics[${index}]`;
  // One shape for every metric: the sync loop reads them all through the same code.
  const prepared = (
    source: PreparedMetric["source"],
    name: string,
    reasonName: string,
    target: PreparedMetric["target"],
    targetValue: number,
  ): PreparedMetric => ({
    label: metricLabel(spec),
    reasonName,
    spec,
    index,
    source,
    target,
    name,
    targetValue,
  });
  if (spec.type === "Resource" || spec.type === "ContainerResource") {
    const source = spec.type === "Resource" ? spec.resource : spec.containerResource;
    const sourceField = spec.type === "Resource" ? `${field}.resource` : `${field}.containerResource`;
    if (!source) throw new SimulationInputError(sourceField, "missing");
    if (source.target.type === "Utilization") {
      const utilization = source.target.averageUtilization;
      if (utilization === undefined || !(utilization > 0)) {
        throw new SimulationInputError(`${sourceField}.target.averageUtilization`, "must be > 0");
      }
      const reasonName = `${source.name} resource utilization (percentage of request)`;
      return prepared("Resource", source.name, reasonName, "Utilization", utilization);
    }
    if (source.target.type === "AverageValue") {
      const targetValue = quantityMilli(source.target.averageValue, `${sourceField}.target.averageValue`);
      return prepared("Resource", source.name, `${source.name} resource`, "AverageValue", targetValue);
    }
    throw new SimulationInputError(`${sourceField}.target.type`, `must be Utilization or AverageValue`);
  }
  if (spec.type === "Pods") {
    if (!spec.pods) throw new SimulationInputError(`${field}.pods`, "missing");
    const name = spec.pods.metric.name;
    const targetValue = quantityMilli(spec.pods.target.averageValue, `${field}.pods.target.averageValue`);
    return prepared("Pods", name, `pods metric ${name}`, "AverageValue", targetValue);
  }
  if (spec.type === "External" || spec.type === "Object") {
    const source = spec.type === "External" ? spec.external : spec.object;
    const sourceField = spec.type === "External" ? `${field}.external` : `${field}.object`;
    if (!source) throw new SimulationInputError(sourceField, "missing");
    const name = source.metric.name;
    const kind = spec.type === "External" ? "external" : spec.object?.describedObject.kind;
    const reasonName = `${kind} metric ${name}`;
    if (source.target.type === "Value") {
      const targetValue = quantityMilli(source.target.value, `${sourceField}.target.value`);
      return prepared(spec.type, name, reasonName, "Value", targetValue);
    }
    if (source.target.type === "AverageValue") {
      const targetValue = quantityMilli(source.target.averageValue, `${sourceField}.target.averageValue`);
      return prepared(spec.type, name, reasonName, "AverageValue", targetValue);
    }
    throw new SimulationInputError(`${sourceField}.target.type`, "must be Value or AverageValue");
  }
  throw new SimulationInputError(`${field}.type`, `unsupported metric type ${spec.type}`);
}

/**
 * The metrics APIs as one sync sees them: each call reads the reading of the metric being computed
 * (SyncInput.readMetric) and turns it into what metrics/client.go returns.
 */
class ReadingMetricsClient implements MetricsClient {
  input: SyncInput | undefined;
  metric: PreparedMetric | undefined;
  /** The request the last per-pod reading gave for pods that carry none of their own. */
  requestMilli: number | undefined;

  private read(): MetricReading {
    const input = this.input;
    const metric = this.metric;
    if (!input || !metric) throw new MetricsError("no metric is being computed");
    const reading = input.readMetric(metric.spec, metric.index);
    if (reading.kind === "error") throw new MetricsError(reading.message);
    return reading;
  }

  // The samples handed to the calculator, rebuilt for every read. The collection and the per-pod records
  // are reused from read to read (the calculator is done with them before the next read, and only
  // ever adds records of its own): a day of 15 s syncs over a hundred policies otherwise spends most
  // of its time collecting them (bench/simulate.bench.ts).
  private readonly samples = new PodMetricsInfo();
  private readonly records = emptySlots<PodMetric>();
  // So are the answers that carry them, which the calculator takes apart at once. The totals are
  // doubles from the start (a total of 0 is -0 in milli-units), so every client's array has one kind.
  private readonly podAnswer = { metrics: this.samples, timestamp: 0 };
  private readonly externalAnswer = { values: [0.5], timestamp: 0 };

  private podMetrics(api: string): { metrics: PodMetricsInfo; timestamp: number } {
    const reading = this.read();
    const input = this.input;
    if (reading.kind !== "perPod" || !input) throw new MetricsError(`expected per-pod samples from ${api}`);
    this.requestMilli = reading.requestMilli;
    const timestamp = reading.timestamp ?? input.now;
    const window = reading.windowSeconds ?? HPA_CONTROLLER_DEFAULTS.metricWindowSeconds;
    const metrics = this.samples;
    metrics.clear();
    for (let index = 0; index < input.pods.length; index++) {
      const value = reading.valuesMilli[index];
      if (value === undefined) continue;
      const record = (this.records[index] ??= { value, timestamp, window });
      record.value = value;
      record.timestamp = timestamp;
      record.window = window;
      metrics.set(index, record);
    }
    if (metrics.size === 0) throw new MetricsError(`no metrics returned from ${api}`);
    const answer = this.podAnswer;
    answer.timestamp = timestamp;
    return answer;
  }

  getResourceMetric(): { metrics: PodMetricsInfo; timestamp: number } {
    return this.podMetrics("resource metrics API");
  }

  getRawMetric(): { metrics: PodMetricsInfo; timestamp: number } {
    return this.podMetrics("custom metrics API");
  }

  private total(): number {
    const reading = this.read();
    if (reading.kind !== "total") throw new MetricsError("expected one total");
    return reading.valueMilli;
  }

  getObjectMetric(): { value: number; timestamp: number } {
    return { value: this.total(), timestamp: this.input?.now ?? 0 };
  }

  getExternalMetric(): { values: number[]; timestamp: number } {
    const answer = this.externalAnswer;
    answer.values[0] = this.total();
    answer.timestamp = this.input?.now ?? 0;
    return answer;
  }
}

/**
 * One HPA as kube-controller-manager holds it in memory: the recommendations and the scale events
 * live here, exactly as they live only in the controller's memory. `sync` is reconcileAutoscaler.
 */
export class HorizontalPodAutoscalerController {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly behavior: NormalizedBehavior | undefined;
  readonly tolerances: Tolerances;
  readonly parameters: HorizontalControllerParameters;
  /** Latest unstabilized recommendations; undefined (nil) until the first sync records one. */
  recommendations: TimestampedRecommendation[] | undefined = undefined;
  scaleUpEvents: TimestampedScaleEvent[] = [];
  scaleDownEvents: TimestampedScaleEvent[] = [];
  private readonly metrics: PreparedMetric[];
  private readonly metricsClient = new ReadingMetricsClient();
  private readonly replicaCalc: ReplicaCalculator;
  private now = 0;
  /** The metric of the largest proposal of the last computeReplicasForMetrics. */
  private metricName = "";
  // Reused by every sync of this controller, as the decision it returns (read them before the next).
  private readonly proposals: MetricProposal[];
  private readonly decision: SyncDecision = {
    currentReplicas: 0,
    desiredReplicas: 0,
    rescale: false,
    reason: "",
    limitedBy: undefined,
    proposals: [],
  };

  constructor(hpa: V2HorizontalPodAutoscaler, parameters: Partial<HorizontalControllerParameters> = {}) {
    const spec = hpa.spec;
    if (!spec) throw new SimulationInputError("spec", "missing");
    this.parameters = {
      tolerance: parameters.tolerance ?? HPA_CONTROLLER_DEFAULTS.tolerance,
      downscaleStabilizationSeconds:
        parameters.downscaleStabilizationSeconds ?? HPA_CONTROLLER_DEFAULTS.downscaleStabilizationSeconds,
      cpuInitializationPeriodSeconds:
        parameters.cpuInitializationPeriodSeconds ?? HPA_CONTROLLER_DEFAULTS.cpuInitializationPeriodSeconds,
      initialReadinessDelaySeconds:
        parameters.initialReadinessDelaySeconds ?? HPA_CONTROLLER_DEFAULTS.initialReadinessDelaySeconds,
      scaleUpLimitFactor: parameters.scaleUpLimitFactor ?? HPA_CONTROLLER_DEFAULTS.scaleUpLimitFactor,
    };
    this.minReplicas = spec.minReplicas ?? 1;
    this.maxReplicas = spec.maxReplicas;
    if (!Number.isInteger(this.maxReplicas) || this.maxReplicas < 1) {
      throw new SimulationInputError("spec.maxReplicas", "must be an integer >= 1");
    }
    if (!Number.isInteger(this.minReplicas) || this.minReplicas < 0 || this.minReplicas > this.maxReplicas) {
      throw new SimulationInputError("spec.minReplicas", "must be an integer between 0 and maxReplicas");
    }
    const metricSpecs = [...(spec.metrics ?? [])];
    if (metricSpecs.length === 0) {
      // SetDefaults_HorizontalPodAutoscaler: no metrics means 80 % CPU utilization.
      metricSpecs.push({
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
      });
    }
    this.metrics = metricSpecs.map((metric, index) => prepareMetric(metric, index));
    this.proposals = this.metrics.map((metric) => ({
      metric: metric.label,
      replicas: undefined,
      error: undefined,
    }));
    this.behavior = normalizeBehavior(
      spec.behavior,
      "spec.behavior",
      this.parameters.downscaleStabilizationSeconds,
    );
    this.tolerances = tolerancesOf(spec.behavior, "spec.behavior", this.parameters.tolerance);
    this.replicaCalc = new ReplicaCalculator(
      this.metricsClient,
      () => this.podsWithRequests(),
      this.parameters.cpuInitializationPeriodSeconds,
      this.parameters.initialReadinessDelaySeconds,
      () => this.now,
    );
  }

  /** The pods of the sync; those without requests of their own get the reading's request. */
  private podsWithRequests(): readonly PodView[] {
    const pods = this.metricsClient.input?.pods ?? [];
    const request = this.metricsClient.requestMilli;
    const name = this.metricsClient.metric?.name;
    if (request === undefined || name === undefined) return pods;
    let complete = true;
    for (const pod of pods) if (pod.requestsMilli?.[name] === undefined) complete = false;
    if (complete) return pods;
    return pods.map((pod) =>
      pod.requestsMilli?.[name] === undefined
        ? { ...pod, requestsMilli: { ...pod.requestsMilli, [name]: request } }
        : pod,
    );
  }

  get metricLabels(): string[] {
    return this.metrics.map((metric) => metric.label);
  }

  /**
   * reconcileAutoscaler. The caller writes desiredReplicas to the scale when rescale is true. The
   * decision and its proposals are reused by this controller's next sync: read them first.
   */
  sync(input: SyncInput): Readonly<SyncDecision> {
    this.now = input.now;
    this.metricsClient.input = input;
    const currentReplicas = input.specReplicas;
    this.recordInitialRecommendation(currentReplicas);
    const minReplicas = this.minReplicas;
    let desiredReplicas = 0;
    let rescaleReason = "";
    let rescale = true;
    let limitedBy: string | undefined;
    let proposals = NO_PROPOSALS;

    if (currentReplicas === 0 && minReplicas !== 0) {
      // Autoscaling is disabled for this resource.
      desiredReplicas = 0;
      rescale = false;
      rescaleReason = "ScalingDisabled";
    } else if (currentReplicas > this.maxReplicas) {
      rescaleReason = "Current number of replicas above Spec.MaxReplicas";
      desiredReplicas = this.maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = "Current number of replicas below Spec.MinReplicas";
      desiredReplicas = minReplicas;
    } else {
      const metricDesiredReplicas = this.computeReplicasForMetrics(input);
      proposals = this.proposals;
      if (metricDesiredReplicas === -1) {
        return this.decide(
          currentReplicas,
          currentReplicas,
          false,
          "FailedComputeMetricsReplicas",
          undefined,
          proposals,
        );
      }
      let rescaleMetric = "";
      if (metricDesiredReplicas > desiredReplicas) {
        desiredReplicas = metricDesiredReplicas;
        rescaleMetric = this.metricName;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = "All metrics below target";
      const normalized = this.behavior
        ? this.normalizeDesiredReplicasWithBehaviors(
            this.behavior,
            currentReplicas,
            desiredReplicas,
            minReplicas,
          )
        : this.normalizeDesiredReplicas(currentReplicas, desiredReplicas, minReplicas);
      desiredReplicas = normalized.replicas;
      limitedBy = normalized.reason;
      rescale = desiredReplicas !== currentReplicas;
    }
    if (rescale) {
      this.storeScaleEvent(this.behavior, currentReplicas, desiredReplicas);
    } else {
      desiredReplicas = currentReplicas;
      if (rescaleReason !== "ScalingDisabled") rescaleReason = "";
    }
    return this.decide(currentReplicas, desiredReplicas, rescale, rescaleReason, limitedBy, proposals);
  }

  /** The decision of this sync, in the object every sync of this controller reuses: read it first. */
  private decide(
    currentReplicas: number,
    desiredReplicas: number,
    rescale: boolean,
    reason: string,
    limitedBy: string | undefined,
    proposals: MetricProposal[],
  ): Readonly<SyncDecision> {
    const decision = this.decision;
    decision.currentReplicas = currentReplicas;
    decision.desiredReplicas = desiredReplicas;
    decision.rescale = rescale;
    decision.reason = reason;
    decision.limitedBy = limitedBy;
    decision.proposals = proposals;
    return decision;
  }

  /** recordInitialRecommendation: the first sync seeds the history with the current count. */
  private recordInitialRecommendation(currentReplicas: number): void {
    this.recommendations ??= [{ recommendation: currentReplicas, timestamp: this.now }];
  }

  /**
   * The controller's last recommendation before the simulation, at `timestamp`: the history the syncs
   * before it left (for the scale-up window, what matters is a recommendation that low that recent).
   */
  recommendedBefore(timestamp: number, replicas: number): void {
    this.recommendations ??= [{ recommendation: replicas, timestamp }];
  }

  /**
   * computeReplicasForMetrics: the largest proposal of the valid metrics, or -1 when every metric
   * failed, or when some failed and the rest would scale down.
   */
  private computeReplicasForMetrics(input: SyncInput): number {
    let replicas = 0;
    let invalidMetricsCount = 0;
    this.metricName = "";
    for (let index = 0; index < this.metrics.length; index++) {
      const metricSpec = this.metrics[index] as PreparedMetric;
      const proposal = this.proposals[index] as MetricProposal;
      proposal.replicas = undefined;
      proposal.error = undefined;
      try {
        const replicaCountProposal = this.computeReplicasForMetric(metricSpec, input);
        proposal.replicas = replicaCountProposal;
        if (replicas === 0 || replicaCountProposal > replicas) {
          replicas = replicaCountProposal;
          this.metricName = metricSpec.reasonName;
        }
      } catch (error) {
        if (!(error instanceof MetricsError)) throw error;
        proposal.error = error.message;
        invalidMetricsCount++;
      }
    }
    // Every metric failed, or some failed and the others would scale down: do nothing this sync.
    if (
      invalidMetricsCount >= this.metrics.length ||
      (invalidMetricsCount > 0 && replicas < input.specReplicas)
    ) {
      return -1;
    }
    return replicas;
  }

  /** computeReplicasForMetric and the computeStatusFor*Metric it dispatches to. */
  private computeReplicasForMetric(metric: PreparedMetric, input: SyncInput): number {
    this.metricsClient.metric = metric;
    this.metricsClient.requestMilli = undefined;
    const tolerances = this.tolerances;
    const specReplicas = input.specReplicas;
    switch (metric.source) {
      case "Resource":
        return metric.target === "Utilization"
          ? this.replicaCalc.getResourceReplicas(specReplicas, metric.targetValue, metric.name, tolerances)
              .replicaCount
          : this.replicaCalc.getRawResourceReplicas(specReplicas, metric.targetValue, metric.name, tolerances)
              .replicaCount;
      case "Pods":
        return this.replicaCalc.getMetricReplicas(specReplicas, metric.targetValue, metric.name, tolerances)
          .replicaCount;
      case "Object":
        return metric.target === "Value"
          ? this.replicaCalc.getObjectMetricReplicas(
              specReplicas,
              metric.targetValue,
              metric.name,
              tolerances,
            ).replicaCount
          : this.replicaCalc.getObjectPerPodMetricReplicas(
              input.statusReplicas,
              metric.targetValue,
              metric.name,
              tolerances,
            ).replicaCount;
      case "External":
        return metric.target === "AverageValue"
          ? this.replicaCalc.getExternalPerPodMetricReplicas(
              input.statusReplicas,
              metric.targetValue,
              metric.name,
              tolerances,
            ).replicaCount
          : this.replicaCalc.getExternalMetricReplicas(
              specReplicas,
              metric.targetValue,
              metric.name,
              tolerances,
            ).replicaCount;
    }
  }

  /** stabilizeRecommendation: without behavior, the largest recommendation of the downscale window. */
  stabilizeRecommendation(prenormalizedDesiredReplicas: number): number {
    let maxRecommendation = prenormalizedDesiredReplicas;
    let oldSampleIndex = -1;
    const cutoff = this.now - this.parameters.downscaleStabilizationSeconds;
    const recommendations = (this.recommendations ??= []);
    for (let index = 0; index < recommendations.length; index++) {
      const rec = recommendations[index] as TimestampedRecommendation;
      if (rec.timestamp < cutoff) oldSampleIndex = index;
      else if (rec.recommendation > maxRecommendation) maxRecommendation = rec.recommendation;
    }
    storeRecommendation(recommendations, oldSampleIndex, prenormalizedDesiredReplicas, this.now);
    return maxRecommendation;
  }

  /** normalizeDesiredReplicas: stabilize, then clamp with convertDesiredReplicasWithRules. */
  normalizeDesiredReplicas(
    currentReplicas: number,
    prenormalizedDesiredReplicas: number,
    minReplicas: number,
  ): LimitedReplicas {
    const stabilizedRecommendation = this.stabilizeRecommendation(prenormalizedDesiredReplicas);
    return convertDesiredReplicasWithRules(
      currentReplicas,
      stabilizedRecommendation,
      minReplicas,
      this.maxReplicas,
      this.parameters.scaleUpLimitFactor,
    );
  }

  /** normalizeDesiredReplicasWithBehaviors: stabilize in both directions, then the rate limits. */
  normalizeDesiredReplicasWithBehaviors(
    behavior: NormalizedBehavior,
    currentReplicas: number,
    prenormalizedDesiredReplicas: number,
    minReplicas: number,
  ): LimitedReplicas {
    const normalizationArg: NormalizationArg = {
      scaleUpBehavior: behavior.scaleUp,
      scaleDownBehavior: behavior.scaleDown,
      minReplicas,
      maxReplicas: this.maxReplicas,
      currentReplicas,
      desiredReplicas: prenormalizedDesiredReplicas,
    };
    normalizationArg.desiredReplicas = this.stabilizeRecommendationWithBehaviors(normalizationArg);
    return this.convertDesiredReplicasWithBehaviorRate(normalizationArg);
  }

  /**
   * stabilizeRecommendationWithBehaviors: the smallest recommendation of the scale-up window and the
   * largest of the scale-down window bound the current count; the newest recommendation replaces
   * one too old for both windows.
   */
  stabilizeRecommendationWithBehaviors(args: NormalizationArg): number {
    const now = this.now;
    let oldSampleIndex = -1;
    let upRecommendation = args.desiredReplicas;
    const upCutoff = now - args.scaleUpBehavior.stabilizationWindowSeconds;
    let downRecommendation = args.desiredReplicas;
    const downCutoff = now - args.scaleDownBehavior.stabilizationWindowSeconds;
    const recommendations = (this.recommendations ??= []);
    for (let index = 0; index < recommendations.length; index++) {
      const rec = recommendations[index] as TimestampedRecommendation;
      if (rec.timestamp > upCutoff) upRecommendation = Math.min(rec.recommendation, upRecommendation);
      if (rec.timestamp > downCutoff) downRecommendation = Math.max(rec.recommendation, downRecommendation);
      if (rec.timestamp < upCutoff && rec.timestamp < downCutoff) oldSampleIndex = index;
    }
    let recommendation = args.currentReplicas;
    if (recommendation < upRecommendation) recommendation = upRecommendation;
    if (recommendation > downRecommendation) recommendation = downRecommendation;
    storeRecommendation(recommendations, oldSampleIndex, args.desiredReplicas, now);
    return recommendation;
  }

  /** convertDesiredReplicasWithBehaviorRate: the scale-up or scale-down policies' limit, and min/max. */
  convertDesiredReplicasWithBehaviorRate(args: NormalizationArg): LimitedReplicas {
    if (args.desiredReplicas > args.currentReplicas) {
      let scaleUpLimit = calculateScaleUpLimitWithScalingRules(
        args.currentReplicas,
        this.scaleUpEvents,
        this.scaleDownEvents,
        args.scaleUpBehavior,
        this.now,
      );
      // Recent scale-ups may already exceed what a changed policy allows: then hold, never shrink.
      if (scaleUpLimit < args.currentReplicas) scaleUpLimit = args.currentReplicas;
      let maximumAllowedReplicas = args.maxReplicas;
      let possibleLimitingReason: string;
      if (maximumAllowedReplicas > scaleUpLimit) {
        maximumAllowedReplicas = scaleUpLimit;
        possibleLimitingReason = "ScaleUpLimit";
      } else {
        possibleLimitingReason = "TooManyReplicas";
      }
      if (args.desiredReplicas > maximumAllowedReplicas) {
        return { replicas: maximumAllowedReplicas, reason: possibleLimitingReason };
      }
    } else if (args.desiredReplicas < args.currentReplicas) {
      let scaleDownLimit = calculateScaleDownLimitWithBehaviors(
        args.currentReplicas,
        this.scaleUpEvents,
        this.scaleDownEvents,
        args.scaleDownBehavior,
        this.now,
      );
      if (scaleDownLimit > args.currentReplicas) scaleDownLimit = args.currentReplicas;
      let minimumAllowedReplicas = args.minReplicas;
      let possibleLimitingReason: string;
      if (minimumAllowedReplicas < scaleDownLimit) {
        minimumAllowedReplicas = scaleDownLimit;
        possibleLimitingReason = "ScaleDownLimit";
      } else {
        possibleLimitingReason = "TooFewReplicas";
      }
      if (args.desiredReplicas < minimumAllowedReplicas) {
        return { replicas: minimumAllowedReplicas, reason: possibleLimitingReason };
      }
    }
    return { replicas: args.desiredReplicas, reason: "DesiredWithinRange" };
  }

  /**
   * storeScaleEvent: only with a behavior, after a successful rescale. An event older than the
   * longest policy period is marked outdated, and the last outdated one is replaced.
   */
  storeScaleEvent(behavior: NormalizedBehavior | undefined, prevReplicas: number, newReplicas: number): void {
    if (!behavior) return;
    const scalingUp = newReplicas > prevReplicas;
    const rules = scalingUp ? behavior.scaleUp : behavior.scaleDown;
    const events = scalingUp ? this.scaleUpEvents : this.scaleDownEvents;
    markScaleEventsOutdated(events, getLongestPolicyPeriod(rules), this.now);
    let oldSampleIndex = -1;
    for (let index = 0; index < events.length; index++) if (events[index]?.outdated) oldSampleIndex = index;
    const replicaChange = Math.abs(newReplicas - prevReplicas);
    const oldSample = events[oldSampleIndex];
    // Go stores the struct in the slice element: the old record is overwritten, not replaced.
    if (oldSample) {
      oldSample.replicaChange = replicaChange;
      oldSample.timestamp = this.now;
      oldSample.outdated = false;
    } else events.push({ replicaChange, timestamp: this.now, outdated: false });
  }

  /** For tests and the ports of upstream's tables: set the clock without a sync. */
  setClock(now: number): void {
    this.now = now;
  }
}
