// `npm start --exit-when-ready`: the main job on a fresh local control plane of its own, to completion.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = resolve(import.meta.dirname, "../..");
const POLICIES = ["batch-embeddings", "finetune-workers", "hybrid-ranker", "resnet50-inference"];

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

describe("npm start --exit-when-ready", () => {
  it("starts a control plane, runs the operator, applies the examples and ends with all four Ready", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // With KUBECONFIG the job would run against that cluster instead of starting its own.
    delete env["KUBECONFIG"];
    const child = spawn("npm", ["start", "--", "--exit-when-ready", "--ready-timeout-seconds=240"], {
      cwd: REPO,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const [code] = (await once(child, "exit")) as [number | null];

    expect(code, output).toBe(0);
    const rows = lastPolicyTable(output);
    expect([...rows.keys()].sort()).toEqual(POLICIES);
    for (const [name, row] of rows) expect(row["READY"], name).toBe("True");
    expect(output).toContain("All 4 policies are Ready:");

    // The children were shown: a Deployment per policy, each with a pod on a node.
    for (const name of POLICIES) expect(output).toContain(`deployment.apps/${name}`);

    // Torn down: the operator is gone, and so is the control plane's folder.
    const operatorPid = /Operator started \(pid (\d+)\), logging to (\S+)/.exec(output);
    expect(operatorPid, output).not.toBeNull();
    expect(isRunning(Number(operatorPid?.[1]))).toBe(false);
    const logPath = operatorPid?.[2] ?? "";
    expect(existsSync(resolve(logPath, "../.."))).toBe(false);
  });
});
