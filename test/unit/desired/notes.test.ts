import { describe, expect, it } from "vitest";
import {
  buildDesiredChildren,
  KEDA_ABSENT,
  KEDA_RUNNING,
} from "../../../src/controllers/mlautoscalepolicy/desired/index.js";
import { parsePolicy } from "../../../src/api/v1alpha1/index.js";
import { validBasePolicy, withChanges } from "../../fixtures/invalid-policies.js";

function gpuPolicy() {
  const parsed = parsePolicy(
    withChanges(validBasePolicy(), {
      "spec.scaling.metrics": {
        gpuUtilization: { targetUtilization: 70, prometheus: { serverAddress: "http://prometheus:9090" } },
      },
    }),
  );
  if (!parsed.ok) throw new Error(parsed.problems.join("; "));
  return parsed.policy;
}

describe("notes on the desired children", () => {
  it("says that a Prometheus-sourced metric needs a metrics adapter when the HPA serves it", () => {
    const result = buildDesiredChildren(gpuPolicy(), { keda: KEDA_ABSENT });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.engine).toBe("HPA");
    expect(result.children.notes).toEqual([
      "scaling.metrics.gpuUtilization.prometheus is read by KEDA only; with the HPA, DCGM_FI_DEV_GPU_UTIL must be served by a metrics adapter (e.g. prometheus-adapter)",
    ]);
  });

  it("has nothing to say when KEDA reads the metric", () => {
    const result = buildDesiredChildren(gpuPolicy(), { keda: KEDA_RUNNING });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.engine).toBe("KEDA");
    expect(result.children.notes).toEqual([]);
  });
});
