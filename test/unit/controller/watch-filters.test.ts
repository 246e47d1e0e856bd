import type { V1Deployment, V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { childUpdateFilters } from "../../../src/controllers/mlautoscalepolicy/controller.js";
import type { ScaledObject } from "../../../src/keda/types.js";
import type { DeepReadonly } from "../../../src/runtime/object.js";

/** `object` with `change` merged in, one level deep per section, and a new resourceVersion. */
function changed<T extends { metadata?: object; spec?: object; status?: object }>(
  object: T,
  change: { metadata?: object; spec?: object; status?: object },
): T {
  return {
    ...object,
    metadata: { ...object.metadata, resourceVersion: "2", ...change.metadata },
    spec: { ...object.spec, ...change.spec },
    status: { ...object.status, ...change.status },
  };
}

const wakes = <T>(filter: (a: DeepReadonly<T>, b: DeepReadonly<T>) => boolean, a: T, b: T): boolean =>
  filter(a as DeepReadonly<T>, b as DeepReadonly<T>);

/** An HPA's AbleToScale (always True, with this reason) and ScalingActive conditions. */
function hpaConditions(ableReason: string, active: "True" | "False", activeReason: string) {
  return [
    { type: "AbleToScale", status: "True", reason: ableReason },
    { type: "ScalingActive", status: active, reason: activeReason },
  ];
}

describe("child update filters", () => {
  const deployment: V1Deployment = {
    metadata: { name: "ranker", namespace: "team", resourceVersion: "1", generation: 1, labels: { a: "1" } },
    spec: { replicas: 2, selector: { matchLabels: { app: "ranker" } }, template: {} },
    status: {
      replicas: 2,
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 1,
      updatedReplicas: 2,
    },
  };

  it("wakes a policy for a workload's spec, metadata and the replica counts its status mirrors", () => {
    const filter = childUpdateFilters.workload;
    expect(wakes(filter, deployment, changed(deployment, { spec: { replicas: 3 } }))).toBe(true);
    expect(wakes(filter, deployment, changed(deployment, { metadata: { labels: { a: "2" } } }))).toBe(true);
    expect(wakes(filter, deployment, changed(deployment, { metadata: { deletionTimestamp: "now" } }))).toBe(
      true,
    );
    expect(wakes(filter, deployment, changed(deployment, { status: { readyReplicas: 2 } }))).toBe(true);
    expect(wakes(filter, deployment, changed(deployment, { status: { availableReplicas: 2 } }))).toBe(true);
    expect(wakes(filter, deployment, changed(deployment, { status: { replicas: 3 } }))).toBe(true);
  });

  it("ignores a workload's bookkeeping and the status fields nothing reads", () => {
    const filter = childUpdateFilters.workload;
    expect(wakes(filter, deployment, changed(deployment, {}))).toBe(false);
    expect(
      wakes(
        filter,
        deployment,
        changed(deployment, {
          status: {
            observedGeneration: 2,
            updatedReplicas: 1,
            conditions: [{ type: "Progressing", status: "True" }],
          },
        }),
      ),
    ).toBe(false);
  });

  it("wakes for an HPA's desired replicas, last scale and ScalingActive, not its metric readings", () => {
    const hpa: V2HorizontalPodAutoscaler = {
      metadata: { name: "ranker", namespace: "team", resourceVersion: "1" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "ranker" }, maxReplicas: 4 },
      status: {
        currentReplicas: 2,
        desiredReplicas: 2,
        conditions: hpaConditions("ReadyForNewScale", "True", "ValidMetricFound"),
        currentMetrics: [
          { type: "Resource", resource: { name: "cpu", current: { averageUtilization: 40 } } },
        ],
      },
    };
    const filter = childUpdateFilters.hpa;
    expect(wakes(filter, hpa, changed(hpa, { status: { desiredReplicas: 3 } }))).toBe(true);
    expect(wakes(filter, hpa, changed(hpa, { status: { lastScaleTime: "2026-12-03T10:00:00Z" } }))).toBe(
      true,
    );
    expect(
      wakes(
        filter,
        hpa,
        changed(hpa, {
          status: {
            conditions: hpaConditions("ReadyForNewScale", "False", "FailedGetResourceMetric"),
          },
        }),
      ),
    ).toBe(true);
    expect(
      wakes(filter, hpa, changed(hpa, { spec: { scaleTargetRef: { kind: "Deployment", name: "x" } } })),
    ).toBe(true);
    expect(
      wakes(
        filter,
        hpa,
        changed(hpa, {
          status: {
            currentReplicas: 3,
            currentMetrics: [
              { type: "Resource", resource: { name: "cpu", current: { averageUtilization: 90 } } },
            ],
            conditions: hpaConditions("ScaleDownStabilized", "True", "ValidMetricFound"),
          },
        }),
      ),
    ).toBe(false);
  });

  it("wakes for a ScaledObject's conditions and trigger health, not KEDA's other bookkeeping", () => {
    const scaledObject: ScaledObject = {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name: "ranker", namespace: "team", resourceVersion: "1" },
      spec: { scaleTargetRef: { name: "ranker" }, triggers: [{ type: "cpu", metadata: { value: "50" } }] },
      status: { conditions: [{ type: "Ready", status: "True", reason: "ScaledObjectReady" }] },
    };
    const filter = childUpdateFilters.scaledObject;
    expect(
      wakes(
        filter,
        scaledObject,
        changed(scaledObject, {
          status: { conditions: [{ type: "Ready", status: "False", reason: "Bad" }] },
        }),
      ),
    ).toBe(true);
    expect(
      wakes(
        filter,
        scaledObject,
        changed(scaledObject, {
          status: { health: { "s0-queue": { status: "Failing", numberOfFailures: 3 } } },
        }),
      ),
    ).toBe(true);
    expect(
      wakes(
        filter,
        scaledObject,
        changed(scaledObject, {
          status: {
            conditions: [
              { type: "Ready", status: "True", reason: "ScaledObjectReady", lastTransitionTime: "later" },
            ],
            hpaName: "keda-hpa-ranker",
            originalReplicaCount: 1,
          },
        }),
      ),
    ).toBe(false);
  });

  it("ignores every PDB status change: its counts follow each pod", () => {
    const pdb: V1PodDisruptionBudget = {
      metadata: { name: "ranker", namespace: "team", resourceVersion: "1" },
      spec: { maxUnavailable: 1 },
      status: { currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed: 0, expectedPods: 2 },
    };
    const filter = childUpdateFilters.pdb;
    expect(wakes(filter, pdb, changed(pdb, { status: { currentHealthy: 2, disruptionsAllowed: 1 } }))).toBe(
      false,
    );
    expect(wakes(filter, pdb, changed(pdb, { spec: { maxUnavailable: 2 } }))).toBe(true);
  });
});
