import { describe, expect, it } from "vitest";
import { parseCsvTrace, parseJsonTrace, parseTrace, TraceError } from "../../../src/simulate/trace.js";

function errorOf(run: () => unknown): TraceError {
  try {
    run();
  } catch (error) {
    if (error instanceof TraceError) return error;
    throw error;
  }
  throw new Error("expected a TraceError");
}

describe("CSV traces", () => {
  it("reads the columns, their aliases, comments and blank lines", () => {
    const trace = parseCsvTrace(
      "# a comment\n\ntime,requests_per_second,queue_depth,gpu,metrics_down\n0,10,5,80,0\n60,20,,,1\n",
    );
    expect(trace.points).toEqual([
      { t: 0, rps: 10, queue: 5, gpu: 80, metricsDown: false },
      { t: 60, rps: 20, metricsDown: true },
    ]);
    // The last row holds for as long as the interval before it.
    expect(trace.end).toBe(120);
  });

  it("names the line of a bad value", () => {
    const error = errorOf(() => parseCsvTrace("t,rps\n0,10\n\n60,ten\n", "load.csv"));
    expect(error.message).toBe('load.csv: line 4: rps must be a non-negative number, got "ten"');
  });

  it("names the line of a row with the wrong number of fields", () => {
    expect(errorOf(() => parseCsvTrace("t,rps\n0,10,3\n")).location).toBe("line 2");
  });

  it("rejects times that do not increase, negative values, unknown columns, a missing t column", () => {
    expect(errorOf(() => parseCsvTrace("t,rps\n0,1\n60,1\n60,1\n")).message).toMatch(
      /line 4: time 60 is not after/,
    );
    expect(errorOf(() => parseCsvTrace("t,rps\n0,-1\n")).message).toMatch(
      /line 2: rps must be a non-negative/,
    );
    expect(errorOf(() => parseCsvTrace("t,load\n0,1\n")).message).toMatch(/line 1: unknown column "load"/);
    expect(errorOf(() => parseCsvTrace("rps\n1\n")).message).toMatch(/line 1: the header needs a t column/);
    expect(errorOf(() => parseCsvTrace("t,gpu\n0,50\n")).message).toMatch(/needs an rps .* or queue column/);
    expect(errorOf(() => parseCsvTrace("t,rps,gpu\n0,1,150\n")).message).toMatch(
      /line 2: gpu must be a percentage/,
    );
    expect(errorOf(() => parseCsvTrace("")).message).toMatch(/is empty/);
  });
});

describe("JSON traces", () => {
  it("accepts an array or { points }", () => {
    expect(parseJsonTrace('[{"t":0,"rps":1},{"t":30,"rps":2}]').points).toHaveLength(2);
    expect(parseJsonTrace('{"points":[{"t":0,"queue":3}]}').points).toEqual([{ t: 0, queue: 3 }]);
  });

  it("names the field of a bad value", () => {
    expect(
      errorOf(() => parseJsonTrace('{"points":[{"t":0,"rps":1},{"t":15,"rps":"x"}]}', "t.json")).message,
    ).toBe('t.json: points[1].rps: rps must be a non-negative number, got "x"');
    expect(errorOf(() => parseJsonTrace('[{"rps":1}]')).location).toBe("[0].t");
    expect(errorOf(() => parseJsonTrace("[{")).location).toBe("JSON");
  });

  it("picks the parser from the file name or the content", () => {
    expect(parseTrace('[{"t":0,"rps":1}]', "x.json").points).toHaveLength(1);
    expect(parseTrace("t,rps\n0,1\n", "x.csv").points).toHaveLength(1);
    expect(parseTrace('[{"t":0,"rps":1}]', "-").points).toHaveLength(1);
  });
});
