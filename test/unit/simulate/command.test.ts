import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSimulateCommand } from "../../../src/simulate/command.js";
import { runCommand } from "../../support/command-io.js";

const examples = new URL("../../../examples/", import.meta.url).pathname;
const realtime = join(examples, "1-realtime-inference.yaml");
const batch = join(examples, "2-batch-rabbitmq.yaml");
const training = join(examples, "3-training-sqs.yaml");
const ranker = join(examples, "4-hybrid-external.yaml");
const stepTrace = join(examples, "traces/step.csv");
const scratch = mkdtempSync(join(tmpdir(), "mlautoscale-simulate-"));

const run = (...argv: string[]) => runCommand(runSimulateCommand, argv);

describe("mlautoscale simulate", () => {
  it("prints a summary table and the scale events by default", async () => {
    const { code, stdout, stderr } = await run("-f", realtime, "--trace", stepTrace);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\s+resnet50-inference/);
    expect(stdout).toMatch(/engine\s+HPA/);
    expect(stdout).toMatch(/model load\s+\d+s/);
    expect(stdout).toMatch(/GPU-hours\s+\d+\.\d\d/);
    expect(stdout).toContain("scale events");
  });

  it("holds a scale-up back while the HPA's last recommendation before the trace is in its scale-up window", async () => {
    // Example 3 (scale-up window 120 s, one pod per 60 s) from zero: KEDA wakes it at 18 s.
    const trace = join(scratch, "training-step.csv");
    writeFileSync(trace, "t,rps\n0,0.5\n60,4\n300,4\n");
    const scaleUps = async (...flags: string[]) => {
      const { code, stdout } = await run(
        ...["-f", training, "--trace", trace, "-o", "json", "--service-rate", "1", "--initial-replicas", "0"],
        ...["--hpa-first-sync", "3", "--keda-first-poll", "18", ...flags],
      );
      expect(code).toBe(0);
      const document = JSON.parse(stdout) as { events: { t: number; to: number; by: string }[] };
      return document.events.map((event) => [event.t, event.to, event.by]);
    };
    // The first sync in the trace (3 s) records the 0 replicas then: the HPA waits 120 s from it.
    expect((await scaleUps()).slice(0, 3)).toEqual([
      [18, 1, "KEDA"],
      [123, 2, "HPA"],
      [183, 3, "HPA"],
    ]);
    // Its last recommendation was 57 s before the trace (before KEDA scaled the workload to zero): it
    // leaves the window at 63 s.
    expect((await scaleUps("--hpa-last-recommendation", "57")).slice(0, 3)).toEqual([
      [18, 1, "KEDA"],
      [63, 2, "HPA"],
      [123, 3, "HPA"],
    ]);
    // Long enough before, it holds nothing back: the first sync that computes after the wake-up scales.
    expect((await scaleUps("--hpa-last-recommendation", "600")).slice(0, 2)).toEqual([
      [18, 1, "KEDA"],
      [18, 2, "HPA"],
    ]);
  });

  it("scrapes half an interval before the HPA's syncs, wherever its first sync falls", async () => {
    // Example 4 reads requests per second through Prometheus (scraped every 5 s) and prometheus-adapter.
    const trace = join(scratch, "ranker-step.csv");
    writeFileSync(trace, "t,rps\n0,200\n60,900\n300,900\n");
    const firstScaleUp = async (firstSync: string) => {
      const { code, stdout } = await run(
        ...["-f", ranker, "--trace", trace, "-o", "json", "--service-rate", "100", "--initial-replicas", "3"],
        ...["--scrape-interval", "5", "--metric-resolution", "15", "--relist-interval", "10"],
        ...["--hpa-first-sync", firstSync],
      );
      expect(code).toBe(0);
      return (JSON.parse(stdout) as { events: { t: number; to: number }[] }).events[0];
    };
    // Syncs at 0, 15, ...: the scrape before the sync at 60 is at 57, before the step; the sync at 75 acts.
    expect(await firstScaleUp("0")).toMatchObject({ t: 75, to: 7 });
    // Syncs at 2, 17, ..., 62: the scrape before the sync at 62 is at 59 (not 62): the sync at 77 acts.
    expect(await firstScaleUp("2")).toMatchObject({ t: 77, to: 7 });
  });

  it("prints the documented JSON shape", async () => {
    const { code, stdout } = await run(
      "-f",
      realtime,
      "--trace",
      stepTrace,
      "-o",
      "json",
      "--gpu-price",
      "4",
    );
    expect(code).toBe(0);
    const document = JSON.parse(stdout) as {
      policy: string;
      engine: string;
      parameters: { gpuPricePerHour: number; modelLoadSeconds: number };
      summary: { gpuHours: number; cost: number; modelLoadSeconds: number };
      events: unknown[];
      steps: Record<string, number>[];
    };
    expect(document.policy).toBe("resnet50-inference");
    // The model load time comes from the policy's model.loadSeconds.
    expect(document.parameters).toMatchObject({
      gpuPricePerHour: 4,
      modelLoadSeconds: document.summary.modelLoadSeconds,
    });
    expect(document.summary.modelLoadSeconds).toBeGreaterThan(0);
    expect(document.steps).toHaveLength(480);
    expect(Object.keys(document.steps[0] ?? {})).toEqual(
      expect.arrayContaining(["t", "load", "desiredReplicas", "readyReplicas", "queue"]),
    );
    expect(document.summary.cost).toBeCloseTo(document.summary.gpuHours * 4, 2);
  });

  it("compares policies side by side on one trace", async () => {
    const table = await run("-f", realtime, "--compare", batch, "--trace", stepTrace);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/resnet50-inference\s+batch-embeddings/);
    const json = await run("-f", realtime, "--compare", batch, "--trace", stepTrace, "-o", "json");
    const document = JSON.parse(json.stdout) as { results: { policy: string; engine: string }[] };
    expect(document.results.map((result) => [result.policy, result.engine])).toEqual([
      ["resnet50-inference", "HPA"],
      ["batch-embeddings", "KEDA"],
    ]);
  });

  it("writes CSV with a policy column when comparing, and a standalone SVG", async () => {
    const csv = await run("-f", realtime, "--compare", batch, "--trace", stepTrace, "-o", "csv");
    const lines = csv.stdout.trim().split("\n");
    expect(lines[0]).toBe(
      "policy,t,load,desired_replicas,ready_replicas,loading_replicas,pending_replicas,queue,wait_seconds,served,dropped,slo_violations,utilization",
    );
    expect(lines).toHaveLength(1 + 2 * 480);
    const svg = await run("-f", realtime, "--trace", stepTrace, "-o", "svg");
    expect(svg.stdout.startsWith("<svg xmlns=")).toBe(true);
    expect(svg.stdout.trim().endsWith("</svg>")).toBe(true);
    expect(svg.stdout).toContain("resnet50-inference (HPA)");
  });

  it("simulates already rendered objects too", async () => {
    const file = join(scratch, "rendered.yaml");
    writeFileSync(
      file,
      [
        "apiVersion: autoscaling/v2",
        "kind: HorizontalPodAutoscaler",
        "metadata: { name: web }",
        "spec:",
        "  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }",
        "  minReplicas: 1",
        "  maxReplicas: 4",
        "  metrics:",
        "    - type: Resource",
        "      resource: { name: cpu, target: { type: Utilization, averageUtilization: 60 } }",
        "---",
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: { name: web }",
        "spec:",
        "  selector: { matchLabels: { app: web } }",
        "  template:",
        "    spec:",
        "      containers:",
        "        - name: web",
        "          resources: { requests: { cpu: 500m, nvidia.com/gpu: 2 } }",
        "",
      ].join("\n"),
    );
    const { code, stdout } = await run("-f", file, "--trace", stepTrace, "-o", "json", "--model-load", "20");
    expect(code).toBe(0);
    const document = JSON.parse(stdout) as {
      summary: { gpusPerReplica: number; peakReplicas: number; modelLoadSeconds: number };
    };
    expect(document.summary).toMatchObject({ gpusPerReplica: 2, peakReplicas: 4, modelLoadSeconds: 20 });
  });

  it("reports a malformed trace with its line and prints nothing else", async () => {
    const file = join(scratch, "bad.csv");
    writeFileSync(file, "t,rps\n0,10\n15,lots\n");
    const { code, stdout, stderr } = await run("-f", realtime, "--trace", file);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`error: ${file}: line 3: rps must be a non-negative number, got "lots"\n`);
  });

  it("reports a malformed policy with its field and prints nothing else", async () => {
    const file = join(scratch, "bad-policy.yaml");
    writeFileSync(
      file,
      "apiVersion: mlautoscale.io/v1alpha1\nkind: MLAutoscalePolicy\nmetadata: { name: broken }\nspec:\n  replicas: { min: 1, max: -3 }\n",
    );
    const { code, stdout, stderr } = await run("-f", realtime, "--compare", file, "--trace", stepTrace);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(file);
    expect(stderr).toContain("replicas");
  });

  it("rejects bad flags with usage", async () => {
    expect((await run("--trace", stepTrace)).code).toBe(2);
    expect((await run("-f", realtime)).code).toBe(2);
    const badOutput = await run("-f", realtime, "--trace", stepTrace, "-o", "xml");
    expect(badOutput.code).toBe(2);
    expect(badOutput.stderr).toMatch(/-o must be one of table, json, csv, svg/);
    expect((await run("-f", realtime, "--trace", stepTrace, "--service-rate", "0")).stderr).toMatch(
      /--service-rate must be a number > 0/,
    );
    expect((await run("-f", realtime, "--trace", stepTrace, "--signal", "x=cpu")).code).toBe(2);
    expect((await run("--help")).stdout).toContain("Usage: mlautoscale simulate");
  });
});

describe("mlautoscale simulate: the cluster's parameters", () => {
  it("takes them as flags and reports them in the JSON parameters", async () => {
    const { code, stdout, stderr } = await run(
      "-f",
      realtime,
      "--trace",
      stepTrace,
      "-o",
      "json",
      "--scrape-interval",
      "5",
      "--metric-resolution",
      "15",
      "--gpu-capacity",
      "6",
      "--namespace-metric",
      "DCGM_FI_DEV_GPU_UTIL=120",
      "--ack-on-receipt",
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const document = JSON.parse(stdout) as {
      parameters: { model: Record<string, unknown> };
      summary: { tickSeconds: number; peakReplicas: number };
    };
    expect(document.parameters.model).toMatchObject({
      prometheusScrapeIntervalSeconds: 5,
      metricsServerResolutionSeconds: 15,
      gpuCapacity: 6,
      freeGpus: null,
      messagesHeldWhileProcessing: false,
      namespaceMetrics: { DCGM_FI_DEV_GPU_UTIL: 120 },
      hpaSyncPeriodSeconds: 15,
    });
    // The tick follows the shortest period: the 5 s scrapes.
    expect(document.summary.tickSeconds).toBe(5);
  });

  it("refuses a bad value with the flag's name and the usage, printing nothing else", async () => {
    const bad = await run("-f", realtime, "--trace", stepTrace, "--scrape-interval", "2.5");
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/^error: --scrape-interval must be a whole number >= 1, not 2\.5\n/);
    const metric = await run("-f", realtime, "--trace", stepTrace, "--namespace-metric", "gpu");
    expect(metric.stderr).toMatch(/--namespace-metric gpu: expected NAME=VALUE/);
  });
});
