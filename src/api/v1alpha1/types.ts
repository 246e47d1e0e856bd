import { z } from "zod";
import { MLAutoscalePolicySpec, MLAutoscalePolicyStatus } from "./schema.js";

export const GROUP = "mlautoscale.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "MLAutoscalePolicy";
export const PLURAL = "mlautoscalepolicies";
export const SINGULAR = "mlautoscalepolicy";
export const SHORT_NAMES = ["mlap"];
export const CATEGORIES = ["ml"];

/** Longest policy name: it becomes a label value (63) and KEDA prefixes its HPA with "keda-hpa-". */
export const MAX_NAME_LENGTH = 63;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const PolicyMetadata = z.looseObject({
  name: z
    .string()
    .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
    .regex(NAME, "must be a DNS label: lower-case letters, digits and '-'"),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** A whole MLAutoscalePolicy object as read from a file or the API server. */
export const MLAutoscalePolicySchema = z.strictObject({
  apiVersion: z.literal(API_VERSION, { error: `must be ${API_VERSION}` }),
  kind: z.literal(KIND, { error: `must be ${KIND}` }),
  metadata: PolicyMetadata,
  spec: MLAutoscalePolicySpec,
  status: MLAutoscalePolicyStatus.optional(),
});

export type MLAutoscalePolicy = z.output<typeof MLAutoscalePolicySchema>;
export type MLAutoscalePolicyInput = z.input<typeof MLAutoscalePolicySchema>;
export type PolicySpec = z.output<typeof MLAutoscalePolicySpec>;
export type PolicyStatus = z.output<typeof MLAutoscalePolicyStatus>;
export type WorkloadTemplate = NonNullable<PolicySpec["workload"]["template"]>;
export type Trigger = NonNullable<PolicySpec["scaling"]["triggers"]>[number];
export type ScalingRules = NonNullable<PolicySpec["scaling"]["behavior"]["scaleUp"]>;

export type Engine = "HPA" | "KEDA";

export const ConditionType = {
  Ready: "Ready",
  Reconciled: "Reconciled",
  ScalingActive: "ScalingActive",
} as const;

/** Reasons the operator sets on its conditions. */
export const Reason = {
  // Reconciled
  ReconcileSucceeded: "ReconcileSucceeded",
  InvalidSpec: "InvalidSpec",
  ApplyFailed: "ApplyFailed",
  /** The API server or an admission webhook refused a child: terminal until the policy or cluster changes. */
  ApplyRefused: "ApplyRefused",
  KedaNotInstalled: "KedaNotInstalled",
  /** KEDA's CRDs are served but KEDA is not running (no Available metrics server of KEDA's). */
  KedaNotRunning: "KedaNotRunning",
  TargetNotFound: "TargetNotFound",
  /**
   * The policy names a trigger endpoint outside the operator's allow-list (--allowed-trigger-endpoints):
   * nothing is applied for it, since KEDA would send the trigger's credentials there.
   */
  EndpointNotAllowed: "EndpointNotAllowed",
  Conflict: "Conflict",
  Paused: "Paused",
  // Ready
  Available: "Available",
  Progressing: "Progressing",
  NotReconciled: "NotReconciled",
  DisruptionBudgetCorrected: "DisruptionBudgetCorrected",
  /** Another PDB already selects the workload's pods: the policy creates none (a second would block drains). */
  DisruptionBudgetOverlap: "DisruptionBudgetOverlap",
  /**
   * Another field manager (a GitOps tool, `kubectl apply` or `kubectl scale`) writes the targetRef
   * workload's spec.replicas too: it and the autoscaler will fight over the count.
   */
  ReplicasWrittenElsewhere: "ReplicasWrittenElsewhere",
  /**
   * The cluster's Kubernetes version cannot take part of the policy (an HPA tolerance before 1.35): that part
   * is left out, and the message says what applies instead.
   */
  FeatureUnavailable: "FeatureUnavailable",
  ScaledToZero: "ScaledToZero",
  // ScalingActive
  MetricsUnavailable: "MetricsUnavailable",
  /** An HPA External metric that no server answers (none registered, or KEDA holds the API). */
  ExternalMetricsUnavailable: "ExternalMetricsUnavailable",
  AutoscalerPending: "AutoscalerPending",
} as const;
