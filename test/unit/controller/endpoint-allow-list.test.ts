// The operator's own allow-list, for clusters without the admission policy: a policy naming a trigger
// endpoint outside it gets nothing applied and says why; within it, or without a list, it is reconciled.
import { describe, expect, it } from "vitest";
import { Reason, type PolicyStatus } from "../../../src/api/v1alpha1/index.js";
import { withChanges, type JsonObject } from "../../fixtures/invalid-policies.js";
import { policysDeployment, reconcileOnce } from "../../fixtures/reconciler-harness.js";
import { ALLOWED_TRIGGER_ENDPOINTS, TRIGGER_ENDPOINT_CASES } from "../../fixtures/trigger-endpoints.js";

const reconciled = (status: PolicyStatus | undefined) =>
  status?.conditions?.find((c) => c.type === "Reconciled");

/** The policy's name; its Deployment is in the cache in the tests that reconcile it. */
const nameOf = (policy: JsonObject): string => {
  const name = (policy["metadata"] as JsonObject)["name"];
  return typeof name === "string" ? name : "";
};

const refusedCase = TRIGGER_ENDPOINT_CASES.find(
  (c) => c.name === "a list of brokers with one outside the list",
);
const allowedCase = TRIGGER_ENDPOINT_CASES.find((c) => c.name === "a name under a wildcard, on any port");

describe("the operator's trigger endpoint allow-list", () => {
  it("applies nothing for a policy naming an endpoint outside the list, and names the field and address", async () => {
    if (refusedCase?.refused === undefined) throw new Error("fixture missing");
    const { applied, status } = await reconcileOnce(refusedCase.policy, {
      allowed: ALLOWED_TRIGGER_ENDPOINTS,
    });
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
    const { applied, status } = await reconcileOnce(paused, { allowed: ALLOWED_TRIGGER_ENDPOINTS });
    expect(applied).toEqual([]);
    expect(reconciled(status)?.reason).toBe(Reason.EndpointNotAllowed);
  });

  it("reconciles a policy whose endpoints are on the list", async () => {
    if (allowedCase === undefined) throw new Error("fixture missing");
    const { applied, status } = await reconcileOnce(allowedCase.policy, {
      allowed: ALLOWED_TRIGGER_ENDPOINTS,
      deployments: [policysDeployment(nameOf(allowedCase.policy))],
    });
    expect(applied.map((o) => o.kind).sort()).toEqual(["Deployment", "PodDisruptionBudget", "ScaledObject"]);
    expect(reconciled(status)?.status).toBe("True");
  });

  it("restricts nothing without a list", async () => {
    if (refusedCase === undefined) throw new Error("fixture missing");
    for (const options of [{}, { allowed: [] }]) {
      const { applied, status } = await reconcileOnce(refusedCase.policy, {
        ...options,
        deployments: [policysDeployment(nameOf(refusedCase.policy))],
      });
      expect(applied.map((o) => o.kind)).toContain("ScaledObject");
      expect(reconciled(status)?.status).toBe("True");
    }
  });
});
