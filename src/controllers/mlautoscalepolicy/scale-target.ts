// Which policies claim which workload, and which of two claims came first.
import type { DeepReadonly, KubeObject } from "../../runtime/object.js";

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
