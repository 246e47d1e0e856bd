// Pure: counts of API requests by verb and resource, from kube-apiserver's `apiserver_request_total` or
// from the requests a client sent, in one shape so the two can be compared and subtracted.

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

export function resourceLabel(group: string, resource: string, subresource: string): string {
  const qualified = group === "" ? resource : `${resource}.${group}`;
  return subresource === "" ? qualified : `${qualified}/${subresource}`;
}

export function countKey(verb: string, resource: string): string {
  return `${verb} ${resource}`;
}

export function splitKey(key: string): { verb: string; resource: string } {
  const space = key.indexOf(" ");
  return { verb: key.slice(0, space), resource: key.slice(space + 1) };
}

const SAMPLE = /^apiserver_request_total\{(.*)\}\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/**
 * Sums `apiserver_request_total` over response codes (and the other labels) per verb and resource, from
 * the Prometheus text format of kube-apiserver's /metrics.
 */
export function parseApiServerRequestTotals(metricsText: string): RequestCounts {
  const counts: RequestCounts = new Map();
  for (const line of metricsText.split("\n")) {
    const sample = SAMPLE.exec(line);
    if (sample === null) continue;
    const labels = new Map<string, string>();
    for (const match of (sample[1] ?? "").matchAll(LABEL)) labels.set(match[1] ?? "", match[2] ?? "");
    const value = Number(sample[2]);
    if (!Number.isFinite(value)) continue;
    const key = countKey(
      labels.get("verb") ?? "",
      resourceLabel(labels.get("group") ?? "", labels.get("resource") ?? "", labels.get("subresource") ?? ""),
    );
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  return counts;
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
 * The verb and resource kube-apiserver would record for a client request, from its method, URL and
 * content type: GET becomes GET, LIST or WATCH, a server-side apply PATCH becomes APPLY. Undefined for
 * paths that name no resource (discovery, /version, /healthz).
 */
export function classifyRequest(
  method: string,
  url: string,
  contentType: string | undefined,
): { verb: string; resource: string } | undefined {
  const parsed = new URL(url, "http://localhost");
  const segments = parsed.pathname.split("/").filter((s) => s.length > 0);
  let group: string;
  let rest: string[];
  if (segments[0] === "api" && segments.length >= 3) {
    group = "";
    rest = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    group = segments[1] ?? "";
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  // /namespaces/<ns>/<resource>/... is namespaced; /namespaces and /namespaces/<name>[/status] are the
  // namespaces themselves.
  if (rest[0] === "namespaces" && rest.length >= 3) rest = rest.slice(2);
  const [resource, name, subresource] = rest;
  if (resource === undefined) return undefined;
  const upper = method.toUpperCase();
  let verb = upper;
  if (upper === "GET") {
    const watch = parsed.searchParams.get("watch");
    verb = watch === "true" || watch === "1" ? "WATCH" : name === undefined ? "LIST" : "GET";
  } else if (upper === "PATCH" && contentType?.startsWith("application/apply-patch") === true) {
    verb = "APPLY";
  } else if (upper === "DELETE" && name === undefined) {
    verb = "DELETECOLLECTION";
  }
  return { verb, resource: resourceLabel(group, resource, subresource ?? "") };
}
