// Cross-field rules of MLAutoscalePolicy. Each rule is written once, in two forms that must agree:
// a CEL expression the API server evaluates at admission (x-kubernetes-validations in the CRD), and a
// predicate the CLI and the controller evaluate (render, simulate, and specs that reach the cluster through
// an older CRD). test/unit/api/invalid-policies.test.ts and the integration suite check both against one table.

export interface CrossFieldRule<T> {
  /** CEL, evaluated with `self` bound to the object the rule is attached to. */
  readonly cel: string;
  /** Shown to the user by both the API server and the CLI. */
  readonly message: string;
  /** Field the message is about, relative to the object the rule is attached to (CEL `fieldPath`). */
  readonly field?: string;
  /** The same rule in TypeScript: true when the object is valid. */
  readonly holds: (self: T) => boolean;
}

export function rule<T>(
  cel: string,
  message: string,
  holds: (self: T) => boolean,
  field?: string,
): CrossFieldRule<T> {
  return field === undefined ? { cel, message, holds } : { cel, message, holds, field };
}

/** The x-kubernetes-validations entries for a list of rules. */
export function celValidations<T>(
  rules: readonly CrossFieldRule<T>[],
): { rule: string; message: string; fieldPath?: string }[] {
  return rules.map((r) =>
    r.field === undefined
      ? { rule: r.cel, message: r.message }
      : { rule: r.cel, message: r.message, fieldPath: r.field },
  );
}

/** The zod path of a rule's field: ".scaling.engine" -> ["scaling", "engine"]. */
export function rulePath(field: string | undefined): string[] {
  return (field ?? "").split(".").filter(Boolean);
}

/**
 * A zod superRefine callback that checks the same rules the CRD gives the API server, reporting each
 * broken rule on its field, so the CLI and the controller reject what admission would.
 */
export function refineRules<T>(
  rules: readonly CrossFieldRule<T>[],
): (
  value: T,
  ctx: { addIssue: (issue: { code: "custom"; message: string; path: string[] }) => void },
) => void {
  return (value, ctx) => {
    for (const r of rules) {
      if (!r.holds(value)) ctx.addIssue({ code: "custom", message: r.message, path: rulePath(r.field) });
    }
  };
}
