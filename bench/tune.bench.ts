// Tuning one policy on a day of 15-second steps: what one candidate costs (schema check, rendering,
// simulation), candidates per second in one thread and on worker threads, and the time to tune.
// Run: npx tsx bench/tune.bench.ts [--candidates 300] [--workers 0,1,2]
// It compiles the command into .tmp/tune-bench-dist/ first, to time the JavaScript users run.
//
// The day is the Azure LLM inference trace 2023 (conversation; examples/traces/azure-llm-inference-2023/),
// its hour of requests repeated 24 times at 25x its traffic under a day's curve (a fifth of the afternoon
// peak at night). Data: Patel et al., "Splitwise: Efficient generative LLM inference using phase splitting",
// ISCA 2024; Azure Public Dataset, AzureLLMInferenceDataset2023, CC-BY 4.0.
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { parsePolicies } from "../src/render/index.js";
import { DEFAULT_OPTIONS, simulate } from "../src/simulate/simulate.js";
import { parseTrace, type Trace } from "../src/simulate/trace.js";
import { policyTarget } from "../src/simulate/command.js";
import { buildCandidate, policyKnobs } from "../src/tune/knobs.js";
import { formatTraceCsv } from "../src/trace/command.js";
import { traceNeeds, tuningSetup } from "../src/tune/tune.js";

const { values } = parseArgs({
  options: { candidates: { type: "string", default: "300" }, workers: { type: "string", default: "0,1,2" } },
});
const budget = Number(values.candidates);
const workerCounts = values.workers.split(",").map(Number);

const root = new URL("../", import.meta.url);
const logFile = new URL("examples/traces/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv", root);
const hour = parseTrace(readFileSync(logFile, "utf8"), logFile.pathname);

function azureDay(): Trace {
  const DAY = 24 * 3600;
  const points = [];
  for (let t = 0; t < DAY; t += 15) {
    const inHour = hour.points[Math.floor((t % 3600) / 15)]?.rps ?? 0;
    // 0.2 at 04:00, 1 at 16:00.
    const curve = 0.6 - 0.4 * Math.cos((2 * Math.PI * (t / 3600 - 4)) / 24);
    points.push({ t, rps: 25 * inHour * curve });
  }
  return { points, end: DAY };
}

const trace = azureDay();
const policyFile = new URL("examples/1-realtime-inference.yaml", root).pathname;
const [policy] = parsePolicies(readFileSync(policyFile, "utf8"), policyFile);
if (!policy) throw new Error("no policy");
const setup = tuningSetup(policy, trace, { ...DEFAULT_OPTIONS }, true);

// What one candidate costs, in this thread: the schema and CEL check of building it, rendering, simulating.
const load = simulate(policyTarget(policy, true), trace, setup.options).table.column("load");
const knobs = policyKnobs(policy, {
  kedaInstalled: true,
  needs: traceNeeds(load, 10),
  serviceRatePerReplica: 10,
});
const vectors = knobs.flatMap((knob, index) =>
  knob.values.slice(0, 3).map((value) => knobs.map((other, at) => (at === index ? value : other.original))),
);
const time = <T>(run: () => T): [T, number] => {
  const started = performance.now();
  const result = run();
  return [result, performance.now() - started];
};
const [candidates, buildMs] = time(() => vectors.map((vector) => buildCandidate(policy, knobs, vector)));
const built = candidates.flatMap((candidate) => (candidate.ok ? [candidate.policy] : []));
const [targets, renderMs] = time(() => built.map((candidate) => policyTarget(candidate, true)));
const [, simulateMs] = time(() => targets.map((target) => simulate(target, trace, setup.options)));
const per = (ms: number) => ms / built.length;

console.log(
  `trace:                 ${trace.points.length} points, 24 h at 15 s (Azure LLM trace 2023, x25, day curve)`,
);
const machineLine = `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load average ${loadavg()
  .map((l) => l.toFixed(1))
  .join(" ")} at the start`;
console.log(`machine:               ${machineLine}`);
console.log(
  `one candidate:         schema and CEL check ${(per(buildMs) * 1000).toFixed(0)} µs, render ${(per(renderMs) * 1000).toFixed(0)} µs, simulate ${per(simulateMs).toFixed(1)} ms (${built.length} candidates)`,
);

// The whole command, as users run it: the published JavaScript (compiled here into .tmp/), and the
// TypeScript sources as tests and tsx run them (each worker thread then compiles them again).
const distDir = new URL(".tmp/tune-bench-dist/", root);
execFileSync(
  process.execPath,
  [
    new URL("node_modules/typescript/bin/tsc", root).pathname,
    "-p",
    "tsconfig.build.json",
    "--outDir",
    distDir.pathname,
  ],
  { cwd: root.pathname, stdio: "inherit" },
);
const traceFile = new URL(".tmp/tune-bench-day.csv", root).pathname;
writeFileSync(
  traceFile,
  formatTraceCsv(trace, [
    "a day from the Azure LLM inference trace 2023 (conversation), 25x, day curve; Patel et al., ISCA 2024;",
    "Azure Public Dataset, AzureLLMInferenceDataset2023, CC-BY 4.0",
  ]),
);

type RunTune = (
  argv: string[],
  io: { stdout: (t: string) => void; stderr: (t: string) => void },
) => Promise<number>;
const published = (await import(new URL("tune/command.js", distDir).href)) as { runTuneCommand: RunTune };
const sources = await import("../src/tune/command.js");

interface Run {
  code: "published" | "sources";
  workers: number;
  candidates: number;
  seconds: number;
  cpuSeconds: number;
  candidatesPerSecond: number;
}
const runs: Run[] = [];
const modes: ["published" | "sources", RunTune, number][] = [
  ...workerCounts.map((workers): ["published", RunTune, number] => [
    "published",
    published.runTuneCommand,
    workers,
  ]),
  ["sources", sources.runTuneCommand, Math.max(...workerCounts)],
];
for (const [code, runTune, workers] of modes) {
  let stdout = "";
  let stderr = "";
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const exit = await runTune(
    [
      "-f",
      policyFile,
      "--trace",
      traceFile,
      "--candidates",
      String(budget),
      "--workers",
      String(workers),
      "-o",
      "json",
    ],
    { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  if (exit !== 0) throw new Error(stderr);
  const document = JSON.parse(stdout) as {
    candidates: number;
    recommended: { gpuHours: number; sloViolationRatio: number };
  };
  const run: Run = {
    code,
    workers,
    candidates: document.candidates,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    candidatesPerSecond: document.candidates / seconds,
  };
  runs.push(run);
  console.log(
    `${code.padEnd(9)} ${workers === 0 ? "one thread:      " : `${workers} worker thread${workers === 1 ? ": " : "s:"}`} ${run.candidates} candidates in ${seconds.toFixed(1)} s, ${run.candidatesPerSecond.toFixed(0)} candidates/s, CPU ${run.cpuSeconds.toFixed(1)} s; recommended ${document.recommended.gpuHours.toFixed(1)} GPU-hours at ${(100 * document.recommended.sloViolationRatio).toFixed(2)}% over the SLO`,
  );
}
writeFileSync(
  new URL("bench/results/tune.json", root),
  `${JSON.stringify({ machine: machineLine, trace: { points: trace.points.length, stepSeconds: 15 }, perCandidateMs: { schema: per(buildMs), render: per(renderMs), simulate: per(simulateMs) }, runs }, null, 2)}\n`,
);
