// Reads a trace from Prometheus: one range query per trace column (rps, queue, gpu), evaluated at a fixed
// step over a past window (POST /api/v1/query_range, so long queries fit). A step where a query has no
// sample is one where the metrics source did not answer: the trace marks it metrics_down and holds the
// value.
import type { Trace, TracePoint } from "../simulate/trace.js";

export type TraceColumn = "rps" | "queue" | "gpu";
export const TRACE_COLUMNS: readonly TraceColumn[] = ["rps", "queue", "gpu"];

export interface RangeQuery {
  column: TraceColumn;
  query: string;
}

/** Prometheus refuses a range query of more than 11,000 points per series; ask for at most this many. */
export const MAX_POINTS_PER_REQUEST = 10_000;

export class PrometheusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrometheusError";
  }
}

const DURATION_UNITS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  y: 31_536_000,
};

/** Seconds in a Prometheus duration: `15s`, `90m`, `1h30m`, `7d`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(trimmed)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
    seconds += Number(amount) * (DURATION_UNITS[unit ?? "s"] ?? 1);
  }
  return seconds > 0 ? seconds : undefined;
}

/** `rps=sum(rate(x[1m]))` names its column; a query alone is the rps column. */
export function parseRangeQuery(text: string): RangeQuery {
  const match = /^\s*(rps|queue|gpu)\s*=(?!=)(.*)$/s.exec(text);
  const column = (match?.[1] as TraceColumn | undefined) ?? "rps";
  const query = (match ? (match[2] ?? "") : text).trim();
  if (query === "") throw new PrometheusError(`--query ${text}: the PromQL expression is empty`);
  return { column, query };
}

interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

function describeSeries(metric: Record<string, string>): string {
  const labels = Object.entries(metric).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return `{${labels.join(", ")}}`;
}

/**
 * The samples of a query_range answer by step index (0 at `start`). The answer must hold one series:
 * several are refused with their labels, so the user aggregates them (sum, max) as the trace needs.
 * NaN and infinite values count as missing; negative ones are refused.
 */
export function samplesOf(body: unknown, query: string, start: number, step: number): Map<number, number> {
  const answer = body as { status?: unknown; data?: { resultType?: unknown; result?: unknown } } | null;
  if (
    answer?.status !== "success" ||
    answer.data?.resultType !== "matrix" ||
    !Array.isArray(answer.data.result)
  ) {
    throw new PrometheusError(`query ${JSON.stringify(query)}: the answer is not a range query's matrix`);
  }
  const series = answer.data.result as MatrixSeries[];
  if (series.length > 1) {
    const shown = series.slice(0, 3).map((s) => describeSeries(s.metric));
    throw new PrometheusError(
      `query ${JSON.stringify(query)} returned ${series.length} series (${shown.join(", ")}${series.length > 3 ? ", ..." : ""}): aggregate them into one, e.g. sum(...)`,
    );
  }
  const samples = new Map<number, number>();
  for (const [timestamp, text] of series[0]?.values ?? []) {
    const value = Number(text);
    if (!Number.isFinite(value)) continue;
    if (value < 0) {
      throw new PrometheusError(
        `query ${JSON.stringify(query)}: value ${text} at ${new Date(timestamp * 1000).toISOString()} is negative`,
      );
    }
    samples.set(Math.round((timestamp - start) / step), value);
  }
  return samples;
}

/**
 * The trace of `steps` points `step` apart: each column's samples, with the steps some column misses marked
 * metrics_down and holding that column's previous value (the first value, before any).
 */
export function traceFromSamples(
  columns: readonly { column: TraceColumn; samples: Map<number, number> }[],
  steps: number,
  step: number,
  wallClockStart: number,
  scale = 1,
): Trace {
  const points: TracePoint[] = Array.from({ length: steps }, (_, index) => ({ t: index * step }));
  let anyDown = false;
  for (const { column, samples } of columns) {
    let held: number | undefined;
    for (let index = 0; index < steps && held === undefined; index++) held = samples.get(index);
    for (let index = 0; index < steps; index++) {
      const point = points[index];
      if (!point) continue;
      const value = samples.get(index);
      if (value === undefined) {
        point.metricsDown = true;
        anyDown = true;
      } else held = value;
      point[column] = (held ?? 0) * (column === "rps" ? scale : 1);
    }
  }
  if (anyDown) for (const point of points) point.metricsDown ??= false;
  return { points, end: steps * step, wallClockStart };
}

export interface PrometheusRange {
  /** Base address, e.g. http://prometheus.monitoring:9090 (a path prefix is kept). */
  url: string;
  queries: readonly RangeQuery[];
  /** Seconds since the epoch; aligned down to the step. */
  start: number;
  end: number;
  step: number;
  headers?: Record<string, string>;
  /** Multiplies the rps column. */
  scale?: number;
  timeoutMs?: number;
}

async function queryRange(
  range: PrometheusRange,
  query: string,
  start: number,
  end: number,
): Promise<unknown> {
  const base = range.url.endsWith("/") ? range.url : `${range.url}/`;
  const address = new URL("api/v1/query_range", base);
  let response: Response;
  try {
    response = await fetch(address, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...range.headers },
      body: new URLSearchParams({ query, start: String(start), end: String(end), step: String(range.step) }),
      signal: AbortSignal.timeout(range.timeoutMs ?? 60_000),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    throw new PrometheusError(
      `cannot reach Prometheus at ${range.url}: ${error instanceof Error ? error.message : String(error)}${cause}`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PrometheusError(
      `${address.href} answered ${response.status} with something other than JSON: ${text.slice(0, 200)}`,
    );
  }
  if (!response.ok) {
    const detail = body as { errorType?: unknown; error?: unknown };
    const kind = typeof detail.errorType === "string" ? `${detail.errorType}: ` : "";
    const message = typeof detail.error === "string" ? detail.error : text.slice(0, 200);
    throw new PrometheusError(
      `query ${JSON.stringify(query)}: Prometheus answered ${response.status}: ${kind}${message}`,
    );
  }
  return body;
}

/** Runs every query over the range, in pieces Prometheus accepts, and joins them into one trace. */
export async function readPrometheusTrace(range: PrometheusRange): Promise<Trace> {
  const step = range.step;
  const start = Math.floor(range.start / step) * step;
  const steps = Math.floor((range.end - start) / step) + 1;
  if (!(steps >= 2)) throw new PrometheusError("the range must hold at least two steps");
  const columns: { column: TraceColumn; samples: Map<number, number> }[] = [];
  for (const { column, query } of range.queries) {
    const samples = new Map<number, number>();
    for (let first = 0; first < steps; first += MAX_POINTS_PER_REQUEST) {
      const last = Math.min(steps, first + MAX_POINTS_PER_REQUEST) - 1;
      const body = await queryRange(range, query, start + first * step, start + last * step);
      for (const [index, value] of samplesOf(body, query, start, step)) samples.set(index, value);
    }
    if (samples.size === 0) {
      throw new PrometheusError(
        `query ${JSON.stringify(query)} returned no data from ${new Date(start * 1000).toISOString()} to ${new Date((start + (steps - 1) * step) * 1000).toISOString()}`,
      );
    }
    columns.push({ column, samples });
  }
  return traceFromSamples(columns, steps, step, start, range.scale);
}
