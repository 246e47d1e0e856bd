import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCsvTrace, parseTrace, TraceError } from "../../../src/simulate/trace.js";
import { parseRequestLog, parseTimestamp } from "../../../src/trace/request-log.js";

/** `run` throws a TraceError whose message holds `expected` (or matches it). */
function expectTraceError(run: () => unknown, expected: string | RegExp): void {
  expect(run).toThrow(TraceError);
  expect(run).toThrow(expected);
}

describe("timestamps", () => {
  it("reads the Azure trace's format, ISO 8601 with a zone, and plain seconds", () => {
    expect(parseTimestamp("2023-11-16 18:15:46.6805900")?.seconds).toBeCloseTo(
      Date.UTC(2023, 10, 16, 18, 15, 46) / 1000 + 0.68059,
      6,
    );
    expect(parseTimestamp("2023-11-16T18:15:46Z")).toEqual({
      seconds: Date.UTC(2023, 10, 16, 18, 15, 46) / 1000,
      kind: "date-time",
    });
    // 20:15 at UTC+02:00 is 18:15 UTC.
    expect(parseTimestamp("2023-11-16T20:15:46+02:00")?.seconds).toBe(
      Date.UTC(2023, 10, 16, 18, 15, 46) / 1000,
    );
    expect(parseTimestamp("1700158546.5")).toEqual({ seconds: 1700158546.5, kind: "seconds" });
    expect(parseTimestamp("yesterday")).toBeUndefined();
    expect(parseTimestamp("2023-13-01 00:00:00")).toBeUndefined();
  });
});

describe("request logs", () => {
  it("counts requests into clock-aligned 15 s buckets as arrivals per second", () => {
    const trace = parseCsvTrace(
      [
        "TIMESTAMP,ContextTokens,GeneratedTokens",
        "2023-11-16 18:15:46.1,374,44",
        "2023-11-16 18:15:50.9,396,109",
        "2023-11-16 18:15:59.9,879,55",
        "2023-11-16 18:16:00.0,91,16",
        // Nothing from 18:16:15 to 18:16:30; rows out of order are counted all the same.
        "2023-11-16 18:16:31.0,10,10",
        "2023-11-16 18:15:45.0,10,10",
      ].join("\n"),
      "log.csv",
    );
    // 18:15:45 starts the first bucket.
    expect(trace.wallClockStart).toBe(Date.UTC(2023, 10, 16, 18, 15, 45) / 1000);
    expect(trace.points).toEqual([
      { t: 0, rps: 4 / 15 },
      { t: 15, rps: 1 / 15 },
      { t: 30, rps: 0 },
      { t: 45, rps: 1 / 15 },
    ]);
    expect(trace.end).toBe(60);
  });

  it("takes a bucket width and a scale factor", () => {
    const text = "timestamp\n0\n0.5\n1\n9.9\n10\n";
    const trace = parseRequestLog(text, "log.csv", { bucketSeconds: 5, scale: 3 });
    expect(trace.points).toEqual([
      { t: 0, rps: (3 * 3) / 5 },
      { t: 5, rps: 3 / 5 },
      { t: 10, rps: 3 / 5 },
    ]);
    // Plain seconds say nothing of the time of day.
    expect(trace.wallClockStart).toBeUndefined();
  });

  it("names the line of a bad timestamp, a short row, or a change of timestamp kind", () => {
    expectTraceError(
      () => parseTrace("TIMESTAMP,x\n2023-11-16 18:15:46,1\nsoon,2\n", "log.csv"),
      'log.csv: line 3: timestamp "soon" is not a time (expected e.g. 2023-11-16 18:15:46.68, ISO 8601, or seconds)',
    );
    expectTraceError(
      () => parseTrace("TIMESTAMP,x\n2023-11-16 18:15:46,1\n2\n", "log.csv"),
      "log.csv: line 3: has 1 fields, the header on line 1 has 2",
    );
    expectTraceError(
      () => parseTrace("timestamp\n2023-11-16 18:15:46\n1700000000\n", "log.csv"),
      'log.csv: line 3: timestamp "1700000000" is a number of seconds, line 2\'s is a date and time',
    );
    expectTraceError(() => parseTrace("timestamp\n", "log.csv"), "log.csv: trace: has no requests");
    expectTraceError(
      () => parseTrace("timestamp\n0\n1700000000000\n", "log.csv"),
      /use a wider bucket \(or are the timestamps in milliseconds\?\)/,
    );
  });

  it("reads the shipped Azure LLM inference trace 2023 (Patel et al., Splitwise, ISCA 2024; CC-BY 4.0)", () => {
    const file = new URL(
      "../../../examples/traces/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv",
      import.meta.url,
    ).pathname;
    const trace = parseTrace(readFileSync(file, "utf8"), file);
    const requests = trace.points.reduce((sum, point) => sum + (point.rps ?? 0) * 15, 0);
    expect(Math.round(requests)).toBe(19_366);
    // One hour, as its README says.
    expect(trace.end).toBeGreaterThan(3500);
    expect(trace.end).toBeLessThanOrEqual(3615);
    expect(new Date((trace.wallClockStart ?? 0) * 1000).toISOString()).toBe("2023-11-16T18:15:45.000Z");
  });
});

describe("the start comment of a CSV trace", () => {
  it("gives the time of day of t = 0", () => {
    const trace = parseCsvTrace("# start: 2024-05-01T13:00:00Z\nt,rps\n0,1\n15,2\n");
    expect(trace.wallClockStart).toBe(Date.UTC(2024, 4, 1, 13) / 1000);
    expectTraceError(
      () => parseCsvTrace("# start: noon\nt,rps\n0,1\n", "a.csv"),
      'a.csv: line 1: start "noon" is not a time',
    );
  });
});
