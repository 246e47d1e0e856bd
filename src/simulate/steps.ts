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

export class StepTable {
  private readonly columns: Record<keyof SimulationStep, Float64Array>;
  private rows = 0;

  constructor(readonly capacity: number) {
    // One buffer for all columns: one allocation per simulation instead of twelve.
    const buffer = new Float64Array(capacity * STEP_FIELDS.length);
    const columns: Partial<Record<keyof SimulationStep, Float64Array>> = {};
    STEP_FIELDS.forEach(
      (field, index) => (columns[field] = buffer.subarray(index * capacity, (index + 1) * capacity)),
    );
    this.columns = columns as Record<keyof SimulationStep, Float64Array>;
  }

  get length(): number {
    return this.rows;
  }

  /** Appends a row; `step` may be a scratch object the caller reuses. */
  push(step: Readonly<SimulationStep>): void {
    if (this.rows >= this.capacity) throw new RangeError(`step table is full (${this.capacity} rows)`);
    const row = this.rows++;
    // Spelled out field by field: this runs once per simulated tick.
    const c = this.columns;
    c.t[row] = step.t;
    c.load[row] = step.load;
    c.desiredReplicas[row] = step.desiredReplicas;
    c.readyReplicas[row] = step.readyReplicas;
    c.loadingReplicas[row] = step.loadingReplicas;
    c.pendingReplicas[row] = step.pendingReplicas;
    c.queue[row] = step.queue;
    c.waitSeconds[row] = step.waitSeconds;
    c.served[row] = step.served;
    c.dropped[row] = step.dropped;
    c.sloViolations[row] = step.sloViolations;
    c.utilization[row] = step.utilization;
  }

  column(field: keyof SimulationStep): Float64Array {
    return this.columns[field].subarray(0, this.rows);
  }

  row(index: number): SimulationStep {
    const step = {} as SimulationStep;
    for (const field of STEP_FIELDS) step[field] = this.columns[field][index] ?? 0;
    return step;
  }

  toArray(): SimulationStep[] {
    const steps: SimulationStep[] = new Array<SimulationStep>(this.rows);
    for (let index = 0; index < this.rows; index++) steps[index] = this.row(index);
    return steps;
  }
}
