import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SPEC_HASH_ANNOTATION } from "../../../src/controllers/mlautoscalepolicy/controller.js";
import { loadPolicyFile, renderPolicy } from "../../../src/render/index.js";
import { needsApply, withApplyHash } from "../../../src/runtime/compare.js";
import { CACHE_TRANSFORMS } from "../../../src/controllers/mlautoscalepolicy/cache-transforms.js";
import type { JsonObject } from "../../../src/runtime/rest.js";

const examples = fileURLToPath(new URL("../../../examples/", import.meta.url));

/** Every leaf path of `value` with its value. */
function leaves(value: unknown, path: Array<string | number> = []): Array<[Array<string | number>, unknown]> {
  if (Array.isArray(value)) return value.flatMap((element, index) => leaves(element, [...path, index]));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, field]) => leaves(field, [...path, key]));
  }
  return [[path, value]];
}

function withLeaf(object: unknown, path: ReadonlyArray<string | number>, leaf: unknown): unknown {
  const copy: unknown = structuredClone(object);
  let parent = copy as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  parent[path[path.length - 1] as string | number] = leaf;
  return copy;
}

function drifted(leaf: unknown): unknown {
  if (typeof leaf === "number") return leaf + 1;
  if (typeof leaf === "boolean") return !leaf;
  return `${String(leaf)}-drifted`;
}

const TRANSFORM_OF_KIND: Record<string, (object: JsonObject) => JsonObject> = {
  Deployment: CACHE_TRANSFORMS.workload,
  HorizontalPodAutoscaler: CACHE_TRANSFORMS.hpa,
  PodDisruptionBudget: CACHE_TRANSFORMS.pdb,
  ScaledObject: CACHE_TRANSFORMS.scaledObject,
  TriggerAuthentication: CACHE_TRANSFORMS.triggerAuthentication,
};

/** The live object as the cache holds it: the server's additions, then the informer's transform. */
function cachedCopy(applied: object & { kind?: string }): JsonObject {
  const server = structuredClone(applied) as JsonObject & { metadata: JsonObject };
  server.metadata = {
    ...server.metadata,
    uid: "0000",
    resourceVersion: "42",
    // The operator's children are controlled by their policy (render, having no policy UID, sets none).
    ownerReferences: [
      {
        apiVersion: "mlautoscale.io/v1alpha1",
        kind: "MLAutoscalePolicy",
        name: "p",
        uid: "1",
        controller: true,
      },
    ],
    managedFields: [{ manager: "mlautoscale", operation: "Apply", fieldsType: "FieldsV1", fieldsV1: {} }],
  };
  server["status"] = { observedGeneration: 1 };
  const transform = TRANSFORM_OF_KIND[applied.kind ?? ""];
  if (transform === undefined) throw new Error(`no cache transform for ${applied.kind ?? "?"}`);
  return transform(server);
}

const files = readdirSync(examples).filter((f) => f.endsWith(".yaml"));

describe("write-skip over the cache", () => {
  it.each(files)(
    "%s: unchanged children need no write, and drift in any field the operator sets does",
    async (file) => {
      const policies = await loadPolicyFile(join(examples, file));
      for (const policy of policies) {
        for (const child of renderPolicy(policy, { kedaInstalled: true }).objects) {
          const desired = withApplyHash(child, SPEC_HASH_ANNOTATION);
          const cached = cachedCopy(desired);
          expect(cached["metadata"]).not.toHaveProperty("managedFields");
          expect(needsApply(desired, cached)).toBe(false);
          const owned = leaves(desired).filter(([path]) => path[0] !== "apiVersion" && path[0] !== "kind");
          expect(owned.length).toBeGreaterThan(5);
          for (const [path, leaf] of owned) {
            const label = `${child.kind}/${child.metadata?.name ?? ""} ${path.join(".")}`;
            expect(needsApply(desired, withLeaf(cached, path, drifted(leaf))), label).toBe(true);
          }
        }
      }
    },
  );
});
