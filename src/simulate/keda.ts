// KEDA's part of scaling a ScaledObject: the HPA it generates (controllers/keda/hpa.go), the poll
// loop that activates and deactivates the target (pkg/scaling/executor/scale_scaledobjects.go)
// and the metric fallback (pkg/fallback/fallback.go). Pure state machines; no I/O.
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import type { ScaledObject, ScaledObjectTrigger } from "../keda/types.js";
import type { MetricReading } from "./hpa.js";
import { quantityValue, toMilli } from "../runtime/quantity.js";
import { queryRangeSeconds, signalFromQuery, signalFromText, type Signal } from "./signals.js";
import { SimulationInputError } from "./errors.js";

export const KEDA_DEFAULTS = {
  pollingIntervalSeconds: 30,
  cooldownPeriodSeconds: 300,
  initialCooldownPeriodSeconds: 0,
  minReplicaCount: 0,
  maxReplicaCount: 100,
} as const;

/** How a trigger's value is obtained, which decides how stale it is. */
export type TriggerSource =
  /** A broker or service answers at the moment KEDA asks. */
  | "live"
  /** A Prometheus query: the samples of the last scrape (and the range of a rate()). */
  | "prometheus";

export interface TriggerModel {
  index: number;
  type: string;
  /** The external metric name KEDA gives the generated HPA (s<index>-<type>), or the resource name. */
  metricName: string;
  resource?: "cpu" | "memory" | undefined;
  signal?: Signal | undefined;
  source: TriggerSource;
  /** A Prometheus query that sums over pods reports the total, not the per-pod average. */
  aggregate: "average" | "sum";
  metricType: "AverageValue" | "Value" | "Utilization";
  target: number;
  activation: number;
  /** The scaler counts the messages consumers hold while working on them (unacked, in flight, uncommitted). */
  countsHeld: boolean;
  /** Kafka without allowIdleConsumers: the lag reported is capped at partitions x lagThreshold. */
  capLagAtPartitions: boolean;
  /** RabbitMQ MessageRate: also active while messages wait, whatever the rate. */
  activeOnQueue: boolean;
  /** Prometheus ignoreNullValues: an empty result reads as 0, not as an error. */
  ignoreNullValues: boolean;
  /**
   * The query reads the workload's own pods' series (a pod matcher, or GPU use): with no Ready pod
   * the result is empty. Otherwise its series (an ingress's, a gateway's) exist whatever the replicas.
   */
  seriesFromPods: boolean;
  /** GPU series are averaged per pod before a sum (`sum(avg by (pod) (...))`), not summed per GPU. */
  gpuAveragedPerPod: boolean;
  /** The longest range of the query's rate(), seconds. */
  rangeSeconds?: number | undefined;
  /** useCachedMetrics: the HPA reads the value of KEDA's last poll instead of asking the scaler. */
  useCachedMetrics: boolean;
}

/**
 * The metadata of the scalers the simulator knows (pkg/scalers/*_scaler.go in KEDA v2.20): the key
 * of the target value and its default, the activation key, and whether the scaler counts messages
 * the consumers hold. Queue scalers measure the backlog.
 */
interface ScalerKeys {
  target: string;
  defaultTarget?: number;
  activation: string;
  countsHeld: (metadata: Record<string, string>) => boolean;
}

const always = (): boolean => true;
const never = (): boolean => false;

const QUEUE_SCALERS: Record<string, ScalerKeys> = {
  // ApproximateNumberOfMessages plus ...NotVisible (in flight) unless scaleOnInFlight is false.
  "aws-sqs-queue": {
    target: "queueLength",
    defaultTarget: 5,
    activation: "activationQueueLength",
    countsHeld: (metadata) => metadata.scaleOnInFlight !== "false",
  },
  // Consumer-group lag: a message is counted until its offset is committed.
  kafka: {
    target: "lagThreshold",
    defaultTarget: 10,
    activation: "activationLagThreshold",
    countsHeld: always,
  },
  "apache-kafka": {
    target: "lagThreshold",
    defaultTarget: 10,
    activation: "activationLagThreshold",
    countsHeld: always,
  },
  "nats-jetstream": {
    target: "lagThreshold",
    defaultTarget: 10,
    activation: "activationLagThreshold",
    countsHeld: always,
  },
  // LLEN: a popped item has left the list.
  redis: { target: "listLength", defaultTarget: 5, activation: "activationListLength", countsHeld: never },
  "redis-cluster": {
    target: "listLength",
    defaultTarget: 5,
    activation: "activationListLength",
    countsHeld: never,
  },
  "azure-queue": {
    target: "queueLength",
    defaultTarget: 5,
    activation: "activationQueueLength",
    countsHeld: (metadata) => (metadata.queueLengthStrategy ?? "all").toLowerCase() !== "visibleonly",
  },
  "azure-servicebus": {
    target: "messageCount",
    defaultTarget: 5,
    activation: "activationMessageCount",
    countsHeld: always,
  },
  // num_undelivered_messages: unacknowledged messages included.
  "gcp-pubsub": { target: "value", defaultTarget: 10, activation: "activationValue", countsHeld: always },
};

/** Whether a trigger of this type reads a broker's backlog (messages wait there until consumed). */
export function readsBroker(type: string): boolean {
  return type === "rabbitmq" || Object.hasOwn(QUEUE_SCALERS, type);
}

/** Target keys of scalers the simulator has no table for; exactly one may be present. */
const GENERIC_TARGET_KEYS = [
  "threshold",
  "value",
  "targetValue",
  "queueLength",
  "lagThreshold",
  "listLength",
];

function numberAt(metadata: Record<string, string>, key: string, field: string): number | undefined {
  const raw = metadata[key];
  if (raw === undefined) return undefined;
  const value = quantityValue(raw);
  if (value === undefined) throw new SimulationInputError(`${field}.metadata.${key}`, `not a number: ${raw}`);
  return value;
}

function requirePositive(value: number | undefined, field: string, key: string): number {
  if (value === undefined || !(value > 0)) {
    throw new SimulationInputError(`${field}.metadata.${key}`, "a positive target value is required");
  }
  return value;
}

function unknownSignal(trigger: ScaledObjectTrigger, field: string, metricName: string, why: string): never {
  throw new SimulationInputError(
    `${field}.type`,
    `cannot tell what the ${trigger.type} trigger measures (${why}); pass --signal ${trigger.name ?? metricName}=queue|rps|gpu`,
  );
}

/** RabbitMQ (rabbitmq_scaler.go): QueueLength counts messages, MessageRate the publish rate. */
function rabbitmqTrigger(
  metadata: Record<string, string>,
  field: string,
): Pick<TriggerModel, "signal" | "target" | "activation" | "countsHeld" | "activeOnQueue"> {
  const queueLength = numberAt(metadata, "queueLength", field);
  const value = numberAt(metadata, "value", field);
  let mode = metadata.mode;
  if (queueLength !== undefined && (mode !== undefined || value !== undefined)) {
    throw new SimulationInputError(`${field}.metadata.queueLength`, "is deprecated; use mode and value");
  }
  if (mode === undefined && queueLength === undefined && value === undefined) mode = "QueueLength";
  if (queueLength !== undefined) mode = "QueueLength";
  if (mode === undefined) throw new SimulationInputError(`${field}.metadata.mode`, "must be specified");
  const host = metadata.host ?? "";
  const protocol = metadata.protocol ?? (/^https?:/i.test(host) ? "http" : "amqp");
  const activation = numberAt(metadata, "activationValue", field) ?? 0;
  if (mode === "QueueLength") {
    return {
      signal: "queue",
      target: requirePositive(queueLength ?? value ?? 20, field, "value"),
      activation,
      // Over AMQP the queue's message count is its Ready messages; the management API adds the unacked.
      countsHeld: protocol === "http" && metadata.excludeUnacknowledged !== "true",
      activeOnQueue: false,
    };
  }
  if (mode === "MessageRate") {
    if (protocol === "amqp" && metadata.protocol !== undefined) {
      throw new SimulationInputError(`${field}.metadata.protocol`, "MessageRate needs the http protocol");
    }
    return {
      signal: "rps",
      target: requirePositive(value, field, "value"),
      activation,
      countsHeld: metadata.excludeUnacknowledged !== "true",
      activeOnQueue: true,
    };
  }
  throw new SimulationInputError(
    `${field}.metadata.mode`,
    `${mode} is not simulated (QueueLength and MessageRate are)`,
  );
}

export function describeTrigger(
  trigger: ScaledObjectTrigger,
  index: number,
  overrides: ReadonlyMap<string, Signal> = new Map(),
): TriggerModel {
  const model = describeTriggerFields(trigger, index, overrides);
  // Every field in one order: the simulation's hot loop reads triggers of every kind.
  return {
    index,
    type: trigger.type,
    metricName: model.metricName,
    resource: model.resource,
    signal: model.signal,
    source: model.source,
    aggregate: model.aggregate,
    metricType: model.metricType,
    target: model.target,
    activation: model.activation,
    countsHeld: model.countsHeld,
    capLagAtPartitions: model.capLagAtPartitions,
    activeOnQueue: model.activeOnQueue,
    ignoreNullValues: model.ignoreNullValues,
    seriesFromPods: model.seriesFromPods,
    gpuAveragedPerPod: model.gpuAveragedPerPod,
    rangeSeconds: model.rangeSeconds,
    useCachedMetrics: trigger.useCachedMetrics === true,
  };
}

function describeTriggerFields(
  trigger: ScaledObjectTrigger,
  index: number,
  overrides: ReadonlyMap<string, Signal>,
): TriggerModel {
  const field = `spec.triggers[${index}]`;
  const metadata = trigger.metadata ?? {};
  const base = {
    index,
    type: trigger.type,
    source: "live" as TriggerSource,
    aggregate: "average" as const,
    countsHeld: false,
    capLagAtPartitions: false,
    activeOnQueue: false,
    ignoreNullValues: true,
    seriesFromPods: false,
    gpuAveragedPerPod: false,
    useCachedMetrics: trigger.useCachedMetrics === true,
  };
  if (trigger.type === "cpu" || trigger.type === "memory") {
    const target = requirePositive(numberAt(metadata, "value", field), field, "value");
    return {
      ...base,
      metricName: trigger.type,
      resource: trigger.type,
      metricType: trigger.metricType ?? "Utilization",
      target,
      activation: 0,
    };
  }
  if (trigger.metricType === "Utilization") {
    throw new SimulationInputError(
      `${field}.metricType`,
      "Utilization applies to cpu and memory triggers only",
    );
  }
  const metricName = `s${index}-${trigger.type}`;
  const override = overrides.get(trigger.name ?? "") ?? overrides.get(metricName);
  const metricType = trigger.metricType ?? "AverageValue";

  if (trigger.type === "rabbitmq") {
    const rabbit = rabbitmqTrigger(metadata, field);
    return { ...base, metricName, metricType, ...rabbit, signal: override ?? rabbit.signal };
  }
  const queueScaler = QUEUE_SCALERS[trigger.type];
  if (queueScaler) {
    const target = requirePositive(
      numberAt(metadata, queueScaler.target, field) ?? queueScaler.defaultTarget,
      field,
      queueScaler.target,
    );
    const isKafka = trigger.type === "kafka" || trigger.type === "apache-kafka";
    return {
      ...base,
      metricName,
      metricType,
      signal: override ?? "queue",
      target,
      activation: numberAt(metadata, queueScaler.activation, field) ?? 0,
      countsHeld: queueScaler.countsHeld(metadata),
      capLagAtPartitions:
        isKafka &&
        (metadata.allowIdleConsumers !== "true" ||
          metadata.limitToPartitionsWithLag === "true" ||
          metadata.ensureEvenDistributionOfPartitions === "true"),
    };
  }
  if (trigger.type === "prometheus") {
    const query = metadata.query;
    if (query === undefined) throw new SimulationInputError(`${field}.metadata.query`, "is required");
    const guess = signalFromQuery(query);
    const signal = override ?? guess.signal;
    if (!signal) {
      unknownSignal(
        trigger,
        field,
        metricName,
        guess.ambiguous
          ? `its query reads ${guess.ambiguous.join(" and ")}`
          : "its query names no known metric",
      );
    }
    const rangeSeconds = queryRangeSeconds(query);
    return {
      ...base,
      metricName,
      metricType,
      signal,
      source: "prometheus",
      aggregate: /^\s*sum\s*(\(|by|without)/.test(query) ? "sum" : "average",
      target: requirePositive(numberAt(metadata, "threshold", field), field, "threshold"),
      activation: numberAt(metadata, "activationThreshold", field) ?? 0,
      ignoreNullValues: metadata.ignoreNullValues !== "false",
      seriesFromPods: signal === "gpu" || /\bpod\s*(=~|!~|=|!=)/.test(query),
      gpuAveragedPerPod: /\bavg\s*(by\s*\(\s*pod\s*\)\s*\(|\([^()]*\)\s*by\s*\(\s*pod\s*\))/.test(query),
      ...(rangeSeconds !== undefined && { rangeSeconds }),
    };
  }
  if (trigger.type === "metrics-api") {
    const signal = override ?? signalFromText(metadata.valueLocation ?? "");
    if (!signal) unknownSignal(trigger, field, metricName, "its valueLocation names no known quantity");
    return {
      ...base,
      metricName,
      metricType,
      signal,
      target: requirePositive(numberAt(metadata, "targetValue", field), field, "targetValue"),
      activation: numberAt(metadata, "activationTargetValue", field) ?? 0,
    };
  }
  // A scaler without a table: one target key, and --signal unless its query or metric name says.
  const targetKeys = GENERIC_TARGET_KEYS.filter((key) => metadata[key] !== undefined);
  const targetKey = targetKeys[0];
  if (targetKey === undefined || targetKeys.length > 1) {
    throw new SimulationInputError(
      `${field}.metadata`,
      targetKey === undefined
        ? `the simulator does not know the ${trigger.type} scaler's target; give one of ${GENERIC_TARGET_KEYS.join(", ")}`
        : `the ${trigger.type} scaler's target is ambiguous (${targetKeys.join(", ")})`,
    );
  }
  let signal = override;
  if (!signal) {
    const described = ["query", "metricName", "valueLocation"].filter((key) => metadata[key] !== undefined);
    const guesses = new Set(described.map((key) => signalFromText(metadata[key] ?? "")));
    const [only] = guesses;
    if (guesses.size !== 1 || only === undefined) {
      unknownSignal(
        trigger,
        field,
        metricName,
        described.length === 0 ? "no query or metric name" : "its metadata does not say",
      );
    }
    signal = only;
  }
  const activationKey = `activation${targetKey[0]?.toUpperCase() ?? ""}${targetKey.slice(1)}`;
  return {
    ...base,
    metricName,
    metricType,
    signal,
    target: requirePositive(numberAt(metadata, targetKey, field), field, targetKey),
    activation: numberAt(metadata, activationKey, field) ?? 0,
  };
}

/**
 * The lag the kafka scaler reports (kafka_scaler.go getTotalLag): without allowIdleConsumers it never
 * asks for more consumers than partitions, so the lag is capped at partitions x lagThreshold.
 */
export function kafkaReportedLag(totalLag: number, partitions: number, lagThreshold: number): number {
  return Math.trunc(totalLag / lagThreshold) > partitions ? partitions * lagThreshold : totalLag;
}

/** The HPA KEDA creates for a ScaledObject: keda-hpa-<name>, minReplicas at least 1. */
export function generatedHpa(
  scaledObject: ScaledObject,
  triggers: readonly TriggerModel[],
): V2HorizontalPodAutoscaler {
  const spec = scaledObject.spec;
  const metrics: V2MetricSpec[] = triggers.map((trigger): V2MetricSpec => {
    if (trigger.resource) {
      return {
        type: "Resource",
        resource: {
          name: trigger.resource,
          target:
            trigger.metricType === "Utilization"
              ? { type: "Utilization", averageUtilization: trigger.target }
              : { type: "AverageValue", averageValue: String(trigger.target) },
        },
      };
    }
    const quantity = `${toMilli(trigger.target)}m`;
    return {
      type: "External",
      external: {
        metric: { name: trigger.metricName },
        target:
          trigger.metricType === "Value"
            ? { type: "Value", value: quantity }
            : { type: "AverageValue", averageValue: quantity },
      },
    };
  });
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: {
      name:
        spec.advanced?.horizontalPodAutoscalerConfig?.name ?? `keda-hpa-${scaledObject.metadata.name ?? ""}`,
    },
    spec: {
      scaleTargetRef: {
        apiVersion: "apps/v1",
        kind: spec.scaleTargetRef.kind ?? "Deployment",
        name: spec.scaleTargetRef.name,
      },
      minReplicas: Math.max(spec.minReplicaCount ?? KEDA_DEFAULTS.minReplicaCount, 1),
      maxReplicas: spec.maxReplicaCount ?? KEDA_DEFAULTS.maxReplicaCount,
      metrics,
      behavior: spec.advanced?.horizontalPodAutoscalerConfig?.behavior,
    },
  };
}

export interface PollResult {
  isActive: boolean;
  isError: boolean;
  /** Replicas KEDA writes to the target this poll, if any. */
  scaleTo?: number;
  reason: string;
}

/**
 * One ScaledObject's KEDA-side state: lastActiveTime and the fallback failure counters (kept in
 * status.health by KEDA, per metric).
 */
export class ScaledObjectController {
  readonly pollingIntervalSeconds: number;
  readonly cooldownPeriodSeconds: number;
  readonly initialCooldownPeriodSeconds: number;
  readonly minReplicaCount: number;
  readonly maxReplicaCount: number;
  readonly idleReplicaCount: number | undefined;
  readonly triggers: TriggerModel[];
  readonly hpa: V2HorizontalPodAutoscaler;
  private readonly createdAt: number;
  private lastActiveTime: number | undefined;
  /** Failed requests in a row, by trigger index (KEDA keeps them per metric name in status.health). */
  private readonly failures: number[];
  private readonly fallback: ScaledObject["spec"]["fallback"];
  private readonly total: { kind: "total"; valueMilli: number } = { kind: "total", valueMilli: 0 };

  constructor(
    scaledObject: ScaledObject,
    createdAt: number,
    overrides: ReadonlyMap<string, Signal> = new Map(),
  ) {
    const spec = scaledObject.spec;
    if (!spec.triggers || spec.triggers.length === 0)
      throw new SimulationInputError("spec.triggers", "at least one trigger is required");
    if (spec.advanced?.scalingModifiers?.formula) {
      throw new SimulationInputError("spec.advanced.scalingModifiers", "composite metrics are not simulated");
    }
    this.pollingIntervalSeconds = spec.pollingInterval ?? KEDA_DEFAULTS.pollingIntervalSeconds;
    if (!Number.isInteger(this.pollingIntervalSeconds) || this.pollingIntervalSeconds < 1) {
      throw new SimulationInputError("spec.pollingInterval", "must be a whole number of seconds >= 1");
    }
    this.cooldownPeriodSeconds = spec.cooldownPeriod ?? KEDA_DEFAULTS.cooldownPeriodSeconds;
    this.initialCooldownPeriodSeconds =
      spec.initialCooldownPeriod ?? KEDA_DEFAULTS.initialCooldownPeriodSeconds;
    this.minReplicaCount = spec.minReplicaCount ?? KEDA_DEFAULTS.minReplicaCount;
    this.maxReplicaCount = spec.maxReplicaCount ?? KEDA_DEFAULTS.maxReplicaCount;
    this.idleReplicaCount = spec.idleReplicaCount;
    if (this.idleReplicaCount !== undefined && this.idleReplicaCount >= this.minReplicaCount) {
      throw new SimulationInputError("spec.idleReplicaCount", "must be less than minReplicaCount");
    }
    if (this.minReplicaCount > this.maxReplicaCount) {
      throw new SimulationInputError("spec.minReplicaCount", "must not exceed maxReplicaCount");
    }
    this.triggers = spec.triggers.map((trigger, index) => describeTrigger(trigger, index, overrides));
    this.hpa = generatedHpa(scaledObject, this.triggers);
    this.failures = this.triggers.map(() => 0);
    this.createdAt = createdAt;
    this.fallback = spec.fallback;
  }

  get lastActive(): number | undefined {
    return this.lastActiveTime;
  }

  /**
   * One poll (RequestScale in scale_scaledobjects.go): a trigger is active when its value is strictly
   * above its activation threshold, or when `active` says so (scalers whose activity is not their
   * metric: Kafka's uncapped lag, RabbitMQ MessageRate's waiting messages); cpu/memory-only objects
   * are always active; an `undefined` value is a scaler error.
   */
  poll(
    now: number,
    currentReplicas: number,
    values: readonly (number | undefined)[],
    active?: readonly (boolean | undefined)[],
  ): PollResult {
    let isActive = false;
    let isError = false;
    let external = 0;
    for (let index = 0; index < this.triggers.length; index++) {
      const trigger = this.triggers[index];
      if (!trigger || trigger.resource) continue;
      external++;
      const value = values[index];
      if (value === undefined) isError = true;
      else if (active?.[index] ?? value > trigger.activation) isActive = true;
    }
    if (external === 0) isActive = true;
    const min = this.minReplicaCount;
    const idle = this.idleReplicaCount;
    if (isActive) {
      if ((idle !== undefined && currentReplicas < min) || currentReplicas === 0) {
        this.lastActiveTime = now;
        return { isActive, isError, scaleTo: min > 0 ? min : 1, reason: "activated" };
      }
      // Some triggers active while another errs: KEDA leaves lastActiveTime alone.
      if (isError) return { isActive, isError, reason: "partial trigger error" };
      this.lastActiveTime = now;
      return { isActive, isError, reason: "active" };
    }
    if (isError && this.fallback && this.fallback.replicas !== 0)
      return { isActive, isError, reason: "waiting for fallback" };
    if (isError && !this.fallback) return { isActive, isError, reason: "trigger error" };
    if ((idle !== undefined && currentReplicas > idle) || (currentReplicas > 0 && min === 0)) {
      const cooledDown =
        this.lastActiveTime === undefined
          ? this.createdAt + this.initialCooldownPeriodSeconds < now
          : this.lastActiveTime + this.cooldownPeriodSeconds < now;
      if (!cooledDown) return { isActive, isError, reason: "cooling down" };
      const scaleTo = idle ?? min;
      return {
        isActive,
        isError,
        scaleTo,
        reason: idle !== undefined ? "deactivated to idle" : "deactivated",
      };
    }
    if (currentReplicas < min && idle === undefined)
      return { isActive, isError, scaleTo: min, reason: "below minReplicaCount" };
    return { isActive, isError, reason: "no change" };
  }

  /**
   * What KEDA's metrics server answers the HPA for trigger `index`. Each failed request counts;
   * past failureThreshold (strictly) the answer becomes target x replicas per fallback.behavior. A
   * total is returned in an object the next call reuses.
   */
  externalMetric(
    index: number,
    value: number | undefined,
    currentReplicas: number,
    readyReplicas = currentReplicas,
  ): MetricReading {
    const trigger = this.triggers[index];
    if (!trigger) return { kind: "error", message: `no trigger ${index}` };
    if (value !== undefined) {
      this.failures[index] = 0;
      return this.totalOf(toMilli(value));
    }
    const failures = (this.failures[index] ?? 0) + 1;
    this.failures[index] = failures;
    const fallback = this.fallback;
    if (
      !fallback ||
      fallback.failureThreshold < 0 ||
      fallback.replicas < 0 ||
      failures <= fallback.failureThreshold
    ) {
      return { kind: "error", message: `${trigger.metricName}: scaler error (${failures} in a row)` };
    }
    let replicas = fallback.replicas;
    switch (fallback.behavior ?? "static") {
      case "currentReplicas":
        replicas = currentReplicas;
        break;
      case "currentReplicasIfHigher":
        replicas = Math.max(currentReplicas, fallback.replicas);
        break;
      case "currentReplicasIfLower":
        replicas = Math.min(currentReplicas, fallback.replicas);
        break;
      default:
        break;
    }
    if (trigger.metricType === "Value") {
      // A Value target is compared with the Ready pods' count, so KEDA divides by it first.
      if (readyReplicas <= 0) {
        return { kind: "error", message: `${trigger.metricName}: no ready replicas for the fallback` };
      }
      return this.totalOf(Math.trunc((trigger.target * 1000 * replicas) / readyReplicas));
    }
    return this.totalOf(Math.trunc(trigger.target * 1000 * replicas));
  }

  /** The total answered, in the one object every call reuses: the HPA reads it at once. */
  private totalOf(valueMilli: number): MetricReading {
    const total = this.total;
    total.valueMilli = valueMilli;
    return total;
  }
}
