// The simulation loop: every tick, KEDA polls (when it is the engine) and the HPA syncs on their own
// periods, each reading its metrics through the pipeline a cluster has (metrics-server, Prometheus
// and prometheus-adapter, KEDA's scalers); the Deployment follows the replica count they write, new
// pods wait for GPUs and load their model, removed ones drain; and the queue is served by the replicas
// that are Ready. Pure: inputs in, a timeline and a summary out.
import type { V1Deployment, V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import type { ScaledObject } from "../keda/types.js";
import { NodePool } from "./capacity.js";
import {
  HorizontalPodAutoscalerController,
  HPA_CONTROLLER_DEFAULTS,
  type MetricReading,
  type PodView,
  type SyncInput,
} from "./hpa.js";
import { kafkaReportedLag, readsBroker, ScaledObjectController, type TriggerModel } from "./keda.js";
import { lastScrape, ObservationHistory, type Observation } from "./pipeline.js";
import { quantityValue, toMilli } from "../runtime/quantity.js";
import {
  DEFAULT_SERVER_CONCURRENCY,
  serverSignalValue,
  withServerSignals,
  type ServerSignalKind,
} from "./llm.js";
import { signalFromText, type Signal } from "./signals.js";
import { emptySlots } from "./slots.js";
import { StepTable, type SimulationStep } from "./steps.js";
import type { Trace } from "./trace.js";
import { Workload, type WorkloadParameters } from "./workload.js";
import { SimulationInputError } from "./errors.js";

export interface SimulationTarget {
  /** Shown in reports; usually the policy's name. */
  name: string;
  engine: "HPA" | "KEDA";
  deployment?: V1Deployment;
  hpa?: V2HorizontalPodAutoscaler;
  scaledObject?: ScaledObject;
  modelLoadSeconds: number;
}

/**
 * The parts of a cluster that decide how fast and how far the autoscalers act, each with the real
 * component's own default (docs/simulate.md cites the source of each).
 */
export interface ModelParameters {
  /** kube-controller-manager --horizontal-pod-autoscaler-sync-period. */
  hpaSyncPeriodSeconds: number;
  /**
   * Seconds from the trace's start to the HPA controller's first sync of the HPA, below the sync period.
   * The controller queues an HPA a sync period after its informer sees it, and again a period after each
   * sync (horizontal.go enqueueHPA and processNextWorkItem, FixedItemIntervalRateLimiter), so the syncs
   * fall at the HPA's creation plus whole periods; 0: on the trace's start.
   */
  hpaFirstSyncSeconds: number;
  /**
   * Seconds before the trace's start of the HPA controller's last recommendation for the HPA, if any: its
   * stabilization windows still hold it (the first sync records one, horizontal.go
   * recordInitialRecommendation, and each sync that computes a scale another; a sync of a workload KEDA
   * holds at zero records none). A scale-up waits until the recommendations of the replicas then leave the
   * scale-up window. 0: none before the trace (the first sync in it records one).
   */
  hpaLastRecommendationSeconds: number;
  /** --horizontal-pod-autoscaler-tolerance (an HPA's behavior may set its own per direction). */
  hpaTolerance: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization: the window without behavior. */
  downscaleStabilizationSeconds: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period. */
  cpuInitializationPeriodSeconds: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay. */
  initialReadinessDelaySeconds: number;
  /** metrics-server --metric-resolution: how often it scrapes the kubelets, and the CPU rate's window. */
  metricsServerResolutionSeconds: number;
  /** Prometheus scrape_interval of the pods' metrics. */
  prometheusScrapeIntervalSeconds: number;
  /** prometheus-adapter --metrics-relist-interval: how soon a new metric becomes queryable. */
  adapterRelistSeconds: number;
  /** The rate() range of request-rate metrics read through prometheus-adapter; 0: they are gauges. */
  rateWindowSeconds: number;
  /** Consumers hold a message (unacked, in flight, uncommitted) until they finish it. */
  messagesHeldWhileProcessing: boolean;
  /** Partitions of a Kafka trigger's topic. */
  kafkaPartitions: number;
  /**
   * Seconds from the trace's start to KEDA's first poll, below the polling interval. KEDA polls when a
   * ScaledObject's scale loop starts and every pollingInterval after (scale_handler.go startScaleLoop);
   * 0: the loop starts with the trace, so a load that starts with it is seen one interval later, the
   * latest a real poll can see it.
   */
  kedaFirstPollSeconds: number;
  /** Seconds a removed pod keeps its GPUs; default: the pod's terminationGracePeriodSeconds. */
  terminationSeconds?: number | undefined;
  /** Most GPUs the workload can hold at once; pods beyond stay Pending. */
  gpuCapacity: number;
  /** GPUs free on running nodes at the start, beyond the initial replicas'; more need new nodes. */
  freeGpus: number;
  /** GPUs of a node the cluster autoscaler adds; default: one replica's. */
  gpusPerNode?: number | undefined;
  /** Seconds from a Pending pod to a Ready new node. */
  nodeProvisioningSeconds: number;
  /** cluster-autoscaler --scale-down-unneeded-time: an added node that stays empty this long goes. */
  nodeScaleDownSeconds: number;
  /** Other workloads' series of an External metric without a selector, by metric name. */
  namespaceMetrics?: ReadonlyMap<string, number> | undefined;
}

export const MODEL_DEFAULTS: Readonly<ModelParameters> = {
  hpaSyncPeriodSeconds: HPA_CONTROLLER_DEFAULTS.syncPeriodSeconds,
  hpaFirstSyncSeconds: 0,
  hpaLastRecommendationSeconds: 0,
  hpaTolerance: HPA_CONTROLLER_DEFAULTS.tolerance,
  downscaleStabilizationSeconds: HPA_CONTROLLER_DEFAULTS.downscaleStabilizationSeconds,
  cpuInitializationPeriodSeconds: HPA_CONTROLLER_DEFAULTS.cpuInitializationPeriodSeconds,
  initialReadinessDelaySeconds: HPA_CONTROLLER_DEFAULTS.initialReadinessDelaySeconds,
  metricsServerResolutionSeconds: 60,
  prometheusScrapeIntervalSeconds: 60,
  adapterRelistSeconds: 600,
  rateWindowSeconds: 0,
  messagesHeldWhileProcessing: true,
  kafkaPartitions: 1,
  kedaFirstPollSeconds: 0,
  gpuCapacity: Infinity,
  freeGpus: Infinity,
  nodeProvisioningSeconds: 0,
  nodeScaleDownSeconds: 600,
};

export interface SimulationOptions extends Partial<ModelParameters> {
  serviceRatePerReplica: number;
  schedulingDelaySeconds: number;
  latencySloSeconds: number;
  /**
   * A request still waiting after this many seconds is dropped. By default 60 s for requests, and none
   * for messages on a broker that a KEDA trigger reads (RabbitMQ, Kafka, SQS and the other queue
   * scalers): a broker keeps a message until a consumer takes it (SQS for its retention period, four
   * days by default; RabbitMQ and Kafka queues without a TTL, or for their retention).
   */
  requestTimeoutSeconds?: number;
  gpuPricePerHour: number;
  memoryUtilizationPercent: number;
  /** Overrides the policy's model load time. */
  modelLoadSeconds?: number;
  /** Replicas (Ready) at the start; defaults to the Deployment's, else the autoscaler's minimum. */
  initialReplicas?: number;
  /**
   * Nothing arrived before the trace's start (a load test's start). By default the first point's load
   * was already arriving: the metrics read at the start show it.
   */
  idleBeforeStart?: boolean;
  /** Requests one LLM server replica runs at once when busy (llm.ts); default 32. */
  serverConcurrency?: number;
  signalOverrides?: ReadonlyMap<string, Signal>;
}

/** How long a request waits before it is dropped, unless it waits on a broker (requestTimeoutSeconds). */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 60;

export const DEFAULT_OPTIONS: SimulationOptions = {
  serviceRatePerReplica: 10,
  schedulingDelaySeconds: 10,
  latencySloSeconds: 2,
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
  /** The model parameters the run used, defaults filled in. */
  model?: ModelParameters;
  /** How long a request waited before it was dropped; Infinity for messages on a broker. */
  requestTimeoutSeconds?: number;
}

/** Whether a loop whose first tick is `first` seconds in and then every `period` ticks `elapsed` seconds in. */
function loopTicks(elapsed: number, first: number, period: number): boolean {
  return elapsed >= first && (elapsed - first) % period === 0;
}

/** A loop's first tick, `field`, must be a whole second below its period, `periodName`. */
function checkFirstTick(field: string, first: number, period: number, periodName: string): void {
  if (!Number.isInteger(first) || first < 0 || first >= period) {
    failInput(field, `must be a whole number of seconds from 0 to the ${periodName} (${period}) - 1`);
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
      if (/(^|[./])gpu$/.test(name)) gpus += quantityValue(quantity) ?? 0;
    }
    const cpu = requests.cpu ?? limits.cpu;
    const memory = requests.memory ?? limits.memory;
    if (cpu !== undefined) cpuMilli += toMilli(quantityValue(cpu) ?? 0);
    if (memory !== undefined) memoryMilli += toMilli(quantityValue(memory) ?? 0);
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

/**
 * Where the HPA reads one of its metrics, worked out once per run: metrics-server for resources,
 * KEDA's metrics server for its triggers' External metrics, prometheus-adapter for the rest.
 */
interface MetricRoute {
  source: "metrics-server" | "keda" | "adapter";
  /** The metric's name; a resource's for metrics-server. */
  name: string;
  /** The trigger behind a KEDA metric; undefined when none has its name. */
  trigger: TriggerModel | undefined;
  /** What an adapter metric measures. */
  signal: Signal;
  /** A Pods metric (a series per pod); otherwise the adapter answers one total. */
  perPod: boolean;
  /** An External metric without a selector: the adapter sums every series of its name in the namespace. */
  sumsNamespace: boolean;
  /** The per-pod reading, refilled at each sync. */
  reading: PerPodReading;
}

function newRoute(source: MetricRoute["source"], name: string): MetricRoute {
  return {
    source,
    name,
    trigger: undefined,
    signal: "queue",
    perPod: false,
    sumsNamespace: false,
    reading: { kind: "perPod", valuesMilli: emptySlots<number>(), timestamp: 0, windowSeconds: 0 },
  };
}

/** The route of spec.metrics[index]; a metric no simulated signal matches is an input error. */
function metricRoute(
  metric: V2MetricSpec,
  index: number,
  keda: ScaledObjectController | undefined,
  overrides: ReadonlyMap<string, Signal>,
): MetricRoute {
  if (metric.type === "Resource" || metric.type === "ContainerResource") {
    return newRoute("metrics-server", metric.resource?.name ?? metric.containerResource?.name ?? "");
  }
  const name = metric.pods?.metric.name ?? metric.external?.metric.name ?? metric.object?.metric.name ?? "";
  if (keda && metric.type === "External") {
    const route = newRoute("keda", name);
    route.trigger = keda.triggers.find((trigger) => trigger.metricName === name);
    return route;
  }
  const signal = overrides.get(name) ?? signalFromText(name);
  if (!signal) {
    failInput(
      `spec.metrics[${index}]`,
      `cannot tell what metric "${name}" measures; pass --signal ${name}=queue|rps|gpu`,
    );
  }
  const route = newRoute("adapter", name);
  route.signal = signal;
  route.perPod = metric.type === "Pods";
  route.sumsNamespace = metric.type === "External" && !metric.external?.metric.selector;
  return route;
}

/** The model parameters with their defaults, validated: periods are whole seconds. */
export function modelParameters(options: Partial<ModelParameters>): ModelParameters {
  const pick = <K extends keyof ModelParameters>(key: K): ModelParameters[K] =>
    options[key] ?? MODEL_DEFAULTS[key];
  // Every field, in one order: all runs' parameters share one shape for the hot loop.
  const model: ModelParameters = {
    hpaSyncPeriodSeconds: pick("hpaSyncPeriodSeconds"),
    hpaFirstSyncSeconds: pick("hpaFirstSyncSeconds"),
    hpaLastRecommendationSeconds: pick("hpaLastRecommendationSeconds"),
    hpaTolerance: pick("hpaTolerance"),
    downscaleStabilizationSeconds: pick("downscaleStabilizationSeconds"),
    cpuInitializationPeriodSeconds: pick("cpuInitializationPeriodSeconds"),
    initialReadinessDelaySeconds: pick("initialReadinessDelaySeconds"),
    metricsServerResolutionSeconds: pick("metricsServerResolutionSeconds"),
    prometheusScrapeIntervalSeconds: pick("prometheusScrapeIntervalSeconds"),
    adapterRelistSeconds: pick("adapterRelistSeconds"),
    rateWindowSeconds: pick("rateWindowSeconds"),
    messagesHeldWhileProcessing: pick("messagesHeldWhileProcessing"),
    kafkaPartitions: pick("kafkaPartitions"),
    kedaFirstPollSeconds: pick("kedaFirstPollSeconds"),
    terminationSeconds: options.terminationSeconds,
    gpuCapacity: pick("gpuCapacity"),
    freeGpus: pick("freeGpus"),
    gpusPerNode: options.gpusPerNode,
    nodeProvisioningSeconds: pick("nodeProvisioningSeconds"),
    nodeScaleDownSeconds: pick("nodeScaleDownSeconds"),
    namespaceMetrics: options.namespaceMetrics,
  };
  for (const key of [
    "hpaSyncPeriodSeconds",
    "metricsServerResolutionSeconds",
    "prometheusScrapeIntervalSeconds",
    "adapterRelistSeconds",
  ] as const) {
    if (!Number.isInteger(model[key]) || model[key] < 1)
      failInput(key, "must be a whole number of seconds >= 1");
  }
  for (const key of [
    "hpaLastRecommendationSeconds",
    "hpaTolerance",
    "downscaleStabilizationSeconds",
    "cpuInitializationPeriodSeconds",
    "initialReadinessDelaySeconds",
    "rateWindowSeconds",
    "nodeProvisioningSeconds",
    "nodeScaleDownSeconds",
    "freeGpus",
    "gpuCapacity",
  ] as const) {
    if (!(model[key] >= 0)) failInput(key, "must be >= 0");
  }
  if (!Number.isInteger(model.kafkaPartitions) || model.kafkaPartitions < 1)
    failInput("kafkaPartitions", "must be a whole number >= 1");
  checkFirstTick("hpaFirstSyncSeconds", model.hpaFirstSyncSeconds, model.hpaSyncPeriodSeconds, "sync period");
  return model;
}

/**
 * One replica's requests by resource name, as the HPA reads them from its pods. Built key by key:
 * an object spread can give the same keys a different hidden class from run to run, and the HPA's
 * lookup by resource name then goes megamorphic (bench/simulate.bench.ts).
 */
function replicaRequestsMilli(resources: { cpuMilli: number; memoryMilli: number }): Record<string, number> {
  const requests: Record<string, number> = {};
  if (resources.cpuMilli > 0) requests.cpu = resources.cpuMilli;
  if (resources.memoryMilli > 0) requests.memory = resources.memoryMilli;
  return requests;
}

/**
 * What the metrics APIs and KEDA's scalers answer at a moment, from the history of the workload's
 * state: brokers answer live, Prometheus with its last scrape, metrics-server with its last window.
 */
class MetricSources {
  /** The first scrape that saw a Ready pod's series; prometheus-adapter lists the metric after it. */
  private firstSeriesScrape: number | undefined;

  constructor(
    private readonly history: ObservationHistory,
    private readonly model: ModelParameters,
    private readonly t0: number,
    private readonly gpusPerReplica: number,
    /** Pods report a broker-fed worker's own queue: the message it holds while busy. */
    private readonly brokerFed: boolean,
    private readonly tick: number,
    /** Requests one LLM server replica runs at once when busy. */
    private readonly serverConcurrency: number,
    readyAtStart: number,
  ) {
    // Pods Ready at the start ran before it: their series were listed long ago.
    if (readyAtStart > 0) this.firstSeriesScrape = -Infinity;
    this.scrapeAnchor = t0 + model.hpaFirstSyncSeconds;
  }

  /** Scrapes and relists fall half an interval after the HPA's first sync (pipeline.ts). */
  private readonly scrapeAnchor: number;

  scrapeOf(now: number): number {
    return lastScrape(now, this.scrapeAnchor, this.model.prometheusScrapeIntervalSeconds, this.tick);
  }

  /** Called for every tick's observation after the start's, in order. */
  observe(observation: Readonly<Observation>): void {
    if (this.firstSeriesScrape !== undefined || observation.ready === 0) return;
    if (this.scrapeOf(observation.t) === observation.t) this.firstSeriesScrape = observation.t;
  }

  /** Whether prometheus-adapter has listed the pods' series by `now`. */
  adapterKnows(now: number): boolean {
    const first = this.firstSeriesScrape;
    if (first === undefined) return false;
    return (
      first <= this.t0 ||
      lastScrape(now, this.scrapeAnchor, this.model.adapterRelistSeconds, this.tick) >= first
    );
  }

  /** Messages a broker counts: the waiting ones, and those consumers hold if the scaler counts them. */
  brokerDepth(observation: Readonly<Observation>, countsHeld: boolean): number {
    return (
      observation.queue + (countsHeld && this.model.messagesHeldWhileProcessing ? observation.inFlight : 0)
    );
  }

  /** The request rate a query of range `rangeSeconds` (0: a gauge) reads at scrape s. */
  private rateAt(scrape: number, rangeSeconds: number): number {
    return rangeSeconds > 0 ? this.history.mean("rate", scrape, rangeSeconds) : this.history.at(scrape).rate;
  }

  /** One Ready pod's series at scrape s (GPU: one GPU's). */
  podSeries(signal: Signal, scrape: number, rangeSeconds: number): number {
    const observation = this.history.at(scrape);
    const ready = Math.max(observation.ready, 1);
    switch (signal) {
      case "queue":
        return this.brokerFed ? observation.busy : observation.queue / ready;
      case "rps":
        return this.rateAt(scrape, rangeSeconds) / ready;
      case "gpu":
        return observation.busy * observation.gpuAtFullLoad;
      default:
        return this.serverSignal(signal, observation, true);
    }
  }

  /** An LLM server's signal (llm.ts): one Ready pod's, or the workload's total. */
  private serverSignal(
    signal: ServerSignalKind,
    observation: Readonly<Observation>,
    perPod: boolean,
  ): number {
    const { queue, busy, ready } = observation;
    return serverSignalValue(signal, queue, busy, ready, this.serverConcurrency, perPod);
  }

  /**
   * The sum over the workload's series at scrape s. GPU metrics have one series per GPU, unless the
   * query averages them per pod first.
   */
  seriesSum(signal: Signal, scrape: number, rangeSeconds: number, gpuAveragedPerPod = false): number {
    const ready = this.history.at(scrape).ready;
    const series = signal === "gpu" && !gpuAveragedPerPod ? ready * Math.max(this.gpusPerReplica, 1) : ready;
    return this.podSeries(signal, scrape, rangeSeconds) * series;
  }

  /** The workload's total of a signal at scrape s, as a source outside its pods reports it. */
  loadAt(signal: Signal, scrape: number, rangeSeconds: number): number {
    const observation = this.history.at(scrape);
    switch (signal) {
      case "queue":
        return observation.queue;
      case "rps":
        return this.rateAt(scrape, rangeSeconds);
      case "gpu":
        return observation.busy * observation.gpuAtFullLoad;
      default:
        // The queue upstream of a server (a gateway's) holds the requests while no replica is Ready.
        return this.serverSignal(signal, observation, false);
    }
  }

  /** How many series the workload has at scrape s. */
  seriesCount(scrape: number): number {
    return this.history.at(scrape).ready;
  }
}

export function simulate(
  target: SimulationTarget,
  trace: Trace,
  options: SimulationOptions = DEFAULT_OPTIONS,
): SimulationResult {
  const simulation = new Simulation(target, trace, options);
  simulation.run();
  return simulation.result();
}

/** Per-pod readings, one per metric, refilled at each sync: the HPA reads them before the next. */
type PerPodReading = Extract<MetricReading, { kind: "perPod" }> & { valuesMilli: (number | undefined)[] };

/**
 * What the HPA reads at a sync of a run. A class rather than an object with a closure: every run's
 * readMetric is then the same function, which the JIT inlines once for the whole batch.
 */
class SimulationSyncInput implements SyncInput {
  pods: readonly PodView[] = [];
  statusReplicas = 0;

  constructor(
    private readonly simulation: Simulation,
    public now: number,
    public specReplicas: number,
  ) {}

  readMetric(_metric: V2MetricSpec, index: number): MetricReading {
    return this.simulation.readMetric(index);
  }
}

/** A KEDA trigger's answer at a poll or an HPA read (Simulation.triggerSample). */
interface TriggerSample {
  value: number | undefined;
  active: boolean | undefined;
}

/** What a run adds up for its summary. */
interface Totals {
  requests: number;
  served: number;
  dropped: number;
  violations: number;
  waitSum: number;
  maxWait: number;
  maxQueue: number;
  peakReplicas: number;
  readyReplicaSeconds: number;
  replicaSeconds: number;
  gpuSeconds: number;
}

/**
 * One run: the workload, the metric pipeline and the controllers, advanced tick by tick. Its steps
 * are methods rather than closures in simulate(), so that a batch of runs calls the same functions
 * and the JIT compiles them once (bench/simulate.bench.ts).
 */
class Simulation {
  private readonly model: ModelParameters;
  private readonly t0: number;
  private readonly keda: ScaledObjectController | undefined;
  private readonly hpa: HorizontalPodAutoscalerController;
  /** Where each of the HPA's metrics is read from, by its index in spec.metrics. */
  private readonly routes: MetricRoute[];
  private readonly resources: ReturnType<typeof replicaResources>;
  private readonly params: WorkloadParameters;
  private readonly modelLoadSeconds: number;
  /** Every period a controller or a scrape runs on falls on a tick. */
  private readonly tick: number;
  private readonly workload: Workload;
  private readonly history: ObservationHistory;
  private readonly sources: MetricSources;
  private readonly cursor: TraceCursor;
  /** The state of the workload at the current tick, recorded into the history. */
  private readonly observation: Observation;
  private readonly steps: StepTable;
  /** The row of the current tick, pushed into the table (which copies it). */
  private readonly step: SimulationStep = {
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
  private readonly events: ScaleEvent[] = [];
  private readonly totals: Totals;
  /** The Deployment's spec.replicas. */
  private specReplicas: number;
  private scaledThisTick = false;
  /** The trace marks the metrics sources down for the current tick. */
  private metricsDown = false;
  // The pods and the time of the sync in progress; readMetric reads them.
  private syncPods: readonly PodView[] = [];
  private syncNow: number;
  private readonly syncInput: SimulationSyncInput;
  // One slot per trigger: each trigger's value and activity at KEDA's last poll (polledValues is what
  // useCachedMetrics serves; triggerValues and triggerActivity are what poll reads).
  private readonly polledValues: (number | undefined)[];
  private readonly triggerValues: (number | undefined)[];
  private readonly triggerActivity: (boolean | undefined)[];
  private readonly sample: TriggerSample = { value: undefined, active: undefined };
  /** What the Ready pods served, and could have, in the last tick: the busy share observed next. */
  private readonly lastServe = { served: 0, capacity: 0 };

  constructor(
    private readonly target: SimulationTarget,
    private readonly trace: Trace,
    options: SimulationOptions,
  ) {
    const overrides = withServerSignals(options.signalOverrides ?? new Map<string, Signal>());
    const model = modelParameters(options);
    this.model = model;
    const t0 = trace.points[0]?.t ?? 0;
    this.t0 = t0;
    this.syncNow = t0;
    const keda =
      target.engine === "KEDA"
        ? new ScaledObjectController(
            target.scaledObject ?? failInput("scaledObject", "the KEDA engine needs a ScaledObject"),
            t0,
            overrides,
          )
        : undefined;
    this.keda = keda;
    const hpaObject = keda
      ? keda.hpa
      : (target.hpa ?? failInput("hpa", "the HPA engine needs a HorizontalPodAutoscaler"));
    this.hpa = new HorizontalPodAutoscalerController(hpaObject, {
      tolerance: model.hpaTolerance,
      downscaleStabilizationSeconds: model.downscaleStabilizationSeconds,
      cpuInitializationPeriodSeconds: model.cpuInitializationPeriodSeconds,
      initialReadinessDelaySeconds: model.initialReadinessDelaySeconds,
    });
    // Every metric must map to a simulated signal before the run starts: no partial output.
    const metricSpecs = hpaObject.spec?.metrics ?? [];
    this.routes = metricSpecs.map((metric, index) => metricRoute(metric, index, keda, overrides));
    // An HPA without metrics gets the CPU one (HorizontalPodAutoscalerController).
    if (this.routes.length === 0) this.routes.push(newRoute("metrics-server", "cpu"));

    const resources = replicaResources(target.deployment);
    this.resources = resources;
    this.modelLoadSeconds = options.modelLoadSeconds ?? target.modelLoadSeconds;
    const terminationSeconds =
      model.terminationSeconds ?? target.deployment?.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    model.terminationSeconds = terminationSeconds;
    this.params = {
      serviceRatePerReplica: options.serviceRatePerReplica,
      modelLoadSeconds: this.modelLoadSeconds,
      schedulingDelaySeconds: options.schedulingDelaySeconds,
      latencySloSeconds: options.latencySloSeconds,
      requestTimeoutSeconds:
        options.requestTimeoutSeconds ??
        (keda?.triggers.some((trigger) => readsBroker(trigger.type))
          ? Infinity
          : DEFAULT_REQUEST_TIMEOUT_SECONDS),
      gpusPerReplica: resources.gpus,
      gpuPricePerHour: options.gpuPricePerHour,
      memoryUtilizationPercent: options.memoryUtilizationPercent,
      terminationSeconds,
      requestsMilli: replicaRequestsMilli(resources),
    };
    if (!(this.params.serviceRatePerReplica > 0)) failInput("serviceRate", "must be > 0");

    const usesResourceMetrics =
      metricSpecs.some((metric) => metric.type === "Resource" || metric.type === "ContainerResource") ||
      (keda?.triggers.some((trigger) => trigger.resource !== undefined) ?? false);
    const usesAdapter = !keda
      ? metricSpecs.some((metric) => metric.type !== "Resource" && metric.type !== "ContainerResource")
      : false;
    const usesPrometheus =
      usesAdapter || (keda?.triggers.some((trigger) => trigger.source === "prometheus") ?? false);
    const periods = [model.hpaSyncPeriodSeconds];
    // The steps must fall on the syncs and the polls.
    if (model.hpaFirstSyncSeconds > 0) periods.push(model.hpaFirstSyncSeconds);
    if (keda) {
      checkFirstTick(
        "kedaFirstPollSeconds",
        model.kedaFirstPollSeconds,
        keda.pollingIntervalSeconds,
        "polling interval",
      );
      periods.push(keda.pollingIntervalSeconds);
      if (model.kedaFirstPollSeconds > 0) periods.push(model.kedaFirstPollSeconds);
    }
    if (usesResourceMetrics) periods.push(model.metricsServerResolutionSeconds);
    if (usesPrometheus) periods.push(model.prometheusScrapeIntervalSeconds);
    if (usesAdapter) periods.push(model.adapterRelistSeconds);
    const tick = periods.reduce((a, b) => gcd(a, b));
    this.tick = tick;

    const workload = new Workload(this.params);
    this.workload = workload;
    const initialReplicas =
      options.initialReplicas ??
      target.deployment?.spec?.replicas ??
      (keda ? keda.minReplicaCount : Math.max(this.hpa.minReplicas, 1));
    workload.nodes = new NodePool(
      {
        gpusPerReplica: resources.gpus,
        gpuCapacity: model.gpuCapacity,
        freeGpus: model.freeGpus,
        gpusPerNode: model.gpusPerNode ?? resources.gpus,
        nodeProvisioningSeconds: model.nodeProvisioningSeconds,
        nodeScaleDownSeconds: model.nodeScaleDownSeconds,
      },
      initialReplicas * resources.gpus,
      t0,
    );
    workload.seed(initialReplicas, t0);
    this.specReplicas = initialReplicas;
    // The replicas then are taken to be those at the start (for a workload KEDA woke from zero, any count
    // up to the one it wakes to holds a scale-up back the same).
    if (model.hpaLastRecommendationSeconds > 0) {
      this.hpa.recommendedBefore(t0 - model.hpaLastRecommendationSeconds, initialReplicas);
    }

    const longestRange = Math.max(
      model.rateWindowSeconds,
      ...(keda?.triggers.map((trigger) => trigger.rangeSeconds ?? 0) ?? []),
    );
    this.history = new ObservationHistory(
      tick,
      2 * Math.max(model.prometheusScrapeIntervalSeconds, model.metricsServerResolutionSeconds) +
        longestRange +
        tick,
    );
    const brokerFed =
      keda?.triggers.some((trigger) => trigger.source === "live" && trigger.signal === "queue") ?? false;
    this.sources = new MetricSources(
      this.history,
      model,
      t0,
      resources.gpus,
      brokerFed,
      tick,
      options.serverConcurrency ?? DEFAULT_SERVER_CONCURRENCY,
      initialReplicas,
    );

    this.cursor = new TraceCursor(trace);
    const first = this.cursor.arrivals(t0, t0 + tick);
    this.observation = {
      t: t0,
      queue: 0,
      inFlight: 0,
      rate: options.idleBeforeStart === true ? 0 : first.arrivals / tick,
      busy: 0,
      ready: initialReplicas,
      gpuAtFullLoad: first.gpuAtFullLoad,
    };
    this.steps = new StepTable(Math.max(0, Math.ceil((trace.end - t0) / tick)), { start: t0, tick });
    this.totals = {
      requests: 0,
      served: 0,
      dropped: 0,
      violations: 0,
      waitSum: 0,
      maxWait: 0,
      maxQueue: 0,
      peakReplicas: initialReplicas,
      readyReplicaSeconds: 0,
      replicaSeconds: 0,
      gpuSeconds: 0,
    };
    const noTriggers = (): undefined[] => keda?.triggers.map(() => undefined) ?? [];
    this.polledValues = noTriggers();
    this.triggerValues = noTriggers();
    this.triggerActivity = noTriggers();
    this.syncInput = new SimulationSyncInput(this, t0, initialReplicas);
  }

  run(): void {
    for (let now = this.t0; now < this.trace.end; now += this.tick) this.advance(now);
  }

  /** One tick, [now, now + tick): pods and nodes change, the controllers act, the queue is served. */
  private advance(now: number): void {
    const { workload, keda, model, tick, observation, totals, step } = this;
    const traffic = this.cursor.arrivals(now, now + tick);
    this.metricsDown = traffic.metricsDown;
    workload.reap(now);
    workload.nodes?.autoscale(workload.unboundCount, now);
    workload.bindPending(now);
    const before = workload.counts(now);
    const lastServe = this.lastServe;
    const busy = lastServe.capacity > 0 ? lastServe.served / lastServe.capacity : 0;
    observation.t = now;
    observation.queue = workload.queueDepth;
    observation.busy = busy;
    observation.inFlight = busy * before.ready;
    observation.ready = before.ready;
    observation.gpuAtFullLoad = traffic.gpuAtFullLoad;
    this.history.record(observation);
    this.sources.observe(observation);
    this.scaledThisTick = false;

    if (keda && loopTicks(now - this.t0, model.kedaFirstPollSeconds, keda.pollingIntervalSeconds)) {
      for (let index = 0; index < keda.triggers.length; index++) {
        const trigger = keda.triggers[index];
        if (!trigger) continue;
        const sample = this.triggerSample(trigger, now);
        this.triggerValues[index] = sample.value;
        this.triggerActivity[index] = sample.active;
        this.polledValues[index] = sample.value;
      }
      const poll = keda.poll(now, this.specReplicas, this.triggerValues, this.triggerActivity);
      if (poll.scaleTo !== undefined) this.setReplicas(now, poll.scaleTo, "KEDA", poll.reason);
    }
    if (loopTicks(now - this.t0, model.hpaFirstSyncSeconds, model.hpaSyncPeriodSeconds)) {
      const syncInput = this.syncInput;
      this.syncPods = workload.views(now);
      this.syncNow = now;
      syncInput.now = now;
      syncInput.specReplicas = this.specReplicas;
      // status.replicas: the pods not deleted (counted again if KEDA scaled in this tick).
      const counts = this.scaledThisTick ? workload.counts(now) : before;
      syncInput.statusReplicas = counts.pending + counts.loading + counts.ready;
      syncInput.pods = this.syncPods;
      const decision = this.hpa.sync(syncInput);
      if (decision.rescale) this.setReplicas(now, decision.desiredReplicas, "HPA", decision.reason);
    }

    const after = this.scaledThisTick ? workload.counts(now) : before;
    const result = workload.serve(now, tick, traffic.arrivals);
    lastServe.served = result.served;
    lastServe.capacity = result.capacity;
    totals.gpuSeconds += result.gpuSeconds;
    totals.readyReplicaSeconds += result.readySeconds;
    totals.replicaSeconds += (after.pending + after.loading + after.ready) * tick;
    totals.requests += traffic.arrivals;
    totals.served += result.served;
    totals.dropped += result.dropped;
    totals.violations += result.violations;
    totals.waitSum += result.waitSum;
    if (result.maxWait > totals.maxWait) totals.maxWait = result.maxWait;
    if (workload.queueDepth > totals.maxQueue) totals.maxQueue = workload.queueDepth;
    if (this.specReplicas > totals.peakReplicas) totals.peakReplicas = this.specReplicas;

    observation.rate = traffic.arrivals / tick;
    step.t = now;
    step.load = traffic.arrivals / tick;
    step.desiredReplicas = this.specReplicas;
    step.readyReplicas = after.ready;
    step.loadingReplicas = after.loading;
    step.pendingReplicas = after.pending;
    step.queue = workload.queueDepth;
    step.waitSeconds = result.served > 0 ? result.waitSum / result.served : 0;
    step.served = result.served;
    step.dropped = result.dropped;
    step.sloViolations = result.violations;
    step.utilization = result.capacity > 0 ? result.served / result.capacity : 0;
    this.steps.push(step);
  }

  private setReplicas(now: number, replicas: number, by: "HPA" | "KEDA", reason: string): void {
    if (replicas === this.specReplicas) return;
    this.events.push({ t: now, from: this.specReplicas, to: replicas, by, reason });
    this.specReplicas = replicas;
    this.scaledThisTick = true;
    this.workload.scaleTo(replicas, now);
  }

  /**
   * A KEDA trigger's answer now: its value (undefined: the scaler failed) and its activity (undefined:
   * the value against the activation threshold). The returned object is reused by the next call.
   */
  private triggerSample(trigger: TriggerModel, now: number): Readonly<TriggerSample> {
    const sample = this.sample;
    sample.value = this.triggerValue(trigger, now, sample);
    return sample;
  }

  /** The value of triggerSample; sets `sample.active` for the scalers whose activity is not it. */
  private triggerValue(trigger: TriggerModel, now: number, sample: TriggerSample): number | undefined {
    sample.active = undefined;
    if (trigger.resource) return 0;
    if (this.metricsDown) return undefined;
    const sources = this.sources;
    const signal = trigger.signal ?? "queue";
    if (trigger.source === "prometheus") {
      const scrape = sources.scrapeOf(now);
      const range = trigger.rangeSeconds ?? 0;
      if (!trigger.seriesFromPods) {
        // Series of the load itself (an ingress's counter, say), there whatever the replicas.
        return sources.loadAt(signal, scrape, range);
      }
      // prometheus_scaler.go: an empty result is 0 with ignoreNullValues, else an error.
      if (sources.seriesCount(scrape) === 0) return trigger.ignoreNullValues ? 0 : undefined;
      return trigger.aggregate === "sum"
        ? sources.seriesSum(signal, scrape, range, trigger.gpuAveragedPerPod)
        : sources.podSeries(signal, scrape, range);
    }
    const current = this.history.at(now);
    const depth = sources.brokerDepth(current, trigger.countsHeld);
    switch (signal) {
      case "queue":
        if (!trigger.capLagAtPartitions) return depth;
        sample.active = depth > trigger.activation;
        return kafkaReportedLag(depth, this.model.kafkaPartitions, trigger.target);
      case "rps":
        if (trigger.activeOnQueue)
          sample.active = current.rate > trigger.activation || depth > trigger.activation;
        return current.rate;
      case "gpu":
        return current.busy * current.gpuAtFullLoad;
      default:
        return sources.loadAt(signal, now, 0);
    }
  }

  /** The route's per-pod reading, sized for the pods of the sync. */
  private readingOf(route: MetricRoute): PerPodReading {
    const reading = route.reading;
    const pods = this.syncPods.length;
    if (reading.valuesMilli.length !== pods) reading.valuesMilli.length = pods;
    return reading;
  }

  /** metrics-server: per pod, the mean usage over its last window, for pods it has two scrapes of. */
  private resourceReading(route: MetricRoute): MetricReading {
    const { syncPods, resources } = this;
    const isCpu = route.name === "cpu";
    const resolution = this.model.metricsServerResolutionSeconds;
    const scrape = lastScrape(this.syncNow, this.t0 + this.model.hpaFirstSyncSeconds, resolution, this.tick);
    const request = isCpu ? resources.cpuMilli : resources.memoryMilli;
    // A pod without a request still uses something: a core, or its share of a gigabyte.
    const perPodRequest = request > 0 ? request : 1000;
    const busy = this.history.mean("busy", scrape, resolution);
    const pods = this.workload.pods;
    const reading = this.readingOf(route);
    const valuesMilli = reading.valuesMilli;
    for (let index = 0; index < syncPods.length; index++) {
      const pod = pods[index];
      if (!pod || syncPods[index]?.phase === "Pending" || pod.startedAt > scrape - resolution) {
        valuesMilli[index] = undefined;
      } else if (!isCpu) {
        valuesMilli[index] = Math.round((this.params.memoryUtilizationPercent / 100) * perPodRequest);
      } else {
        // The share of the window the pod was Ready (and busy like the others).
        const readyFor = scrape - Math.max(pod.readyAt, scrape - resolution);
        valuesMilli[index] = Math.round(
          busy * Math.min(1, Math.max(0, readyFor / resolution)) * perPodRequest,
        );
      }
    }
    // The pods carry their requests (Workload.views), as the pod lister's pods do.
    reading.timestamp = scrape;
    reading.windowSeconds = resolution;
    return reading;
  }

  /** What the metrics APIs answer the HPA's sync in progress for one of its metrics. */
  readMetric(metricIndex: number): MetricReading {
    const route = this.routes[metricIndex];
    if (!route) return { kind: "error", message: `no metric at index ${metricIndex}` };
    if (route.source === "metrics-server") return this.resourceReading(route);
    const { keda, syncNow, sources, model } = this;
    if (keda && route.source === "keda") {
      const trigger = route.trigger;
      if (!trigger) return { kind: "error", message: `unknown external metric ${route.name}` };
      const value = trigger.useCachedMetrics
        ? this.polledValues[trigger.index]
        : this.triggerSample(trigger, syncNow).value;
      return keda.externalMetric(trigger.index, value, this.specReplicas, this.history.at(syncNow).ready);
    }
    if (this.metricsDown) return { kind: "error", message: "metrics source unavailable" };
    // prometheus-adapter: Prometheus's last scrape, once the adapter has listed the series.
    const { signal, name } = route;
    if (!sources.adapterKnows(syncNow)) {
      return { kind: "error", message: `the metrics API does not list ${name} yet (adapter relist)` };
    }
    const scrape = sources.scrapeOf(syncNow);
    const range = signal === "rps" ? model.rateWindowSeconds : 0;
    if (route.perPod) {
      const perPod = toMilli(sources.podSeries(signal, scrape, range));
      // A pod has a series once it was Ready at the scrape, and until it is deleted.
      const { syncPods } = this;
      const pods = this.workload.pods;
      const reading = this.readingOf(route);
      const valuesMilli = reading.valuesMilli;
      for (let index = 0; index < syncPods.length; index++) {
        const pod = pods[index];
        valuesMilli[index] =
          pod && syncPods[index]?.deleting !== true && pod.readyAt <= scrape ? perPod : undefined;
      }
      reading.timestamp = syncNow;
      reading.windowSeconds = HPA_CONTROLLER_DEFAULTS.metricWindowSeconds;
      return reading;
    }
    if (sources.seriesCount(scrape) === 0) return { kind: "error", message: `no series of ${name}` };
    let total = sources.seriesSum(signal, scrape, range);
    // Without a selector the adapter sums every series of that name in the namespace.
    if (route.sumsNamespace) total += model.namespaceMetrics?.get(name) ?? 0;
    return { kind: "total", valueMilli: toMilli(total) };
  }

  result(): SimulationResult {
    const { totals, events, steps, trace, t0 } = this;
    const durationSeconds = trace.end - t0;
    const gpuHours = totals.gpuSeconds / 3600;
    let materialized: SimulationStep[] | undefined;
    return {
      table: steps,
      get steps() {
        return (materialized ??= steps.toArray());
      },
      events,
      model: this.model,
      requestTimeoutSeconds: this.params.requestTimeoutSeconds,
      summary: {
        name: this.target.name,
        engine: this.target.engine,
        tickSeconds: this.tick,
        durationSeconds,
        modelLoadSeconds: this.modelLoadSeconds,
        gpusPerReplica: this.resources.gpus,
        totalRequests: totals.requests,
        servedRequests: totals.served,
        droppedRequests: totals.dropped,
        sloViolations: totals.violations,
        sloViolationRatio: totals.requests > 0 ? totals.violations / totals.requests : 0,
        meanWaitSeconds: totals.served > 0 ? totals.waitSum / totals.served : 0,
        maxWaitSeconds: totals.maxWait,
        maxQueue: totals.maxQueue,
        peakReplicas: totals.peakReplicas,
        meanReadyReplicas: durationSeconds > 0 ? totals.readyReplicaSeconds / durationSeconds : 0,
        replicaHours: totals.replicaSeconds / 3600,
        gpuHours,
        cost: gpuHours * this.params.gpuPricePerHour,
        scaleUps: events.filter((event) => event.to > event.from).length,
        scaleDowns: events.filter((event) => event.to < event.from).length,
      },
    };
  }
}
function failInput(field: string, message: string): never {
  throw new SimulationInputError(field, message);
}
