// How fast one core of this machine is right now: a fixed piece of work (JSON and SHA-256 over a
// Deployment-sized object, the kind of work the control plane and the operator do) timed in a child
// process. A virtual machine's cores do not run at one speed: the same roll-out, with the same requests,
// has taken from 35 to 46 CPU seconds on the same machine within an hour. A reading before and after a
// run says whether a slower run was slower work or a slower machine.
import { spawnSync } from "node:child_process";

/** Rounds of the work: about a second on a core of the machine these figures were taken on. */
const ROUNDS = 100_000;

/** The work, as a script for `node -e`: prints the milliseconds it took. */
const REFERENCE_SCRIPT = `
const { createHash } = require("node:crypto");
const object = { apiVersion: "apps/v1", kind: "Deployment",
  metadata: { name: "reference", namespace: "bench", labels: { app: "reference", tier: "model" } },
  spec: { replicas: 1, selector: { matchLabels: { app: "reference" } },
    template: { metadata: { labels: { app: "reference" } },
      spec: { containers: [{ name: "server", image: "registry.example/server:1", args: ["--port", "8000"],
        resources: { requests: { cpu: "1", memory: "1Gi" } } }] } } } };
const started = process.hrtime.bigint();
let digest = "";
for (let round = 0; round < ${ROUNDS}; round++) {
  object.metadata.annotations = { round: String(round), digest };
  const copy = JSON.parse(JSON.stringify(object));
  digest = createHash("sha256").update(JSON.stringify(copy)).digest("hex");
}
process.stdout.write(String(Number(process.hrtime.bigint() - started) / 1e6));
`;

/**
 * The median of `samples` timings of the reference work, in milliseconds (one core; the other processes on
 * the machine should be idle). Lower is faster.
 */
export function referenceWorkMs(samples = 3): number {
  const timings: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    const run = spawnSync(process.execPath, ["-e", REFERENCE_SCRIPT], {
      encoding: "utf8",
    });
    const ms = Number(run.stdout);
    if (run.status !== 0 || !Number.isFinite(ms)) {
      throw new Error(`the CPU reference work failed: ${run.stderr || `exit ${String(run.status)}`}`);
    }
    timings.push(ms);
  }
  timings.sort((a, b) => a - b);
  return Math.round(timings[Math.floor(timings.length / 2)] ?? NaN);
}
