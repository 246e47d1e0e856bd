import { describe, expect, it } from "vitest";
import type { ScaledObject, ScaledObjectSpec } from "../../../src/keda/types.js";
import { describeTrigger, kafkaReportedLag, ScaledObjectController } from "../../../src/simulate/keda.js";

function scaledObject(spec: Partial<ScaledObjectSpec>): ScaledObject {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name: "batch" },
    spec: {
      scaleTargetRef: { name: "batch" },
      triggers: [
        {
          type: "rabbitmq",
          metadata: { queueName: "jobs", mode: "QueueLength", value: "5", activationValue: "1" },
        },
      ],
      ...spec,
    },
  };
}

describe("generated HPA", () => {
  it("has minReplicas max(minReplicaCount, 1), External AverageValue metrics named s<i>-<type>, and the advanced behavior", () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 30 } };
    const controller = new ScaledObjectController(
      scaledObject({
        minReplicaCount: 0,
        maxReplicaCount: 20,
        advanced: { horizontalPodAutoscalerConfig: { behavior } },
        triggers: [
          { type: "rabbitmq", metadata: { mode: "QueueLength", value: "5" } },
          { type: "prometheus", metadata: { query: "avg(DCGM_FI_DEV_GPU_UTIL)", threshold: "70" } },
          { type: "cpu", metadata: { value: "60" } },
        ],
      }),
      0,
    );
    const spec = controller.hpa.spec;
    expect(controller.hpa.metadata?.name).toBe("keda-hpa-batch");
    expect(spec?.minReplicas).toBe(1);
    expect(spec?.maxReplicas).toBe(20);
    expect(spec?.behavior).toEqual(behavior);
    expect(spec?.metrics).toEqual([
      {
        type: "External",
        external: {
          metric: { name: "s0-rabbitmq" },
          target: { type: "AverageValue", averageValue: "5000m" },
        },
      },
      {
        type: "External",
        external: {
          metric: { name: "s1-prometheus" },
          target: { type: "AverageValue", averageValue: "70000m" },
        },
      },
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } },
      },
    ]);
    expect(controller.triggers.map((trigger) => trigger.signal)).toEqual(["queue", "gpu", undefined]);
    expect(new ScaledObjectController(scaledObject({ minReplicaCount: 3 }), 0).hpa.spec?.minReplicas).toBe(3);
  });

  it("reads scaler-specific target and activation keys, with scaler defaults", () => {
    expect(
      describeTrigger({ type: "aws-sqs-queue", metadata: { activationQueueLength: "1" } }, 0),
    ).toMatchObject({
      target: 5,
      activation: 1,
      signal: "queue",
    });
    expect(() => describeTrigger({ type: "metrics-api", metadata: { targetValue: "3" } }, 2)).toThrow(
      /spec\.triggers\[2\]\.type/,
    );
  });
});

describe("activation", () => {
  it("is strict: a value equal to the activation threshold does not activate", () => {
    const controller = new ScaledObjectController(scaledObject({ minReplicaCount: 0 }), 0);
    // activationValue 1: queue of exactly 1 stays inactive at zero replicas.
    expect(controller.poll(0, 0, [1])).toMatchObject({ isActive: false });
    // 1.5 > 1: active, scale from zero to max(min, 1) = 1.
    expect(controller.poll(30, 0, [1.5])).toMatchObject({ isActive: true, scaleTo: 1 });
    expect(controller.lastActive).toBe(30);
  });

  it("scales from zero to minReplicaCount when it is above zero with idleReplicaCount", () => {
    const controller = new ScaledObjectController(
      scaledObject({ minReplicaCount: 2, idleReplicaCount: 0 }),
      0,
    );
    expect(controller.poll(0, 0, [10]).scaleTo).toBe(2);
  });

  it("treats cpu/memory-only objects as always active", () => {
    const controller = new ScaledObjectController(
      scaledObject({ minReplicaCount: 1, triggers: [{ type: "cpu", metadata: { value: "50" } }] }),
      0,
    );
    expect(controller.poll(0, 1, [0]).isActive).toBe(true);
  });
});

describe("cooldown to zero", () => {
  it("scales to zero only once lastActiveTime + cooldownPeriod is strictly before now", () => {
    const controller = new ScaledObjectController(
      scaledObject({ cooldownPeriod: 300, pollingInterval: 30 }),
      0,
    );
    expect(controller.poll(0, 1, [10]).reason).toBe("active");
    // Inactive from t=30; 0 + 300 < 300 is false at t=300.
    for (let now = 30; now <= 300; now += 30) {
      expect(controller.poll(now, 1, [0]), `t=${now}`).toEqual({
        isActive: false,
        isError: false,
        reason: "cooling down",
      });
    }
    expect(controller.poll(330, 1, [0])).toMatchObject({ scaleTo: 0, reason: "deactivated" });
  });

  it("leaves 1..N to the HPA: no cooldown move while minReplicaCount > 0", () => {
    const controller = new ScaledObjectController(scaledObject({ minReplicaCount: 2 }), 0);
    expect(controller.poll(10_000, 5, [0]).scaleTo).toBeUndefined();
  });

  it("does not scale to zero while a scaler errs", () => {
    const withFallback = new ScaledObjectController(
      scaledObject({ fallback: { failureThreshold: 3, replicas: 4 } }),
      0,
    );
    expect(withFallback.poll(10_000, 2, [undefined]).reason).toBe("waiting for fallback");
    const without = new ScaledObjectController(scaledObject({}), 0);
    expect(without.poll(10_000, 2, [undefined])).toEqual({
      isActive: false,
      isError: true,
      reason: "trigger error",
    });
  });
});

describe("initial cooldown", () => {
  it("counts from creation when the object was never active", () => {
    const controller = new ScaledObjectController(scaledObject({ initialCooldownPeriod: 120 }), 0);
    // Started with one replica and no work: 0 + 120 < now only after t=120.
    expect(controller.poll(90, 1, [0]).reason).toBe("cooling down");
    expect(controller.poll(120, 1, [0]).reason).toBe("cooling down");
    expect(controller.poll(150, 1, [0]).scaleTo).toBe(0);
  });

  it("defaults to zero: the first poll after creation may scale to zero", () => {
    const controller = new ScaledObjectController(scaledObject({}), 0);
    expect(controller.poll(0, 1, [0]).scaleTo).toBeUndefined();
    expect(controller.poll(30, 1, [0]).scaleTo).toBe(0);
  });
});

describe("fallback", () => {
  it("answers target x fallback.replicas once failures exceed failureThreshold", () => {
    const controller = new ScaledObjectController(
      scaledObject({ fallback: { failureThreshold: 3, replicas: 5 } }),
      0,
    );
    // Failures 1, 2, 3 are errors (3 is not > 3).
    for (let failure = 1; failure <= 3; failure++)
      expect(controller.externalMetric(0, undefined, 2).kind).toBe("error");
    // Fourth: 5 (target) x 5 replicas = 25 -> the HPA computes ceil(25 / 5) = 5.
    expect(controller.externalMetric(0, undefined, 2)).toEqual({ kind: "total", valueMilli: 25_000 });
    // A good reading resets the counter.
    expect(controller.externalMetric(0, 7, 2)).toEqual({ kind: "total", valueMilli: 7_000 });
    expect(controller.externalMetric(0, undefined, 2).kind).toBe("error");
  });

  it("follows fallback.behavior with the current replicas", () => {
    const fallbackAfterOne = (
      behavior: "currentReplicas" | "currentReplicasIfHigher" | "currentReplicasIfLower",
    ) => {
      const controller = new ScaledObjectController(
        scaledObject({ fallback: { failureThreshold: 0, replicas: 5, behavior } }),
        0,
      );
      return controller.externalMetric(0, undefined, 8);
    };
    // 8 current replicas, fallback 5, target 5 per replica.
    expect(fallbackAfterOne("currentReplicas")).toEqual({ kind: "total", valueMilli: 40_000 });
    expect(fallbackAfterOne("currentReplicasIfHigher")).toEqual({ kind: "total", valueMilli: 40_000 });
    expect(fallbackAfterOne("currentReplicasIfLower")).toEqual({ kind: "total", valueMilli: 25_000 });
  });

  it("divides by the Ready replicas for a Value metric, so the HPA still lands on fallback.replicas", () => {
    const controller = new ScaledObjectController(
      scaledObject({
        fallback: { failureThreshold: 0, replicas: 6 },
        triggers: [{ type: "rabbitmq", metricType: "Value", metadata: { mode: "QueueLength", value: "5" } }],
      }),
      0,
    );
    // 5 x 6 / 4 ready = 7.5; the HPA's Value rule then asks ceil(7.5 / 5 * 4) = 6.
    expect(controller.externalMetric(0, undefined, 4, 4)).toEqual({ kind: "total", valueMilli: 7_500 });
    expect(controller.externalMetric(0, undefined, 4, 0).kind).toBe("error");
  });
});

describe("what each scaler reads (pkg/scalers)", () => {
  it("RabbitMQ: QueueLength counts messages, MessageRate the publish rate; the rest is refused", () => {
    const rabbit = (metadata: Record<string, string>) => describeTrigger({ type: "rabbitmq", metadata }, 0);
    // Neither mode nor value: QueueLength 20, KEDA's default.
    expect(rabbit({ queueName: "q" })).toMatchObject({ signal: "queue", target: 20, countsHeld: false });
    expect(rabbit({ queueName: "q", queueLength: "7" })).toMatchObject({ signal: "queue", target: 7 });
    // A rate, active while messages wait too (rabbitmq_scaler.go GetMetricsAndActivity).
    expect(rabbit({ queueName: "q", mode: "MessageRate", value: "50", protocol: "http" })).toMatchObject({
      signal: "rps",
      target: 50,
      activeOnQueue: true,
    });
    // Over the management API the unacknowledged messages count, unless excluded.
    expect(
      rabbit({ queueName: "q", mode: "QueueLength", value: "5", host: "https://rabbit:15671" }).countsHeld,
    ).toBe(true);
    expect(
      rabbit({
        queueName: "q",
        mode: "QueueLength",
        value: "5",
        protocol: "http",
        excludeUnacknowledged: "true",
      }).countsHeld,
    ).toBe(false);
    expect(() => rabbit({ queueName: "q", value: "5" })).toThrow(
      /spec\.triggers\[0\]\.metadata\.mode: must be specified/,
    );
    expect(() => rabbit({ queueName: "q", queueLength: "5", mode: "QueueLength" })).toThrow(
      /metadata\.queueLength: is deprecated; use mode and value/,
    );
    expect(() => rabbit({ queueName: "q", mode: "MessageRate", value: "5", protocol: "amqp" })).toThrow(
      /MessageRate needs the http protocol/,
    );
    expect(() => rabbit({ queueName: "q", mode: "DeliverGetRate", value: "5" })).toThrow(
      /DeliverGetRate is not simulated/,
    );
  });

  it("SQS counts messages in flight unless scaleOnInFlight is false; Kafka caps its lag unless idle consumers are allowed", () => {
    expect(describeTrigger({ type: "aws-sqs-queue", metadata: {} }, 0)).toMatchObject({
      target: 5,
      countsHeld: true,
    });
    expect(
      describeTrigger({ type: "aws-sqs-queue", metadata: { scaleOnInFlight: "false" } }, 0).countsHeld,
    ).toBe(false);
    expect(describeTrigger({ type: "kafka", metadata: {} }, 0)).toMatchObject({
      target: 10,
      capLagAtPartitions: true,
      countsHeld: true,
    });
    expect(
      describeTrigger({ type: "kafka", metadata: { allowIdleConsumers: "true" } }, 0).capLagAtPartitions,
    ).toBe(false);
    // kafka_scaler.go getTotalLag: int(lag / threshold) above the partitions -> partitions x threshold.
    expect(kafkaReportedLag(95, 3, 10)).toBe(30);
    expect(kafkaReportedLag(39, 3, 10)).toBe(39);
  });

  it("Prometheus: the query tells what it measures, its rate() range, whether its series are the pods'", () => {
    const prometheus = (query: string, extra: Record<string, string> = {}) =>
      describeTrigger(
        {
          type: "prometheus",
          metadata: { serverAddress: "http://p:9090", query, threshold: "10", ...extra },
        },
        1,
      );
    expect(prometheus('sum(rate(http_requests_total{service="a"}[2m]))')).toMatchObject({
      signal: "rps",
      source: "prometheus",
      aggregate: "sum",
      rangeSeconds: 120,
      seriesFromPods: false,
      ignoreNullValues: true,
    });
    expect(
      prometheus('sum(avg by (pod) (DCGM_FI_DEV_GPU_UTIL{namespace="ml",pod=~"batch-.*"}))'),
    ).toMatchObject({
      signal: "gpu",
      aggregate: "sum",
      gpuAveragedPerPod: true,
      seriesFromPods: true,
    });
    expect(
      prometheus('sum(inference_queue_depth{pod=~"x-.*"})', { ignoreNullValues: "false" }).ignoreNullValues,
    ).toBe(false);
    // Two metrics that measure different things: no guess, the user says.
    expect(() =>
      prometheus("sum(rate(vllm:request_success_total[1m])) + sum(vllm:num_requests_waiting)"),
    ).toThrow(
      /spec\.triggers\[1\]\.type: cannot tell what the prometheus trigger measures \(its query reads vllm:request_success_total \(rps\) and vllm:num_requests_waiting \(waiting\)\); pass --signal s1-prometheus=/,
    );
    expect(
      describeTrigger(
        { type: "prometheus", metadata: { query: "sum(foo) + sum(bar_waiting)", threshold: "1" } },
        1,
        new Map([["s1-prometheus", "rps"]]),
      ).signal,
    ).toBe("rps");
  });

  it("an unknown scaler needs exactly one target key and says what it measures, or --signal", () => {
    expect(
      describeTrigger(
        { type: "datadog", metadata: { query: "avg:queue.depth{*}", queueValue: "1", threshold: "4" } },
        0,
      ),
    ).toMatchObject({
      signal: "queue",
      target: 4,
    });
    expect(() =>
      describeTrigger(
        { type: "datadog", metadata: { query: "avg:queue.depth{*}", threshold: "4", value: "2" } },
        0,
      ),
    ).toThrow(/target is ambiguous \(threshold, value\)/);
    expect(() =>
      describeTrigger(
        { type: "new-relic", metadata: { metricName: "gpu_busy", query: "queue_depth", threshold: "4" } },
        0,
      ),
    ).toThrow(/cannot tell what the new-relic trigger measures/);
  });
});
