// The simulation loop: every tick, KEDA polls (when it is the engine) and the HPA syncs on their own
// periods, the Deployment follows the replica count they write, and the queue is served by the
// replicas that are Ready. Pure: inputs in, a timeline and a summary out.
import type { V1Deployment, V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import type { ScaledObject } from "../keda/types.js";
import {
  HorizontalPodAutoscalerController,
  HPA_CONTROLLER_DEFAULTS,
  type MetricReading,
  type PodView,
  type SyncInput,
} from "./hpa.js";
import { ScaledObjectController } from "./keda.js";
import { parseQuantity, toMilli } from "./quantity.js";
import { signalFromText, type Signal } from "./signals.js";
import { StepTable, type SimulationStep } from "./steps.js";
import type { Trace } from "./trace.js";
import { Workload, type WorkloadParameters } from "./workload.js";

export interface SimulationTarget {
  /** Shown in reports; usually the policy's name. */
  name: string;
  engine: "HPA" | "KEDA";
  deployment?: V1Deployment;
  hpa?: V2HorizontalPodAutoscaler;
  scaledObject?: ScaledObject;
  modelLoadSeconds: number;
}

export interface SimulationOptions {
  serviceRatePerReplica: number;
  schedulingDelaySeconds: number;
  latencySloSeconds: number;
  requestTimeoutSeconds: number;
  gpuPricePerHour: number;
  memoryUtilizationPercent: number;
  /** Overrides the policy's model load time. */
  modelLoadSeconds?: number;
  /** Replicas (Ready) at the start; defaults to the Deployment's, else the autoscaler's minimum. */
  initialReplicas?: number;
  signalOverrides?: ReadonlyMap<string, Signal>;
}

export const DEFAULT_OPTIONS: SimulationOptions = {
  serviceRatePerReplica: 10,
  schedulingDelaySeconds: 10,
  latencySloSeconds: 2,
  requestTimeoutSeconds: 60,
  gpuPricePerHour: 2.5,
  memoryUtilizationPercent: 60,
};

export interface ScaleEvent {
  t: number;
  from: number;
  to: number;
  by: "HPA" | "KEDA";
  reason: string;
}

export interface SimulationSummary {
  name: string;
  engine: "HPA" | "KEDA";
  tickSeconds: number;
  durationSeconds: number;
  modelLoadSeconds: number;
  gpusPerReplica: number;
  totalRequests: number;
  servedRequests: number;
  droppedRequests: number;
  sloViolations: number;
  /** Violations over arrivals (0..1). */
  sloViolationRatio: number;
  meanWaitSeconds: number;
  maxWaitSeconds: number;
  maxQueue: number;
  peakReplicas: number;
  meanReadyReplicas: number;
  replicaHours: number;
  gpuHours: number;
  cost: number;
  scaleUps: number;
  scaleDowns: number;
}

export type { SimulationStep } from "./steps.js";

export interface SimulationResult {
  summary: SimulationSummary;
  /** The timeline, column by column. */
  table: StepTable;
  /** The timeline as objects, built on first use. */
  readonly steps: SimulationStep[];
  events: ScaleEvent[];
}

export class SimulationInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "SimulationInputError";
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** GPUs, CPU and memory requested by one replica, summed over its containers. */
export function replicaResources(deployment: V1Deployment | undefined): {
  gpus: number;
  cpuMilli: number;
  memoryMilli: number;
} {
  let gpus = 0;
  let cpuMilli = 0;
  let memoryMilli = 0;
  for (const container of deployment?.spec?.template.spec?.containers ?? []) {
    const limits = container.resources?.limits ?? {};
    const requests = container.resources?.requests ?? {};
    for (const [name, quantity] of Object.entries({ ...requests, ...limits })) {
      if (/(^|[./])gpu$/.test(name)) gpus += parseQuantity(quantity) ?? 0;
    }
    const cpu = requests.cpu ?? limits.cpu;
    const memory = requests.memory ?? limits.memory;
    if (cpu !== undefined) cpuMilli += toMilli(parseQuantity(cpu) ?? 0);
    if (memory !== undefined) memoryMilli += toMilli(parseQuantity(memory) ?? 0);
  }
  return { gpus, cpuMilli, memoryMilli };
}

interface TraceWindow {
  arrivals: number;
  gpuAtFullLoad: number;
  metricsDown: boolean;
}

/** Walks the trace forward: arrivals in [from, to) and the point in force at `from`. */
class TraceCursor {
  private index = 0;
  private readonly window: TraceWindow = { arrivals: 0, gpuAtFullLoad: 100, metricsDown: false };
  constructor(private readonly trace: Trace) {}

  /** The returned object is reused by the next call. */
  arrivals(from: number, to: number): Readonly<TraceWindow> {
    const points = this.trace.points;
    while (this.index + 1 < points.length && (points[this.index + 1]?.t ?? Infinity) <= from) this.index++;
    const current = points[this.index];
    let arrivals = 0;
    for (let index = this.index; index < points.length; index++) {
      const point = points[index];
      if (!point || point.t >= to) break;
      const segmentEnd = points[index + 1]?.t ?? this.trace.end;
      const overlap = Math.min(to, segmentEnd) - Math.max(from, point.t);
      if (overlap > 0 && point.rps !== undefined) arrivals += point.rps * overlap;
      if (point.queue !== undefined && point.t >= from) {
        const previous = points[index - 1]?.queue ?? 0;
        if (point.queue > previous) arrivals += point.queue - previous;
      }
    }
    this.window.arrivals = arrivals;
    this.window.gpuAtFullLoad = current?.gpu ?? 100;
    this.window.metricsDown = current?.metricsDown === true;
    return this.window;
  }
}

interface Observed {
  queue: number;
  rate: number;
  busy: number;
  gpuAtFullLoad: number;
  metricsDown: boolean;
}

/**
 * A signal as a metric reports it: per pod (Pods metrics), or for the whole workload. Queue and
 * request rate total over the workload; GPU utilization is an average unless the query sums it.
 */
function signalValue(
  signal: Signal,
  observed: Observed,
  ready: number,
  perPod: boolean,
  sumGpu = false,
): number {
  switch (signal) {
    case "queue":
      // A model server's own queue gauge counts waiting requests. A broker's depth also counts the
      // messages consumers hold unacknowledged (SQS in flight, RabbitMQ unacked): one per busy
      // replica. Without them an empty-but-busy queue would look idle and scale a loaded service to zero.
      return perPod ? observed.queue / Math.max(ready, 1) : observed.queue + observed.busy * ready;
    case "rps":
      return perPod ? observed.rate / Math.max(ready, 1) : observed.rate;
    case "gpu": {
      const perPodUtilization = ready === 0 ? 0 : observed.busy * observed.gpuAtFullLoad;
      return sumGpu ? perPodUtilization * ready : perPodUtilization;
    }
  }
}

function metricSignal(
  metric: V2MetricSpec,
  overrides: ReadonlyMap<string, Signal>,
): { name: string; signal?: Signal } {
  const name = metric.pods?.metric.name ?? metric.external?.metric.name ?? metric.object?.metric.name ?? "";
  return { name, signal: overrides.get(name) ?? signalFromText(name) };
}

export function simulate(
  target: SimulationTarget,
  trace: Trace,
  options: SimulationOptions = DEFAULT_OPTIONS,
): SimulationResult {
  const overrides = options.signalOverrides ?? new Map<string, Signal>();
  const t0 = trace.points[0]?.t ?? 0;
  const keda =
    target.engine === "KEDA"
      ? new ScaledObjectController(
          target.scaledObject ?? failInput("scaledObject", "the KEDA engine needs a ScaledObject"),
          t0,
          overrides,
        )
      : undefined;
  const hpaObject = keda
    ? keda.hpa
    : (target.hpa ?? failInput("hpa", "the HPA engine needs a HorizontalPodAutoscaler"));
  const hpa = new HorizontalPodAutoscalerController(hpaObject);
  // Every metric must map to a simulated signal before the run starts: no partial output.
  const signalOfMetric = new Map<V2MetricSpec, Signal>();
  hpaObject.spec?.metrics?.forEach((metric, index) => {
    if (metric.type === "Resource" || metric.type === "ContainerResource") return;
    if (keda && metric.type === "External") return;
    const { name, signal } = metricSignal(metric, overrides);
    if (signal) signalOfMetric.set(metric, signal);
    if (!signal)
      failInput(
        `spec.metrics[${index}]`,
        `cannot tell what metric "${name}" measures; pass --signal ${name}=queue|rps|gpu`,
      );
  });

  const resources = replicaResources(target.deployment);
  const modelLoadSeconds = options.modelLoadSeconds ?? target.modelLoadSeconds;
  const params: WorkloadParameters = {
    serviceRatePerReplica: options.serviceRatePerReplica,
    modelLoadSeconds,
    schedulingDelaySeconds: options.schedulingDelaySeconds,
    latencySloSeconds: options.latencySloSeconds,
    requestTimeoutSeconds: options.requestTimeoutSeconds,
    gpusPerReplica: resources.gpus,
    gpuPricePerHour: options.gpuPricePerHour,
    memoryUtilizationPercent: options.memoryUtilizationPercent,
  };
  if (!(params.serviceRatePerReplica > 0)) failInput("serviceRate", "must be > 0");
  const syncPeriod = HPA_CONTROLLER_DEFAULTS.syncPeriodSeconds;
  const tick = keda ? gcd(syncPeriod, keda.pollingIntervalSeconds) : syncPeriod;

  const workload = new Workload(params);
  const initialReplicas =
    options.initialReplicas ??
    target.deployment?.spec?.replicas ??
    (keda ? keda.minReplicaCount : Math.max(hpa.minReplicas, 1));
  workload.seed(initialReplicas, t0);
  let specReplicas = initialReplicas;

  const cursor = new TraceCursor(trace);
  const first = cursor.arrivals(t0, t0 + tick);
  const observed: Observed = {
    queue: 0,
    rate: first.arrivals / tick,
    busy: 0,
    gpuAtFullLoad: first.gpuAtFullLoad,
    metricsDown: first.metricsDown,
  };

  const steps = new StepTable(Math.max(0, Math.ceil((trace.end - t0) / tick)));
  const step: SimulationStep = {
    t: 0,
    load: 0,
    desiredReplicas: 0,
    readyReplicas: 0,
    loadingReplicas: 0,
    pendingReplicas: 0,
    queue: 0,
    waitSeconds: 0,
    served: 0,
    dropped: 0,
    sloViolations: 0,
    utilization: 0,
  };
  const events: ScaleEvent[] = [];
  let totalRequests = 0;
  let served = 0;
  let dropped = 0;
  let violations = 0;
  let waitSum = 0;
  let maxWait = 0;
  let maxQueue = 0;
  let peakReplicas = specReplicas;
  let readyReplicaSeconds = 0;
  let replicaSeconds = 0;
  let gpuSeconds = 0;

  let scaledThisTick = false;
  const setReplicas = (now: number, replicas: number, by: "HPA" | "KEDA", reason: string): void => {
    if (replicas === specReplicas) return;
    events.push({ t: now, from: specReplicas, to: replicas, by, reason });
    specReplicas = replicas;
    scaledThisTick = true;
    workload.scaleTo(replicas, now);
  };

  // The pods and ready count of the sync in progress; readMetric reads them.
  let syncPods: readonly PodView[] = [];
  let syncReady = 0;
  const triggerByMetric = new Map(keda?.triggers.map((trigger) => [trigger.metricName, trigger]));
  // Readings reused from sync to sync: the HPA reads them before the next sync fills them.
  type PerPodReading = { kind: "perPod"; valuesMilli: (number | undefined)[]; requestMilli?: number };
  const cpuReading: PerPodReading = { kind: "perPod", valuesMilli: [], requestMilli: 0 };
  const memoryReading: PerPodReading = { kind: "perPod", valuesMilli: [], requestMilli: 0 };
  const podReadings = new Map<V2MetricSpec, PerPodReading>();
  const readMetric = (metric: V2MetricSpec): MetricReading => {
    const pods = syncPods;
    const ready = syncReady;
    if (metric.type === "Resource" || metric.type === "ContainerResource") {
      const name = metric.resource?.name ?? metric.containerResource?.name;
      const isCpu = name === "cpu";
      const requestMilli = isCpu ? resources.cpuMilli : resources.memoryMilli;
      const perPodRequest = requestMilli > 0 ? requestMilli : 1000;
      const busyMilli = Math.round(observed.busy * perPodRequest);
      const memoryMilli = Math.round((params.memoryUtilizationPercent / 100) * perPodRequest);
      const reading = isCpu ? cpuReading : memoryReading;
      const valuesMilli = reading.valuesMilli;
      reading.requestMilli = requestMilli;
      valuesMilli.length = pods.length;
      for (let index = 0; index < pods.length; index++) {
        const pod = pods[index];
        if (!pod || pod.phase === "Pending") valuesMilli[index] = undefined;
        else if (isCpu) valuesMilli[index] = pod.ready ? busyMilli : 0;
        else valuesMilli[index] = memoryMilli;
      }
      return reading;
    }
    if (observed.metricsDown && !keda) return { kind: "error", message: "metrics source unavailable" };
    if (keda && metric.type === "External") {
      const trigger = triggerByMetric.get(metric.external?.metric.name ?? "");
      if (!trigger) {
        return { kind: "error", message: `unknown external metric ${metric.external?.metric.name ?? ""}` };
      }
      const value = observed.metricsDown
        ? undefined
        : signalValue(trigger.signal ?? "queue", observed, ready, false, trigger.aggregate === "sum");
      return keda.externalMetric(trigger.index, value, specReplicas, ready);
    }
    const signal = signalOfMetric.get(metric) ?? "queue";
    if (metric.type === "Pods") {
      const perPod = toMilli(signalValue(signal, observed, ready, true));
      const reading = podReadings.get(metric) ?? { kind: "perPod", valuesMilli: [] };
      podReadings.set(metric, reading);
      const valuesMilli = reading.valuesMilli;
      valuesMilli.length = pods.length;
      for (let index = 0; index < pods.length; index++) {
        const pod = pods[index];
        valuesMilli[index] = pod && pod.phase === "Running" && pod.ready ? perPod : undefined;
      }
      return reading;
    }
    return { kind: "total", valueMilli: toMilli(signalValue(signal, observed, ready, false)) };
  };

  const triggerValues: (number | undefined)[] = [];
  const syncInput: SyncInput = { now: t0, specReplicas, statusReplicas: 0, pods: syncPods, readMetric };

  for (let now = t0; now < trace.end; now += tick) {
    const traffic = cursor.arrivals(now, now + tick);
    observed.gpuAtFullLoad = traffic.gpuAtFullLoad;
    observed.metricsDown = traffic.metricsDown;
    const before = workload.counts(now);
    const readyBefore = before.ready;
    const loadingBefore = before.loading;
    const pendingBefore = before.pending;
    scaledThisTick = false;

    if (keda && (now - t0) % keda.pollingIntervalSeconds === 0) {
      for (let index = 0; index < keda.triggers.length; index++) {
        const trigger = keda.triggers[index];
        if (!trigger) continue;
        triggerValues[index] = trigger.resource
          ? 0
          : observed.metricsDown
            ? undefined
            : signalValue(
                trigger.signal ?? "queue",
                observed,
                readyBefore,
                false,
                trigger.aggregate === "sum",
              );
      }
      const poll = keda.poll(now, specReplicas, triggerValues);
      if (poll.scaleTo !== undefined) setReplicas(now, poll.scaleTo, "KEDA", poll.reason);
    }
    if ((now - t0) % syncPeriod === 0) {
      syncPods = workload.views(now);
      // KEDA may have just removed Ready pods; otherwise nothing changed since the count above.
      syncReady = scaledThisTick ? workload.counts(now).ready : readyBefore;
      syncInput.now = now;
      syncInput.specReplicas = specReplicas;
      syncInput.statusReplicas = workload.pods.length;
      syncInput.pods = syncPods;
      const decision = hpa.sync(syncInput);
      if (decision.rescale) setReplicas(now, decision.desiredReplicas, "HPA", decision.reason);
    }

    let readyNow = readyBefore;
    let loadingNow = loadingBefore;
    let pendingNow = pendingBefore;
    if (scaledThisTick) {
      const after = workload.counts(now);
      readyNow = after.ready;
      loadingNow = after.loading;
      pendingNow = after.pending;
    }
    const result = workload.serve(now, tick, traffic.arrivals);
    gpuSeconds += result.gpuSeconds;
    readyReplicaSeconds += result.readySeconds;
    replicaSeconds += workload.pods.length * tick;
    totalRequests += traffic.arrivals;
    served += result.served;
    dropped += result.dropped;
    violations += result.violations;
    waitSum += result.waitSum;
    if (result.maxWait > maxWait) maxWait = result.maxWait;
    if (workload.queueDepth > maxQueue) maxQueue = workload.queueDepth;
    if (specReplicas > peakReplicas) peakReplicas = specReplicas;

    observed.queue = workload.queueDepth;
    observed.rate = traffic.arrivals / tick;
    observed.busy = result.capacity > 0 ? result.served / result.capacity : 0;
    step.t = now;
    step.load = traffic.arrivals / tick;
    step.desiredReplicas = specReplicas;
    step.readyReplicas = readyNow;
    step.loadingReplicas = loadingNow;
    step.pendingReplicas = pendingNow;
    step.queue = workload.queueDepth;
    step.waitSeconds = result.served > 0 ? result.waitSum / result.served : 0;
    step.served = result.served;
    step.dropped = result.dropped;
    step.sloViolations = result.violations;
    step.utilization = observed.busy;
    steps.push(step);
  }

  const durationSeconds = trace.end - t0;
  const gpuHours = gpuSeconds / 3600;
  let materialized: SimulationStep[] | undefined;
  return {
    table: steps,
    get steps() {
      return (materialized ??= steps.toArray());
    },
    events,
    summary: {
      name: target.name,
      engine: target.engine,
      tickSeconds: tick,
      durationSeconds,
      modelLoadSeconds,
      gpusPerReplica: resources.gpus,
      totalRequests,
      servedRequests: served,
      droppedRequests: dropped,
      sloViolations: violations,
      sloViolationRatio: totalRequests > 0 ? violations / totalRequests : 0,
      meanWaitSeconds: served > 0 ? waitSum / served : 0,
      maxWaitSeconds: maxWait,
      maxQueue,
      peakReplicas,
      meanReadyReplicas: durationSeconds > 0 ? readyReplicaSeconds / durationSeconds : 0,
      replicaHours: replicaSeconds / 3600,
      gpuHours,
      cost: gpuHours * params.gpuPricePerHour,
      scaleUps: events.filter((event) => event.to > event.from).length,
      scaleDowns: events.filter((event) => event.to < event.from).length,
    },
  };
}

function failInput(field: string, message: string): never {
  throw new SimulationInputError(field, message);
}
