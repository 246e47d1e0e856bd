import { describe, expect, it } from "vitest";
import { Workload, type WorkloadParameters } from "../../../src/simulate/workload.js";

const params: WorkloadParameters = {
  serviceRatePerReplica: 10,
  modelLoadSeconds: 60,
  schedulingDelaySeconds: 5,
  latencySloSeconds: 2,
  requestTimeoutSeconds: 1000,
  gpusPerReplica: 2,
  gpuPricePerHour: 1,
  memoryUtilizationPercent: 50,
};

describe("queue", () => {
  it("serves FIFO and measures waits from mid-tick arrival", () => {
    const workload = new Workload(params);
    workload.seed(1, 0);
    // Tick [0, 10): 200 arrive (at 5), capacity 1 x 10/s x 10 s = 100. The 100 served are served
    // around 0 + 10 * 50 / 100 = 5: no wait. 100 stay queued.
    const first = workload.serve(0, 10, 200);
    expect(first).toMatchObject({ served: 100, waitSum: 0, capacity: 100 });
    expect(workload.queueDepth).toBe(100);
    // Tick [10, 20): the 100 left are served around 10 + 10 * 50 / 100 = 15: a 10 s wait each, so all
    // break the 2 s objective.
    const second = workload.serve(10, 10, 0);
    expect(second).toMatchObject({ served: 100, waitSum: 1000, maxWait: 10, violations: 100 });
    expect(workload.queueDepth).toBe(0);
  });

  it("drops requests that waited past the timeout, however long the backlog", () => {
    const workload = new Workload(params);
    let dropped = 0;
    // No replicas; one request per 15 s tick arriving at 15j + 7.5. At tick k it is dropped once
    // 15j + 7.5 < 15k - 1000, i.e. 15(k - j) > 1007.5, k - j >= 68: after 100 ticks (k <= 99)
    // cohorts 0..31 are gone.
    for (let tick = 0; tick < 100; tick++) dropped += workload.serve(tick * 15, 15, 1).dropped;
    expect(dropped).toBe(32);
    expect(workload.queueDepth).toBe(68);
  });
});

describe("pods", () => {
  it("schedules, loads, then serves; GPU time starts when the container starts", () => {
    const workload = new Workload(params);
    workload.scaleTo(1, 0);
    expect(workload.counts(0)).toEqual({ pending: 1, loading: 0, ready: 0, terminating: 0 });
    expect(workload.counts(5)).toEqual({ pending: 0, loading: 1, ready: 0, terminating: 0 });
    expect(workload.counts(65)).toEqual({ pending: 0, loading: 0, ready: 1, terminating: 0 });
    // [0, 15): started at 5 -> 10 s x 2 GPUs; not Ready -> no capacity.
    expect(workload.serve(0, 15, 0)).toMatchObject({ gpuSeconds: 20, readySeconds: 0, capacity: 0 });
    // [60, 75): Ready from 65 -> 10 ready seconds, 100 requests of capacity.
    expect(workload.serve(60, 15, 0)).toMatchObject({ gpuSeconds: 30, readySeconds: 10, capacity: 100 });
  });

  it("removes pending pods first, then loading ones, then the most recently ready", () => {
    const workload = new Workload(params);
    workload.seed(1, 0); // ready since before the start
    workload.scaleTo(2, 100); // ready at 165
    workload.scaleTo(3, 200); // loading from 205
    workload.scaleTo(4, 210); // pending until 215
    workload.scaleTo(3, 210);
    expect(workload.counts(210)).toEqual({ pending: 0, loading: 1, ready: 2, terminating: 0 });
    workload.scaleTo(2, 210);
    expect(workload.counts(210)).toEqual({ pending: 0, loading: 0, ready: 2, terminating: 0 });
    workload.scaleTo(1, 210);
    // The pod Ready since 165 goes before the one Ready since the start.
    expect(workload.pods.map((pod) => pod.readyAt)).toEqual([-Infinity]);
  });
});
