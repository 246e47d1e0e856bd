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

/**
 * Labels by which GitOps tools track the objects they applied: copied onto a child, they would make the
 * tool take the child for one of its own and prune it or report it out of sync (Argo CD's tracking
 * labels, Flux's, kapp's).
 */
export const TRACKING_LABELS: readonly string[] = [
  "app.kubernetes.io/instance",
  "argocd.argoproj.io/instance",
];
export const TRACKING_LABEL_PREFIXES: readonly string[] = [
  "kustomize.toolkit.fluxcd.io/",
  "helm.toolkit.fluxcd.io/",
  "kapp.k14s.io/",
];

/**
 * The policy's labels that its children get. `propagate` lists label keys, or prefixes ending in "/"
 * (a key's prefix with its slash); undefined propagates every label. Tracking labels never propagate.
 */
export function propagatedLabels(
  labels: Readonly<Record<string, string>> | undefined,
  propagate?: readonly string[],
): Record<string, string> {
  const tracking = (key: string): boolean =>
    TRACKING_LABELS.includes(key) || TRACKING_LABEL_PREFIXES.some((prefix) => key.startsWith(prefix));
  const asked = (key: string): boolean =>
    propagate === undefined ||
    propagate.some((entry) => (entry.endsWith("/") ? key.startsWith(entry) : key === entry));
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([key]) => !tracking(key) && asked(key)));
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
