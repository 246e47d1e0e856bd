// Which policies claim which workload, and which of two claims came first.
import { KIND } from "../../api/v1alpha1/index.js";
import type { DeepReadonly, KubeObject } from "../../runtime/object.js";
import { controllerOf } from "../../runtime/ownerref.js";

/** The name of the policy cache's index by scale target. */
export const SCALE_TARGET_INDEX = "scale-target";

/** The index key of a workload: namespace/kind/name. */
export function scaleTargetKey(target: { namespace: string; kind: string; name: string }): string {
  return `${target.namespace}/${target.kind}/${target.name}`;
}

/**
 * Indexes policies by the workload they scale, read from the raw spec (no full validation on this hot
 * path): the targetRef, or the policy's own Deployment.
 */
export function policyScaleTargetIndex(
  policy: DeepReadonly<KubeObject & { spec?: unknown }>,
): readonly string[] {
  const namespace = policy.metadata?.namespace ?? "";
  const spec = policy.spec as
    DeepReadonly<{ workload?: { targetRef?: { kind?: unknown; name?: unknown } } }> | undefined;
  const ref = spec?.workload?.targetRef;
  if (ref !== undefined) {
    return typeof ref.name === "string" && typeof ref.kind === "string"
      ? [scaleTargetKey({ namespace, kind: ref.kind, name: ref.name })]
      : [];
  }
  const name = policy.metadata?.name;
  return name === undefined ? [] : [scaleTargetKey({ namespace, kind: "Deployment", name })];
}

/**
 * Whether `a` claimed its workload before `b`: the older policy wins, by creation time, then by UID,
 * so that every replica and every reconcile of either policy reaches the same answer.
 */
export function claimsBefore(a: DeepReadonly<KubeObject>, b: DeepReadonly<KubeObject>): boolean {
  const at = (object: DeepReadonly<KubeObject>): number => {
    const value = object.metadata?.creationTimestamp;
    const time =
      value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : Number.NaN;
    return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
  };
  const [timeA, timeB] = [at(a), at(b)];
  if (timeA !== timeB) return timeA < timeB;
  return (a.metadata?.uid ?? "") < (b.metadata?.uid ?? "");
}

/**
 * Indexes HPAs and ScaledObjects by the workload their scaleTargetRef names, under the same key as
 * policies (a ScaledObject's kind defaults to Deployment), so that the conflict check reads the
 * autoscalers of one workload, not every autoscaler of the namespace.
 */
export function autoscalerScaleTargetIndex(
  autoscaler: DeepReadonly<KubeObject & { spec?: unknown }>,
): readonly string[] {
  const namespace = autoscaler.metadata?.namespace ?? "";
  const spec = autoscaler.spec as
    DeepReadonly<{ scaleTargetRef?: { kind?: unknown; name?: unknown } }> | undefined;
  const ref = spec?.scaleTargetRef;
  if (typeof ref?.name !== "string") return [];
  const kind = typeof ref.kind === "string" && ref.kind !== "" ? ref.kind : "Deployment";
  return [scaleTargetKey({ namespace, kind, name: ref.name })];
}

/** The name of the PDB cache's index of the PDBs no policy controls, by namespace. */
export const FOREIGN_PDB_INDEX = "foreign-pdb";

/**
 * Files a PDB under its namespace when no MLAutoscalePolicy controls it: only those can cover a policy's
 * pods from outside (another policy's PDB is settled by the claim rule), and a namespace of thousands of
 * policies' own PDBs must not be scanned on every reconcile.
 */
export function foreignPdbIndex(pdb: DeepReadonly<KubeObject>): readonly string[] {
  return controllerOf(pdb)?.kind === KIND ? [] : [pdb.metadata?.namespace ?? ""];
}

/** The indexes of each cache the reconciler reads (by workload, and the PDBs no policy controls). */
export const CACHE_INDEXERS = {
  policy: { [SCALE_TARGET_INDEX]: policyScaleTargetIndex },
  autoscaler: { [SCALE_TARGET_INDEX]: autoscalerScaleTargetIndex },
  pdb: { [FOREIGN_PDB_INDEX]: foreignPdbIndex },
} as const;
