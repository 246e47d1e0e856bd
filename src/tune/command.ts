// `mlautoscale tune`: reads a policy and a trace, searches the policy's scaling settings with the simulator,
// and prints the Pareto front of SLO violations against GPU-hours and the recommended policy. Everything is
// computed before anything is printed: bad input leaves no partial output, with the errors `simulate` gives.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import type { CommandIO } from "../render/command.js";
import { parsePolicies, PolicyInputError } from "../render/index.js";
import { DEFAULT_SERVER_CONCURRENCY } from "../simulate/llm.js";
import { parseSignalOverrides } from "../simulate/signals.js";
import {
  DEFAULT_OPTIONS,
  DEFAULT_REQUEST_TIMEOUT_SECONDS,
  type SimulationOptions,
} from "../simulate/simulate.js";
import { parseTrace, TraceError, type Trace } from "../simulate/trace.js";
import type { EvaluationSetup } from "./evaluate.js";
import { percent } from "./explain.js";
import { formatTuneJson, formatTuneTable, recommendedYaml, type RunFacts } from "./output.js";
import { defaultWorkerCount, inlineEvaluator, workerEvaluator, type Evaluator } from "./pool.js";
import { renderFrontSvg } from "./svg.js";
import { TuneInputError, tunePolicy, tuningSetup, type TuneResult } from "./tune.js";
import { UsageError } from "../usage-error.js";

export const DEFAULT_MAX_VIOLATIONS_PERCENT = 1;
export const DEFAULT_CANDIDATES = 300;

export const TUNE_USAGE = `Usage: mlautoscale tune -f POLICY.yaml --trace TRACE [--slo SECONDS] [--max-violations PERCENT] [options]

Searches the policy's scaling settings (replicas, metric targets, behavior preset, windows and rates,
KEDA polling, cooldown and activation) with the simulator on the trace, and prints the Pareto front of
SLO violations against GPU-hours and the cheapest policy that keeps violations within the limit.
  -f, --filename          the policy file (MLAutoscalePolicy); --name picks one of several
      --trace             trace file: CSV (t,rps[,queue][,gpu][,metrics_down]), JSON, or a request log
      --slo               latency objective in seconds, wait plus service time (default ${DEFAULT_OPTIONS.latencySloSeconds})
      --max-violations    share of requests allowed over the SLO, percent (default ${DEFAULT_MAX_VIOLATIONS_PERCENT})
      --fix FIELD         keep a setting as it is, e.g. replicas.max or scaling.behavior; repeatable
  -o, --output            table (default), yaml (the recommended policy), json or svg (the front)
      --name              the policy to tune when the file holds several
      --candidates        policies to simulate at most (default ${DEFAULT_CANDIDATES})
      --workers           worker threads (default: one per core; 0 runs in this thread)
      --keda              installed (default) or absent: how the policy's engine is chosen
      --service-rate      requests per second one ready replica serves (default ${DEFAULT_OPTIONS.serviceRatePerReplica})
      --model-load        seconds from container start to Ready (default: the policy's model.loadSeconds)
      --scheduling-delay  seconds from pod creation to container start (default ${DEFAULT_OPTIONS.schedulingDelaySeconds})
      --timeout           seconds a queued request waits before it is dropped (default ${DEFAULT_REQUEST_TIMEOUT_SECONDS};
                          none for messages on a broker a KEDA trigger reads)
      --gpu-price         price of one GPU-hour (default ${DEFAULT_OPTIONS.gpuPricePerHour})
      --memory-utilization  memory use of a running pod, percent of its request (default ${DEFAULT_OPTIONS.memoryUtilizationPercent})
      --initial-replicas  Ready replicas at the start (default: as many as the first load keeps busy)
      --server-concurrency  requests one LLM server replica runs at once when busy (default ${DEFAULT_SERVER_CONCURRENCY})
      --signal NAME=KIND  what a metric or trigger measures: queue, rps, gpu, or an LLM server's
                          waiting, running, kvCache, upstream (the queue in front of it); repeatable
`;

const OUTPUTS = ["table", "yaml", "json", "svg"] as const;
type Output = (typeof OUTPUTS)[number];

/** The simulation's options that hold a number (the model's switches and maps are not flags here). */
type NumericOption = {
  [K in keyof SimulationOptions]-?: NonNullable<SimulationOptions[K]> extends number ? K : never;
}[keyof SimulationOptions];

/** The simulation's flags, as `simulate` takes them. */
const SIMULATION_FLAGS: readonly { flag: string; option: NumericOption; rule: "> 0" | ">= 0" | "whole" }[] = [
  { flag: "service-rate", option: "serviceRatePerReplica", rule: "> 0" },
  { flag: "model-load", option: "modelLoadSeconds", rule: ">= 0" },
  { flag: "scheduling-delay", option: "schedulingDelaySeconds", rule: ">= 0" },
  { flag: "slo", option: "latencySloSeconds", rule: "> 0" },
  { flag: "timeout", option: "requestTimeoutSeconds", rule: "> 0" },
  { flag: "gpu-price", option: "gpuPricePerHour", rule: ">= 0" },
  { flag: "memory-utilization", option: "memoryUtilizationPercent", rule: ">= 0" },
  { flag: "initial-replicas", option: "initialReplicas", rule: "whole" },
  { flag: "server-concurrency", option: "serverConcurrency", rule: "> 0" },
];

function checkedNumber(value: string, flag: string, rule: "> 0" | ">= 0" | "whole"): number {
  const parsed = Number(value);
  const ok =
    value.trim() !== "" &&
    Number.isFinite(parsed) &&
    (rule === "> 0" ? parsed > 0 : rule === ">= 0" ? parsed >= 0 : parsed >= 0 && Number.isInteger(parsed));
  if (!ok) {
    const expected = rule === "whole" ? "a whole number >= 0" : `a number ${rule}`;
    throw new UsageError(`--${flag} must be ${expected}, not ${value}`);
  }
  return parsed;
}

interface Settings {
  file: string;
  traceFile: string;
  name: string | undefined;
  output: Output;
  kedaInstalled: boolean;
  options: SimulationOptions;
  maxViolationRatio: number;
  fixed: string[];
  budget: number;
  workers: number;
}

function readSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      filename: { type: "string", short: "f" },
      trace: { type: "string" },
      output: { type: "string", short: "o", default: "table" },
      name: { type: "string" },
      "max-violations": { type: "string" },
      fix: { type: "string", multiple: true },
      candidates: { type: "string" },
      workers: { type: "string" },
      keda: { type: "string", default: "installed" },
      signal: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
      ...Object.fromEntries(SIMULATION_FLAGS.map(({ flag }) => [flag, { type: "string" as const }])),
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.filename === undefined) throw new UsageError("-f POLICY.yaml is required");
  if (values.trace === undefined) throw new UsageError("--trace TRACE is required");
  if (!(OUTPUTS as readonly string[]).includes(values.output)) {
    throw new UsageError(`-o must be one of ${OUTPUTS.join(", ")}, not ${values.output}`);
  }
  if (values.keda !== "installed" && values.keda !== "absent") {
    throw new UsageError(`--keda must be installed or absent, not ${values.keda}`);
  }
  const options: SimulationOptions = { ...DEFAULT_OPTIONS };
  const flags = values as Record<string, unknown>;
  for (const { flag, option, rule } of SIMULATION_FLAGS) {
    const value = flags[flag];
    if (typeof value === "string") options[option] = checkedNumber(value, flag, rule);
  }
  try {
    options.signalOverrides = parseSignalOverrides(values.signal ?? []);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const maxViolations = values["max-violations"];
  const maxViolationsPercent =
    maxViolations === undefined
      ? DEFAULT_MAX_VIOLATIONS_PERCENT
      : checkedNumber(maxViolations, "max-violations", ">= 0");
  if (maxViolationsPercent > 100)
    throw new UsageError(`--max-violations is a percentage, not ${maxViolations}`);
  const budget =
    values.candidates === undefined
      ? DEFAULT_CANDIDATES
      : checkedNumber(values.candidates, "candidates", "whole");
  if (budget < 1) throw new UsageError("--candidates must be at least 1");
  return {
    file: values.filename,
    traceFile: values.trace,
    name: values.name,
    output: values.output as Output,
    kedaInstalled: values.keda === "installed",
    options,
    maxViolationRatio: maxViolationsPercent / 100,
    fixed: (values.fix ?? [])
      .flatMap((field) => field.split(","))
      .map((field) => field.trim())
      .filter(Boolean),
    budget,
    workers:
      values.workers === undefined ? defaultWorkerCount() : checkedNumber(values.workers, "workers", "whole"),
  };
}

/** The problem lines `simulate` prints for the same input. */
function describeError(error: unknown, file: string): string[] {
  if (error instanceof PolicyInputError) return error.problems;
  if (error instanceof TraceError || error instanceof TuneInputError) return [error.message];
  return [`${file}: ${error instanceof Error ? error.message : String(error)}`];
}

async function loadInputs(
  settings: Settings,
): Promise<{ trace: Trace; policy: MLAutoscalePolicy; policyText: string } | { problems: string[] }> {
  const problems: string[] = [];
  let trace: Trace | undefined;
  try {
    trace = parseTrace(await readFile(settings.traceFile, "utf8"), settings.traceFile);
  } catch (error) {
    problems.push(...describeError(error, settings.traceFile));
  }
  let policyText = "";
  let policy: MLAutoscalePolicy | undefined;
  try {
    policyText = await readFile(settings.file, "utf8").catch((error: unknown) => {
      throw new PolicyInputError([
        `${settings.file}: ${error instanceof Error ? error.message : String(error)}`,
      ]);
    });
    const policies = parsePolicies(policyText, settings.file);
    const names = policies.map((p) => p.metadata.name);
    if (settings.name !== undefined) {
      policy = policies.find((p) => p.metadata.name === settings.name);
      if (!policy)
        problems.push(`${settings.file}: no policy named ${settings.name} (it holds ${names.join(", ")})`);
    } else if (policies.length > 1) {
      problems.push(
        `${settings.file}: holds ${policies.length} policies (${names.join(", ")}): choose one with --name`,
      );
    } else policy = policies[0];
  } catch (error) {
    problems.push(...describeError(error, settings.file));
  }
  if (problems.length > 0 || !trace || !policy) return { problems };
  return { trace, policy, policyText };
}

function yamlHeader(result: TuneResult, settings: Settings): string[] {
  const r = result.recommended.outcome;
  const o = result.search.original.outcome;
  return [
    `mlautoscale tune on ${settings.traceFile}: SLO ${settings.options.latencySloSeconds} s, at most ${percent(settings.maxViolationRatio)} of requests over it`,
    `this policy: ${r.gpuHours.toFixed(2)} GPU-hours, ${percent(r.violationRatio)} over the SLO; as it was: ${o.gpuHours.toFixed(2)} GPU-hours, ${percent(o.violationRatio)}`,
    ...(result.changes.length === 0 ? ["no setting changed"] : result.changes.map((change) => change.reason)),
  ];
}

export async function runTuneCommand(argv: string[], io: CommandIO): Promise<number> {
  let settings: Settings;
  try {
    if (argv.includes("--help") || argv.includes("-h")) {
      io.stdout(TUNE_USAGE);
      return 0;
    }
    settings = readSettings(argv);
  } catch (error) {
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n\n${TUNE_USAGE}`);
    return 2;
  }

  const inputs = await loadInputs(settings);
  if ("problems" in inputs) {
    io.stderr(inputs.problems.map((problem) => `error: ${problem}\n`).join(""));
    return 1;
  }
  const { trace, policy, policyText } = inputs;
  const started = performance.now();
  let evaluator: Evaluator | undefined;
  let result: TuneResult;
  let setup: EvaluationSetup;
  try {
    setup = tuningSetup(policy, trace, settings.options, settings.kedaInstalled);
    evaluator = settings.workers > 0 ? workerEvaluator(setup, settings.workers) : inlineEvaluator(setup);
    const modelLoad =
      settings.options.modelLoadSeconds ?? policy.spec.workload.template?.model.loadSeconds ?? 60;
    result = await tunePolicy(
      policy,
      setup,
      evaluator,
      { budget: settings.budget, maxViolationRatio: settings.maxViolationRatio, fixed: settings.fixed },
      {
        serviceRatePerReplica: settings.options.serviceRatePerReplica,
        startupSeconds: settings.options.schedulingDelaySeconds + modelLoad,
      },
    );
  } catch (error) {
    io.stderr(
      describeError(error, settings.file)
        .map((problem) => `error: ${problem}\n`)
        .join(""),
    );
    return 1;
  } finally {
    await evaluator?.close();
  }
  const facts: RunFacts = {
    policyFile: settings.file,
    traceFile: settings.traceFile,
    sloSeconds: settings.options.latencySloSeconds,
    maxViolationRatio: settings.maxViolationRatio,
    serviceRatePerReplica: settings.options.serviceRatePerReplica,
    workers: evaluator?.workers ?? 0,
    elapsedSeconds: (performance.now() - started) / 1000,
  };
  const yaml = () =>
    recommendedYaml(
      policyText,
      settings.file,
      result.recommended.candidate.policy,
      result.recommended.candidate.edits,
      yamlHeader(result, settings),
    );
  switch (settings.output) {
    case "yaml":
      io.stdout(yaml());
      break;
    case "json":
      io.stdout(formatTuneJson(result, facts, yaml()));
      break;
    case "svg":
      io.stdout(
        renderFrontSvg({
          title: `mlautoscale tune: ${policy.metadata.name} on ${settings.traceFile}`,
          candidates: result.search.evaluated,
          front: result.front,
          original: result.search.original,
          recommended: result.recommended,
          maxViolationRatio: settings.maxViolationRatio,
        }),
      );
      break;
    default:
      io.stdout(formatTuneTable(result, facts));
  }
  return 0;
}
