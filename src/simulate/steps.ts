// The timeline kept column by column in typed arrays: a day of 15-second steps for a hundred
// policies is half a million rows, and rows as objects would mostly feed the garbage collector.

export interface SimulationStep {
  t: number;
  /** Arrivals per second during [t, t + tick). */
  load: number;
  desiredReplicas: number;
  readyReplicas: number;
  /** Pods loading the model (started, not Ready). */
  loadingReplicas: number;
  /** Pods waiting for a node. */
  pendingReplicas: number;
  /** Requests waiting at the end of the tick. */
  queue: number;
  /** Mean wait of the requests served in the tick, seconds. */
  waitSeconds: number;
  served: number;
  dropped: number;
  sloViolations: number;
  /** Busy fraction of the ready replicas, 0..1. */
  utilization: number;
}

export const STEP_FIELDS = [
  "t",
  "load",
  "desiredReplicas",
  "readyReplicas",
  "loadingReplicas",
  "pendingReplicas",
  "queue",
  "waitSeconds",
  "served",
  "dropped",
  "sloViolations",
  "utilization",
] as const satisfies readonly (keyof SimulationStep)[];

/** The columns that count replicas: whole numbers, kept in 16 bits while they fit. */
const COUNT_FIELDS = [
  "desiredReplicas",
  "readyReplicas",
  "loadingReplicas",
  "pendingReplicas",
] as const satisfies readonly (keyof SimulationStep)[];

type CountField = (typeof COUNT_FIELDS)[number];
type RealField = Exclude<keyof SimulationStep, CountField | "t">;

const REAL_FIELDS = STEP_FIELDS.filter(
  (field): field is RealField => field !== "t" && !(COUNT_FIELDS as readonly string[]).includes(field),
);

function isUint16(value: number): boolean {
  return (value & 0xffff) === value;
}

/** +0, which a new column already holds (-0 is not). */
function isZero(value: number): boolean {
  return value === 0 && 1 / value > 0;
}

/** Rows one tick apart from a start, as a run's are: their times need not be kept. */
export interface StepClock {
  start: number;
  tick: number;
}

/** The clock's first `rows` times, added up tick by tick as the run that pushed them did. */
function clockTimes(clock: StepClock, rows: number): Float64Array {
  const times = new Float64Array(rows);
  let t = clock.start;
  for (let row = 0; row < rows; row++, t += clock.tick) times[row] = t;
  return times;
}

export class StepTable {
  // One buffer for the real-valued columns and one for the replica counts: two allocations per
  // simulation, and a day of 15-second steps for a hundred policies writes 576,000 rows into fresh
  // memory, whose first touch costs more than the writes (bench/simulate.bench.ts). The counts take a
  // quarter of the room as 16-bit integers; a count that is not one turns them into doubles. With a
  // clock the times are not kept while the rows follow it.
  private readonly reals: Record<RealField, Float64Array>;
  private counts: Record<CountField, Uint16Array | Float64Array>;
  /** The times of the rows, or undefined while they follow the clock. */
  private times: Float64Array | undefined;
  /** The clock's time of the next row. */
  private clockTime: number;
  /** The clock's times of the rows, made when asked for. */
  private clockColumn: Float64Array | undefined;
  private rows = 0;

  constructor(
    readonly capacity: number,
    private readonly clock?: StepClock,
  ) {
    const reals = new Float64Array(capacity * REAL_FIELDS.length);
    const counts = new Uint16Array(capacity * COUNT_FIELDS.length);
    this.reals = columnsOf(REAL_FIELDS, capacity, (start, end) => reals.subarray(start, end));
    this.counts = columnsOf(COUNT_FIELDS, capacity, (start, end) => counts.subarray(start, end));
    this.times = clock ? undefined : new Float64Array(capacity);
    this.clockTime = clock?.start ?? 0;
  }

  get length(): number {
    return this.rows;
  }

  /** Appends a row; `step` may be a scratch object the caller reuses. */
  push(step: Readonly<SimulationStep>): void {
    if (this.rows >= this.capacity) throw new RangeError(`step table is full (${this.capacity} rows)`);
    const row = this.rows++;
    if (this.times) this.times[row] = step.t;
    else if (this.clock && step.t === this.clockTime) this.clockTime += this.clock.tick;
    else this.keepTimes(row, step.t);
    // Spelled out field by field: this runs once per simulated tick. Zeros are not written: the
    // columns start zeroed, and the pages of a quiet stretch (no queue, no drops) are never touched.
    const r = this.reals;
    if (!isZero(step.load)) r.load[row] = step.load;
    if (!isZero(step.queue)) r.queue[row] = step.queue;
    if (!isZero(step.waitSeconds)) r.waitSeconds[row] = step.waitSeconds;
    if (!isZero(step.served)) r.served[row] = step.served;
    if (!isZero(step.dropped)) r.dropped[row] = step.dropped;
    if (!isZero(step.sloViolations)) r.sloViolations[row] = step.sloViolations;
    if (!isZero(step.utilization)) r.utilization[row] = step.utilization;
    if (
      !isUint16(step.desiredReplicas) ||
      !isUint16(step.readyReplicas) ||
      !isUint16(step.loadingReplicas) ||
      !isUint16(step.pendingReplicas)
    ) {
      this.widenCounts();
    }
    const c = this.counts;
    c.desiredReplicas[row] = step.desiredReplicas;
    c.readyReplicas[row] = step.readyReplicas;
    if (!isZero(step.loadingReplicas)) c.loadingReplicas[row] = step.loadingReplicas;
    if (!isZero(step.pendingReplicas)) c.pendingReplicas[row] = step.pendingReplicas;
  }

  /** A row off the clock: the times are kept from here on, the clock's for the rows before. */
  private keepTimes(row: number, t: number): void {
    const times = new Float64Array(this.capacity);
    if (this.clock) times.set(clockTimes(this.clock, row));
    times[row] = t;
    this.times = times;
  }

  /** The counts as doubles from now on, for a count that is no 16-bit integer. */
  private widenCounts(): void {
    if (this.counts.desiredReplicas instanceof Float64Array) return;
    const wide = new Float64Array(this.capacity * COUNT_FIELDS.length);
    const counts = columnsOf(COUNT_FIELDS, this.capacity, (start, end) => wide.subarray(start, end));
    for (const field of COUNT_FIELDS) counts[field].set(this.counts[field]);
    this.counts = counts;
  }

  private stored(field: keyof SimulationStep): Float64Array | Uint16Array {
    if (field === "t") return this.times ?? this.timesOfClock();
    return (COUNT_FIELDS as readonly string[]).includes(field)
      ? this.counts[field as CountField]
      : this.reals[field as RealField];
  }

  private timesOfClock(): Float64Array {
    if (!this.clock) throw new Error("a step table without times has a clock");
    if (this.clockColumn?.length !== this.rows) this.clockColumn = clockTimes(this.clock, this.rows);
    return this.clockColumn;
  }

  /** The column's values: a view of the table for real values, a copy for the replica counts. */
  column(field: keyof SimulationStep): Float64Array {
    const values = this.stored(field).subarray(0, this.rows);
    return values instanceof Float64Array ? values : Float64Array.from(values);
  }

  row(index: number): SimulationStep {
    const step = {} as SimulationStep;
    for (const field of STEP_FIELDS) step[field] = this.stored(field)[index] ?? 0;
    return step;
  }

  toArray(): SimulationStep[] {
    const steps: SimulationStep[] = new Array<SimulationStep>(this.rows);
    for (let index = 0; index < this.rows; index++) steps[index] = this.row(index);
    return steps;
  }
}

/** Column-major views of one buffer, `capacity` rows per field; `view` cuts the buffer. */
function columnsOf<Field extends keyof SimulationStep, Column>(
  fields: readonly Field[],
  capacity: number,
  view: (start: number, end: number) => Column,
): Record<Field, Column> {
  const columns: Partial<Record<Field, Column>> = {};
  fields.forEach((field, index) => (columns[field] = view(index * capacity, (index + 1) * capacity)));
  return columns as Record<Field, Column>;
}
