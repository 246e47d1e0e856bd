// The chart's crds/ folder is the generated crds/ folder itself, never a copy that could go stale.
import { lstatSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CRD_FILE } from "../../../src/api/v1alpha1/crd-yaml.js";

const REPO = resolve(import.meta.dirname, "../../..");
const GENERATED = join(REPO, "crds");
const CHART_CRDS = join(REPO, "config", "chart", "crds");

describe("chart CRDs", () => {
  it("resolve to the generated crds/ folder through a relative link, so any clone and the packaged chart get it", () => {
    expect(lstatSync(CHART_CRDS).isSymbolicLink()).toBe(true);
    expect(isAbsolute(readlinkSync(CHART_CRDS))).toBe(false);
    expect(realpathSync(CHART_CRDS)).toBe(realpathSync(GENERATED));
  });

  it("hold the generated CRD and nothing else (Helm installs every file there)", () => {
    expect(readdirSync(CHART_CRDS)).toEqual([basename(CRD_FILE)]);
  });
});
