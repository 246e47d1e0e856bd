// `npm start`: the main job on a fresh local control plane of its own, to completion: the examples become
// Ready, the demo traces drive them up and back down on the real loop, and everything is torn down.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = resolve(import.meta.dirname, "../..");
const POLICIES = [
  "batch-embeddings",
  "finetune-workers",
  "hybrid-ranker",
  "llama-chat",
  "resnet50-inference",
];

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The rows of the last `kubectl get mlap -A` table printed, by policy name. */
function lastPolicyTable(output: string): Map<string, Record<string, string>> {
  const lines = output.split("\n");
  const headerIndex = lines.findLastIndex((line) => /^NAMESPACE\s+NAME\s+ENGINE\s+MIN\s+MAX/.test(line));
  expect(headerIndex, output).toBeGreaterThanOrEqual(0);
  // Cells are read at their column's offset: an empty cell (no status yet) leaves no word to split on.
  const header = lines[headerIndex] ?? "";
  const columns = [...header.matchAll(/\S+/g)].map((match) => ({ name: match[0], start: match.index }));
  const rows = new Map<string, Record<string, string>>();
  for (const line of lines.slice(headerIndex + 1)) {
    if (line.trim() === "") break;
    const row = Object.fromEntries(
      columns.map(({ name, start }, index) => [
        name,
        line.slice(start, columns[index + 1]?.start ?? line.length).trim(),
      ]),
    );
    rows.set(row["NAME"] ?? "", row);
  }
  return rows;
}

/** The live replay table: per second offset, `desired/ready` per policy column. */
function replayTable(output: string): { seconds: number; desired: Record<string, number> }[] {
  const lines = output.split("\n");
  const headerIndex = lines.findIndex((line) =>
    /^\s+t\s+batch\s+finetune\s+ranker\s+llama\s+resnet50\s*$/.test(line),
  );
  expect(headerIndex, output).toBeGreaterThanOrEqual(0);
  const names = (lines[headerIndex] ?? "").trim().split(/\s+/).slice(1);
  const samples: { seconds: number; desired: Record<string, number> }[] = [];
  for (const line of lines.slice(headerIndex + 1)) {
    const match = /^\s*(\d+)s\s+(.*)$/.exec(line);
    if (match === null) break;
    const cells = (match[2] ?? "").trim().split(/\s+/);
    samples.push({
      seconds: Number(match[1]),
      desired: Object.fromEntries(names.map((name, index) => [name, Number(cells[index]?.split("/")[0])])),
    });
  }
  return samples;
}

const peak = (samples: ReturnType<typeof replayTable>, name: string): number =>
  Math.max(...samples.map((sample) => sample.desired[name] ?? 0));

describe("npm start", () => {
  it("starts a control plane and the operator, scales the five examples up and down on a replayed load, and tears down", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // With KUBECONFIG the job would run against that cluster instead of starting its own.
    delete env["KUBECONFIG"];
    const child = spawn("npm", ["start", "--", "--ready-timeout-seconds=240"], {
      cwd: REPO,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const [code] = (await once(child, "exit")) as [number | null];

    expect(code, output).toBe(0);
    expect(output).toContain("All 5 policies are Ready:");
    // The children were shown: a Deployment per policy.
    for (const name of POLICIES) expect(output).toContain(`deployment.apps/${name}`);

    // The replayed load moved replicas: the HTTP workload above its minimum of 2, both queue workloads
    // up from zero, and back to zero once their queues drained.
    const samples = replayTable(output);
    expect(peak(samples, "resnet50"), output).toBeGreaterThan(2);
    expect(peak(samples, "batch"), output).toBeGreaterThan(0);
    expect(peak(samples, "finetune"), output).toBeGreaterThan(0);
    // The LLM server sat at zero, and the gateway's queue woke it when the chats began.
    const llama = samples.map((sample) => sample.desired["llama"] ?? 0);
    expect(llama.slice(0, llama.indexOf(peak(samples, "llama"))), output).toContain(0);
    expect(peak(samples, "llama"), output).toBeGreaterThan(0);
    // Each policy's observation is printed beside the simulator's prediction.
    for (const name of POLICIES)
      expect(output).toMatch(new RegExp(`^${name}: peak \\S+ / \\S+, first scale-up`, "m"));
    expect(output.match(/^ {2}observed /gm)).toHaveLength(5);
    expect(output.match(/^ {2}simulated /gm)).toHaveLength(5);
    // Where the demo's cluster cannot serve the ranker's External metric (KEDA holds that API), it says so.
    expect(output).toMatch(
      /^ {2}the operator says: ExternalMetricsUnavailable \(Reconciled, ScalingActive\): \S/m,
    );

    const rows = lastPolicyTable(output);
    expect([...rows.keys()].sort()).toEqual(POLICIES);
    for (const [name, row] of rows) expect(row["READY"], name).toBe("True");
    expect(rows.get("batch-embeddings")?.["REPLICAS"]).toBe("0");
    expect(rows.get("finetune-workers")?.["REPLICAS"]).toBe("0");
    expect(rows.get("llama-chat")?.["REPLICAS"]).toBe("0");

    // Torn down: the operator is gone, and so is the control plane's folder.
    const operatorPid = /Operator started \(pid (\d+)\), logging to (\S+)/.exec(output);
    expect(operatorPid, output).not.toBeNull();
    expect(isRunning(Number(operatorPid?.[1]))).toBe(false);
    const logPath = operatorPid?.[2] ?? "";
    expect(existsSync(resolve(logPath, "../.."))).toBe(false);
  }, 900_000);
});
