import { describe, expect, it } from "vitest";
import type { V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import {
  computeStatus,
  setCondition,
  type ObservedChildren,
  type ReconcileVerdict,
} from "../../../src/controllers/mlautoscalepolicy/status.js";
import type { ScaledObject } from "../../../src/keda/types.js";

const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:05:00Z";

const applied: ReconcileVerdict = { kind: "applied", engine: "HPA", corrections: [], children: [] };

function deployment(spec: number, ready: number, available = ready): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "svc" },
    spec: { replicas: spec, selector: {}, template: {} },
    status: { replicas: spec, readyReplicas: ready, availableReplicas: available },
  };
}

function hpaWith(status: "True" | "False", reason: string, message: string): V2HorizontalPodAutoscaler {
  return {
    metadata: { name: "svc" },
    spec: { scaleTargetRef: { kind: "Deployment", name: "svc" }, maxReplicas: 10 },
    status: {
      desiredReplicas: 4,
      lastScaleTime: new Date("2026-01-01T00:01:00Z"),
      conditions: [{ type: "ScalingActive", status, reason, message }],
    },
  };
}

function scaledObjectWith(
  conditions: { type: string; status: "True" | "False" | "Unknown"; reason?: string; message?: string }[],
): ScaledObject {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name: "svc" },
    spec: { scaleTargetRef: { name: "svc" }, triggers: [] },
    status: { conditions },
  };
}

function status(
  verdict: ReconcileVerdict,
  observed: Partial<ObservedChildren>,
  previous?: ReturnType<typeof computeStatus>,
  now = T0,
) {
  return computeStatus({
    generation: 3,
    previous,
    verdict,
    observed: { children: [], ...observed },
    minReplicas: 1,
    now,
  });
}

const byType = (s: ReturnType<typeof computeStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type);

describe("setCondition", () => {
  it("keeps lastTransitionTime while the status stays, and moves it when the status flips", () => {
    const first = setCondition(
      undefined,
      { type: "Ready", status: "False", reason: "Progressing", message: "a" },
      1,
      T0,
    );
    const sameStatus = setCondition(
      first,
      { type: "Ready", status: "False", reason: "Other", message: "b" },
      2,
      T1,
    );
    expect(sameStatus[0]).toEqual({
      type: "Ready",
      status: "False",
      reason: "Other",
      message: "b",
      observedGeneration: 2,
      lastTransitionTime: T0,
    });
    const flipped = setCondition(
      sameStatus,
      { type: "Ready", status: "True", reason: "Available", message: "c" },
      2,
      T1,
    );
    expect(flipped[0]?.lastTransitionTime).toBe(T1);
  });

  it("keeps the other conditions and sorts by type", () => {
    const a = setCondition(
      undefined,
      { type: "ScalingActive", status: "True", reason: "x", message: "" },
      1,
      T0,
    );
    const b = setCondition(a, { type: "Ready", status: "True", reason: "y", message: "" }, 1, T0);
    expect(b.map((c) => c.type)).toEqual(["Ready", "ScalingActive"]);
  });
});

describe("computeStatus", () => {
  it("is Ready once one replica is available, and mirrors the HPA's replica counts", () => {
    const s = status(applied, { workload: deployment(3, 2), hpa: hpaWith("True", "ValidMetricFound", "ok") });
    expect(byType(s, "Ready")).toMatchObject({ status: "True", reason: "Available", observedGeneration: 3 });
    expect(byType(s, "Reconciled")).toMatchObject({ status: "True", reason: "ReconcileSucceeded" });
    expect(byType(s, "ScalingActive")).toMatchObject({ status: "True", reason: "ValidMetricFound" });
    expect(s).toMatchObject({
      observedGeneration: 3,
      engine: "HPA",
      replicas: 3,
      readyReplicas: 2,
      desiredReplicas: 4,
    });
    expect(s.lastScaleTime).toBe("2026-01-01T00:01:00Z");
  });

  it("is not Ready until replicas.min replicas are available", () => {
    const belowMin = computeStatus({
      generation: 1,
      previous: undefined,
      verdict: applied,
      observed: { children: [], workload: deployment(3, 1) },
      minReplicas: 3,
      now: T0,
    });
    expect(byType(belowMin, "Ready")).toMatchObject({ status: "False", reason: "Progressing" });
    expect(byType(belowMin, "Ready")?.message).toContain("1/3 replicas available, 3 needed");
  });

  it("is not Ready while no replica is available (a model still loading)", () => {
    const s = status(applied, { workload: deployment(2, 0) });
    expect(byType(s, "Ready")).toMatchObject({ status: "False", reason: "Progressing" });
    expect(byType(s, "Ready")?.message).toContain("0/2 replicas available");
  });

  it("reports an HPA metric that cannot be read instead of treating it as zero", () => {
    const s = status(applied, {
      workload: deployment(2, 2),
      hpa: hpaWith(
        "False",
        "FailedGetResourceMetric",
        "the HPA was unable to compute the replica count: no metrics",
      ),
    });
    expect(byType(s, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "FailedGetResourceMetric",
      message: "the HPA was unable to compute the replica count: no metrics",
    });
  });

  it("is pending until the HPA has computed a scale", () => {
    expect(byType(status(applied, { workload: deployment(1, 1) }), "ScalingActive")).toMatchObject({
      status: "Unknown",
      reason: "AutoscalerPending",
    });
  });

  it("reports an autoscaler that cannot work as asked: Reconciled False when part was withheld", () => {
    const message = "the HPA cannot read its External metric requests_per_second: KEDA holds the API";
    const withheld = status(
      { ...applied, problem: { reason: "ExternalMetricsUnavailable", message, withheld: true } },
      { workload: deployment(3, 3) },
    );
    expect(byType(withheld, "Reconciled")).toMatchObject({
      status: "False",
      reason: "ExternalMetricsUnavailable",
      message,
    });
    expect(byType(withheld, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "ExternalMetricsUnavailable",
    });
    // The workload that was applied still serves.
    expect(byType(withheld, "Ready")).toMatchObject({ status: "True", reason: "Available" });

    const partial = status(
      { ...applied, problem: { reason: "ExternalMetricsUnavailable", message, withheld: false } },
      { workload: deployment(3, 3), hpa: hpaWith("True", "ValidMetricFound", "ok") },
    );
    expect(byType(partial, "Reconciled")).toMatchObject({ status: "True" });
    expect(byType(partial, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "ExternalMetricsUnavailable",
    });
  });

  it("names the triggers KEDA reports failing, by the trigger's name and KEDA's metric", () => {
    const keda: ReconcileVerdict = { kind: "applied", engine: "KEDA", corrections: [], children: [] };
    const so = scaledObjectWith([
      { type: "Ready", status: "True" },
      {
        type: "Fallback",
        status: "True",
        message: "At least one trigger is falling back on this scaled object",
      },
    ]);
    so.spec.triggers = [
      { type: "rabbitmq", name: "jobs", metadata: {} },
      { type: "prometheus", name: "queue-depth", metadata: {} },
    ];
    so.status = {
      ...so.status,
      health: {
        "s0-rabbitmq-jobs": { numberOfFailures: 0, status: "Happy" },
        "s1-prometheus": { numberOfFailures: 3, status: "Failing" },
      },
    };
    expect(byType(status(keda, { scaledObject: so }), "ScalingActive")).toMatchObject({
      status: "False",
      reason: "MetricsUnavailable",
      message:
        "KEDA fallback is active: At least one trigger is falling back on this scaled object; failing: queue-depth (prometheus, metric s1-prometheus): 3 failures",
    });
  });

  it("does not trust a ScaledObject's status while KEDA is not running: nothing updates it", () => {
    const keda: ReconcileVerdict = { kind: "applied", engine: "KEDA", corrections: [], children: [] };
    const stale = status(keda, {
      scaledObject: scaledObjectWith([
        { type: "Ready", status: "True" },
        { type: "Active", status: "True" },
      ]),
      kedaNotRunning: "KEDA's metrics server (keda/keda-metrics-apiserver) is not Available",
    });
    expect(byType(stale, "ScalingActive")).toMatchObject({ status: "False", reason: "KedaNotRunning" });
    expect(byType(stale, "ScalingActive")?.message).toContain("keda/keda-metrics-apiserver");
    // An HPA-engine policy does not depend on KEDA.
    const hpa = status(applied, {
      workload: deployment(2, 2),
      hpa: hpaWith("True", "ValidMetricFound", "ok"),
      kedaNotRunning: "down",
    });
    expect(byType(hpa, "ScalingActive")).toMatchObject({ status: "True", reason: "ValidMetricFound" });
  });

  it("mirrors KEDA: not ready -> MetricsUnavailable, fallback -> MetricsUnavailable, ready -> Active or Idle", () => {
    const keda: ReconcileVerdict = { kind: "applied", engine: "KEDA", corrections: [], children: [] };
    const failing = status(keda, {
      scaledObject: scaledObjectWith([
        {
          type: "Ready",
          status: "False",
          reason: "ScaledObjectCheckFailed",
          message: "rabbitmq: connection refused",
        },
      ]),
    });
    expect(byType(failing, "ScalingActive")).toMatchObject({ status: "False", reason: "MetricsUnavailable" });
    expect(byType(failing, "ScalingActive")?.message).toContain("connection refused");

    const fallback = status(keda, {
      scaledObject: scaledObjectWith([
        { type: "Ready", status: "True" },
        { type: "Fallback", status: "True", message: "failing scalers" },
      ]),
    });
    expect(byType(fallback, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "MetricsUnavailable",
    });

    const idle = status(keda, {
      scaledObject: scaledObjectWith([
        { type: "Ready", status: "True" },
        { type: "Active", status: "False" },
      ]),
    });
    expect(byType(idle, "ScalingActive")).toMatchObject({ status: "True", reason: "Idle" });
  });

  it("is Ready at zero replicas only for a scale-to-zero workload", () => {
    const atZero = computeStatus({
      generation: 1,
      previous: undefined,
      verdict: { kind: "applied", engine: "KEDA", corrections: [], children: [] },
      observed: { children: [], workload: deployment(0, 0) },
      minReplicas: 0,
      now: T0,
    });
    expect(byType(atZero, "Ready")).toMatchObject({ status: "True", reason: "ScaledToZero" });
    expect(byType(status(applied, { workload: deployment(0, 0) }), "Ready")?.status).toBe("False");
  });

  it("reports a failure in Reconciled and Ready, keeping the engine in use", () => {
    const previous = status(applied, { workload: deployment(2, 2) });
    const failed = status(
      { kind: "failed", reason: "InvalidSpec", message: "spec.replicas.min: must not exceed max" },
      { workload: deployment(2, 2) },
      previous,
      T1,
    );
    expect(byType(failed, "Reconciled")).toMatchObject({
      status: "False",
      reason: "InvalidSpec",
      lastTransitionTime: T1,
    });
    expect(byType(failed, "Ready")).toMatchObject({ status: "False", reason: "NotReconciled" });
    expect(byType(failed, "Ready")?.message).toContain("spec.replicas.min");
    expect(failed.engine).toBe("HPA");
  });

  it("reports a PDB correction in Reconciled, still True", () => {
    const s = status({ ...applied, corrections: ["minAvailable 2 would block node drains"] }, {});
    expect(byType(s, "Reconciled")).toMatchObject({
      status: "True",
      reason: "DisruptionBudgetCorrected",
      message: "minAvailable 2 would block node drains",
    });
  });

  it("gives the same status for the same inputs, so a steady state writes nothing", () => {
    const observed = { workload: deployment(2, 2), hpa: hpaWith("True", "ValidMetricFound", "ok") };
    const first = status(applied, observed);
    expect(status(applied, observed, first, T1)).toEqual(first);
  });
});
