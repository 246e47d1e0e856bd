import { createHash } from "node:crypto";
import { quantitiesEqual } from "./quantity.js";

/**
 * Decides whether a server-side apply of `desired` would change the live object, without asking the
 * server. Only the fields `desired` sets are compared (the server adds defaults and other managers'
 * fields, which must not count as drift). Where the server normalises a value, equal meanings count
 * as equal:
 * - quantities compare by value ("1000m" equals "1", "1Gi" equals "1073741824");
 * - a zero value the desired object sets (false, 0, "", {}, []) equals a field the server omitted.
 * Fields the desired object stopped setting are not seen here: stamp desired objects with
 * `withApplyHash` so that any change of the desired object itself shows up as a changed annotation.
 */
export function applyDifferences(desired: unknown, live: unknown): string[] {
  return differingPaths(desired, live).map(formatPath);
}

/** A field's path: object keys and list indexes. */
export type FieldPath = readonly (string | number)[];

/** Where `live` differs from `desired` in the fields `desired` sets (see applyDifferences). */
export function differingPaths(desired: unknown, live: unknown, path: FieldPath = []): FieldPath[] {
  if (desired === undefined) return [];
  if (live === undefined || live === null) return isZeroValue(desired) ? [] : [path];
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return [path];
    return desired.flatMap((element, index) => differingPaths(element, live[index], [...path, index]));
  }
  if (isPlainObject(desired)) {
    if (!isPlainObject(live)) return [path];
    return Object.entries(desired).flatMap(([field, value]) =>
      differingPaths(value, live[field], [...path, field]),
    );
  }
  if (desired === live) return [];
  if (
    (typeof desired === "string" || typeof desired === "number") &&
    (typeof live === "string" || typeof live === "number") &&
    quantitiesEqual(desired, live)
  ) {
    return [];
  }
  return [path];
}

function formatPath(path: FieldPath): string {
  if (path.length === 0) return ".";
  return path
    .map((segment, index) =>
      typeof segment === "number" ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join("");
}

/** The value at `path` in `value` (undefined where the path leads nowhere). */
export function valueAt(value: unknown, path: FieldPath): unknown {
  let cursor = value;
  for (const segment of path) {
    if (typeof segment === "number") cursor = Array.isArray(cursor) ? cursor[segment] : undefined;
    else cursor = isPlainObject(cursor) ? cursor[segment] : undefined;
  }
  return cursor;
}

/** True when applying `desired` over `live` (undefined: not there yet) would write something. */
export function needsApply(desired: unknown, live: unknown): boolean {
  return live === undefined || applyDifferences(desired, live).length > 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isZeroValue(value: unknown): boolean {
  if (value === null || value === false || value === 0 || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value))
    return Object.values(value).every((field) => field === undefined || isZeroValue(field));
  return false;
}

/**
 * JSON with object keys sorted, so equal objects serialise identically. The output is what content hashes
 * stored on live objects were computed from: it must not change, or every object would be written again.
 * Built by concatenation in one pass (no intermediate arrays): it runs for every child of every reconcile.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    let out = "[";
    for (let index = 0; index < value.length; index++) {
      if (index > 0) out += ",";
      out += canonicalJson(value[index]);
    }
    return out + "]";
  }
  if (isPlainObject(value)) {
    let out = "{";
    for (const key of Object.keys(value).sort()) {
      const field = value[key];
      if (field === undefined) continue;
      if (out.length > 1) out += ",";
      out += JSON.stringify(key) + ":" + canonicalJson(field);
    }
    return out + "}";
  }
  return JSON.stringify(value) ?? "null";
}

/** A short stable hash of an object's content. */
export function contentHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 16);
}

/**
 * Returns a copy of `desired` with annotation `annotationKey` set to the hash of its content, so a
 * change to the desired object (including a field it no longer sets) always differs from the live
 * object, while an unchanged desired object compares equal (Prometheus Operator's input hash). The copy
 * is new down to the annotations and shares everything else with `desired`, which is left as it was.
 */
export function withApplyHash<T extends { metadata?: object }>(desired: T, annotationKey: string): T {
  const metadata: { annotations?: { [key: string]: string } } = { ...desired.metadata };
  const annotations = { ...metadata.annotations };
  delete annotations[annotationKey];
  const unstamped = { ...desired, metadata: { ...metadata, annotations } };
  annotations[annotationKey] = contentHash(unstamped);
  return { ...desired, metadata: { ...metadata, annotations } };
}
