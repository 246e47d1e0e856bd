// The engine table (engines.ts) compiled to PromQL: one query per signal over a workload's pods for KEDA's
// prometheus triggers, and the prometheus-adapter rules that serve the same signals per pod to the HPA.
// Every name an engine has used for a signal is read at once (`or`), so a server of any release answers.
import { ENGINES, type SeriesRef, type ServerEngine, type ServerTargets, type UsageForm } from "./engines.js";

export const SERVER_SIGNALS = ["waiting", "running", "kvCache"] as const;
export type ServerSignal = (typeof SERVER_SIGNALS)[number];

/** Per signal: the policy's target field, the KEDA trigger the operator names after it, its HPA metric. */
export const SIGNAL_NAMES: Readonly<
  Record<ServerSignal, { target: keyof ServerTargets; trigger: string; adapterSuffix: string }>
> = {
  waiting: {
    target: "waitingRequestsPerReplica",
    trigger: "waiting-requests",
    adapterSuffix: "requests_waiting",
  },
  running: {
    target: "runningRequestsPerReplica",
    trigger: "running-requests",
    adapterSuffix: "requests_running",
  },
  kvCache: {
    target: "kvCacheUtilization",
    trigger: "kv-cache-utilization",
    adapterSuffix: "kv_cache_utilization",
  },
};

/** The KEDA trigger the operator makes of scaling.metrics.server.activation. */
export const ACTIVATION_TRIGGER = "activation";

/** Names of the triggers the operator generates from scaling.metrics.server. */
export const SERVER_TRIGGER_NAMES: readonly string[] = [
  ...SERVER_SIGNALS.map((signal) => SIGNAL_NAMES[signal].trigger),
  ACTIVATION_TRIGGER,
];

/** The prometheus-adapter template variables for the pods and namespace an HPA asks about. */
export const ADAPTER_LABEL_MATCHERS = "<<.LabelMatchers>>";
export const ADAPTER_GROUP_BY = "<<.GroupBy>>";

/** The name under which the metrics adapter serves an engine's signal: the HPA's Pods metric. */
export function hpaMetricName(engine: ServerEngine, signal: ServerSignal): string {
  return `${ENGINES[engine].adapterPrefix}_${SIGNAL_NAMES[signal].adapterSuffix}`;
}

/** A PromQL string literal: JSON's escapes are a subset of the Go escapes PromQL reads. */
export function promqlString(value: string): string {
  return JSON.stringify(value);
}

function fixedLabels(ref: SeriesRef): string[] {
  return Object.entries(ref.labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, value]) => `${label}=${promqlString(value)}`);
}

/** `name{fixed labels,matchers}`: the series' own labels first, then the caller's matchers. */
function selector(ref: SeriesRef, matchers: string): string {
  const all = [...fixedLabels(ref), ...(matchers === "" ? [] : [matchers])];
  return all.length === 0 ? ref.name : `${ref.name}{${all.join(",")}}`;
}

/**
 * Series of one form with the labels that pick it out of its family removed, so that the forms of one
 * signal carry the same labels and `or` keeps one per server.
 */
function withoutFixedLabels(ref: SeriesRef, matchers: string, alone: boolean): string {
  const names = Object.keys(ref.labels ?? {}).sort();
  return alone || names.length === 0
    ? selector(ref, matchers)
    : `max without (${names.join(", ")}) (${selector(ref, matchers)})`;
}

function usageForm(form: UsageForm, matchers: string, alone: boolean): string {
  if ("gauge" in form) return withoutFixedLabels(form.gauge, matchers, alone);
  const ignored = [
    ...new Set([...Object.keys(form.used.labels ?? {}), ...Object.keys(form.capacity.labels ?? {})]),
  ];
  const matching = ignored.length > 0 ? ` / ignoring (${ignored.sort().join(", ")}) ` : " / ";
  const ratio = `${selector(form.used, matchers)}${matching}${selector(form.capacity, matchers)}`;
  return alone ? ratio : `(${ratio})`;
}

/** The signal's series, one per server (or data-parallel engine), labels as the server's, values as read. */
function seriesExpression(engine: ServerEngine, signal: ServerSignal, matchers: string): string {
  const table = ENGINES[engine];
  const forms =
    signal === "kvCache"
      ? table.kvCache.map((form) => usageForm(form, matchers, table.kvCache.length === 1))
      : table[signal].map((ref) => withoutFixedLabels(ref, matchers, table[signal].length === 1));
  const combined = forms.join(" or ");
  return table.replicaLabels.length === 0
    ? combined
    : `max without (${table.replicaLabels.join(", ")}) (${combined})`;
}

/**
 * One value per pod, grouped by `groupBy`: the requests of its engines added up, or the mean KV-cache use
 * of its engines in percent.
 */
export function perPodQuery(
  engine: ServerEngine,
  signal: ServerSignal,
  matchers: string,
  groupBy: string,
): string {
  const series = seriesExpression(engine, signal, matchers);
  return signal === "kvCache" ? `100 * avg by (${groupBy}) (${series})` : `sum by (${groupBy}) (${series})`;
}

/**
 * The total over the workload's pods, for a KEDA prometheus trigger whose threshold is per replica: KEDA's
 * HPA then wants ceil(total / target) replicas, as the HPA does for an average of per-pod values.
 */
export function workloadQuery(engine: ServerEngine, signal: ServerSignal, matchers: string): string {
  return signal === "kvCache"
    ? `sum(${perPodQuery(engine, signal, matchers, "namespace, pod")})`
    : `sum(${seriesExpression(engine, signal, matchers)})`;
}

/** Every series name a signal of an engine is read from. */
export function seriesNames(engine: ServerEngine, signal: ServerSignal): string[] {
  const table = ENGINES[engine];
  const refs =
    signal === "kvCache"
      ? table.kvCache.flatMap((form) => ("gauge" in form ? [form.gauge] : [form.used, form.capacity]))
      : table[signal];
  return [...new Set(refs.map((ref) => ref.name))];
}

const SERVER_SERIES = new Set(
  (Object.keys(ENGINES) as ServerEngine[]).flatMap((engine) =>
    SERVER_SIGNALS.flatMap((signal) => seriesNames(engine, signal)),
  ),
);

/** Whether a metric name is one of the engine table's series. */
export function isServerSeries(name: string): boolean {
  return SERVER_SERIES.has(name);
}

/** A prometheus-adapter rule (custom.metrics.k8s.io) as its configuration file writes it. */
export interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

/** The rule that serves one signal of one engine as a Pods metric named hpaMetricName(engine, signal). */
export function adapterRule(engine: ServerEngine, signal: ServerSignal): AdapterRule {
  const names = seriesNames(engine, signal);
  return {
    seriesQuery: `{__name__=~"${names.join("|")}",namespace!="",pod!=""}`,
    resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
    name: { matches: `^(${names.join("|")})$`, as: hpaMetricName(engine, signal) },
    metricsQuery: perPodQuery(engine, signal, ADAPTER_LABEL_MATCHERS, ADAPTER_GROUP_BY),
  };
}

/** The rules for every engine and signal: what a cluster's prometheus-adapter needs for `server` metrics. */
export function adapterRules(): AdapterRule[] {
  return (Object.keys(ENGINES) as ServerEngine[]).flatMap((engine) =>
    SERVER_SIGNALS.map((signal) => adapterRule(engine, signal)),
  );
}

/**
 * Which server signal a query or metric name reads: a query compiled from the table names its series
 * (with the labels that pick them out first), an HPA names the adapter's metric.
 */
export function serverSignalOf(text: string): ServerSignal | undefined {
  for (const engine of Object.keys(ENGINES) as ServerEngine[]) {
    for (const signal of SERVER_SIGNALS) {
      if (text === hpaMetricName(engine, signal)) return signal;
      const table = ENGINES[engine];
      const refs =
        signal === "kvCache"
          ? table.kvCache.flatMap((form) => ("gauge" in form ? [form.gauge] : [form.used]))
          : table[signal];
      for (const ref of refs) {
        const fixed = fixedLabels(ref);
        const head = fixed.length === 0 ? ref.name : `${ref.name}{${fixed.join(",")}`;
        if (new RegExp(`(^|[^a-zA-Z0-9_:])${escapeRegExp(head)}($|[^a-zA-Z0-9_:])`).test(text)) return signal;
      }
    }
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
