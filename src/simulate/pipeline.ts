// What the metric pipeline has seen: the workload's state at each tick, kept long enough for the
// oldest reading a controller can get (a scrape interval, a metrics-server window, a rate() range).
// Scrapes fall on the simulation's ticks, half an interval (rounded down to a tick) after the HPA's first
// sync: a real scrape's phase is arbitrary, and halfway gives a sync a reading of the average age, and a
// change of load the average delay rather than the worst when the trace changes on round times, as
// traces do.

/** The workload's state at one tick: the end of the tick before it. */
export interface Observation {
  t: number;
  /** Requests waiting. */
  queue: number;
  /** Requests being served: the busy share times the Ready pods. */
  inFlight: number;
  /** Arrivals per second over the tick before t. */
  rate: number;
  /** Busy share of the Ready pods over the tick before t, 0..1. */
  busy: number;
  /** Ready pods at t. */
  ready: number;
  /** GPU utilization (percent) of a fully busy replica. */
  gpuAtFullLoad: number;
}

/**
 * The last scrape at or before `now` of a source scraped every `interval` seconds, the scrapes falling half
 * an interval after `anchor` (the HPA's first sync) and every interval either side of it (see above).
 */
export function lastScrape(now: number, anchor: number, interval: number, tick: number): number {
  const phase = Math.floor(interval / 2 / tick) * tick;
  return anchor + phase + Math.floor((now - anchor - phase) / interval) * interval;
}

export class ObservationHistory {
  private readonly ring: Observation[];
  private head = 0;
  private size = 0;

  constructor(
    private readonly tick: number,
    keepSeconds: number,
  ) {
    const slots = Math.max(2, Math.ceil(keepSeconds / tick) + 2);
    this.ring = Array.from({ length: slots }, () => ({
      t: 0,
      queue: 0,
      inFlight: 0,
      rate: 0,
      busy: 0,
      ready: 0,
      gpuAtFullLoad: 100,
    }));
  }

  /** Records the state at a new tick; the returned slot is the history's own. */
  record(observation: Readonly<Observation>): void {
    const slots = this.ring.length;
    const index = (this.head + this.size) % slots;
    if (this.size === slots) this.head = (this.head + 1) % slots;
    else this.size++;
    // Field by field: this runs once per tick, and Object.assign is several times slower.
    const slot = this.ring[index] as Observation;
    slot.t = observation.t;
    slot.queue = observation.queue;
    slot.inFlight = observation.inFlight;
    slot.rate = observation.rate;
    slot.busy = observation.busy;
    slot.ready = observation.ready;
    slot.gpuAtFullLoad = observation.gpuAtFullLoad;
  }

  /** The state at tick t, or the oldest kept when t is older. */
  at(t: number): Readonly<Observation> {
    const slots = this.ring.length;
    const newest = this.ring[(this.head + this.size - 1) % slots] as Observation;
    const back = Math.round((newest.t - t) / this.tick);
    if (back <= 0) return newest;
    const steps = Math.min(back, this.size - 1);
    return this.ring[(this.head + this.size - 1 - steps + slots) % slots] as Observation;
  }

  /**
   * The mean of `field` over the ticks in (to - seconds, to]: each tick's value covers the tick
   * before it, so this is the average over the last `seconds` before `to` (at least one tick).
   */
  mean(field: "rate" | "busy", to: number, seconds: number): number {
    const ticks = Math.max(1, Math.round(seconds / this.tick));
    let sum = 0;
    for (let step = 0; step < ticks; step++) sum += this.at(to - step * this.tick)[field];
    return sum / ticks;
  }
}
