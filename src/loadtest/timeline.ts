// What a load test observed, second by second, and its summary. Pure.

/** What one sample of the cluster read; null where the read failed. */
export interface ClusterSample {
  /**
   * The replicas the autoscaler wants: the HPA's status.desiredReplicas, or the workload's
   * spec.replicas while no HPA decides (none yet, or KEDA holds the workload at zero).
   */
  desiredReplicas: number | null;
  /** The workload's spec.replicas: what the autoscalers last wrote. */
  replicas: number | null;
  /** The workload's status.readyReplicas. */
  readyReplicas: number | null;
}

export interface ObservedStep {
  /** Real seconds from the start of the run. */
  t: number;
  /** The trace time this second replayed; null in the settle seconds after the trace. */
  traceT: number | null;
  /** Messages (or requests) sent in this second: arrivals per second. */
  load: number;
  desiredReplicas: number | null;
  replicas: number | null;
  readyReplicas: number | null;
  /** The broker's depth (or the emulator's queue) just after this second's messages were accepted. */
  queue: number | null;
}

export interface ObservedSummary {
  /** Seconds sampled: one step each. */
  durationSeconds: number;
  /** Messages (or requests) the broker (or the emulator) accepted. */
  published: number;
  /** What the whole schedule sends: the trace's arrivals, rounded. */
  scheduled: number;
  /** The trace's arrivals, before rounding. */
  traceArrivals: number;
  /** Replicas at the first sample. */
  initialReplicas: number | null;
  peakDesiredReplicas: number | null;
  /** The most spec.replicas seen. */
  peakReplicas: number | null;
  peakReadyReplicas: number | null;
  /** Seconds from the start until spec.replicas first rose above its first value; null if it never did. */
  firstScaleUpSeconds: number | null;
  /** Sum of spec.replicas over the seconds sampled. */
  replicaSeconds: number;
  readyReplicaSeconds: number;
  maxQueue: number | null;
  /** Queue depth at the last sample. */
  finalQueue: number | null;
  /** Samples with a field that could not be read. */
  missedSamples: number;
  /** How far behind its schedule the run fell at worst (a slow machine, broker or API server). */
  maxLagSeconds: number;
  interrupted: boolean;
}

function maxOf(values: readonly (number | null)[]): number | null {
  let max: number | null = null;
  for (const value of values) if (value !== null && (max === null || value > max)) max = value;
  return max;
}

function sumOf(values: readonly (number | null)[]): number {
  return values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
}

/** The first second at which `values` rises above its first known value; null if it never does. */
export function firstRise(values: readonly (number | null)[]): number | null {
  const initial = values.find((value) => value !== null);
  if (initial === undefined || initial === null) return null;
  const index = values.findIndex((value) => value !== null && value > initial);
  return index < 0 ? null : index;
}

export function summarize(
  steps: readonly ObservedStep[],
  context: {
    scheduled: number;
    traceArrivals: number;
    missedSamples: number;
    maxLagSeconds: number;
    interrupted: boolean;
  },
): ObservedSummary {
  const replicas = steps.map((step) => step.replicas);
  return {
    durationSeconds: steps.length,
    published: steps.reduce((sum, step) => sum + step.load, 0),
    scheduled: context.scheduled,
    traceArrivals: context.traceArrivals,
    initialReplicas: replicas.find((value) => value !== null) ?? null,
    peakDesiredReplicas: maxOf(steps.map((step) => step.desiredReplicas)),
    peakReplicas: maxOf(replicas),
    peakReadyReplicas: maxOf(steps.map((step) => step.readyReplicas)),
    firstScaleUpSeconds: firstRise(replicas),
    replicaSeconds: sumOf(replicas),
    readyReplicaSeconds: sumOf(steps.map((step) => step.readyReplicas)),
    maxQueue: maxOf(steps.map((step) => step.queue)),
    finalQueue: steps.at(-1)?.queue ?? null,
    missedSamples: context.missedSamples,
    maxLagSeconds: context.maxLagSeconds,
    interrupted: context.interrupted,
  };
}
