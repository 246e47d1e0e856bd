import { describe, expect, it } from "vitest";
import { runLoadTest } from "../../../src/loadtest/run.js";
import { arrivalSchedule } from "../../../src/loadtest/schedule.js";
import type { ClusterSample } from "../../../src/loadtest/timeline.js";
import type { Clock, TimerHandle } from "../../../src/runtime/clock.js";
import { parseCsvTrace } from "../../../src/simulate/trace.js";

/** Virtual time that jumps to each timer's due time as soon as it is set. */
class JumpingClock implements Clock {
  current = 1_000_000;
  now(): number {
    return this.current;
  }
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    let cancelled = false;
    setImmediate(() => {
      if (cancelled) return;
      this.current += Math.max(0, delayMs);
      callback();
    });
    return { cancel: () => (cancelled = true) };
  }
}

/** A queue nobody consumes: its depth is what was published. */
class FakeQueue {
  depthValue = 0;
  publishes: { at: number; count: number }[] = [];
  constructor(private readonly clock: Clock) {}
  publish(count: number): Promise<void> {
    this.publishes.push({ at: this.clock.now(), count });
    this.depthValue += count;
    return Promise.resolve();
  }
  depth(): Promise<number> {
    return Promise.resolve(this.depthValue);
  }
}

const sampler = (sample: ClusterSample = { desiredReplicas: 1, replicas: 1, readyReplicas: 1 }) => ({
  sample: () => Promise.resolve(sample),
});

describe("the load test's loop", () => {
  it("sends each second's arrivals at the start of that second, then samples the replicas and the queue", async () => {
    const clock = new JumpingClock();
    const queue = new FakeQueue(clock);
    const schedule = arrivalSchedule(parseCsvTrace("t,rps\n0,2\n3,5\n"), 1);
    const start = clock.now();
    const result = await runLoadTest(schedule, 2, {
      clock,
      sink: queue,
      sampler: sampler(),
      signal: new AbortController().signal,
    });
    expect(queue.publishes).toEqual([
      { at: start, count: 2 },
      { at: start + 1000, count: 2 },
      { at: start + 2000, count: 2 },
      { at: start + 3000, count: 5 },
      { at: start + 4000, count: 5 },
      { at: start + 5000, count: 5 },
    ]);
    // One step per second: the trace's six, then the two settle seconds with nothing sent.
    expect(result.steps.map((step) => [step.t, step.traceT, step.load, step.queue])).toEqual([
      [0, 0, 2, 2],
      [1, 1, 2, 4],
      [2, 2, 2, 6],
      [3, 3, 5, 11],
      [4, 4, 5, 16],
      [5, 5, 5, 21],
      [6, null, 0, 21],
      [7, null, 0, 21],
    ]);
    expect(result).toMatchObject({
      published: 21,
      interrupted: false,
      missedQueueReads: 0,
      maxLagSeconds: 0,
    });
    expect(result.error).toBeUndefined();
  });

  it("stops sending when interrupted and returns what it observed", async () => {
    const clock = new JumpingClock();
    const queue = new FakeQueue(clock);
    const controller = new AbortController();
    const schedule = arrivalSchedule(parseCsvTrace("t,rps\n0,1\n50,1\n"), 1);
    const result = await runLoadTest(schedule, 0, {
      clock,
      sink: queue,
      sampler: sampler(),
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.done === 3) controller.abort();
      },
    });
    expect(result.interrupted).toBe(true);
    expect(result.steps).toHaveLength(3);
    expect(result.published).toBe(3);
    expect(queue.publishes).toHaveLength(3);
  });

  it("stops at a failed publish, with the error", async () => {
    const clock = new JumpingClock();
    let calls = 0;
    const result = await runLoadTest(arrivalSchedule(parseCsvTrace("t,rps\n0,4\n5,4\n"), 1), 0, {
      clock,
      sink: {
        publish: () =>
          ++calls === 3
            ? Promise.reject(new Error("RabbitMQ queue q at h:5672: publish failed: closed"))
            : Promise.resolve(),
        depth: () => Promise.reject(new Error("no depth")),
      },
      sampler: sampler(),
      signal: new AbortController().signal,
    });
    expect(result.steps).toHaveLength(2);
    expect(result.published).toBe(8);
    expect(result.missedQueueReads).toBe(2);
    expect(result.steps[0]?.queue).toBeNull();
    expect(result.error).toBe(
      "RabbitMQ queue q at h:5672: publish failed: closed (publishing the 4 arrivals of second 2; some may have been delivered)",
    );
  });

  it("starts a late second at once and reports how far behind it fell", async () => {
    const clock = new JumpingClock();
    const slow = {
      sample: () => {
        clock.current += 2500;
        return Promise.resolve({ desiredReplicas: 2, replicas: 2, readyReplicas: 1 });
      },
    };
    const queue = new FakeQueue(clock);
    const result = await runLoadTest(arrivalSchedule(parseCsvTrace("t,rps\n0,1\n2,1\n"), 1), 0, {
      clock,
      sink: queue,
      sampler: slow,
      signal: new AbortController().signal,
    });
    expect(result.steps).toHaveLength(4);
    expect(result.published).toBe(4);
    expect(result.maxLagSeconds).toBeCloseTo(4.5, 6);
    expect(result.steps[1]).toMatchObject({ desiredReplicas: 2, replicas: 2, readyReplicas: 1 });
  });
});
