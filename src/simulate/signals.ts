// Which simulated quantity a metric or trigger measures. Metric names and trigger types are free
// text, so the mapping is by convention; `--signal name=kind` overrides it.

export type Signal = "queue" | "rps" | "gpu";

export const SIGNALS: readonly Signal[] = ["queue", "rps", "gpu"];

const QUEUE_TRIGGER_TYPES = new Set([
  "rabbitmq",
  "aws-sqs-queue",
  "kafka",
  "apache-kafka",
  "azure-queue",
  "azure-servicebus",
  "azure-eventhub",
  "gcp-pubsub",
  "redis",
  "redis-cluster",
  "redis-streams",
  "nats-jetstream",
  "stan",
  "activemq",
  "artemis-queue",
  "ibmmq",
  "beanstalkd",
  "postgresql",
  "mysql",
]);

/** Guess from a metric name or a Prometheus query. */
export function signalFromText(text: string): Signal | undefined {
  const lower = text.toLowerCase();
  if (/gpu|dcgm/.test(lower)) return "gpu";
  if (/queue|backlog|pending|waiting|lag|messages|inflight|in_flight/.test(lower)) return "queue";
  if (/request|rps|qps|throughput|http_/.test(lower)) return "rps";
  return undefined;
}

/** Brokers and lag-based scalers measure the backlog; prometheus and friends say so in their query. */
export function signalForTrigger(type: string, metadata: Record<string, string>): Signal | undefined {
  if (QUEUE_TRIGGER_TYPES.has(type)) return "queue";
  const text = metadata.query ?? metadata.metricName ?? metadata.valueLocation ?? "";
  return signalFromText(text);
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
