import { describe, expect, it } from "vitest";
import { selectorMatches } from "../../../src/runtime/labels.js";

describe("selectorMatches", () => {
  const labels = { app: "ranker", tier: "gpu" };

  it.each([
    [{ matchLabels: { app: "ranker" } }, true],
    [{ matchLabels: { app: "ranker", tier: "cpu" } }, false],
    [{}, true],
    [{ matchExpressions: [{ key: "tier", operator: "In", values: ["gpu", "tpu"] }] }, true],
    [{ matchExpressions: [{ key: "tier", operator: "In", values: ["cpu"] }] }, false],
    [{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["cpu"] }] }, true],
    [{ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "Exists" }] }, true],
    [{ matchExpressions: [{ key: "zone", operator: "Exists" }] }, false],
    [{ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, false],
    [
      {
        matchLabels: { app: "ranker" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["cpu"] }],
      },
      false,
    ],
    [{ matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] }, false],
  ])("%j selects %j: %s", (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });

  it("selects nothing without a selector, and an empty one selects pods without labels", () => {
    expect(selectorMatches(undefined, labels)).toBe(false);
    expect(selectorMatches({}, undefined)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "ranker" } }, undefined)).toBe(false);
  });
});
