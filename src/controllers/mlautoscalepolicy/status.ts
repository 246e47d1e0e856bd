// Pure: the policy's status from what the reconcile did and what it observed of the children.
import type { V1Deployment, V1StatefulSet, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { ConditionType, Reason, type Engine, type PolicyStatus } from "../../api/v1alpha1/index.js";
import type { ScaledObject } from "../../keda/types.js";
import { metaTime, type DeepReadonly } from "../../runtime/object.js";

export type Condition = NonNullable<PolicyStatus["conditions"]>[number];
export type ConditionStatus = Condition["status"];

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Sets a condition like apimachinery's meta.SetStatusCondition: lastTransitionTime changes only when
 * the status flips; reason, message and observedGeneration follow the latest call. Returns a new list
 * sorted by type.
 */
export function setCondition(
  existing: readonly DeepReadonly<Condition>[] | undefined,
  input: ConditionInput,
  observedGeneration: number | undefined,
  now: string,
): Condition[] {
  const previous = existing?.find((c) => c.type === input.type);
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    lastTransitionTime:
      previous !== undefined && previous.status === input.status ? previous.lastTransitionTime : now,
  };
  if (observedGeneration !== undefined) next.observedGeneration = observedGeneration;
  const others = (existing ?? []).filter((c) => c.type !== input.type).map((c) => ({ ...c }));
  return [...others, next].sort((a, b) => a.type.localeCompare(b.type));
}

/** What the reconcile concluded, before looking at the children's status. */
export type ReconcileVerdict =
  | {
      kind: "applied";
      engine: Engine;
      corrections: string[];
      /** Set when another PDB already covers the workload's pods, so the policy made none: which. */
      pdbOverlap?: string;
      /** Set when another field manager writes the targetRef workload's replicas: who, and what to do. */
      replicasWrittenElsewhere?: string;
      /** Parts of the policy the cluster's Kubernetes version cannot take, and what applies instead. */
      featuresNotApplied?: string[];
      children: ObservedChildren["children"];
      /**
       * What was applied is in place, but the autoscaler cannot work as asked: ScalingActive says so,
       * and Reconciled too when part of the policy was left out (`withheld`).
       */
      problem?: { reason: string; message: string; withheld: boolean };
    }
  | { kind: "failed"; reason: string; message: string; engine?: Engine };

export interface ObservedChildren {
  workload?: DeepReadonly<V1Deployment> | DeepReadonly<V1StatefulSet>;
  /** The HPA doing the scaling: the policy's own, or the one KEDA manages for its ScaledObject. */
  hpa?: DeepReadonly<V2HorizontalPodAutoscaler>;
  scaledObject?: DeepReadonly<ScaledObject>;
  /** Set while KEDA's CRDs are served but KEDA is not running: why. Its ScaledObject's status is stale. */
  kedaNotRunning?: string;
  children: { apiVersion: string; kind: string; name: string }[];
}

export interface StatusInput {
  generation: number | undefined;
  previous: DeepReadonly<PolicyStatus> | undefined;
  verdict: ReconcileVerdict;
  observed: ObservedChildren;
  minReplicas: number;
  now: string;
}

function workloadAvailability(
  workload: ObservedChildren["workload"],
  minReplicas: number,
): { status: ConditionStatus; reason: string; message: string } {
  if (workload === undefined) {
    return { status: "False", reason: Reason.Progressing, message: "the workload does not exist yet" };
  }
  const spec = workload.spec?.replicas ?? 1;
  const ready = workload.status?.readyReplicas ?? 0;
  const kind = workload.kind ?? "workload";
  const name = workload.metadata?.name ?? "";
  if (spec === 0) {
    return minReplicas === 0
      ? {
          status: "True",
          reason: Reason.ScaledToZero,
          message: `${kind} ${name} is scaled to zero, waiting for work`,
        }
      : { status: "False", reason: Reason.Progressing, message: `${kind} ${name} has 0 replicas` };
  }
  const available =
    "availableReplicas" in (workload.status ?? {})
      ? ((workload.status as { availableReplicas?: number }).availableReplicas ?? 0)
      : ready;
  // Ready means the workload serves at least its floor: replicas.min (1 for a scale-to-zero workload
  // that has woken up). A policy at min 3 with one replica up is still Progressing.
  const required = Math.max(1, minReplicas);
  if (available >= required) {
    return {
      status: "True",
      reason: Reason.Available,
      message: `${kind} ${name}: ${ready}/${spec} replicas ready`,
    };
  }
  return {
    status: "False",
    reason: Reason.Progressing,
    message: `${kind} ${name}: ${available}/${spec} replicas available, ${required} needed (a model may still be loading)`,
  };
}

/**
 * The triggers KEDA reports failing, by name: its status.health is keyed by metric name, s<index>-<...>,
 * where the index is the trigger's position in the ScaledObject.
 */
function failingTriggers(scaledObject: DeepReadonly<ScaledObject> | undefined): string {
  const triggers = scaledObject?.spec.triggers ?? [];
  const describe = (index: number, metric?: string): string => {
    const trigger = triggers[index];
    if (trigger === undefined) return metric ?? `trigger ${index}`;
    return `${trigger.name ?? trigger.type} (${trigger.type}${metric === undefined ? "" : `, metric ${metric}`})`;
  };
  const failing = Object.entries(scaledObject?.status?.health ?? {}).filter(
    ([, h]) => h.status === "Failing",
  );
  if (failing.length > 0) {
    const described = failing.map(([metric, health]) => {
      const index = /^s(\d+)-/.exec(metric)?.[1];
      const name = index === undefined ? metric : describe(Number(index), metric);
      return `${name}: ${health.numberOfFailures ?? "?"} failures`;
    });
    return `; failing: ${described.join(", ")}`;
  }
  // KEDA keeps per-trigger health only with a fallback; otherwise name the triggers that can fail (cpu and
  // memory are read by the HPA, not polled by KEDA).
  const polled = triggers.flatMap((t, i) => (t.type === "cpu" || t.type === "memory" ? [] : [describe(i)]));
  return polled.length === 0
    ? ""
    : `; ${polled.length === 1 ? "its trigger" : "one of its triggers"}: ${polled.join(", ")}`;
}

/** ScalingActive mirrored from the autoscaler: a metric that cannot be read is reported, never taken as 0. */
function scalingActive(verdict: ReconcileVerdict, observed: ObservedChildren): ConditionInput {
  const type = ConditionType.ScalingActive;
  if (verdict.kind === "failed") {
    return { type, status: "Unknown", reason: Reason.NotReconciled, message: verdict.message };
  }
  if (verdict.problem !== undefined) {
    return { type, status: "False", reason: verdict.problem.reason, message: verdict.problem.message };
  }
  if (verdict.engine === "KEDA") {
    if (observed.kedaNotRunning !== undefined) {
      return {
        type,
        status: "False",
        reason: Reason.KedaNotRunning,
        message: `KEDA is not running, so nothing polls the triggers or scales from zero: ${observed.kedaNotRunning}`,
      };
    }
    const conditions = observed.scaledObject?.status?.conditions ?? [];
    const ready = conditions.find((c) => c.type === "Ready");
    const fallback = conditions.find((c) => c.type === "Fallback");
    if (fallback?.status === "True") {
      return {
        type,
        status: "False",
        reason: Reason.MetricsUnavailable,
        message: `KEDA fallback is active: ${fallback.message ?? "a scaler keeps failing"}${failingTriggers(observed.scaledObject)}`,
      };
    }
    if (ready === undefined || ready.status === "Unknown") {
      return {
        type,
        status: "Unknown",
        reason: Reason.AutoscalerPending,
        message: "KEDA has not reported on the ScaledObject yet",
      };
    }
    if (ready.status === "False") {
      return {
        type,
        status: "False",
        reason: Reason.MetricsUnavailable,
        message: `ScaledObject not ready: ${`${ready.reason ?? ""} ${ready.message ?? ""}`.trim()}${failingTriggers(observed.scaledObject)}`,
      };
    }
    const active = conditions.find((c) => c.type === "Active");
    return {
      type,
      status: "True",
      reason: active?.status === "True" ? "Active" : "Idle",
      message: active?.message ?? "KEDA is scaling the workload",
    };
  }
  const hpaCondition = observed.hpa?.status?.conditions?.find((c) => c.type === "ScalingActive");
  if (hpaCondition === undefined) {
    return {
      type,
      status: "Unknown",
      reason: Reason.AutoscalerPending,
      message: "the HorizontalPodAutoscaler has not computed a scale yet",
    };
  }
  const status: ConditionStatus =
    hpaCondition.status === "True" ? "True" : hpaCondition.status === "False" ? "False" : "Unknown";
  return {
    type,
    status,
    // The HPA's own reasons (ValidMetricFound, FailedGetResourceMetric, ScalingDisabled...) say the most.
    reason: hpaCondition.reason ?? (status === "True" ? "ValidMetricFound" : Reason.MetricsUnavailable),
    message: hpaCondition.message ?? "",
  };
}

/**
 * Reconciled: False with the failure's reason, or True with the reason of the first thing worth knowing
 * (another PDB covers the pods, another manager writes the replicas, the PDB was corrected, the cluster's
 * Kubernetes version cannot take part of the policy), every such thing in the message.
 */
function reconciledCondition(verdict: ReconcileVerdict): ConditionInput {
  const type = ConditionType.Reconciled;
  if (verdict.kind === "failed") {
    return { type, status: "False", reason: verdict.reason, message: verdict.message };
  }
  if (verdict.problem?.withheld === true) {
    return { type, status: "False", reason: verdict.problem.reason, message: verdict.problem.message };
  }
  const notes: { reason: string; message: string }[] = [
    ...(verdict.pdbOverlap === undefined
      ? []
      : [{ reason: Reason.DisruptionBudgetOverlap, message: verdict.pdbOverlap }]),
    ...(verdict.replicasWrittenElsewhere === undefined
      ? []
      : [{ reason: Reason.ReplicasWrittenElsewhere, message: verdict.replicasWrittenElsewhere }]),
    ...verdict.corrections.map((message) => ({ reason: Reason.DisruptionBudgetCorrected, message })),
    ...(verdict.featuresNotApplied ?? []).map((message) => ({ reason: Reason.FeatureUnavailable, message })),
  ];
  const first = notes[0];
  if (first === undefined) {
    return {
      type,
      status: "True",
      reason: Reason.ReconcileSucceeded,
      message: `children applied with the ${verdict.engine} engine`,
    };
  }
  return { type, status: "True", reason: first.reason, message: notes.map((n) => n.message).join("; ") };
}

export function computeStatus(input: StatusInput): PolicyStatus {
  const { verdict, observed, generation, previous, now } = input;
  let conditions: Condition[] | undefined = previous?.conditions?.map((c) => ({ ...c }));

  const reconciled = reconciledCondition(verdict);
  conditions = setCondition(conditions, reconciled, generation, now);

  const availability = workloadAvailability(observed.workload, input.minReplicas);
  const ready: ConditionInput =
    verdict.kind === "failed"
      ? {
          type: ConditionType.Ready,
          status: "False",
          reason: Reason.NotReconciled,
          message: `${verdict.reason}: ${verdict.message}`,
        }
      : { type: ConditionType.Ready, ...availability };
  conditions = setCondition(conditions, ready, generation, now);
  conditions = setCondition(conditions, scalingActive(verdict, observed), generation, now);

  const status: PolicyStatus = { conditions };
  if (generation !== undefined) status.observedGeneration = generation;
  const engine = verdict.engine ?? previous?.engine;
  if (engine !== undefined) status.engine = engine;
  const workloadStatus = observed.workload?.status;
  if (observed.workload !== undefined) {
    status.replicas = workloadStatus?.replicas ?? 0;
    status.readyReplicas = workloadStatus?.readyReplicas ?? 0;
  }
  const hpaStatus = observed.hpa?.status;
  if (hpaStatus?.desiredReplicas !== undefined) status.desiredReplicas = hpaStatus.desiredReplicas;
  const lastScaleTime: unknown = hpaStatus?.lastScaleTime;
  // The cache holds the API server's JSON (a string); client-node's type says Date.
  if (typeof lastScaleTime === "string") status.lastScaleTime = lastScaleTime;
  else if (lastScaleTime instanceof Date) status.lastScaleTime = metaTime(lastScaleTime);
  // After a successful apply the children are those just applied (the cache may not have seen them yet).
  const children = verdict.kind === "applied" ? verdict.children : observed.children;
  status.children = children.map((c) => ({ ...c }));
  return status;
}
