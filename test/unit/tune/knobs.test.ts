import { describe, expect, it } from "vitest";
import { MLAutoscalePolicySchema, type MLAutoscalePolicy } from "../../../src/api/v1alpha1/index.js";
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

/** The knobs every policy has after its replicas, metrics and triggers: KEDA's, then the behavior's. */
const KEDA_AND_BEHAVIOR_FIELDS = [
  "scaling.pollingIntervalSeconds",
  "scaling.scaleToZero.cooldownSeconds",
  "scaling.behavior.preset",
  "scaling.behavior.scaleUp.stabilizationWindowSeconds",
  "scaling.behavior.scaleUp.policies",
  "scaling.behavior.scaleDown.stabilizationWindowSeconds",
  "scaling.behavior.scaleDown.policies",
];

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
      ...KEDA_AND_BEHAVIOR_FIELDS,
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

describe("an LLM server's knobs (scaling.metrics.server)", () => {
  const llm = examplePolicy("5-llm-vllm.yaml");
  const llmContext = { ...context, needs: { low: 0, median: 2, peak: 4 }, serviceRatePerReplica: 2 };
  const knobs = policyKnobs(llm, llmContext);
  const byField = new Map(knobs.map((knob) => [knob.field, knob]));

  /** examples/5-llm-vllm.yaml with `server` in place of its scaling.metrics.server. */
  function withServer(server: Record<string, unknown>, replicas = llm.spec.replicas): MLAutoscalePolicy {
    return MLAutoscalePolicySchema.parse({
      ...llm,
      spec: {
        ...llm.spec,
        replicas,
        scaling: {
          ...llm.spec.scaling,
          ...(replicas.min > 0 && { scaleToZero: undefined }),
          metrics: {
            server: { engine: "vLLM", prometheus: { serverAddress: "http://prometheus:9090" }, ...server },
          },
        },
      },
    });
  }

  it("tries the targets the policy sets, the upstream queue's activation, and scaleToZero's for the server's own triggers", () => {
    expect(knobs.map((knob) => knob.field)).toEqual([
      "replicas.min",
      "replicas.max",
      "scaling.metrics.server.waitingRequestsPerReplica",
      "scaling.metrics.server.kvCacheUtilization",
      "scaling.metrics.server.activation.activationValue",
      "scaling.scaleToZero.activationValue",
      ...KEDA_AND_BEHAVIOR_FIELDS,
    ]);
    expect(byField.get("scaling.metrics.server.waitingRequestsPerReplica")).toMatchObject({
      label: "waiting requests target",
      kind: "target",
      original: 4,
      values: [1, 2, 3, 4, 5, 6, 8, 10, 12, 15],
    });
    expect(byField.get("scaling.metrics.server.kvCacheUtilization")).toMatchObject({
      kind: "target",
      original: 75,
      values: [30, 40, 50, 60, 70, 75, 80, 90, 100],
    });
    expect(byField.get("scaling.metrics.server.kvCacheUtilization")?.format(75)).toBe("75%");
    expect(byField.get("scaling.metrics.server.activation.activationValue")).toMatchObject({
      label: "upstream queue activation",
      kind: "activation",
      original: 0,
      values: [0, 1, 2, 5, 10, 20],
    });
    // A warm minimum is among the choices: it drops the activation with scaleToZero (next test).
    expect(byField.get("replicas.min")?.values).toEqual([0, 1, 2, 3, 4]);
  });

  it("drops scaleToZero and the activation when the minimum leaves 0, as the CEL rules require", () => {
    const candidate = buildCandidate(llm, knobs, vector(knobs, { "replicas.min": 1 }));
    expect(candidate.ok).toBe(true);
    if (!candidate.ok) return;
    expect(candidate.edits).toEqual([
      { path: ["replicas", "min"], value: 1 },
      { path: ["scaling", "scaleToZero"], remove: true },
      { path: ["scaling", "metrics", "server", "activation"], remove: true },
    ]);
    expect(candidate.policy.spec.scaling.metrics.server).toEqual({
      ...llm.spec.scaling.metrics.server,
      activation: undefined,
    });
    // The activation's knobs do nothing then: they keep their values rather than write half an activation.
    const both = buildCandidate(
      llm,
      knobs,
      vector(knobs, { "replicas.min": 1, "scaling.metrics.server.activation.activationValue": 5 }),
    );
    expect(both.ok && both.key).toBe(candidate.key);
    expect(both.ok && both.policy.spec.scaling.metrics.server?.activation).toBeUndefined();
  });

  it("writes each target and the activation where the operator reads them", () => {
    const candidate = buildCandidate(
      llm,
      knobs,
      vector(knobs, {
        "scaling.metrics.server.waitingRequestsPerReplica": 8,
        "scaling.metrics.server.kvCacheUtilization": 90,
        "scaling.metrics.server.activation.activationValue": 2,
      }),
    );
    expect(candidate.ok).toBe(true);
    if (!candidate.ok) return;
    const server = candidate.policy.spec.scaling.metrics.server;
    expect(server).toMatchObject({ waitingRequestsPerReplica: 8, kvCacheUtilization: 90 });
    expect(server?.activation).toEqual({
      ...llm.spec.scaling.metrics.server?.activation,
      activationValue: 2,
    });
  });

  it("leaves the engine's default targets alone: setting one would drop the others", () => {
    const fields = policyKnobs(withServer({}, { min: 1, max: 4 }), llmContext).map((knob) => knob.field);
    expect(fields.filter((field) => field.startsWith("scaling.metrics.server"))).toEqual([]);
  });

  it("tries running-requests targets up to what a replica's batch holds, and the upstream queue's own target", () => {
    const policy = withServer({
      runningRequestsPerReplica: 100,
      activation: { query: "sum(gateway_queue)", targetAverageValue: 6, activationValue: 1 },
    });
    const serverKnobs = policyKnobs(policy, { ...llmContext, serverConcurrency: 32 }).filter((knob) =>
      knob.field.startsWith("scaling.metrics.server"),
    );
    expect(serverKnobs.map((knob) => [knob.field, knob.original])).toEqual([
      ["scaling.metrics.server.runningRequestsPerReplica", 100],
      ["scaling.metrics.server.activation.activationValue", 1],
      ["scaling.metrics.server.activation.targetAverageValue", 6],
    ]);
    // 40 % to 100 % of a batch of 32 (15 to 30), and a quarter to four times the policy's 100.
    expect(serverKnobs[0]?.values).toEqual([
      15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400,
    ]);
    expect(serverKnobs[2]?.values).toEqual([2, 3, 4, 5, 6, 8, 10, 12, 15, 20]);
  });

  it("starts the activation from scaleToZero's when the policy's activation sets none", () => {
    const policy = MLAutoscalePolicySchema.parse({
      ...llm,
      spec: { ...llm.spec, scaling: { ...llm.spec.scaling, scaleToZero: { activationValue: 2 } } },
    });
    const activation = policyKnobs(policy, llmContext).find(
      (knob) => knob.field === "scaling.metrics.server.activation.activationValue",
    );
    expect(activation?.original).toBe(2);
  });
});
