import { describe, expect, it } from "vitest";
import { PRESETS } from "../../../src/controllers/mlautoscalepolicy/desired/behavior.js";
import {
  buildCandidate,
  freeKnobs,
  policyKnobs,
  schemaBounds,
  type Knob,
  type KnobValue,
} from "../../../src/tune/knobs.js";
import { examplePolicy } from "./support.js";

const context = { kedaInstalled: true, needs: { low: 2, median: 5, peak: 12 }, serviceRatePerReplica: 10 };

function vector(knobs: readonly Knob[], changes: Record<string, KnobValue>): KnobValue[] {
  return knobs.map((knob) => changes[knob.field] ?? knob.original);
}

describe("the settings tune changes", () => {
  it("takes its bounds from the CRD's schema", () => {
    expect(schemaBounds(["replicas", "min"])).toEqual({ minimum: 0, maximum: 1000, integer: true });
    expect(schemaBounds(["scaling", "behavior", "scaleDown", "stabilizationWindowSeconds"])).toEqual({
      minimum: 0,
      maximum: 3600,
      integer: true,
    });
    expect(schemaBounds(["scaling", "pollingIntervalSeconds"])).toMatchObject({ minimum: 1, maximum: 3600 });
    expect(schemaBounds(["scaling", "triggers", 0, "activationValue"])).toMatchObject({
      minimum: 0,
      integer: false,
    });
  });

  it("lists the knobs of an HPA policy, each with its original value among values within the schema's bounds", () => {
    const policy = examplePolicy("1-realtime-inference.yaml");
    const knobs = policyKnobs(policy, context);
    expect(knobs.map((knob) => knob.field)).toEqual([
      "replicas.min",
      "replicas.max",
      "scaling.metrics.cpu.targetUtilization",
      "scaling.metrics.memory.targetUtilization",
      "scaling.metrics.queueDepth.targetAverageValue",
      "scaling.pollingIntervalSeconds",
      "scaling.scaleToZero.cooldownSeconds",
      "scaling.behavior.preset",
      "scaling.behavior.scaleUp.stabilizationWindowSeconds",
      "scaling.behavior.scaleUp.policies",
      "scaling.behavior.scaleDown.stabilizationWindowSeconds",
      "scaling.behavior.scaleDown.policies",
    ]);
    for (const knob of knobs) {
      expect(knob.values).toContain(knob.original);
      const numbers = knob.values.filter((value): value is number => typeof value === "number");
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    }
    const byField = new Map(knobs.map((knob) => [knob.field, knob]));
    // The HPA cannot scale to zero, and without an event trigger the CEL rules refuse replicas.min 0.
    expect(byField.get("replicas.min")?.values).not.toContain(0);
    expect(byField.get("replicas.min")?.original).toBe(2);
    // The explicit rules start from the policy's own: its window and its rates, described.
    expect(byField.get("scaling.behavior.scaleUp.stabilizationWindowSeconds")?.original).toBe(60);
    expect(byField.get("scaling.behavior.scaleUp.policies")?.original).toBe(
      "100% per 30 s or 2 pods per 30 s",
    );
    expect(byField.get("scaling.behavior.preset")?.values).toEqual([
      "Realtime",
      "Batch",
      "Conservative",
      "explicit rules",
    ]);
    expect(byField.get("scaling.metrics.queueDepth.targetAverageValue")?.values).toEqual([
      3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40,
    ]);
  });

  it("lists the KEDA knobs of a scale-to-zero policy: trigger target and activation, polling, cooldown", () => {
    const policy = examplePolicy("2-batch-rabbitmq.yaml");
    const knobs = policyKnobs(policy, context);
    const fields = knobs.map((knob) => knob.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        "scaling.triggers[0].metadata.value",
        "scaling.triggers[0].activationValue",
        "scaling.pollingIntervalSeconds",
        "scaling.scaleToZero.cooldownSeconds",
      ]),
    );
    const byField = new Map(knobs.map((knob) => [knob.field, knob]));
    expect(byField.get("replicas.min")?.values).toContain(0);
    expect(byField.get("scaling.triggers[0].metadata.value")?.original).toBe(5);
    expect(byField.get("scaling.pollingIntervalSeconds")?.original).toBe(15);
  });

  it("keeps what --fix names, and everything under it; reports a field it does not know", () => {
    const knobs = policyKnobs(examplePolicy("1-realtime-inference.yaml"), context);
    const { knobs: free, unknown } = freeKnobs(knobs, [
      "replicas.max",
      "spec.scaling.behavior",
      "replicas.maxx",
    ]);
    expect(free.map((knob) => knob.field)).toEqual([
      "replicas.min",
      "scaling.metrics.cpu.targetUtilization",
      "scaling.metrics.memory.targetUtilization",
      "scaling.metrics.queueDepth.targetAverageValue",
      "scaling.pollingIntervalSeconds",
      "scaling.scaleToZero.cooldownSeconds",
    ]);
    expect(unknown).toEqual(["replicas.maxx"]);
  });
});

describe("candidates", () => {
  const policy = examplePolicy("1-realtime-inference.yaml");
  const knobs = policyKnobs(policy, context);

  it("raises the maximum with a minimum above it, and lowers the minimum with a maximum below it", () => {
    const up = buildCandidate(policy, knobs, vector(knobs, { "replicas.min": 12 }));
    expect(up.ok && up.policy.spec.replicas).toEqual({ min: 12, max: 12 });
    const down = buildCandidate(policy, knobs, vector(knobs, { "replicas.max": 1 }));
    expect(down.ok && down.policy.spec.replicas).toEqual({ min: 1, max: 1 });
  });

  it("gives an inactive knob back its original value: KEDA's polling does nothing for an HPA", () => {
    const candidate = buildCandidate(policy, knobs, vector(knobs, { "scaling.pollingIntervalSeconds": 5 }));
    const original = buildCandidate(policy, knobs, vector(knobs, {}));
    expect(candidate.key).toBe(original.key);
    expect(candidate.ok && candidate.edits).toEqual([]);
  });

  it("turns explicit rules into a preset, and a preset into explicit rules that start as the preset's", () => {
    const toPreset = buildCandidate(policy, knobs, vector(knobs, { "scaling.behavior.preset": "Batch" }));
    expect(toPreset.ok && toPreset.policy.spec.scaling.behavior).toEqual({ preset: "Batch" });

    const batch = examplePolicy("2-batch-rabbitmq.yaml");
    const batchKnobs = policyKnobs(batch, context);
    const explicit = buildCandidate(
      batch,
      batchKnobs,
      vector(batchKnobs, {
        "scaling.behavior.preset": "explicit rules",
        "scaling.behavior.scaleDown.stabilizationWindowSeconds": 120,
      }),
    );
    // The Batch preset's rules, written out, with the new scale-down window.
    expect(explicit.ok && explicit.policy.spec.scaling.behavior).toEqual({
      scaleUp: PRESETS.Batch.scaleUp,
      scaleDown: { ...PRESETS.Batch.scaleDown, stabilizationWindowSeconds: 120 },
    });
    // Without the preset switch the window does nothing (the preset decides): it keeps its value.
    const windowAlone = buildCandidate(
      batch,
      batchKnobs,
      vector(batchKnobs, { "scaling.behavior.scaleDown.stabilizationWindowSeconds": 120 }),
    );
    expect(windowAlone.ok && windowAlone.policy.spec.scaling.behavior).toEqual({ preset: "Batch" });
  });

  it("drops scaleToZero when the minimum leaves 0, as the CEL rules require", () => {
    const batch = examplePolicy("2-batch-rabbitmq.yaml");
    const batchKnobs = policyKnobs(batch, context);
    const candidate = buildCandidate(batch, batchKnobs, vector(batchKnobs, { "replicas.min": 2 }));
    expect(candidate.ok).toBe(true);
    if (!candidate.ok) return;
    expect(candidate.policy.spec.scaling.scaleToZero).toBeUndefined();
    expect(candidate.edits).toEqual([
      { path: ["replicas", "min"], value: 2 },
      { path: ["scaling", "scaleToZero"], remove: true },
    ]);
  });

  it("refuses a policy the CEL rules refuse, with their message", () => {
    const knobsOf = policyKnobs(examplePolicy("2-batch-rabbitmq.yaml"), context);
    const batch = examplePolicy("2-batch-rabbitmq.yaml");
    const fallback = {
      ...batch,
      spec: {
        ...batch.spec,
        scaling: { ...batch.spec.scaling, fallback: { failureThreshold: 3, replicas: 15 } },
      },
    };
    const candidate = buildCandidate(fallback, knobsOf, vector(knobsOf, { "replicas.max": 10 }));
    expect(candidate.ok).toBe(false);
    expect(!candidate.ok && candidate.problems).toEqual([
      "spec.scaling.fallback.replicas: scaling.fallback.replicas must not exceed replicas.max",
    ]);
  });
});

describe("targets of a request rate per replica", () => {
  it("also try what a replica serves: a target far above it would never scale out", () => {
    // hybrid-ranker asks for 100 req/s per pod of replicas that serve 10.
    const knobs = policyKnobs(examplePolicy("4-hybrid-external.yaml"), context);
    const target = knobs.find((knob) => knob.field === "scaling.metrics.external[0].targetAverageValue");
    expect(target?.original).toBe(100);
    expect(target?.values).toEqual([
      4, 5, 6, 8, 10, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400,
    ]);
  });
});
