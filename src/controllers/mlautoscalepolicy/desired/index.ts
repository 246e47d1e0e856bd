// Everything a policy should own, computed without I/O from the policy and what is known of the cluster.
import type {
  KubernetesObject,
  V1Deployment,
  V1LabelSelector,
  V1PodDisruptionBudget,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import type { Engine, MLAutoscalePolicy } from "../../../api/v1alpha1/index.js";
import type { ScaledObject, TriggerAuthentication } from "../../../keda/types.js";
import { buildDeployment } from "./deployment.js";
import { chooseEngine, type KedaAvailability } from "./engine.js";
import { buildHorizontalPodAutoscaler } from "./hpa.js";
import {
  featuresNotApplied,
  NEWEST_KUBERNETES_FEATURES,
  type KubernetesFeatures,
} from "./kubernetes-features.js";
import { modelLoadSeconds, propagatedLabels, selectorLabels } from "./metadata.js";
import { buildPodDisruptionBudget } from "./pdb.js";
import { buildScaledObject, buildTriggerAuthentication } from "./scaledobject.js";
import { serverHpaNotes } from "./server-metrics.js";

export { chooseEngine, KEDA_ABSENT, KEDA_RUNNING, type KedaAvailability } from "./engine.js";
export {
  isSupportedKubernetes,
  kubernetesFeatures,
  NEWEST_KUBERNETES_FEATURES,
  OLDEST_SUPPORTED_KUBERNETES,
  parseKubernetesVersion,
  type KubernetesFeatures,
  type KubernetesVersion,
} from "./kubernetes-features.js";

/**
 * Whether an HPA's External metrics can be read: only one server can hold external.metrics.k8s.io, and
 * KEDA's serves nothing but its ScaledObjects' metrics.
 */
export type ExternalMetricsApi =
  | { servable: true }
  | {
      servable: false;
      /** True when no server will ever answer (none registered, or KEDA's); false for an outage. */
      permanent: boolean;
      message: string;
    };

export const EXTERNAL_METRICS_SERVABLE: ExternalMetricsApi = { servable: true };

export interface ClusterFacts {
  keda: KedaAvailability;
  /** Who can answer the HPA's External metrics; unknown counts as servable. */
  externalMetrics?: ExternalMetricsApi;
  /** The engine the policy's children use now (its status), so that a KEDA outage starts no hand-over. */
  currentEngine?: Engine;
  /** Pod selector of the targetRef workload; without it (e.g. rendering offline) no PDB is built for it. */
  targetSelector?: V1LabelSelector;
  /** Which of the policy's labels its children get (see propagatedLabels); undefined: all but tracking labels. */
  propagateLabels?: readonly string[];
  /** What the API server's Kubernetes version can take; undefined: everything (the newest version). */
  kubernetes?: KubernetesFeatures;
}

export interface DesiredChildren {
  engine: Engine;
  engineReason: string;
  deployment?: V1Deployment;
  hpa?: V2HorizontalPodAutoscaler;
  scaledObject?: ScaledObject;
  triggerAuthentication?: TriggerAuthentication;
  pdb?: V1PodDisruptionBudget;
  modelLoadSeconds: number;
  /** Values the operator changed to keep the workload safe (reported in status and events). */
  corrections: string[];
  /** Things the result leaves out and why (e.g. the PDB of a target whose selector is unknown). */
  notes: string[];
  /**
   * Parts of the policy the server's Kubernetes version cannot take, left out of the children: each says
   * what applies instead (reported in status and events).
   */
  featuresNotApplied: string[];
  /**
   * Set when the autoscaler cannot work as asked (an HPA External metric no server answers): what is
   * applied is still applied, and the policy reports this reason and message.
   */
  problem?: { reason: "ExternalMetricsUnavailable"; message: string; withheld: boolean };
}

export type DesiredResult =
  | { ok: true; children: DesiredChildren }
  | { ok: false; reason: "KedaNotInstalled" | "KedaNotRunning"; message: string };

/** The children in the order they are applied: workload first, autoscaler next, budget last. */
export function childObjects(children: DesiredChildren): KubernetesObject[] {
  return [
    children.deployment,
    children.triggerAuthentication,
    children.hpa,
    children.scaledObject,
    children.pdb,
  ].filter((o): o is NonNullable<typeof o> => o !== undefined);
}

export function buildDesiredChildren(policyAsWritten: MLAutoscalePolicy, facts: ClusterFacts): DesiredResult {
  // Every builder labels its child from the policy's labels: filter them once, here.
  const policy: MLAutoscalePolicy = {
    ...policyAsWritten,
    metadata: {
      ...policyAsWritten.metadata,
      labels: propagatedLabels(policyAsWritten.metadata.labels, facts.propagateLabels),
    },
  };
  const choice = chooseEngine(policy.spec, facts.keda, facts.currentEngine);
  if (choice.engine === undefined) return { ok: false, reason: choice.reason, message: choice.message };

  const kubernetes = facts.kubernetes ?? NEWEST_KUBERNETES_FEATURES;
  const children: DesiredChildren = {
    engine: choice.engine,
    engineReason: choice.reason,
    modelLoadSeconds: modelLoadSeconds(policy),
    corrections: [],
    notes: [],
    featuresNotApplied: featuresNotApplied(policy, kubernetes),
  };
  const deployment = buildDeployment(policy, kubernetes);
  if (deployment !== undefined) children.deployment = deployment;

  if (choice.engine === "HPA") {
    children.hpa = buildHorizontalPodAutoscaler(policy, kubernetes);
    const external = facts.externalMetrics ?? EXTERNAL_METRICS_SERVABLE;
    const hpaMetrics = children.hpa.spec?.metrics ?? [];
    const externalNames = hpaMetrics.flatMap((m) =>
      m.type === "External" ? [m.external?.metric.name ?? ""] : [],
    );
    if (!external.servable && externalNames.length > 0) {
      // An HPA whose every metric no server will answer would only ever show <unknown>: none is made.
      const hpaWithheld = external.permanent && externalNames.length === hpaMetrics.length;
      if (hpaWithheld) delete children.hpa;
      children.problem = {
        reason: "ExternalMetricsUnavailable",
        withheld: hpaWithheld,
        message:
          `the HPA cannot read its External metric${externalNames.length > 1 ? "s" : ""} ${externalNames.join(", ")}: ` +
          `${external.message}${hpaWithheld ? "; no HorizontalPodAutoscaler is created until one can" : ""}`,
      };
    }
    const metrics = policy.spec.scaling.metrics;
    for (const [field, metric] of [
      ["queueDepth", metrics.queueDepth],
      ["gpuUtilization", metrics.gpuUtilization],
    ] as const) {
      if (metric?.prometheus !== undefined) {
        children.notes.push(
          `scaling.metrics.${field}.prometheus is read by KEDA only; with the HPA, ${metric.metricName} must be ` +
            `served by a metrics adapter (e.g. prometheus-adapter)`,
        );
      }
    }
    children.notes.push(...serverHpaNotes(policy));
  } else {
    children.scaledObject = buildScaledObject(policy, kubernetes);
    const auth = buildTriggerAuthentication(policy);
    if (auth !== undefined) children.triggerAuthentication = auth;
  }

  const podSelector: V1LabelSelector | undefined =
    deployment !== undefined ? { matchLabels: selectorLabels(policy) } : facts.targetSelector;
  if (podSelector !== undefined) {
    const { pdb, corrections } = buildPodDisruptionBudget(policy, podSelector);
    children.pdb = pdb;
    children.corrections.push(...corrections);
  } else {
    children.notes.push(
      `PodDisruptionBudget for ${policy.spec.workload.targetRef?.kind ?? "the target"} ${policy.spec.workload.targetRef?.name ?? ""} is built from its pod selector, read from the cluster`,
    );
  }
  return { ok: true, children };
}
