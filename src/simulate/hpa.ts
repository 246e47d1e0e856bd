// The horizontal pod autoscaler controller's decision, step by step as Kubernetes computes it
// (pkg/controller/podautoscaler/horizontal.go and replica_calculator.go). Pure: the caller hands in
// the pods and metric readings of one sync and gets the replica count the controller would write.
import type {
  V2HorizontalPodAutoscaler,
  V2HorizontalPodAutoscalerBehavior,
  V2HPAScalingRules,
  V2MetricSpec,
} from "@kubernetes/client-node";
import { parseQuantity, toMilli } from "./quantity.js";

/** kube-controller-manager defaults that no HPA object can change. */
export const HPA_CONTROLLER_DEFAULTS = {
  syncPeriodSeconds: 15,
  tolerance: 0.1,
  downscaleStabilizationSeconds: 300,
  cpuInitializationPeriodSeconds: 300,
  initialReadinessDelaySeconds: 30,
  /** metrics-server's sample window: a CPU sample must cover a full window after the pod became ready. */
  metricWindowSeconds: 15,
  scaleUpLimitFactor: 2,
  scaleUpLimitMinimum: 4,
} as const;

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

export interface Tolerances {
  up: number;
  down: number;
}

export class HpaSpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "HpaSpecError";
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
      throw new HpaSpecError(
        `${field}.policies[${index}].type`,
        `must be Pods or Percent, got ${policy.type}`,
      );
    }
    if (!(policy.value > 0)) throw new HpaSpecError(`${field}.policies[${index}].value`, "must be > 0");
    if (!(policy.periodSeconds > 0)) {
      throw new HpaSpecError(`${field}.policies[${index}].periodSeconds`, "must be > 0");
    }
    return { type: policy.type, value: policy.value, periodSeconds: policy.periodSeconds };
  });
}

function normalizeSelectPolicy(value: string | undefined, field: string): SelectPolicy {
  if (value === undefined) return "Max";
  if (value === "Max" || value === "Min" || value === "Disabled") return value;
  throw new HpaSpecError(`${field}.selectPolicy`, `must be Max, Min or Disabled, got ${value}`);
}

/**
 * The API server's defaulting of `behavior`, field by field (pkg/apis/autoscaling/v2/defaults.go).
 * No behavior stays no behavior: the controller then takes the older code path.
 */
export function normalizeBehavior(
  behavior: V2HorizontalPodAutoscalerBehavior | undefined,
  field = "spec.behavior",
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
      stabilizationWindowSeconds: down?.stabilizationWindowSeconds ?? 300,
      selectPolicy: normalizeSelectPolicy(down?.selectPolicy, `${field}.scaleDown`),
      policies: normalizePolicies(
        down,
        [{ type: "Percent", value: 100, periodSeconds: 15 }],
        `${field}.scaleDown`,
      ),
    },
  };
}

function parseTolerance(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseQuantity(value);
  if (parsed === undefined || parsed < 0)
    throw new HpaSpecError(field, `not a non-negative quantity: ${value}`);
  return parsed;
}

/** Per-direction tolerance (KEP-4951), falling back to the controller-wide 10 %. */
export function tolerancesOf(
  behavior: V2HorizontalPodAutoscalerBehavior | undefined,
  field = "spec.behavior",
): Tolerances {
  return {
    up:
      parseTolerance(behavior?.scaleUp?.tolerance, `${field}.scaleUp.tolerance`) ??
      HPA_CONTROLLER_DEFAULTS.tolerance,
    down:
      parseTolerance(behavior?.scaleDown?.tolerance, `${field}.scaleDown.tolerance`) ??
      HPA_CONTROLLER_DEFAULTS.tolerance,
  };
}

export function isWithinTolerance(ratio: number, tolerances: Tolerances): boolean {
  return 1 - tolerances.down <= ratio && ratio <= 1 + tolerances.up;
}

// ---------------------------------------------------------------------------------------------
// Replica calculator

/** What the HPA sees of one pod. Times in seconds on the simulation clock. */
export interface PodView {
  phase: "Pending" | "Running";
  ready: boolean;
  /** When the pod started running (status.startTime). */
  startedAt: number;
  /** When the Ready condition last changed (to True when ready, to False at start otherwise). */
  readyTransitionAt: number;
}

interface PodGroups {
  readyCount: number;
  unready: number[];
  missing: number[];
}

/** Pod classes as groupPods sees them; `Sample` marks a ready pod whose sample counts. */
const enum PodClass {
  Sample = 0,
  Unready = 1,
  Missing = 2,
}

function classify(pod: PodView, sample: number | undefined, isCpu: boolean, now: number): PodClass {
  if (pod.phase === "Pending") return PodClass.Unready;
  if (sample === undefined) return PodClass.Missing;
  if (!isCpu) return PodClass.Sample;
  let unready: boolean;
  if (pod.startedAt + HPA_CONTROLLER_DEFAULTS.cpuInitializationPeriodSeconds > now) {
    unready = !pod.ready || now < pod.readyTransitionAt + HPA_CONTROLLER_DEFAULTS.metricWindowSeconds;
  } else {
    unready =
      !pod.ready &&
      pod.startedAt + HPA_CONTROLLER_DEFAULTS.initialReadinessDelaySeconds > pod.readyTransitionAt;
  }
  return unready ? PodClass.Unready : PodClass.Sample;
}

/**
 * groupPods: Pending pods are unready; pods with no sample are missing; for CPU only, a pod is also
 * unready while it is not Ready, or while its sample predates one full window after readiness,
 * within the CPU initialization period; after that period, unready if it has never become ready.
 */
export function groupPods(
  pods: readonly PodView[],
  samples: readonly (number | undefined)[],
  isCpu: boolean,
  now: number,
): PodGroups {
  const groups: PodGroups = { readyCount: 0, unready: [], missing: [] };
  for (let index = 0; index < pods.length; index++) {
    const pod = pods[index];
    if (!pod) continue;
    const podClass = classify(pod, samples[index], isCpu, now);
    if (podClass === PodClass.Unready) groups.unready.push(index);
    else if (podClass === PodClass.Missing) groups.missing.push(index);
    else groups.readyCount++;
  }
  return groups;
}

export type ReplicaProposal =
  { replicas: number; error?: undefined } | { replicas?: undefined; error: string };

/** The direction guard shared by resource and pods metrics once unready and missing pods are filled in. */
function proposeWithFilledPods(
  currentReplicas: number,
  usageRatio: number,
  newUsageRatio: number,
  sampleCount: number,
  tolerances: Tolerances,
): number {
  if (
    isWithinTolerance(newUsageRatio, tolerances) ||
    (usageRatio > 1 && newUsageRatio < 1) ||
    (usageRatio < 1 && newUsageRatio > 1)
  ) {
    return currentReplicas;
  }
  const newReplicas = Math.ceil(newUsageRatio * sampleCount);
  if (
    (newUsageRatio < 1 && newReplicas > currentReplicas) ||
    (newUsageRatio > 1 && newReplicas < currentReplicas)
  ) {
    return currentReplicas;
  }
  return newReplicas;
}

/** Sums of the counted samples: first pass over ready pods only, second with the fills applied. */
interface SampleTotals {
  total: number;
  count: number;
  readyCount: number;
  unready: number;
  missing: number;
}

// One scratch record: the calculators run one at a time and read it before the next call.
const scratchTotals: SampleTotals = { total: 0, count: 0, readyCount: 0, unready: 0, missing: 0 };

function sampleTotals(
  pods: readonly PodView[],
  samples: readonly (number | undefined)[],
  isCpu: boolean,
  now: number,
): SampleTotals {
  const totals = scratchTotals;
  totals.total = 0;
  totals.count = 0;
  totals.readyCount = 0;
  totals.unready = 0;
  totals.missing = 0;
  for (let index = 0; index < pods.length; index++) {
    const pod = pods[index];
    if (!pod) continue;
    const sample = samples[index];
    const podClass = classify(pod, sample, isCpu, now);
    if (podClass === PodClass.Unready) totals.unready++;
    else if (podClass === PodClass.Missing) totals.missing++;
    else {
      totals.total += sample ?? 0;
      totals.count++;
      totals.readyCount++;
    }
  }
  return totals;
}

const NO_PODS = "no pods returned by selector while calculating replica count";
const NO_SAMPLES = "did not receive metrics for targeted pods (pods might be unready)";

/** Replicas, or the error message; positional so the sync loop allocates nothing. */
function resourceReplicasOrError(
  currentReplicas: number,
  targetUtilization: number,
  pods: readonly PodView[],
  usageMilli: readonly (number | undefined)[],
  requestMilli: number,
  isCpu: boolean,
  tolerances: Tolerances,
  now: number,
): number | string {
  if (pods.length === 0) return NO_PODS;
  if (!(requestMilli > 0)) return "missing request for resource";
  const totals = sampleTotals(pods, usageMilli, isCpu, now);
  if (totals.count === 0) return NO_SAMPLES;
  // Every pod has the same request, so sum(requests) is the request times the number of samples.
  const usageRatio = Math.trunc((totals.total * 100) / (requestMilli * totals.count)) / targetUtilization;
  const scaleUpWithUnready = totals.unready > 0 && usageRatio > 1;
  if (!scaleUpWithUnready && totals.missing === 0) {
    if (isWithinTolerance(usageRatio, tolerances)) return currentReplicas;
    return Math.ceil(usageRatio * totals.readyCount);
  }
  let total = totals.total;
  let count = totals.count;
  if (totals.missing > 0) {
    // Scale-down: a missing pod counts as using max(100 %, target); scale-up: as using nothing.
    if (usageRatio < 1)
      total += totals.missing * Math.trunc((requestMilli * Math.max(100, targetUtilization)) / 100);
    if (usageRatio !== 1) count += totals.missing;
  }
  if (scaleUpWithUnready) count += totals.unready;
  const newUsageRatio = Math.trunc((total * 100) / (requestMilli * count)) / targetUtilization;
  return proposeWithFilledPods(currentReplicas, usageRatio, newUsageRatio, count, tolerances);
}

function plainReplicasOrError(
  currentReplicas: number,
  targetMilli: number,
  pods: readonly PodView[],
  valueMilli: readonly (number | undefined)[],
  isCpu: boolean,
  tolerances: Tolerances,
  now: number,
): number | string {
  if (pods.length === 0) return NO_PODS;
  const totals = sampleTotals(pods, valueMilli, isCpu, now);
  if (totals.count === 0) return NO_SAMPLES;
  const usageRatio = Math.trunc(totals.total / totals.count) / targetMilli;
  const scaleUpWithUnready = totals.unready > 0 && usageRatio > 1;
  if (!scaleUpWithUnready && totals.missing === 0) {
    if (isWithinTolerance(usageRatio, tolerances)) return currentReplicas;
    return Math.ceil(usageRatio * totals.readyCount);
  }
  let total = totals.total;
  let count = totals.count;
  if (totals.missing > 0) {
    // Scale-down: a missing pod counts as exactly at target; scale-up: as reporting zero.
    if (usageRatio < 1) total += totals.missing * targetMilli;
    if (usageRatio !== 1) count += totals.missing;
  }
  if (scaleUpWithUnready) count += totals.unready;
  const newUsageRatio = Math.trunc(total / count) / targetMilli;
  return proposeWithFilledPods(currentReplicas, usageRatio, newUsageRatio, count, tolerances);
}

function asProposal(result: number | string): ReplicaProposal {
  return typeof result === "number" ? { replicas: result } : { error: result };
}

/** GetResourceReplicas for an Utilization target: samples and requests in milli-units per pod. */
export function resourceUtilizationReplicas(args: {
  currentReplicas: number;
  targetUtilization: number;
  pods: readonly PodView[];
  usageMilli: readonly (number | undefined)[];
  requestMilli: number;
  isCpu: boolean;
  tolerances: Tolerances;
  now: number;
}): ReplicaProposal {
  return asProposal(
    resourceReplicasOrError(
      args.currentReplicas,
      args.targetUtilization,
      args.pods,
      args.usageMilli,
      args.requestMilli,
      args.isCpu,
      args.tolerances,
      args.now,
    ),
  );
}

/** calcPlainMetricReplicas: Pods metrics and Resource AverageValue targets, milli-units per pod. */
export function plainMetricReplicas(args: {
  currentReplicas: number;
  targetMilli: number;
  pods: readonly PodView[];
  valueMilli: readonly (number | undefined)[];
  isCpu: boolean;
  tolerances: Tolerances;
  now: number;
}): ReplicaProposal {
  return asProposal(
    plainReplicasOrError(
      args.currentReplicas,
      args.targetMilli,
      args.pods,
      args.valueMilli,
      args.isCpu,
      args.tolerances,
      args.now,
    ),
  );
}

/** External/Object with a Value target: ratio against the target, times the ready pods. */
export function externalValueReplicas(args: {
  currentReplicas: number;
  usageMilli: number;
  targetMilli: number;
  readyPodCount: number;
  tolerances: Tolerances;
}): number {
  const usageRatio = args.usageMilli / args.targetMilli;
  if (args.currentReplicas === 0) return Math.ceil(usageRatio);
  if (isWithinTolerance(usageRatio, args.tolerances)) return args.currentReplicas;
  return Math.ceil(usageRatio * args.readyPodCount);
}

/** External/Object with an AverageValue target: usage over (target x status.replicas), then usage / target. */
export function externalAverageValueReplicas(args: {
  statusReplicas: number;
  usageMilli: number;
  targetMilli: number;
  tolerances: Tolerances;
}): number {
  const usageRatio = args.usageMilli / (args.targetMilli * args.statusReplicas);
  if (isWithinTolerance(usageRatio, args.tolerances)) return args.statusReplicas;
  return Math.ceil(args.usageMilli / args.targetMilli);
}

// ---------------------------------------------------------------------------------------------
// Normalization: stabilization and rate limits

interface TimedValue {
  value: number;
  at: number;
}

/** Sum of the changes recorded strictly after now - period (getReplicasChangePerPeriod). */
function changeInPeriod(events: readonly TimedValue[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds;
  let total = 0;
  for (const event of events) if (event.at > cutoff) total += event.value;
  return total;
}

export function scaleUpLimit(
  currentReplicas: number,
  upEvents: readonly TimedValue[],
  downEvents: readonly TimedValue[],
  rules: ScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === "Disabled") return currentReplicas;
  const pick = rules.selectPolicy === "Min" ? Math.min : Math.max;
  let result = rules.selectPolicy === "Min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const policy of rules.policies) {
    const periodStart =
      currentReplicas -
      changeInPeriod(upEvents, policy.periodSeconds, now) +
      changeInPeriod(downEvents, policy.periodSeconds, now);
    const proposed =
      policy.type === "Pods" ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

export function scaleDownLimit(
  currentReplicas: number,
  upEvents: readonly TimedValue[],
  downEvents: readonly TimedValue[],
  rules: ScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === "Disabled") return currentReplicas;
  // For scale-down the smallest change is the largest replica count, hence the swap.
  const pick = rules.selectPolicy === "Min" ? Math.max : Math.min;
  let result = rules.selectPolicy === "Min" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const policy of rules.policies) {
    const periodStart =
      currentReplicas -
      changeInPeriod(upEvents, policy.periodSeconds, now) +
      changeInPeriod(downEvents, policy.periodSeconds, now);
    const proposed =
      policy.type === "Pods"
        ? periodStart - policy.value
        : Math.trunc(periodStart * (1 - policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The controller for one HPA

/** One metric's reading for a sync: per-pod samples (Resource, Pods) or one total (External, Object). */
export type MetricReading =
  | { kind: "perPod"; valuesMilli: readonly (number | undefined)[]; requestMilli?: number }
  | { kind: "total"; valueMilli: number }
  | { kind: "error"; message: string };

export interface SyncInput {
  now: number;
  /** scale.spec.replicas */
  specReplicas: number;
  /** scale.status.replicas: pods that exist, ready or not. */
  statusReplicas: number;
  pods: readonly PodView[];
  /** The reading of spec.metrics[index]. */
  readMetric: (metric: V2MetricSpec, index: number) => MetricReading;
}

export interface MetricProposal {
  metric: string;
  replicas?: number;
  error?: string;
}

const NO_PROPOSALS: MetricProposal[] = [];

export interface SyncDecision {
  currentReplicas: number;
  desiredReplicas: number;
  rescale: boolean;
  reason: string;
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
  const parsed = value === undefined ? undefined : parseQuantity(value);
  if (parsed === undefined || parsed <= 0)
    throw new HpaSpecError(field, `needs a positive quantity, got ${String(value)}`);
  return toMilli(parsed);
}

/** A metric spec turned into what the calculator needs, validated once. */
interface PreparedMetric {
  label: string;
  spec: V2MetricSpec;
  kind: "utilization" | "podAverage" | "value" | "averageValue";
  isCpu: boolean;
  /** Percent for utilization, milli-units otherwise. */
  target: number;
}

function prepareMetric(metric: V2MetricSpec, field: string): PreparedMetric {
  const label = metricLabel(metric);
  if (metric.type === "Resource" || metric.type === "ContainerResource") {
    const source = metric.type === "Resource" ? metric.resource : metric.containerResource;
    const sourceField = metric.type === "Resource" ? `${field}.resource` : `${field}.containerResource`;
    if (!source) throw new HpaSpecError(sourceField, "missing");
    const isCpu = source.name === "cpu";
    if (source.target.type === "Utilization") {
      const utilization = source.target.averageUtilization;
      if (utilization === undefined || !(utilization > 0)) {
        throw new HpaSpecError(`${sourceField}.target.averageUtilization`, "must be > 0");
      }
      return { label, spec: metric, kind: "utilization", isCpu, target: utilization };
    }
    if (source.target.type === "AverageValue") {
      const target = quantityMilli(source.target.averageValue, `${sourceField}.target.averageValue`);
      return { label, spec: metric, kind: "podAverage", isCpu, target };
    }
    throw new HpaSpecError(`${sourceField}.target.type`, `must be Utilization or AverageValue`);
  }
  if (metric.type === "Pods") {
    if (!metric.pods) throw new HpaSpecError(`${field}.pods`, "missing");
    const target = quantityMilli(metric.pods.target.averageValue, `${field}.pods.target.averageValue`);
    return { label, spec: metric, kind: "podAverage", isCpu: false, target };
  }
  if (metric.type === "External" || metric.type === "Object") {
    const source = metric.type === "External" ? metric.external : metric.object;
    const sourceField = metric.type === "External" ? `${field}.external` : `${field}.object`;
    if (!source) throw new HpaSpecError(sourceField, "missing");
    if (source.target.type === "Value") {
      const target = quantityMilli(source.target.value, `${sourceField}.target.value`);
      return { label, spec: metric, kind: "value", isCpu: false, target };
    }
    if (source.target.type === "AverageValue") {
      const target = quantityMilli(source.target.averageValue, `${sourceField}.target.averageValue`);
      return { label, spec: metric, kind: "averageValue", isCpu: false, target };
    }
    throw new HpaSpecError(`${sourceField}.target.type`, "must be Value or AverageValue");
  }
  throw new HpaSpecError(`${field}.type`, `unsupported metric type ${metric.type}`);
}

/**
 * One HPA as the controller holds it in memory: the recommendation history and the scale events
 * live here, exactly as they live only in kube-controller-manager's memory.
 */
export class HorizontalPodAutoscalerController {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly behavior: NormalizedBehavior | undefined;
  readonly tolerances: Tolerances;
  private readonly metrics: PreparedMetric[];
  private recommendations: TimedValue[] | undefined;
  private readonly upEvents: TimedValue[] = [];
  private readonly downEvents: TimedValue[] = [];
  private readonly proposals: MetricProposal[];
  private readonly decision: SyncDecision = {
    currentReplicas: 0,
    desiredReplicas: 0,
    rescale: false,
    reason: "",
    proposals: [],
  };

  constructor(hpa: V2HorizontalPodAutoscaler) {
    const spec = hpa.spec;
    if (!spec) throw new HpaSpecError("spec", "missing");
    this.minReplicas = spec.minReplicas ?? 1;
    this.maxReplicas = spec.maxReplicas;
    if (!Number.isInteger(this.maxReplicas) || this.maxReplicas < 1) {
      throw new HpaSpecError("spec.maxReplicas", "must be an integer >= 1");
    }
    if (!Number.isInteger(this.minReplicas) || this.minReplicas < 0 || this.minReplicas > this.maxReplicas) {
      throw new HpaSpecError("spec.minReplicas", "must be an integer between 0 and maxReplicas");
    }
    const metricSpecs = [...(spec.metrics ?? [])];
    if (metricSpecs.length === 0) {
      // The API server defaults an HPA without metrics to 80 % CPU utilization.
      metricSpecs.push({
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
      });
    }
    this.metrics = metricSpecs.map((metric, index) => prepareMetric(metric, `spec.metrics[${index}]`));
    this.proposals = this.metrics.map((metric): MetricProposal => ({ metric: metric.label }));
    this.behavior = normalizeBehavior(spec.behavior);
    this.tolerances = tolerancesOf(spec.behavior);
  }

  get metricLabels(): string[] {
    return this.metrics.map((metric) => metric.label);
  }

  /**
   * One reconcileAutoscaler pass. The caller writes desiredReplicas when rescale is true. The
   * decision object and its proposals are reused by this controller's next sync: read them first.
   */
  sync(input: SyncInput): Readonly<SyncDecision> {
    const currentReplicas = input.specReplicas;
    this.recommendations ??= [{ value: currentReplicas, at: input.now }];
    const decision = this.decision;
    decision.currentReplicas = currentReplicas;
    if (currentReplicas === 0 && this.minReplicas !== 0) {
      return this.decide(currentReplicas, 0, false, "ScalingDisabled", NO_PROPOSALS, input.now);
    }
    if (currentReplicas > this.maxReplicas) {
      return this.decide(
        currentReplicas,
        this.maxReplicas,
        true,
        "above maxReplicas",
        NO_PROPOSALS,
        input.now,
      );
    }
    if (currentReplicas < this.minReplicas) {
      return this.decide(
        currentReplicas,
        this.minReplicas,
        true,
        "below minReplicas",
        NO_PROPOSALS,
        input.now,
      );
    }
    const proposals = this.proposals;
    let best = -1;
    let invalid = 0;
    let bestLabel = "";
    for (let index = 0; index < this.metrics.length; index++) {
      const metric = this.metrics[index];
      const proposal = proposals[index];
      if (!metric || !proposal) continue;
      this.propose(metric, index, input, proposal);
      if (proposal.replicas === undefined) invalid++;
      else if (proposal.replicas > best) {
        best = proposal.replicas;
        bestLabel = proposal.metric;
      }
    }
    if (invalid >= proposals.length || (invalid > 0 && best < currentReplicas)) {
      return this.decide(
        currentReplicas,
        currentReplicas,
        false,
        "metrics unavailable",
        proposals,
        input.now,
      );
    }
    const desired = this.behavior
      ? this.normalizeWithBehavior(currentReplicas, best, input.now, this.behavior)
      : this.normalizeWithoutBehavior(currentReplicas, best, input.now);
    const rescale = desired !== currentReplicas;
    return this.decide(
      currentReplicas,
      desired,
      rescale,
      rescale ? bestLabel : "within target",
      proposals,
      input.now,
    );
  }

  private decide(
    currentReplicas: number,
    desiredReplicas: number,
    rescale: boolean,
    reason: string,
    proposals: MetricProposal[],
    now: number,
  ): Readonly<SyncDecision> {
    const decision = this.decision;
    decision.currentReplicas = currentReplicas;
    decision.desiredReplicas = desiredReplicas;
    decision.rescale = rescale;
    decision.reason = reason;
    decision.proposals = proposals;
    if (rescale) this.storeScaleEvent(currentReplicas, desiredReplicas, now);
    return decision;
  }

  /** Fills `proposal` with this metric's replica count or its error. */
  private propose(metric: PreparedMetric, index: number, input: SyncInput, proposal: MetricProposal): void {
    const reading = input.readMetric(metric.spec, index);
    proposal.replicas = undefined;
    proposal.error = undefined;
    if (reading.kind === "error") {
      proposal.error = reading.message;
      return;
    }
    const currentReplicas = input.specReplicas;
    let result: number | string;
    if (metric.kind === "utilization" || metric.kind === "podAverage") {
      if (reading.kind !== "perPod") {
        proposal.error = "expected per-pod samples";
        return;
      }
      result =
        metric.kind === "utilization"
          ? resourceReplicasOrError(
              currentReplicas,
              metric.target,
              input.pods,
              reading.valuesMilli,
              reading.requestMilli ?? 0,
              metric.isCpu,
              this.tolerances,
              input.now,
            )
          : plainReplicasOrError(
              currentReplicas,
              metric.target,
              input.pods,
              reading.valuesMilli,
              metric.isCpu,
              this.tolerances,
              input.now,
            );
    } else {
      if (reading.kind !== "total") {
        proposal.error = "expected one total";
        return;
      }
      if (metric.kind === "value") {
        let readyPodCount = 0;
        for (const pod of input.pods) if (pod.phase === "Running" && pod.ready) readyPodCount++;
        result = externalValueReplicas({
          currentReplicas,
          usageMilli: reading.valueMilli,
          targetMilli: metric.target,
          readyPodCount,
          tolerances: this.tolerances,
        });
      } else {
        result = externalAverageValueReplicas({
          statusReplicas: input.statusReplicas,
          usageMilli: reading.valueMilli,
          targetMilli: metric.target,
          tolerances: this.tolerances,
        });
      }
    }
    if (typeof result === "number") proposal.replicas = result;
    else proposal.error = result;
  }

  /** No behavior: 5 minute downscale stabilization, then clamp to [min, min(max, max(2x, 4))]. */
  private normalizeWithoutBehavior(currentReplicas: number, desired: number, now: number): number {
    const history = this.recommendations ?? [];
    const cutoff = now - HPA_CONTROLLER_DEFAULTS.downscaleStabilizationSeconds;
    let stabilized = desired;
    let oldIndex = -1;
    for (let index = 0; index < history.length; index++) {
      const recommendation = history[index];
      if (!recommendation) continue;
      if (recommendation.at < cutoff) oldIndex = index;
      else if (recommendation.value > stabilized) stabilized = recommendation.value;
    }
    const oldRecord = oldIndex >= 0 ? history[oldIndex] : undefined;
    if (oldRecord) {
      oldRecord.value = desired;
      oldRecord.at = now;
    } else history.push({ value: desired, at: now });
    const scaleUpCap = Math.max(
      HPA_CONTROLLER_DEFAULTS.scaleUpLimitFactor * currentReplicas,
      HPA_CONTROLLER_DEFAULTS.scaleUpLimitMinimum,
    );
    const maximumAllowed = Math.min(this.maxReplicas, scaleUpCap);
    if (stabilized < this.minReplicas) return this.minReplicas;
    if (stabilized > maximumAllowed) return maximumAllowed;
    return stabilized;
  }

  private normalizeWithBehavior(
    currentReplicas: number,
    desired: number,
    now: number,
    behavior: NormalizedBehavior,
  ): number {
    const history = this.recommendations ?? [];
    const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds;
    const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds;
    let upRecommendation = desired;
    let downRecommendation = desired;
    let oldIndex = -1;
    history.forEach((recommendation, index) => {
      if (recommendation.at > upCutoff) upRecommendation = Math.min(recommendation.value, upRecommendation);
      if (recommendation.at > downCutoff)
        downRecommendation = Math.max(recommendation.value, downRecommendation);
      if (recommendation.at < upCutoff && recommendation.at < downCutoff) oldIndex = index;
    });
    let stabilized = currentReplicas;
    if (stabilized < upRecommendation) stabilized = upRecommendation;
    if (stabilized > downRecommendation) stabilized = downRecommendation;
    const oldRecord = oldIndex >= 0 ? history[oldIndex] : undefined;
    if (oldRecord) {
      oldRecord.value = desired;
      oldRecord.at = now;
    } else history.push({ value: desired, at: now });

    if (stabilized > currentReplicas) {
      let limit = scaleUpLimit(currentReplicas, this.upEvents, this.downEvents, behavior.scaleUp, now);
      if (limit < currentReplicas) limit = currentReplicas;
      const maximumAllowed = Math.min(this.maxReplicas, limit);
      return Math.min(stabilized, maximumAllowed);
    }
    if (stabilized < currentReplicas) {
      let limit = scaleDownLimit(currentReplicas, this.upEvents, this.downEvents, behavior.scaleDown, now);
      if (limit > currentReplicas) limit = currentReplicas;
      const minimumAllowed = Math.max(this.minReplicas, limit);
      return Math.max(stabilized, minimumAllowed);
    }
    return stabilized;
  }

  /** Scale events count only with a behavior, and only those within the longest policy period matter. */
  private storeScaleEvent(previous: number, next: number, now: number): void {
    if (!this.behavior) return;
    const rules = next > previous ? this.behavior.scaleUp : this.behavior.scaleDown;
    const events = next > previous ? this.upEvents : this.downEvents;
    let longestPeriod = 0;
    for (const policy of rules.policies) longestPeriod = Math.max(longestPeriod, policy.periodSeconds);
    // Reuse an outdated record, as the controller does, so the list stays as short as the longest period.
    const change = Math.abs(next - previous);
    const outdated = events.find((event) => event.at <= now - longestPeriod);
    if (outdated) {
      outdated.value = change;
      outdated.at = now;
    } else events.push({ value: change, at: now });
  }
}
