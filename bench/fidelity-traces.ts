// The traces of the fidelity benchmark (bench/fidelity.bench.ts): a step, a spike, and five minutes of a
// real request log, each as a `t,rps` CSV the simulator and `mlautoscale loadtest` both read.
//
// The real log is the Azure LLM inference trace 2023, conversation service, shipped in
// examples/traces/azure-llm-inference-2023/ (one row per request). Its attribution, as its README asks
// wherever the data is used:
//
//   Pratyush Patel, Esha Choukse, Chaojie Zhang, Aashaka Shah, Íñigo Goiri, Saeed Maleki, Ricardo
//   Bianchini. "Splitwise: Efficient generative LLM inference using phase splitting", ISCA 2024.
//   Data: Azure Public Dataset, AzureLLMInferenceDataset2023, CC-BY 4.0.
//
// Here it is only counted: requests per 10 s bucket, from minute 22 of the hour to minute 27, as
// arrivals per second, scaled by the workload's factor.
//
// Run: npx tsx bench/fidelity-traces.ts [DIR]   (writes the traces of every workload into DIR)
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..");
export const AZURE_LOG = join(
  repoRoot,
  "examples",
  "traces",
  "azure-llm-inference-2023",
  "AzureLLMInferenceTrace_conv.csv",
);

/** The piece of the log the benchmark replays: seconds from its first request, and the bucket. */
export const AZURE_WINDOW = { fromSeconds: 22 * 60, toSeconds: 27 * 60, bucketSeconds: 10 };

export type TraceName = "step" | "spike" | "azure";

export interface TraceShape {
  /** Arrivals per second before and after the change. */
  base: number;
  /** The step's level, or the spike's. */
  high: number;
  /** The Azure log's arrivals are multiplied by this. */
  azureScale: number;
}

/** Seconds since midnight of a `2023-11-16 18:15:46.6805900` timestamp. */
function secondsOf(timestamp: string): number {
  const time = timestamp.split(" ")[1] ?? "";
  const [hours, minutes, seconds] = time.split(":").map(Number);
  return (hours ?? 0) * 3600 + (minutes ?? 0) * 60 + (seconds ?? 0);
}

/** Requests per second in each bucket of the window of the Azure log. */
export function azureBuckets(logPath = AZURE_LOG, window = AZURE_WINDOW): number[] {
  const rows = readFileSync(logPath, "utf8").split(/\r?\n/).slice(1).filter(Boolean);
  const first = secondsOf(rows[0]?.split(",")[0] ?? "");
  const buckets = new Array<number>(
    Math.ceil((window.toSeconds - window.fromSeconds) / window.bucketSeconds),
  ).fill(0);
  for (const row of rows) {
    const offset = secondsOf(row.split(",")[0] ?? "") - first - window.fromSeconds;
    if (offset < 0 || offset >= window.toSeconds - window.fromSeconds) continue;
    const bucket = Math.floor(offset / window.bucketSeconds);
    buckets[bucket] = (buckets[bucket] ?? 0) + 1;
  }
  return buckets.map((count) => count / window.bucketSeconds);
}

function csv(points: [number, number][], comment: string): string {
  const rows = points.map(([t, rps]) => `${t},${Math.round(rps * 1000) / 1000}`);
  return `# ${comment}\nt,rps\n${rows.join("\n")}\n`;
}

/**
 * A trace as CSV text. Its last point holds as long as the interval before it (the trace format's
 * rule), so the step lasts 540 s, the spike 480 s and the log's piece 300 s.
 */
export function traceCsv(name: TraceName, shape: TraceShape): string {
  switch (name) {
    case "step":
      // A minute at the base, then the step: until 300 s, and for as long again.
      return csv(
        [
          [0, shape.base],
          [60, shape.high],
          [300, shape.high],
        ],
        `step: ${shape.base}/s for 60 s, then ${shape.high}/s`,
      );
    case "spike":
      // A minute at the base, a minute's spike, then the base until 300 s and for as long again.
      return csv(
        [
          [0, shape.base],
          [60, shape.high],
          [120, shape.base],
          [300, shape.base],
        ],
        `spike: ${shape.base}/s, ${shape.high}/s from 60 s to 120 s, then ${shape.base}/s`,
      );
    case "azure": {
      const buckets = azureBuckets();
      const points = buckets.map((rps, index): [number, number] => [
        index * AZURE_WINDOW.bucketSeconds,
        rps * shape.azureScale,
      ]);
      return csv(
        points,
        `Azure LLM inference trace 2023 (conversation), minutes 22-27, 10 s buckets, x${shape.azureScale}; ` +
          "Patel et al., Splitwise, ISCA 2024; Azure Public Dataset, CC-BY 4.0",
      );
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? join(repoRoot, "bench", "results", "fidelity-traces");
  mkdirSync(dir, { recursive: true });
  for (const name of ["step", "spike", "azure"] as const) {
    const file = join(dir, `${name}.csv`);
    writeFileSync(file, traceCsv(name, { base: 10, high: 50, azureScale: 1 }));
    console.log(file);
  }
}
