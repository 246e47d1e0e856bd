// Pure: counts of API requests by verb and resource, from kube-apiserver's `apiserver_request_total` or
// from the requests a client sent, in one shape so the two can be compared and subtracted.

import { classifyApiRequest, resourceLabel } from "../../src/runtime/api-request.js";

/** The verbs kube-apiserver reports (`verb` label of apiserver_request_total) that change state. */
export const WRITE_VERBS: ReadonlySet<string> = new Set([
  "POST",
  "PUT",
  "PATCH",
  "APPLY",
  "DELETE",
  "DELETECOLLECTION",
]);

/** "VERB resource[.group][/subresource]" -> number of requests. */
export type RequestCounts = Map<string, number>;

export function countKey(verb: string, resource: string): string {
  return `${verb} ${resource}`;
}

export function splitKey(key: string): { verb: string; resource: string } {
  const space = key.indexOf(" ");
  return { verb: key.slice(0, space), resource: key.slice(space + 1) };
}

/** A sample line's labels and value: `name{labels} value`. */
const SAMPLE = /^[^{]*\{(.*)\}\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/**
 * Sums the samples of `metric` (a counter, or a histogram's _sum or _count) in Prometheus text by the key
 * `keyOf` makes of their labels (the labels it leaves out, such as the response code, are summed over).
 */
export function sumSamplesBy(
  metricsText: string,
  metric: string,
  keyOf: (labels: ReadonlyMap<string, string>) => string,
): RequestCounts {
  const counts: RequestCounts = new Map();
  const prefix = `${metric}{`;
  for (const line of metricsText.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const sample = SAMPLE.exec(line);
    if (sample === null) continue;
    const labels = new Map<string, string>();
    for (const match of (sample[1] ?? "").matchAll(LABEL)) labels.set(match[1] ?? "", match[2] ?? "");
    const value = Number(sample[2]);
    if (!Number.isFinite(value)) continue;
    const key = keyOf(labels);
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  return counts;
}

/**
 * Sums `apiserver_request_total` over response codes (and the other labels) per verb and resource, from
 * the Prometheus text format of kube-apiserver's /metrics.
 */
export function parseApiServerRequestTotals(metricsText: string): RequestCounts {
  return sumSamplesBy(metricsText, "apiserver_request_total", apiServerRequestKey);
}

/** The key of a kube-apiserver request metric's sample: "VERB resource[.group][/subresource]". */
export function apiServerRequestKey(labels: ReadonlyMap<string, string>): string {
  return countKey(
    labels.get("verb") ?? "",
    resourceLabel(labels.get("group") ?? "", labels.get("resource") ?? "", labels.get("subresource") ?? ""),
  );
}

/**
 * Sums the operator's own `mlautoscale_api_requests_total` over response codes per verb and resource,
 * from the Prometheus text of its /metrics: the requests it sent, named as kube-apiserver names them.
 */
export function parseOperatorRequestTotals(metricsText: string): RequestCounts {
  return sumSamplesBy(metricsText, "mlautoscale_api_requests_total", (labels) =>
    countKey(labels.get("verb") ?? "", labels.get("resource") ?? ""),
  );
}

/** The sum of every sample of the operator's `controller_runtime_reconcile_total` (all results). */
export function parseReconcileTotal(metricsText: string): number {
  return totalOf(sumSamplesBy(metricsText, "controller_runtime_reconcile_total", () => ""));
}

/** after - before, per key; keys whose difference is zero are left out. */
export function subtractCounts(after: RequestCounts, before: RequestCounts): RequestCounts {
  const difference: RequestCounts = new Map();
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) difference.set(key, delta);
  }
  for (const [key, value] of before) {
    if (!after.has(key) && value !== 0) difference.set(key, -value);
  }
  return difference;
}

export function writesOnly(counts: RequestCounts): RequestCounts {
  return new Map([...counts].filter(([key]) => WRITE_VERBS.has(splitKey(key).verb)));
}

export function totalOf(counts: RequestCounts): number {
  let total = 0;
  for (const value of counts.values()) total += value;
  return total;
}

/** Sorted by count, largest first, then by key, so tables and JSON are stable. */
export function sortedEntries(counts: RequestCounts): [string, number][] {
  return [...counts].sort(([keyA, a], [keyB, b]) => b - a || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0));
}

/**
 * The verb and resource kube-apiserver would record for a client request (see classifyApiRequest),
 * from its method, URL (path and query) and content type.
 */
export function classifyRequest(
  method: string,
  url: string,
  contentType: string | undefined,
): { verb: string; resource: string } | undefined {
  return classifyApiRequest(method, new URL(url, "http://localhost"), contentType);
}
