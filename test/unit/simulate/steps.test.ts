import { describe, expect, it } from "vitest";
import { STEP_FIELDS, StepTable, type SimulationStep } from "../../../src/simulate/steps.js";

function step(t: number, replicas: number, queue: number): SimulationStep {
  return {
    t,
    load: 1.25 * t,
    desiredReplicas: replicas,
    readyReplicas: replicas - 1,
    loadingReplicas: 1,
    pendingReplicas: 0,
    queue,
    waitSeconds: queue / 10,
    served: 0.1 + t,
    dropped: 0,
    sloViolations: queue > 5 ? queue - 5 : 0,
    utilization: 0.75,
  };
}

describe("step table", () => {
  it("gives back every field of every row as it was pushed", () => {
    const rows = [step(0, 3, 0.5), step(15, 4, 7.25), step(30, 2, 0)];
    const table = new StepTable(rows.length);
    for (const row of rows) table.push(row);
    expect(table.toArray()).toEqual(rows);
    for (const field of STEP_FIELDS) {
      expect([...table.column(field)]).toEqual(rows.map((row) => row[field]));
    }
  });

  it("keeps replica counts beyond 16-bit integers exactly, before and after the first", () => {
    const rows = [step(0, 3, 1), step(15, 70_000, 2), step(30, 2.5, 3), step(45, 2 ** 40, 4)];
    const table = new StepTable(rows.length);
    for (const row of rows) table.push(row);
    expect([...table.column("desiredReplicas")]).toEqual([3, 70_000, 2.5, 2 ** 40]);
    expect([...table.column("readyReplicas")]).toEqual([2, 69_999, 1.5, 2 ** 40 - 1]);
    expect(table.row(0)).toEqual(rows[0]);
  });

  it("gives back the times of a clocked table as the run added them up, and keeps those off the clock", () => {
    const clock = { start: 0.1, tick: 0.2 };
    const times: number[] = [];
    for (let t = clock.start, row = 0; row < 4; row++, t += clock.tick) times.push(t);
    const onClock = new StepTable(4, clock);
    for (const t of times) onClock.push(step(t, 1, 0));
    expect([...onClock.column("t")]).toEqual(times);
    expect(onClock.toArray().map((row) => row.t)).toEqual(times);
    // A row off the clock, and one back on its time: both kept as pushed.
    const offClock = new StepTable(4, clock);
    const pushed = [times[0], times[1], 5, times[3]] as number[];
    for (const t of pushed) offClock.push(step(t, 1, 0));
    expect([...offClock.column("t")]).toEqual(pushed);
    expect(offClock.row(2).t).toBe(5);
  });

  it("gives back zeros as pushed, -0 included", () => {
    const table = new StepTable(3);
    table.push({ ...step(0, 1, 0), dropped: -0 });
    table.push({ ...step(15, 1, 2), dropped: 0.5 });
    table.push({ ...step(30, 1, 0), dropped: 0 });
    expect(Object.is(table.row(0).dropped, -0)).toBe(true);
    expect([...table.column("dropped")]).toEqual([-0, 0.5, 0]);
    expect(Object.is(table.column("dropped")[2], 0)).toBe(true);
  });

  it("refuses a row past its capacity", () => {
    const table = new StepTable(1);
    table.push(step(0, 1, 0));
    expect(() => table.push(step(15, 1, 0))).toThrow(RangeError);
  });
});
