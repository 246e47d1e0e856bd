// KEDA's webhook refuses a ScaledObject whose Deployment its cache has not seen yet: the reconcile that
// creates the Deployment leaves the ScaledObject (and the status) to the one the Deployment's arrival in
// the cache brings, moments later.
import { describe, expect, it } from "vitest";
import { validBasePolicy, validKedaBasePolicy } from "../../fixtures/invalid-policies.js";
import { createHarness, policysDeployment } from "../../fixtures/reconciler-harness.js";

const KEDA_POLICY = validKedaBasePolicy();
const KEDA_NAME = "keda-base-policy";

describe("a KEDA policy's first reconciles", () => {
  it("creates the Deployment first, and the ScaledObject and the status once the cache shows it", async () => {
    const harness = createHarness(KEDA_POLICY);
    await harness.reconcile();
    expect(harness.recorded.writes).not.toContain("apply ScaledObject");
    expect(harness.recorded.writes).toContain("apply Deployment");
    expect(harness.recorded.statuses).toEqual([]);
    expect(harness.recorded.events).toEqual([]);

    harness.cacheWrites();
    await harness.reconcile();
    expect(harness.recorded.writes.filter((w) => w === "apply ScaledObject")).toHaveLength(1);
    expect(harness.recorded.statuses).toHaveLength(1);
    const reconciled = harness.recorded.status?.conditions?.find((c) => c.type === "Reconciled");
    expect(reconciled?.status).toBe("True");
    expect(harness.recorded.status?.children?.map((c) => c.kind)).toContain("ScaledObject");
    // One event for the children of both reconciles.
    expect(harness.recorded.events.filter((e) => e.startsWith("Normal Created"))).toEqual([
      `Normal Created: created Deployment ${KEDA_NAME}, TriggerAuthentication ${KEDA_NAME}, PodDisruptionBudget ${KEDA_NAME}, ScaledObject ${KEDA_NAME}`,
    ]);
  });

  it("writes the ScaledObject at once when the Deployment is already in the cache", async () => {
    const harness = createHarness(KEDA_POLICY, { deployments: [policysDeployment(KEDA_NAME)] });
    await harness.reconcile();
    expect(harness.recorded.writes).toContain("apply ScaledObject");
    expect(harness.recorded.statuses).toHaveLength(1);
  });

  it("holds nothing back for the HPA, which no webhook checks", async () => {
    const harness = createHarness(validBasePolicy());
    await harness.reconcile();
    expect(harness.recorded.writes).toContain("apply HorizontalPodAutoscaler");
    expect(harness.recorded.statuses).toHaveLength(1);
  });
});
