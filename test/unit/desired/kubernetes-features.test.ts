// What the children hold on each supported Kubernetes version, and what the policy is told about the rest.
import { describe, expect, it } from "vitest";
import {
  buildDesiredChildren,
  isSupportedKubernetes,
  KEDA_RUNNING,
  kubernetesFeatures,
  parseKubernetesVersion,
  type DesiredChildren,
  type KubernetesFeatures,
} from "../../../src/controllers/mlautoscalepolicy/desired/index.js";
import { computeStatus, type ReconcileVerdict } from "../../../src/controllers/mlautoscalepolicy/status.js";
import { reconcileOnce } from "../../fixtures/reconciler-harness.js";
import { validBasePolicy, withChanges, type Json } from "../../fixtures/invalid-policies.js";
import { hpaPolicy, kedaPolicy } from "./policies.js";

const on = (minor: number): KubernetesFeatures => kubernetesFeatures({ major: 1, minor });

function childrenOn(
  features: KubernetesFeatures,
  changes: Record<string, Json | undefined>,
  policyOf = hpaPolicy,
): DesiredChildren {
  const result = buildDesiredChildren(policyOf(changes), { keda: KEDA_RUNNING, kubernetes: features });
  if (!result.ok) throw new Error(result.message);
  return result.children;
}

const withTolerance = {
  "spec.scaling.behavior": {
    scaleUp: { tolerance: 0.05, policies: [{ type: "Pods", value: 4, periodSeconds: 60 }] },
    scaleDown: { tolerance: 0.2, policies: [{ type: "Percent", value: 50, periodSeconds: 60 }] },
  },
};

describe("the features of a Kubernetes version", () => {
  it("follow the feature gates' defaults of kube_features.go", () => {
    const table = [29, 30, 32, 33, 34, 35, 36].map((minor) => {
      const { sleepAction, zeroSecondSleep, hpaTolerance } = on(minor);
      return [minor, sleepAction, zeroSecondSleep, hpaTolerance];
    });
    expect(table).toEqual([
      [29, false, false, false],
      [30, true, false, false],
      [32, true, false, false],
      [33, true, true, false],
      [34, true, true, false],
      [35, true, true, true],
      [36, true, true, true],
    ]);
    expect(kubernetesFeatures({ major: 2, minor: 0 })).toMatchObject({
      hpaTolerance: true,
      sleepAction: true,
    });
  });

  it("reads versions as users write them and as managed clusters report them", () => {
    for (const text of [
      "1.30",
      "v1.30",
      "1.30.14",
      "v1.30.14",
      "v1.30.5-eks-ce1d5eb",
      "v1.30.2-gke.1587003",
    ]) {
      expect(parseKubernetesVersion(text), text).toEqual({ major: 1, minor: 30 });
    }
    for (const text of ["", "1", "30", "1.x", "one.thirty", "1.30.14.2"]) {
      expect(parseKubernetesVersion(text), text).toBeUndefined();
    }
  });

  it("supports 1.30 and newer", () => {
    expect(isSupportedKubernetes({ major: 1, minor: 29 })).toBe(false);
    expect(isSupportedKubernetes({ major: 1, minor: 30 })).toBe(true);
    expect(isSupportedKubernetes({ major: 2, minor: 0 })).toBe(true);
  });
});

describe("children for an older Kubernetes", () => {
  it("write no HPA tolerance before 1.35, and say so for each direction", () => {
    const old = childrenOn(on(34), withTolerance);
    expect(old.hpa?.spec?.behavior?.scaleUp).not.toHaveProperty("tolerance");
    expect(old.hpa?.spec?.behavior?.scaleDown).not.toHaveProperty("tolerance");
    // The rest of the behavior is kept.
    expect(old.hpa?.spec?.behavior?.scaleUp?.policies).toEqual([
      { type: "Pods", value: 4, periodSeconds: 60 },
    ]);
    expect(old.featuresNotApplied).toHaveLength(2);
    expect(old.featuresNotApplied[0]).toMatch(
      /^scaling\.behavior\.scaleUp\.tolerance 0\.05 is not applied: .*Kubernetes 1\.35 or newer.* and the cluster runs 1\.34; .*--horizontal-pod-autoscaler-tolerance, 0\.1 by default/,
    );
    expect(old.featuresNotApplied[1]).toMatch(/^scaling\.behavior\.scaleDown\.tolerance 0\.2 is not applied/);

    const newest = childrenOn(on(35), withTolerance);
    expect(newest.hpa?.spec?.behavior?.scaleUp?.tolerance).toBe("0.05");
    expect(newest.hpa?.spec?.behavior?.scaleDown?.tolerance).toBe("0.2");
    expect(newest.featuresNotApplied).toEqual([]);
  });

  it("give KEDA no tolerance for its HPA before 1.35 either", () => {
    const children = childrenOn(on(30), withTolerance, kedaPolicy);
    const behavior = children.scaledObject?.spec.advanced?.horizontalPodAutoscalerConfig?.behavior;
    expect(behavior?.scaleUp).not.toHaveProperty("tolerance");
    expect(behavior?.scaleDown).not.toHaveProperty("tolerance");
    expect(children.featuresNotApplied).toHaveLength(2);
  });

  it("drain with a preStop sleep from 1.30, and a zero drain is no hook before 1.33", () => {
    const lifecycle = (features: KubernetesFeatures, drainSeconds: number) => {
      const children = childrenOn(features, { "spec.workload.template.shutdown": { drainSeconds } });
      return {
        lifecycle: children.deployment?.spec?.template.spec?.containers[0]?.lifecycle,
        notApplied: children.featuresNotApplied,
      };
    };
    expect(lifecycle(on(30), 15)).toEqual({
      lifecycle: { preStop: { sleep: { seconds: 15 } } },
      notApplied: [],
    });
    // A sleep of 0 seconds is refused before 1.33; no hook waits as long.
    expect(lifecycle(on(32), 0)).toEqual({ lifecycle: undefined, notApplied: [] });
    expect(lifecycle(on(33), 0)).toEqual({
      lifecycle: { preStop: { sleep: { seconds: 0 } } },
      notApplied: [],
    });
  });

  it("leave the drain out where there is no sleep action, and say it is not applied", () => {
    const children = childrenOn(on(29), { "spec.workload.template.shutdown": { drainSeconds: 15 } });
    const pod = children.deployment?.spec?.template.spec;
    expect(pod?.containers[0]).not.toHaveProperty("lifecycle");
    // The grace period still covers the longest request.
    expect(pod?.terminationGracePeriodSeconds).toBe(15 + 30 + 5);
    expect(children.featuresNotApplied).toEqual([
      "workload.template.shutdown.drainSeconds 15 is not applied: the preStop sleep action needs Kubernetes " +
        "1.30 or newer and the cluster runs 1.29, so pods get SIGTERM without waiting for endpoints to drop them",
    ]);
  });
});

describe("the policy on an older Kubernetes", () => {
  const policy = withChanges(validBasePolicy(), { "metadata.name": "svc", ...withTolerance });

  it("reports what is not applied in Reconciled (FeatureUnavailable) and as a Warning event", async () => {
    const { applied, status, events } = await reconcileOnce(policy, {
      kubernetes: kubernetesFeatures({ major: 1, minor: 30 }, "v1.30.14"),
    });
    const hpa = applied.find((o) => o.kind === "HorizontalPodAutoscaler") as {
      spec: { behavior: { scaleUp: object } };
    };
    expect(hpa.spec.behavior.scaleUp).not.toHaveProperty("tolerance");
    const reconciled = status?.conditions?.find((c) => c.type === "Reconciled");
    expect(reconciled).toMatchObject({ status: "True", reason: "FeatureUnavailable" });
    expect(reconciled?.message).toContain("scaling.behavior.scaleUp.tolerance 0.05 is not applied");
    expect(reconciled?.message).toContain("the cluster runs v1.30.14");
    expect(events.filter((e) => e.startsWith("Warning FeatureUnavailable: "))).toHaveLength(1);
  });

  it("waits, writing nothing, until the API server's version is known", async () => {
    const { applied, status, result } = await reconcileOnce(policy, { kubernetes: "unknown" });
    expect(applied).toEqual([]);
    expect(status).toBeUndefined();
    expect(result).toEqual({ requeueAfterMs: expect.any(Number) as number });
  });

  it("keeps a PDB correction as the reason and says both", () => {
    const verdict: ReconcileVerdict = {
      kind: "applied",
      engine: "HPA",
      corrections: [
        "minAvailable 2 would block node drains at 2 replicas (replicas.min); using minAvailable 1",
      ],
      featuresNotApplied: ["scaling.behavior.scaleUp.tolerance 0.05 is not applied: ..."],
      children: [],
    };
    const status = computeStatus({
      generation: 1,
      previous: undefined,
      verdict,
      observed: { children: [] },
      minReplicas: 2,
      now: "2026-01-01T00:00:00Z",
    });
    const reconciled = status.conditions?.find((c) => c.type === "Reconciled");
    expect(reconciled?.reason).toBe("DisruptionBudgetCorrected");
    expect(reconciled?.message).toBe(
      "minAvailable 2 would block node drains at 2 replicas (replicas.min); using minAvailable 1; " +
        "scaling.behavior.scaleUp.tolerance 0.05 is not applied: ...",
    );
  });
});
