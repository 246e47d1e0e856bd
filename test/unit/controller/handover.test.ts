// The hand-over between the HPA and KEDA: each phase of planHandover, then every interleaving of the
// reconciler, KEDA, the garbage collector and the user switching engines, explored exhaustively over a
// model of what each of them does to the policy's ScaledObject and HPA.
import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/api/v1alpha1/index.js";
import {
  planHandover,
  type HandoverObservation,
  type HandoverPhase,
  type HpaState,
} from "../../../src/controllers/mlautoscalepolicy/handover.js";

describe("planHandover, phase by phase", () => {
  const cases: Array<[string, HandoverObservation, HandoverPhase, Partial<ReturnType<typeof planHandover>>]> =
    [
      [
        "HPA, nothing there yet: create the HPA",
        { engine: "HPA", scaledObject: "absent", scaledObjectRestores: false, hpa: "absent" },
        "Hpa",
        { applyHpa: true, deleteScaledObject: false, waiting: false },
      ],
      [
        "HPA, a released HPA: adopt it",
        { engine: "HPA", scaledObject: "absent", scaledObjectRestores: false, hpa: "released" },
        "Hpa",
        { applyHpa: true, waiting: false },
      ],
      [
        "HPA, KEDA manages the HPA: delete the ScaledObject (orphan), leave the HPA alone",
        { engine: "HPA", scaledObject: "present", scaledObjectRestores: false, hpa: "keda" },
        "ToHpaReleasing",
        { applyHpa: false, deleteScaledObject: true, disableRestore: false, waiting: true },
      ],
      [
        "HPA, KEDA manages the HPA and would restore the replicas: switch that off first",
        { engine: "HPA", scaledObject: "present", scaledObjectRestores: true, hpa: "keda" },
        "ToHpaReleasing",
        { applyHpa: false, deleteScaledObject: true, disableRestore: true, waiting: true },
      ],
      [
        "HPA, the ScaledObject is going and its HPA not released yet: wait",
        { engine: "HPA", scaledObject: "deleting", scaledObjectRestores: false, hpa: "keda" },
        "ToHpaAwaitingRelease",
        { applyHpa: false, deleteScaledObject: false, waiting: true },
      ],
      [
        "HPA, the ScaledObject is gone and the garbage collector has not reached its HPA: wait",
        { engine: "HPA", scaledObject: "absent", scaledObjectRestores: false, hpa: "keda" },
        "ToHpaAwaitingRelease",
        { applyHpa: false, waiting: true },
      ],
      [
        "HPA, a ScaledObject without an HPA of KEDA's: the policy's HPA first, then the ScaledObject goes",
        { engine: "HPA", scaledObject: "present", scaledObjectRestores: true, hpa: "absent" },
        "ToHpaReplacing",
        { applyHpa: true, deleteScaledObject: true, disableRestore: true, waiting: true },
      ],
      [
        "HPA, the ScaledObject is being deleted and the HPA was released: adopt it",
        { engine: "HPA", scaledObject: "deleting", scaledObjectRestores: false, hpa: "released" },
        "Hpa",
        { applyHpa: true, deleteScaledObject: false },
      ],
      [
        "HPA, someone deletes a ScaledObject that would restore: switch that off before KEDA's finalizer runs",
        { engine: "HPA", scaledObject: "deleting", scaledObjectRestores: true, hpa: "policy" },
        "Hpa",
        { applyHpa: true, disableRestore: true, deleteScaledObject: false },
      ],
      [
        "HPA, a foreign HPA: touch nothing (a Conflict)",
        { engine: "HPA", scaledObject: "absent", scaledObjectRestores: false, hpa: "foreign" },
        "Hpa",
        { applyHpa: false },
      ],
      [
        "KEDA, nothing there: create the ScaledObject",
        { engine: "KEDA", scaledObject: "absent", scaledObjectRestores: false, hpa: "absent" },
        "Keda",
        { applyScaledObject: true, keepHpa: false, waiting: false },
      ],
      [
        "KEDA, the policy's HPA: create the ScaledObject and keep the HPA for KEDA to adopt",
        { engine: "KEDA", scaledObject: "absent", scaledObjectRestores: false, hpa: "policy" },
        "ToKedaAdopting",
        { applyScaledObject: true, keepHpa: true, waiting: true },
      ],
      [
        "KEDA, a released HPA: the ScaledObject adopts it",
        { engine: "KEDA", scaledObject: "present", scaledObjectRestores: false, hpa: "released" },
        "ToKedaAdopting",
        { applyScaledObject: true, waiting: true },
      ],
      [
        "KEDA, settled",
        { engine: "KEDA", scaledObject: "present", scaledObjectRestores: true, hpa: "keda" },
        "Keda",
        { applyScaledObject: true, keepHpa: false, disableRestore: false, waiting: false },
      ],
      [
        "KEDA, the previous ScaledObject still being deleted: wait, keeping the policy's HPA",
        { engine: "KEDA", scaledObject: "deleting", scaledObjectRestores: false, hpa: "policy" },
        "ToKedaAwaitingDeletion",
        { applyScaledObject: false, applyHpa: false, keepHpa: true, waiting: true },
      ],
    ];
  it.each(cases)("%s", (_name, observed, phase, actions) => {
    const plan = planHandover(observed);
    expect(plan.phase).toBe(phase);
    expect(plan).toMatchObject(actions);
  });

  it("never applies an HPA while KEDA controls it, and never applies a ScaledObject being deleted", () => {
    for (const observed of allObservations()) {
      const plan = planHandover(observed);
      if (observed.hpa === "keda" || observed.hpa === "foreign") expect(plan.applyHpa).toBe(false);
      if (observed.scaledObject === "deleting") expect(plan.applyScaledObject).toBe(false);
      if (plan.deleteScaledObject) expect(observed.scaledObject).toBe("present");
      if (observed.scaledObjectRestores && plan.deleteScaledObject) expect(plan.disableRestore).toBe(true);
      if (observed.engine === "KEDA") expect(plan.disableRestore).toBe(false);
    }
  });
});

function allObservations(): HandoverObservation[] {
  const result: HandoverObservation[] = [];
  for (const engine of ["HPA", "KEDA"] as const)
    for (const scaledObject of ["absent", "present", "deleting"] as const)
      for (const scaledObjectRestores of [false, true])
        for (const hpa of ["absent", "policy", "keda", "released", "foreign"] as const)
          result.push({ engine, scaledObject, scaledObjectRestores, hpa });
  return result;
}

// ---- A model of the cluster around one policy --------------------------------------------------------

interface ScaledObjectModel {
  restore: boolean;
  /** deletionTimestamp set; with orphan propagation when `orphan`. */
  deleting: boolean;
  orphan: boolean;
  /** KEDA's finalizer has run (and removed itself). */
  finalized: boolean;
}

interface World {
  engine: Engine;
  so: ScaledObjectModel | undefined;
  hpa: Exclude<HpaState, "foreign">;
  /** The user switched engines this many times (bounded, so the exploration ends). */
  flips: number;
}

type Actor = "reconcile" | "keda" | "gc-release" | "gc-remove" | "gc-dependents" | "flip";

interface Step {
  next: World;
  violations: string[];
}

/** What one actor does to the world; undefined when it has nothing to do. */
function act(world: World, actor: Actor, restoreWanted: boolean, maxFlips: number): Step | undefined {
  const next: World = { ...world, ...(world.so !== undefined && { so: { ...world.so } }) };
  const violations: string[] = [];
  switch (actor) {
    case "reconcile": {
      const plan = planHandover({
        engine: world.engine,
        scaledObject: world.so === undefined ? "absent" : world.so.deleting ? "deleting" : "present",
        scaledObjectRestores: world.so?.restore ?? false,
        hpa: world.hpa,
      });
      if (plan.disableRestore && next.so !== undefined) next.so.restore = false;
      if (plan.applyHpa) {
        if (next.hpa === "keda") violations.push("applied the HPA while KEDA controls it");
        next.hpa = "policy";
      }
      if (plan.applyScaledObject) {
        if (next.so === undefined) {
          next.so = { restore: restoreWanted, deleting: false, orphan: false, finalized: false };
        } else next.so.restore = restoreWanted;
      }
      if (plan.deleteScaledObject && next.so !== undefined && !next.so.deleting) {
        next.so.deleting = true;
        next.so.orphan = true;
      }
      // Prune: the policy's HPA goes when the KEDA engine no longer wants it, unless kept for adoption.
      if (world.engine === "KEDA" && next.hpa === "policy" && !plan.keepHpa) {
        violations.push("deleted the HPA the workload scales on");
        next.hpa = "absent";
      }
      break;
    }
    case "keda": {
      const so = next.so;
      if (so === undefined) return undefined;
      if (!so.deleting) {
        // transfer-hpa-ownership: KEDA adopts the HPA of the name it is given, or creates it.
        if (next.hpa === "keda") return undefined;
        next.hpa = "keda";
      } else {
        if (so.finalized) return undefined;
        if (so.restore) violations.push("KEDA restored the original replica count during a hand-over");
        so.finalized = true;
      }
      break;
    }
    case "gc-release": {
      // Orphan propagation: the garbage collector removes the owner reference from the dependents.
      if (next.so?.deleting !== true || !next.so.orphan || next.hpa !== "keda") return undefined;
      next.hpa = "released";
      break;
    }
    case "gc-remove": {
      // The object goes once every finalizer is done (the orphan finalizer after the release).
      const so = next.so;
      if (so?.deleting !== true || !so.finalized || (so.orphan && next.hpa === "keda")) return undefined;
      next.so = undefined;
      break;
    }
    case "gc-dependents": {
      // Background propagation: dependents of an owner that is gone are deleted.
      if (next.so !== undefined || next.hpa !== "keda") return undefined;
      violations.push("the garbage collector deleted the HPA the workload scales on");
      next.hpa = "absent";
      break;
    }
    case "flip": {
      if (world.flips >= maxFlips) return undefined;
      next.engine = world.engine === "HPA" ? "KEDA" : "HPA";
      next.flips = world.flips + 1;
      break;
    }
  }
  if (JSON.stringify(next) === JSON.stringify(world)) return undefined;
  return { next, violations };
}

function settled(world: World): boolean {
  return world.engine === "HPA"
    ? world.so === undefined && world.hpa === "policy"
    : world.so !== undefined && !world.so.deleting && world.hpa === "keda";
}

const ACTORS: Actor[] = ["reconcile", "keda", "gc-release", "gc-remove", "gc-dependents", "flip"];

/** Every world reachable from `start` by any interleaving, with the violations met on the way. */
function explore(start: World, restoreWanted: boolean, maxFlips: number, actors = ACTORS) {
  const seen = new Map<string, World>([[JSON.stringify(start), start]]);
  const violations = new Set<string>();
  const queue = [start];
  for (let world = queue.shift(); world !== undefined; world = queue.shift()) {
    for (const actor of actors) {
      const step = act(world, actor, restoreWanted, maxFlips);
      if (step === undefined) continue;
      for (const v of step.violations) violations.add(`${v} (${actor} from ${JSON.stringify(world)})`);
      const key = JSON.stringify(step.next);
      if (!seen.has(key)) {
        seen.set(key, step.next);
        queue.push(step.next);
      }
    }
  }
  return { worlds: [...seen.values()], violations: [...violations] };
}

describe("the hand-over under every interleaving", () => {
  const starts: Array<[string, World]> = [
    ["settled on the HPA", { engine: "HPA", so: undefined, hpa: "policy", flips: 0 }],
    [
      "settled on KEDA",
      {
        engine: "KEDA",
        so: { restore: false, deleting: false, orphan: false, finalized: false },
        hpa: "keda",
        flips: 0,
      },
    ],
  ];

  for (const restoreWanted of [false, true]) {
    for (const [name, start] of starts) {
      const label = `${name}, restoreToOriginalReplicaCount ${restoreWanted ? "on" : "off"}`;
      const initial =
        start.so === undefined ? start : { ...start, so: { ...start.so, restore: restoreWanted } };

      it(`${label}: never deletes the HPA, never applies it under KEDA, never lets KEDA restore`, () => {
        const { worlds, violations } = explore(initial, restoreWanted, 3);
        expect(worlds.length).toBeGreaterThan(10);
        expect(violations).toEqual([]);
      });

      it(`${label}: settles on the engine asked for from every state, whoever moves next`, () => {
        const { worlds } = explore(initial, restoreWanted, 3);
        for (const world of worlds) {
          // Once the user stops switching, every state leads to the settled one, and none is stuck short
          // of it: a state where nobody has anything left to do is the settled state.
          const calm = { ...world, flips: 3 };
          const after = explore(
            calm,
            restoreWanted,
            3,
            ACTORS.filter((a) => a !== "flip"),
          );
          const stuck = after.worlds.filter(
            (w) => !settled(w) && ACTORS.every((a) => act(w, a, restoreWanted, 3) === undefined),
          );
          expect(stuck).toEqual([]);
          expect(after.worlds.some(settled)).toBe(true);
        }
      });
    }
  }

  it("moves to the HPA while KEDA is down: the HPA is released by the garbage collector and adopted", () => {
    const start: World = {
      engine: "HPA",
      so: { restore: true, deleting: false, orphan: false, finalized: false },
      hpa: "keda",
      flips: 0,
    };
    const withoutKeda = ACTORS.filter((a) => a !== "keda" && a !== "flip");
    const { worlds, violations } = explore(start, true, 0, withoutKeda);
    expect(violations).toEqual([]);
    // KEDA's finalizer waits for KEDA, so the ScaledObject stays (deleting, restore off) with its HPA
    // adopted by the policy: one autoscaler, the policy's.
    const ends = worlds.filter((w) => withoutKeda.every((a) => act(w, a, true, 0) === undefined));
    expect(ends).toEqual([
      {
        engine: "HPA",
        so: { restore: false, deleting: true, orphan: true, finalized: false },
        hpa: "policy",
        flips: 0,
      },
    ]);
  });
});
