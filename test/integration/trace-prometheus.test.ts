// `mlautoscale trace --prometheus` against the Prometheus the project installs: a day of samples with known
// values is written into its storage with its own promtool (as `promtool tsdb create-blocks-from` backfills
// history), then read back through range queries.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_PROGRAMS } from "../../dev/controlplane/binaries.js";
import { Components } from "../../dev/controlplane/components.js";
import { parseTrace } from "../../src/simulate/trace.js";
import { runTraceCommand } from "../../src/trace/command.js";
import { runCommand } from "../support/command-io.js";

const STEP = 15;
const DAY = 24 * 3600;
/** A 20-minute gap two hours before the end: the source was down. */
const GAP = { from: DAY - 2 * 3600, to: DAY - 2 * 3600 + 1200 };
/** Prometheus looks back this far for a sample (its default lookback delta). */
const LOOKBACK = 300;

const dir = mkdtempSync(join(tmpdir(), "mlautoscale-trace-prometheus-"));
const components = new Components(dir, () => undefined, 60_000);
// The last sample, on a 15 s boundary, ten minutes back: well inside what Prometheus serves.
const end = Math.floor(Date.now() / 1000 / STEP) * STEP - 600;
const start = end - DAY;
const requestsAt = (t: number) => 20 + ((t / STEP) % 40);
const queueAt = (t: number) => (t / STEP) % 7;
let url = "";

const trace = (...argv: string[]) => runCommand(runTraceCommand, argv);

beforeAll(async () => {
  const lines = ["# TYPE demo_requests_per_second gauge"];
  const queue = ["# TYPE demo_queue_depth gauge"];
  for (let t = start; t <= end; t += STEP) {
    const offset = t - start;
    if (offset >= GAP.from && offset < GAP.to) continue;
    lines.push(`demo_requests_per_second{pod="a"} ${requestsAt(offset) / 2} ${t}`);
    lines.push(`demo_requests_per_second{pod="b"} ${requestsAt(offset) / 2} ${t}`);
    queue.push(`demo_queue_depth ${queueAt(offset)} ${t}`);
  }
  writeFileSync(join(dir, "history.om"), `${[...lines, ...queue].join("\n")}\n# EOF\n`);
  const prometheus = SYSTEM_PROGRAMS.prometheus.path;
  execFileSync(join(dirname(prometheus), "promtool"), [
    "tsdb",
    "create-blocks-from",
    "openmetrics",
    "-q",
    join(dir, "history.om"),
    join(dir, "data"),
  ]);
  writeFileSync(join(dir, "prometheus.yml"), "global: { scrape_interval: 15s }\nscrape_configs: []\n");
  const component = await components.start("prometheus", 1, ([port]) => ({
    command: prometheus,
    args: [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    probe: { url: `http://127.0.0.1:${port}/-/ready` },
  }));
  url = `http://127.0.0.1:${component.ports[0] ?? 0}`;
}, 120_000);

afterAll(async () => {
  await components.stopAll([]);
});

describe("mlautoscale trace --prometheus", () => {
  it("reads a day at 15 s steps, one column per query, and marks the gap metrics_down", async () => {
    const until = new Date(end * 1000).toISOString();
    const { code, stdout, stderr } = await trace(
      "--prometheus",
      url,
      "--query",
      "sum(demo_requests_per_second)",
      "--query",
      "queue=demo_queue_depth",
      "--since",
      "24h",
      "--until",
      until,
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "Z");
    expect(stdout.split("\n").slice(0, 4)).toEqual([
      `# mlautoscale trace: ${url}, ${iso(start)} to ${iso(end)}, step 15 s`,
      "# rps = sum(demo_requests_per_second)",
      "# queue = demo_queue_depth",
      `# start: ${iso(start)}`,
    ]);
    const parsed = parseTrace(stdout, "day.csv");
    expect(parsed.points).toHaveLength(DAY / STEP + 1);
    expect(parsed.wallClockStart).toBe(start);
    const lastBeforeGap = GAP.from - STEP;
    for (const point of parsed.points) {
      const inGap = point.t >= GAP.from && point.t < GAP.to;
      // In the gap the value holds; Prometheus itself answers with the last sample for its lookback (5 min),
      // then nothing: the trace says the source was down. (Whether the step at exactly 5 min still sees the
      // sample depends on the Prometheus version's lookback bounds.)
      const source = inGap ? lastBeforeGap : point.t;
      expect([point.t, point.rps, point.queue]).toEqual([point.t, requestsAt(source), queueAt(source)]);
      if (point.t === GAP.from + LOOKBACK - STEP) continue;
      expect([point.t, point.metricsDown]).toEqual([point.t, inGap && point.t >= GAP.from + LOOKBACK]);
    }
  });

  it("asks in pieces Prometheus accepts: a day at 5 s is 17,281 points, over its 11,000-point limit", async () => {
    const { code, stdout, stderr } = await trace(
      "--prometheus",
      url,
      "--query",
      "sum(demo_requests_per_second)",
      "--since",
      "24h",
      "--until",
      String(end),
      "--step",
      "5s",
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const parsed = parseTrace(stdout, "day.csv");
    expect(parsed.points).toHaveLength(DAY / 5 + 1);
    // Between samples Prometheus answers with the one before.
    const point = parsed.points[12_001];
    expect(point?.rps).toBe(requestsAt(Math.floor((point?.t ?? 0) / STEP) * STEP));
  });

  it("says what Prometheus refused, and asks to aggregate several series", async () => {
    const several = await trace(
      "--prometheus",
      url,
      "--query",
      "demo_requests_per_second",
      "--since",
      "1h",
      "--until",
      String(end),
    );
    expect(several).toMatchObject({ code: 1, stdout: "" });
    expect(several.stderr).toBe(
      'error: query "demo_requests_per_second" returned 2 series ({__name__="demo_requests_per_second", pod="a"}, {__name__="demo_requests_per_second", pod="b"}): aggregate them into one, e.g. sum(...)\n',
    );
    const syntax = await trace(
      "--prometheus",
      url,
      "--query",
      "sum(rate(",
      "--since",
      "1h",
      "--until",
      String(end),
    );
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toMatch(
      /^error: query "sum\(rate\(": Prometheus answered 400: bad_data: .*parse error/,
    );
    const empty = await trace(
      "--prometheus",
      url,
      "--query",
      "no_such_metric",
      "--since",
      "1h",
      "--until",
      String(end),
    );
    expect(empty.stderr).toMatch(/^error: query "no_such_metric" returned no data from /);
  });
});
