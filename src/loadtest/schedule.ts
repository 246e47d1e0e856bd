// The arrival schedule of a load test: which whole number of messages (or HTTP requests) to send in
// each real second, from a trace and a time scale. Pure.
import type { Trace, TracePoint } from "../simulate/trace.js";

export interface ScheduledSecond {
  /** Real seconds from the start of the run. */
  t: number;
  /** The trace time this second starts replaying. */
  traceT: number;
  /** Messages or requests to send in this second. */
  count: number;
}

export interface ArrivalSchedule {
  /** One entry per real second, t = 0, 1, 2, ... */
  seconds: ScheduledSecond[];
  /** Trace seconds replayed per real second. */
  timeScale: number;
  traceStart: number;
  traceEnd: number;
  /** The trace's arrivals, exactly (a fluid amount: rps integrated over time, plus queue rises). */
  traceArrivals: number;
  /** What the schedule sends: the sum of the counts, the trace's arrivals rounded to a whole number. */
  total: number;
  /** Whether the trace has a metrics_down point set, which a live cluster cannot replay. */
  hasMetricsDown: boolean;
  /** Whether the trace has a gpu column, which describes the workload rather than the load. */
  hasGpu: boolean;
}

/**
 * Walks a trace forward: the arrivals in [from, to), counted as the simulator counts them (rps times
 * the overlap of each point's interval, plus each rise of `queue` at a point inside the window, the
 * first recorded value counting as a rise from 0).
 */
export class ArrivalCursor {
  private index = 0;
  constructor(private readonly trace: Trace) {}

  arrivals(from: number, to: number): number {
    const points = this.trace.points;
    while (this.index + 1 < points.length && (points[this.index + 1]?.t ?? Infinity) <= from) this.index++;
    let arrivals = 0;
    for (let index = this.index; index < points.length; index++) {
      const point = points[index];
      if (!point || point.t >= to) break;
      const segmentEnd = points[index + 1]?.t ?? this.trace.end;
      const overlap = Math.min(to, segmentEnd) - Math.max(from, point.t);
      if (overlap > 0 && point.rps !== undefined) arrivals += point.rps * overlap;
      if (point.queue !== undefined && point.t >= from) {
        const previous = points[index - 1]?.queue ?? 0;
        if (point.queue > previous) arrivals += point.queue - previous;
      }
    }
    return arrivals;
  }
}

/**
 * Real second i replays trace time [start + i * F, start + (i + 1) * F) for a time scale F: a trace of D
 * seconds runs ceil(D / F) seconds. Arrivals are not scaled: every arrival of the trace is sent, so at
 * F = 60 each real second carries a minute of the trace's arrivals (60 times its rate). Fractions carry
 * over from second to second (the running total is rounded), so the counts add up to the trace's total.
 */
export function arrivalSchedule(trace: Trace, timeScale: number): ArrivalSchedule {
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
    throw new RangeError(`time scale must be a number > 0, got ${timeScale}`);
  }
  const traceStart = trace.points[0]?.t ?? 0;
  const traceEnd = trace.end;
  const realSeconds = Math.max(0, Math.ceil((traceEnd - traceStart) / timeScale - 1e-9));
  const cursor = new ArrivalCursor(trace);
  const seconds: ScheduledSecond[] = [];
  let exact = 0;
  let sent = 0;
  for (let t = 0; t < realSeconds; t++) {
    const from = traceStart + t * timeScale;
    const to = Math.min(traceStart + (t + 1) * timeScale, traceEnd);
    exact += cursor.arrivals(from, to);
    // The epsilon keeps 0.1 + 0.2 + 0.2 from landing a hair below 0.5.
    const count = Math.max(0, Math.round(exact + 1e-9) - sent);
    sent += count;
    seconds.push({ t, traceT: from, count });
  }
  return {
    seconds,
    timeScale,
    traceStart,
    traceEnd,
    traceArrivals: exact,
    total: sent,
    hasMetricsDown: trace.points.some((point) => point.metricsDown === true),
    hasGpu: trace.points.some((point) => point.gpu !== undefined),
  };
}

/**
 * The trace as the cluster receives it, on the real clock, for the simulator: time divided by the time
 * scale from 0, rates multiplied by it (queue rises stay as they are: they are counts), and
 * `metrics_down` dropped (a load test makes no metrics source fail). With `settleSeconds`, the load
 * stops at the end of the trace and the timeline goes on that long, as the sampling does.
 */
export function realTimeTrace(trace: Trace, timeScale: number, settleSeconds = 0): Trace {
  const start = trace.points[0]?.t ?? 0;
  const points: TracePoint[] = trace.points.map((point) => {
    const copy: TracePoint = { t: (point.t - start) / timeScale };
    if (point.rps !== undefined) copy.rps = point.rps * timeScale;
    if (point.queue !== undefined) copy.queue = point.queue;
    if (point.gpu !== undefined) copy.gpu = point.gpu;
    return copy;
  });
  const end = (trace.end - start) / timeScale;
  // The run sends the last partial second's arrivals in a whole second, then samples `settleSeconds`.
  const runEnd = Math.ceil(end - 1e-9) + settleSeconds;
  if (runEnd > end + 1e-9) {
    const last = points.at(-1);
    points.push({ t: end, rps: 0, ...(last?.queue !== undefined && { queue: last.queue }) });
    return { points, end: runEnd };
  }
  return { points, end };
}
