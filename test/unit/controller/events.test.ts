import { describe, expect, it } from "vitest";
import { validBasePolicy } from "../../fixtures/invalid-policies.js";
import { reconcileOnce } from "../../fixtures/reconciler-harness.js";

describe("events of a reconcile", () => {
  it("records one Created event for every child the reconcile created", async () => {
    const { applied, events } = await reconcileOnce(validBasePolicy());
    expect(applied.map((o) => o.kind).sort()).toEqual([
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
    ]);
    const created = events.filter((e) => e.startsWith("Normal Created:"));
    expect(created).toEqual([
      "Normal Created: created Deployment base-policy, PodDisruptionBudget base-policy, HorizontalPodAutoscaler base-policy",
    ]);
  });
});
