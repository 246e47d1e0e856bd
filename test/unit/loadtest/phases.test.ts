import { describe, expect, it } from "vitest";
import { autoscalerPhases, secondsToNextTick } from "../../../src/loadtest/phases.js";

const at = (iso: string): number => Date.parse(iso);

describe("secondsToNextTick", () => {
  it("counts to the next tick of a loop, whole seconds below the interval", () => {
    const loopStart = at("2026-01-01T00:00:03Z");
    // Ticks at 3, 18, 33, 48 s past the minute.
    expect(secondsToNextTick(loopStart, 15, at("2026-01-01T00:01:00Z"))).toBe(3);
    expect(secondsToNextTick(loopStart, 15, at("2026-01-01T00:01:04Z"))).toBe(14);
    // A tick at the very start is 0, not a whole interval.
    expect(secondsToNextTick(loopStart, 15, at("2026-01-01T00:00:33Z"))).toBe(0);
    // A load that starts before the loop does: its first tick is still the loop's start.
    expect(secondsToNextTick(loopStart, 30, at("2026-01-01T00:00:00Z"))).toBe(3);
    // Rounded up: a tick 2.3 s in has seen the arrivals of seconds 0 to 2, as the simulation's tick 3 has;
    // 14.6 s to go is 15, the next interval's 0.
    expect(secondsToNextTick(loopStart, 15, at("2026-01-01T00:00:00.700Z"))).toBe(3);
    expect(secondsToNextTick(loopStart, 15, at("2026-01-01T00:00:03.400Z"))).toBe(0);
  });
});

describe("autoscalerPhases", () => {
  it("puts the HPA's syncs and KEDA's polls on the HPA's creation, taken at the middle of its second", () => {
    // Created in 00:00:07: the loops started at 7.5 s; the load starts at 01:00 -> next tick at 01:07.5 for
    // a 15 s period (tick 8), 01:07.5 for a 30 s interval too.
    expect(
      autoscalerPhases({
        hpaCreationTimestamp: "2026-01-01T00:00:07Z",
        loadStartMs: at("2026-01-01T00:01:00Z"),
        hpaSyncPeriodSeconds: 15,
        kedaPollingIntervalSeconds: 30,
      }),
    ).toEqual({ hpaFirstSyncSeconds: 8, kedaFirstPollSeconds: 8 });
    // The HPA's 15 s and a 20 s polling interval part ways: the load at 50.2 s finds the next sync at 52.5 s
    // (7.5 + 3 * 15) and the next poll at 67.5 s (7.5 + 3 * 20): 2.3 and 17.3 s away, ticks 3 and 18.
    expect(
      autoscalerPhases({
        hpaCreationTimestamp: "2026-01-01T00:00:07Z",
        loadStartMs: at("2026-01-01T00:00:50.200Z"),
        hpaSyncPeriodSeconds: 15,
        kedaPollingIntervalSeconds: 20,
      }),
    ).toEqual({ hpaFirstSyncSeconds: 3, kedaFirstPollSeconds: 18 });
  });

  it("gives no KEDA poll for an HPA policy, and nothing for an HPA without a creation time", () => {
    expect(
      autoscalerPhases({
        hpaCreationTimestamp: "2026-01-01T00:00:07Z",
        loadStartMs: at("2026-01-01T00:01:00Z"),
        hpaSyncPeriodSeconds: 15,
      }),
    ).toEqual({ hpaFirstSyncSeconds: 8 });
    expect(
      autoscalerPhases({ hpaCreationTimestamp: undefined, loadStartMs: 0, hpaSyncPeriodSeconds: 15 }),
    ).toBeUndefined();
  });

  it("dates the HPA's last recommendation from when its scaling was disabled", () => {
    const base = {
      hpaCreationTimestamp: "2026-01-01T00:00:07Z",
      loadStartMs: at("2026-01-01T00:10:00Z"),
      hpaSyncPeriodSeconds: 15,
    };
    // KEDA scaled the workload to zero: the sync at 00:08:52.5 found zero replicas, so the last that
    // computed a scale was the one before it, 15 s earlier: 82.5 s before the load. The simulation's first
    // sync is at 8 s (607.5 rounded up), so 82 puts it six whole periods before that, as in the cluster.
    expect(
      autoscalerPhases({
        ...base,
        scalingActive: {
          status: "False",
          reason: "ScalingDisabled",
          lastTransitionTime: "2026-01-01T00:08:52Z",
        },
      })?.hpaLastRecommendationSeconds,
    ).toBe(82);
    // Disabled from its first sync (created at zero replicas): that sync recorded the one recommendation.
    expect(
      autoscalerPhases({
        ...base,
        scalingActive: {
          status: "False",
          reason: "ScalingDisabled",
          lastTransitionTime: "2026-01-01T00:00:22Z",
        },
      })?.hpaLastRecommendationSeconds,
    ).toBe(577);
    // The condition's time is truncated to its second, as the creation's is; a sync a few milliseconds
    // into the next second (00:08:53.0x) still belongs to the syncs the creation puts at .5 s, and the
    // recommendation lies whole periods before the simulation's syncs (8 s in, and 82 s before the load):
    // otherwise it would seem a second newer, and a scale-up window of whole periods would hold one sync
    // longer than the cluster's did.
    expect(
      autoscalerPhases({
        ...base,
        loadStartMs: at("2026-01-01T00:09:59.800Z"),
        scalingActive: {
          status: "False",
          reason: "ScalingDisabled",
          lastTransitionTime: "2026-01-01T00:08:53Z",
        },
      }),
    ).toEqual({ hpaFirstSyncSeconds: 8, hpaLastRecommendationSeconds: 82 });
    // Computing at every sync, or failing for another reason: nothing to carry into the simulation.
    for (const scalingActive of [
      { status: "True", reason: "ValidMetricFound", lastTransitionTime: "2026-01-01T00:08:52Z" },
      { status: "False", reason: "FailedGetExternalMetric", lastTransitionTime: "2026-01-01T00:08:52Z" },
      undefined,
    ]) {
      expect(autoscalerPhases({ ...base, scalingActive })?.hpaLastRecommendationSeconds).toBeUndefined();
    }
  });
});
