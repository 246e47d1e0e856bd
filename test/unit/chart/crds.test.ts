// The chart's crds/ folder is the generated crds/ folder itself, never a copy that could go stale.
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = resolve(import.meta.dirname, "../../..");
const GENERATED = join(REPO, "crds");
const CHART_CRDS = join(REPO, "config", "chart", "crds");

describe("chart CRDs", () => {
  it("resolve to the generated crds/ folder", () => {
    expect(realpathSync(CHART_CRDS)).toBe(realpathSync(GENERATED));
  });

  it("hold the same files with the same bytes", () => {
    const generated = readdirSync(GENERATED).sort();
    expect(generated.length).toBeGreaterThan(0);
    expect(readdirSync(CHART_CRDS).sort()).toEqual(generated);
    for (const file of generated) {
      expect(readFileSync(join(CHART_CRDS, file)).equals(readFileSync(join(GENERATED, file))), file).toBe(
        true,
      );
    }
  });
});
