import { describe, expect, it } from "vitest";
import { MLAutoscalePolicySchema } from "../../../src/api/v1alpha1/index.js";
import { outcomeOf } from "../../../src/tune/evaluate.js";
import { simulatePolicy } from "../../../src/tune/prepare.js";
import { isFeasible, paretoFront, SIMPLIFY_TOLERANCE } from "../../../src/tune/search.js";
import {
  examplePolicy,
  exampleTrace,
  recommendedValue,
  servingPolicy,
  setupFor,
  steps,
  tuneInline,
} from "./support.js";

describe("tune finds the known best answer", () => {
  // A constant load of L req/s at 10 req/s per replica needs exactly ceil(L / 10) replicas: one fewer and
  // the queue grows without end; one more costs a GPU for nothing. The original asks for 50 % CPU, twice
  // that, so the tuner has to find a target that holds exactly ceil(L / 10).
  it.each([
    [95, 10],
    [101, 11],
    [38, 4],
  ])("a constant %d req/s runs on exactly %d replicas", async (rps, replicas) => {
    const policy = servingPolicy({ metrics: { cpu: { targetUtilization: 50 } } }, { min: 2, max: 30 });
    const trace = steps({ rps, seconds: 3600 }, { rps, seconds: 3600 });
    const result = await tuneInline(policy, trace);
    const { outcome } = result.recommended;
    expect(outcome.violationRatio).toBe(0);
    expect(outcome.peakReplicas).toBe(replicas);
    expect(outcome.meanReadyReplicas).toBeCloseTo(replicas, 6);
    // One GPU per replica for the two hours.
    expect(outcome.gpuHours).toBeCloseTo(2 * replicas, 6);
    // The original overprovisions: the recommendation is cheaper.
    expect(outcome.gpuHours).toBeLessThan(result.search.original.outcome.gpuHours);
  });

  it("from a cold start, a constant load still settles on exactly ceil(load / service rate) replicas", async () => {
    const policy = servingPolicy(
      { metrics: { cpu: { targetUtilization: 50 }, queueDepth: { targetAverageValue: 20 } } },
      { min: 1, max: 30 },
    );
    const trace = steps({ rps: 95, seconds: 3600 }, { rps: 95, seconds: 3600 });
    const result = await tuneInline(policy, trace, {}, { initialReplicas: 1 });
    expect(isFeasible(result.recommended.outcome, 0.01)).toBe(true);
    const ready = result.recommendedDetail.timeline.readyReplicas;
    // The second hour: 10 ready replicas at every step.
    expect(new Set(ready.slice(ready.length / 2))).toEqual(new Set([10]));
  });

  // The load triples at 30 min. Each second the scale-up waits, the 60 req/s that arrive queue behind a
  // backlog and miss the 2 s SLO: 60 violations, 0.024 % of the 252,000 requests. With no window the rest
  // of the lag (a 15 s sync, the metrics' delay, 10 s scheduling, 60 s model load, the drain) costs 2.7 %; so at most 5 % over
  // the SLO allows a window of about (5 - 2.7) / 0.024 = 96 s: 90 s on the tuner's ladder, not 120 s.
  // A longer window is cheaper (replicas come later) or, GPUs being counted in whole pod-seconds, as cheap:
  // the tuner must take the cheapest that fits, and of those as cheap the one with fewer violations.
  it("a step needs the scale-up window no longer than the SLO allows, and the tuner takes the cheapest such", async () => {
    const trace = steps({ rps: 20, seconds: 1800 }, { rps: 60, seconds: 1800 }, { rps: 60, seconds: 1800 });
    const withWindow = (window: number) =>
      servingPolicy(
        {
          metrics: { cpu: { targetUtilization: 80 }, queueDepth: { targetAverageValue: 5 } },
          behavior: {
            scaleUp: {
              stabilizationWindowSeconds: window,
              policies: [{ type: "Pods", value: 10, periodSeconds: 15 }],
            },
            scaleDown: { stabilizationWindowSeconds: 300 },
          },
        },
        { min: 1, max: 20 },
      );
    const outcome = (window: number) => {
      const policy = withWindow(window);
      return outcomeOf(simulatePolicy(policy, setupFor(policy, trace)));
    };
    // The simulator itself says where the limit is: the windows within it are the short ones.
    const ladder = [0, 15, 30, 60, 90, 120, 180, 300, 450, 600, 900];
    const fits = ladder.filter((window) => outcome(window).violationRatio <= 0.05);
    expect(fits).toEqual(ladder.slice(0, fits.length));
    const longest = Math.max(...fits);
    expect(longest).toBeGreaterThanOrEqual(60);
    expect(longest).toBeLessThanOrEqual(180);
    // Of the windows that fit, the cheapest; of those as cheap, the one with the fewest violations (GPUs
    // come in whole pod-seconds, so two windows can cost the same).
    const [best] = [...fits].sort(
      (a, b) =>
        outcome(a).gpuHours - outcome(b).gpuHours || outcome(a).violationRatio - outcome(b).violationRatio,
    );
    expect(best).toBeGreaterThanOrEqual(60);

    const result = await tuneInline(withWindow(600), trace, {
      maxViolationRatio: 0.05,
      fixed: [
        "replicas",
        "scaling.metrics",
        "scaling.behavior.preset",
        "scaling.behavior.scaleUp.policies",
        "scaling.behavior.scaleDown",
        "scaling.pollingIntervalSeconds",
        "scaling.scaleToZero",
      ],
    });
    expect(result.knobs.map((knob) => knob.field)).toEqual([
      "scaling.behavior.scaleUp.stabilizationWindowSeconds",
    ]);
    expect(recommendedValue(result, "scaling.behavior.scaleUp.stabilizationWindowSeconds")).toBe(best);
    expect(
      result.recommended.candidate.policy.spec.scaling.behavior.scaleUp?.stabilizationWindowSeconds,
    ).toBe(best);
    expect(result.changes).toHaveLength(1);
    expect(result.changes[0]?.reason).toMatch(
      new RegExp(
        `^scale-up window 600 s -> ${best} s: with 600 s, \\d+ replicas are asked for at \\S+ \\(60 req/s\\), against \\d+: requests wait \\d+ s \\(.* with the change\\); SLO violations \\d+\\.\\d\\d% -> \\d\\.\\d\\d%, for .* GPU-hours more$`,
      ),
    );
  });
});

describe("tune keeps what it must", () => {
  it("honours --fix: a fixed field keeps its value in every candidate", async () => {
    const policy = servingPolicy(
      {
        metrics: { cpu: { targetUtilization: 50 }, queueDepth: { targetAverageValue: 10 } },
        behavior: { preset: "Conservative" },
      },
      { min: 2, max: 12 },
    );
    const trace = steps({ rps: 30, seconds: 1800 }, { rps: 110, seconds: 1800 }, { rps: 30, seconds: 1800 });
    const result = await tuneInline(policy, trace, { fixed: ["replicas.max", "spec.scaling.behavior"] });
    const fields = result.knobs.map((knob) => knob.field);
    expect(fields).not.toContain("replicas.max");
    expect(fields.filter((field) => field.startsWith("scaling.behavior"))).toEqual([]);
    expect(fields).toContain("replicas.min");
    for (const scored of result.search.evaluated) {
      expect(scored.candidate.policy.spec.replicas.max).toBe(12);
      expect(scored.candidate.policy.spec.scaling.behavior).toEqual({ preset: "Conservative" });
    }
  });

  it("refuses a --fix field it does not change, naming those it does", async () => {
    const policy = servingPolicy({ metrics: { cpu: { targetUtilization: 50 } } });
    await expect(
      tuneInline(policy, steps({ rps: 5, seconds: 600 }, { rps: 5, seconds: 600 }), {
        fixed: ["replicas.maximum"],
      }),
    ).rejects.toThrow(
      /^--fix replicas\.maximum: not a setting tune changes in this policy; it changes replicas\.min, replicas\.max, scaling\.metrics\.cpu\.targetUtilization, /,
    );
  });

  it("recommends only valid policies: each candidate passes the schema and its CEL rules", async () => {
    const policy = servingPolicy({
      metrics: { cpu: { targetUtilization: 70 }, queueDepth: { targetAverageValue: 10 } },
    });
    const result = await tuneInline(policy, steps({ rps: 40, seconds: 1800 }, { rps: 150, seconds: 1800 }));
    for (const scored of result.search.evaluated) {
      expect(MLAutoscalePolicySchema.safeParse(scored.candidate.policy).success).toBe(true);
    }
  });

  it("puts the recommendation on the Pareto front, and no front point beats another on both axes", async () => {
    const policy = servingPolicy({
      metrics: { cpu: { targetUtilization: 70 }, queueDepth: { targetAverageValue: 10 } },
    });
    const result = await tuneInline(policy, steps({ rps: 40, seconds: 1800 }, { rps: 150, seconds: 1800 }));
    const front = paretoFront(result.search.evaluated);
    expect(front).toContain(result.recommended);
    for (const a of front) {
      for (const b of front) {
        if (a === b) continue;
        expect(
          a.outcome.gpuHours <= b.outcome.gpuHours && a.outcome.violationRatio <= b.outcome.violationRatio,
        ).toBe(false);
      }
    }
    // The front runs from cheap and late to dear and on time.
    for (let index = 1; index < front.length; index++) {
      expect(front[index]?.outcome.gpuHours).toBeGreaterThan(front[index - 1]?.outcome.gpuHours ?? 0);
      expect(front[index]?.outcome.violationRatio).toBeLessThan(
        front[index - 1]?.outcome.violationRatio ?? 1,
      );
    }
  });
});

describe("when no candidate meets the SLO", () => {
  it("recommends the fewest violations at no more GPU-hours than a candidate as good costs", async () => {
    // The LLM example kept at zero (--fix replicas.min) on its demo load: every chat waits out a cold start.
    const result = await tuneInline(
      examplePolicy("5-llm-vllm.yaml"),
      exampleTrace("demo-llm.csv"),
      { fixed: ["replicas.min"], budget: 300 },
      { serviceRatePerReplica: 2, initialReplicas: 0 },
    );
    const recommended = result.recommended.outcome;
    expect(isFeasible(recommended, 0.01)).toBe(false);
    // A simpler policy may give up a little (SIMPLIFY_TOLERANCE), never a cheaper one as good.
    const asGoodAndCheaper = result.search.evaluated.filter(
      (scored) =>
        scored.outcome.violationRatio <= recommended.violationRatio &&
        scored.outcome.gpuHours < recommended.gpuHours * (1 - SIMPLIFY_TOLERANCE),
    );
    expect(asGoodAndCheaper).toEqual([]);
  });
});
