import { describe, expect, it } from "vitest";
import {
  parseDuration,
  parseRangeQuery,
  PrometheusError,
  samplesOf,
  traceFromSamples,
} from "../../../src/trace/prometheus.js";

function matrix(...series: { metric: Record<string, string>; values: [number, string][] }[]) {
  return { status: "success", data: { resultType: "matrix", result: series } };
}

describe("Prometheus durations and queries", () => {
  it("reads durations as Prometheus writes them", () => {
    expect(parseDuration("15s")).toBe(15);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("7d")).toBe(604_800);
    expect(parseDuration("500ms")).toBe(0.5);
    expect(parseDuration("24")).toBeUndefined();
    expect(parseDuration("1.5h")).toBeUndefined();
    expect(parseDuration("0s")).toBeUndefined();
  });

  it("takes a column name before the first '=', but not a comparison", () => {
    expect(parseRangeQuery('queue=sum(rabbitmq_queue_messages{queue="jobs"})')).toEqual({
      column: "queue",
      query: 'sum(rabbitmq_queue_messages{queue="jobs"})',
    });
    expect(parseRangeQuery("sum(rate(http_requests_total[1m]))")).toEqual({
      column: "rps",
      query: "sum(rate(http_requests_total[1m]))",
    });
    expect(parseRangeQuery("gpu == 1")).toEqual({ column: "rps", query: "gpu == 1" });
    expect(() => parseRangeQuery("rps=")).toThrow(/the PromQL expression is empty/);
  });
});

describe("range query answers", () => {
  const start = 1_700_000_000;

  it("places each sample on its step and skips NaN", () => {
    const samples = samplesOf(
      matrix({
        metric: {},
        values: [
          [start, "1.5"],
          [start + 30, "NaN"],
          [start + 45, "4"],
        ],
      }),
      "q",
      start,
      15,
    );
    expect([...samples]).toEqual([
      [0, 1.5],
      [3, 4],
    ]);
  });

  it("refuses several series, naming their labels, and negative values", () => {
    const answer = matrix(
      { metric: { pod: "a" }, values: [[start, "1"]] },
      { metric: { pod: "b" }, values: [[start, "1"]] },
    );
    expect(() => samplesOf(answer, "rate(x[1m])", start, 15)).toThrow(
      'query "rate(x[1m])" returned 2 series ({pod="a"}, {pod="b"}): aggregate them into one, e.g. sum(...)',
    );
    expect(() => samplesOf(matrix({ metric: {}, values: [[start, "-2"]] }), "q", start, 15)).toThrow(
      /value -2 at 2023-11-14T22:13:20.000Z is negative/,
    );
    expect(() =>
      samplesOf({ status: "success", data: { resultType: "vector", result: [] } }, "q", start, 15),
    ).toThrow(PrometheusError);
  });

  it("marks the steps a column misses as metrics down, holding its last value", () => {
    const trace = traceFromSamples(
      [
        {
          column: "rps",
          samples: new Map([
            [1, 10],
            [2, 12],
            [4, 20],
          ]),
        },
        {
          column: "queue",
          samples: new Map([
            [0, 3],
            [1, 4],
            [2, 5],
            [3, 6],
            [4, 7],
          ]),
        },
      ],
      5,
      15,
      start,
      2,
    );
    expect(trace).toEqual({
      points: [
        // Before its first sample the column takes that first value.
        { t: 0, rps: 20, queue: 3, metricsDown: true },
        { t: 15, rps: 20, queue: 4, metricsDown: false },
        { t: 30, rps: 24, queue: 5, metricsDown: false },
        { t: 45, rps: 24, queue: 6, metricsDown: true },
        { t: 60, rps: 40, queue: 7, metricsDown: false },
      ],
      end: 75,
      wallClockStart: start,
    });
  });
});
