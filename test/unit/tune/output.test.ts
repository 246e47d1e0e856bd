import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePolicies } from "../../../src/render/index.js";
import { buildCandidate, policyKnobs, type Knob, type KnobValue } from "../../../src/tune/knobs.js";
import { recommendedYaml } from "../../../src/tune/output.js";
import { examplePolicy, examplesDir } from "./support.js";

const context = { kedaInstalled: true, needs: { low: 1, median: 4, peak: 12 }, serviceRatePerReplica: 10 };

function candidateOf(file: string, changes: Record<string, KnobValue>) {
  const policy = examplePolicy(file);
  const knobs: Knob[] = policyKnobs(policy, context);
  const candidate = buildCandidate(
    policy,
    knobs,
    knobs.map((knob) => changes[knob.field] ?? knob.original),
  );
  if (!candidate.ok) throw new Error(candidate.problems.join("; "));
  return candidate;
}

/** The lines of `after` that are not in `before`, and the reverse. */
function changedLines(before: string, after: string): { added: string[]; removed: string[] } {
  const a = before.split("\n");
  const b = after.split("\n");
  return { added: b.filter((line) => !a.includes(line)), removed: a.filter((line) => !b.includes(line)) };
}

describe("the recommended policy as YAML", () => {
  it("rewrites only the changed values when they are already written: the rest of the file is untouched", () => {
    const file = "1-realtime-inference.yaml";
    const text = readFileSync(`${examplesDir}${file}`, "utf8");
    const candidate = candidateOf(file, {
      "replicas.max": 19,
      "scaling.metrics.queueDepth.targetAverageValue": 6,
      "scaling.behavior.scaleDown.stabilizationWindowSeconds": 90,
    });
    const yaml = recommendedYaml(text, file, candidate.policy, candidate.edits, ["tuned", "because"]);
    expect(yaml.startsWith("# tuned\n# because\n\n")).toBe(true);
    expect(changedLines(text, yaml)).toEqual({
      added: [
        "# tuned",
        "# because",
        "    max: 19",
        "      queueDepth: { metricName: inference_queue_depth, targetAverageValue: 6 }",
        "        stabilizationWindowSeconds: 90",
      ],
      removed: [
        "    max: 10",
        "      queueDepth: { metricName: inference_queue_depth, targetAverageValue: 10 }",
        "        stabilizationWindowSeconds: 300",
      ],
    });
  });

  it("keeps a quoted string quoted: a trigger's metadata stays a string", () => {
    const file = "2-batch-rabbitmq.yaml";
    const text = readFileSync(`${examplesDir}${file}`, "utf8");
    const candidate = candidateOf(file, { "scaling.triggers[0].metadata.value": 3 });
    const yaml = recommendedYaml(text, file, candidate.policy, candidate.edits, ["tuned"]);
    expect(changedLines(text, yaml).added).toEqual(["# tuned", '          value: "3"']);
    expect(parsePolicies(yaml, file)[0]?.spec.scaling.triggers?.[0]?.metadata["value"]).toBe("3");
  });

  it("writes the document again for a structural change, comments kept, and it parses to the candidate", () => {
    const file = "2-batch-rabbitmq.yaml";
    const text = readFileSync(`${examplesDir}${file}`, "utf8");
    const candidate = candidateOf(file, {
      "scaling.behavior.preset": "explicit rules",
      "scaling.behavior.scaleUp.stabilizationWindowSeconds": 30,
      "replicas.min": 1,
    });
    // replicas.min leaves 0: scaleToZero goes, as the CEL rules require.
    expect(candidate.edits.map((edit) => [edit.path.join("."), "remove" in edit])).toEqual([
      ["replicas.min", false],
      ["scaling.scaleToZero", true],
      ["scaling.behavior.preset", true],
      ["scaling.behavior.scaleUp", false],
      ["scaling.behavior.scaleDown", false],
      ["scaling.behavior.scaleUp.stabilizationWindowSeconds", false],
    ]);
    const yaml = recommendedYaml(text, file, candidate.policy, candidate.edits, ["tuned"]);
    expect(yaml).toMatch(/^# tuned\n\n# A batch processor fed by RabbitMQ/);
    expect(yaml).not.toContain("preset:");
    expect(yaml).not.toContain("scaleToZero");
    const [reparsed] = parsePolicies(yaml, file);
    expect(reparsed?.spec).toEqual(candidate.policy.spec);
  });

  it("prints only the tuned policy of a file of several", () => {
    const text = `${readFileSync(`${examplesDir}1-realtime-inference.yaml`, "utf8")}---\n${readFileSync(`${examplesDir}2-batch-rabbitmq.yaml`, "utf8")}`;
    const candidate = candidateOf("2-batch-rabbitmq.yaml", { "replicas.max": 12 });
    const yaml = recommendedYaml(text, "both.yaml", candidate.policy, candidate.edits, ["tuned"]);
    expect(
      parsePolicies(yaml, "tuned.yaml").map((policy) => [policy.metadata.name, policy.spec.replicas.max]),
    ).toEqual([["batch-embeddings", 12]]);
  });
});
