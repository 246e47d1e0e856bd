// Names, labels and the owner reference every child of a policy carries.
import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";
import { API_VERSION, KIND, type MLAutoscalePolicy } from "../../../api/v1alpha1/index.js";
import { controllerOwnerReference } from "../../../runtime/ownerref.js";

export const POLICY_LABEL = "mlautoscale.io/policy";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "mlautoscale";

/** Labels that select the pods of a policy's Deployment. Immutable once the Deployment exists. */
export function selectorLabels(policy: MLAutoscalePolicy): Record<string, string> {
  return { "app.kubernetes.io/name": policy.metadata.name, [POLICY_LABEL]: policy.metadata.name };
}

/** Labels on every child: the policy's own labels, then the operator's (which win). */
export function childLabels(policy: MLAutoscalePolicy): Record<string, string> {
  return sortKeys({
    ...policy.metadata.labels,
    ...selectorLabels(policy),
    [MANAGED_BY_LABEL]: MANAGED_BY,
  });
}

/**
 * The controller owner reference to the policy. Omitted while the policy has no UID (a file rendered
 * without a cluster): the API server assigns the UID, and the operator always has it.
 */
export function policyOwnerReferences(policy: MLAutoscalePolicy): V1OwnerReference[] | undefined {
  const uid = policy.metadata.uid;
  if (uid === undefined || uid === "") return undefined;
  return [controllerOwnerReference({ apiVersion: API_VERSION, kind: KIND, metadata: policy.metadata })];
}

export function childMetadata(policy: MLAutoscalePolicy, annotations?: Record<string, string>): V1ObjectMeta {
  const meta: V1ObjectMeta = { name: policy.metadata.name };
  if (policy.metadata.namespace !== undefined) meta.namespace = policy.metadata.namespace;
  meta.labels = childLabels(policy);
  if (annotations !== undefined) meta.annotations = sortKeys(annotations);
  const owners = policyOwnerReferences(policy);
  if (owners !== undefined) meta.ownerReferences = owners;
  return meta;
}

/**
 * Orders strings by code point. localeCompare would depend on the process's locale, and the same policy
 * must give the same bytes everywhere (the operator skips writes that change nothing).
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortKeys<V>(record: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareStrings(a, b)));
}

/** The workload the autoscaler and the PDB point at. */
export function scaleTarget(policy: MLAutoscalePolicy): { apiVersion: string; kind: string; name: string } {
  const ref = policy.spec.workload.targetRef;
  if (ref !== undefined) return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name };
  return { apiVersion: "apps/v1", kind: "Deployment", name: policy.metadata.name };
}

/** Model load time: from the template, or the schema default when attaching to an existing workload. */
export function modelLoadSeconds(policy: MLAutoscalePolicy): number {
  return policy.spec.workload.template?.model.loadSeconds ?? 60;
}
