// The parts of KEDA's v1alpha1 API (keda.sh) that mlautoscale writes and reads.
// Field names follow KEDA's CRDs (github.com/kedacore/keda/v2 config/crd/bases).
import type { V1ObjectMeta, V2HorizontalPodAutoscalerBehavior } from "@kubernetes/client-node";

export const KEDA_GROUP = "keda.sh";
export const KEDA_VERSION = "v1alpha1";
export const KEDA_API_VERSION = `${KEDA_GROUP}/${KEDA_VERSION}`;

/** Lets a new ScaledObject adopt an existing HPA (named in advanced.horizontalPodAutoscalerConfig.name). */
export const TRANSFER_HPA_OWNERSHIP_ANNOTATION = "scaledobject.keda.sh/transfer-hpa-ownership";

export type KedaMetricType = "AverageValue" | "Value" | "Utilization";

export interface ScaledObjectTrigger {
  type: string;
  name?: string;
  metadata: Record<string, string>;
  metricType?: KedaMetricType;
  useCachedMetrics?: boolean;
  authenticationRef?: { name: string; kind?: "TriggerAuthentication" | "ClusterTriggerAuthentication" };
}

export interface ScaledObjectFallback {
  failureThreshold: number;
  replicas: number;
  behavior?: "static" | "currentReplicas" | "currentReplicasIfHigher" | "currentReplicasIfLower";
}

export interface ScaledObjectSpec {
  scaleTargetRef: { apiVersion?: string; kind?: string; name: string; envSourceContainerName?: string };
  pollingInterval?: number;
  cooldownPeriod?: number;
  initialCooldownPeriod?: number;
  idleReplicaCount?: number;
  minReplicaCount?: number;
  maxReplicaCount?: number;
  fallback?: ScaledObjectFallback;
  advanced?: {
    restoreToOriginalReplicaCount?: boolean;
    horizontalPodAutoscalerConfig?: {
      name?: string;
      behavior?: V2HorizontalPodAutoscalerBehavior;
    };
    scalingModifiers?: {
      formula?: string;
      target?: string;
      activationTarget?: string;
      metricType?: KedaMetricType;
    };
  };
  triggers: ScaledObjectTrigger[];
}

export interface KedaCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
}

export interface ScaledObjectStatus {
  conditions?: KedaCondition[];
  hpaName?: string;
  originalReplicaCount?: number;
  lastActiveTime?: string;
  externalMetricNames?: string[];
  health?: Record<string, { numberOfFailures?: number; status?: string }>;
}

export interface ScaledObject {
  apiVersion: typeof KEDA_API_VERSION;
  kind: "ScaledObject";
  metadata: V1ObjectMeta;
  spec: ScaledObjectSpec;
  status?: ScaledObjectStatus;
}

export interface TriggerAuthenticationSpec {
  secretTargetRef?: { parameter: string; name: string; key: string }[];
}

export interface TriggerAuthentication {
  apiVersion: typeof KEDA_API_VERSION;
  kind: "TriggerAuthentication";
  metadata: V1ObjectMeta;
  spec: TriggerAuthenticationSpec;
}
