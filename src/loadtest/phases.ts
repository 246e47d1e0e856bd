// Where the autoscalers' loops fall against a load test's start, so that the simulation beside it syncs and
// polls when the cluster does. Pure: the command reads the HPA and the clock.

export interface AutoscalerPhases {
  /** Seconds from the load's start to the HPA controller's next sync of the HPA (--hpa-first-sync). */
  hpaFirstSyncSeconds: number;
  /** KEDA only: seconds from the load's start to KEDA's next poll (--keda-first-poll). */
  kedaFirstPollSeconds?: number;
  /**
   * Seconds from the HPA's last recommendation to the load's start (--hpa-last-recommendation), when the
   * HPA has stopped computing them (KEDA holds the workload at zero).
   */
  hpaLastRecommendationSeconds?: number;
}

/** The HPA's ScalingActive condition, as the API server returns it. */
export interface ScalingActiveCondition {
  status?: string;
  reason?: string;
  lastTransitionTime?: string;
}

/**
 * The simulation's tick for the next tick of a loop that started at `loopStartMs` and ticks every
 * `intervalSeconds`, counted from `fromMs`: whole seconds, from 0 to the interval - 1. Rounded up: a load
 * test sends each second's arrivals as the second begins, so a poll 2.3 s in has seen those of seconds 0
 * to 2, as the simulation's poll at its tick 3 has (a tick's poll comes before its arrivals).
 */
export function secondsToNextTick(loopStartMs: number, intervalSeconds: number, fromMs: number): number {
  const intervalMs = intervalSeconds * 1000;
  const untilNextMs = (((loopStartMs - fromMs) % intervalMs) + intervalMs) % intervalMs;
  return Math.ceil(untilNextMs / 1000) % intervalSeconds;
}

/**
 * The phases of the loops that start with an HPA created at `hpaCreationTimestamp`:
 * - kube-controller-manager queues an HPA one sync period after its informer sees it, and again one period
 *   after each sync (pkg/controller/podautoscaler/horizontal.go enqueueHPA, processNextWorkItem, with a
 *   FixedItemIntervalRateLimiter), so its syncs fall on the creation plus whole periods;
 * - KEDA creates a ScaledObject's HPA and then starts its scale loop, which polls at once and every
 *   pollingInterval after (pkg/scaling/scale_handler.go startScaleLoop).
 * And, for an HPA whose ScalingActive is False with ScalingDisabled (KEDA holds its workload at zero), when
 * it last recorded a recommendation: the sync before the one that found zero replicas, or that sync itself
 * when it was the HPA's first (recordInitialRecommendation records the replicas then; a sync with scaling
 * disabled records nothing else).
 * The timestamps have whole seconds: each is taken at the middle of its second. The last recommendation is
 * placed on the creation's syncs too: with a scale-up window of whole periods (every preset's), whether it
 * still holds a scale-up at a sync is decided by where it falls against that sync, to the millisecond in
 * the cluster, so it must lie whole periods back in the simulation. Undefined when the creation cannot be
 * read.
 */
export function autoscalerPhases(input: {
  hpaCreationTimestamp: string | undefined;
  scalingActive?: ScalingActiveCondition | undefined;
  loadStartMs: number;
  hpaSyncPeriodSeconds: number;
  kedaPollingIntervalSeconds?: number | undefined;
}): AutoscalerPhases | undefined {
  const createdMs = Date.parse(input.hpaCreationTimestamp ?? "") + 500;
  if (!Number.isFinite(createdMs)) return undefined;
  const periodMs = input.hpaSyncPeriodSeconds * 1000;
  const phases: AutoscalerPhases = {
    hpaFirstSyncSeconds: secondsToNextTick(createdMs, input.hpaSyncPeriodSeconds, input.loadStartMs),
  };
  if (input.kedaPollingIntervalSeconds !== undefined) {
    phases.kedaFirstPollSeconds = secondsToNextTick(
      createdMs,
      input.kedaPollingIntervalSeconds,
      input.loadStartMs,
    );
  }
  const { scalingActive } = input;
  const disabledMs = Date.parse(scalingActive?.lastTransitionTime ?? "") + 500;
  if (
    scalingActive?.status === "False" &&
    scalingActive.reason === "ScalingDisabled" &&
    Number.isFinite(disabledMs)
  ) {
    // The sync that found scaling disabled is the one of the creation's syncs nearest the condition's time
    // (both truncated to their second, so a sync just past a second's start can read a second late); the
    // recommendation is the sync's before it, or the first sync's own.
    const disabledSync = Math.round((disabledMs - createdMs) / periodMs);
    const recommendedMs = createdMs + Math.max(1, disabledSync - 1) * periodMs;
    // Rounded down as the syncs are rounded up, so that it lies whole periods before the simulation's
    // syncs, as it does before the cluster's.
    phases.hpaLastRecommendationSeconds = Math.max(0, Math.floor((input.loadStartMs - recommendedMs) / 1000));
  }
  return phases;
}
