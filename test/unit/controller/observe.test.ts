// What the reconciler reports of an autoscaler: only one the policy controls (its own HPA, KEDA's HPA for
// its ScaledObject, or its own HPA released during a hand-over). A foreign HPA that happens to bear the
// policy's name is a Conflict, and its numbers are not the policy's.
import type { V1OwnerReference, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../src/api/v1alpha1/index.js";
import { validBasePolicy } from "../../fixtures/invalid-policies.js";
import { NAMESPACE, policyOwnerReference, reconcileOnce } from "../../fixtures/reconciler-harness.js";

function hpaNamed(
  name: string,
  target: string,
  ownerReferences: V1OwnerReference[] | undefined,
): V2HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { namespace: NAMESPACE, name, uid: `hpa-${name}`, ...(ownerReferences && { ownerReferences }) },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
      minReplicas: 1,
      maxReplicas: 20,
    },
    status: {
      currentReplicas: 7,
      desiredReplicas: 7,
      lastScaleTime: "2026-12-01T10:00:00Z" as unknown as Date,
    },
  };
}

describe("the autoscaler a policy reports", () => {
  it("is not a foreign HPA that bears the policy's name", async () => {
    const policy = validBasePolicy();
    const { applied, status } = await reconcileOnce(policy, {
      hpas: [hpaNamed("base-policy", "someone-elses", undefined)],
    });
    expect(applied).toEqual([]);
    expect(status?.conditions?.find((c) => c.type === "Reconciled")?.reason).toBe(Reason.Conflict);
    expect(status?.desiredReplicas).toBeUndefined();
    expect(status?.lastScaleTime).toBeUndefined();
  });

  it("is the policy's own HPA", async () => {
    const own = hpaNamed("base-policy", "base-policy", [policyOwnerReference("base-policy")]);
    const { status } = await reconcileOnce(validBasePolicy(), { hpas: [own] });
    expect(status?.conditions?.find((c) => c.type === "Reconciled")?.status).toBe("True");
    expect(status?.desiredReplicas).toBe(7);
    expect(status?.lastScaleTime).toBe("2026-12-01T10:00:00Z");
  });
});

describe("a policy while KEDA's caches have not synced", () => {
  it("is left alone, with no write, and looked at again later", async () => {
    // Without KEDA's objects the engine (Auto would pick the HPA) and a conflict cannot be decided.
    const { applied, status, result } = await reconcileOnce(validBasePolicy(), {
      kedaCachesSyncing: "KEDA's ScaledObject and TriggerAuthentication caches have not synced",
    });
    expect(applied).toEqual([]);
    expect(status).toBeUndefined();
    expect(result).toEqual({ requeueAfterMs: 30_000 });
  });
});
