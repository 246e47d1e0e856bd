// What the cluster benchmarks share to set up: the operator compiled as its image runs it, and roomy
// fake nodes for their pods.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { fakeNode } from "../../dev/controlplane/nodes.js";
import { imageEntrypoint } from "../../dev/image.js";
import type { KubeRestClient } from "../../src/runtime/rest.js";

const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
const compiledDir = join(repoRoot, "node_modules", ".cache", "mlautoscale-bench", "dist");

/** The Node.js flags of the container image's ENTRYPOINT, which the benchmarks run the operator with. */
export function imageNodeFlags(): string[] {
  return imageEntrypoint().nodeFlags;
}

/** Pods each bench node takes. */
export const PODS_PER_BENCH_NODE = 1000;

/**
 * Compiles the operator with tsc (as the container image runs it) and returns its cli.js. tsc errors are
 * logged, and what it emitted is run anyway: a type error elsewhere must not stop a benchmark.
 */
export function compileOperator(log: (message: string) => void): string {
  log("compiling the operator (tsc -p tsconfig.build.json)");
  const tsc = spawnSync(
    process.execPath,
    [
      join(repoRoot, "node_modules", "typescript", "bin", "tsc"),
      "-p",
      "tsconfig.build.json",
      "--outDir",
      compiledDir,
    ],
    { cwd: repoRoot, encoding: "utf8" },
  );
  const cli = join(compiledDir, "cli.js");
  if (!existsSync(cli)) throw new Error(`tsc produced no ${cli}:\n${tsc.stdout}${tsc.stderr}`);
  if (tsc.status !== 0) log(`tsc reported errors; running what it emitted:\n${tsc.stdout.slice(0, 2000)}`);
  return cli;
}

/** Adds `count` CPU nodes of PODS_PER_BENCH_NODE pods, 1,000 CPUs and 4 TiB, and waits until they are Ready. */
export async function createBenchNodes(rest: KubeRestClient, count: number): Promise<void> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const node = fakeNode({
      name: `bench-node-${i}`,
      instanceType: "m5.24xlarge",
      zone: i % 2 === 0 ? "zone-a" : "zone-b",
      cpu: "1000",
      memory: "4Ti",
      gpus: 0,
    });
    const pods = String(PODS_PER_BENCH_NODE);
    if (node.status?.capacity !== undefined) node.status.capacity["pods"] = pods;
    if (node.status?.allocatable !== undefined) node.status.allocatable["pods"] = pods;
    await rest.request("POST", "/api/v1/nodes", { body: node });
    names.push(node.metadata?.name ?? "");
  }
  const deadline = Date.now() + 120_000;
  for (;;) {
    const list = await rest.request<{
      items?: {
        metadata?: { name?: string };
        status?: { conditions?: { type?: string; status?: string }[] };
      }[];
    }>("GET", "/api/v1/nodes");
    const ready = (list.items ?? []).filter(
      (n) =>
        names.includes(n.metadata?.name ?? "") &&
        n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true,
    );
    if (ready.length === names.length) return;
    if (Date.now() > deadline) throw new Error(`only ${ready.length}/${names.length} bench nodes Ready`);
    await sleep(500);
  }
}
