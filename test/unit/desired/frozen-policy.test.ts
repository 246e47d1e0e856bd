import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  buildDesiredChildren,
  KEDA_ABSENT,
  KEDA_RUNNING,
} from "../../../src/controllers/mlautoscalepolicy/desired/index.js";
import { parsePolicies } from "../../../src/render/index.js";
import { deepFreeze } from "../../../src/runtime/object.js";

const examplesDir = new URL("../../../examples/", import.meta.url).pathname;
const examples = readdirSync(examplesDir).filter((file) => file.endsWith(".yaml"));

// The reconciler validates each cached version of a policy once and hands the same frozen result to every
// reconcile of it: a builder that edited the policy would throw here (ES modules run in strict mode) and,
// unfrozen, would leak one reconcile's edits into the next.
describe("building children from a frozen policy", () => {
  it.each(examples)("%s: builds the same children as from a fresh copy, and edits nothing", (file) => {
    const text = readFileSync(`${examplesDir}${file}`, "utf8");
    for (const keda of [KEDA_RUNNING, KEDA_ABSENT]) {
      const [fresh] = parsePolicies(text, file);
      const [frozen] = parsePolicies(text, file);
      if (fresh === undefined || frozen === undefined) throw new Error(`${file}: no policy`);
      deepFreeze(frozen);
      const facts = { keda, targetSelector: { matchLabels: { app: "target" } } };
      expect(buildDesiredChildren(frozen, facts)).toEqual(buildDesiredChildren(fresh, facts));
      expect(frozen).toEqual(fresh);
    }
  });
});
