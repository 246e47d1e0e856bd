import { readFileSync } from "node:fs";
import type { V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ScaledObject } from "../../../src/keda/types.js";
import { DEFAULT_OPTIONS, simulate, type SimulationTarget } from "../../../src/simulate/simulate.js";
import { parseCsvTrace, parseTrace } from "../../../src/simulate/trace.js";
import { kedaTarget as kedaTargetOf } from "./support.js";

const trace = (name: string) =>
  parseTrace(readFileSync(new URL(`../../../examples/traces/${name}`, import.meta.url), "utf8"), name);

const deployment: V1Deployment = {
  spec: {
    selector: {},
    template: {
      spec: {
        containers: [
          {
            name: "model",
            resources: { requests: { cpu: "2", memory: "4Gi" }, limits: { "nvidia.com/gpu": "1" } },
          },
        ],
      },
    },
  },
};

const realtimeHpa: V2HorizontalPodAutoscaler = {
  spec: {
    scaleTargetRef: { kind: "Deployment", name: "model" },
    minReplicas: 2,
    maxReplicas: 30,
    metrics: [
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      },
      {
        type: "Pods",
        pods: {
          metric: { name: "inference_queue_depth" },
          target: { type: "AverageValue", averageValue: "10" },
        },
      },
    ],
  },
};

const hpaTarget: SimulationTarget = {
  name: "realtime",
  engine: "HPA",
  deployment,
  hpa: realtimeHpa,
  modelLoadSeconds: 60,
};

function kedaTarget(
  triggers: ScaledObject["spec"]["triggers"],
  extra: Partial<ScaledObject["spec"]> = {},
): SimulationTarget {
  return kedaTargetOf(deployment, triggers, { minReplicaCount: 0, ...extra });
}

describe("step trace through an HPA", () => {
  const result = simulate(hpaTarget, trace("step.csv"));

  it("scales up at the first sync after a scrape that sees the queue; new pods serve after scheduling + model load", () => {
    // Before the step, 20 req/s keeps 2 replicas 100 % busy. metrics-server (60 s resolution, scraping
    // at 30, 90, ...) first reports a full window of it at 90: CPU 100 % vs 70 % -> ceil(1.43 * 2) = 3.
    expect(result.events[0]).toMatchObject({ t: 90, from: 2, to: 3, by: "HPA" });
    // At t=1800 the load steps to 120 req/s against 3 x 10 req/s: the queue grows 1350 per 15 s tick.
    // Prometheus (60 s scrapes at 30, 90, ...) sees it at 1830: 2700 waiting, 900 per pod vs 10 ->
    // wanted 270, clamped (no behavior) to max(2 * 3, 4) = 6 at the sync at 1830.
    expect(result.steps.find((step) => step.t === 1815)?.desiredReplicas).toBe(3);
    const firstUp = result.events.find((event) => event.t >= 1800 && event.to > event.from);
    expect(firstUp).toMatchObject({
      t: 1830,
      from: 3,
      to: 6,
      by: "HPA",
      reason: "pods metric inference_queue_depth above target",
    });
    // Created at 1830, started at 1840 (10 s scheduling), Ready at 1900 (60 s load).
    const at = (t: number) => result.steps.find((step) => step.t === t);
    expect(at(1845)?.loadingReplicas).toBeGreaterThanOrEqual(3);
    expect(at(1890)?.readyReplicas).toBe(3);
    expect(at(1905)?.readyReplicas).toBeGreaterThanOrEqual(6);
  });

  it("holds replicas for the 5 minute downscale window after the load drops", () => {
    const firstDownAfterDrop = result.events.find((event) => event.t >= 5400 && event.to < event.from);
    expect(firstDownAfterDrop?.t).toBeGreaterThanOrEqual(5700);
    expect(result.steps.at(-1)?.desiredReplicas).toBeLessThan(result.summary.peakReplicas);
  });

  it("reports the shape the formatters rely on, and costs GPU-hours at the GPU price", () => {
    expect(result.steps).toHaveLength(7200 / 15);
    expect(result.summary.gpusPerReplica).toBe(1);
    expect(result.summary.totalRequests).toBeCloseTo(20 * 3600 + 120 * 3600, 6);
    expect(result.summary.cost).toBeCloseTo(result.summary.gpuHours * DEFAULT_OPTIONS.gpuPricePerHour, 9);
    // Two warm replicas for two hours is the floor.
    expect(result.summary.gpuHours).toBeGreaterThan(4);
    expect(result.summary.servedRequests + result.summary.droppedRequests).toBeCloseTo(
      result.summary.totalRequests - (result.steps.at(-1)?.queue ?? 0),
      6,
    );
  });
});

describe("spike trace through KEDA from zero", () => {
  const queueTrigger = [
    {
      type: "rabbitmq",
      metadata: { queueName: "jobs", mode: "QueueLength", value: "5", activationValue: "1" },
    },
  ];

  it("activates at the first poll that sees a backlog and the first pod is Ready one model load later", () => {
    const result = simulate(kedaTarget(queueTrigger), trace("spike.csv"), {
      ...DEFAULT_OPTIONS,
      initialReplicas: 0,
    });
    // t=0: the queue is empty, inactive. t=15: 450 queued > 1 -> KEDA scales 0 -> 1; the HPA, now out of
    // ScalingDisabled, reads 450 against AverageValue 5: ceil(450 / 5) = 90, clamped to max(2 * 1, 4) = 4.
    expect(result.events.slice(0, 2)).toMatchObject([
      { t: 15, from: 0, to: 1, by: "KEDA", reason: "activated" },
      { t: 15, from: 1, to: 4, by: "HPA" },
    ]);
    const at = (t: number) => result.steps.find((step) => step.t === t);
    // Ready at 15 + 10 + 60 = 85.
    expect(at(75)?.readyReplicas).toBe(0);
    // Nothing serves yet, so the backlog keeps growing and every sync doubles: 4 at 15, 8 at 30, 16 at 45,
    // 20 (max) at 60 -- all still loading at 75. Only the four created at 15 are Ready at 90.
    expect(at(75)?.loadingReplicas).toBe(20);
    expect(result.events.slice(2, 5).map((event) => [event.t, event.to])).toEqual([
      [30, 8],
      [45, 16],
      [60, 20],
    ]);
    expect(at(90)?.readyReplicas).toBe(4);
    // Messages wait on the broker until a consumer takes them: those of t=0..15 waited more than a
    // minute, and none was dropped.
    expect(result.summary.maxWaitSeconds).toBeGreaterThan(60);
    expect(result.summary.droppedRequests).toBe(0);
    expect(result.requestTimeoutSeconds).toBe(Infinity);
  });

  it("drops what waited past the timeout only where it is a request: 60 s by default, none on a broker", () => {
    // The same backlog with a timeout given: what waited past it is dropped.
    const withTimeout = simulate(kedaTarget(queueTrigger), trace("spike.csv"), {
      ...DEFAULT_OPTIONS,
      initialReplicas: 0,
      requestTimeoutSeconds: 60,
    });
    expect(withTimeout.requestTimeoutSeconds).toBe(60);
    expect(withTimeout.summary.droppedRequests).toBeGreaterThan(0);
    // HTTP requests to an HPA workload that cannot keep up give up after 60 s.
    const http = simulate(hpaTarget, trace("spike.csv"), { ...DEFAULT_OPTIONS, initialReplicas: 0 });
    expect(http.requestTimeoutSeconds).toBe(60);
    expect(http.summary.droppedRequests).toBeGreaterThan(0);
  });

  it("polls from KEDA's first poll: a scale loop 5 s into the trace sees the backlog 10 s sooner", () => {
    const result = simulate(kedaTarget(queueTrigger), trace("spike.csv"), {
      ...DEFAULT_OPTIONS,
      initialReplicas: 0,
      kedaFirstPollSeconds: 5,
    });
    // t=5: 150 queued > 1 -> 0 -> 1, where the default first poll at t=0 sees nothing until t=15.
    expect(result.events[0]).toMatchObject({ t: 5, from: 0, to: 1, by: "KEDA", reason: "activated" });
    const at = (t: number) => result.steps.find((step) => step.t === t);
    // Ready one scheduling delay and one model load after: 5 + 10 + 60.
    expect(at(70)?.readyReplicas).toBe(0);
    expect(at(75)?.readyReplicas).toBeGreaterThanOrEqual(1);
  });

  it("syncs the HPA from its first sync: 5 s in, it acts in the second KEDA activates, as in a cluster", () => {
    const options = { ...DEFAULT_OPTIONS, initialReplicas: 0, kedaFirstPollSeconds: 5 };
    const hpaOnTraceStart = simulate(kedaTarget(queueTrigger), trace("spike.csv"), options);
    const hpaWithKeda = simulate(kedaTarget(queueTrigger), trace("spike.csv"), {
      ...options,
      hpaFirstSyncSeconds: 5,
    });
    const times = (events: { t: number; by: string }[]) =>
      events.filter((event) => event.by === "HPA").map((event) => event.t);
    // KEDA activates at 5 either way; the HPA syncs at 15, 30, 45, 60 from the trace's start, and at 5, 20,
    // 35, 50 from its first sync 5 s in.
    expect(hpaOnTraceStart.events[0]).toMatchObject({ t: 5, by: "KEDA", reason: "activated" });
    expect(hpaWithKeda.events[0]).toMatchObject({ t: 5, by: "KEDA", reason: "activated" });
    expect(times(hpaOnTraceStart.events).slice(0, 4)).toEqual([15, 30, 45, 60]);
    expect(times(hpaWithKeda.events).slice(0, 4)).toEqual([5, 20, 35, 50]);
    // The same doubling, 10 s sooner: 1 -> 4 -> 8 -> 16 -> 20.
    expect(hpaWithKeda.events.slice(1, 5).map((event) => event.to)).toEqual([4, 8, 16, 20]);
  });

  it("refuses a first HPA sync outside the sync period", () => {
    for (const hpaFirstSyncSeconds of [15, -1, 2.5]) {
      expect(() =>
        simulate(kedaTarget(queueTrigger), trace("spike.csv"), { ...DEFAULT_OPTIONS, hpaFirstSyncSeconds }),
      ).toThrow(/hpaFirstSyncSeconds.*sync period \(15\)/);
    }
  });

  it("refuses a first poll outside the polling interval", () => {
    for (const kedaFirstPollSeconds of [15, -1, 2.5]) {
      expect(() =>
        simulate(kedaTarget(queueTrigger), trace("spike.csv"), {
          ...DEFAULT_OPTIONS,
          initialReplicas: 0,
          kedaFirstPollSeconds,
        }),
      ).toThrow(/kedaFirstPollSeconds.*polling interval \(15\)/);
    }
  });

  it("shows what a faster model load buys", () => {
    const slow = simulate(kedaTarget(queueTrigger), trace("spike.csv"), {
      ...DEFAULT_OPTIONS,
      initialReplicas: 0,
    });
    const fast = simulate(kedaTarget(queueTrigger), trace("spike.csv"), {
      ...DEFAULT_OPTIONS,
      initialReplicas: 0,
      modelLoadSeconds: 5,
    });
    expect(fast.summary.modelLoadSeconds).toBe(5);
    expect(fast.summary.sloViolations).toBeLessThan(slow.summary.sloViolations);
  });
});

describe("diurnal day through KEDA with scale to zero", () => {
  const rpsTrigger = [
    {
      type: "prometheus",
      metadata: { query: "sum(rate(http_requests_total[1m]))", threshold: "8", activationThreshold: "5" },
    },
  ];
  const result = simulate(kedaTarget(rpsTrigger, { cooldownPeriod: 300 }), trace("diurnal.csv"));

  it("sits at zero at night, follows the afternoon peak, and returns to zero", () => {
    const at = (hour: number) => result.steps.find((step) => step.t === hour * 3600);
    expect(at(3)?.desiredReplicas).toBe(0);
    // About 200 req/s at the peak over 8 req/s per replica: 25 wanted, capped at 20.
    expect(at(14)?.desiredReplicas).toBeGreaterThanOrEqual(15);
    expect(at(23.5)?.desiredReplicas).toBe(0);
    expect(result.summary.peakReplicas).toBeLessThanOrEqual(20);
    // Each scale to zero came from KEDA, never from the HPA (whose minimum is 1).
    expect(result.events.filter((event) => event.to === 0).every((event) => event.by === "KEDA")).toBe(true);
  });
});

describe("a broker trigger that counts messages in flight", () => {
  // aws-sqs-queue counts ApproximateNumberOfMessagesNotVisible too (scaleOnInFlight, default true).
  const sqs = [
    {
      type: "aws-sqs-queue",
      metadata: { queueURL: "https://sqs.example/1/jobs", queueLength: "5", activationQueueLength: "1" },
    },
  ];
  const flat = (rps: number) => parseCsvTrace(`t,rps\n0,${rps}\n3600,${rps}\n`);

  it("keeps a busy service active although its queue is empty", () => {
    // 15 req/s at 10 req/s per replica: whatever the replica count, 15 / 10 = 1.5 messages are in
    // flight, > 1, so KEDA never deactivates.
    const busy = simulate(kedaTarget(sqs, { cooldownPeriod: 300 }), flat(15), {
      ...DEFAULT_OPTIONS,
      initialReplicas: 2,
    });
    expect(busy.events.some((event) => event.to === 0)).toBe(false);
  });

  it("deactivates a nearly idle one after the cooldown", () => {
    // 5 req/s: 0.5 in flight is not above 1. Never active since creation, so initialCooldownPeriod (0)
    // applies: the first poll after t=0 (t=15) scales to zero.
    const idle = simulate(kedaTarget(sqs, { cooldownPeriod: 300 }), flat(5), {
      ...DEFAULT_OPTIONS,
      initialReplicas: 2,
    });
    expect(idle.events[0]).toMatchObject({ t: 15, to: 0, by: "KEDA", reason: "deactivated" });
  });

  it("does not count them over AMQP, where RabbitMQ reports its Ready messages only", () => {
    // The same busy service behind a rabbitmq trigger whose host is amqp://: the queue is empty, the
    // messages in flight are unacknowledged, so the trigger reads 0 and KEDA deactivates it.
    const rabbitTrigger = (host: string) => ({
      type: "rabbitmq",
      metadata: { queueName: "jobs", host, mode: "QueueLength", value: "5", activationValue: "1" },
    });
    const result = simulate(
      kedaTarget([rabbitTrigger("amqp://rabbit:5672")], { cooldownPeriod: 300 }),
      flat(15),
      {
        ...DEFAULT_OPTIONS,
        initialReplicas: 2,
      },
    );
    expect(result.events[0]).toMatchObject({ t: 15, to: 0, by: "KEDA" });
    // Over the management API (http://) the unacknowledged ones count, as with SQS.
    const overHttp = simulate(
      kedaTarget([rabbitTrigger("http://rabbit:15672")], { cooldownPeriod: 300 }),
      flat(15),
      {
        ...DEFAULT_OPTIONS,
        initialReplicas: 2,
      },
    );
    expect(overHttp.events.some((event) => event.to === 0)).toBe(false);
  });

  it("counts none when consumers take a message off the broker as they receive it", () => {
    const acked = simulate(kedaTarget(sqs, { cooldownPeriod: 300 }), flat(15), {
      ...DEFAULT_OPTIONS,
      initialReplicas: 2,
      messagesHeldWhileProcessing: false,
    });
    expect(acked.events[0]).toMatchObject({ t: 15, to: 0, by: "KEDA" });
  });
});

describe("a metrics outage under KEDA fallback", () => {
  it("moves to fallback.replicas once the failures exceed the threshold, through the HPA's limits", () => {
    const outage = parseCsvTrace("t,rps,metrics_down\n0,5,0\n300,5,1\n600,5,0\n1200,5,0\n");
    const result = simulate(
      kedaTarget([{ type: "rabbitmq", metadata: { queueName: "jobs", mode: "QueueLength", value: "5" } }], {
        minReplicaCount: 1,
        fallback: { failureThreshold: 3, replicas: 6 },
      }),
      outage,
    );
    // The HPA asks for the metric every 15 s: failures 1, 2, 3 at t=300, 315, 330 keep 1 replica.
    // At 345 the 4th failure is past the threshold: 5 x 6 = 30 -> ceil(30 / 5) = 6, clamped without
    // behavior to max(2 x 1, 4) = 4; at 360 the same 6 is within max(2 x 4, 4) = 8.
    expect(result.events.slice(0, 2)).toMatchObject([
      { t: 345, from: 1, to: 4, by: "HPA" },
      { t: 360, from: 4, to: 6, by: "HPA" },
    ]);
    // The last fallback answer is at t=585; from 600 the empty queue asks for 1, but the no-behavior
    // window keeps every recommendation not older than 300 s: 585 >= now - 300 until now = 885.
    const down = result.events.find((event) => event.to < event.from);
    expect(down).toMatchObject({ t: 900, from: 6, to: 1 });
  });
});

describe("inputs", () => {
  it("counts rises of a recorded queue depth as arrivals", () => {
    const queueOnly = parseCsvTrace("t,queue\n0,100\n60,50\n120,200\n");
    // 100 at t=0, then +150 at t=120; the fall at 60 adds nothing.
    expect(simulate(hpaTarget, queueOnly).summary.totalRequests).toBe(250);
  });

  it("refuses a metric it cannot map, before producing anything", () => {
    const unknown: V2HorizontalPodAutoscaler = {
      spec: {
        scaleTargetRef: { kind: "Deployment", name: "model" },
        maxReplicas: 3,
        metrics: [
          {
            type: "External",
            external: { metric: { name: "foo_total" }, target: { type: "Value", value: "3" } },
          },
        ],
      },
    };
    expect(() => simulate({ ...hpaTarget, hpa: unknown }, trace("step.csv"))).toThrow(
      /spec\.metrics\[0\]: cannot tell what metric "foo_total" measures/,
    );
    expect(
      simulate({ ...hpaTarget, hpa: unknown }, trace("step.csv"), {
        ...DEFAULT_OPTIONS,
        signalOverrides: new Map([["foo_total", "rps"]]),
      }).steps.length,
    ).toBeGreaterThan(0);
  });
});
