// Request logs: one row per request with its arrival time, as public LLM traces are published (the Azure
// LLM inference trace's `TIMESTAMP,ContextTokens,GeneratedTokens`). Counted into buckets, they become a
// trace of arrivals per second that `simulate` and `tune` replay.
import { TraceError, type Trace, type TracePoint } from "../simulate/trace.js";

/** Header names of the arrival-time column. */
const TIMESTAMP_COLUMNS = new Set(["timestamp", "time_stamp", "arrival_time", "arrival_timestamp"]);

export const DEFAULT_BUCKET_SECONDS = 15;
/** About a year of 15-second buckets: a longer span is almost surely a unit mistake (milliseconds). */
const MAX_BUCKETS = 2_500_000;

export interface RequestLogOptions {
  /** Width of a bucket, seconds (default 15, the HPA's sync period). */
  bucketSeconds?: number;
  /** Each request counts this many times: replays the log at a multiple of its traffic. */
  scale?: number;
}

/** True when a CSV header row is a request log's: it has a timestamp column and no rate or queue column. */
export function isRequestLogHeader(cells: readonly string[]): boolean {
  const names = cells.map((cell) => cell.trim().toLowerCase());
  return (
    names.some((name) => TIMESTAMP_COLUMNS.has(name)) &&
    !names.some((name) => ["rps", "arrivals", "requests_per_second", "queue", "queue_depth"].includes(name))
  );
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/i;

export type TimestampKind = "date-time" | "seconds";

/**
 * Seconds since the Unix epoch of `2023-11-16 18:15:46.68` or `2023-11-16T18:15:46Z` (ISO 8601, any
 * fraction, an optional zone; a time without a zone is read as UTC), or of a plain number of seconds.
 * Undefined when the text is neither.
 */
export function parseTimestamp(text: string): { seconds: number; kind: TimestampKind } | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return { seconds: Number(trimmed), kind: "seconds" };
  const match = DATE_TIME.exec(trimmed);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [y, mo, d, h, mi, s] = fields;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  let seconds = Date.UTC(y, mo - 1, d, h, mi, s) / 1000 + (fraction ? Number(`0${fraction}`) : 0);
  if (zone && zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    seconds -= sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60);
  }
  return { seconds, kind: "date-time" };
}

/** `2023-11-16T18:15:45Z`, with a fraction only when there is one. */
export function formatTimestamp(seconds: number): string {
  return new Date(Math.round(seconds * 1000)).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * Counts the requests of a request log into buckets of `bucketSeconds`, aligned to the clock (a 15 s
 * bucket starts at :00, :15, :30 or :45), from the first request's bucket to the last's. Rows may come in
 * any order. The trace's rps is requests per second in each bucket, times `scale`.
 */
export function parseRequestLog(text: string, source = "trace", options: RequestLogOptions = {}): Trace {
  const bucketSeconds = options.bucketSeconds ?? DEFAULT_BUCKET_SECONDS;
  const scale = options.scale ?? 1;
  if (!(bucketSeconds > 0)) throw new TraceError(source, "options", "the bucket must be longer than 0 s");
  if (!(scale > 0)) throw new TraceError(source, "options", "the scale must be greater than 0");
  const lines = text.split(/\r?\n/);
  let timestampColumn = -1;
  let columnCount = 0;
  let headerLine = 0;
  let kind: TimestampKind | undefined;
  let kindLine = 0;
  const arrivals: number[] = [];
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const trimmed = (lines[index] ?? "").trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const cells = trimmed.split(",");
    if (timestampColumn < 0) {
      timestampColumn = cells.findIndex((cell) => TIMESTAMP_COLUMNS.has(cell.trim().toLowerCase()));
      if (timestampColumn < 0) {
        throw new TraceError(source, `line ${lineNumber}`, "a request log needs a TIMESTAMP column");
      }
      columnCount = cells.length;
      headerLine = lineNumber;
      continue;
    }
    if (cells.length !== columnCount) {
      throw new TraceError(
        source,
        `line ${lineNumber}`,
        `has ${cells.length} fields, the header on line ${headerLine} has ${columnCount}`,
      );
    }
    const raw = cells[timestampColumn] ?? "";
    const parsed = parseTimestamp(raw);
    if (!parsed) {
      throw new TraceError(
        source,
        `line ${lineNumber}`,
        `timestamp ${JSON.stringify(raw.trim())} is not a time (expected e.g. 2023-11-16 18:15:46.68, ISO 8601, or seconds)`,
      );
    }
    if (kind === undefined) {
      kind = parsed.kind;
      kindLine = lineNumber;
    } else if (parsed.kind !== kind) {
      throw new TraceError(
        source,
        `line ${lineNumber}`,
        `timestamp ${JSON.stringify(raw.trim())} is ${parsed.kind === "seconds" ? "a number of seconds" : "a date and time"}, line ${kindLine}'s is ${kind === "seconds" ? "a number of seconds" : "a date and time"}`,
      );
    }
    arrivals.push(parsed.seconds);
  }
  if (timestampColumn < 0) throw new TraceError(source, "trace", "is empty (a header row is required)");
  if (arrivals.length === 0) throw new TraceError(source, "trace", "has no requests");

  let first = Infinity;
  let last = -Infinity;
  for (const arrival of arrivals) {
    if (arrival < first) first = arrival;
    if (arrival > last) last = arrival;
  }
  const start = Math.floor(first / bucketSeconds) * bucketSeconds;
  const buckets = Math.floor((last - start) / bucketSeconds) + 1;
  if (buckets > MAX_BUCKETS) {
    throw new TraceError(
      source,
      "trace",
      `spans ${Math.round(last - first)} s, ${buckets} buckets of ${bucketSeconds} s: use a wider bucket (or are the timestamps in milliseconds?)`,
    );
  }
  const counts = new Float64Array(buckets);
  for (const arrival of arrivals) {
    const bucket = Math.floor((arrival - start) / bucketSeconds);
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  const points: TracePoint[] = new Array<TracePoint>(buckets);
  for (let bucket = 0; bucket < buckets; bucket++) {
    points[bucket] = { t: bucket * bucketSeconds, rps: ((counts[bucket] ?? 0) * scale) / bucketSeconds };
  }
  const trace: Trace = { points, end: buckets * bucketSeconds };
  // A plain number of seconds may be relative to anything: only a date says what time of day it was.
  if (kind === "date-time") trace.wallClockStart = start;
  return trace;
}
