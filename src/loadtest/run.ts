// The load test's loop: every second, send that second's arrivals, then sample the cluster and the
// queue. Its I/O (clock, sink, sampler) comes from the caller, so tests drive it with fakes.
import { sleep, type Clock, type TimerHandle } from "../runtime/clock.js";
import { errorMessage } from "../runtime/errors.js";
import type { ArrivalSchedule } from "./schedule.js";
import type { ClusterSample, ObservedStep } from "./timeline.js";
import type { LoadSink } from "./sinks.js";

/**
 * The wall clock, with timers that keep the process alive: the runtime's systemClock unreferences its
 * timers, and a command waiting on nothing else would exit in the middle of its run.
 */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timer) };
  },
};

export interface Progress {
  /** Seconds done, and in all (the trace's plus the settle seconds). */
  done: number;
  total: number;
  published: number;
  scheduled: number;
  step: ObservedStep;
}

export interface RunDependencies {
  clock: Clock;
  sink: Pick<LoadSink, "publish" | "depth">;
  sampler: { sample(): Promise<ClusterSample> };
  /** Aborted on Ctrl-C: no more publishing; what was observed is returned. */
  signal: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export interface RunResult {
  steps: ObservedStep[];
  published: number;
  interrupted: boolean;
  /** Why the run stopped early, when a publish failed. */
  error?: string;
  /** Queue reads that failed. */
  missedQueueReads: number;
  maxLagSeconds: number;
}

/**
 * Runs the schedule, then `settleSeconds` of sampling with nothing sent. Second i starts at start + i s;
 * a second that starts late (a slow publish or sample) starts at once, and the lag is reported.
 */
export async function runLoadTest(
  schedule: ArrivalSchedule,
  settleSeconds: number,
  deps: RunDependencies,
): Promise<RunResult> {
  const { clock, sink, sampler, signal } = deps;
  const total = schedule.seconds.length + settleSeconds;
  const steps: ObservedStep[] = [];
  const start = clock.now();
  let published = 0;
  let maxLag = 0;
  let missedQueueReads = 0;
  let error: string | undefined;
  for (let t = 0; t < total; t++) {
    const due = start + t * 1000;
    const wait = due - clock.now();
    if (wait > 0) await sleep(clock, wait, signal);
    if (signal.aborted) break;
    maxLag = Math.max(maxLag, (clock.now() - due) / 1000);
    const planned = schedule.seconds[t];
    const count = planned?.count ?? 0;
    if (count > 0) {
      try {
        await sink.publish(count);
      } catch (failure) {
        error = `${errorMessage(failure)} (publishing the ${count} arrivals of second ${t}; some may have been delivered)`;
        break;
      }
      published += count;
    }
    const [sample, queue] = await Promise.all([
      sampler.sample(),
      sink.depth().catch(() => {
        missedQueueReads++;
        return null;
      }),
    ]);
    const step: ObservedStep = {
      t,
      traceT: planned ? planned.traceT : null,
      load: count,
      desiredReplicas: sample.desiredReplicas,
      replicas: sample.replicas,
      readyReplicas: sample.readyReplicas,
      queue,
    };
    steps.push(step);
    deps.onProgress?.({ done: t + 1, total, published, scheduled: schedule.total, step });
  }
  return {
    steps,
    published,
    interrupted: signal.aborted,
    ...(error !== undefined && { error }),
    missedQueueReads,
    maxLagSeconds: maxLag,
  };
}
