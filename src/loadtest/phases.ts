// Where the autoscalers' loops fall against a load test's start, so that the simulation beside it syncs and
// polls when the cluster does. Pure: the command reads the HPA and the clock.

export interface AutoscalerPhases {
  /** Seconds from the load's start to the HPA controller's next sync of the HPA (--hpa-first-sync). */
  hpaFirstSyncSeconds: number;
  /** KEDA only: seconds from the load's start to KEDA's next poll (--keda-first-poll). */
  kedaFirstPollSeconds?: number;
}

/**
 * Seconds from `fromMs` to the next tick of a loop that started at `loopStartMs` and ticks every
 * `intervalSeconds`: whole, from 0 to the interval - 1.
 */
export function secondsToNextTick(loopStartMs: number, intervalSeconds: number, fromMs: number): number {
  const intervalMs = intervalSeconds * 1000;
  const untilNextMs = (((loopStartMs - fromMs) % intervalMs) + intervalMs) % intervalMs;
  return Math.round(untilNextMs / 1000) % intervalSeconds;
}

/**
 * The phases of the loops that start with an HPA created at `hpaCreationTimestamp`:
 * - kube-controller-manager queues an HPA one sync period after its informer sees it, and again one period
 *   after each sync (pkg/controller/podautoscaler/horizontal.go enqueueHPA, processNextWorkItem, with a
 *   FixedItemIntervalRateLimiter), so its syncs fall on the creation plus whole periods;
 * - KEDA creates a ScaledObject's HPA and then starts its scale loop, which polls at once and every
 *   pollingInterval after (pkg/scaling/scale_handler.go startScaleLoop).
 * The timestamp has whole seconds: the creation is taken at the middle of its second. Undefined when the
 * timestamp cannot be read.
 */
export function autoscalerPhases(input: {
  hpaCreationTimestamp: string | undefined;
  loadStartMs: number;
  hpaSyncPeriodSeconds: number;
  kedaPollingIntervalSeconds?: number | undefined;
}): AutoscalerPhases | undefined {
  const createdMs = Date.parse(input.hpaCreationTimestamp ?? "") + 500;
  if (!Number.isFinite(createdMs)) return undefined;
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
  return phases;
}
