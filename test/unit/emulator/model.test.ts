import { describe, expect, it } from "vitest";
import { MLAutoscalePolicySchema, type MLAutoscalePolicy } from "../../../src/api/v1alpha1/index.js";
import { DEFAULT_OPTIONS } from "../../../src/simulate/simulate.js";
import { SIGNALS, type Signal } from "../../../src/simulate/signals.js";
import {
  BrokerConsumption,
  DEFAULT_PARAMETERS,
  effectiveParameters,
  HttpLoad,
  IDLE_ACTIVITY,
  mergeOverrides,
  parseArrivals,
  parseLoad,
  firstSelector,
  podSamples,
  podSignals,
  serverSeries,
  workloadSamples,
  podStateOf,
  podUsage,
  renderPrometheus,
  seriesFromPolicy,
  sourceFromPolicy,
  usagePatch,
  MIN_PATCH_INTERVAL_SECONDS,
  type PodObject,
  type PodState,
  type WorkloadActivity,
} from "../../../dev/emulator/model.js";

const NOW = Date.parse("2030-01-01T00:10:00Z") / 1000;
const iso = (secondsBeforeNow: number): string => new Date((NOW - secondsBeforeNow) * 1000).toISOString();

function policy(spec: {
  scaling: Record<string, unknown>;
  replicas?: { min: number; max: number };
}): MLAutoscalePolicy {
  return MLAutoscalePolicySchema.parse({
    apiVersion: "mlautoscale.io/v1alpha1",
    kind: "MLAutoscalePolicy",
    metadata: { name: "ranker", namespace: "ml" },
    spec: {
      workload: { template: { image: "registry.example.com/ranker:1", gpu: { count: 1 } } },
      replicas: spec.replicas ?? { min: 1, max: 6 },
      scaling: spec.scaling,
    },
  });
}

interface PodOptions {
  name?: string;
  started?: boolean;
  ready?: boolean;
  deleting?: boolean;
  gpus?: number;
  cpu?: string;
  cpuLimit?: string;
  memory?: string;
  containers?: number;
  annotations?: Record<string, string>;
}

function podObject(options: PodOptions = {}): PodObject {
  const containers = Array.from({ length: options.containers ?? 1 }, (_, index) => ({
    name: `c${index}`,
    resources: {
      requests: {
        ...(options.cpu !== undefined && { cpu: options.cpu }),
        ...(options.memory !== undefined && { memory: options.memory }),
        ...(options.gpus !== undefined && index === 0 && { "nvidia.com/gpu": String(options.gpus) }),
      },
      limits: {
        ...(options.cpuLimit !== undefined && { cpu: options.cpuLimit }),
        ...(options.gpus !== undefined && index === 0 && { "nvidia.com/gpu": String(options.gpus) }),
      },
    },
  }));
  return {
    metadata: {
      name: options.name ?? "ranker-abc",
      namespace: "ml",
      labels: { "mlautoscale.io/policy": "ranker" },
      creationTimestamp: iso(120),
      ...(options.deleting && { deletionTimestamp: iso(1) }),
      ...(options.annotations && { annotations: options.annotations }),
    },
    spec: { containers },
    status: {
      phase: options.started === false ? "Pending" : "Running",
      ...(options.started !== false && { startTime: iso(100) }),
      conditions: [
        { type: "Ready", status: options.ready === false ? "False" : "True", lastTransitionTime: iso(40) },
      ],
    },
  };
}

const pod = (options: PodOptions = {}): PodState => podStateOf(podObject(options), NOW);

function activity(changes: Partial<WorkloadActivity>): WorkloadActivity {
  return { ...IDLE_ACTIVITY, ...changes };
}

/** Every signal a pod reports, 0 unless given. */
function signals(values: Partial<Record<Signal, number>>): Record<Signal, number> {
  return {
    ...(Object.fromEntries(SIGNALS.map((signal) => [signal, 0])) as Record<Signal, number>),
    ...values,
  };
}

describe("pods as the emulator sees them", () => {
  it("is Ready only with the Ready condition True and no deletion under way", () => {
    expect(pod().readyAt).toBe(NOW - 40);
    expect(pod({ ready: false }).readyAt).toBeUndefined();
    expect(pod({ deleting: true }).readyAt).toBeUndefined();
    expect(pod({ started: false }).startedAt).toBeUndefined();
  });

  it("sums requests over containers, takes the limit where there is no request, and counts GPUs", () => {
    const state = pod({ cpu: "1500m", memory: "2Gi", containers: 2, gpus: 2 });
    expect(state.cpuBaseMilli).toBe(3000);
    expect(state.memoryBaseBytes).toBe(4 * 2 ** 30);
    expect(state.gpus).toBe(2);
    expect(pod({ cpuLimit: "2" }).cpuBaseMilli).toBe(2000);
    expect(pod().cpuBaseMilli).toBeUndefined();
  });
});

describe("HTTP load", () => {
  it("serves at the simulator's default rate per Ready pod, and not with pods that are loading", () => {
    const load = new HttpLoad(DEFAULT_PARAMETERS);
    load.arrive(100);
    const pods = [pod({ name: "a" }), pod({ name: "b" }), pod({ name: "c", ready: false })];
    const step = load.step(NOW, 1, pods);
    expect(DEFAULT_PARAMETERS.serviceRatePerReplica).toBe(DEFAULT_OPTIONS.serviceRatePerReplica);
    expect(step.readyPods).toBe(2);
    expect(step.served).toBeCloseTo(2 * DEFAULT_OPTIONS.serviceRatePerReplica);
    expect(step.queue).toBeCloseTo(100 - 2 * DEFAULT_OPTIONS.serviceRatePerReplica);
    expect(step.busy).toBe(1);
  });

  it("reports how busy the pods were under a steady rate below capacity", () => {
    const load = new HttpLoad(DEFAULT_PARAMETERS);
    load.rps = 15;
    const step = load.step(NOW, 1, [pod({ name: "a" }), pod({ name: "b" })]);
    expect(step.arrivalRate).toBeCloseTo(15);
    expect(step.busy).toBeCloseTo(0.75);
    expect(step.queue).toBe(0);
  });

  it("serves nothing without Ready pods and keeps the queue", () => {
    const load = new HttpLoad(DEFAULT_PARAMETERS);
    load.arrive(30);
    const step = load.step(NOW, 1, [pod({ ready: false })]);
    expect(step.served).toBe(0);
    expect(step.busy).toBe(0);
    expect(step.queue).toBe(30);
  });

  it("serves as soon as the pods it is given change, from one step to the next", () => {
    // The emulator hands the load the pods of its cache at every tick: a pod that became Ready, or a
    // new one, serves from that tick on, and a pod that left serves nothing more.
    const load = new HttpLoad(DEFAULT_PARAMETERS);
    load.rps = 10;
    expect(load.step(NOW, 1, []).served).toBe(0);
    expect(load.step(NOW + 1, 1, [pod({ name: "a", ready: false })]).served).toBe(0);
    const ready = load.step(NOW + 2, 1, [pod({ name: "a" })]);
    expect(ready.readyPods).toBe(1);
    expect(ready.served).toBeCloseTo(DEFAULT_OPTIONS.serviceRatePerReplica);
    const two = load.step(NOW + 3, 1, [pod({ name: "a" }), pod({ name: "b" })]);
    expect(two.served).toBeCloseTo(2 * DEFAULT_OPTIONS.serviceRatePerReplica);
    expect(load.step(NOW + 4, 1, [pod({ name: "a", deleting: true })]).served).toBe(0);
  });

  it("follows a changed service rate", () => {
    const load = new HttpLoad(DEFAULT_PARAMETERS);
    load.setParameters(effectiveParameters({ serviceRatePerReplica: 50 }));
    load.arrive(100);
    expect(load.step(NOW, 1, [pod()]).served).toBeCloseTo(50);
  });
});

describe("broker consumption", () => {
  it("takes the Ready pods' capacity in whole messages and carries the fraction over", () => {
    const consumption = new BrokerConsumption();
    const first = consumption.plan(1, 0.4, 1);
    expect(first.take).toBe(0);
    consumption.settle(first, 0, 5);
    const second = consumption.plan(1, 0.4, 1);
    expect(second.take).toBe(0);
    consumption.settle(second, 0, 5);
    const third = consumption.plan(1, 0.4, 1);
    expect(third.take).toBe(1);
    const settled = consumption.settle(third, 1, 4);
    expect(settled.busy).toBe(1);
    // 1.2 of capacity, 1 taken: 0.2 carries into the next cycle.
    expect(consumption.plan(1, 0.4, 1).budget).toBeCloseTo(0.6);
  });

  it("is idle for the rest of a cycle when the broker runs dry, with nothing carried", () => {
    const consumption = new BrokerConsumption();
    const plan = consumption.plan(2, 10, 1.25);
    expect(plan.take).toBe(25);
    const settled = consumption.settle(plan, 5, 0);
    expect(settled.busy).toBeCloseTo(0.2);
    expect(consumption.plan(2, 10, 1).budget).toBeCloseTo(20);
  });

  it("consumes nothing without Ready pods", () => {
    const consumption = new BrokerConsumption();
    const plan = consumption.plan(0, 10, 1);
    expect(plan.take).toBe(0);
    expect(consumption.settle(plan, 0, 40).busy).toBe(0);
  });

  it("estimates the arrival rate from the depth and what it consumed", () => {
    const consumption = new BrokerConsumption();
    consumption.settle(consumption.plan(1, 10, 1), 10, 50);
    const settled = consumption.settle(consumption.plan(1, 10, 2), 20, 60);
    // 60 = 50 + arrivals - 20
    expect(settled.arrivalRate).toBeCloseTo(15);
    expect(settled.queue).toBe(60);
  });
});

describe("work sources", () => {
  it("reads the queue a trigger names, else serves HTTP load", () => {
    const trigger = (type: string, metadata: Record<string, string>) =>
      policy({ replicas: { min: 0, max: 4 }, scaling: { triggers: [{ type, metadata }] } });
    expect(
      sourceFromPolicy(trigger("rabbitmq", { queueName: "jobs", mode: "QueueLength", value: "5" })),
    ).toEqual({
      type: "rabbitmq",
      queueName: "jobs",
    });
    expect(
      sourceFromPolicy(
        trigger("aws-sqs-queue", {
          queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/training-jobs",
          awsRegion: "eu-west-1",
          queueLength: "2",
        }),
      ),
    ).toEqual({
      type: "aws-sqs-queue",
      queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/training-jobs",
      awsRegion: "eu-west-1",
    });
    expect(
      sourceFromPolicy(
        trigger("kafka", {
          bootstrapServers: "kafka:9092",
          consumerGroup: "g",
          topic: "t",
          lagThreshold: "10",
        }),
      ),
    ).toEqual({ type: "kafka", topic: "t", consumerGroup: "g", partitions: 4 });
    expect(sourceFromPolicy(policy({ scaling: { metrics: { cpu: { targetUtilization: 70 } } } }))).toEqual({
      type: "http",
    });
  });
});

describe("per-pod series", () => {
  const hybrid = policy({
    scaling: {
      metrics: {
        external: [
          { metricName: "requests_per_second", selector: { service: "hybrid-ml" }, targetAverageValue: 100 },
        ],
      },
    },
  });

  it("gives the external metric's selector labels to the pods' own series of that name", () => {
    const plan = seriesFromPolicy(hybrid);
    const rps = plan.series.filter((series) => series.name === "requests_per_second");
    expect(rps).toHaveLength(1);
    expect(rps[0]?.labels).toEqual({ service: "hybrid-ml" });
    const samples = podSamples(plan.series, [pod({ gpus: 1 })], signals({ rps: 40, gpu: 50 }));
    expect(samples).toContainEqual({
      name: "requests_per_second",
      labels: { namespace: "ml", pod: "ranker-abc", service: "hybrid-ml" },
      value: 40,
    });
  });

  it("adds a series for a differently named queue or GPU metric, and one per external name", () => {
    const plan = seriesFromPolicy(
      policy({
        scaling: {
          engine: "HPA",
          metrics: {
            queueDepth: { metricName: "vllm_num_requests_waiting", targetAverageValue: 5 },
            gpuUtilization: { metricName: "gpu_busy_percent", targetUtilization: 70 },
            external: [
              { metricName: "kafka_consumer_lag", targetValue: 10 },
              { metricName: "mystery_metric", targetValue: 3 },
            ],
          },
        },
      }),
    );
    const signals = Object.fromEntries(plan.series.map((series) => [series.name, series.signal]));
    expect(signals).toMatchObject({
      inference_queue_depth: "queue",
      requests_per_second: "rps",
      DCGM_FI_DEV_GPU_UTIL: "gpu",
      vllm_num_requests_waiting: "queue",
      gpu_busy_percent: "gpu",
      kafka_consumer_lag: "queue",
    });
    expect(signals).not.toHaveProperty("mystery_metric");
    expect(plan.skipped.join("\n")).toContain("mystery_metric");
  });

  it("publishes one GPU series per GPU the pod requests, none for a pod without GPUs", () => {
    const plan = seriesFromPolicy(hybrid);
    const gpuSamples = (gpus: number) =>
      podSamples(plan.series, [pod({ gpus })], signals({ gpu: 80 })).filter(
        (sample) => sample.name === "DCGM_FI_DEV_GPU_UTIL",
      );
    expect(gpuSamples(2).map((sample) => sample.labels.gpu)).toEqual(["0", "1"]);
    expect(gpuSamples(2).every((sample) => sample.value === 80)).toBe(true);
    expect(gpuSamples(0)).toEqual([]);
  });

  it("publishes nothing for pods that are not Ready", () => {
    const plan = seriesFromPolicy(hybrid);
    const samples = podSamples(
      plan.series,
      [pod({ ready: false }), pod({ deleting: true })],
      signals({ queue: 5, rps: 5, gpu: 5, waiting: 5, running: 5, kvCache: 5 }),
    );
    expect(samples).toEqual([]);
  });

  it("spreads the HTTP queue and the arrival rate evenly over Ready pods", () => {
    const signals = podSignals(
      { type: "http" },
      activity({ readyPods: 4, queue: 40, arrivalRate: 100, busy: 0.5 }),
      DEFAULT_PARAMETERS,
    );
    // An LLM server's: 40 waiting over 4, half of a 32-request batch running, half its KV cache.
    expect(signals).toEqual({
      queue: 10,
      rps: 25,
      gpu: 50,
      waiting: 10,
      running: 16,
      kvCache: 50,
      upstream: 0,
    });
  });

  it("reports a broker worker's queue as the message it holds while busy", () => {
    const source = { type: "rabbitmq", queueName: "jobs" } as const;
    const busy = podSignals(source, activity({ readyPods: 2, queue: 500, busy: 1 }), DEFAULT_PARAMETERS);
    expect(busy.queue).toBe(1);
    const idle = podSignals(source, activity({ readyPods: 2, queue: 0, busy: 0 }), DEFAULT_PARAMETERS);
    expect(idle.queue).toBe(0);
  });

  it("scales GPU utilization by the utilization at full load", () => {
    const params = effectiveParameters({ gpuUtilizationAtFullLoad: 60 });
    expect(podSignals({ type: "http" }, activity({ readyPods: 1, busy: 0.5 }), params).gpu).toBe(30);
  });

  it("renders the Prometheus text format, one TYPE line per metric", () => {
    const text = renderPrometheus([
      { name: "requests_per_second", labels: { namespace: "ml", pod: "a" }, value: 1.5 },
      { name: "DCGM_FI_DEV_GPU_UTIL", labels: { namespace: "ml", pod: "a", gpu: "0" }, value: 75 },
      { name: "requests_per_second", labels: { namespace: "ml", pod: "b", note: 'say "hi"' }, value: 2 },
    ]);
    expect(text).toBe(
      [
        "# TYPE requests_per_second gauge",
        'requests_per_second{namespace="ml",pod="a"} 1.5',
        'requests_per_second{namespace="ml",pod="b",note="say \\"hi\\""} 2',
        "# TYPE DCGM_FI_DEV_GPU_UTIL gauge",
        'DCGM_FI_DEV_GPU_UTIL{namespace="ml",pod="a",gpu="0"} 75',
        "",
      ].join("\n"),
    );
  });
});

describe("CPU and memory usage", () => {
  it("is an idle baseline plus the busy share of the CPU request, and a flat share of the memory request", () => {
    const usage = podUsage(pod({ cpu: "2", memory: "4Gi" }), 0.5, DEFAULT_PARAMETERS);
    expect(usage?.cpuMilli).toBeCloseTo(2000 * (DEFAULT_PARAMETERS.idleCpuFraction + 0.5));
    expect(usage?.memoryBytes).toBeCloseTo((4 * 2 ** 30 * DEFAULT_OPTIONS.memoryUtilizationPercent) / 100);
  });

  it("keeps a loading pod at the baseline and reports nothing for a pod that has not started", () => {
    expect(podUsage(pod({ cpu: "2", ready: false }), 1, DEFAULT_PARAMETERS)?.cpuMilli).toBeCloseTo(40);
    expect(podUsage(pod({ cpu: "2", started: false }), 1, DEFAULT_PARAMETERS)).toBeUndefined();
    expect(podUsage(pod({ cpu: "2", deleting: true }), 1, DEFAULT_PARAMETERS)).toBeUndefined();
  });

  it("writes quantities KWOK reads, per container", () => {
    const state = pod({ cpu: "2", memory: "4Gi" });
    const patch = usagePatch(state, { cpuMilli: 1500, memoryBytes: 2458 * 2 ** 20 }, undefined, NOW);
    expect(patch).toEqual({ "kwok.x-k8s.io/usage-cpu": "1500m", "kwok.x-k8s.io/usage-memory": "2458Mi" });
    const twoContainers = pod({ cpu: "1", memory: "2Gi", containers: 2 });
    expect(
      usagePatch(twoContainers, { cpuMilli: 1500, memoryBytes: 2458 * 2 ** 20 }, undefined, NOW),
    ).toEqual({
      "kwok.x-k8s.io/usage-cpu": "750m",
      "kwok.x-k8s.io/usage-memory": "1229Mi",
    });
  });

  it("writes nothing when the pod already shows about the same usage", () => {
    const state = pod({
      cpu: "2",
      memory: "4Gi",
      annotations: { "kwok.x-k8s.io/usage-cpu": "1500m", "kwok.x-k8s.io/usage-memory": "2458Mi" },
    });
    const long = NOW + 3600;
    expect(usagePatch(state, { cpuMilli: 1520, memoryBytes: 2458 * 2 ** 20 }, NOW, long)).toBeUndefined();
    expect(usagePatch(state, { cpuMilli: 1900, memoryBytes: 2458 * 2 ** 20 }, NOW, long)).toEqual({
      "kwok.x-k8s.io/usage-cpu": "1900m",
    });
  });

  it("spaces out writes to a pod, except the first", () => {
    const shown = pod({ cpu: "2", annotations: { "kwok.x-k8s.io/usage-cpu": "40m" } });
    const busy = { cpuMilli: 2000, memoryBytes: undefined };
    expect(usagePatch(shown, busy, NOW, NOW + 1)).toBeUndefined();
    expect(usagePatch(shown, busy, NOW, NOW + MIN_PATCH_INTERVAL_SECONDS)).toEqual({
      "kwok.x-k8s.io/usage-cpu": "2000m",
    });
    expect(usagePatch(pod({ cpu: "2" }), busy, NOW, NOW + 1)).toEqual({ "kwok.x-k8s.io/usage-cpu": "2000m" });
  });
});

describe("the API's input", () => {
  it("merges overrides, and null restores the default", () => {
    const first = mergeOverrides(
      {},
      { serviceRatePerReplica: 25, source: { type: "rabbitmq", queueName: "q" } },
    );
    expect(first).toEqual({
      ok: true,
      value: { serviceRatePerReplica: 25, source: { type: "rabbitmq", queueName: "q" } },
    });
    if (!first.ok) return;
    const second = mergeOverrides(first.value, { source: null, requestTimeoutSeconds: 5 });
    expect(second).toEqual({ ok: true, value: { serviceRatePerReplica: 25, requestTimeoutSeconds: 5 } });
    expect(effectiveParameters(second.ok ? second.value : {})).toMatchObject({
      serviceRatePerReplica: 25,
      requestTimeoutSeconds: 5,
      latencySloSeconds: DEFAULT_OPTIONS.latencySloSeconds,
    });
  });

  it("refuses bad input with a message naming the field", () => {
    const rate = mergeOverrides({}, { serviceRatePerReplica: -1 });
    expect(rate.ok).toBe(false);
    expect(!rate.ok && rate.message).toMatch(/serviceRatePerReplica/);
    const unknown = mergeOverrides({}, { servicerate: 3 });
    expect(unknown.ok).toBe(false);
    const source = mergeOverrides({}, { source: { type: "kafka", topic: "t" } });
    expect(!source.ok && source.message).toMatch(/source\.consumerGroup/);
    expect(parseArrivals({ count: -1 }).ok).toBe(false);
    expect(parseArrivals({ count: 12 })).toEqual({ ok: true, value: 12 });
    expect(parseLoad({ rps: "fast" }).ok).toBe(false);
    expect(parseLoad({ rps: 0 })).toEqual({ ok: true, value: 0 });
  });
});

describe("an LLM server's metrics", () => {
  const chat = policy({
    replicas: { min: 0, max: 4 },
    scaling: {
      metrics: {
        server: {
          engine: "vLLM",
          modelName: "llama",
          prometheus: { serverAddress: "http://prometheus:9090" },
          activation: {
            query:
              'sum(llm_d_epp_flow_control_queue_size{inference_pool="chat"} or inference_extension_flow_control_queue_size{inference_pool="chat"})',
          },
        },
      },
    },
  });

  it("are published under the engine's current names, with its model label", () => {
    const plan = seriesFromPolicy(chat);
    const samples = podSamples(plan.series, [pod()], signals({ waiting: 3, running: 16, kvCache: 50 }));
    const labels = { namespace: "ml", pod: "ranker-abc", model_name: "llama" };
    expect(samples).toEqual(
      expect.arrayContaining([
        { name: "vllm:num_requests_waiting", labels, value: 3 },
        { name: "vllm:num_requests_running", labels, value: 16 },
        { name: "vllm:kv_cache_usage_perc", labels, value: 0.5 },
      ]),
    );
    expect(samples.map((sample) => sample.name)).not.toContain("vllm:gpu_cache_usage_perc");
  });

  it("pick Triton's series out of their families, and give TGI's KV cache as tokens over a capacity", () => {
    const triton = podSamples(
      serverSeries("Triton", "ensemble"),
      [pod()],
      signals({ waiting: 2, kvCache: 40 }),
    );
    expect(triton).toEqual([
      {
        name: "nv_trt_llm_request_metrics",
        labels: { namespace: "ml", pod: "ranker-abc", request_type: "waiting", model: "ensemble" },
        value: 2,
      },
      {
        name: "nv_trt_llm_request_metrics",
        labels: { namespace: "ml", pod: "ranker-abc", request_type: "scheduled", model: "ensemble" },
        value: 0,
      },
      {
        name: "nv_trt_llm_kv_cache_block_metrics",
        labels: { namespace: "ml", pod: "ranker-abc", kv_cache_block_type: "fraction", model: "ensemble" },
        value: 0.4,
      },
    ]);
    const tgi = podSamples(serverSeries("TGI"), [pod()], signals({ kvCache: 25 }));
    const value = (name: string) => tgi.find((sample) => sample.name === name)?.value;
    expect((value("tgi_batch_current_max_tokens") ?? 0) / (value("tgi_batch_max_total_tokens") ?? 1)).toBe(
      0.25,
    );
  });

  it("publish the activation query's series for the workload, with the query's labels, not per pod", () => {
    const plan = seriesFromPolicy(chat);
    expect(plan.upstream).toEqual([
      { name: "llm_d_epp_flow_control_queue_size", labels: { inference_pool: "chat" } },
    ]);
    expect(workloadSamples(plan.upstream, "ml", signals({ upstream: 12 }))).toEqual([
      {
        name: "llm_d_epp_flow_control_queue_size",
        labels: { namespace: "ml", inference_pool: "chat" },
        value: 12,
      },
    ]);
  });

  it("hold the requests upstream while no replica is Ready, and in the servers once one is", () => {
    const atZero = podSignals({ type: "http" }, activity({ readyPods: 0, queue: 30 }), DEFAULT_PARAMETERS);
    expect(atZero.upstream).toBe(30);
    expect(atZero.waiting).toBe(0);
    const serving = podSignals(
      { type: "http" },
      activity({ readyPods: 2, queue: 30, busy: 1 }),
      DEFAULT_PARAMETERS,
    );
    expect(serving).toMatchObject({ upstream: 0, waiting: 15, running: 32, kvCache: 100 });
  });
});

describe("the first series a query reads", () => {
  it.each([
    [
      'sum(rate(http_requests_total{job="gw", code=~"5.."}[1m]))',
      { name: "http_requests_total", labels: { job: "gw" } },
    ],
    ["max by (pool) (gateway_queue)", { name: "gateway_queue", labels: {} }],
    ['sum(q{a="x\\"y"}) or vector(0)', { name: "q", labels: { a: 'x"y' } }],
  ])("%s", (query, expected) => {
    expect(firstSelector(query)).toEqual(expected);
  });

  it("is none for a query of constants", () => {
    expect(firstSelector("vector(1) + 2")).toBeUndefined();
  });
});
