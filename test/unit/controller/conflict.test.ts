// Two claims on one workload: the older policy wins, by creation time then UID, and a policy in Conflict
// keeps no autoscaler or PDB of its own on the workload, whether it came second or lost a race it could
// not see in its cache.
import type { V1Deployment, V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Reason, type PolicyStatus } from "../../../src/api/v1alpha1/index.js";
import type { PolicyObject } from "../../../src/controllers/mlautoscalepolicy/reconciler.js";
import { claimsBefore } from "../../../src/controllers/mlautoscalepolicy/scale-target.js";
import { validBasePolicy, withChanges, type JsonObject } from "../../fixtures/invalid-policies.js";
import { NAMESPACE, POLICY_UID, reconcileOnce } from "../../fixtures/reconciler-harness.js";

const TARGET = "shared-model";

/** A policy that scales the existing Deployment `shared-model`. */
function attachingPolicy(name: string): JsonObject {
  const policy = withChanges(validBasePolicy(), {
    "metadata.name": name,
    "spec.workload.targetRef": { kind: "Deployment", name: TARGET },
  });
  delete ((policy["spec"] as JsonObject)["workload"] as JsonObject)["template"];
  return policy;
}

function rival(name: string, uid: string, createdAt: string): PolicyObject {
  const policy = attachingPolicy(name);
  return {
    ...policy,
    metadata: { name, namespace: NAMESPACE, uid, creationTimestamp: createdAt, generation: 1 },
  };
}

const sharedDeployment: V1Deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { namespace: NAMESPACE, name: TARGET, uid: "deploy-uid" },
  spec: { replicas: 3, selector: { matchLabels: { app: TARGET } }, template: {} },
};

function ownedBy(name: string, uid: string) {
  return [{ apiVersion: "mlautoscale.io/v1alpha1", kind: "MLAutoscalePolicy", name, uid, controller: true }];
}

function hpaOf(name: string, ownerReferences?: ReturnType<typeof ownedBy>): V2HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { namespace: NAMESPACE, name, uid: `hpa-${name}`, ...(ownerReferences && { ownerReferences }) },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: TARGET }, maxReplicas: 10 },
  };
}

function pdbOf(name: string, ownerReferences: ReturnType<typeof ownedBy>): V1PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { namespace: NAMESPACE, name, uid: `pdb-${name}`, ownerReferences },
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: TARGET } } },
  };
}

const reconciled = (status: PolicyStatus | undefined) =>
  status?.conditions?.find((c) => c.type === "Reconciled");

describe("two claims on one workload", () => {
  it("the younger policy yields: it applies no autoscaler and deletes the HPA and PDB it made in a race", async () => {
    const ours = ownedBy("second", POLICY_UID);
    const { applied, deleted, status } = await reconcileOnce(attachingPolicy("second"), {
      policyChanges: { "metadata.creationTimestamp": "2026-12-03T10:00:05Z" },
      otherPolicies: [rival("first", "uid-0", "2026-12-03T10:00:00Z")],
      deployments: [sharedDeployment],
      hpas: [hpaOf("first", ownedBy("first", "uid-0")), hpaOf("second", ours)],
      pdbs: [pdbOf("first", ownedBy("first", "uid-0")), pdbOf("second", ours)],
    });
    expect(applied).toEqual([]);
    expect(deleted.map((d) => `${d.kind}/${d.name}`).sort()).toEqual([
      "HorizontalPodAutoscaler/second",
      "PodDisruptionBudget/second",
    ]);
    expect(reconciled(status)?.reason).toBe(Reason.Conflict);
    expect(reconciled(status)?.message).toMatch(
      /MLAutoscalePolicy ml\/first claimed Deployment shared-model first/,
    );
    expect(reconciled(status)?.message).toMatch(/keeps no autoscaler or PDB/);
  });

  it("the older policy goes on, though the younger one's HPA is still there", async () => {
    const { applied, deleted, status } = await reconcileOnce(attachingPolicy("first"), {
      policyChanges: { "metadata.creationTimestamp": "2026-12-03T10:00:00Z" },
      otherPolicies: [rival("second", "uid-9", "2026-12-03T10:00:05Z")],
      deployments: [sharedDeployment],
      hpas: [hpaOf("second", ownedBy("second", "uid-9"))],
    });
    expect(applied.map((o) => o.kind)).toContain("HorizontalPodAutoscaler");
    expect(deleted).toEqual([]);
    expect(reconciled(status)?.status).toBe("True");
  });

  it("breaks a tie in creation time by UID, the same way on both sides", () => {
    const at = "2026-12-03T10:00:00Z";
    const a = rival("a", "uid-a", at);
    const b = rival("b", "uid-b", at);
    expect(claimsBefore(a, b)).toBe(true);
    expect(claimsBefore(b, a)).toBe(false);
  });

  it("stands back from a foreign HPA whatever its age, and deletes its own", async () => {
    const { applied, deleted, status } = await reconcileOnce(attachingPolicy("mine"), {
      deployments: [sharedDeployment],
      hpas: [hpaOf("by-hand"), hpaOf("mine", ownedBy("mine", POLICY_UID))],
    });
    expect(applied).toEqual([]);
    expect(deleted.map((d) => `${d.kind}/${d.name}`)).toEqual(["HorizontalPodAutoscaler/mine"]);
    expect(reconciled(status)?.reason).toBe(Reason.Conflict);
    expect(reconciled(status)?.message).toMatch(/HorizontalPodAutoscaler ml\/by-hand already scales/);
  });

  it("ignores a policy on the same workload that is being deleted", async () => {
    const leaving = rival("first", "uid-0", "2026-12-03T10:00:00Z");
    const { applied, status } = await reconcileOnce(attachingPolicy("second"), {
      policyChanges: { "metadata.creationTimestamp": "2026-12-03T10:00:05Z" },
      otherPolicies: [
        { ...leaving, metadata: { ...leaving.metadata, deletionTimestamp: "2026-12-03T10:01:00Z" } },
      ],
      deployments: [sharedDeployment],
    });
    expect(applied.map((o) => o.kind)).toContain("HorizontalPodAutoscaler");
    expect(reconciled(status)?.status).toBe("True");
  });
});

describe("a PDB that already covers the workload's pods", () => {
  const podsOf: V1Deployment = {
    ...sharedDeployment,
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: TARGET } },
      template: { metadata: { labels: { app: TARGET, team: "search" } } },
    },
  };
  const foreignPdb = (selector: V1PodDisruptionBudget["spec"]): V1PodDisruptionBudget => ({
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { namespace: NAMESPACE, name: "team-budget", uid: "pdb-team" },
    spec: selector,
  });

  it("makes the policy create none, remove its own, and name the other in Reconciled", async () => {
    const { applied, deleted, status } = await reconcileOnce(attachingPolicy("mine"), {
      deployments: [podsOf],
      pdbs: [
        foreignPdb({ minAvailable: 1, selector: { matchLabels: { team: "search" } } }),
        pdbOf("mine", ownedBy("mine", POLICY_UID)),
      ],
    });
    expect(applied.map((o) => o.kind)).toEqual(["HorizontalPodAutoscaler"]);
    expect(deleted.map((d) => `${d.kind}/${d.name}`)).toEqual(["PodDisruptionBudget/mine"]);
    expect(reconciled(status)?.status).toBe("True");
    expect(reconciled(status)?.reason).toBe(Reason.DisruptionBudgetOverlap);
    expect(reconciled(status)?.message).toContain(
      `PodDisruptionBudget ${NAMESPACE}/team-budget already covers`,
    );
  });

  it("counts a PDB selecting by expression, and not one that selects other pods", async () => {
    const covering = await reconcileOnce(attachingPolicy("mine"), {
      deployments: [podsOf],
      pdbs: [
        foreignPdb({
          maxUnavailable: 1,
          selector: { matchExpressions: [{ key: "app", operator: "In", values: [TARGET, "other"] }] },
        }),
      ],
    });
    expect(covering.applied.map((o) => o.kind)).not.toContain("PodDisruptionBudget");
    const elsewhere = await reconcileOnce(attachingPolicy("mine"), {
      deployments: [podsOf],
      pdbs: [foreignPdb({ maxUnavailable: 1, selector: { matchLabels: { app: "other" } } })],
    });
    expect(elsewhere.applied.map((o) => o.kind)).toContain("PodDisruptionBudget");
    expect(reconciled(elsewhere.status)?.reason).not.toBe(Reason.DisruptionBudgetOverlap);
  });

  it("applies to the policy's own Deployment too: a namespace-wide PDB covers its pods", async () => {
    const { applied, status } = await reconcileOnce(validBasePolicy(), {
      pdbs: [foreignPdb({ maxUnavailable: 1, selector: {} })],
    });
    expect(applied.map((o) => o.kind).sort()).toEqual(["Deployment", "HorizontalPodAutoscaler"]);
    expect(reconciled(status)?.reason).toBe(Reason.DisruptionBudgetOverlap);
  });
});
