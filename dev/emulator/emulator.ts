// The workload emulator's I/O around model.ts: informers over the policies and their pods, one tick loop
// that serves the work and writes the pods' CPU and memory usage, the brokers, and what the HTTP API
// and /metrics read.
import type { Logger } from "pino";
import { MLAutoscalePolicySchema, type MLAutoscalePolicy } from "../../src/api/v1alpha1/index.js";
import type { QueueClient } from "../../src/brokers/index.js";
import { POLICY_LABEL } from "../../src/controllers/mlautoscalepolicy/desired/metadata.js";
import { errorMessage, isNotFound } from "../../src/runtime/errors.js";
import { createInformer, type SharedInformer } from "../../src/runtime/informer.js";
import type { DeepReadonly, KubeObject } from "../../src/runtime/object.js";
import type { KubeRestClient } from "../../src/runtime/rest.js";
import {
  BrokerConsumption,
  effectiveParameters,
  HttpLoad,
  IDLE_ACTIVITY,
  isBrokerSource,
  isReady,
  mergeOverrides,
  podSamples,
  podSignals,
  podStateOf,
  podUsage,
  renderPrometheus,
  seriesFromPolicy,
  sourceFromPolicy,
  sourceKey,
  usagePatch,
  USAGE_CPU_ANNOTATION,
  USAGE_MEMORY_ANNOTATION,
  workloadSamples,
  type BrokerSource,
  type EmulatorParameters,
  type Overrides,
  type PodObject,
  type PodState,
  type Sample,
  type SeriesPlan,
  type WorkloadActivity,
  type WorkSource,
} from "./model.js";

/** Opens a client for a broker source; throws (naming the broker) when it cannot. */
export type ConnectSource = (source: BrokerSource) => Promise<QueueClient>;

export interface EmulatorOptions {
  rest: Pick<KubeRestClient, "request" | "watch">;
  logger: Logger;
  connect: ConnectSource;
  /** Says where a broker source is, for the state before it has connected. */
  describeSource: (source: WorkSource) => string;
  tickMs: number;
}

/** The answer to an API call: an HTTP status and a JSON body. */
export interface ApiResult {
  status: number;
  body: unknown;
}

export interface WorkloadState {
  namespace: string;
  name: string;
  source: WorkSource & {
    description: string;
    /** memory: HTTP load held in the emulator; else the broker connection's state. */
    status: "memory" | "connecting" | "connected" | "failing";
    error?: string;
    /** Set by PUT rather than derived from the policy's triggers. */
    overridden: boolean;
  };
  parameters: EmulatorParameters;
  overrides: Overrides;
  /** The steady HTTP arrival rate set with PUT .../load. */
  loadRps: number;
  pods: number;
  readyPods: number;
  /** HTTP: requests queued in front of the pods. Broker: messages waiting in it. */
  queue: number;
  /** Arrivals per second over the last tick (HTTP) or broker cycle (estimated from the depth). */
  arrivalRate: number;
  /** Share of the Ready pods' capacity in use over the last tick, 0..1. */
  busy: number;
  /** Totals since the emulator started. */
  served: number;
  dropped: number;
  series: string[];
  skippedMetrics: string[];
}

/** The longest stretch one tick or broker cycle accounts for: a stalled process must not serve a burst. */
const MAX_STEP_SECONDS = 10;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
const POD_POLICY_INDEX = "policy";

function policyKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The connection to a workload's broker: connects, retries with back-off, runs one cycle at a time. */
class BrokerLink {
  status: "connecting" | "connected" | "failing" = "connecting";
  lastError: string | undefined;
  description: string;
  private client: QueueClient | undefined;
  private inFlight: Promise<void> | undefined;
  private retryAtMs = 0;
  private backoffMs = RETRY_MIN_MS;
  private lastCycleAt: number | undefined;
  private closed = false;
  private readonly consumption = new BrokerConsumption();

  constructor(
    readonly source: BrokerSource,
    description: string,
    private readonly connect: ConnectSource,
    private readonly logger: Logger,
  ) {
    this.description = description;
  }

  /** Starts a cycle unless one is running; `onActivity` hears what it did. */
  cycle(
    nowMs: number,
    readyPods: number,
    serviceRate: number,
    onActivity: (activity: WorkloadActivity) => void,
  ): void {
    if (this.inFlight || this.closed || nowMs < this.retryAtMs) return;
    this.inFlight = this.run(nowMs, readyPods, serviceRate, onActivity).finally(() => {
      this.inFlight = undefined;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight;
    await this.client?.close().catch(() => undefined);
    this.client = undefined;
  }

  private async run(
    nowMs: number,
    readyPods: number,
    serviceRate: number,
    onActivity: (activity: WorkloadActivity) => void,
  ): Promise<void> {
    const now = nowMs / 1000;
    try {
      if (!this.client) {
        const client = await this.connect(this.source);
        if (this.closed) {
          await client.close();
          return;
        }
        this.client = client;
        this.description = client.description;
        this.status = "connected";
        this.lastError = undefined;
        this.backoffMs = RETRY_MIN_MS;
        // Capacity counts from the moment the workers could reach the broker.
        this.lastCycleAt = now;
        this.logger.info({ source: client.description }, "source connected");
      }
      const dt = Math.min(now - (this.lastCycleAt ?? now), MAX_STEP_SECONDS);
      this.lastCycleAt = now;
      const plan = this.consumption.plan(readyPods, serviceRate, dt);
      const consumed = plan.take > 0 ? await this.client.consume(plan.take) : 0;
      const depth = await this.client.depth();
      if (!this.closed) onActivity(this.consumption.settle(plan, consumed, depth));
    } catch (error) {
      if (this.closed) return;
      this.consumption.fail();
      this.lastError = errorMessage(error);
      this.status = "failing";
      const client = this.client;
      this.client = undefined;
      this.lastCycleAt = undefined;
      await client?.close().catch(() => undefined);
      this.retryAtMs = Date.now() + this.backoffMs;
      this.logger.warn(
        { source: this.description, err: this.lastError, retryInMs: this.backoffMs },
        "source failing; retrying",
      );
      this.backoffMs = Math.min(this.backoffMs * 2, RETRY_MAX_MS);
      onActivity({ ...IDLE_ACTIVITY, readyPods });
    }
  }
}

class EmulatedWorkload {
  overrides: Overrides = {};
  readonly http: HttpLoad;
  link: BrokerLink | undefined;
  activity: WorkloadActivity = { ...IDLE_ACTIVITY };
  served = 0;
  dropped = 0;
  derivedSource: WorkSource;
  plan: SeriesPlan;

  constructor(
    readonly namespace: string,
    readonly name: string,
    public policy: MLAutoscalePolicy,
  ) {
    this.derivedSource = sourceFromPolicy(policy);
    this.plan = seriesFromPolicy(policy);
    this.http = new HttpLoad(this.parameters);
  }

  get source(): WorkSource {
    return this.overrides.source ?? this.derivedSource;
  }

  get parameters(): EmulatorParameters {
    return effectiveParameters(this.overrides);
  }

  record(activity: WorkloadActivity): void {
    this.activity = activity;
    this.served += activity.served;
    this.dropped += activity.dropped;
  }
}

type PolicyObject = KubeObject & { spec?: unknown };

export class Emulator {
  private readonly policies: SharedInformer<PolicyObject>;
  private readonly pods: SharedInformer<PodObject>;
  private readonly workloads = new Map<string, EmulatedWorkload>();
  /** Policies already reported as not emulated, so that each says so once per version. */
  private readonly reportedSkips = new Map<string, string>();
  private readonly patching = new Set<string>();
  private readonly lastPatchAt = new Map<string, number>();
  /** What the emulator last wrote on each pod, for the moment before the pod cache shows it. */
  private readonly written = new Map<string, { cpu?: string; memory?: string }>();
  private patchFailing = false;
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt: number | undefined;
  private stopped = false;

  constructor(private readonly options: EmulatorOptions) {
    const { rest, logger } = options;
    this.policies = createInformer<PolicyObject>({
      rest,
      logger,
      resource: {
        apiVersion: "mlautoscale.io/v1alpha1",
        kind: "MLAutoscalePolicy",
        plural: "mlautoscalepolicies",
        namespaced: true,
      },
    });
    this.pods = createInformer<PodObject>({
      rest,
      logger,
      resource: { apiVersion: "v1", kind: "Pod", plural: "pods", namespaced: true },
      labelSelector: POLICY_LABEL,
      indexers: {
        [POD_POLICY_INDEX]: (pod) => [
          policyKey(pod.metadata?.namespace ?? "", pod.metadata?.labels?.[POLICY_LABEL] ?? ""),
        ],
      },
    });
    this.policies.addEventHandler({
      onAdd: (policy) => this.upsertPolicy(policy),
      onUpdate: (_previous, policy) => this.upsertPolicy(policy),
      onDelete: (policy) => this.removePolicy(policy),
    });
    this.pods.addEventHandler({
      onDelete: (pod) => {
        const key = policyKey(pod.metadata?.namespace ?? "", pod.metadata?.name ?? "");
        this.lastPatchAt.delete(key);
        this.written.delete(key);
      },
    });
  }

  async start(): Promise<void> {
    this.policies.start();
    this.pods.start();
    await Promise.all([this.policies.waitForSync(), this.pods.waitForSync()]);
    if (this.stopped) return;
    this.options.logger.info({ workloads: this.workloads.size }, "caches synced");
    this.timer = setInterval(() => this.tick(), this.options.tickMs);
  }

  synced(): boolean {
    return this.policies.hasSynced() && this.pods.hasSynced();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([this.policies.stop(), this.pods.stop()]);
    await Promise.all(
      [...this.workloads.values()].map((workload) => workload.link?.close() ?? Promise.resolve()),
    );
    this.workloads.clear();
  }

  // ------------------------------------------------------------------------------------------------
  // policies

  private upsertPolicy(object: DeepReadonly<PolicyObject>): void {
    const namespace = object.metadata?.namespace ?? "";
    const name = object.metadata?.name ?? "";
    const key = policyKey(namespace, name);
    const parsed = MLAutoscalePolicySchema.safeParse(object);
    const skip = !parsed.success
      ? `invalid: ${parsed.error.issues[0]?.message ?? "?"}`
      : parsed.data.spec.workload.targetRef !== undefined
        ? "it scales an existing workload (targetRef), whose pods the emulator does not follow"
        : undefined;
    if (!parsed.success || skip !== undefined) {
      this.dropWorkload(key);
      if (this.reportedSkips.get(key) !== skip) {
        this.reportedSkips.set(key, skip ?? "");
        this.options.logger.info({ workload: key, reason: skip }, "workload not emulated");
      }
      return;
    }
    this.reportedSkips.delete(key);
    const policy = parsed.data;
    const existing = this.workloads.get(key);
    if (existing) {
      const before = sourceKey(existing.source);
      existing.policy = policy;
      existing.derivedSource = sourceFromPolicy(policy);
      existing.plan = seriesFromPolicy(policy);
      if (sourceKey(existing.source) !== before) this.sourceChanged(existing);
      return;
    }
    const workload = new EmulatedWorkload(namespace, name, policy);
    this.workloads.set(key, workload);
    this.options.logger.info(
      {
        workload: key,
        source: this.options.describeSource(workload.source),
        series: seriesNames(workload.plan),
        ...(workload.plan.skipped.length > 0 && { skippedMetrics: workload.plan.skipped }),
      },
      "workload discovered",
    );
  }

  private removePolicy(object: DeepReadonly<PolicyObject>): void {
    const key = policyKey(object.metadata?.namespace ?? "", object.metadata?.name ?? "");
    this.reportedSkips.delete(key);
    if (this.dropWorkload(key)) this.options.logger.info({ workload: key }, "workload removed");
  }

  private dropWorkload(key: string): boolean {
    const workload = this.workloads.get(key);
    if (!workload) return false;
    this.workloads.delete(key);
    void workload.link?.close();
    return true;
  }

  private sourceChanged(workload: EmulatedWorkload): void {
    void workload.link?.close();
    workload.link = undefined;
    workload.activity = { ...IDLE_ACTIVITY };
    this.options.logger.info(
      {
        workload: policyKey(workload.namespace, workload.name),
        source: this.options.describeSource(workload.source),
      },
      "workload source changed",
    );
  }

  // ------------------------------------------------------------------------------------------------
  // the tick

  private podsOf(workload: EmulatedWorkload, now: number): PodState[] {
    return this.pods.store
      .byIndex(POD_POLICY_INDEX, policyKey(workload.namespace, workload.name))
      .map((pod) => podStateOf(pod, now));
  }

  /** One step of every workload. */
  private tick(nowMs: number = Date.now()): void {
    const now = nowMs / 1000;
    const dt = Math.min(
      this.lastTickAt === undefined ? this.options.tickMs / 1000 : now - this.lastTickAt,
      MAX_STEP_SECONDS,
    );
    this.lastTickAt = now;
    for (const workload of this.workloads.values()) {
      const pods = this.podsOf(workload, now);
      const source = workload.source;
      const parameters = workload.parameters;
      if (isBrokerSource(source)) {
        const link = (workload.link ??= new BrokerLink(
          source,
          this.options.describeSource(source),
          this.options.connect,
          this.options.logger.child({ workload: policyKey(workload.namespace, workload.name) }),
        ));
        link.cycle(nowMs, pods.filter(isReady).length, parameters.serviceRatePerReplica, (activity) => {
          if (workload.link === link) workload.record(activity);
        });
      } else {
        workload.http.setParameters(parameters);
        workload.record(workload.http.step(now, dt, pods));
      }
      this.writeUsage(workload, pods, now);
    }
  }

  private writeUsage(workload: EmulatedWorkload, pods: readonly PodState[], now: number): void {
    const parameters = workload.parameters;
    for (const pod of pods) {
      const usage = podUsage(pod, workload.activity.busy, parameters);
      const key = policyKey(pod.namespace, pod.name);
      if (!usage || this.patching.has(key)) continue;
      const written = this.written.get(key);
      const shown = {
        ...pod,
        usageCpu: pod.usageCpu ?? written?.cpu,
        usageMemory: pod.usageMemory ?? written?.memory,
      };
      const patch = usagePatch(shown, usage, this.lastPatchAt.get(key), now);
      if (!patch) continue;
      this.patching.add(key);
      this.lastPatchAt.set(key, now);
      this.options.rest
        .request(
          "PATCH",
          `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}`,
          {
            body: { metadata: { annotations: patch } },
            contentType: "application/merge-patch+json",
          },
        )
        .then(() => {
          this.written.set(key, {
            cpu: patch[USAGE_CPU_ANNOTATION] ?? written?.cpu,
            memory: patch[USAGE_MEMORY_ANNOTATION] ?? written?.memory,
          });
          if (this.patchFailing) this.options.logger.info("pod usage writes work again");
          this.patchFailing = false;
        })
        .catch((error: unknown) => {
          // A pod deleted since the cache saw it is no failure; others are reported once per outage.
          if (isNotFound(error) || this.patchFailing) return;
          this.patchFailing = true;
          this.options.logger.warn(
            { pod: key, err: errorMessage(error) },
            "writing pod usage failed; will retry",
          );
        })
        .finally(() => this.patching.delete(key));
    }
  }

  // ------------------------------------------------------------------------------------------------
  // what the HTTP API and /metrics read

  metricsText(): string {
    const now = Date.now() / 1000;
    const samples: Sample[] = [];
    for (const workload of this.workloads.values()) {
      const signals = podSignals(workload.source, workload.activity, workload.parameters);
      samples.push(...podSamples(workload.plan.series, this.podsOf(workload, now), signals));
      samples.push(...workloadSamples(workload.plan.upstream, workload.namespace, signals));
    }
    return renderPrometheus(samples);
  }

  private stateOf(workload: EmulatedWorkload): WorkloadState {
    const pods = this.podsOf(workload, Date.now() / 1000);
    const source = workload.source;
    const link = workload.link;
    const connection = isBrokerSource(source)
      ? {
          description: link?.description ?? this.options.describeSource(source),
          status: link?.status ?? "connecting",
          ...(link?.lastError !== undefined && { error: link.lastError }),
        }
      : { description: this.options.describeSource(source), status: "memory" as const };
    return {
      namespace: workload.namespace,
      name: workload.name,
      source: { ...source, ...connection, overridden: workload.overrides.source !== undefined },
      parameters: workload.parameters,
      overrides: workload.overrides,
      loadRps: workload.http.rps,
      pods: pods.filter((pod) => !pod.deleting).length,
      readyPods: pods.filter(isReady).length,
      queue: workload.activity.queue,
      arrivalRate: workload.activity.arrivalRate,
      busy: workload.activity.busy,
      served: workload.served,
      dropped: workload.dropped,
      series: seriesNames(workload.plan),
      skippedMetrics: workload.plan.skipped,
    };
  }

  listWorkloads(): WorkloadState[] {
    return [...this.workloads.values()]
      .map((workload) => this.stateOf(workload))
      .sort((a, b) => policyKey(a.namespace, a.name).localeCompare(policyKey(b.namespace, b.name)));
  }

  getWorkload(namespace: string, name: string): ApiResult {
    const workload = this.workloads.get(policyKey(namespace, name));
    return workload ? { status: 200, body: this.stateOf(workload) } : notFound(namespace, name);
  }

  configure(namespace: string, name: string, body: unknown): ApiResult {
    const workload = this.workloads.get(policyKey(namespace, name));
    if (!workload) return notFound(namespace, name);
    const merged = mergeOverrides(workload.overrides, body);
    if (!merged.ok) return { status: 400, body: { error: merged.message } };
    const before = sourceKey(workload.source);
    workload.overrides = merged.value;
    workload.http.setParameters(workload.parameters);
    if (sourceKey(workload.source) !== before) this.sourceChanged(workload);
    this.options.logger.info(
      { workload: policyKey(namespace, name), overrides: workload.overrides },
      "workload configured",
    );
    return { status: 200, body: this.stateOf(workload) };
  }

  addArrivals(namespace: string, name: string, count: number): ApiResult {
    const workload = this.workloads.get(policyKey(namespace, name));
    if (!workload) return notFound(namespace, name);
    if (isBrokerSource(workload.source))
      return brokerConflict(workload, this.options.describeSource(workload.source));
    workload.http.arrive(count);
    return { status: 200, body: this.stateOf(workload) };
  }

  setLoad(namespace: string, name: string, rps: number): ApiResult {
    const workload = this.workloads.get(policyKey(namespace, name));
    if (!workload) return notFound(namespace, name);
    if (isBrokerSource(workload.source))
      return brokerConflict(workload, this.options.describeSource(workload.source));
    workload.http.rps = rps;
    this.options.logger.info({ workload: policyKey(namespace, name), rps }, "steady load set");
    return { status: 200, body: this.stateOf(workload) };
  }
}

/** The names a workload publishes, its pods' and its own, each once. */
function seriesNames(plan: SeriesPlan): string[] {
  return [...new Set([...plan.series, ...plan.upstream].map((series) => series.name))];
}

function notFound(namespace: string, name: string): ApiResult {
  return {
    status: 404,
    body: { error: `no emulated workload ${namespace}/${name} (no such MLAutoscalePolicy, or not emulated)` },
  };
}

function brokerConflict(workload: EmulatedWorkload, description: string): ApiResult {
  return {
    status: 409,
    body: {
      error:
        `${workload.namespace}/${workload.name} takes its work from ${description}: publish to the broker ` +
        `(mlautoscale loadtest), or PUT {"source":{"type":"http"}} to load it over HTTP`,
    },
  };
}
