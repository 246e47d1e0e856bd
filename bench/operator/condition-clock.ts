// Pure: when each policy first showed Reconciled and Ready for its current generation, as a watch on the
// policies delivers them. A poll of the whole list every few seconds knows a moment only to within its
// interval (and the list's own duration); a watch event arrives as the status is written.

import { currentTrueCondition, type ListedPolicy } from "./readiness.js";

export interface ConditionCounts {
  reconciled: number;
  ready: number;
}

export class ConditionClock {
  private readonly reconciledAt = new Map<string, number>();
  private readonly readyAt = new Map<string, number>();

  /** Records `policy` as seen at `nowMs`; returns the counts after it. */
  observe(policy: ListedPolicy, nowMs: number): ConditionCounts {
    const key = `${policy.metadata?.namespace ?? ""}/${policy.metadata?.name ?? ""}`;
    if (!this.reconciledAt.has(key) && currentTrueCondition(policy, "Reconciled") !== undefined) {
      this.reconciledAt.set(key, nowMs);
    }
    if (!this.readyAt.has(key) && currentTrueCondition(policy, "Ready") !== undefined) {
      this.readyAt.set(key, nowMs);
    }
    return this.counts();
  }

  counts(): ConditionCounts {
    return { reconciled: this.reconciledAt.size, ready: this.readyAt.size };
  }

  /** The moment the `count`-th policy first showed Reconciled; undefined while fewer have. */
  reconciledBy(count: number): number | undefined {
    return nthEarliest(this.reconciledAt, count);
  }

  /** The moment the `count`-th policy first showed Ready; undefined while fewer have. */
  readyBy(count: number): number | undefined {
    return nthEarliest(this.readyAt, count);
  }
}

/** The `count`-th earliest of `times`; undefined while there are fewer. */
export function nthEarliest(times: ReadonlyMap<string, number>, count: number): number | undefined {
  if (count <= 0 || times.size < count) return undefined;
  return [...times.values()].sort((a, b) => a - b)[count - 1];
}
