// What one policy costs in the operator's caches: N copies of each kind it caches per policy (the
// policy, its Deployment, HPA and PDB, as a v1.35 API server sent them for the operator benchmark's
// policy, in bench/fixtures/api-server-objects/), each with its own name and uid, taken through the
// informers' path (`cacheCopy`: the kind's cache transform, a compact copy, string interning; then
// freezing) into a Store with the controller's indexes, and the heap they hold.
// No cluster: it isolates the caches' share of the figures of bench/operator.bench.ts.
//
//   npx tsx bench/cache-memory.bench.ts [--objects 5000] [--no-intern]
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { CACHE_TRANSFORMS } from "../src/controllers/mlautoscalepolicy/cache-transforms.js";
import { CACHE_INDEXERS } from "../src/controllers/mlautoscalepolicy/scale-target.js";
import { StringTable } from "../src/runtime/intern.js";
import { cacheCopy } from "../src/runtime/informer.js";
import { deepFreeze, type KubeObject } from "../src/runtime/object.js";
import type { JsonObject } from "../src/runtime/rest.js";
import { Store } from "../src/runtime/store.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const args = process.argv.slice(2);
const objectsIndex = args.indexOf("--objects");
const count = objectsIndex >= 0 ? Number(args[objectsIndex + 1]) : 5000;
const intern = !args.includes("--no-intern");
if (!Number.isInteger(count) || count < 1) throw new Error("--objects takes a positive integer");

const KINDS = [
  ["MLAutoscalePolicy", "mlautoscalepolicies.json", CACHE_TRANSFORMS.policy, CACHE_INDEXERS.policy],
  ["Deployment", "deployments.json", CACHE_TRANSFORMS.workload, {}],
  [
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers.json",
    CACHE_TRANSFORMS.hpa,
    CACHE_INDEXERS.autoscaler,
  ],
  ["PodDisruptionBudget", "poddisruptionbudgets.json", CACHE_TRANSFORMS.pdb, CACHE_INDEXERS.pdb],
] as const;
/** The fixtures' policy name, replaced by each copy's own. */
const FIXTURE_NAME = "bench-00010";

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

// A table that keeps nothing leaves every string as parsed.
const table = new StringTable(intern ? undefined : 0);
const held: Store<KubeObject>[] = [];
let total = 0;
console.log(`${count} objects of each kind, strings ${intern ? "interned" : "as parsed"}`);
for (const [kind, file, transform, indexers] of KINDS) {
  const text = readFileSync(new URL(`fixtures/api-server-objects/${file}`, import.meta.url), "utf8");
  const before = heapUsed();
  const store = new Store<KubeObject>(indexers);
  for (let index = 0; index < count; index++) {
    // Every copy as the server would send it: its own name (in every place the policy's name is) and uid.
    const copy = text
      .replaceAll(FIXTURE_NAME, `bench-${String(index).padStart(5, "0")}`)
      .replace(/"uid": "[^"]+"/, `"uid": "${randomUUID()}"`);
    const raw = JSON.parse(copy) as JsonObject;
    const cached = cacheCopy({ apiVersion: String(raw["apiVersion"]), kind }, raw, transform, table);
    store.upsert(deepFreeze(cached as KubeObject));
  }
  const bytes = (heapUsed() - before) / count;
  held.push(store);
  total += bytes;
  console.log(`${kind.padEnd(24)} ${Math.round(bytes).toString().padStart(6)} bytes per object`);
}
console.log(
  `${"per policy".padEnd(24)} ${Math.round(total).toString().padStart(6)} bytes (${(total / 1024).toFixed(1)} KiB)`,
);
if (held.length !== KINDS.length) throw new Error("objects were not held");
