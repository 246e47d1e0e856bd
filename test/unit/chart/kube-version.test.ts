// One oldest supported Kubernetes everywhere it is written: the operator, the chart, the build and the tests.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { goModRequirement, oldestKubernetes } from "../../../dev/controlplane/binaries.js";
import { OLDEST_SUPPORTED_KUBERNETES } from "../../../src/controllers/mlautoscalepolicy/desired/index.js";

const REPO = resolve(import.meta.dirname, "../../..");

describe("the oldest supported Kubernetes", () => {
  const oldest = `${OLDEST_SUPPORTED_KUBERNETES.major}.${OLDEST_SUPPORTED_KUBERNETES.minor}`;

  it("is the chart's kubeVersion floor", () => {
    const chart = parse(readFileSync(join(REPO, "config", "chart", "Chart.yaml"), "utf8")) as {
      kubeVersion: string;
    };
    expect(chart.kubeVersion).toBe(`>=${oldest}.0-0`);
  });

  it("is the version the oldest tests build and run (versions.env and its wrapper module)", () => {
    expect(oldestKubernetes()).toBe(oldest);
    const pinned = goModRequirement(
      join(REPO, "tools", `kubernetes-${oldest}`, "go.mod"),
      "k8s.io/kubernetes",
    );
    expect(pinned).toMatch(new RegExp(`^v${oldest.replace(".", "\\.")}\\.\\d+$`));
  });
});
