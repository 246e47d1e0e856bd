// The reconciler carries out the hand-over plan: what it writes, in which order, in each phase, and how a
// ScaledObject that would restore the workload's original replica count is defused before it goes.
import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ScaledObject } from "../../../src/keda/types.js";
import { validBasePolicy, validKedaBasePolicy, withChanges } from "../../fixtures/invalid-policies.js";
import {
  NAMESPACE,
  POLICY_UID,
  policyOwnerReference,
  policysDeployment,
  reconcileOnce,
} from "../../fixtures/reconciler-harness.js";

const SO_UID = "so-uid";

function scaledObject(
  name: string,
  options: { restore?: boolean; deleting?: boolean; targetName?: string } = {},
): ScaledObject {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: {
      namespace: NAMESPACE,
      name,
      uid: SO_UID,
      ownerReferences: [policyOwnerReference(name)],
      ...(options.deleting === true && { deletionTimestamp: new Date("2026-01-01T00:00:00Z") }),
    },
    spec: {
      scaleTargetRef: { name: options.targetName ?? name },
      ...(options.restore !== undefined && { advanced: { restoreToOriginalReplicaCount: options.restore } }),
      triggers: [{ type: "rabbitmq", metadata: { queueName: "jobs" } }],
    },
  };
}

function hpa(name: string, controller: { kind: string; uid: string } | undefined): V2HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: {
      namespace: NAMESPACE,
      name,
      uid: `hpa-${name}`,
      labels: { "mlautoscale.io/policy": name },
      ...(controller !== undefined && {
        ownerReferences: [
          { apiVersion: "x/v1", kind: controller.kind, name, uid: controller.uid, controller: true },
        ],
      }),
    },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name }, maxReplicas: 10 },
  };
}

const NAME = "base-policy";
const kedaOwned = { kind: "ScaledObject", uid: SO_UID };
const policyOwned = { kind: "MLAutoscalePolicy", uid: POLICY_UID };

describe("KEDA -> HPA", () => {
  it("releases KEDA's HPA: restore switched off, the ScaledObject deleted with orphan propagation, no HPA written", async () => {
    const { applied, deleted, patched, writes, events, result } = await reconcileOnce(validBasePolicy(), {
      scaledObjects: [scaledObject(NAME, { restore: true })],
      hpas: [hpa(NAME, kedaOwned)],
    });
    expect(patched).toEqual([
      {
        child: expect.objectContaining({ kind: "ScaledObject", name: NAME }) as unknown,
        mergePatch: { spec: { advanced: { restoreToOriginalReplicaCount: false } } },
      },
    ]);
    expect(deleted).toEqual([
      expect.objectContaining({ kind: "ScaledObject", name: NAME, propagation: "Orphan" }),
    ]);
    expect(applied.map((o) => o.kind)).not.toContain("HorizontalPodAutoscaler");
    expect(writes.indexOf("patch ScaledObject")).toBeLessThan(writes.indexOf("delete ScaledObject"));
    expect(events.some((e) => e.startsWith("Normal EngineHandover"))).toBe(true);
    expect(result).toEqual({ requeueAfterMs: expect.any(Number) as unknown });
  });

  it("waits while the garbage collector has not released the HPA of a ScaledObject being deleted", async () => {
    const { applied, deleted, patched, result } = await reconcileOnce(validBasePolicy(), {
      scaledObjects: [scaledObject(NAME, { restore: false, deleting: true })],
      hpas: [hpa(NAME, kedaOwned)],
    });
    expect(applied.map((o) => o.kind)).not.toContain("HorizontalPodAutoscaler");
    expect(deleted).toEqual([]);
    expect(patched).toEqual([]);
    expect(result).toEqual({ requeueAfterMs: expect.any(Number) as unknown });
  });

  it("adopts the released HPA", async () => {
    const { applied, deleted } = await reconcileOnce(validBasePolicy(), {
      scaledObjects: [scaledObject(NAME, { deleting: true })],
      hpas: [hpa(NAME, undefined)],
    });
    expect(applied.map((o) => o.kind)).toContain("HorizontalPodAutoscaler");
    expect(deleted).toEqual([]);
  });

  it("without a KEDA HPA: writes the policy's HPA, then deletes the ScaledObject (orphan)", async () => {
    const { writes, deleted, patched } = await reconcileOnce(validBasePolicy(), {
      scaledObjects: [scaledObject(NAME, { restore: false })],
    });
    expect(writes.indexOf("apply HorizontalPodAutoscaler")).toBeGreaterThanOrEqual(0);
    expect(writes.indexOf("apply HorizontalPodAutoscaler")).toBeLessThan(
      writes.indexOf("delete ScaledObject"),
    );
    expect(patched).toEqual([]);
    expect(deleted).toEqual([expect.objectContaining({ kind: "ScaledObject", propagation: "Orphan" })]);
  });
});

describe("HPA -> KEDA", () => {
  const kedaPolicy = withChanges(validKedaBasePolicy(), { "metadata.name": NAME });

  it("writes the ScaledObject and keeps the policy's HPA for KEDA to adopt", async () => {
    const { applied, deleted, result } = await reconcileOnce(kedaPolicy, {
      hpas: [hpa(NAME, policyOwned)],
      deployments: [policysDeployment(NAME)],
    });
    expect(applied.map((o) => o.kind)).toContain("ScaledObject");
    expect(deleted).toEqual([]);
    expect(result).toEqual({ requeueAfterMs: expect.any(Number) as unknown });
  });

  it("once KEDA has adopted the HPA, settles: nothing deleted, no requeue", async () => {
    const { deleted, result } = await reconcileOnce(kedaPolicy, {
      scaledObjects: [scaledObject(NAME)],
      hpas: [hpa(NAME, kedaOwned)],
    });
    expect(deleted).toEqual([]);
    expect(result).toBeUndefined();
  });

  it("does not write a ScaledObject that is still being deleted, and keeps the HPA meanwhile", async () => {
    const { applied, deleted, result } = await reconcileOnce(kedaPolicy, {
      scaledObjects: [scaledObject(NAME, { deleting: true })],
      hpas: [hpa(NAME, policyOwned)],
    });
    expect(applied.map((o) => o.kind)).not.toContain("ScaledObject");
    expect(applied.map((o) => o.kind)).not.toContain("HorizontalPodAutoscaler");
    expect(deleted).toEqual([]);
    expect(result).toEqual({ requeueAfterMs: expect.any(Number) as unknown });
  });
});

describe("a policy in Conflict", () => {
  it("switches restore off before deleting its ScaledObject: the other autoscaler keeps the workload", async () => {
    const target = "shared";
    const policy = withChanges(validKedaBasePolicy(), {
      "metadata.name": NAME,
      "spec.workload.targetRef": { kind: "Deployment", name: target },
      "spec.workload.template": undefined,
    });
    const foreign = hpa("someone-elses", undefined);
    foreign.spec = {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
      maxReplicas: 5,
    };
    const { patched, deleted, writes, status } = await reconcileOnce(policy, {
      scaledObjects: [scaledObject(NAME, { restore: true, targetName: target })],
      hpas: [foreign],
      deployments: [
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { namespace: NAMESPACE, name: target, uid: "d" },
          spec: { replicas: 2, selector: { matchLabels: { app: target } }, template: {} },
        },
      ],
    });
    expect(status?.conditions?.find((c) => c.type === "Reconciled")?.reason).toBe("Conflict");
    expect(patched.map((p) => p.child.kind)).toEqual(["ScaledObject"]);
    expect(deleted).toEqual([expect.objectContaining({ kind: "ScaledObject", propagation: "Background" })]);
    expect(writes.indexOf("patch ScaledObject")).toBeLessThan(writes.indexOf("delete ScaledObject"));
  });
});
