import { describe, expect, it } from "vitest";
import {
  buildDesiredChildren,
  KEDA_ABSENT,
  KEDA_RUNNING,
} from "../../../src/controllers/mlautoscalepolicy/desired/index.js";
import {
  buildPodDisruptionBudget,
  safeBudget,
} from "../../../src/controllers/mlautoscalepolicy/desired/pdb.js";
import { hpaPolicy, kedaPolicy } from "./policies.js";

type Budget = Parameters<typeof safeBudget>[0];

describe("safeBudget corrects budgets that would block a node drain", () => {
  // [requested, replicas.min, written, correction mentions]
  const blocking: [Budget, number, Budget, string][] = [
    [{ maxUnavailable: 0 }, 3, { maxUnavailable: 1 }, "maxUnavailable 0 would block every eviction"],
    [{ maxUnavailable: "0%" }, 3, { maxUnavailable: 1 }, "maxUnavailable 0% would block every eviction"],
    [{ minAvailable: 2 }, 2, { minAvailable: 1 }, "would block node drains at 2 replicas"],
    [{ minAvailable: 5 }, 3, { minAvailable: 2 }, "minAvailable 5 would block node drains at 3 replicas"],
    [{ minAvailable: "100%" }, 4, { minAvailable: 3 }, "minAvailable 100%"],
    [{ minAvailable: 1 }, 1, { maxUnavailable: 1 }, "at 1 replica"],
    [{ minAvailable: "50%" }, 1, { maxUnavailable: 1 }, "at 1 replica"],
    [{ minAvailable: 1 }, 0, { maxUnavailable: 1 }, "scale-to-zero"],
    [{ minAvailable: "100%" }, 0, { maxUnavailable: 1 }, "scale-to-zero"],
  ];
  it.each(blocking)("%o at replicas.min %i becomes %o", (requested, min, written, message) => {
    const { budget, correction } = safeBudget(requested, min);
    expect(budget).toEqual(written);
    expect(correction).toContain(message);
  });

  const allowed: [Budget, number][] = [
    [{ maxUnavailable: 1 }, 0],
    [{ maxUnavailable: 1 }, 5],
    [{ maxUnavailable: "25%" }, 2],
    [{ minAvailable: 1 }, 2],
    [{ minAvailable: 2 }, 3],
    [{ minAvailable: "50%" }, 3],
    [{ minAvailable: "50%" }, 4],
    [{ minAvailable: 0 }, 0],
  ];
  it.each(allowed)("%o at replicas.min %i is kept", (requested, min) => {
    expect(safeBudget(requested, min)).toEqual({ budget: requested });
  });
});

describe("buildPodDisruptionBudget", () => {
  const selector = { matchLabels: { app: "model" } };

  it("defaults to maxUnavailable 1 and never lets unready pods block a drain", () => {
    const { pdb, corrections } = buildPodDisruptionBudget(hpaPolicy(), selector);
    expect(corrections).toEqual([]);
    expect(pdb.apiVersion).toBe("policy/v1");
    expect(pdb.kind).toBe("PodDisruptionBudget");
    expect(pdb.metadata?.name).toBe("base-policy");
    expect(pdb.metadata?.namespace).toBe("ml");
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector, unhealthyPodEvictionPolicy: "AlwaysAllow" });
    expect(pdb.spec?.selector).not.toBe(selector);
  });

  it("writes the corrected budget and reports the correction", () => {
    const policy = hpaPolicy({ "spec.replicas.min": 2, "spec.disruption": { minAvailable: 2 } });
    const { pdb, corrections } = buildPodDisruptionBudget(policy, selector);
    expect(pdb.spec?.minAvailable).toBe(1);
    expect(pdb.spec?.maxUnavailable).toBeUndefined();
    expect(corrections).toHaveLength(1);
  });

  it("keeps a percentage the workload can honour", () => {
    const policy = hpaPolicy({ "spec.replicas.min": 4, "spec.disruption": { minAvailable: "50%" } });
    const { pdb, corrections } = buildPodDisruptionBudget(policy, selector);
    expect(pdb.spec?.minAvailable).toBe("50%");
    expect(corrections).toEqual([]);
  });
});

describe("the PDB in buildDesiredChildren", () => {
  it("selects the Deployment's pods and reports corrections among the children", () => {
    const result = buildDesiredChildren(kedaPolicy({ "spec.disruption": { minAvailable: 1 } }), {
      keda: KEDA_RUNNING,
    });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.pdb?.spec?.selector).toEqual(result.children.deployment?.spec?.selector);
    expect(result.children.pdb?.spec?.maxUnavailable).toBe(1);
    expect(result.children.corrections).toEqual([expect.stringContaining("scale-to-zero")]);
  });

  const targetRefChanges = {
    "spec.workload.template": undefined,
    "spec.workload.targetRef": { kind: "StatefulSet", name: "existing-model" },
  } as const;

  it("uses the target's selector in targetRef mode", () => {
    const targetSelector = { matchLabels: { app: "existing-model" } };
    const result = buildDesiredChildren(hpaPolicy(targetRefChanges), {
      keda: KEDA_ABSENT,
      targetSelector,
    });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.deployment).toBeUndefined();
    expect(result.children.pdb?.spec?.selector).toEqual(targetSelector);
    expect(result.children.notes).toEqual([]);
  });

  it("leaves the PDB out, with a note, when the target's selector is unknown", () => {
    const result = buildDesiredChildren(hpaPolicy(targetRefChanges), { keda: KEDA_ABSENT });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.pdb).toBeUndefined();
    expect(result.children.notes).toEqual([expect.stringContaining("StatefulSet existing-model")]);
  });
});
