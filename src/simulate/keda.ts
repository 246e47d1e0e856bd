// KEDA's part of scaling a ScaledObject: the HPA it generates (controllers/keda/hpa.go), the poll
// loop that activates and deactivates the target (pkg/scaling/executor/scale_scaledobjects.go)
// and the metric fallback (pkg/fallback/fallback.go). Pure state machines; no I/O.
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import type { ScaledObject, ScaledObjectTrigger } from "../keda/types.js";
import type { MetricReading } from "./hpa.js";
import { parseQuantity, toMilli } from "./quantity.js";
import { signalForTrigger, type Signal } from "./signals.js";

export const KEDA_DEFAULTS = {
  pollingIntervalSeconds: 30,
  cooldownPeriodSeconds: 300,
  initialCooldownPeriodSeconds: 0,
  minReplicaCount: 0,
  maxReplicaCount: 100,
} as const;

export class ScaledObjectError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "ScaledObjectError";
  }
}

/** Target and activation keys of the scalers that name them differently; the first present wins. */
const TARGET_KEYS = [
  "threshold",
  "value",
  "queueLength",
  "lagThreshold",
  "listLength",
  "messageCount",
  "targetQueueSize",
  "targetValue",
];
const ACTIVATION_KEYS = [
  "activationThreshold",
  "activationValue",
  "activationQueueLength",
  "activationLagThreshold",
  "activationListLength",
  "activationMessageCount",
  "activationTargetQueueSize",
  "activationTargetValue",
];
/** Scaler defaults when the target key is left out. */
const DEFAULT_TARGETS: Record<string, number> = {
  "aws-sqs-queue": 5,
  kafka: 10,
  "apache-kafka": 10,
  rabbitmq: 20,
  "azure-queue": 5,
  redis: 5,
};

export interface TriggerModel {
  index: number;
  type: string;
  /** The external metric name KEDA gives the generated HPA (s<index>-<type>), or the resource name. */
  metricName: string;
  resource?: "cpu" | "memory";
  signal?: Signal;
  /** A Prometheus query that sums over pods reports the total, not the per-pod average. */
  aggregate: "average" | "sum";
  metricType: "AverageValue" | "Value" | "Utilization";
  target: number;
  activation: number;
}

function numberAt(
  metadata: Record<string, string>,
  keys: readonly string[],
  field: string,
): number | undefined {
  for (const key of keys) {
    const raw = metadata[key];
    if (raw === undefined) continue;
    const value = parseQuantity(raw);
    if (value === undefined) throw new ScaledObjectError(`${field}.metadata.${key}`, `not a number: ${raw}`);
    return value;
  }
  return undefined;
}

export function describeTrigger(
  trigger: ScaledObjectTrigger,
  index: number,
  overrides: ReadonlyMap<string, Signal> = new Map(),
): TriggerModel {
  const field = `spec.triggers[${index}]`;
  const metadata = trigger.metadata ?? {};
  if (trigger.type === "cpu" || trigger.type === "memory") {
    const target = numberAt(metadata, ["value"], field);
    if (target === undefined || !(target > 0))
      throw new ScaledObjectError(`${field}.metadata.value`, "must be > 0");
    return {
      index,
      type: trigger.type,
      metricName: trigger.type,
      resource: trigger.type,
      aggregate: "average",
      metricType: trigger.metricType ?? "Utilization",
      target,
      activation: 0,
    };
  }
  const metricName = `s${index}-${trigger.type}`;
  const signal =
    overrides.get(trigger.name ?? "") ??
    overrides.get(metricName) ??
    signalForTrigger(trigger.type, metadata);
  if (!signal) {
    throw new ScaledObjectError(
      `${field}.type`,
      `cannot tell what the ${trigger.type} trigger measures; pass --signal ${trigger.name ?? metricName}=queue|rps|gpu`,
    );
  }
  const target = numberAt(metadata, TARGET_KEYS, field) ?? DEFAULT_TARGETS[trigger.type];
  if (target === undefined || !(target > 0)) {
    throw new ScaledObjectError(`${field}.metadata.threshold`, "a positive target value is required");
  }
  if (trigger.metricType === "Utilization") {
    throw new ScaledObjectError(`${field}.metricType`, "Utilization applies to cpu and memory triggers only");
  }
  return {
    index,
    type: trigger.type,
    metricName,
    signal,
    aggregate: /^\s*sum\s*\(/.test(metadata.query ?? "") ? "sum" : "average",
    metricType: trigger.metricType ?? "AverageValue",
    target,
    activation: numberAt(metadata, ACTIVATION_KEYS, field) ?? 0,
  };
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
  private readonly failures = new Map<string, number>();
  private readonly fallback: ScaledObject["spec"]["fallback"];

  constructor(
    scaledObject: ScaledObject,
    createdAt: number,
    overrides: ReadonlyMap<string, Signal> = new Map(),
  ) {
    const spec = scaledObject.spec;
    if (!spec.triggers || spec.triggers.length === 0)
      throw new ScaledObjectError("spec.triggers", "at least one trigger is required");
    if (spec.advanced?.scalingModifiers?.formula) {
      throw new ScaledObjectError("spec.advanced.scalingModifiers", "composite metrics are not simulated");
    }
    this.pollingIntervalSeconds = spec.pollingInterval ?? KEDA_DEFAULTS.pollingIntervalSeconds;
    if (!Number.isInteger(this.pollingIntervalSeconds) || this.pollingIntervalSeconds < 1) {
      throw new ScaledObjectError("spec.pollingInterval", "must be a whole number of seconds >= 1");
    }
    this.cooldownPeriodSeconds = spec.cooldownPeriod ?? KEDA_DEFAULTS.cooldownPeriodSeconds;
    this.initialCooldownPeriodSeconds =
      spec.initialCooldownPeriod ?? KEDA_DEFAULTS.initialCooldownPeriodSeconds;
    this.minReplicaCount = spec.minReplicaCount ?? KEDA_DEFAULTS.minReplicaCount;
    this.maxReplicaCount = spec.maxReplicaCount ?? KEDA_DEFAULTS.maxReplicaCount;
    this.idleReplicaCount = spec.idleReplicaCount;
    if (this.idleReplicaCount !== undefined && this.idleReplicaCount >= this.minReplicaCount) {
      throw new ScaledObjectError("spec.idleReplicaCount", "must be less than minReplicaCount");
    }
    if (this.minReplicaCount > this.maxReplicaCount) {
      throw new ScaledObjectError("spec.minReplicaCount", "must not exceed maxReplicaCount");
    }
    this.triggers = spec.triggers.map((trigger, index) => describeTrigger(trigger, index, overrides));
    this.hpa = generatedHpa(scaledObject, this.triggers);
    this.createdAt = createdAt;
    this.fallback = spec.fallback;
  }

  get lastActive(): number | undefined {
    return this.lastActiveTime;
  }

  /**
   * One poll: a trigger is active when its value is strictly above its activation threshold;
   * cpu/memory-only objects are always active; `undefined` is a scaler error.
   */
  poll(now: number, currentReplicas: number, values: readonly (number | undefined)[]): PollResult {
    let isActive = false;
    let isError = false;
    let external = 0;
    this.triggers.forEach((trigger, index) => {
      if (trigger.resource) return;
      external++;
      const value = values[index];
      if (value === undefined) isError = true;
      else if (value > trigger.activation) isActive = true;
    });
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
   * past failureThreshold (strictly) the answer becomes target x replicas per fallback.behavior.
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
      this.failures.set(trigger.metricName, 0);
      return { kind: "total", valueMilli: toMilli(value) };
    }
    const failures = (this.failures.get(trigger.metricName) ?? 0) + 1;
    this.failures.set(trigger.metricName, failures);
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
      return { kind: "total", valueMilli: Math.trunc((trigger.target * 1000 * replicas) / readyReplicas) };
    }
    return { kind: "total", valueMilli: Math.trunc(trigger.target * 1000 * replicas) };
  }
}
