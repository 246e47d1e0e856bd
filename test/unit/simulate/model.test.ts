// The model parameters of the simulation: the metric pipeline's delays, the brokers' counts, node
// capacity and provisioning, termination, and what an External metric without a selector sums.
import type { V1Deployment, V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ScaledObject } from "../../../src/keda/types.js";
import { NodePool } from "../../../src/simulate/capacity.js";
import { lastScrape, ObservationHistory } from "../../../src/simulate/pipeline.js";
import {
  DEFAULT_OPTIONS,
  MODEL_DEFAULTS,
  modelParameters,
  simulate,
  type SimulationOptions,
  type SimulationTarget,
} from "../../../src/simulate/simulate.js";
import { parseCsvTrace } from "../../../src/simulate/trace.js";
import { kedaTarget as kedaTargetOf } from "./support.js";

const deployment = (gpus = 1, terminationGracePeriodSeconds?: number): V1Deployment => ({
  spec: {
    selector: {},
    template: {
      spec: {
        containers: [
          {
            name: "model",
            resources: { requests: { cpu: "1", memory: "1Gi", "nvidia.com/gpu": String(gpus) } },
          },
        ],
        ...(terminationGracePeriodSeconds !== undefined && { terminationGracePeriodSeconds }),
      },
    },
  },
});

function hpaTarget(
  metrics: V2MetricSpec[],
  options: { min?: number; max?: number; gpus?: number } = {},
): SimulationTarget {
  const hpa: V2HorizontalPodAutoscaler = {
    spec: {
      scaleTargetRef: { kind: "Deployment", name: "model" },
      minReplicas: options.min ?? 1,
      maxReplicas: options.max ?? 20,
      metrics,
    },
  };
  return { name: "model", engine: "HPA", deployment: deployment(options.gpus), hpa, modelLoadSeconds: 60 };
}

function kedaTarget(
  triggers: ScaledObject["spec"]["triggers"],
  spec: Partial<ScaledObject["spec"]> = {},
): SimulationTarget {
  return kedaTargetOf(deployment(), triggers, spec);
}

const queueDepth: V2MetricSpec = {
  type: "Pods",
  pods: { metric: { name: "inference_queue_depth" }, target: { type: "AverageValue", averageValue: "10" } },
};
const cpu: V2MetricSpec = {
  type: "Resource",
  resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
};
const step = parseCsvTrace("t,rps\n0,5\n600,100\n1200,100\n");
const run = (target: SimulationTarget, trace = step, options: Partial<SimulationOptions> = {}) =>
  simulate(target, trace, { ...DEFAULT_OPTIONS, ...options });
const firstUpAfter = (events: { t: number; from: number; to: number }[], t: number) =>
  events.find((event) => event.t >= t && event.to > event.from)?.t;

describe("the metric pipeline", () => {
  it("scrapes half an interval after the start, on the tick grid", () => {
    expect(lastScrape(0, 0, 60, 15)).toBe(-30);
    expect(lastScrape(30, 0, 60, 15)).toBe(30);
    expect(lastScrape(89, 0, 60, 15)).toBe(30);
    expect(lastScrape(90, 0, 60, 15)).toBe(90);
    // 5 s scrapes on a 5 s tick: half of 5 rounds down to 0.
    expect(lastScrape(12, 0, 5, 5)).toBe(10);
  });

  it("keeps the state of past ticks and averages over a window of them", () => {
    const history = new ObservationHistory(15, 60);
    for (let t = 0; t <= 90; t += 15) {
      history.record({ t, queue: t, inFlight: 0, rate: t / 15, busy: 0, ready: 1, gpuAtFullLoad: 100 });
    }
    expect(history.at(45).queue).toBe(45);
    // Older than kept: the oldest kept.
    expect(history.at(-100).queue).toBe(history.at(0).queue > 0 ? history.at(0).queue : 0);
    // (30, 90]: rates 3, 4, 5, 6.
    expect(history.mean("rate", 90, 60)).toBe(4.5);
  });

  it("delays a Pods metric by the Prometheus scrape interval", () => {
    // 100 req/s from t=600 on 1 replica: the queue is seen at the first scrape after 600.
    const at5s = firstUpAfter(
      run(hpaTarget([queueDepth]), step, { prometheusScrapeIntervalSeconds: 5 }).events,
      600,
    );
    const at60s = firstUpAfter(run(hpaTarget([queueDepth])).events, 600);
    // 5 s scrapes: the tick is 5 s and the sync at 615 sees the scrape at 615 (the queue since 600).
    expect(at5s).toBe(615);
    // 60 s scrapes at 30, 90, ...: 630.
    expect(at60s).toBe(630);
  });

  it("reads CPU through metrics-server's window: a longer resolution reacts later", () => {
    const fast = firstUpAfter(
      run(hpaTarget([cpu]), step, { metricsServerResolutionSeconds: 15 }).events,
      600,
    );
    const slow = firstUpAfter(run(hpaTarget([cpu])).events, 600);
    expect(fast).toBeDefined();
    expect(slow).toBeDefined();
    expect(slow ?? 0).toBeGreaterThan(fast ?? 0);
  });

  it("reads the first point's load as already arriving, unless nothing arrived before the start", () => {
    const rps: V2MetricSpec = {
      type: "External",
      external: {
        metric: { name: "requests_per_second", selector: { matchLabels: { service: "model" } } },
        target: { type: "AverageValue", averageValue: "10" },
      },
    };
    const flat = parseCsvTrace("t,rps\n0,40\n300,40\n");
    // Steady: the first sync already sees 40/s for one replica of 10.
    expect(run(hpaTarget([rps]), flat, { initialReplicas: 1 }).events[0]?.t).toBe(0);
    // A load test's start: the scrape at 30 is the first to see it.
    expect(run(hpaTarget([rps]), flat, { initialReplicas: 1, idleBeforeStart: true }).events[0]?.t).toBe(30);
  });

  it("refuses periods that are not whole seconds", () => {
    expect(() => modelParameters({ prometheusScrapeIntervalSeconds: 2.5 })).toThrow(
      /prometheusScrapeIntervalSeconds: must be a whole number of seconds >= 1/,
    );
    expect(modelParameters({})).toEqual({ ...MODEL_DEFAULTS });
  });
});

describe("what the scalers count", () => {
  const flood = parseCsvTrace("t,rps\n0,200\n300,200\n");

  it("Kafka reports at most partitions x lagThreshold unless allowIdleConsumers", () => {
    const kafka = (metadata: Record<string, string>) => [
      {
        type: "kafka",
        metadata: { topic: "jobs", consumerGroup: "workers", lagThreshold: "10", ...metadata },
      },
    ];
    const peak = (metadata: Record<string, string>, partitions?: number) =>
      run(kedaTarget(kafka(metadata), { minReplicaCount: 1 }), flood, {
        initialReplicas: 1,
        ...(partitions !== undefined && { kafkaPartitions: partitions }),
      }).summary.peakReplicas;
    // One partition (a broker's default num.partitions): one consumer is all KEDA asks for.
    expect(peak({})).toBe(1);
    expect(peak({}, 4)).toBe(4);
    expect(peak({ allowIdleConsumers: "true" })).toBe(20);
  });

  it("RabbitMQ MessageRate scales on the publish rate", () => {
    const rate = [
      {
        type: "rabbitmq",
        metadata: { queueName: "jobs", protocol: "http", mode: "MessageRate", value: "20" },
      },
    ];
    const result = run(kedaTarget(rate, { minReplicaCount: 1 }), parseCsvTrace("t,rps\n0,100\n600,100\n"), {
      initialReplicas: 1,
    });
    // 100 messages/s over 20 per replica: 5, reached through the no-behavior doublings.
    expect(result.steps.at(-1)?.desiredReplicas).toBe(5);
  });

  it("Prometheus ignoreNullValues reads an empty result as 0; without it the scaler fails", () => {
    // The pods' own GPU series: none while the only pod loads its model, so the result is empty.
    const gpu = (ignoreNullValues: string) => [
      {
        type: "prometheus",
        metadata: {
          serverAddress: "http://prometheus:9090",
          query: 'sum(avg by (pod) (DCGM_FI_DEV_GPU_UTIL{pod=~"model-.*"}))',
          threshold: "70",
          ignoreNullValues,
        },
      },
    ];
    const spec = { minReplicaCount: 1, fallback: { failureThreshold: 1, replicas: 3 } };
    const quiet = parseCsvTrace("t,rps\n0,0\n300,0\n");
    // At zero replicas no pod reports GPU use. With ignoreNullValues the empty result reads 0: not
    // active, below minReplicaCount, so KEDA brings the target to 1.
    const ignored = run(kedaTarget(gpu("true"), spec), quiet, { initialReplicas: 0 });
    expect(ignored.events[0]).toMatchObject({
      t: 0,
      from: 0,
      to: 1,
      by: "KEDA",
      reason: "below minReplicaCount",
    });
    // Without it the scaler fails, and a failing scaler with fallback replicas holds the target where
    // it is (scale_scaledobjects.go: "ScaleTarget will fallback to Fallback.Replicas"): it stays at 0.
    const failing = run(kedaTarget(gpu("false"), spec), quiet, { initialReplicas: 0 });
    expect(failing.summary.peakReplicas).toBe(0);
  });
});

describe("capacity, provisioning and termination", () => {
  const busy = parseCsvTrace("t,rps\n0,100\n600,100\n");

  it("leaves pods Pending above the cluster's GPUs", () => {
    const result = run(hpaTarget([queueDepth]), busy, { gpuCapacity: 3 });
    expect(result.summary.peakReplicas).toBeGreaterThan(3);
    const last = result.steps.at(-1);
    expect((last?.readyReplicas ?? 0) + (last?.loadingReplicas ?? 0)).toBe(3);
    expect(last?.pendingReplicas).toBe((last?.desiredReplicas ?? 0) - 3);
  });

  it("waits for a new node when no GPU is free, then for the scheduling delay", () => {
    const warm = run(hpaTarget([queueDepth]), busy, { freeGpus: 10 });
    const cold = run(hpaTarget([queueDepth]), busy, { freeGpus: 0, nodeProvisioningSeconds: 180 });
    const firstReady = (result: typeof warm) =>
      result.steps.find((step) => step.readyReplicas > 1)?.t ?? Infinity;
    // The first scale-up at 30 (the first scrape): Ready at 30 + 10 + 60 = 100 with free GPUs. Without,
    // the cluster autoscaler sees the Pending pods at the next tick (45), their node is Ready at 225,
    // they start at 235 and are Ready at 295.
    expect(firstReady(warm)).toBe(105);
    expect(firstReady(cold)).toBe(300);
  });

  it("nodes the cluster autoscaler added go once empty for its unneeded time", () => {
    const pool = new NodePool(
      {
        gpusPerReplica: 1,
        gpuCapacity: 8,
        freeGpus: 0,
        gpusPerNode: 2,
        nodeProvisioningSeconds: 100,
        nodeScaleDownSeconds: 600,
      },
      1,
      0,
    );
    expect(pool.bind(0)).toBeUndefined();
    // Three pending replicas: two nodes of two GPUs.
    pool.autoscale(3, 0);
    expect(pool.totalGpus).toBe(5);
    expect(pool.bind(50)).toBeUndefined();
    const node = pool.bind(100);
    expect(node).toBeDefined();
    pool.release(node, 200);
    // The node no pod went to has been empty since it was Ready (100): gone at 700.
    pool.autoscale(0, 700);
    expect(pool.totalGpus).toBe(3);
    // The other, empty since 200: gone at 800; the starting node stays.
    pool.autoscale(0, 800);
    expect(pool.totalGpus).toBe(1);
  });

  it("counts a removed pod's GPU until its termination grace period ends", () => {
    const spike = parseCsvTrace("t,rps\n0,100\n300,0\n1800,0\n");
    const target = (grace: number) => ({ ...hpaTarget([queueDepth]), deployment: deployment(1, grace) });
    const quick = run(target(0), spike);
    const slow = run(target(600), spike);
    expect(slow.summary.scaleDowns).toBeGreaterThan(0);
    expect(slow.summary.gpuHours).toBeGreaterThan(quick.summary.gpuHours);
    // --termination-seconds overrides the pod's own.
    expect(run(target(600), spike, { terminationSeconds: 0 }).summary.gpuHours).toBeCloseTo(
      quick.summary.gpuHours,
      9,
    );
  });
});

describe("an HPA External metric without a selector", () => {
  const gpuMetric = (selector?: Record<string, string>): V2MetricSpec => ({
    type: "External",
    external: {
      metric: { name: "DCGM_FI_DEV_GPU_UTIL", ...(selector && { selector: { matchLabels: selector } }) },
      target: { type: "AverageValue", averageValue: "70" },
    },
  });
  const busy = parseCsvTrace("t,rps\n0,10\n600,10\n");

  it("sums every GPU's series, and the namespace's other series of that name", () => {
    // One replica of 2 GPUs, fully busy: 2 series at 100 = 200 over 70 per replica -> 3.
    const alone = run(hpaTarget([gpuMetric()], { gpus: 2 }), busy, { initialReplicas: 1 });
    expect(alone.events[0]).toMatchObject({ from: 1, to: 3 });
    // Another workload's 300 in the same namespace: (200 + 300) / 70 -> 8, capped at max(2 x 1, 4).
    const shared = run(hpaTarget([gpuMetric()], { gpus: 2 }), busy, {
      initialReplicas: 1,
      namespaceMetrics: new Map([["DCGM_FI_DEV_GPU_UTIL", 300]]),
    });
    expect(shared.events[0]).toMatchObject({ from: 1, to: 4 });
    // With a selector the other workloads' series do not match.
    const selected = run(hpaTarget([gpuMetric({ app: "model" })], { gpus: 2 }), busy, {
      initialReplicas: 1,
      namespaceMetrics: new Map([["DCGM_FI_DEV_GPU_UTIL", 300]]),
    });
    expect(selected.events[0]).toMatchObject({ from: 1, to: 3 });
  });
});
