// Every policy `tune` simulates, and every policy it prints, is one the real kube-apiserver admits: the CRD's
// schema and its CEL rules, evaluated by the API server (server-side dry run), not by the TypeScript twins
// the tuner checks with.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePolicies } from "../../src/render/index.js";
import { DEFAULT_OPTIONS } from "../../src/simulate/simulate.js";
import { parseTrace } from "../../src/simulate/trace.js";
import { recommendedYaml } from "../../src/tune/output.js";
import { inlineEvaluator } from "../../src/tune/pool.js";
import { tunePolicy, tuningSetup } from "../../src/tune/tune.js";
import { createTestNamespace, deleteTestNamespace, kubectl } from "../support/cluster.js";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));
let namespace = "";

beforeAll(async () => {
  namespace = await createTestNamespace("tune-admission");
});

afterAll(async () => {
  await deleteTestNamespace(namespace);
});

describe("tune's policies and the API server", () => {
  it.each([
    ["1-realtime-inference.yaml", "step.csv"],
    ["2-batch-rabbitmq.yaml", "demo-batch.csv"],
    ["3-training-sqs.yaml", "demo-training.csv"],
    ["4-hybrid-external.yaml", "demo-ranker.csv"],
    ["5-llm-vllm.yaml", "demo-llm.csv"],
  ])("%s on %s: every candidate and the recommendation pass admission", async (file, traceFile) => {
    const policyText = readFileSync(`${examples}${file}`, "utf8");
    const [policy] = parsePolicies(policyText, file);
    if (!policy) throw new Error(`${file} holds no policy`);
    const trace = parseTrace(readFileSync(`${examples}traces/${traceFile}`, "utf8"), traceFile);
    const setup = tuningSetup(policy, trace, { ...DEFAULT_OPTIONS }, true);
    const result = await tunePolicy(
      policy,
      setup,
      inlineEvaluator(setup),
      { budget: 80, maxViolationRatio: 0.05, fixed: [] },
      { serviceRatePerReplica: 10, startupSeconds: 70 },
    );
    expect(result.search.evaluated.length).toBeGreaterThan(40);
    // Presets and explicit rules, and several minimums: the structural changes are among them.
    const policies = result.search.evaluated.map((scored) => scored.candidate.policy.spec);
    expect(new Set(policies.map((spec) => spec.scaling.behavior.preset ?? "explicit")).size).toBeGreaterThan(
      2,
    );
    expect(new Set(policies.map((spec) => spec.replicas.min)).size).toBeGreaterThan(1);
    // Each candidate under a name of its own, in one server-side dry run.
    const candidates = result.search.evaluated.map((scored, index) =>
      stringify({
        ...scored.candidate.policy,
        metadata: { ...scored.candidate.policy.metadata, name: `${policy.metadata.name}-${index}` },
      }),
    );
    const applied = await kubectl(["apply", "--dry-run=server", "-f", "-"], {
      namespace,
      input: candidates.join("---\n"),
    });
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout.trim().split("\n")).toHaveLength(candidates.length);

    const yaml = recommendedYaml(
      policyText,
      file,
      result.recommended.candidate.policy,
      result.recommended.candidate.edits,
      ["tuned"],
    );
    const recommended = await kubectl(["apply", "--dry-run=server", "-f", "-"], { namespace, input: yaml });
    expect(recommended.stderr).toBe("");
    expect(recommended.stdout).toMatch(/created \(server dry run\)/);
  });
});
