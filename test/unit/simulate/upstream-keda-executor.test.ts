// KEDA's pkg/scaling/executor/scale_scaledobjects_test.go (v2.20), through the simulator's
// ScaledObjectController.poll: the replicas RequestScale writes, and whether it records
// lastActiveTime, for each case upstream tests, under upstream's names.
//
// Upstream's fixture, restated: the ScaledObject's creation timestamp is the zero time (so the
// initial cooldown has long passed) and it has never been active (LastActiveTime nil). RequestScale
// gets isActive and isError from the caller; here they come from the triggers' values (active above
// the activation threshold of 0, an error where the value is undefined).
//
// Not ported: pausing and forced activation (annotations the simulator does not model), the events
// and the conditions KEDA writes (the simulator writes no status), and the HPA health checks.
import { describe, expect, it } from "vitest";
import type { ScaledObject, ScaledObjectSpec } from "../../../src/keda/types.js";
import { ScaledObjectController } from "../../../src/simulate/keda.js";

const ZERO = -1e12;
const NOW = 0;
const queue = { type: "rabbitmq", metadata: { queueName: "q", mode: "QueueLength", value: "5" } };

function controllerFor(spec: Partial<ScaledObjectSpec>): ScaledObjectController {
  const scaledObject: ScaledObject = {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name: "name", namespace: "namespace" },
    spec: { scaleTargetRef: { name: "name" }, triggers: [queue], ...spec },
  };
  return new ScaledObjectController(scaledObject, ZERO);
}

const ACTIVE = 10;
const INACTIVE = 0;
const ERROR = undefined;

describe("scale_scaledobjects_test.go", () => {
  it("TestScaleToMinReplicasWhenNotActive: 10 -> minReplicaCount 0", () => {
    const controller = controllerFor({ minReplicaCount: 0 });
    expect(controller.poll(NOW, 10, [INACTIVE])).toMatchObject({ isActive: false, scaleTo: 0 });
  });

  it("TestScaleToMinReplicasFromLowerInitialReplicaCount: 1 -> minReplicaCount 5", () => {
    const controller = controllerFor({ minReplicaCount: 5 });
    expect(controller.poll(NOW, 1, [INACTIVE])).toMatchObject({ isActive: false, scaleTo: 5 });
  });

  it("TestScaleFromMinReplicasWhenActive: 0 -> 1, lastActiveTime recorded", () => {
    const controller = controllerFor({ minReplicaCount: 0 });
    expect(controller.poll(NOW, 0, [ACTIVE])).toMatchObject({ isActive: true, scaleTo: 1 });
    expect(controller.lastActive).toBe(NOW);
  });

  it("TestScaleToIdleReplicasWhenNotActive: 10 -> idleReplicaCount 0 below minReplicaCount 5", () => {
    const controller = controllerFor({ idleReplicaCount: 0, minReplicaCount: 5 });
    expect(controller.poll(NOW, 10, [INACTIVE])).toMatchObject({ isActive: false, scaleTo: 0 });
  });

  it("TestScaleFromIdleToMinReplicasWhenActive: idle 0 -> minReplicaCount 5, lastActiveTime recorded", () => {
    const controller = controllerFor({ idleReplicaCount: 0, minReplicaCount: 5 });
    expect(controller.poll(NOW, 0, [ACTIVE])).toMatchObject({ isActive: true, scaleTo: 5 });
    expect(controller.lastActive).toBe(NOW);
  });

  it("TestRequestScale_AllHealthy_HPAHealthy: active at 1 replica, no write, lastActiveTime recorded", () => {
    const controller = controllerFor({ minReplicaCount: 1 });
    const result = controller.poll(NOW, 1, [ACTIVE]);
    expect(result).toMatchObject({ isActive: true, isError: false });
    expect(result.scaleTo).toBeUndefined();
    expect(controller.lastActive).toBe(NOW);
  });

  it("TestRequestScale_ScalerError_HPAHealthy: inactive with an error and no fallback is a TriggerError", () => {
    const controller = controllerFor({ minReplicaCount: 1 });
    expect(controller.poll(NOW, 1, [ERROR])).toEqual({
      isActive: false,
      isError: true,
      reason: "trigger error",
    });
  });

  it("TestRequestScale_PartialError_HPAHealthy: active next to an error leaves lastActiveTime alone", () => {
    const controller = controllerFor({ minReplicaCount: 1, triggers: [queue, queue] });
    const result = controller.poll(NOW, 1, [ACTIVE, ERROR]);
    expect(result).toEqual({ isActive: true, isError: true, reason: "partial trigger error" });
    expect(controller.lastActive).toBeUndefined();
  });

  it("TestRequestScale_ScalerErrorWithFallback_HPAHealthy: with fallback replicas, an error waits for the fallback", () => {
    const controller = controllerFor({ minReplicaCount: 0, fallback: { failureThreshold: 3, replicas: 5 } });
    // Without the fallback case, minReplicaCount 0 would scale the target to zero, and the HPA could
    // never apply fallback.replicas (its implicit maintenance mode).
    const result = controller.poll(NOW, 1, [ERROR]);
    expect(result).toEqual({ isActive: false, isError: true, reason: "waiting for fallback" });
  });
});
