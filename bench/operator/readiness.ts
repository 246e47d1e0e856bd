// Pure: how far a set of MLAutoscalePolicies has come, from their status as the API server returns them.

export interface PolicyCondition {
  type?: string;
  status?: string;
  reason?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface ListedPolicy {
  metadata?: { name?: string; namespace?: string; generation?: number; creationTimestamp?: string };
  status?: { observedGeneration?: number; conditions?: PolicyCondition[] };
}

/** The condition of `type` if it is True and was set for the policy's current generation. */
export function currentTrueCondition(policy: ListedPolicy, type: string): PolicyCondition | undefined {
  const generation = policy.metadata?.generation;
  if (generation === undefined || policy.status?.observedGeneration !== generation) return undefined;
  const condition = policy.status.conditions?.find((c) => c.type === type);
  if (condition?.status !== "True" || condition.observedGeneration !== generation) return undefined;
  return condition;
}

export interface Progress {
  total: number;
  reconciled: number;
  ready: number;
}

export function progressOf(policies: readonly ListedPolicy[]): Progress {
  let reconciled = 0;
  let ready = 0;
  for (const policy of policies) {
    if (currentTrueCondition(policy, "Reconciled") !== undefined) reconciled++;
    if (currentTrueCondition(policy, "Ready") !== undefined) ready++;
  }
  return { total: policies.length, reconciled, ready };
}

/**
 * Seconds from each Ready policy's creation to its Ready condition's last transition. Both are
 * RFC 3339 times of whole seconds, so each figure is exact to about a second.
 */
export function secondsToReady(policies: readonly ListedPolicy[]): number[] {
  const seconds: number[] = [];
  for (const policy of policies) {
    const ready = currentTrueCondition(policy, "Ready");
    const created = policy.metadata?.creationTimestamp;
    if (ready?.lastTransitionTime === undefined || created === undefined) continue;
    const delta = (Date.parse(ready.lastTransitionTime) - Date.parse(created)) / 1000;
    if (Number.isFinite(delta)) seconds.push(delta);
  }
  return seconds;
}

/** The nearest-rank percentile (0 < p <= 100) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? NaN;
}
