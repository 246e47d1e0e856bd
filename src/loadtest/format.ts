// A load test's report as table, JSON, CSV or SVG: the shapes of `mlautoscale simulate`, with the
// simulator's own JSON and chart for --compare-simulation. Pure.
import { formatJson, type RunParameters } from "../simulate/format.js";
import type { SimulationResult, SimulationStep, SimulationSummary } from "../simulate/simulate.js";
import { StepTable } from "../simulate/steps.js";
import { renderSvg } from "../simulate/svg.js";
import { simulatedSeconds, type Comparison, type SimulatedSecond } from "./compare.js";
import type { SourceKind } from "./target.js";
import type { ObservedStep, ObservedSummary } from "./timeline.js";

export interface LoadtestReport {
  policy: string;
  namespace: string;
  engine: "HPA" | "KEDA" | null;
  workload: { kind: "Deployment" | "StatefulSet"; name: string };
  hpa: string;
  source: { kind: SourceKind; description: string };
  trace: { file: string; durationSeconds: number; arrivals: number };
  timeScale: number;
  settleSeconds: number;
  /** ISO 8601. */
  startedAt: string;
  summary: ObservedSummary;
  steps: ObservedStep[];
  /** Why the run stopped before its end (a failed publish). */
  error?: string;
  simulation?: { result: SimulationResult; parameters: RunParameters; comparison: Comparison };
}

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

export function reportDocument(report: LoadtestReport): Record<string, unknown> {
  const document: Record<string, unknown> = {
    policy: report.policy,
    namespace: report.namespace,
    engine: report.engine,
    workload: report.workload,
    hpa: report.hpa,
    source: report.source,
    trace: roundAll(report.trace),
    timeScale: report.timeScale,
    settleSeconds: report.settleSeconds,
    startedAt: report.startedAt,
    interrupted: report.summary.interrupted,
    ...(report.error !== undefined && { error: report.error }),
    summary: roundAll(report.summary),
    steps: report.steps.map((step) => roundAll(step)),
  };
  if (report.simulation) {
    const { result, parameters, comparison } = report.simulation;
    // Exactly what `mlautoscale simulate -o json` prints for the same policy and load.
    document["simulation"] = JSON.parse(formatJson([result], parameters)) as unknown;
    document["comparison"] = {
      ...comparison,
      ...Object.fromEntries(
        (
          [
            "peakReplicas",
            "firstScaleUpSeconds",
            "replicaSeconds",
            "readyReplicaSeconds",
            "maxQueue",
          ] as const
        ).map((key) => [key, roundAll(comparison[key])]),
      ),
    };
  }
  return document;
}

export function formatReportJson(report: LoadtestReport): string {
  return `${JSON.stringify(reportDocument(report), null, 2)}\n`;
}

const text = (value: number | null): string => (value === null ? "" : String(round(value)));

/** One row per second; with a simulation, its values at that second in sim_* columns. */
export function formatReportCsv(report: LoadtestReport): string {
  const simulated = report.simulation
    ? simulatedSeconds(report.simulation.result, report.steps.length)
    : undefined;
  const header = ["t", "trace_t", "load", "desired_replicas", "replicas", "ready_replicas", "queue"];
  if (simulated) header.push("sim_desired_replicas", "sim_ready_replicas", "sim_queue");
  const lines = [header.join(",")];
  report.steps.forEach((step, index) => {
    const row = [
      text(step.t),
      text(step.traceT),
      text(step.load),
      text(step.desiredReplicas),
      text(step.replicas),
      text(step.readyReplicas),
      text(step.queue),
    ];
    if (simulated) {
      const sim = simulated[index];
      row.push(
        text(sim?.desiredReplicas ?? null),
        text(sim?.readyReplicas ?? null),
        text(sim?.queue ?? null),
      );
    }
    lines.push(row.join(","));
  });
  return `${lines.join("\n")}\n`;
}

function duration(seconds: number): string {
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return hours > 0
    ? `${hours}h${String(minutes).padStart(2, "0")}m${String(rest).padStart(2, "0")}s`
    : minutes > 0
      ? `${minutes}m${String(rest).padStart(2, "0")}s`
      : `${rest}s`;
}

/** Columns after the first line up on the right: they hold figures (or "never", "-"). */
function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, index) =>
          index > 0 ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const cell = (value: number | null, unit = ""): string =>
  value === null ? "-" : `${round(value, 1)}${unit}`;

/** The row interval that keeps the timeline to about 40 rows. */
export function timelineInterval(seconds: number, maxRows = 40): number {
  const candidates = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  return (
    candidates.find((interval) => Math.ceil(seconds / interval) <= maxRows) ?? Math.ceil(seconds / maxRows)
  );
}

export function formatReportTable(report: LoadtestReport): string {
  const s = report.summary;
  const sim = report.simulation;
  const lines: string[] = [];
  lines.push(
    `policy     ${report.namespace}/${report.policy} (${report.engine ?? "not reconciled"}): ${report.workload.kind} ${report.workload.name}, HPA ${report.hpa}`,
    `load       ${report.source.description}`,
    `trace      ${report.trace.file}: ${duration(report.trace.durationSeconds)} at time scale ${report.timeScale}, ` +
      `${Math.round(report.trace.arrivals)} arrivals`,
  );
  if (s.interrupted) lines.push("stopped    interrupted: what was observed until then");
  if (report.error !== undefined) lines.push(`stopped    ${report.error}`);
  lines.push("");
  const c = sim?.comparison;
  const rows: string[][] = [["", "observed", ...(c ? ["simulated"] : [])]];
  const add = (label: string, observed: string, simulated?: string): void => {
    rows.push([label, observed, ...(c ? [simulated ?? ""] : [])]);
  };
  add("duration", duration(s.durationSeconds), c ? duration(c.windowSeconds) : undefined);
  add("sent", String(s.published), sim ? String(Math.round(sim.result.summary.totalRequests)) : undefined);
  add("peak desired replicas", cell(s.peakDesiredReplicas));
  add(
    "peak replicas",
    cell(c ? c.peakReplicas.observed : s.peakReplicas),
    c ? cell(c.peakReplicas.simulated) : undefined,
  );
  add("peak ready replicas", cell(s.peakReadyReplicas));
  add(
    "first scale-up",
    (c ? c.firstScaleUpSeconds.observed : s.firstScaleUpSeconds) === null
      ? "never"
      : cell(c ? c.firstScaleUpSeconds.observed : s.firstScaleUpSeconds, "s"),
    c
      ? c.firstScaleUpSeconds.simulated === null
        ? "never"
        : cell(c.firstScaleUpSeconds.simulated, "s")
      : undefined,
  );
  add(
    "replica-seconds",
    cell(c ? c.replicaSeconds.observed : s.replicaSeconds),
    c ? cell(c.replicaSeconds.simulated) : undefined,
  );
  add(
    "ready replica-seconds",
    cell(c ? c.readyReplicaSeconds.observed : s.readyReplicaSeconds),
    c ? cell(c.readyReplicaSeconds.simulated) : undefined,
  );
  add("max queue", cell(c ? c.maxQueue.observed : s.maxQueue), c ? cell(c.maxQueue.simulated) : undefined);
  add("final queue", cell(s.finalQueue));
  if (s.missedSamples > 0) add("missed samples", String(s.missedSamples));
  if (s.maxLagSeconds >= 1) add("max lag", cell(s.maxLagSeconds, "s"));
  lines.push(table(rows), "");
  if (c) {
    lines.push(
      `where they differ (first ${duration(c.windowSeconds)})`,
      ...c.notes.map((note) => `  ${note}`),
      "",
    );
  }

  const interval = timelineInterval(report.steps.length);
  const simulated: SimulatedSecond[] | undefined = sim
    ? simulatedSeconds(sim.result, report.steps.length)
    : undefined;
  const timeline: string[][] = [
    [
      "t",
      "trace t",
      "sent",
      "queue",
      "desired",
      "replicas",
      "ready",
      ...(simulated ? ["sim queue", "sim replicas", "sim ready"] : []),
    ],
  ];
  for (let t = 0; t < report.steps.length; t += interval) {
    const step = report.steps[t];
    if (!step) continue;
    const sent = report.steps.slice(t, t + interval).reduce((sum, each) => sum + each.load, 0);
    const at = simulated?.[t];
    timeline.push([
      duration(step.t),
      step.traceT === null ? "-" : duration(step.traceT),
      String(sent),
      cell(step.queue),
      cell(step.desiredReplicas),
      cell(step.replicas),
      cell(step.readyReplicas),
      ...(simulated
        ? [cell(at?.queue ?? null), cell(at?.desiredReplicas ?? null), cell(at?.readyReplicas ?? null)]
        : []),
    ]);
  }
  lines.push(
    `timeline (every ${duration(interval)}; sent: in the ${duration(interval)} from t)`,
    table(timeline),
  );
  return `${lines.join("\n")}\n`;
}

/** The observed timeline as a simulation result, for the simulator's chart: unknown values carry the last known one. */
function observedResult(report: LoadtestReport, name: string): SimulationResult {
  const steps = new StepTable(Math.max(report.steps.length, 1));
  const last = { desired: 0, ready: 0, queue: 0 };
  for (const step of report.steps) {
    last.desired = step.replicas ?? step.desiredReplicas ?? last.desired;
    last.ready = step.readyReplicas ?? last.ready;
    last.queue = step.queue ?? last.queue;
    const row: SimulationStep = {
      t: step.t,
      load: step.load,
      desiredReplicas: last.desired,
      readyReplicas: last.ready,
      loadingReplicas: Math.max(0, last.desired - last.ready),
      pendingReplicas: 0,
      queue: last.queue,
      waitSeconds: 0,
      served: 0,
      dropped: 0,
      sloViolations: 0,
      utilization: 0,
    };
    steps.push(row);
  }
  const summary: SimulationSummary = {
    name,
    engine: report.engine ?? "HPA",
    tickSeconds: 1,
    durationSeconds: report.steps.length,
    modelLoadSeconds: 0,
    gpusPerReplica: 0,
    totalRequests: report.summary.published,
    servedRequests: 0,
    droppedRequests: 0,
    sloViolations: 0,
    sloViolationRatio: 0,
    meanWaitSeconds: 0,
    maxWaitSeconds: 0,
    maxQueue: report.summary.maxQueue ?? 0,
    peakReplicas: report.summary.peakReplicas ?? 0,
    meanReadyReplicas: report.steps.length > 0 ? report.summary.readyReplicaSeconds / report.steps.length : 0,
    replicaHours: report.summary.replicaSeconds / 3600,
    gpuHours: 0,
    cost: 0,
    scaleUps: 0,
    scaleDowns: 0,
  };
  return { table: steps, steps: steps.toArray(), events: [], summary };
}

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Stands in for the observed series' name in the chart until its legend is written. */
const OBSERVED = "observed-series-f3b1";

/**
 * The simulator's chart: the load once, then one colour per series, the observation first and, with
 * --compare-simulation, the prediction second. The observed legend says what was observed (the
 * simulator's legend would speak of GPU-hours and SLO violations a load test does not measure).
 */
export function renderReportSvg(report: LoadtestReport): string {
  const results = [observedResult(report, OBSERVED)];
  if (report.simulation) {
    const result = report.simulation.result;
    results.push({
      ...result,
      steps: result.steps,
      summary: { ...result.summary, name: `${report.policy} simulated` },
    });
  }
  const title = `mlautoscale loadtest: ${report.namespace}/${report.policy}, ${report.trace.file} at time scale ${report.timeScale}`;
  const s = report.summary;
  const legend =
    `${report.policy} observed (${report.engine ?? "not reconciled"}): peak ${s.peakReplicas ?? "?"} replicas, ` +
    `${round(s.replicaSeconds, 1)} replica-seconds, max queue ${s.maxQueue === null ? "?" : round(s.maxQueue, 1)}` +
    (s.interrupted ? ", interrupted" : "");
  const svg = renderSvg(results, title);
  return svg.replace(new RegExp(`>${OBSERVED} \\([^<]*</text>`), `>${escapeXml(legend)}</text>`);
}
