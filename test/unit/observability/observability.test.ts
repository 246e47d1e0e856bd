import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { controllerLogger, createLogger } from "../../../src/observability/logger.js";
import { OperatorMetrics } from "../../../src/observability/metrics.js";
import { ObservabilityServer } from "../../../src/observability/server.js";
import { ManualClock } from "../../../src/runtime/clock.js";
import { WorkQueue } from "../../../src/runtime/workqueue.js";

describe("OperatorMetrics", () => {
  it("exposes the controller-runtime metric families with their labels", async () => {
    const metrics = new OperatorMetrics({ processMetrics: false });
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock, metrics: metrics.workQueue("policies") });
    const controller = metrics.controller("policies");
    queue.add("ns/a");
    await queue.get();
    clock.advance(2_000);
    controller.reconciled("success", 0.2);
    controller.reconciled("requeue_after", 0.1);
    controller.errored(true);
    controller.reconciled("error", 0.3);
    controller.maxConcurrentReconciles(4);
    controller.activeWorkers(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('workqueue_adds_total{name="policies",controller="policies"} 1');
    expect(text).toContain('workqueue_depth{name="policies",controller="policies"} 0');
    expect(text).toContain('workqueue_unfinished_work_seconds{name="policies",controller="policies"} 2');
    expect(text).toContain(
      'workqueue_longest_running_processor_seconds{name="policies",controller="policies"} 2',
    );
    expect(text).toContain('workqueue_queue_duration_seconds_count{name="policies",controller="policies"} 1');
    expect(text).toContain('controller_runtime_reconcile_total{controller="policies",result="success"} 1');
    expect(text).toContain('controller_runtime_reconcile_total{controller="policies",result="requeue"} 0');
    expect(text).toContain('controller_runtime_reconcile_total{controller="policies",result="error"} 1');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="policies"} 1');
    expect(text).toContain('controller_runtime_terminal_reconcile_errors_total{controller="policies"} 1');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="policies"} 3');
    expect(text).toContain('controller_runtime_max_concurrent_reconciles{controller="policies"} 4');
    expect(text).toContain('controller_runtime_active_workers{controller="policies"} 1');
  });

  it("counts the API requests its client reports, by verb, resource and code", async () => {
    const metrics = new OperatorMetrics({ processMetrics: false });
    metrics.restClient.requestDone("APPLY", "mlautoscalepolicies.mlautoscale.io/status", "200");
    metrics.restClient.requestDone("APPLY", "mlautoscalepolicies.mlautoscale.io/status", "200");
    metrics.restClient.requestDone("POST", "deployments.apps", "409");
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'mlautoscale_api_requests_total{verb="APPLY",resource="mlautoscalepolicies.mlautoscale.io/status",code="200"} 2',
    );
    expect(text).toContain(
      'mlautoscale_api_requests_total{verb="POST",resource="deployments.apps",code="409"} 1',
    );
  });

  it("includes process metrics by default", async () => {
    const text = await new OperatorMetrics().registry.metrics();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });
});

describe("ObservabilityServer", () => {
  let server: ObservabilityServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it("serves metrics, liveness, and readiness that follows its checks", async () => {
    const metrics = new OperatorMetrics({ processMetrics: false });
    metrics.controller("policies");
    let synced = false;
    server = new ObservabilityServer({
      registry: metrics.registry,
      host: "127.0.0.1",
      port: 0,
      liveness: [{ name: "manager", check: () => undefined }],
      readiness: [{ name: "caches", check: () => (synced ? undefined : "policies cache not synced") }],
    });
    const port = await server.start();
    const get = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return {
        status: response.status,
        body: await response.text(),
        type: response.headers.get("content-type"),
      };
    };
    expect(await get("/healthz")).toMatchObject({ status: 200, body: "ok\n" });
    expect(await get("/readyz")).toMatchObject({ status: 503, body: "caches: policies cache not synced\n" });
    synced = true;
    expect((await get("/readyz")).status).toBe(200);
    const scraped = await get("/metrics");
    expect(scraped.status).toBe(200);
    expect(scraped.type).toContain("text/plain");
    expect(scraped.body).toContain("controller_runtime_reconcile_errors_total");
    expect((await get("/nope")).status).toBe(404);
  });
});

describe("logger", () => {
  it("writes JSON lines with the level name and bound controller context", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString("utf8"));
        callback();
      },
    });
    const logger = createLogger({ level: "info", destination });
    controllerLogger(logger, { controller: "policies", namespace: "ns", name: "a", reconcileID: "r-1" }).info(
      "hello",
    );
    logger.debug("hidden below the level");
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: "info",
      controller: "policies",
      namespace: "ns",
      name: "a",
      reconcileID: "r-1",
      msg: "hello",
    });
  });
});
