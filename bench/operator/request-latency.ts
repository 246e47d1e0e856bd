// Pure: where kube-apiserver's time went, from the sums and counts of its latency histograms, so that two
// phases of a benchmark can be compared request kind by request kind (which client sent a request is not
// in these metrics; a kind only one client sends, such as KEDA's ScaledObject status patches, says whose).

import { apiServerRequestKey, sumSamplesBy } from "./request-counts.js";

/** The requests of one kind and the seconds they took in all. */
export interface LatencyTotal {
  count: number;
  seconds: number;
}

/** key -> totals; the key is made of labels of the histogram (see the parsers). */
export type Latencies = Map<string, LatencyTotal>;

/**
 * The _sum and _count samples of `histogram`, summed by the key `keyOf` makes of their labels (the labels
 * it leaves out are summed over).
 */
export function parseHistogramTotals(
  metricsText: string,
  histogram: string,
  keyOf: (labels: ReadonlyMap<string, string>) => string,
): Latencies {
  const sums = sumSamplesBy(metricsText, `${histogram}_sum`, keyOf);
  const counts = sumSamplesBy(metricsText, `${histogram}_count`, keyOf);
  const totals: Latencies = new Map();
  for (const key of new Set([...sums.keys(), ...counts.keys()])) {
    totals.set(key, { count: counts.get(key) ?? 0, seconds: sums.get(key) ?? 0 });
  }
  return totals;
}

/**
 * kube-apiserver's apiserver_request_duration_seconds by verb and resource (named as
 * apiserver_request_total's keys are: "PATCH scaledobjects.keda.sh/status"). Watches are left out: their
 * duration is how long they stayed open.
 */
export function parseApiServerLatencies(metricsText: string): Latencies {
  const latencies = parseHistogramTotals(
    metricsText,
    "apiserver_request_duration_seconds",
    apiServerRequestKey,
  );
  for (const key of [...latencies.keys()]) if (key.startsWith("WATCH ")) latencies.delete(key);
  return latencies;
}

/** The time each admission webhook took (apiserver_admission_webhook_admission_duration_seconds), by name. */
export function parseWebhookLatencies(metricsText: string): Latencies {
  return parseHistogramTotals(
    metricsText,
    "apiserver_admission_webhook_admission_duration_seconds",
    (labels) => labels.get("name") ?? "",
  );
}

/**
 * The time requests waited in API Priority and Fairness's queues before they ran
 * (apiserver_flowcontrol_request_wait_duration_seconds), by priority level.
 */
export function parseFlowControlWaits(metricsText: string): Latencies {
  return parseHistogramTotals(
    metricsText,
    "apiserver_flowcontrol_request_wait_duration_seconds",
    (labels) => labels.get("priority_level") ?? "",
  );
}

/** after - before, per key; kinds with no request in between are left out. */
export function subtractLatencies(after: Latencies, before: Latencies): Latencies {
  const difference: Latencies = new Map();
  for (const [key, total] of after) {
    const earlier = before.get(key) ?? { count: 0, seconds: 0 };
    const count = total.count - earlier.count;
    if (count <= 0) continue;
    difference.set(key, { count, seconds: total.seconds - earlier.seconds });
  }
  return difference;
}

/** One kind of request in a summary: how many, their mean latency, and the seconds they took in all. */
export interface LatencyRow {
  count: number;
  meanMs: number;
  totalSeconds: number;
}

/** The `top` kinds that took the most time in all, most first (ties by key), rounded for a report. */
export function latencySummary(latencies: Latencies, top: number): Record<string, LatencyRow> {
  const rows = [...latencies]
    .sort(([keyA, a], [keyB, b]) => b.seconds - a.seconds || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0))
    .slice(0, top);
  return Object.fromEntries(
    rows.map(([key, { count, seconds }]) => [
      key,
      {
        count,
        meanMs: Math.round((seconds / count) * 10_000) / 10,
        totalSeconds: Math.round(seconds * 10) / 10,
      },
    ]),
  );
}
