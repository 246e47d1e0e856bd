// Which simulated quantity a metric or trigger measures. Metric names and trigger types are free
// text, so the mapping is by convention; `--signal name=kind` overrides it.
import { isServerSeries, serverSignalOf } from "../model-servers/promql.js";
import { SERVER_SIGNAL_KINDS, type ServerSignalKind } from "./llm.js";

export type Signal = "queue" | "rps" | "gpu" | ServerSignalKind;

export const SIGNALS: readonly Signal[] = ["queue", "rps", "gpu", ...SERVER_SIGNAL_KINDS];

/** Guess from a metric name or a Prometheus query. */
export function signalFromText(text: string): Signal | undefined {
  // An LLM server's metrics, by the engine table's names ("waiting" alone would read as a queue).
  const server = serverSignalOf(text);
  if (server !== undefined) return server;
  const lower = text.toLowerCase();
  if (/gpu|dcgm/.test(lower)) return "gpu";
  if (/queue|backlog|pending|waiting|lag|messages|inflight|in_flight/.test(lower)) return "queue";
  if (/request|rps|qps|throughput|http_/.test(lower)) return "rps";
  return undefined;
}

/** PromQL words that are not metric names. */
export const PROMQL_WORDS: ReadonlySet<string> = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);
/** Functions over a counter's samples whose result is a rate. */
const RATE_FUNCTIONS = new Set(["rate", "irate", "increase", "deriv"]);

/** The metric names a PromQL query reads, each with whether a rate function wraps it. */
export function queryMetrics(query: string): { name: string; rate: boolean }[] {
  // Strings, label matchers, range selectors and grouping clauses name no metric.
  const text = query
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/(^|[^a-zA-Z0-9_:.])[0-9.]+(?:e[+-]?\d+)?/gi, "$1 ");
  const metrics: { name: string; rate: boolean }[] = [];
  // One entry per open parenthesis: the function it calls, if any.
  const calls: (string | undefined)[] = [];
  const token = /[a-zA-Z_:][a-zA-Z0-9_:]*|\(|\)/g;
  for (let match = token.exec(text); match !== null; match = token.exec(text)) {
    const word = match[0];
    if (word === "(") calls.push(undefined);
    else if (word === ")") calls.pop();
    else {
      const call = /^\s*\(/.exec(text.slice(token.lastIndex));
      if (call) {
        calls.push(word);
        token.lastIndex += call[0].length;
      } else if (!PROMQL_WORDS.has(word.toLowerCase())) {
        metrics.push({
          name: word,
          rate: calls.some((name) => name !== undefined && RATE_FUNCTIONS.has(name)),
        });
      }
    }
  }
  return metrics;
}

const DURATION_UNITS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
  y: 31536000,
};

/** The longest range selector of a query (`rate(x[2m])` is 120 s), or undefined when it has none. */
export function queryRangeSeconds(query: string): number | undefined {
  let longest: number | undefined;
  for (const match of query.matchAll(/\[\s*((?:\d+(?:ms|s|m|h|d|w|y))+)\s*(?::[^\]]*)?\]/g)) {
    let seconds = 0;
    for (const part of (match[1] ?? "").matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
      seconds += Number(part[1]) * (DURATION_UNITS[part[2] ?? "s"] ?? 1);
    }
    longest = Math.max(longest ?? 0, seconds);
  }
  return longest;
}

/**
 * What a PromQL query measures: the signal every metric it reads agrees on. A counter under rate()
 * is a request rate (unless it is about GPUs); metrics that disagree leave it to `--signal`.
 */
export function signalFromQuery(query: string): { signal?: Signal; ambiguous?: string[] } {
  // A quantile of a histogram is a latency: none of the simulated signals.
  if (/\bhistogram_quantile\s*\(/.test(query)) return {};
  const metrics = queryMetrics(query);
  // A query of an LLM server's series alone: the engine table says which signal, by the labels that pick
  // a series out of its family too (Triton's waiting and running requests share one name).
  if (metrics.length > 0 && metrics.every((metric) => isServerSeries(metric.name))) {
    const server = serverSignalOf(query);
    if (server !== undefined) return { signal: server };
  }
  const signals = new Map<Signal, string>();
  const unknown: string[] = [];
  for (const metric of metrics) {
    let signal = signalFromText(metric.name);
    if (metric.rate && signal !== "gpu") signal = "rps";
    if (signal === undefined) unknown.push(metric.name);
    else if (!signals.has(signal)) signals.set(signal, metric.name);
  }
  if (signals.size === 1) return { signal: [...signals.keys()][0] };
  if (signals.size > 1)
    return { ambiguous: [...signals.entries()].map(([signal, name]) => `${name} (${signal})`) };
  return {};
}

export function parseSignalOverrides(entries: readonly string[]): Map<string, Signal> {
  const overrides = new Map<string, Signal>();
  for (const entry of entries) {
    const separator = entry.lastIndexOf("=");
    const name = entry.slice(0, separator);
    const kind = entry.slice(separator + 1);
    if (separator <= 0 || !(SIGNALS as readonly string[]).includes(kind)) {
      throw new Error(`--signal ${entry}: expected NAME=${SIGNALS.join("|")}`);
    }
    overrides.set(name, kind as Signal);
  }
  return overrides;
}
