import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ControllerMetrics, ReconcileOutcome } from "../runtime/controller.js";
import type { RestClientMetrics } from "../runtime/rest.js";
import type { WorkQueueMetrics } from "../runtime/workqueue.js";

/**
 * The operator's Prometheus registry, with process metrics and the controller-runtime metric
 * families, so dashboards and alerts written for controller-runtime operators work unchanged.
 */
export class OperatorMetrics {
  readonly registry: Registry;
  private readonly queueDepth: Gauge<"name" | "controller">;
  private readonly queueAdds: Counter<"name" | "controller">;
  private readonly queueLatency: Histogram<"name" | "controller">;
  private readonly workDuration: Histogram<"name" | "controller">;
  private readonly retries: Counter<"name" | "controller">;
  private readonly unfinishedWork: Gauge<"name" | "controller">;
  private readonly longestRunning: Gauge<"name" | "controller">;
  private readonly reconcileTotal: Counter<"controller" | "result">;
  private readonly reconcileErrors: Counter<"controller">;
  private readonly terminalErrors: Counter<"controller">;
  private readonly reconcileTime: Histogram<"controller">;
  private readonly activeWorkers: Gauge<"controller">;
  private readonly maxConcurrent: Gauge<"controller">;
  private readonly apiRequests: Counter<"verb" | "resource" | "code">;
  private readonly inProgressSources = new Map<
    string,
    { unfinishedWorkSeconds(): number; longestRunningProcessorSeconds(): number }
  >();

  constructor(options: { registry?: Registry; processMetrics?: boolean } = {}) {
    this.registry = options.registry ?? new Registry();
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const queueLabels = ["name", "controller"] as const;
    // client-go's workqueue buckets: 10^-8 .. 10^1 seconds.
    const queueBuckets = Array.from({ length: 10 }, (_, power) => 10 ** (power - 8));
    this.queueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Current depth of workqueue",
      labelNames: queueLabels,
      registers,
    });
    this.queueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue",
      labelNames: queueLabels,
      registers,
    });
    this.queueLatency = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames: queueLabels,
      buckets: queueBuckets,
      registers,
    });
    this.workDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes",
      labelNames: queueLabels,
      buckets: queueBuckets,
      registers,
    });
    this.retries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue",
      labelNames: queueLabels,
      registers,
    });
    const sources = this.inProgressSources;
    this.unfinishedWork = new Gauge({
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration",
      labelNames: queueLabels,
      registers,
      collect() {
        for (const [name, source] of sources)
          this.set({ name, controller: name }, source.unfinishedWorkSeconds());
      },
    });
    this.longestRunning = new Gauge({
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running",
      labelNames: queueLabels,
      registers,
      collect() {
        for (const [name, source] of sources)
          this.set({ name, controller: name }, source.longestRunningProcessorSeconds());
      },
    });
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"] as const,
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"] as const,
      registers,
    });
    this.terminalErrors = new Counter({
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Total number of terminal reconciliation errors per controller",
      labelNames: ["controller"] as const,
      registers,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"] as const,
      buckets: [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
        1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
      ],
      registers,
    });
    this.activeWorkers = new Gauge({
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller",
      labelNames: ["controller"] as const,
      registers,
    });
    this.maxConcurrent = new Gauge({
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames: ["controller"] as const,
      registers,
    });
    // client-go's rest_client_requests_total has only the method and the host; the verb and resource,
    // named as kube-apiserver's apiserver_request_total names them, say which writes a reconcile costs.
    this.apiRequests = new Counter({
      name: "mlautoscale_api_requests_total",
      help: "Requests to the Kubernetes API by verb (as kube-apiserver counts them), resource and HTTP status code",
      labelNames: ["verb", "resource", "code"] as const,
      registers,
    });
  }

  /** The hook the API client reports each request to. */
  readonly restClient: RestClientMetrics = {
    requestDone: (verb, resource, code) => this.apiRequests.inc({ verb, resource, code }),
  };

  /** Metric hooks for the work queue of controller `name` (controller-runtime labels name=controller). */
  workQueue(name: string): WorkQueueMetrics {
    const labels = { name, controller: name };
    for (const outcome of ["success", "error", "requeue", "requeue_after"] as const) {
      // Zero-initialise so rate() works from the first scrape, as controller-runtime does.
      this.reconcileTotal.inc({ controller: name, result: outcome }, 0);
    }
    return {
      depth: (delta) => this.queueDepth.inc(labels, delta),
      added: () => this.queueAdds.inc(labels),
      queueDuration: (seconds) => this.queueLatency.observe(labels, seconds),
      workDuration: (seconds) => this.workDuration.observe(labels, seconds),
      retried: () => this.retries.inc(labels),
      observeInProgress: (source) => {
        this.inProgressSources.set(name, source);
      },
    };
  }

  /** Metric hooks for controller `name`. */
  controller(name: string): ControllerMetrics {
    const labels = { controller: name };
    this.reconcileErrors.inc(labels, 0);
    this.terminalErrors.inc(labels, 0);
    this.activeWorkers.set(labels, 0);
    return {
      reconciled: (outcome: ReconcileOutcome, seconds: number) => {
        this.reconcileTotal.inc({ controller: name, result: outcome });
        this.reconcileTime.observe(labels, seconds);
      },
      errored: (terminal) => {
        this.reconcileErrors.inc(labels);
        if (terminal) this.terminalErrors.inc(labels);
      },
      activeWorkers: (delta) => this.activeWorkers.inc(labels, delta),
      maxConcurrentReconciles: (value) => this.maxConcurrent.set(labels, value),
    };
  }
}
