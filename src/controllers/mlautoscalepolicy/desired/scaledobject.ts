// The KEDA ScaledObject (and its TriggerAuthentication) for the KEDA engine.
import type { MLAutoscalePolicy, PolicySpec, Trigger } from "../../../api/v1alpha1/index.js";
import {
  KEDA_API_VERSION,
  TRANSFER_HPA_OWNERSHIP_ANNOTATION,
  type ScaledObject,
  type ScaledObjectSpec,
  type ScaledObjectTrigger,
  type TriggerAuthentication,
} from "../../../keda/types.js";
import { WELL_KNOWN_TRIGGER_KEYS } from "../../../api/v1alpha1/index.js";
import { buildBehavior } from "./behavior.js";
import { NEWEST_KUBERNETES_FEATURES, type KubernetesFeatures } from "./kubernetes-features.js";
import { childMetadata, compareStrings, modelLoadSeconds, scaleTarget, sortKeys } from "./metadata.js";
import { serverTriggerSpecs } from "./server-metrics.js";

export const KEDA_DEFAULT_POLLING_SECONDS = 30;
export const KEDA_DEFAULT_COOLDOWN_SECONDS = 300;

/** The label by which KEDA's metrics server finds a ScaledObject (KEDA's scaledobject_controller.go). */
const KEDA_SCALED_OBJECT_NAME_LABEL = "scaledobject.keda.sh/name";

/** Number as KEDA metadata wants it: a plain decimal string. */
const metadataNumber = (value: number | string): string => String(value);

/** PromQL over the workload's pods, for metrics given without a query. */
export function defaultPodQuery(
  policy: MLAutoscalePolicy,
  metricName: string,
  perPod: "sum" | "avg",
): string {
  const namespace = policy.metadata.namespace ?? "default";
  const selector = `{namespace="${namespace}",pod=~"${scaleTarget(policy).name}-.*"}`;
  // GPU metrics come one series per GPU: average per pod first, so a 2-GPU pod counts once.
  return perPod === "avg" ? `sum(avg by (pod) (${metricName}${selector}))` : `sum(${metricName}${selector})`;
}

function userTrigger(
  trigger: Trigger,
  index: number,
  defaultActivation: number | undefined,
  authenticationName: string | undefined,
): ScaledObjectTrigger {
  const metadata: Record<string, string> = { ...trigger.metadata };
  const keys = WELL_KNOWN_TRIGGER_KEYS[trigger.type];
  const activation = trigger.activationValue ?? defaultActivation;
  if (activation !== undefined && keys !== undefined) metadata[keys.activation] = metadataNumber(activation);
  const out: ScaledObjectTrigger = {
    type: trigger.type,
    name: trigger.name ?? `${trigger.type}-${index}`,
    metadata: sortKeys(metadata),
  };
  if (trigger.metricType !== undefined) out.metricType = trigger.metricType;
  if (authenticationName !== undefined) out.authenticationRef = { name: authenticationName };
  return out;
}

function prometheusTrigger(
  name: string,
  serverAddress: string,
  query: string,
  threshold: number | string,
  activation: number | undefined,
): ScaledObjectTrigger {
  const metadata: Record<string, string> = { serverAddress, query, threshold: metadataNumber(threshold) };
  if (activation !== undefined) metadata["activationThreshold"] = metadataNumber(activation);
  return { type: "prometheus", name, metadata: sortKeys(metadata) };
}

export function authenticationName(policy: MLAutoscalePolicy): string | undefined {
  const auth = policy.spec.authentication;
  if (auth === undefined) return undefined;
  return auth.triggerAuthenticationRef ?? policy.metadata.name;
}

export function buildTriggers(policy: MLAutoscalePolicy): ScaledObjectTrigger[] {
  const spec: PolicySpec = policy.spec;
  const defaultActivation = spec.scaling.scaleToZero?.activationValue;
  const auth = authenticationName(policy);
  const triggers = (spec.scaling.triggers ?? []).map((t, i) => userTrigger(t, i, defaultActivation, auth));
  const m = spec.scaling.metrics;
  if (m.queueDepth?.prometheus !== undefined) {
    const query = m.queueDepth.prometheus.query ?? defaultPodQuery(policy, m.queueDepth.metricName, "sum");
    triggers.push(
      prometheusTrigger(
        "queue-depth",
        m.queueDepth.prometheus.serverAddress,
        query,
        m.queueDepth.targetAverageValue,
        defaultActivation,
      ),
    );
  }
  if (m.gpuUtilization?.prometheus !== undefined) {
    const query =
      m.gpuUtilization.prometheus.query ?? defaultPodQuery(policy, m.gpuUtilization.metricName, "avg");
    triggers.push(
      prometheusTrigger(
        "gpu-utilization",
        m.gpuUtilization.prometheus.serverAddress,
        query,
        m.gpuUtilization.targetUtilization,
        defaultActivation,
      ),
    );
  }
  for (const t of serverTriggerSpecs(policy)) {
    triggers.push(
      prometheusTrigger(t.name, t.serverAddress, t.query, t.threshold, t.activation ?? defaultActivation),
    );
  }
  for (const resource of ["cpu", "memory"] as const) {
    const target = m[resource];
    if (target !== undefined) {
      triggers.push({
        type: resource,
        name: resource,
        metricType: "Utilization",
        metadata: { value: metadataNumber(target.targetUtilization) },
      });
    }
  }
  return triggers;
}

/** The ScaledObject; its behavior goes to the HPA KEDA makes, so it follows the server's features too. */
export function buildScaledObject(
  policy: MLAutoscalePolicy,
  features: KubernetesFeatures = NEWEST_KUBERNETES_FEATURES,
): ScaledObject {
  const spec = policy.spec;
  const scaleToZero = spec.replicas.min === 0;
  const soSpec: ScaledObjectSpec = {
    scaleTargetRef: scaleTarget(policy),
    pollingInterval: spec.scaling.pollingIntervalSeconds ?? KEDA_DEFAULT_POLLING_SECONDS,
    cooldownPeriod: spec.scaling.scaleToZero?.cooldownSeconds ?? KEDA_DEFAULT_COOLDOWN_SECONDS,
    minReplicaCount: spec.replicas.min,
    maxReplicaCount: spec.replicas.max,
    advanced: {
      // The HPA KEDA manages keeps the policy's name, so a hand-over from the HPA engine adopts the
      // existing HPA (and its scale history) instead of creating a second one.
      horizontalPodAutoscalerConfig: { name: policy.metadata.name, behavior: buildBehavior(spec, features) },
    },
    triggers: buildTriggers(policy),
  };
  if (scaleToZero && spec.workload.targetRef !== undefined) {
    // The workload is the user's: deleting the policy must not leave it at zero replicas. KEDA records
    // the count it found when it took the workload over, and sets it back when the ScaledObject goes
    // (the reconciler switches this off first when the ScaledObject goes for any other reason).
    soSpec.advanced = { ...soSpec.advanced, restoreToOriginalReplicaCount: true };
  }
  if (scaleToZero) {
    // Never scale a new workload to zero while its first replica is still loading the model.
    soSpec.initialCooldownPeriod =
      spec.scaling.scaleToZero?.initialCooldownSeconds ?? 2 * modelLoadSeconds(policy);
  }
  if (spec.scaling.fallback !== undefined) {
    soSpec.fallback = {
      failureThreshold: spec.scaling.fallback.failureThreshold,
      replicas: spec.scaling.fallback.replicas,
    };
  }
  const metadata = childMetadata(policy, { [TRANSFER_HPA_OWNERSHIP_ANNOTATION]: "true" });
  // KEDA's operator adds this label with an Update of its own when it is missing, which conflicts with the
  // operator's write that follows a create; set here, KEDA has nothing to add.
  metadata.labels = sortKeys({ ...metadata.labels, [KEDA_SCALED_OBJECT_NAME_LABEL]: policy.metadata.name });
  return { apiVersion: KEDA_API_VERSION, kind: "ScaledObject", metadata, spec: soSpec };
}

/** A TriggerAuthentication naming the Secret keys; undefined unless authentication.secretRef is set. */
export function buildTriggerAuthentication(policy: MLAutoscalePolicy): TriggerAuthentication | undefined {
  const secretRef = policy.spec.authentication?.secretRef;
  if (secretRef === undefined) return undefined;
  return {
    apiVersion: KEDA_API_VERSION,
    kind: "TriggerAuthentication",
    metadata: childMetadata(policy),
    spec: {
      secretTargetRef: secretRef.parameters
        .map((p) => ({ parameter: p.parameter, name: secretRef.name, key: p.key }))
        .sort((a, b) => compareStrings(a.parameter, b.parameter)),
    },
  };
}
