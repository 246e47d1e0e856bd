import { describe, expect, it } from "vitest";
import { evaluatePolicy } from "../../../src/tune/prepare.js";
import { inlineEvaluator, workerEvaluator } from "../../../src/tune/pool.js";
import { tunePolicy } from "../../../src/tune/tune.js";
import { examplePolicy, exampleTrace, setupFor } from "./support.js";

describe("worker threads", () => {
  it("find what one thread finds, candidate for candidate", async () => {
    const policy = examplePolicy("2-batch-rabbitmq.yaml");
    const setup = setupFor(policy, exampleTrace("spike.csv"));
    const options = { budget: 60, maxViolationRatio: 0.01, fixed: [] };
    const explain = { serviceRatePerReplica: 10, startupSeconds: 55 };
    const workers = workerEvaluator(setup, 2);
    try {
      const threaded = await tunePolicy(policy, setup, workers, options, explain);
      const inline = await tunePolicy(policy, setup, inlineEvaluator(setup), options, explain);
      expect(threaded.search.evaluated.length).toBeGreaterThan(40);
      expect(threaded.search.evaluated.map((s) => [s.candidate.key, s.outcome])).toEqual(
        inline.search.evaluated.map((s) => [s.candidate.key, s.outcome]),
      );
      expect(threaded.changes).toEqual(inline.changes);
      // Timelines come back from the workers whole.
      expect(Array.from(threaded.recommendedDetail.timeline.readyReplicas)).toEqual(
        Array.from(inline.recommendedDetail.timeline.readyReplicas),
      );
    } finally {
      await workers.close();
    }
    // Starting a worker compiles the TypeScript sources again in that thread.
  }, 60_000);

  it("report a candidate the renderer refuses instead of failing", () => {
    const policy = examplePolicy("2-batch-rabbitmq.yaml");
    const setup = { ...setupFor(policy, exampleTrace("spike.csv")), kedaInstalled: false };
    const evaluation = evaluatePolicy(policy, setup, false);
    expect(evaluation).toEqual({
      ok: false,
      problem: expect.stringMatching(/^batch-embeddings: KedaNotInstalled: /) as unknown,
    });
  });
});
