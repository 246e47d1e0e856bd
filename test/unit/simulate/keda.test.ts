import { describe, expect, it } from "vitest";
import type { ScaledObject, ScaledObjectSpec } from "../../../src/keda/types.js";
import { describeTrigger, ScaledObjectController } from "../../../src/simulate/keda.js";

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
          { type: "rabbitmq", metadata: { value: "5" } },
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
        triggers: [{ type: "rabbitmq", metricType: "Value", metadata: { value: "5" } }],
      }),
      0,
    );
    // 5 x 6 / 4 ready = 7.5; the HPA's Value rule then asks ceil(7.5 / 5 * 4) = 6.
    expect(controller.externalMetric(0, undefined, 4, 4)).toEqual({ kind: "total", valueMilli: 7_500 });
    expect(controller.externalMetric(0, undefined, 4, 0).kind).toBe("error");
  });
});
