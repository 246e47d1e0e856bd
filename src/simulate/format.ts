// Text renderings of simulation results: a summary table, JSON (see docs/simulate.md), CSV.
import type { SimulationResult, SimulationStep, SimulationSummary } from "./simulate.js";

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function roundAll<T extends object>(record: T): T {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record))
    copy[key] = typeof value === "number" ? round(value) : value;
  return copy as T;
}

export interface RunParameters {
  serviceRatePerReplica: number;
  schedulingDelaySeconds: number;
  latencySloSeconds: number;
  gpuPricePerHour: number;
}

/** The model parameters as JSON: a capacity without limit is null, the namespace's series an object. */
function modelDocument(result: SimulationResult): Record<string, unknown> | undefined {
  const model = result.model;
  if (!model) return undefined;
  const document: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(model)) {
    if (value === undefined) continue;
    if (value instanceof Map) document[key] = Object.fromEntries(value);
    else document[key] = value === Infinity ? null : value;
  }
  return document;
}

function resultDocument(result: SimulationResult, parameters: RunParameters) {
  const model = modelDocument(result);
  return {
    policy: result.summary.name,
    engine: result.summary.engine,
    parameters: {
      ...parameters,
      // Per policy: none (null) where the requests are messages waiting on a broker.
      ...(result.requestTimeoutSeconds !== undefined && {
        requestTimeoutSeconds:
          result.requestTimeoutSeconds === Infinity ? null : result.requestTimeoutSeconds,
      }),
      modelLoadSeconds: result.summary.modelLoadSeconds,
      ...(model && { model }),
    },
    summary: roundAll(result.summary),
    events: result.events,
    steps: result.steps.map((step) => roundAll(step)),
  };
}

/** One result: the document itself. Several (--compare): { "results": [document, ...] }. */
export function formatJson(results: readonly SimulationResult[], parameters: RunParameters): string {
  const documents = results.map((result) => resultDocument(result, parameters));
  return `${JSON.stringify(documents.length === 1 ? documents[0] : { results: documents }, null, 2)}\n`;
}

const CSV_COLUMNS: [string, (step: SimulationStep) => number][] = [
  ["t", (step) => step.t],
  ["load", (step) => step.load],
  ["desired_replicas", (step) => step.desiredReplicas],
  ["ready_replicas", (step) => step.readyReplicas],
  ["loading_replicas", (step) => step.loadingReplicas],
  ["pending_replicas", (step) => step.pendingReplicas],
  ["queue", (step) => step.queue],
  ["wait_seconds", (step) => step.waitSeconds],
  ["served", (step) => step.served],
  ["dropped", (step) => step.dropped],
  ["slo_violations", (step) => step.sloViolations],
  ["utilization", (step) => step.utilization],
];

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatCsv(results: readonly SimulationResult[]): string {
  const withPolicy = results.length > 1;
  const header = [...(withPolicy ? ["policy"] : []), ...CSV_COLUMNS.map(([name]) => name)].join(",");
  const lines = [header];
  for (const result of results) {
    const policy = csvField(result.summary.name);
    for (const step of result.steps) {
      const values = CSV_COLUMNS.map(([, read]) => String(round(read(step))));
      lines.push((withPolicy ? [policy, ...values] : values).join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}

export function duration(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = Math.round(seconds % 60);
  return hours > 0
    ? `${hours}h${String(minutes).padStart(2, "0")}m`
    : minutes > 0
      ? `${minutes}m${String(rest).padStart(2, "0")}s`
      : `${rest}s`;
}

const SUMMARY_ROWS: [string, (summary: SimulationSummary) => string][] = [
  ["engine", (s) => s.engine],
  ["duration", (s) => duration(s.durationSeconds)],
  ["model load", (s) => `${s.modelLoadSeconds}s`],
  ["requests", (s) => String(Math.round(s.totalRequests))],
  ["served", (s) => String(Math.round(s.servedRequests))],
  ["timed out", (s) => String(Math.round(s.droppedRequests))],
  ["SLO violations", (s) => `${Math.round(s.sloViolations)} (${(s.sloViolationRatio * 100).toFixed(2)}%)`],
  ["mean wait", (s) => `${s.meanWaitSeconds.toFixed(2)}s`],
  ["max wait", (s) => `${s.maxWaitSeconds.toFixed(1)}s`],
  ["max queue", (s) => String(Math.round(s.maxQueue))],
  ["peak replicas", (s) => String(s.peakReplicas)],
  ["mean ready replicas", (s) => s.meanReadyReplicas.toFixed(2)],
  ["scale ups / downs", (s) => `${s.scaleUps} / ${s.scaleDowns}`],
  ["GPUs per replica", (s) => String(s.gpusPerReplica)],
  ["GPU-hours", (s) => s.gpuHours.toFixed(2)],
  ["cost", (s) => `$${s.cost.toFixed(2)}`],
];

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, index) =>
          // Figures line up on the right, words on the left.
          index > 0 && /^[-$\d]/.test(cell)
            ? cell.padStart(widths[index] ?? 0)
            : cell.padEnd(widths[index] ?? 0),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The summary, one column per policy; with one policy, also its first scale events. */
export function formatTable(results: readonly SimulationResult[], maxEvents = 20): string {
  const rows = [
    ["", ...results.map((result) => result.summary.name)],
    ...SUMMARY_ROWS.map(([label, read]) => [label, ...results.map((result) => read(result.summary))]),
  ];
  let text = `${table(rows)}\n`;
  const only = results.length === 1 ? results[0] : undefined;
  if (only && only.events.length > 0) {
    const eventRows = [
      ["time", "from", "to", "by", "reason"],
      ...only.events
        .slice(0, maxEvents)
        .map((event) => [duration(event.t), String(event.from), String(event.to), event.by, event.reason]),
    ];
    text += `\nscale events${only.events.length > maxEvents ? ` (first ${maxEvents} of ${only.events.length})` : ""}\n${table(eventRows)}\n`;
  }
  return text;
}
