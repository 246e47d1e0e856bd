import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePolicies } from "../../../src/render/index.js";
import { runSimulateCommand } from "../../../src/simulate/command.js";
import { runTuneCommand } from "../../../src/tune/command.js";
import { runCommand } from "../../support/command-io.js";
import { examplesDir } from "./support.js";

const realtime = join(examplesDir, "1-realtime-inference.yaml");
const batch = join(examplesDir, "2-batch-rabbitmq.yaml");
const spike = join(examplesDir, "traces/spike.csv");
const scratch = mkdtempSync(join(tmpdir(), "mlautoscale-tune-"));
const quick = ["--candidates", "40", "--workers", "0"];

const tune = (...argv: string[]) => runCommand(runTuneCommand, argv);
const simulate = (...argv: string[]) => runCommand(runSimulateCommand, argv);

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

describe("mlautoscale tune", () => {
  it("prints the front, where the original stands, and the recommendation with a reason per change", async () => {
    // The 2-minute burst of 300 req/s is more than 10 replicas can serve: allow 30 % over the SLO.
    const { code, stdout, stderr } = await tune(
      "-f",
      realtime,
      "--trace",
      spike,
      "--max-violations",
      "30",
      ...quick,
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]).toBe(`mlautoscale tune: resnet50-inference on ${spike}`);
    expect(lines[1]).toBe(
      "SLO 2 s (wait plus service), at most 30.00% of requests over it; 10 req/s per ready replica",
    );
    expect(lines[2]).toMatch(/^\d+ candidates over 12 settings in \d+\.\d s \(\d+\/s, in one thread\)/);
    expect(stdout).toMatch(/\n {3}GPU-hours +cost +violations +max wait +peak +changes\n/);
    expect(stdout).toMatch(/\n\* +\d+\.\d\d +\$\d+\.\d\d +\d+\.\d\d% /);
    expect(stdout).toMatch(
      /\nThe original \(\d+\.\d\d GPU-hours \(\$\d+\.\d\d\), \d+\.\d\d% of requests over the SLO\) is/,
    );
    expect(stdout).toMatch(/\nRecommended: \d+\.\d\d GPU-hours/);
    // One line per change: "label from -> to: with from, ...".
    expect(stdout).toMatch(/\n {2}[a-zA-Z -]+ \S+( s|%)? -> \S+( s|%)?: (with|follows) /);
  });

  it("writes the recommended policy in the user's own file, comments and all, and it passes the schema", async () => {
    const { code, stdout } = await tune("-f", realtime, "--trace", spike, "-o", "yaml", ...quick);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^# mlautoscale tune on .*spike\.csv: SLO 2 s, at most 1\.00% of requests over it\n/,
    );
    // The user's comments and fields tune never touches are still there.
    expect(stdout).toContain("# Keeping 2 available at 2 replicas would make nodes undrainable");
    expect(stdout).toContain("    gpuInstanceTypes: [g4dn.xlarge, p3.2xlarge]\n");
    expect(stdout).toContain("  labels:\n    team: vision\n");
    const [policy] = parsePolicies(stdout, "tuned.yaml");
    expect(policy?.metadata.name).toBe("resnet50-inference");
    // Outside the scaling settings, the policy is the original.
    const [original] = parsePolicies(readFileSync(realtime, "utf8"), realtime);
    expect(policy?.spec.workload).toEqual(original?.spec.workload);
    expect(policy?.spec.disruption).toEqual(original?.spec.disruption);
  });

  it("prints JSON with the front, the original and the recommendation, and an SVG chart", async () => {
    const json = await tune("-f", realtime, "--trace", spike, "-o", "json", ...quick);
    const document = JSON.parse(json.stdout) as {
      candidates: number;
      original: { settings: Record<string, unknown> };
      recommended: { meetsSlo: boolean; changes: { field: string; reason: string }[]; policy: string };
      front: { gpuHours: number; sloViolationRatio: number }[];
    };
    expect(document.candidates).toBeGreaterThan(10);
    expect(document.original.settings["replicas.max"]).toBe(10);
    expect(document.front.length).toBeGreaterThan(0);
    expect(parsePolicies(document.recommended.policy, "tuned.yaml")).toHaveLength(1);
    const svg = await tune("-f", realtime, "--trace", spike, "-o", "svg", ...quick);
    expect(svg.stdout.startsWith("<svg xmlns=")).toBe(true);
    expect(svg.stdout.trim().endsWith("</svg>")).toBe(true);
    expect(svg.stdout).toContain("original: ");
    expect(svg.stdout).toContain("recommended: ");
  });

  it("keeps --fix fields in the printed policy", async () => {
    const { code, stdout } = await tune(
      "-f",
      batch,
      "--trace",
      spike,
      "--fix",
      "replicas,scaling.behavior",
      "--fix",
      "scaling.pollingIntervalSeconds",
      "-o",
      "yaml",
      ...quick,
    );
    expect(code).toBe(0);
    const [policy] = parsePolicies(stdout, "tuned.yaml");
    expect(policy?.spec.replicas).toEqual({ min: 0, max: 20 });
    expect(policy?.spec.scaling.behavior).toEqual({ preset: "Batch" });
    expect(policy?.spec.scaling.pollingIntervalSeconds).toBe(15);
  });

  it("tunes the LLM example from zero on its demo trace: a minimum leaving 0 takes the activation with it", async () => {
    // The demo's workload: two chats a second per replica, a 12 s model load, the server at zero.
    const llm = join(examplesDir, "5-llm-vllm.yaml");
    const demo = join(examplesDir, "traces/demo-llm.csv");
    const workload = ["--service-rate", "2", "--model-load", "12", "--initial-replicas", "0"];
    const table = await tune("-f", llm, "--trace", demo, ...workload, ...quick);
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/ candidates over 13 settings /);
    // From zero, each chat waits a cold start far longer than the 2 s SLO: a warm minimum is the fix.
    expect(table.stdout).toMatch(/\nRecommended: .*\n {2}min replicas 0 -> [1-9]\d*: /);

    const yaml = await tune("-f", llm, "--trace", demo, ...workload, "-o", "yaml", ...quick);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain(
      "# An LLM chat service on vLLM, scaled by KEDA on the server's own signals",
    );
    const [policy] = parsePolicies(yaml.stdout, "tuned.yaml");
    expect(policy?.spec.replicas.min).toBeGreaterThan(0);
    // The CRD allows both only with replicas.min 0; the server's own targets stay.
    expect(policy?.spec.scaling.scaleToZero).toBeUndefined();
    expect(policy?.spec.scaling.metrics.server?.activation).toBeUndefined();
    expect(policy?.spec.scaling.metrics.server).toMatchObject({
      engine: "vLLM",
      modelName: "llama-3.1-8b-instruct",
      prometheus: { serverAddress: "http://prometheus.monitoring.svc:9090" },
    });
  });

  it("picks a policy with --name from a file of several", async () => {
    const both = file("both.yaml", `${readFileSync(realtime, "utf8")}---\n${readFileSync(batch, "utf8")}`);
    const many = await tune("-f", both, "--trace", spike, ...quick);
    expect(many).toMatchObject({ code: 1, stdout: "" });
    expect(many.stderr).toBe(
      `error: ${both}: holds 2 policies (resnet50-inference, batch-embeddings): choose one with --name\n`,
    );
    const picked = await tune(
      "-f",
      both,
      "--trace",
      spike,
      "--name",
      "batch-embeddings",
      "-o",
      "yaml",
      ...quick,
    );
    expect(picked.code).toBe(0);
    expect(parsePolicies(picked.stdout, "tuned.yaml").map((p) => p.metadata.name)).toEqual([
      "batch-embeddings",
    ]);
  });
});

describe("bad input: the same errors as simulate, and nothing else printed", () => {
  it.each([
    ["a malformed trace", () => [realtime, file("bad.csv", "t,rps\n0,10\n15,lots\n")]],
    ["a trace that is not there", () => [realtime, join(scratch, "missing.csv")]],
    [
      "a malformed request log",
      () => [realtime, file("log.csv", "TIMESTAMP,tokens\n2023-11-16 18:15:46,1\nlater,2\n")],
    ],
    [
      "a malformed policy",
      () => [
        file(
          "bad-policy.yaml",
          "apiVersion: mlautoscale.io/v1alpha1\nkind: MLAutoscalePolicy\nmetadata: { name: broken }\nspec:\n  replicas: { min: 1, max: -3 }\n",
        ),
        spike,
      ],
    ],
    ["a policy that is not there", () => [join(scratch, "missing.yaml"), spike]],
    [
      "a metric the simulator cannot place",
      () => [
        file(
          "mystery.yaml",
          readFileSync(realtime, "utf8").replace(
            "metricName: inference_queue_depth",
            "metricName: mystery_gauge",
          ),
        ),
        spike,
      ],
    ],
  ])("%s", async (_name, inputs) => {
    const [policyFile = "", traceFile = ""] = inputs();
    const tuned = await tune("-f", policyFile, "--trace", traceFile, ...quick);
    const simulated = await simulate("-f", policyFile, "--trace", traceFile);
    expect(simulated.code).toBe(1);
    expect(tuned).toEqual({ code: 1, stdout: "", stderr: simulated.stderr });
  });

  it("rejects bad flags with usage", async () => {
    expect((await tune("--trace", spike)).stderr).toMatch(/^error: -f POLICY.yaml is required/);
    expect((await tune("-f", realtime)).stderr).toMatch(/^error: --trace TRACE is required/);
    expect((await tune("-f", realtime, "--trace", spike, "-o", "csv")).stderr).toMatch(
      /-o must be one of table, yaml, json, svg, not csv/,
    );
    expect((await tune("-f", realtime, "--trace", spike, "--max-violations", "150")).stderr).toMatch(
      /--max-violations is a percentage, not 150/,
    );
    expect((await tune("-f", realtime, "--trace", spike, "--service-rate", "0")).stderr).toMatch(
      /--service-rate must be a number > 0, not 0/,
    );
    expect((await tune("-f", realtime, "--trace", spike, "--server-concurrency", "0")).stderr).toMatch(
      /--server-concurrency must be a number > 0, not 0/,
    );
    expect((await tune("-f", realtime, "--trace", spike, "--workers", "1.5")).code).toBe(2);
    const unknown = await tune("-f", realtime, "--trace", spike, "--fix", "replicas.maximum", ...quick);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^error: --fix replicas\.maximum: not a setting tune changes in this policy; it changes replicas\.min, /,
    );
    expect((await tune("--help")).stdout).toContain("Usage: mlautoscale tune");
  });
});
