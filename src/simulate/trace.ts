// Traffic traces: CSV with a header row, or JSON (an array of points, or { "points": [...] }).
// Each point holds from its time until the next point's. A CSV request log (one row per request, with
// a timestamp) is counted into arrivals by src/trace/request-log.ts.
import { isRequestLogHeader, parseRequestLog, parseTimestamp } from "../trace/request-log.js";

export interface TracePoint {
  /** Seconds from the start of the trace. */
  t: number;
  /** Requests arriving per second until the next point. */
  rps?: number;
  /** Recorded depth of the upstream queue at t; its rises are counted as arrivals. */
  queue?: number;
  /** GPU utilization (percent) of a busy replica, when the trace recorded it. */
  gpu?: number;
  /** True while the metrics source (Prometheus, the broker) fails to answer. */
  metricsDown?: boolean;
}

export interface Trace {
  points: TracePoint[];
  /** Seconds: the last point holds for as long as the interval before it. */
  end: number;
  /** When the trace knows it: the time of t = 0, seconds since the Unix epoch. */
  wallClockStart?: number;
}

export class TraceError extends Error {
  constructor(
    readonly source: string,
    readonly location: string,
    readonly detail: string,
  ) {
    super(`${source}: ${location}: ${detail}`);
    this.name = "TraceError";
  }
}

type Column = keyof TracePoint;

const COLUMN_ALIASES: Record<string, Column> = {
  t: "t",
  time: "t",
  seconds: "t",
  rps: "rps",
  arrivals: "rps",
  requests_per_second: "rps",
  queue: "queue",
  queue_depth: "queue",
  gpu: "gpu",
  gpu_utilization: "gpu",
  metrics_down: "metricsDown",
};

function checkValue(column: Column, raw: unknown, fail: (detail: string) => never): number | boolean {
  if (column === "metricsDown") {
    if (raw === true || raw === 1 || raw === "1" || raw === "true") return true;
    if (raw === false || raw === 0 || raw === "0" || raw === "false" || raw === "") return false;
    fail(`metrics_down must be 0, 1, true or false, got ${JSON.stringify(raw)}`);
  }
  const value =
    typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value < 0) {
    fail(`${column === "t" ? "time" : column} must be a non-negative number, got ${JSON.stringify(raw)}`);
  }
  if (column === "gpu" && value > 100) fail(`gpu must be a percentage (0-100), got ${value}`);
  return value;
}

function finish(points: TracePoint[], source: string, locate: (index: number) => string): Trace {
  if (points.length === 0) throw new TraceError(source, "trace", "has no data points");
  const hasLoad = points.some((point) => point.rps !== undefined || point.queue !== undefined);
  if (!hasLoad) throw new TraceError(source, "trace", "needs an rps (arrivals per second) or queue column");
  for (let index = 1; index < points.length; index++) {
    const previous = points[index - 1];
    const point = points[index];
    if (previous && point && point.t <= previous.t) {
      throw new TraceError(
        source,
        locate(index),
        `time ${point.t} is not after the previous time ${previous.t}`,
      );
    }
  }
  const last = points[points.length - 1];
  const beforeLast = points[points.length - 2];
  const lastT = last?.t ?? 0;
  const end = beforeLast ? lastT + (lastT - beforeLast.t) : lastT + 1;
  return { points, end };
}

/** A comment line `# start: 2023-11-16T18:15:45Z` gives the time of t = 0. */
const START_COMMENT = /^#\s*start:\s*(\S.*)$/;

export function parseCsvTrace(text: string, source = "trace"): Trace {
  const lines = text.split(/\r?\n/);
  const header = lines.find((line) => line.trim() !== "" && !line.trim().startsWith("#"));
  if (header !== undefined && isRequestLogHeader(header.split(","))) return parseRequestLog(text, source);
  let wallClockStart: number | undefined;
  let columns: (Column | undefined)[] | undefined;
  let headerLine = 0;
  const points: TracePoint[] = [];
  const lineOfPoint: number[] = [];
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    const trimmed = line.trim();
    const start = START_COMMENT.exec(trimmed)?.[1];
    if (start !== undefined && !columns) {
      wallClockStart = parseTimestamp(start)?.seconds;
      if (wallClockStart === undefined)
        throw new TraceError(source, `line ${lineNumber}`, `start ${JSON.stringify(start)} is not a time`);
    }
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const cells = trimmed.split(",").map((cell) => cell.trim());
    if (!columns) {
      headerLine = lineNumber;
      columns = cells.map((cell) => {
        const column = COLUMN_ALIASES[cell.toLowerCase()];
        if (!column) {
          throw new TraceError(
            source,
            `line ${lineNumber}`,
            `unknown column "${cell}" (expected t, rps, queue, gpu, metrics_down)`,
          );
        }
        return column;
      });
      if (!columns.includes("t"))
        throw new TraceError(source, `line ${lineNumber}`, "the header needs a t column");
      return;
    }
    if (cells.length !== columns.length) {
      throw new TraceError(
        source,
        `line ${lineNumber}`,
        `has ${cells.length} fields, the header on line ${headerLine} has ${columns.length}`,
      );
    }
    const point: TracePoint = { t: 0 };
    cells.forEach((cell, cellIndex) => {
      const column = columns?.[cellIndex];
      if (!column) return;
      if (cell === "" && column !== "t") return;
      const value = checkValue(column, cell, (detail) => {
        throw new TraceError(source, `line ${lineNumber}`, detail);
      });
      if (column === "metricsDown") point.metricsDown = value === true;
      else point[column] = Number(value);
    });
    points.push(point);
    lineOfPoint.push(lineNumber);
  });
  if (!columns) throw new TraceError(source, "trace", "is empty (a header row is required)");
  const trace = finish(points, source, (index) => `line ${lineOfPoint[index] ?? "?"}`);
  if (wallClockStart !== undefined) trace.wallClockStart = wallClockStart;
  return trace;
}

export function parseJsonTrace(text: string, source = "trace"): Trace {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new TraceError(source, "JSON", error instanceof Error ? error.message : String(error));
  }
  const list: unknown =
    typeof document === "object" && document !== null && !Array.isArray(document)
      ? (document as Record<string, unknown>).points
      : document;
  const prefix = Array.isArray(document) ? "" : "points";
  if (!Array.isArray(list))
    throw new TraceError(source, "JSON", 'expected an array of points or { "points": [...] }');
  const points = list.map((entry: unknown, index): TracePoint => {
    const location = `${prefix}[${index}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new TraceError(source, location, "must be an object");
    }
    const point: TracePoint = { t: 0 };
    let sawTime = false;
    for (const [key, raw] of Object.entries(entry as Record<string, unknown>)) {
      const column = COLUMN_ALIASES[key.toLowerCase()] ?? (key === "metricsDown" ? "metricsDown" : undefined);
      if (!column)
        throw new TraceError(
          source,
          `${location}.${key}`,
          "unknown field (expected t, rps, queue, gpu, metrics_down)",
        );
      if (raw === null) continue;
      const value = checkValue(column, raw, (detail) => {
        throw new TraceError(source, `${location}.${key}`, detail);
      });
      if (column === "t") sawTime = true;
      if (column === "metricsDown") point.metricsDown = value === true;
      else point[column] = Number(value);
    }
    if (!sawTime) throw new TraceError(source, `${location}.t`, "is required");
    return point;
  });
  return finish(points, source, (index) => `${prefix}[${index}]`);
}

/** Picks the format from the file name, or from the first character when the name does not tell. */
export function parseTrace(text: string, source = "trace"): Trace {
  const lower = source.toLowerCase();
  if (lower.endsWith(".json")) return parseJsonTrace(text, source);
  if (lower.endsWith(".csv")) return parseCsvTrace(text, source);
  const first = text.trimStart()[0];
  return first === "[" || first === "{" ? parseJsonTrace(text, source) : parseCsvTrace(text, source);
}
