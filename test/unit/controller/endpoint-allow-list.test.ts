// The operator's own allow-list, for clusters without the admission policy: a policy naming a trigger
// endpoint outside it gets nothing applied and says why; within it, or without a list, it is reconciled.
import type {
  KubernetesObject,
  V1Deployment,
  V1PodDisruptionBudget,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parseEndpointPattern, Reason, type PolicyStatus } from "../../../src/api/v1alpha1/index.js";
import {
  PolicyReconciler,
  type ChildRef,
  type PolicyObject,
  type PolicyWriter,
} from "../../../src/controllers/mlautoscalepolicy/reconciler.js";
import type { ScaledObject, TriggerAuthentication } from "../../../src/keda/types.js";
import { deepFreeze } from "../../../src/runtime/object.js";
import { Store } from "../../../src/runtime/store.js";
import { withChanges, type JsonObject } from "../../fixtures/invalid-policies.js";
import { ALLOWED_TRIGGER_ENDPOINTS, TRIGGER_ENDPOINT_CASES } from "../../fixtures/trigger-endpoints.js";

const NAMESPACE = "ml";

function policyObject(policy: JsonObject): PolicyObject {
  return withChanges(policy, {
    "metadata.namespace": NAMESPACE,
    "metadata.uid": "uid-1",
    "metadata.generation": 1,
  });
}

/** Reconciles one policy against empty caches with KEDA running; returns what was written. */
async function reconcileOnce(
  policy: JsonObject,
  allowed: readonly string[] | undefined,
): Promise<{ applied: KubernetesObject[]; status: PolicyStatus | undefined }> {
  const policies = new Store<PolicyObject>();
  const object = policyObject(policy);
  policies.upsert(deepFreeze(object));
  const applied: KubernetesObject[] = [];
  let status: PolicyStatus | undefined;
  const writer: PolicyWriter = {
    apply: (desired) => {
      applied.push(desired);
      return Promise.resolve(true);
    },
    applyStatus: (_policy: ChildRef, next) => {
      status = next;
      return Promise.resolve();
    },
    delete: () => Promise.resolve(),
    scale: () => Promise.resolve(),
  };
  const keda = {
    scaledObjects: new Store<ScaledObject>(),
    triggerAuthentications: new Store<TriggerAuthentication>(),
  };
  const reconciler = new PolicyReconciler({
    caches: {
      policies,
      deployments: new Store<V1Deployment>(),
      statefulSets: new Store<V1StatefulSet>(),
      hpas: new Store<V2HorizontalPodAutoscaler>(),
      pdbs: new Store<V1PodDisruptionBudget>(),
      keda: () => keda,
      kedaAvailability: () => ({ state: "running" }),
    },
    writer,
    events: { event: () => undefined },
    ...(allowed !== undefined && { allowedTriggerEndpoints: allowed.map(parseEndpointPattern) }),
  });
  await reconciler.reconcile(
    { namespace: NAMESPACE, name: object.metadata?.name ?? "" },
    { reconcileId: "test", logger: undefined, signal: new AbortController().signal },
  );
  return { applied, status };
}

const reconciled = (status: PolicyStatus | undefined) =>
  status?.conditions?.find((c) => c.type === "Reconciled");

const refusedCase = TRIGGER_ENDPOINT_CASES.find(
  (c) => c.name === "a list of brokers with one outside the list",
);
const allowedCase = TRIGGER_ENDPOINT_CASES.find((c) => c.name === "a name under a wildcard, on any port");

describe("the operator's trigger endpoint allow-list", () => {
  it("applies nothing for a policy naming an endpoint outside the list, and names the field and address", async () => {
    if (refusedCase?.refused === undefined) throw new Error("fixture missing");
    const { applied, status } = await reconcileOnce(refusedCase.policy, ALLOWED_TRIGGER_ENDPOINTS);
    expect(applied).toEqual([]);
    const condition = reconciled(status);
    expect(condition?.status).toBe("False");
    expect(condition?.reason).toBe(Reason.EndpointNotAllowed);
    expect(condition?.message).toContain(
      "spec.scaling.triggers[0].metadata.bootstrapServers: evil.example.com:9092 is not an allowed trigger endpoint",
    );
    expect(condition?.message).toContain(`allowed: ${ALLOWED_TRIGGER_ENDPOINTS.join(", ")}`);
    expect(status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
  });

  it("refuses even a paused policy, so the reason stays visible", async () => {
    if (refusedCase === undefined) throw new Error("fixture missing");
    const paused = withChanges(refusedCase.policy, { "spec.paused": true });
    const { applied, status } = await reconcileOnce(paused, ALLOWED_TRIGGER_ENDPOINTS);
    expect(applied).toEqual([]);
    expect(reconciled(status)?.reason).toBe(Reason.EndpointNotAllowed);
  });

  it("reconciles a policy whose endpoints are on the list", async () => {
    if (allowedCase === undefined) throw new Error("fixture missing");
    const { applied, status } = await reconcileOnce(allowedCase.policy, ALLOWED_TRIGGER_ENDPOINTS);
    expect(applied.map((o) => o.kind).sort()).toEqual(["Deployment", "PodDisruptionBudget", "ScaledObject"]);
    expect(reconciled(status)?.status).toBe("True");
  });

  it("restricts nothing without a list", async () => {
    if (refusedCase === undefined) throw new Error("fixture missing");
    for (const allowed of [undefined, []]) {
      const { applied, status } = await reconcileOnce(refusedCase.policy, allowed);
      expect(applied.map((o) => o.kind)).toContain("ScaledObject");
      expect(reconciled(status)?.status).toBe("True");
    }
  });
});
