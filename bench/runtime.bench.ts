// Hot paths of the controller runtime: work queue throughput, the apply comparison on a
// Deployment-sized object, and cache ingestion (freeze + index). Run: npx tsx bench/runtime.bench.ts
import { performance } from "node:perf_hooks";
import { ManualClock } from "../src/runtime/clock.js";
import { applyDifferences, withApplyHash } from "../src/runtime/compare.js";
import { deepFreeze, type KubeObject } from "../src/runtime/object.js";
import { ExponentialFailureRateLimiter } from "../src/runtime/rate-limiter.js";
import { OWNER_INDEX, Store } from "../src/runtime/store.js";
import { WorkQueue } from "../src/runtime/workqueue.js";

function report(name: string, operations: number, elapsedMs: number): void {
  const perSecond = Math.round((operations / elapsedMs) * 1000);
  console.log(
    `${name.padEnd(48)} ${operations} ops in ${elapsedMs.toFixed(1)} ms  (${perSecond.toLocaleString("en")} ops/s)`,
  );
}

async function queueThroughput(keys: number, rounds: number): Promise<void> {
  const queue = new WorkQueue({ clock: new ManualClock(), rateLimiter: new ExponentialFailureRateLimiter() });
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < keys; index++) queue.add(`ns/policy-${index}`);
    for (let index = 0; index < keys; index++) {
      const item = await queue.get();
      if (!item.shutdown) {
        queue.forget(item.key);
        queue.done(item.key);
      }
    }
  }
  report(`workqueue add+get+done (${keys} keys)`, keys * rounds, performance.now() - started);
}

function deployment(index: number): KubeObject & { spec: unknown } {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: `policy-${index}`,
      namespace: "ns",
      labels: { app: "model", "app.kubernetes.io/managed-by": "mlautoscale" },
      ownerReferences: [
        {
          apiVersion: "mlautoscale.io/v1alpha1",
          kind: "MLAutoscalePolicy",
          name: `policy-${index}`,
          uid: `uid-${index % 100}`,
          controller: true,
        },
      ],
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "model" } },
      template: {
        metadata: { labels: { app: "model" } },
        spec: {
          containers: [
            {
              name: "server",
              image: "registry.example/model:1",
              env: Array.from({ length: 10 }, (_, variable) => ({
                name: `VAR_${variable}`,
                value: String(variable),
              })),
              resources: {
                requests: { cpu: "2", memory: "8Gi", "nvidia.com/gpu": "1" },
                limits: { "nvidia.com/gpu": "1" },
              },
            },
          ],
          tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        },
      },
    },
  };
}

function comparison(iterations: number): void {
  const desired = withApplyHash(deployment(1), "mlautoscale.io/applied-hash");
  const live = structuredClone(desired);
  const started = performance.now();
  let differences = 0;
  for (let iteration = 0; iteration < iterations; iteration++)
    differences += applyDifferences(desired, live).length;
  report("applyDifferences, Deployment, no change", iterations, performance.now() - started);
  if (differences !== 0) throw new Error("unexpected differences");
  const hashStarted = performance.now();
  for (let iteration = 0; iteration < iterations; iteration++) withApplyHash(deployment(iteration), "h");
  report("withApplyHash, Deployment", iterations, performance.now() - hashStarted);
}

function ingestion(objects: number): void {
  const store = new Store<KubeObject>();
  const started = performance.now();
  for (let index = 0; index < objects; index++) store.upsert(deepFreeze<KubeObject>(deployment(index)));
  report("cache ingest (freeze + index), Deployments", objects, performance.now() - started);
  const lookups = performance.now();
  let found = 0;
  for (let index = 0; index < objects; index++)
    found += store.byIndex(OWNER_INDEX, `uid-${index % 100}`).length;
  report(`owner index lookups (${objects / 100} objects each)`, objects, performance.now() - lookups);
  if (found === 0) throw new Error("owner index empty");
}

await queueThroughput(10_000, 10);
comparison(20_000);
ingestion(20_000);
