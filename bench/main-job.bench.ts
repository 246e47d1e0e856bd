// The main job (`npm start -- --exit-when-ready`) with the control-plane binaries already built: time until
// the control plane is up, until every example policy is Ready, and until everything is torn down.
// Run: npx tsx bench/main-job.bench.ts [rounds]
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const rounds = Number(process.argv[2] ?? "3");
const repo = fileURLToPath(new URL("..", import.meta.url));

interface Sample {
  controlPlaneMs: number;
  readyMs: number;
  exitMs: number;
}

function measure(): Promise<Sample> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env["KUBECONFIG"];
  const started = performance.now();
  const marks: Partial<Record<"controlPlane" | "ready", number>> = {};
  const child = spawn(process.execPath, ["--import", "tsx", "dev/start.ts", "--exit-when-ready"], {
    cwd: repo,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    if (marks.controlPlane === undefined && chunk.includes("control plane ready at")) {
      marks.controlPlane = performance.now() - started;
    }
    if (marks.ready === undefined && chunk.includes("policies are Ready"))
      marks.ready = performance.now() - started;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0 || marks.controlPlane === undefined || marks.ready === undefined) {
        reject(new Error(`the main job exited with ${code ?? "a signal"} before every policy was Ready`));
        return;
      }
      resolve({
        controlPlaneMs: marks.controlPlane,
        readyMs: marks.ready,
        exitMs: performance.now() - started,
      });
    });
  });
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  return `median ${seconds(median)} s (min ${seconds(sorted[0] ?? NaN)}, max ${seconds(sorted.at(-1) ?? NaN)})`;
}

const samples: Sample[] = [];
for (let round = 0; round < rounds; round++) samples.push(await measure());
process.stdout.write(
  [
    `main job, ${rounds} rounds:`,
    `  control plane ready     ${summary(samples.map((s) => s.controlPlaneMs))}`,
    `  all policies Ready      ${summary(samples.map((s) => s.readyMs))}`,
    `  control plane -> Ready  ${summary(samples.map((s) => s.readyMs - s.controlPlaneMs))} (nodes, operator, apply, converge)`,
    `  exited (torn down)      ${summary(samples.map((s) => s.exitMs))}`,
    "",
  ].join("\n"),
);
