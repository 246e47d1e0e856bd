// `mlautoscale trace`: writes a trace file (CSV) that `simulate` and `tune` replay, from a Prometheus range
// query or from a request log.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { CommandIO } from "../render/command.js";
import { TraceError, type Trace } from "../simulate/trace.js";
import { DEFAULT_BUCKET_SECONDS, formatTimestamp, parseRequestLog, parseTimestamp } from "./request-log.js";
import {
  parseDuration,
  parseRangeQuery,
  PrometheusError,
  readPrometheusTrace,
  type RangeQuery,
} from "./prometheus.js";
import { UsageError } from "../usage-error.js";

export const TRACE_USAGE = `Usage: mlautoscale trace --prometheus URL --query [COLUMN=]PROMQL --since DURATION [options]
       mlautoscale trace --request-log FILE [--bucket SECONDS] [--scale FACTOR]

Writes a traffic trace (CSV: t,rps[,queue][,gpu][,metrics_down]) for simulate and tune, from a
Prometheus range query or from a request log (one row per request, with a TIMESTAMP column).
      --prometheus URL     Prometheus address, e.g. http://prometheus.monitoring:9090
      --query [COL=]Q      PromQL for a trace column: rps (the default), queue or gpu; repeatable, one
                           per column, e.g. --query 'sum(rate(http_requests_total{job="model"}[1m]))'
      --since DURATION     how far back the trace starts: 24h, 90m, 7d
      --until TIME         where it ends: RFC 3339 or Unix seconds (default: now)
      --step DURATION      one point per step (default 15s, the HPA's sync period)
      --header 'NAME: VALUE'  an HTTP header on every request (e.g. Authorization); repeatable
      --request-log FILE   count a request log's rows into arrivals per second
      --bucket SECONDS     bucket width for --request-log (default ${DEFAULT_BUCKET_SECONDS})
      --scale FACTOR       multiply the arrivals (rps), e.g. to replay a log at 4x its traffic (default 1)
`;

/** Input that cannot be read: the message names the file. */
class InputError extends Error {}

function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !(parsed > 0) || !Number.isFinite(parsed)) {
    throw new UsageError(`--${flag} must be a number > 0, not ${value}`);
  }
  return parsed;
}

function durationFlag(value: string, flag: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined)
    throw new UsageError(`--${flag} must be a duration such as 15s, 90m or 24h, not ${value}`);
  return seconds;
}

function headerFlags(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    const separator = value.indexOf(":");
    const name = value.slice(0, separator).trim();
    if (separator <= 0 || name === "") throw new UsageError(`--header ${value}: expected 'NAME: VALUE'`);
    headers[name] = value.slice(separator + 1).trim();
  }
  return headers;
}

function formatNumber(value: number): string {
  return String(Number(value.toFixed(6)));
}

/** The trace as CSV, after `# ` comment lines; `# start:` gives the time of t = 0 when known. */
export function formatTraceCsv(trace: Trace, comments: readonly string[] = []): string {
  const has = (read: (point: Trace["points"][number]) => unknown) =>
    trace.points.some((point) => read(point) !== undefined);
  const columns: [string, (point: Trace["points"][number]) => string][] = [["t", (p) => formatNumber(p.t)]];
  if (has((p) => p.rps)) columns.push(["rps", (p) => (p.rps === undefined ? "" : formatNumber(p.rps))]);
  if (has((p) => p.queue))
    columns.push(["queue", (p) => (p.queue === undefined ? "" : formatNumber(p.queue))]);
  if (has((p) => p.gpu)) columns.push(["gpu", (p) => (p.gpu === undefined ? "" : formatNumber(p.gpu))]);
  if (trace.points.some((p) => p.metricsDown === true))
    columns.push(["metrics_down", (p) => (p.metricsDown === true ? "1" : "0")]);
  const lines = comments.map((comment) => `# ${comment}`);
  if (trace.wallClockStart !== undefined) lines.push(`# start: ${formatTimestamp(trace.wallClockStart)}`);
  lines.push(columns.map(([name]) => name).join(","));
  for (const point of trace.points) lines.push(columns.map(([, read]) => read(point)).join(","));
  return `${lines.join("\n")}\n`;
}

export async function runTraceCommand(
  argv: string[],
  io: CommandIO,
  now: () => number = () => Date.now() / 1000,
): Promise<number> {
  let run: () => Promise<{ trace: Trace; comments: string[] }>;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        prometheus: { type: "string" },
        query: { type: "string", multiple: true },
        since: { type: "string" },
        until: { type: "string" },
        step: { type: "string" },
        header: { type: "string", multiple: true },
        "request-log": { type: "string" },
        bucket: { type: "string" },
        scale: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) {
      io.stdout(TRACE_USAGE);
      return 0;
    }
    const scale = positiveNumber(values.scale, "scale");
    const requestLog = values["request-log"];
    if ((values.prometheus === undefined) === (requestLog === undefined)) {
      throw new UsageError("give one of --prometheus URL and --request-log FILE");
    }
    if (requestLog !== undefined) {
      for (const flag of ["query", "since", "until", "step", "header"] as const) {
        if (values[flag] !== undefined)
          throw new UsageError(`--${flag} goes with --prometheus, not --request-log`);
      }
      const bucketSeconds = positiveNumber(values.bucket, "bucket") ?? DEFAULT_BUCKET_SECONDS;
      run = async () => {
        const text = await readFile(requestLog, "utf8").catch((error: unknown) => {
          throw new InputError(`${requestLog}: ${error instanceof Error ? error.message : String(error)}`);
        });
        const trace = parseRequestLog(text, requestLog, { bucketSeconds, scale });
        const requests =
          trace.points.reduce((sum, point) => sum + (point.rps ?? 0) * bucketSeconds, 0) / (scale ?? 1);
        return {
          trace,
          comments: [
            `mlautoscale trace: ${Math.round(requests)} requests from ${requestLog} in ${bucketSeconds} s buckets${scale !== undefined ? `, arrivals x${scale}` : ""}`,
          ],
        };
      };
    } else {
      if (values.bucket !== undefined)
        throw new UsageError("--bucket goes with --request-log, not --prometheus");
      const url = values.prometheus ?? "";
      if (!/^https?:\/\/[^/]/.test(url))
        throw new UsageError(`--prometheus must be an http(s) URL, not ${url}`);
      if ((values.query ?? []).length === 0)
        throw new UsageError("--query PROMQL is required with --prometheus");
      if (values.since === undefined) throw new UsageError("--since DURATION is required with --prometheus");
      let queries: RangeQuery[];
      try {
        queries = (values.query ?? []).map(parseRangeQuery);
      } catch (error) {
        throw new UsageError(error instanceof Error ? error.message : String(error));
      }
      const columns = queries.map((query) => query.column);
      const repeated = columns.find((column, index) => columns.indexOf(column) !== index);
      if (repeated !== undefined) throw new UsageError(`--query gives the ${repeated} column twice`);
      const step = durationFlag(values.step ?? "15s", "step");
      let end = now();
      if (values.until !== undefined) {
        const parsed = parseTimestamp(values.until);
        if (!parsed) throw new UsageError(`--until must be RFC 3339 or Unix seconds, not ${values.until}`);
        end = parsed.seconds;
      }
      const start = end - durationFlag(values.since, "since");
      const headers = headerFlags(values.header ?? []);
      run = async () => {
        const trace = await readPrometheusTrace({ url, queries, start, end, step, headers, scale });
        return {
          trace,
          comments: [
            `mlautoscale trace: ${url}, ${formatTimestamp(start)} to ${formatTimestamp(end)}, step ${step} s${scale !== undefined ? `, rps x${scale}` : ""}`,
            ...queries.map((query) => `${query.column} = ${query.query.replace(/\s*\n\s*/g, " ")}`),
          ],
        };
      };
    }
  } catch (error) {
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n\n${TRACE_USAGE}`);
    return 2;
  }
  try {
    const { trace, comments } = await run();
    io.stdout(formatTraceCsv(trace, comments));
    return 0;
  } catch (error) {
    if (!(error instanceof TraceError || error instanceof PrometheusError || error instanceof InputError))
      throw error;
    io.stderr(`error: ${error.message}\n`);
    return 1;
  }
}
