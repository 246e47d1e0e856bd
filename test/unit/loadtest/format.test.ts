import { describe, expect, it } from "vitest";
import {
  formatReportCsv,
  formatReportJson,
  renderReportSvg,
  timelineInterval,
  type LoadtestReport,
} from "../../../src/loadtest/format.js";
import { summarize, type ObservedStep } from "../../../src/loadtest/timeline.js";

function report(steps: ObservedStep[]): LoadtestReport {
  return {
    policy: "svc",
    namespace: "ml",
    engine: "HPA",
    workload: { kind: "Deployment", name: "svc" },
    hpa: "svc",
    source: { kind: "http", description: "HTTP requests to the workload emulator at http://e (ml/svc)" },
    trace: { file: "t.csv", durationSeconds: steps.length, arrivals: 3 },
    timeScale: 1,
    settleSeconds: 0,
    startedAt: "2026-01-01T00:00:00.000Z",
    summary: summarize(steps, {
      scheduled: 3,
      traceArrivals: 3,
      missedSamples: 1,
      maxLagSeconds: 0,
      interrupted: false,
    }),
    steps,
  };
}

const steps: ObservedStep[] = [
  { t: 0, traceT: 0, load: 1, desiredReplicas: 1, replicas: 1, readyReplicas: 1, queue: 0.3333333 },
  { t: 1, traceT: 1, load: 2, desiredReplicas: null, replicas: null, readyReplicas: null, queue: null },
  { t: 2, traceT: null, load: 0, desiredReplicas: 2, replicas: 2, readyReplicas: 1, queue: 1 },
];

describe("a load test's report", () => {
  it("leaves unknown samples empty in CSV and null in JSON, numbers rounded to three decimals", () => {
    expect(formatReportCsv(report(steps))).toBe(
      "t,trace_t,load,desired_replicas,replicas,ready_replicas,queue\n0,0,1,1,1,1,0.333\n1,1,2,,,,\n2,,0,2,2,1,1\n",
    );
    const document = JSON.parse(formatReportJson(report(steps))) as {
      steps: ObservedStep[];
      summary: { missedSamples: number };
    };
    expect(document.steps[0]?.queue).toBe(0.333);
    expect(document.steps[1]).toEqual({
      t: 1,
      traceT: 1,
      load: 2,
      desiredReplicas: null,
      replicas: null,
      readyReplicas: null,
      queue: null,
    });
    expect(document.summary.missedSamples).toBe(1);
  });

  it("draws the observation with its own legend, unknown samples holding the last value", () => {
    const svg = renderReportSvg(report(steps));
    expect(svg).toContain("svc observed (HPA): peak 2 replicas, 3 replica-seconds, max queue 1");
    expect(svg).not.toContain("SLO violations");
    expect(svg).toContain("mlautoscale loadtest: ml/svc, t.csv at time scale 1");
  });

  it("keeps the table's timeline to about 40 rows", () => {
    expect(timelineInterval(30)).toBe(1);
    expect(timelineInterval(45)).toBe(2);
    expect(timelineInterval(120)).toBe(5);
    expect(timelineInterval(7200)).toBe(300);
  });
});
