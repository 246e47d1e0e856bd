// Warm start-up of the local control plane (binaries already built): time to ready for each profile, to
// restart kube-apiserver, and to stop. Run: npx tsx bench/controlplane-startup.bench.ts [rounds]
import { performance } from "node:perf_hooks";
import { startControlPlane, type Profile } from "../dev/controlplane/index.js";

const rounds = Number(process.argv[2] ?? "3");

interface Sample {
  startMs: number;
  restartMs: number;
  stopMs: number;
}

async function measure(profile: Profile): Promise<Sample> {
  const t0 = performance.now();
  const controlPlane = await startControlPlane({ profile });
  const t1 = performance.now();
  await controlPlane.restartApiServer();
  const t2 = performance.now();
  await controlPlane.stop();
  const t3 = performance.now();
  return { startMs: t1 - t0, restartMs: t2 - t1, stopMs: t3 - t2 };
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  return `median ${(median / 1000).toFixed(2)} s (min ${((sorted[0] ?? NaN) / 1000).toFixed(2)}, max ${((sorted.at(-1) ?? NaN) / 1000).toFixed(2)})`;
}

for (const profile of ["integration", "e2e"] as const) {
  const samples: Sample[] = [];
  for (let round = 0; round < rounds; round++) samples.push(await measure(profile));
  console.log(`${profile} (${rounds} rounds)`);
  console.log(`  start to ready:          ${summary(samples.map((s) => s.startMs))}`);
  console.log(`  restart kube-apiserver:  ${summary(samples.map((s) => s.restartMs))}`);
  console.log(`  stop:                    ${summary(samples.map((s) => s.stopMs))}`);
}
