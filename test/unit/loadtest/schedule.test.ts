import { describe, expect, it } from "vitest";
import { arrivalSchedule, realTimeTrace } from "../../../src/loadtest/schedule.js";
import { simulate, DEFAULT_OPTIONS } from "../../../src/simulate/simulate.js";
import { parseCsvTrace } from "../../../src/simulate/trace.js";
import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";

const counts = (csv: string, scale = 1) =>
  arrivalSchedule(parseCsvTrace(csv), scale).seconds.map((s) => s.count);

describe("the arrival schedule", () => {
  it("sends each second the trace's arrivals in it, one entry per second of the trace", () => {
    // 0-10 s at 2/s, 10-20 s at 5/s; the last point holds as long as the interval before it.
    const schedule = arrivalSchedule(parseCsvTrace("t,rps\n0,2\n10,5\n"), 1);
    expect(schedule.seconds).toHaveLength(20);
    expect(schedule.seconds.slice(0, 10).every((s) => s.count === 2)).toBe(true);
    expect(schedule.seconds.slice(10).every((s) => s.count === 5)).toBe(true);
    expect(schedule.total).toBe(70);
    expect(schedule.traceArrivals).toBe(70);
    expect(schedule.seconds[3]).toEqual({ t: 3, traceT: 3, count: 2 });
  });

  it("carries fractions from second to second, so the counts add up to the trace's arrivals", () => {
    // 0.4/s for 10 s: 4 arrivals, never two in a row.
    const seconds = counts("t,rps\n0,0.4\n5,0.4\n");
    expect(seconds.reduce((a, b) => a + b, 0)).toBe(4);
    expect(seconds).toEqual([0, 1, 0, 1, 0, 0, 1, 0, 1, 0]);
    // A rate that changes mid-second is integrated over the second.
    expect(counts("t,rps\n0,1\n0.5,3\n2,0\n")).toEqual([2, 3, 0, 0]);
  });

  it("counts each rise of the queue column as that many arrivals, in the second it is recorded", () => {
    // The first value is a rise from 0; falls send nothing.
    expect(counts("t,queue\n0,5\n2,3\n4,10\n6,10\n")).toEqual([5, 0, 0, 0, 7, 0, 0, 0]);
    // Both columns add up.
    expect(counts("t,rps,queue\n0,1,0\n2,1,4\n4,0,4\n")).toEqual([1, 1, 5, 1, 0, 0]);
  });

  it("compresses time by the time scale and still sends every arrival", () => {
    // 60 s at 2/s, at time scale 10: 6 real seconds of 20 each.
    const schedule = arrivalSchedule(parseCsvTrace("t,rps\n0,2\n30,2\n"), 10);
    expect(schedule.seconds.map((s) => s.count)).toEqual([20, 20, 20, 20, 20, 20]);
    expect(schedule.seconds.map((s) => s.traceT)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(schedule.total).toBe(120);
    // A partial last second carries what is left.
    expect(counts("t,rps\n0,1\n5,1\n", 4)).toEqual([4, 4, 2]);
    // A trace that does not start at 0 is replayed from its first point.
    expect(arrivalSchedule(parseCsvTrace("t,rps\n100,1\n102,1\n"), 1).seconds).toEqual([
      { t: 0, traceT: 100, count: 1 },
      { t: 1, traceT: 101, count: 1 },
      { t: 2, traceT: 102, count: 1 },
      { t: 3, traceT: 103, count: 1 },
    ]);
  });

  it("says whether the trace has columns a live cluster cannot replay", () => {
    const schedule = arrivalSchedule(parseCsvTrace("t,rps,metrics_down,gpu\n0,1,0,50\n1,1,1,50\n"), 1);
    expect(schedule.hasMetricsDown).toBe(true);
    expect(schedule.hasGpu).toBe(true);
    expect(() => arrivalSchedule(parseCsvTrace("t,rps\n0,1\n"), 0)).toThrow(/time scale/);
  });
});

describe("the trace on the real clock, for the simulator", () => {
  const hpa: V2HorizontalPodAutoscaler = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "svc" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "svc" },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        {
          type: "Pods",
          pods: {
            metric: { name: "inference_queue_depth" },
            target: { type: "AverageValue", averageValue: "10" },
          },
        },
      ],
    },
  };

  it("divides time and multiplies rates by the time scale, keeps queue rises, drops metrics_down", () => {
    const trace = parseCsvTrace("t,rps,queue,metrics_down\n100,2,5,1\n160,4,9,0\n");
    const real = realTimeTrace(trace, 10);
    expect(real.points).toEqual([
      { t: 0, rps: 20, queue: 5 },
      { t: 6, rps: 40, queue: 9 },
    ]);
    expect(real.end).toBe(12);
  });

  it("holds the same arrivals per second as the schedule sends", () => {
    const trace = parseCsvTrace("t,rps\n0,3\n20,6\n40,0\n60,0\n");
    const real = realTimeTrace(trace, 4);
    const schedule = arrivalSchedule(trace, 4);
    const result = simulate({ name: "svc", engine: "HPA", hpa, modelLoadSeconds: 5 }, real, DEFAULT_OPTIONS);
    expect(result.summary.totalRequests).toBeCloseTo(schedule.total, 6);
    expect(result.summary.durationSeconds).toBe(schedule.seconds.length);
  });

  it("goes on with no load for the settle seconds, as the sampling does", () => {
    const trace = parseCsvTrace("t,rps\n0,2\n10,2\n");
    const real = realTimeTrace(trace, 1, 30);
    expect(real.points.at(-1)).toEqual({ t: 20, rps: 0 });
    expect(real.end).toBe(50);
    const result = simulate({ name: "svc", engine: "HPA", hpa, modelLoadSeconds: 5 }, real, DEFAULT_OPTIONS);
    expect(result.summary.totalRequests).toBeCloseTo(40, 6);
    expect(result.summary.durationSeconds).toBe(50);
  });
});
