/** A metav1.LabelSelector as the API server sends it. */
export interface LabelSelector {
  matchLabels?: { readonly [key: string]: string };
  matchExpressions?: ReadonlyArray<{ key: string; operator: string; values?: readonly string[] }>;
}

/**
 * Whether `selector` selects an object with `labels` (apimachinery `LabelSelectorAsSelector`): every
 * matchLabels pair and every expression must hold. An empty selector selects everything; an absent one
 * (undefined) selects nothing, as for a PodDisruptionBudget. An unknown operator selects nothing.
 */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: { readonly [key: string]: string } | undefined,
): boolean {
  if (selector === undefined) return false;
  const has = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (has[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const value = has[expression.key];
    const values = expression.values ?? [];
    switch (expression.operator) {
      case "In":
        if (value === undefined || !values.includes(value)) return false;
        break;
      case "NotIn":
        if (value !== undefined && values.includes(value)) return false;
        break;
      case "Exists":
        if (value === undefined) return false;
        break;
      case "DoesNotExist":
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
