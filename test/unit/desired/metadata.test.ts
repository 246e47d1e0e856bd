import { describe, expect, it } from "vitest";
import {
  buildDesiredChildren,
  childObjects,
  KEDA_ABSENT,
  KEDA_RUNNING,
} from "../../../src/controllers/mlautoscalepolicy/desired/index.js";
import {
  childLabels,
  compareStrings,
  propagatedLabels,
} from "../../../src/controllers/mlautoscalepolicy/desired/metadata.js";
import type { MLAutoscalePolicy } from "../../../src/api/v1alpha1/index.js";
import type { Json } from "../../fixtures/invalid-policies.js";
import { hpaPolicy, kedaPolicy } from "./policies.js";

const UID = "0c6d1d5e-3f5a-4c36-9a43-1d2f5f0f7c11";

function render(policy: MLAutoscalePolicy, kedaInstalled = true): string {
  const result = buildDesiredChildren(policy, { keda: kedaInstalled ? KEDA_RUNNING : KEDA_ABSENT });
  if (!result.ok) throw new Error(result.message);
  return JSON.stringify(childObjects(result.children));
}

/** The same object with every object's keys in reverse order (as another YAML file might list them). */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T;
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  ) as T;
}

describe("owner references", () => {
  it("makes the policy every child's controller when it has a UID", () => {
    const policy = kedaPolicy({ "metadata.uid": UID });
    const result = buildDesiredChildren(policy, { keda: KEDA_RUNNING });
    if (!result.ok) throw new Error(result.message);
    const objects = childObjects(result.children);
    expect(objects.map((o) => o.kind)).toEqual([
      "Deployment",
      "TriggerAuthentication",
      "ScaledObject",
      "PodDisruptionBudget",
    ]);
    for (const o of objects) {
      expect(o.metadata?.ownerReferences).toEqual([
        {
          apiVersion: "mlautoscale.io/v1alpha1",
          kind: "MLAutoscalePolicy",
          name: "keda-base-policy",
          uid: UID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(o.metadata?.namespace).toBe("ml");
    }
  });

  it("has no owner reference without a UID (a file rendered offline)", () => {
    const result = buildDesiredChildren(hpaPolicy(), { keda: KEDA_RUNNING });
    if (!result.ok) throw new Error(result.message);
    for (const o of childObjects(result.children)) {
      expect(o.metadata).not.toHaveProperty("ownerReferences");
    }
  });
});

describe("labels", () => {
  it("carries the policy's labels, with the operator's own winning", () => {
    const policy = hpaPolicy({
      "metadata.labels": { team: "vision", "app.kubernetes.io/managed-by": "someone-else" },
    });
    expect(childLabels(policy)).toEqual({
      "app.kubernetes.io/managed-by": "mlautoscale",
      "app.kubernetes.io/name": "base-policy",
      "mlautoscale.io/policy": "base-policy",
      team: "vision",
    });
    expect(Object.keys(childLabels(policy))).toEqual(Object.keys(childLabels(policy)).sort(compareStrings));
  });
});

describe("deterministic output", () => {
  const rich: Record<string, Json> = {
    "metadata.uid": UID,
    "metadata.labels": { z: "1", a: "2" },
    "spec.workload.template.env": [
      { name: "B", value: "2" },
      { name: "A", value: "1" },
    ],
    "spec.workload.template.podAnnotations": { "z.io/x": "1", "a.io/y": "2" },
    "spec.placement": {
      gpuInstanceTypes: ["p3.2xlarge", "g4dn.xlarge", "g5.xlarge"],
      preferredNodeLabels: { zone: "warm", "workload-type": "ml-inference" },
      spreadAcrossZones: true,
    },
  };

  it("gives the same bytes for the same policy", () => {
    expect(render(hpaPolicy(rich))).toBe(render(hpaPolicy(rich)));
    expect(render(kedaPolicy(rich))).toBe(render(kedaPolicy(rich)));
  });

  it("gives the same bytes whatever the order of keys in the policy", () => {
    const policy = hpaPolicy({
      ...rich,
      "spec.scaling.metrics.external": [
        { metricName: "rps", selector: { b: "2", a: "1" }, targetAverageValue: 5 },
        { metricName: "latency", targetValue: 3 },
      ],
    });
    expect(render(reversedKeys(policy))).toBe(render(policy));
    const keda = kedaPolicy({
      ...rich,
      "spec.authentication.secretRef.parameters": [
        { parameter: "password", key: "pw" },
        { parameter: "host", key: "host" },
      ],
    });
    expect(render(reversedKeys(keda))).toBe(render(keda));
  });

  it("sorts lists whose order means nothing", () => {
    const deployment = JSON.parse(render(hpaPolicy(rich))) as {
      spec: { template: { spec: { containers: { env: { name: string }[] }[]; affinity: unknown } } };
    }[];
    const pod = deployment[0]?.spec.template.spec;
    expect(pod?.containers[0]?.env.map((e) => e.name)).toEqual(["A", "B", "MODEL_PATH"]);
    expect(JSON.stringify(pod?.affinity)).toContain('["g4dn.xlarge","g5.xlarge","p3.2xlarge"]');
  });
});

describe("label propagation", () => {
  const labels = {
    team: "search",
    "example.com/cost-center": "42",
    "app.kubernetes.io/instance": "search-prod",
    "argocd.argoproj.io/instance": "search-prod",
    "kustomize.toolkit.fluxcd.io/name": "apps",
    "helm.toolkit.fluxcd.io/namespace": "flux-system",
    "kapp.k14s.io/app": "1700000000",
  };

  it("never copies a GitOps tool's tracking labels onto the children", () => {
    expect(propagatedLabels(labels)).toEqual({ team: "search", "example.com/cost-center": "42" });
  });

  it("copies only the keys and prefixes asked for, and still no tracking label", () => {
    expect(propagatedLabels(labels, ["example.com/"])).toEqual({ "example.com/cost-center": "42" });
    expect(propagatedLabels(labels, ["team", "app.kubernetes.io/"])).toEqual({ team: "search" });
    expect(propagatedLabels(labels, ["example.com"])).toEqual({});
  });

  it("labels every child accordingly, the operator's own labels kept", () => {
    const policy = hpaPolicy({ "metadata.labels": labels });
    for (const [propagate, expected] of [
      [undefined, ["example.com/cost-center", "team"]],
      [["team"], ["team"]],
    ] as const) {
      const result = buildDesiredChildren(policy, {
        keda: KEDA_RUNNING,
        ...(propagate !== undefined && { propagateLabels: propagate }),
      });
      if (!result.ok) throw new Error(result.message);
      for (const child of childObjects(result.children)) {
        const keys = Object.keys(child.metadata?.labels ?? {});
        expect(keys.filter((k) => k in labels).sort()).toEqual(expected);
        expect(child.metadata?.labels?.["mlautoscale.io/policy"]).toBe("base-policy");
      }
    }
  });
});
