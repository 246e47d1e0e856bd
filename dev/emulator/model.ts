// The workload emulator's pure part: from a policy, its pods as the API server reports them, the load
// and the broker's answers, what the pods serve and consume, what each one reports to Prometheus, and
// the CPU and memory usage KWOK should report for it. No I/O here: emulator.ts feeds it.
import { z } from "zod";
import type { MLAutoscalePolicy } from "../../src/api/v1alpha1/index.js";
import { POLICY_LABEL } from "../../src/controllers/mlautoscalepolicy/desired/metadata.js";
import type { DeepReadonly, KubeObject, ObjectMeta } from "../../src/runtime/object.js";
import { quantityValue } from "../../src/runtime/quantity.js";
import { ENGINES, type SeriesRef, type ServerEngine } from "../../src/model-servers/engines.js";
import { DEFAULT_SERVER_CONCURRENCY, serverSignalValue } from "../../src/simulate/llm.js";
import { PROMQL_WORDS, signalFromText, type Signal } from "../../src/simulate/signals.js";
import { DEFAULT_OPTIONS, DEFAULT_REQUEST_TIMEOUT_SECONDS } from "../../src/simulate/simulate.js";
import { Workload, type WorkloadParameters } from "../../src/simulate/workload.js";

// ---------------------------------------------------------------------------------------------------
// parameters

export interface EmulatorParameters {
  /** Requests (messages) per second one Ready pod completes when busy. */
  serviceRatePerReplica: number;
  /** An HTTP request still queued after this long is dropped (the client gave up). */
  requestTimeoutSeconds: number;
  /** Latency objective, for the served/late counts. */
  latencySloSeconds: number;
  /** Memory use of a running pod, percent of its memory request: flat, the model's weights dominate. */
  memoryUtilizationPercent: number;
  /** GPU utilization of a fully busy pod, percent. */
  gpuUtilizationAtFullLoad: number;
  /** CPU of an idle pod (health checks, the server's own loop), as a fraction of its CPU request. */
  idleCpuFraction: number;
  /** Requests one LLM server replica runs at once when busy (its full batch). */
  serverConcurrency: number;
}

/** The simulator's defaults, so that `simulate` and the live cluster describe the same workload. */
export const DEFAULT_PARAMETERS: Readonly<EmulatorParameters> = {
  serviceRatePerReplica: DEFAULT_OPTIONS.serviceRatePerReplica,
  requestTimeoutSeconds: DEFAULT_REQUEST_TIMEOUT_SECONDS,
  latencySloSeconds: DEFAULT_OPTIONS.latencySloSeconds,
  memoryUtilizationPercent: DEFAULT_OPTIONS.memoryUtilizationPercent,
  gpuUtilizationAtFullLoad: 100,
  idleCpuFraction: 0.02,
  serverConcurrency: DEFAULT_SERVER_CONCURRENCY,
};

/** A pod with neither a CPU request nor a limit is taken to have one core, as the simulator does. */
export const DEFAULT_CPU_BASE_MILLI = 1000;

// ---------------------------------------------------------------------------------------------------
// sources of work

export type WorkSource =
  | { type: "http" }
  | { type: "rabbitmq"; queueName: string }
  | { type: "aws-sqs-queue"; queueURL: string; awsRegion: string }
  | { type: "kafka"; topic: string; consumerGroup: string; partitions: number };

export type BrokerSource = Exclude<WorkSource, { type: "http" }>;

export function isBrokerSource(source: WorkSource): source is BrokerSource {
  return source.type !== "http";
}

/** Equal sources share a connection: a change of any field means a new one. */
export function sourceKey(source: WorkSource): string {
  return JSON.stringify(source);
}

/**
 * The first queue trigger of the policy that the emulator can serve, else HTTP load in memory. A
 * Kafka topic made by the emulator gets one partition per replica the policy may run: KEDA's scaler
 * runs at most one replica per partition.
 */
export function sourceFromPolicy(policy: MLAutoscalePolicy): WorkSource {
  for (const trigger of policy.spec.scaling.triggers ?? []) {
    const metadata = trigger.metadata;
    if (trigger.type === "rabbitmq" && metadata.queueName) {
      return { type: "rabbitmq", queueName: metadata.queueName };
    }
    if (trigger.type === "aws-sqs-queue" && metadata.queueURL) {
      return {
        type: "aws-sqs-queue",
        queueURL: metadata.queueURL,
        awsRegion: metadata.awsRegion ?? "us-east-1",
      };
    }
    if (
      (trigger.type === "kafka" || trigger.type === "apache-kafka") &&
      metadata.topic &&
      metadata.consumerGroup
    ) {
      return {
        type: "kafka",
        topic: metadata.topic,
        consumerGroup: metadata.consumerGroup,
        partitions: Math.max(1, policy.spec.replicas.max),
      };
    }
  }
  return { type: "http" };
}

// ---------------------------------------------------------------------------------------------------
// the series each pod publishes

export const QUEUE_METRIC = "inference_queue_depth";
export const RPS_METRIC = "requests_per_second";
export const GPU_METRIC = "DCGM_FI_DEV_GPU_UTIL";

export interface SeriesSpec {
  name: string;
  signal: Signal;
  /**
   * Labels besides namespace and pod: the selectors of the policy's external metrics of this name, or the
   * labels that pick an LLM server's series out of its family.
   */
  labels: Readonly<Record<string, string>>;
  /** One series per GPU (label gpu), as the DCGM exporter publishes; otherwise one per pod. */
  perGpu: boolean;
  /** The value is the signal's times this (KV-cache percent as the engine's fraction, or in tokens). */
  scale?: number;
  /** The value is this, whatever the load (a capacity). */
  constant?: number;
}

/** A series of the whole workload, not of a pod: the queue upstream of an LLM server (a gateway's). */
export interface WorkloadSeriesSpec {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface SeriesPlan {
  series: SeriesSpec[];
  /** The series the policy's activation query reads, when it has one the emulator can publish. */
  upstream: WorkloadSeriesSpec[];
  /** Metrics of the policy the emulator cannot publish, with why: for one log line at discovery. */
  skipped: string[];
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const RESERVED_LABELS = new Set(["namespace", "pod", "gpu", "job", "instance"]);

/**
 * The three series every model server publishes, plus one per metric the policy names otherwise, each
 * carrying the selector labels of the policy's external metrics of that name: an external metric
 * `requests_per_second{service="hybrid-ml"}` must find the pods' own requests_per_second series, not a
 * second copy (which the per-pod sums would count twice).
 */
export function seriesFromPolicy(policy: MLAutoscalePolicy): SeriesPlan {
  const byName = new Map<string, SeriesSpec>();
  const skipped: string[] = [];
  const add = (name: string, signal: Signal, labels: Readonly<Record<string, string>> = {}): void => {
    if (!METRIC_NAME.test(name)) {
      skipped.push(`${name}: not a Prometheus metric name`);
      return;
    }
    const spec = byName.get(name) ?? { name, signal, labels: {}, perGpu: name === GPU_METRIC };
    const merged: Record<string, string> = { ...spec.labels };
    for (const [label, value] of Object.entries(labels)) {
      if (!LABEL_NAME.test(label) || RESERVED_LABELS.has(label)) {
        skipped.push(`${name}: selector label ${label} cannot be a Prometheus label of its series`);
      } else merged[label] = value;
    }
    byName.set(name, { ...spec, labels: merged });
  };
  add(QUEUE_METRIC, "queue");
  add(RPS_METRIC, "rps");
  add(GPU_METRIC, "gpu");
  const metrics = policy.spec.scaling.metrics;
  if (metrics.queueDepth) add(metrics.queueDepth.metricName, "queue");
  if (metrics.gpuUtilization) add(metrics.gpuUtilization.metricName, "gpu");
  for (const external of metrics.external ?? []) {
    const signal = byName.get(external.metricName)?.signal ?? signalFromText(external.metricName);
    if (signal === undefined) {
      skipped.push(`${external.metricName}: cannot tell whether it is a queue, a request rate or GPU use`);
      continue;
    }
    add(external.metricName, signal, external.selector ?? {});
  }
  const upstream: WorkloadSeriesSpec[] = [];
  const activation = metrics.server?.activation;
  if (activation !== undefined) {
    const selector = firstSelector(activation.query);
    if (selector === undefined) skipped.push(`activation query names no metric: ${activation.query}`);
    else upstream.push(selector);
  }
  const server =
    metrics.server === undefined ? [] : serverSeries(metrics.server.engine, metrics.server.modelName);
  return { series: [...byName.values(), ...server], upstream, skipped };
}

/** Tokens an emulated TGI replica's KV cache holds (the capacity its KV-cache ratio divides by). */
export const EMULATED_KV_CACHE_TOKENS = 100_000;

/**
 * The series an LLM server of `engine` exports, under its current names (the first of each in the engine
 * table), with the labels that pick them out and the served model's label.
 */
export function serverSeries(engine: ServerEngine, modelName = "model"): SeriesSpec[] {
  const table = ENGINES[engine];
  const model = table.modelLabel === undefined ? {} : { [table.modelLabel]: modelName };
  const spec = (ref: SeriesRef, signal: Signal, value: Pick<SeriesSpec, "scale" | "constant"> = {}) => ({
    name: ref.name,
    signal,
    labels: { ...ref.labels, ...model },
    perGpu: false,
    ...value,
  });
  const out: SeriesSpec[] = [];
  const [waiting] = table.waiting;
  const [running] = table.running;
  const [kvCache] = table.kvCache;
  if (waiting !== undefined) out.push(spec(waiting, "waiting"));
  if (running !== undefined) out.push(spec(running, "running"));
  if (kvCache !== undefined && "gauge" in kvCache) out.push(spec(kvCache.gauge, "kvCache", { scale: 0.01 }));
  else if (kvCache !== undefined) {
    out.push(spec(kvCache.used, "kvCache", { scale: EMULATED_KV_CACHE_TOKENS / 100 }));
    out.push(spec(kvCache.capacity, "kvCache", { constant: EMULATED_KV_CACHE_TOKENS }));
  }
  return out;
}

/**
 * Words that are not metric names where they stand: PromQL's, and the aggregations, which a `by (...)`
 * may separate from their parenthesis.
 */
const NOT_METRIC_NAMES = new Set([
  ...PROMQL_WORDS,
  ...["sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk"],
  ...["quantile", "limitk", "limit_ratio"],
]);

/**
 * The first series a PromQL query reads: the metric name and the labels its equality matchers give
 * (the emulator publishes that series for the query to find). Undefined when it names none.
 */
export function firstSelector(query: string): WorkloadSeriesSpec | undefined {
  // Label lists (by (...), on (...)) and strings are skipped whole; a name is a metric unless a call follows.
  const tokens =
    /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)|"(?:[^"\\]|\\.)*"|(?<![a-zA-Z0-9_:])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\(|\{[^}]*\})?/g;
  for (const match of query.matchAll(tokens)) {
    const [, name, next] = match;
    if (name === undefined || next === "(" || NOT_METRIC_NAMES.has(name)) continue;
    const labels: Record<string, string> = {};
    for (const matcher of (next ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)) {
      const [, label = "", value = ""] = matcher;
      labels[label] = value.replace(/\\(.)/g, "$1");
    }
    return { name, labels };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// pods

/** A pod as the API server sends it (JSON: times are strings). */
export interface PodObject extends KubeObject {
  metadata?: ObjectMeta & { creationTimestamp?: string };
  spec?: {
    containers?: ReadonlyArray<{
      name?: string;
      resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    }>;
  };
  status?: {
    phase?: string;
    startTime?: string;
    conditions?: ReadonlyArray<{ type?: string; status?: string; lastTransitionTime?: string }>;
  };
}

export interface PodState {
  namespace: string;
  name: string;
  /** The policy named by its mlautoscale.io/policy label. */
  policy: string;
  /** Seconds since the epoch. */
  createdAt: number;
  /** When its containers started; undefined while Pending. */
  startedAt: number | undefined;
  /** When it became Ready; undefined unless Ready now and not being deleted. */
  readyAt: number | undefined;
  deleting: boolean;
  gpus: number;
  containers: number;
  /** Sum of the containers' CPU requests (a container's limit where it has no request). */
  cpuBaseMilli: number | undefined;
  memoryBaseBytes: number | undefined;
  /** The usage annotations as they are on the pod. */
  usageCpu: string | undefined;
  usageMemory: string | undefined;
}

export const USAGE_CPU_ANNOTATION = "kwok.x-k8s.io/usage-cpu";
export const USAGE_MEMORY_ANNOTATION = "kwok.x-k8s.io/usage-memory";

const GPU_RESOURCE = /(^|[./])gpu$/;

function seconds(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

export function podStateOf(pod: DeepReadonly<PodObject>, now: number): PodState {
  const metadata = pod.metadata ?? {};
  const deleting = metadata.deletionTimestamp !== undefined && metadata.deletionTimestamp !== null;
  let gpus = 0;
  let cpuMilli: number | undefined;
  let memoryBytes: number | undefined;
  const containers = pod.spec?.containers ?? [];
  for (const container of containers) {
    const requests = container.resources?.requests ?? {};
    const limits = container.resources?.limits ?? {};
    for (const [name, amount] of Object.entries({ ...requests, ...limits })) {
      if (GPU_RESOURCE.test(name)) gpus += quantityValue(amount) ?? 0;
    }
    const cpu = quantityValue(requests.cpu ?? limits.cpu ?? "");
    const memory = quantityValue(requests.memory ?? limits.memory ?? "");
    if (cpu !== undefined) cpuMilli = (cpuMilli ?? 0) + cpu * 1000;
    if (memory !== undefined) memoryBytes = (memoryBytes ?? 0) + memory;
  }
  const ready = pod.status?.conditions?.find((condition) => condition.type === "Ready");
  const isReady = ready?.status === "True" && !deleting;
  return {
    namespace: metadata.namespace ?? "",
    name: metadata.name ?? "",
    policy: metadata.labels?.[POLICY_LABEL] ?? "",
    createdAt: seconds(metadata.creationTimestamp) ?? now,
    startedAt: seconds(pod.status?.startTime),
    readyAt: isReady ? (seconds(ready.lastTransitionTime) ?? now) : undefined,
    deleting,
    gpus: Math.round(gpus),
    containers: Math.max(1, containers.length),
    cpuBaseMilli: cpuMilli,
    memoryBaseBytes: memoryBytes,
    usageCpu: metadata.annotations?.[USAGE_CPU_ANNOTATION],
    usageMemory: metadata.annotations?.[USAGE_MEMORY_ANNOTATION],
  };
}

export function isReady(pod: PodState): boolean {
  return pod.readyAt !== undefined;
}

// ---------------------------------------------------------------------------------------------------
// serving

/** What the workload did over the last tick (HTTP) or broker cycle. */
export interface WorkloadActivity {
  readyPods: number;
  /** Requests (messages) that arrived per second. */
  arrivalRate: number;
  /** Served over capacity, 0..1: the share of the time the Ready pods were working. */
  busy: number;
  /** HTTP: requests queued in front of the pods. Broker: messages waiting in the broker. */
  queue: number;
  served: number;
  dropped: number;
}

export const IDLE_ACTIVITY: Readonly<WorkloadActivity> = {
  readyPods: 0,
  arrivalRate: 0,
  busy: 0,
  queue: 0,
  served: 0,
  dropped: 0,
};

function workloadParameters(params: EmulatorParameters): WorkloadParameters {
  return {
    serviceRatePerReplica: params.serviceRatePerReplica,
    requestTimeoutSeconds: params.requestTimeoutSeconds,
    latencySloSeconds: params.latencySloSeconds,
    memoryUtilizationPercent: params.memoryUtilizationPercent,
    // KWOK plays scheduling and model loading; the pods' own times come from the API server.
    modelLoadSeconds: 0,
    schedulingDelaySeconds: 0,
    gpusPerReplica: 0,
    gpuPricePerHour: 0,
  };
}

/**
 * HTTP-style load: requests held in memory in front of the pods, in the simulator's queueing model
 * (`Workload`), whose pods are the real ones: Ready time from their status, never Ready while not.
 */
export class HttpLoad {
  private readonly workload: Workload;
  /** Steady arrival rate, requests per second. */
  rps = 0;
  private pendingArrivals = 0;

  constructor(params: EmulatorParameters) {
    this.workload = new Workload(workloadParameters(params));
  }

  setParameters(params: EmulatorParameters): void {
    Object.assign(this.workload.params, workloadParameters(params));
  }

  /** `count` requests arrive now (served from the next tick on). */
  arrive(count: number): void {
    this.pendingArrivals += count;
  }

  get queueDepth(): number {
    return this.workload.queueDepth;
  }

  /** Runs the queue over [now, now + dt) with the given pods. */
  step(now: number, dt: number, pods: readonly PodState[]): WorkloadActivity {
    this.workload.replacePods(
      pods.map((pod) => ({
        createdAt: pod.createdAt,
        startedAt: pod.startedAt ?? Infinity,
        readyAt: pod.readyAt ?? Infinity,
      })),
    );
    const arrivals = this.pendingArrivals + this.rps * dt;
    this.pendingArrivals = 0;
    const result = this.workload.serve(now, dt, arrivals);
    return {
      readyPods: pods.filter(isReady).length,
      arrivalRate: dt > 0 ? arrivals / dt : 0,
      busy: result.capacity > 0 ? Math.min(1, result.served / result.capacity) : 0,
      queue: this.workload.queueDepth,
      served: result.served,
      dropped: result.dropped,
    };
  }
}

export interface ConsumptionPlan {
  /** Whole messages to take from the broker now. */
  take: number;
  /** Capacity of the cycle in messages, the fraction carried from earlier cycles included. */
  budget: number;
  dt: number;
  readyPods: number;
}

/**
 * Consumption from a broker: the Ready pods' capacity over the cycle, in whole messages, with the
 * fraction of a message left over carried to the next cycle (a slow worker finishes a message over
 * several ticks). The arrival rate is estimated from the change in depth plus what was consumed.
 */
export class BrokerConsumption {
  private carry = 0;
  private lastDepth: number | undefined;

  plan(readyPods: number, serviceRatePerReplica: number, dt: number): ConsumptionPlan {
    const budget = readyPods > 0 ? this.carry + readyPods * serviceRatePerReplica * Math.max(0, dt) : 0;
    if (readyPods === 0) this.carry = 0;
    // The epsilon keeps 0.1 + 0.2 + ... from landing a hair below a whole message.
    return { take: Math.floor(budget + 1e-9), budget, dt, readyPods };
  }

  settle(plan: ConsumptionPlan, consumed: number, depthAfter: number): WorkloadActivity {
    const backlog = consumed >= plan.take && depthAfter > 0;
    // With work left the pods were busy all along, and the part of a message in progress carries over;
    // a broker that ran dry leaves them idle for the rest of the cycle, with nothing in progress.
    this.carry = backlog ? Math.max(0, plan.budget - plan.take) : 0;
    const busy =
      plan.readyPods === 0 ? 0 : backlog ? 1 : plan.budget > 0 ? Math.min(1, consumed / plan.budget) : 0;
    const arrived = this.lastDepth === undefined ? 0 : Math.max(0, depthAfter - this.lastDepth + consumed);
    this.lastDepth = depthAfter;
    return {
      readyPods: plan.readyPods,
      arrivalRate: plan.dt > 0 ? arrived / plan.dt : 0,
      busy,
      queue: depthAfter,
      served: consumed,
      dropped: 0,
    };
  }

  /** The broker was unreachable: nothing consumed, no estimate of arrivals across the gap. */
  fail(): void {
    this.carry = 0;
    this.lastDepth = undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// metrics

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** The value of each signal for one Ready pod. */
export function podSignals(
  source: WorkSource,
  activity: WorkloadActivity,
  params: EmulatorParameters,
): Record<Signal, number> {
  const ready = Math.max(1, activity.readyPods);
  // An LLM server's signals, by the simulator's model of them (src/simulate/llm.ts).
  const server = (signal: "waiting" | "running" | "kvCache" | "upstream"): number =>
    serverSignalValue(
      signal,
      activity.queue,
      activity.busy,
      activity.readyPods,
      params.serverConcurrency,
      true,
    );
  return {
    // A model server's queue gauge counts the requests waiting for it; a worker holds the message it
    // is working on (one at a time, the simulator's assumption) while the rest wait in the broker.
    queue: isBrokerSource(source) ? activity.busy : activity.queue / ready,
    rps: activity.arrivalRate / ready,
    gpu: activity.busy * params.gpuUtilizationAtFullLoad,
    waiting: server("waiting"),
    running: server("running"),
    kvCache: server("kvCache"),
    upstream: server("upstream"),
  };
}

/** The series of one workload's pods: Ready pods only, since a loading model server serves no metrics. */
export function podSamples(
  series: readonly SeriesSpec[],
  pods: readonly PodState[],
  signals: Readonly<Record<Signal, number>>,
): Sample[] {
  const samples: Sample[] = [];
  for (const pod of pods) {
    if (!isReady(pod)) continue;
    for (const spec of series) {
      const value = spec.constant ?? signals[spec.signal] * (spec.scale ?? 1);
      const labels = { namespace: pod.namespace, pod: pod.name, ...spec.labels };
      if (spec.signal === "gpu" && pod.gpus === 0) continue;
      if (spec.perGpu) {
        for (let gpu = 0; gpu < pod.gpus; gpu++) {
          samples.push({ name: spec.name, labels: { ...labels, gpu: String(gpu) }, value });
        }
      } else samples.push({ name: spec.name, labels, value });
    }
  }
  return samples;
}

/**
 * The workload's own series (the queue upstream of an LLM server), in its namespace: one sample per
 * series, whatever its pods.
 */
export function workloadSamples(
  series: readonly WorkloadSeriesSpec[],
  namespace: string,
  signals: Readonly<Record<Signal, number>>,
): Sample[] {
  return series.map((spec) => ({
    name: spec.name,
    labels: { namespace, ...spec.labels },
    value: signals.upstream,
  }));
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  return String(Math.round(value * 1e6) / 1e6);
}

/** Prometheus text exposition format: each metric's samples together, under one TYPE line. */
export function renderPrometheus(samples: readonly Sample[]): string {
  const byName = new Map<string, Sample[]>();
  for (const sample of samples) {
    const group = byName.get(sample.name);
    if (group) group.push(sample);
    else byName.set(sample.name, [sample]);
  }
  const lines: string[] = [];
  for (const [name, group] of byName) {
    lines.push(`# TYPE ${name} gauge`);
    for (const sample of group) {
      const labels = Object.entries(sample.labels)
        .map(([label, value]) => `${label}="${escapeLabelValue(value)}"`)
        .join(",");
      lines.push(`${name}{${labels}} ${formatValue(sample.value)}`);
    }
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

// ---------------------------------------------------------------------------------------------------
// CPU and memory usage, for KWOK's kubelet metrics

export interface PodUsage {
  cpuMilli: number;
  memoryBytes: number | undefined;
}

/**
 * What the pod uses: CPU is the idle baseline plus the busy share of its CPU request; memory a flat
 * share of its memory request. A pod that has not started uses nothing (KWOK reports none for it).
 */
export function podUsage(pod: PodState, busy: number, params: EmulatorParameters): PodUsage | undefined {
  if (pod.startedAt === undefined || pod.deleting) return undefined;
  const cpuBase = pod.cpuBaseMilli ?? DEFAULT_CPU_BASE_MILLI;
  const working = isReady(pod) ? Math.min(1, Math.max(0, busy)) : 0;
  return {
    cpuMilli: cpuBase * (params.idleCpuFraction + working),
    memoryBytes:
      pod.memoryBaseBytes === undefined
        ? undefined
        : (pod.memoryBaseBytes * params.memoryUtilizationPercent) / 100,
  };
}

/** A change smaller than this share of the request is not worth a write (the HPA's tolerance is 10 %). */
export const USAGE_CHANGE_FRACTION = 0.03;
/** At most one write per pod per this many seconds: metrics-server reads the kubelets every 15 s. */
export const MIN_PATCH_INTERVAL_SECONDS = 5;

const MEBIBYTE = 2 ** 20;

/**
 * The annotations to write for `usage`, or undefined when what the pod shows is close enough. KWOK
 * applies a pod's usage annotations to each of its containers: the values written are per container.
 */
export function usagePatch(
  pod: PodState,
  usage: PodUsage,
  lastPatchAt: number | undefined,
  now: number,
): Record<string, string> | undefined {
  const patch: Record<string, string> = {};
  const cpuMilli = Math.max(1, Math.round(usage.cpuMilli / pod.containers));
  const currentCpu = pod.usageCpu === undefined ? undefined : quantityValue(pod.usageCpu);
  const cpuTolerance =
    ((pod.cpuBaseMilli ?? DEFAULT_CPU_BASE_MILLI) / pod.containers) * USAGE_CHANGE_FRACTION;
  if (currentCpu === undefined || Math.abs(currentCpu * 1000 - cpuMilli) > Math.max(1, cpuTolerance)) {
    patch[USAGE_CPU_ANNOTATION] = `${cpuMilli}m`;
  }
  if (usage.memoryBytes !== undefined) {
    const memoryMi = Math.max(1, Math.round(usage.memoryBytes / pod.containers / MEBIBYTE));
    const currentMemory = pod.usageMemory === undefined ? undefined : quantityValue(pod.usageMemory);
    const memoryTolerance = ((pod.memoryBaseBytes ?? 0) / pod.containers / MEBIBYTE) * USAGE_CHANGE_FRACTION;
    if (
      currentMemory === undefined ||
      Math.abs(currentMemory / MEBIBYTE - memoryMi) > Math.max(1, memoryTolerance)
    ) {
      patch[USAGE_MEMORY_ANNOTATION] = `${memoryMi}Mi`;
    }
  }
  if (Object.keys(patch).length === 0) return undefined;
  // A pod that shows no usage yet is written at once; otherwise writes are spaced out.
  const firstWrite =
    pod.usageCpu === undefined || (usage.memoryBytes !== undefined && pod.usageMemory === undefined);
  if (!firstWrite && lastPatchAt !== undefined && now - lastPatchAt < MIN_PATCH_INTERVAL_SECONDS)
    return undefined;
  return patch;
}

// ---------------------------------------------------------------------------------------------------
// overrides (PUT /v1/workloads/{namespace}/{policy})

const SourceSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("http") }),
  z.strictObject({ type: z.literal("rabbitmq"), queueName: z.string().min(1) }),
  z.strictObject({
    type: z.literal("aws-sqs-queue"),
    queueURL: z.url(),
    awsRegion: z.string().min(1).default("us-east-1"),
  }),
  z.strictObject({
    type: z.literal("kafka"),
    topic: z.string().min(1),
    consumerGroup: z.string().min(1),
    partitions: z.number().int().min(1).max(1000).default(1),
  }),
]);

const positive = z.number().positive("must be > 0").finite();

/** Every field is optional; null goes back to the default (the policy's source, the simulator's value). */
export const OverrideSchema = z.strictObject({
  // 0: workers that take nothing (stalled, or held by a test so that the backlog stays where it is).
  serviceRatePerReplica: z.number().min(0, "must be >= 0").finite().nullable().optional(),
  requestTimeoutSeconds: positive.nullable().optional(),
  latencySloSeconds: positive.nullable().optional(),
  memoryUtilizationPercent: z.number().min(0).max(1000).nullable().optional(),
  gpuUtilizationAtFullLoad: z.number().min(0).max(100).nullable().optional(),
  idleCpuFraction: z.number().min(0).max(1).nullable().optional(),
  serverConcurrency: positive.nullable().optional(),
  source: SourceSchema.nullable().optional(),
});

export interface Overrides extends Partial<EmulatorParameters> {
  source?: WorkSource;
}

type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

function zodMessage(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
}

/** Merges a PUT body into the current overrides. */
export function mergeOverrides(current: Readonly<Overrides>, body: unknown): ParseResult<Overrides> {
  const parsed = OverrideSchema.safeParse(body);
  if (!parsed.success) return { ok: false, message: zodMessage(parsed.error) };
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(parsed.data)) {
    if (value === undefined) continue;
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return { ok: true, value: next };
}

export function effectiveParameters(overrides: Readonly<Overrides>): EmulatorParameters {
  const { source: _source, ...parameters } = overrides;
  return { ...DEFAULT_PARAMETERS, ...parameters };
}

const ArrivalsSchema = z.strictObject({ count: z.number().min(0, "must be >= 0").finite() });
const LoadSchema = z.strictObject({ rps: z.number().min(0, "must be >= 0").finite() });

export function parseArrivals(body: unknown): ParseResult<number> {
  const parsed = ArrivalsSchema.safeParse(body);
  return parsed.success
    ? { ok: true, value: parsed.data.count }
    : { ok: false, message: zodMessage(parsed.error) };
}

export function parseLoad(body: unknown): ParseResult<number> {
  const parsed = LoadSchema.safeParse(body);
  return parsed.success
    ? { ok: true, value: parsed.data.rps }
    : { ok: false, message: zodMessage(parsed.error) };
}
