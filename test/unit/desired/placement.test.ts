import { describe, expect, it } from "vitest";
import {
  buildPlacement,
  INSTANCE_TYPE_LABEL,
  ZONE_LABEL,
} from "../../../src/controllers/mlautoscalepolicy/desired/placement.js";
import { hpaPolicy } from "./policies.js";

const podSelector = { "app.kubernetes.io/name": "base-policy" };

describe("buildPlacement", () => {
  it("requires the GPU instance types, sorted and without duplicates, in one term", () => {
    const policy = hpaPolicy({ "spec.placement.gpuInstanceTypes": ["p3.2xlarge", "g4dn.xlarge"] });
    const { affinity } = buildPlacement(policy, podSelector);
    expect(affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: INSTANCE_TYPE_LABEL, operator: "In", values: ["g4dn.xlarge", "p3.2xlarge"] },
          ],
        },
      ],
    });
    expect(affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
  });

  it("prefers each node label with weight 100, in key order", () => {
    const policy = hpaPolicy({
      "spec.placement.preferredNodeLabels": { "workload-type": "ml-inference", "cache-warm": "true" },
    });
    const { affinity } = buildPlacement(policy, podSelector);
    expect(affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        preference: { matchExpressions: [{ key: "cache-warm", operator: "In", values: ["true"] }] },
      },
      {
        weight: 100,
        preference: {
          matchExpressions: [{ key: "workload-type", operator: "In", values: ["ml-inference"] }],
        },
      },
    ]);
  });

  it("tolerates the taint named after the GPU resource, including a custom one", () => {
    expect(buildPlacement(hpaPolicy(), podSelector).tolerations).toEqual([
      { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
    const amd = hpaPolicy({ "spec.workload.template.gpu": { count: 2, resourceName: "amd.com/gpu" } });
    expect(buildPlacement(amd, podSelector).tolerations).toEqual([
      { key: "amd.com/gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
  });

  it("adds no toleration when told not to, or for a CPU-only workload", () => {
    const notTolerating = hpaPolicy({ "spec.placement.tolerateGpuTaint": false });
    expect(buildPlacement(notTolerating, podSelector).tolerations).toBeUndefined();
    const cpuOnly = hpaPolicy({ "spec.workload.template.gpu": undefined });
    expect(buildPlacement(cpuOnly, podSelector).tolerations).toBeUndefined();
  });

  it("spreads across zones, best effort, over the policy's pods", () => {
    const policy = hpaPolicy({ "spec.placement.spreadAcrossZones": true });
    expect(buildPlacement(policy, podSelector).topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: ZONE_LABEL,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: podSelector },
      },
    ]);
  });

  it("sets nothing but the GPU toleration by default", () => {
    expect(buildPlacement(hpaPolicy(), podSelector)).toEqual({
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    });
  });
});
