// Pure: when each object of a KEDA roll-out first reached each step, as watches deliver the objects. A
// list of the whole namespace every few seconds knows a moment only to within its interval, and on a
// small machine the lists themselves load kube-apiserver (serialising every ScaledObject and policy on
// each poll) more than the clients being measured.

import { nthEarliest } from "./condition-clock.js";
import { currentTrueCondition, type ListedPolicy } from "./readiness.js";

export interface WatchedScaledObject {
  metadata?: { name?: string };
  status?: { hpaName?: string; conditions?: { type?: string; status?: string }[] };
}

export interface WatchedDeployment {
  metadata?: { name?: string };
  status?: { availableReplicas?: number };
}

/** The steps of a roll-out, each counted once per object, the first time it is seen there. */
export interface RolloutCounts {
  scaledObjects: number;
  scaledObjectsReady: number;
  /** ScaledObjects whose status.hpaName names an HPA that has been seen. */
  hpas: number;
  /** Deployments seen with at least one available replica. */
  deploymentsAvailable: number;
  policiesReconciled: number;
  policiesReady: number;
  policiesScalingActive: number;
}

export type RolloutStep = keyof RolloutCounts;

export class RolloutClock {
  private readonly reached: Record<RolloutStep, Map<string, number>> = {
    scaledObjects: new Map(),
    scaledObjectsReady: new Map(),
    hpas: new Map(),
    deploymentsAvailable: new Map(),
    policiesReconciled: new Map(),
    policiesReady: new Map(),
    policiesScalingActive: new Map(),
  };
  /** HPA names seen, and which ScaledObject names each HPA (by its status.hpaName). */
  private readonly hpasSeen = new Set<string>();
  private readonly scaledObjectOfHpa = new Map<string, string>();

  scaledObject(object: WatchedScaledObject, nowMs: number): void {
    const name = object.metadata?.name ?? "";
    this.mark("scaledObjects", name, nowMs);
    if (object.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true) {
      this.mark("scaledObjectsReady", name, nowMs);
    }
    const hpaName = object.status?.hpaName;
    if (hpaName === undefined || hpaName === "") return;
    this.scaledObjectOfHpa.set(hpaName, name);
    if (this.hpasSeen.has(hpaName)) this.mark("hpas", name, nowMs);
  }

  hpa(name: string, nowMs: number): void {
    this.hpasSeen.add(name);
    const scaledObject = this.scaledObjectOfHpa.get(name);
    if (scaledObject !== undefined) this.mark("hpas", scaledObject, nowMs);
  }

  deployment(object: WatchedDeployment, nowMs: number): void {
    if ((object.status?.availableReplicas ?? 0) >= 1) {
      this.mark("deploymentsAvailable", object.metadata?.name ?? "", nowMs);
    }
  }

  /** Conditions count only when True for the policy's current generation. */
  policy(object: ListedPolicy, nowMs: number): void {
    const name = object.metadata?.name ?? "";
    if (currentTrueCondition(object, "Reconciled") !== undefined)
      this.mark("policiesReconciled", name, nowMs);
    if (currentTrueCondition(object, "Ready") !== undefined) this.mark("policiesReady", name, nowMs);
    if (currentTrueCondition(object, "ScalingActive") !== undefined) {
      this.mark("policiesScalingActive", name, nowMs);
    }
  }

  counts(): RolloutCounts {
    const entries = Object.entries(this.reached).map(([step, times]) => [step, times.size]);
    return Object.fromEntries(entries) as RolloutCounts;
  }

  /** When `step` was first reached by `count` objects; undefined while fewer have reached it. */
  reachedBy(step: RolloutStep, count: number): number | undefined {
    return nthEarliest(this.reached[step], count);
  }

  /** When each object first reached `step`, by name. */
  times(step: RolloutStep): ReadonlyMap<string, number> {
    return this.reached[step];
  }

  private mark(step: RolloutStep, name: string, nowMs: number): void {
    const times = this.reached[step];
    if (!times.has(name)) times.set(name, nowMs);
  }
}
