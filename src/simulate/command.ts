// `mlautoscale simulate`: reads policies (or already rendered objects) and a trace, runs every
// simulation, and only then prints, so bad input never leaves partial output behind.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import type { ScaledObject } from "../keda/types.js";
import { loadPolicyFile, PolicyInputError, renderPolicy } from "../render/index.js";
import { formatCsv, formatJson, formatTable, type RunParameters } from "./format.js";
import { DEFAULT_SERVER_CONCURRENCY } from "./llm.js";
import { parseSignalOverrides } from "./signals.js";
import {
  DEFAULT_OPTIONS,
  DEFAULT_REQUEST_TIMEOUT_SECONDS,
  MODEL_DEFAULTS,
  simulate,
  type ModelParameters,
  type SimulationOptions,
  type SimulationResult,
  type SimulationTarget,
} from "./simulate.js";
import { renderSvg } from "./svg.js";
import { parseTrace, TraceError } from "./trace.js";
import { UsageError } from "../usage-error.js";

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const SIMULATE_USAGE = `Usage: mlautoscale simulate -f POLICY.yaml --trace TRACE.csv [options]

Replays a traffic trace through the HPA or KEDA objects a policy renders to, and reports replicas,
queue, waits, SLO violations, GPU-hours and cost.
  -f, --filename          policy file (MLAutoscalePolicy), or rendered HPA/ScaledObject + Deployment
      --trace             trace file: CSV (t,rps[,queue][,gpu][,metrics_down]), JSON, or a request log
  -o, --output            table (default), json, csv or svg
      --compare           another policy file to run on the same trace; repeatable
      --keda              installed (default) or absent: how the policy's engine is chosen
      --service-rate      requests per second one ready replica serves (default ${DEFAULT_OPTIONS.serviceRatePerReplica})
      --model-load        seconds from container start to Ready (default: the policy's model.loadSeconds)
      --scheduling-delay  seconds from pod creation to container start (default ${DEFAULT_OPTIONS.schedulingDelaySeconds})
      --slo               latency objective in seconds, wait plus service time (default ${DEFAULT_OPTIONS.latencySloSeconds})
      --timeout           seconds a queued request waits before it is dropped (default ${DEFAULT_REQUEST_TIMEOUT_SECONDS};
                          none for messages on a broker a KEDA trigger reads)
      --gpu-price         price of one GPU-hour (default ${DEFAULT_OPTIONS.gpuPricePerHour})
      --memory-utilization  memory use of a running pod, percent of its request (default ${DEFAULT_OPTIONS.memoryUtilizationPercent})
      --initial-replicas  Ready replicas at the start (default: the autoscaler's minimum)
      --server-concurrency  requests one LLM server replica runs at once when busy (default ${DEFAULT_SERVER_CONCURRENCY})
      --signal NAME=KIND  what a metric or trigger measures: queue, rps, gpu, or an LLM server's
                          waiting, running, kvCache, upstream (the queue in front of it); repeatable

The cluster (defaults: each component's own; see docs/simulate.md):
      --hpa-sync-period        kube-controller-manager's HPA sync period, seconds (default ${MODEL_DEFAULTS.hpaSyncPeriodSeconds})
      --hpa-first-sync         seconds from the trace's start to the HPA's first sync, below the sync period
                               (default ${MODEL_DEFAULTS.hpaFirstSyncSeconds}: it syncs on the trace's start)
      --hpa-last-recommendation  seconds before the trace's start of the HPA's last recommendation, which its
                               stabilization windows still hold (default ${MODEL_DEFAULTS.hpaLastRecommendationSeconds}: none before the trace)
      --hpa-tolerance          its tolerance (default ${MODEL_DEFAULTS.hpaTolerance})
      --downscale-stabilization  its scale-down window without behavior, seconds (default ${MODEL_DEFAULTS.downscaleStabilizationSeconds})
      --cpu-initialization-period  seconds (default ${MODEL_DEFAULTS.cpuInitializationPeriodSeconds})
      --initial-readiness-delay    seconds (default ${MODEL_DEFAULTS.initialReadinessDelaySeconds})
      --metric-resolution      metrics-server's --metric-resolution, seconds (default ${MODEL_DEFAULTS.metricsServerResolutionSeconds})
      --scrape-interval        Prometheus's scrape interval of the pods, seconds (default ${MODEL_DEFAULTS.prometheusScrapeIntervalSeconds})
      --relist-interval        prometheus-adapter's --metrics-relist-interval, seconds (default ${MODEL_DEFAULTS.adapterRelistSeconds})
      --rate-window            the rate() range of request-rate metrics read through the adapter (default: gauges)
      --ack-on-receipt         consumers take a message off the broker as they receive it (default: when done)
      --kafka-partitions       partitions of a Kafka trigger's topic (default ${MODEL_DEFAULTS.kafkaPartitions})
      --keda-first-poll        seconds from the trace's start to KEDA's first poll, below its polling interval
                               (default ${MODEL_DEFAULTS.kedaFirstPollSeconds}: its scale loop starts with the trace)
      --termination-seconds    seconds a removed pod keeps its GPUs (default: its terminationGracePeriodSeconds)
      --gpu-capacity           most GPUs the workload can hold; pods beyond stay Pending (default: no limit)
      --free-gpus              GPUs free on running nodes at the start; more need new nodes (default: no limit)
      --gpus-per-node          GPUs of a node the cluster autoscaler adds (default: one replica's)
      --node-provisioning      seconds from a Pending pod to a new Ready node (default ${MODEL_DEFAULTS.nodeProvisioningSeconds})
      --node-scale-down        seconds an added node stays empty before it goes (default ${MODEL_DEFAULTS.nodeScaleDownSeconds})
      --namespace-metric NAME=VALUE  other workloads' series of an External metric without a selector; repeatable
`;

const OUTPUTS = ["table", "json", "csv", "svg"] as const;
type Output = (typeof OUTPUTS)[number];

function numberFlag(
  value: string | undefined,
  flag: string,
  check: (n: number) => boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || !check(parsed)) {
    throw new UsageError(
      `--${flag} must be ${check === isPositive ? "a number > 0" : "a number >= 0"}, not ${value}`,
    );
  }
  return parsed;
}
const isPositive = (n: number) => n > 0;
const isNonNegative = (n: number) => n >= 0;
const isWholePositive = (n: number) => Number.isInteger(n) && n >= 1;
const isWholeNonNegative = (n: number) => Number.isInteger(n) && n >= 0;

/** The numeric model parameters that have a flag: flag name, parameter, accepted values. */
const MODEL_FLAGS: [string, keyof ModelParameters, (n: number) => boolean, string][] = [
  ["hpa-sync-period", "hpaSyncPeriodSeconds", isWholePositive, "a whole number >= 1"],
  ["hpa-first-sync", "hpaFirstSyncSeconds", isWholeNonNegative, "a whole number >= 0"],
  ["hpa-last-recommendation", "hpaLastRecommendationSeconds", isNonNegative, "a number >= 0"],
  ["hpa-tolerance", "hpaTolerance", isNonNegative, "a number >= 0"],
  ["downscale-stabilization", "downscaleStabilizationSeconds", isNonNegative, "a number >= 0"],
  ["cpu-initialization-period", "cpuInitializationPeriodSeconds", isNonNegative, "a number >= 0"],
  ["initial-readiness-delay", "initialReadinessDelaySeconds", isNonNegative, "a number >= 0"],
  ["metric-resolution", "metricsServerResolutionSeconds", isWholePositive, "a whole number >= 1"],
  ["scrape-interval", "prometheusScrapeIntervalSeconds", isWholePositive, "a whole number >= 1"],
  ["relist-interval", "adapterRelistSeconds", isWholePositive, "a whole number >= 1"],
  ["rate-window", "rateWindowSeconds", isNonNegative, "a number >= 0"],
  ["kafka-partitions", "kafkaPartitions", isWholePositive, "a whole number >= 1"],
  ["keda-first-poll", "kedaFirstPollSeconds", isWholeNonNegative, "a whole number >= 0"],
  ["termination-seconds", "terminationSeconds", isNonNegative, "a number >= 0"],
  ["gpu-capacity", "gpuCapacity", isNonNegative, "a number >= 0"],
  ["free-gpus", "freeGpus", isNonNegative, "a number >= 0"],
  ["gpus-per-node", "gpusPerNode", isPositive, "a number > 0"],
  ["node-provisioning", "nodeProvisioningSeconds", isNonNegative, "a number >= 0"],
  ["node-scale-down", "nodeScaleDownSeconds", isNonNegative, "a number >= 0"],
];

/** The model parameters the flags set, or a UsageError naming the flag. */
export function modelFlags(values: Readonly<Record<string, unknown>>): Partial<ModelParameters> {
  const model: Partial<ModelParameters> = {};
  for (const [flag, key, check, what] of MODEL_FLAGS) {
    const raw = values[flag];
    if (typeof raw !== "string") continue;
    const parsed = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(parsed) || !check(parsed)) {
      throw new UsageError(`--${flag} must be ${what}, not ${raw}`);
    }
    Object.assign(model, { [key]: parsed });
  }
  if (values["ack-on-receipt"] === true) model.messagesHeldWhileProcessing = false;
  const namespaceMetrics = values["namespace-metric"];
  if (Array.isArray(namespaceMetrics) && namespaceMetrics.length > 0) {
    const metrics = new Map<string, number>();
    for (const entry of namespaceMetrics) {
      const text = String(entry);
      const separator = text.lastIndexOf("=");
      const value = Number(text.slice(separator + 1));
      if (separator <= 0 || text.slice(separator + 1).trim() === "" || !Number.isFinite(value) || value < 0) {
        throw new UsageError(`--namespace-metric ${text}: expected NAME=VALUE with a number >= 0`);
      }
      metrics.set(text.slice(0, separator), value);
    }
    model.namespaceMetrics = metrics;
  }
  return model;
}

/** The parseArgs options of the model flags. */
export const MODEL_FLAG_OPTIONS = {
  ...Object.fromEntries(MODEL_FLAGS.map(([flag]) => [flag, { type: "string" as const }])),
  "ack-on-receipt": { type: "boolean" as const },
  "namespace-metric": { type: "string" as const, multiple: true as const },
};

interface RenderedObjects {
  hpa?: V2HorizontalPodAutoscaler;
  scaledObject?: ScaledObject;
  deployment?: V1Deployment;
}

/** A file of objects `mlautoscale render` printed (or any HPA/ScaledObject with its Deployment). */
function renderedObjects(text: string, file: string): RenderedObjects | undefined {
  let documents: unknown[];
  try {
    documents = parseAllDocuments(text).map((document) => document.toJS() as unknown);
  } catch {
    return undefined;
  }
  const objects = documents.flatMap((document) => {
    if (typeof document !== "object" || document === null) return [];
    const record = document as { kind?: unknown; items?: unknown };
    if (record.kind === "List" && Array.isArray(record.items)) return record.items as unknown[];
    return [document];
  });
  const kindOf = (object: unknown) =>
    typeof object === "object" && object !== null ? (object as { kind?: unknown }).kind : undefined;
  if (objects.length === 0 || objects.some((object) => kindOf(object) === "MLAutoscalePolicy"))
    return undefined;
  const found: RenderedObjects = {};
  for (const object of objects) {
    const kind = kindOf(object);
    if (kind === "HorizontalPodAutoscaler") found.hpa = object as V2HorizontalPodAutoscaler;
    else if (kind === "ScaledObject") found.scaledObject = object as ScaledObject;
    else if (kind === "Deployment") found.deployment = object as V1Deployment;
  }
  if (!found.hpa && !found.scaledObject) {
    throw new PolicyInputError([
      `${file}: holds no MLAutoscalePolicy, HorizontalPodAutoscaler or ScaledObject`,
    ]);
  }
  return found;
}

async function loadTargets(
  file: string,
  kedaInstalled: boolean,
  modelLoad: number | undefined,
): Promise<SimulationTarget[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new PolicyInputError([`${file}: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const rendered = renderedObjects(text, file);
  if (rendered) {
    // Rendered objects carry no model load time: the flag, else the API's default of 60 s.
    const name = rendered.scaledObject?.metadata.name ?? rendered.hpa?.metadata?.name ?? file;
    return [
      {
        name,
        engine: rendered.scaledObject ? "KEDA" : "HPA",
        modelLoadSeconds: modelLoad ?? 60,
        ...rendered,
      },
    ];
  }
  const policies = await loadPolicyFile(file);
  return policies.map((policy) => policyTarget(policy, kedaInstalled));
}

/** A policy rendered as the operator would, as the simulator takes it. Throws PolicyInputError. */
export function policyTarget(policy: MLAutoscalePolicy, kedaInstalled: boolean): SimulationTarget {
  const result = renderPolicy(policy, { kedaInstalled });
  const target: SimulationTarget = {
    name: policy.metadata.name,
    engine: result.engine === "KEDA" ? "KEDA" : "HPA",
    modelLoadSeconds: result.modelLoadSeconds,
  };
  if (result.deployment) target.deployment = result.deployment;
  if (result.hpa) target.hpa = result.hpa;
  if (result.scaledObject) target.scaledObject = result.scaledObject;
  return target;
}

function describeError(error: unknown, file: string): string {
  if (error instanceof PolicyInputError) return error.message;
  if (error instanceof TraceError) return error.message;
  return `${file}: ${error instanceof Error ? error.message : String(error)}`;
}

export async function runSimulateCommand(argv: string[], io: CommandIO): Promise<number> {
  let output: Output;
  let files: string[];
  let traceFile: string;
  let kedaInstalled: boolean;
  let options: SimulationOptions;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        trace: { type: "string" },
        output: { type: "string", short: "o", default: "table" },
        compare: { type: "string", multiple: true },
        keda: { type: "string", default: "installed" },
        "service-rate": { type: "string" },
        "model-load": { type: "string" },
        "scheduling-delay": { type: "string" },
        slo: { type: "string" },
        timeout: { type: "string" },
        "gpu-price": { type: "string" },
        "memory-utilization": { type: "string" },
        "initial-replicas": { type: "string" },
        "server-concurrency": { type: "string" },
        signal: { type: "string", multiple: true },
        ...MODEL_FLAG_OPTIONS,
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) {
      io.stdout(SIMULATE_USAGE);
      return 0;
    }
    files = [...(values.filename ?? []), ...(values.compare ?? [])];
    if ((values.filename ?? []).length === 0) throw new UsageError("-f POLICY.yaml is required");
    if (values.trace === undefined) throw new UsageError("--trace TRACE.csv is required");
    traceFile = values.trace;
    if (!(OUTPUTS as readonly string[]).includes(values.output)) {
      throw new UsageError(`-o must be one of ${OUTPUTS.join(", ")}, not ${values.output}`);
    }
    output = values.output as Output;
    if (values.keda !== "installed" && values.keda !== "absent") {
      throw new UsageError(`--keda must be installed or absent, not ${values.keda}`);
    }
    kedaInstalled = values.keda === "installed";
    const initialReplicas = numberFlag(values["initial-replicas"], "initial-replicas", isNonNegative);
    if (initialReplicas !== undefined && !Number.isInteger(initialReplicas)) {
      throw new UsageError(`--initial-replicas must be a whole number, not ${initialReplicas}`);
    }
    options = {
      serviceRatePerReplica:
        numberFlag(values["service-rate"], "service-rate", isPositive) ??
        DEFAULT_OPTIONS.serviceRatePerReplica,
      schedulingDelaySeconds:
        numberFlag(values["scheduling-delay"], "scheduling-delay", isNonNegative) ??
        DEFAULT_OPTIONS.schedulingDelaySeconds,
      latencySloSeconds: numberFlag(values.slo, "slo", isPositive) ?? DEFAULT_OPTIONS.latencySloSeconds,
      ...(values.timeout !== undefined && {
        requestTimeoutSeconds: numberFlag(values.timeout, "timeout", isPositive),
      }),
      gpuPricePerHour:
        numberFlag(values["gpu-price"], "gpu-price", isNonNegative) ?? DEFAULT_OPTIONS.gpuPricePerHour,
      memoryUtilizationPercent:
        numberFlag(values["memory-utilization"], "memory-utilization", isNonNegative) ??
        DEFAULT_OPTIONS.memoryUtilizationPercent,
      ...modelFlags(values),
    };
    const modelLoad = numberFlag(values["model-load"], "model-load", isNonNegative);
    if (modelLoad !== undefined) options.modelLoadSeconds = modelLoad;
    if (initialReplicas !== undefined) options.initialReplicas = initialReplicas;
    const concurrency = numberFlag(values["server-concurrency"], "server-concurrency", isPositive);
    if (concurrency !== undefined) options.serverConcurrency = concurrency;
    try {
      options.signalOverrides = parseSignalOverrides(values.signal ?? []);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  } catch (error) {
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n\n${SIMULATE_USAGE}`);
    return 2;
  }

  // Everything is read and simulated before anything is printed.
  const problems: string[] = [];
  let trace;
  try {
    trace = parseTrace(await readFile(traceFile, "utf8"), traceFile);
  } catch (error) {
    problems.push(
      error instanceof TraceError
        ? error.message
        : `${traceFile}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const results: SimulationResult[] = [];
  for (const file of files) {
    try {
      const targets = await loadTargets(file, kedaInstalled, options.modelLoadSeconds);
      if (trace) for (const target of targets) results.push(simulate(target, trace, options));
    } catch (error) {
      if (error instanceof PolicyInputError) problems.push(...error.problems);
      else problems.push(describeError(error, file));
    }
  }
  if (problems.length > 0 || !trace) {
    io.stderr(problems.map((problem) => `error: ${problem}\n`).join(""));
    return 1;
  }

  const parameters: RunParameters = {
    serviceRatePerReplica: options.serviceRatePerReplica,
    schedulingDelaySeconds: options.schedulingDelaySeconds,
    latencySloSeconds: options.latencySloSeconds,
    gpuPricePerHour: options.gpuPricePerHour,
  };
  switch (output) {
    case "json":
      io.stdout(formatJson(results, parameters));
      break;
    case "csv":
      io.stdout(formatCsv(results));
      break;
    case "svg":
      io.stdout(renderSvg(results, `mlautoscale simulate: ${traceFile}`));
      break;
    default:
      io.stdout(formatTable(results));
  }
  return 0;
}
