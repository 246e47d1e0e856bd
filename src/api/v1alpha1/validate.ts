// Validating an object as an MLAutoscalePolicy, with problems that name the field: one function for the
// CLI, the operator and the configuration.
import type { z } from "zod";
import { MLAutoscalePolicySchema, type MLAutoscalePolicy } from "./types.js";

/** `spec.scaling.triggers[0].metadata` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(document)" : out;
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = [...issue.path];
    // An unknown key is reported on its parent; name the key itself.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => `${formatPath([...path, k])}: unknown field`).join("; ");
    }
    return `${formatPath(path)}: ${issue.message}`;
  });
}

export type ParseResult = { ok: true; policy: MLAutoscalePolicy } | { ok: false; problems: string[] };

/** Validates one object (parsed YAML or JSON, or from the API server) as a policy. */
export function parsePolicy(value: unknown): ParseResult {
  const result = MLAutoscalePolicySchema.safeParse(value);
  return result.success
    ? { ok: true, policy: result.data }
    : { ok: false, problems: describeIssues(result.error.issues) };
}
