import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTrace } from "../../../src/simulate/trace.js";
import { runTraceCommand } from "../../../src/trace/command.js";
import { runCommand } from "../../support/command-io.js";

const scratch = mkdtempSync(join(tmpdir(), "mlautoscale-trace-"));

const run = (...argv: string[]) => runCommand(runTraceCommand, argv);

describe("mlautoscale trace --request-log", () => {
  it("writes a CSV trace that simulate reads back, with its time of day", async () => {
    const log = join(scratch, "requests.csv");
    writeFileSync(
      log,
      "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.1,1,1\n2023-11-16 18:15:47,1,1\n2023-11-16 18:16:20,1,1\n",
    );
    const { code, stdout, stderr } = await run("--request-log", log, "--bucket", "30", "--scale", "3");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        `# mlautoscale trace: 3 requests from ${log} in 30 s buckets, arrivals x3`,
        "# start: 2023-11-16T18:15:30Z",
        "t,rps",
        "0,0.2",
        "30,0.1",
        "",
      ].join("\n"),
    );
    const trace = parseTrace(stdout, "out.csv");
    expect(trace.points).toEqual([
      { t: 0, rps: 0.2 },
      { t: 30, rps: 0.1 },
    ]);
    expect(trace.wallClockStart).toBe(Date.UTC(2023, 10, 16, 18, 15, 30) / 1000);
  });

  it("names the file and line of a bad row, and a missing file", async () => {
    const log = join(scratch, "bad.csv");
    writeFileSync(log, "timestamp\n2023-11-16 18:15:46\nlater\n");
    const bad = await run("--request-log", log);
    expect(bad).toMatchObject({ code: 1, stdout: "" });
    expect(bad.stderr).toBe(
      `error: ${log}: line 3: timestamp "later" is not a time (expected e.g. 2023-11-16 18:15:46.68, ISO 8601, or seconds)\n`,
    );
    const missing = await run("--request-log", join(scratch, "none.csv"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: .*none\.csv: ENOENT/);
  });
});

describe("mlautoscale trace --prometheus", () => {
  it("says when Prometheus cannot be reached, and prints nothing else", async () => {
    // A port that was just free: nothing listens there, so the connection is refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    await new Promise((resolve) => server.close(resolve));
    const { code, stdout, stderr } = await run(
      "--prometheus",
      `http://127.0.0.1:${port}`,
      "--query",
      "sum(rate(http_requests_total[1m]))",
      "--since",
      "1h",
    );
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      new RegExp(
        `^error: cannot reach Prometheus at http://127\\.0\\.0\\.1:${port}: fetch failed: .*ECONNREFUSED`,
      ),
    );
  });

  it("rejects bad flags with usage", async () => {
    expect((await run()).stderr).toMatch(/give one of --prometheus URL and --request-log FILE/);
    expect((await run("--prometheus", "http://p:9090", "--since", "1h")).stderr).toMatch(
      /--query PROMQL is required/,
    );
    expect((await run("--prometheus", "http://p:9090", "--query", "x")).stderr).toMatch(
      /--since DURATION is required/,
    );
    expect((await run("--prometheus", "p:9090", "--query", "x", "--since", "1h")).stderr).toMatch(
      /--prometheus must be an http\(s\) URL/,
    );
    expect(
      (await run("--prometheus", "http://p:9090", "--query", "x", "--since", "yesterday")).stderr,
    ).toMatch(/--since must be a duration such as 15s, 90m or 24h, not yesterday/);
    expect(
      (await run("--prometheus", "http://p:9090", "--query", "x", "--query", "rps=y", "--since", "1h"))
        .stderr,
    ).toMatch(/--query gives the rps column twice/);
    expect((await run("--request-log", "x.csv", "--step", "15s")).stderr).toMatch(
      /--step goes with --prometheus/,
    );
    expect((await run("--request-log", "x.csv", "--scale", "0")).code).toBe(2);
    expect((await run("--help")).stdout).toContain("Usage: mlautoscale trace");
  });
});
