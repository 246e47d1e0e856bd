import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { parsePolicy } from "../../../src/api/v1alpha1/index.js";
import { FEATURE_POLICIES } from "../../fixtures/feature-policies.js";
import { INVALID_POLICIES, validBasePolicy, validKedaBasePolicy } from "../../fixtures/invalid-policies.js";

const examplesDir = fileURLToPath(new URL("../../../examples/", import.meta.url));
const exampleFiles = readdirSync(examplesDir).filter((f) => f.endsWith(".yaml"));

function problemsOf(value: unknown): string[] {
  const result = parsePolicy(value);
  return result.ok ? [] : result.problems;
}

describe("the invalid-policy table", () => {
  it("has at least 30 cases with distinct names, both admission kinds among them", () => {
    expect(INVALID_POLICIES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(INVALID_POLICIES.map((c) => c.name)).size).toBe(INVALID_POLICIES.length);
    expect(INVALID_POLICIES.some((c) => c.admission === "reported")).toBe(true);
    expect(INVALID_POLICIES.some((c) => c.admission === "rejected")).toBe(true);
  });

  it.each(INVALID_POLICIES.map((c) => [c.name, c] as const))("%s: fails, naming the field", (_name, c) => {
    const problems = problemsOf(c.policy);
    expect(problems.length, "the policy was accepted").toBeGreaterThan(0);
    const naming = problems.filter((p) => p.startsWith(`${c.field}: `));
    expect(naming, `no problem names ${c.field}: ${problems.join(" | ")}`).not.toEqual([]);
    expect(
      naming.some((p) => p.includes(c.message)),
      problems.join(" | "),
    ).toBe(true);
  });
});

describe("valid policies", () => {
  it.each([
    ["the base policy", validBasePolicy()],
    ["the KEDA base policy", validKedaBasePolicy()],
    ...Object.entries(FEATURE_POLICIES),
  ])("%s passes", (_name, policy) => {
    expect(problemsOf(policy)).toEqual([]);
  });

  it.each(exampleFiles)("examples/%s passes", (file) => {
    const documents = parseAllDocuments(readFileSync(join(examplesDir, file), "utf8"));
    expect(Array.isArray(documents)).toBe(true);
    const values = (Array.isArray(documents) ? documents : []).map((d) => d.toJS() as unknown);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(problemsOf(value)).toEqual([]);
  });

  it("fills the defaults the CRD declares", () => {
    const parsed = parsePolicy(validBasePolicy());
    if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
    const spec = parsed.policy.spec;
    expect(spec.scaling.engine).toBe("Auto");
    expect(spec.scaling.behavior).toEqual({ preset: "Realtime" });
    expect(spec.disruption).toEqual({ maxUnavailable: 1 });
    expect(spec.placement).toEqual({ tolerateGpuTaint: true, spreadAcrossZones: false });
    expect(spec.paused).toBe(false);
    expect(spec.workload.template?.ports).toEqual({ http: 8080, metrics: 8000 });
    expect(spec.workload.template?.probes).toEqual({ healthPath: "/health", readyPath: "/ready" });
    expect(spec.workload.template?.gpu).toEqual({ count: 1, resourceName: "nvidia.com/gpu" });
  });
});
