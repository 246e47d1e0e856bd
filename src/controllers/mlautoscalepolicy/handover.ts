// Pure: where a policy stands between the HPA and KEDA, and what the reconciler does about it.
//
// A workload has one autoscaler at every moment, and it keeps its HPA (and the HPA's scaling history)
// when the policy moves between engines:
// - HPA -> KEDA: the ScaledObject is written with KEDA's transfer-hpa-ownership annotation and the
//   policy's HPA name, and KEDA adopts the policy's HPA. Until it has, the policy keeps its HPA.
// - KEDA -> HPA: the ScaledObject is deleted with orphan propagation, so the garbage collector releases
//   KEDA's HPA (no owner, still the policy's name and label) instead of deleting it, and the policy adopts
//   it. Where KEDA has made no HPA, the policy's own is applied first.
// Before a ScaledObject of the policy is deleted for any reason but the policy's own deletion, KEDA's
// restoreToOriginalReplicaCount is switched off: KEDA's finalizer would otherwise set the workload back
// to the count it had when KEDA took it over, in the middle of a hand-over.

import type { Engine } from "../../api/v1alpha1/index.js";

/** The policy's own ScaledObject (controlled by the policy), as the cache shows it. */
export type ScaledObjectState = "absent" | "present" | "deleting";

/**
 * The HPA with the policy's name:
 * - `policy`: controlled by the policy;
 * - `keda`: controlled by the policy's ScaledObject (KEDA made or adopted it);
 * - `released`: no controller, the policy's name and label (orphaned by a hand-over to the HPA);
 * - `foreign`: anything else (a Conflict, decided before the hand-over is looked at).
 */
export type HpaState = "absent" | "policy" | "keda" | "released" | "foreign";

export interface HandoverObservation {
  /** The engine the policy asks for now. */
  engine: Engine;
  scaledObject: ScaledObjectState;
  /** The ScaledObject has restoreToOriginalReplicaCount set: KEDA's finalizer would act on deletion. */
  scaledObjectRestores: boolean;
  hpa: HpaState;
}

export type HandoverPhase =
  /** Settled on the HPA: no ScaledObject of the policy. */
  | "Hpa"
  /** Settled on KEDA: the ScaledObject, and KEDA's HPA if it made one yet. */
  | "Keda"
  /** KEDA asked; the policy's HPA (or a released one) waits for the ScaledObject to adopt it. */
  | "ToKedaAdopting"
  /** KEDA asked; an earlier ScaledObject of the policy is still being deleted. */
  | "ToKedaAwaitingDeletion"
  /** HPA asked; KEDA's HPA is released by deleting the ScaledObject with orphan propagation. */
  | "ToHpaReleasing"
  /** HPA asked; the ScaledObject is going, its HPA not released yet by the garbage collector. */
  | "ToHpaAwaitingRelease"
  /** HPA asked; the ScaledObject has no HPA of KEDA's: the policy's HPA first, then the ScaledObject goes. */
  | "ToHpaReplacing";

export interface HandoverPlan {
  phase: HandoverPhase;
  /** Apply the desired HPA: create it, update it, or adopt a released one. */
  applyHpa: boolean;
  /** Apply the desired ScaledObject. */
  applyScaledObject: boolean;
  /** Keep the policy's HPA although the desired children have none (prune must leave it). */
  keepHpa: boolean;
  /** Switch off restoreToOriginalReplicaCount on the ScaledObject before anything else. */
  disableRestore: boolean;
  /** Delete the ScaledObject, with orphan propagation, after the applies. */
  deleteScaledObject: boolean;
  /** The next step waits on KEDA or the garbage collector: look again soon. */
  waiting: boolean;
}

const NOTHING: Omit<HandoverPlan, "phase"> = {
  applyHpa: false,
  applyScaledObject: false,
  keepHpa: false,
  disableRestore: false,
  deleteScaledObject: false,
  waiting: false,
};

/** The phase a policy is in and the actions of that phase. */
export function planHandover(observed: HandoverObservation): HandoverPlan {
  const { engine, scaledObject, hpa } = observed;
  if (engine === "KEDA") {
    if (scaledObject === "deleting") {
      // A ScaledObject being deleted cannot be written back to life: wait until it is gone, keeping
      // whatever HPA the policy has meanwhile.
      return { ...NOTHING, phase: "ToKedaAwaitingDeletion", keepHpa: hpa === "policy", waiting: true };
    }
    if (hpa === "policy" || hpa === "released") {
      return { ...NOTHING, phase: "ToKedaAdopting", applyScaledObject: true, keepHpa: true, waiting: true };
    }
    return { ...NOTHING, phase: "Keda", applyScaledObject: true };
  }

  // The HPA engine.
  const disableRestore = scaledObject !== "absent" && observed.scaledObjectRestores;
  if (hpa === "keda") {
    // KEDA's HPA is adopted only once the garbage collector has released it: until then it has a
    // controller, and a second one cannot be added.
    if (scaledObject === "present") {
      return { ...NOTHING, phase: "ToHpaReleasing", disableRestore, deleteScaledObject: true, waiting: true };
    }
    // Deleting, or already gone while the garbage collector has not processed its HPA yet.
    return { ...NOTHING, phase: "ToHpaAwaitingRelease", disableRestore, waiting: true };
  }
  if (hpa === "foreign") return { ...NOTHING, phase: "Hpa" };
  if (scaledObject === "present") {
    // Orphan propagation here too: should KEDA adopt the policy's new HPA before the deletion reaches
    // it, the HPA is released and adopted back rather than deleted.
    return {
      ...NOTHING,
      phase: "ToHpaReplacing",
      applyHpa: true,
      disableRestore,
      deleteScaledObject: true,
      waiting: true,
    };
  }
  return { ...NOTHING, phase: "Hpa", applyHpa: true, disableRestore };
}
