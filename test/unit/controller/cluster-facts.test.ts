import { describe, expect, it } from "vitest";
import {
  externalMetricsApi,
  kedaAvailability,
} from "../../../src/controllers/mlautoscalepolicy/controller.js";
import { ChildWriteError } from "../../../src/controllers/mlautoscalepolicy/reconciler.js";
import type { ApiServiceState } from "../../../src/runtime/discovery.js";
import { KubeApiError } from "../../../src/runtime/errors.js";

type Served = Extract<ApiServiceState, { exists: true }>;

const kedas = (available: boolean, reason = "", message = ""): Served => ({
  readable: true,
  exists: true,
  available,
  reason,
  message,
  service: { namespace: "keda", name: "keda-metrics-apiserver" },
  labels: { "app.kubernetes.io/part-of": "keda-operator" },
});

describe("kedaAvailability", () => {
  it("is absent without KEDA's CRDs, whatever holds the external metrics API", () => {
    expect(kedaAvailability(false, kedas(true))).toEqual({ state: "absent" });
    expect(kedaAvailability(false, undefined)).toEqual({ state: "absent" });
  });

  it("runs when KEDA's metrics server holds the external metrics API and is Available", () => {
    expect(kedaAvailability(true, kedas(true))).toEqual({ state: "running" });
    // The Helm chart names its Service keda-operator-metrics-apiserver and may carry other labels.
    expect(
      kedaAvailability(true, {
        ...kedas(true),
        labels: {},
        service: { namespace: "keda", name: "keda-operator-metrics-apiserver" },
      }),
    ).toEqual({ state: "running" });
  });

  it("is not running when the CRDs stayed but KEDA's metrics server is gone, down or replaced", () => {
    expect(kedaAvailability(true, { readable: true, exists: false })).toEqual({
      state: "not-running",
      message: "no APIService v1beta1.external.metrics.k8s.io: KEDA's metrics server is not registered",
    });
    expect(kedaAvailability(true, kedas(false, "FailedDiscoveryCheck", "connection refused"))).toEqual({
      state: "not-running",
      message:
        "KEDA's metrics server (keda/keda-metrics-apiserver) is not Available: FailedDiscoveryCheck connection refused",
    });
    expect(
      kedaAvailability(true, {
        ...kedas(true),
        labels: {},
        service: { namespace: "monitoring", name: "prometheus-adapter" },
      }),
    ).toEqual({
      state: "not-running",
      message:
        "v1beta1.external.metrics.k8s.io is served by monitoring/prometheus-adapter, not by KEDA's metrics server",
    });
  });

  it("assumes KEDA runs when the APIService may not be read, or has not been read yet", () => {
    expect(kedaAvailability(true, { readable: false, message: "forbidden" })).toEqual({ state: "running" });
    expect(kedaAvailability(true, undefined)).toEqual({ state: "running" });
  });
});

describe("externalMetricsApi", () => {
  it("can serve an HPA's External metrics only when an Available server other than KEDA's holds the API", () => {
    expect(
      externalMetricsApi({
        ...kedas(true),
        labels: {},
        service: { namespace: "monitoring", name: "prometheus-adapter" },
      }),
    ).toEqual({ servable: true });
    expect(externalMetricsApi(kedas(true))).toEqual({
      servable: false,
      permanent: true,
      message: expect.stringContaining(
        "held by KEDA's metrics server (keda/keda-metrics-apiserver), which serves only ScaledObjects' metrics",
      ) as unknown,
    });
    expect(externalMetricsApi({ readable: true, exists: false })).toMatchObject({
      servable: false,
      permanent: true,
    });
  });

  it("takes an outage of the server as passing, and an unreadable APIService as servable", () => {
    expect(
      externalMetricsApi({
        ...kedas(false, "FailedDiscoveryCheck", "no route"),
        labels: {},
        service: { namespace: "monitoring", name: "prometheus-adapter" },
      }),
    ).toEqual({
      servable: false,
      permanent: false,
      message:
        "the server of external.metrics.k8s.io (monitoring/prometheus-adapter) is not Available: FailedDiscoveryCheck no route",
    });
    expect(externalMetricsApi({ readable: false, message: "forbidden" })).toEqual({ servable: true });
    expect(externalMetricsApi(undefined)).toEqual({ servable: true });
  });
});

describe("ChildWriteError", () => {
  it("takes invalid, forbidden and webhook-denied writes as refusals, with the server's words", () => {
    const denied = new KubeApiError(
      403,
      `admission webhook "vscaledobject.kb.io" denied the request: the workload 'svc' of type 'apps/v1.Deployment' is already managed by the ScaledObject 'other'`,
    );
    const error = ChildWriteError.of("ScaledObject ns/svc", denied);
    expect(error.refused).toBe(true);
    expect(error.message).toBe(`ScaledObject ns/svc: ${denied.message}`);
    expect(ChildWriteError.of("x", new KubeApiError(422, "invalid")).refused).toBe(true);
    expect(ChildWriteError.of("x", new KubeApiError(400, "bad")).refused).toBe(true);
  });

  it("retries what can pass later: conflicts, throttling, server errors, a webhook that cannot be called", () => {
    for (const code of [409, 429, 500, 503, 504]) {
      expect(ChildWriteError.of("x", new KubeApiError(code, "later")).refused, String(code)).toBe(false);
    }
    const unreachable = new KubeApiError(
      500,
      `Internal error occurred: failed calling webhook "vscaledobject.kb.io": dial tcp 127.0.0.1:1: connect: connection refused`,
    );
    expect(ChildWriteError.of("x", unreachable).refused).toBe(false);
    expect(ChildWriteError.of("x", new Error("socket hang up")).refused).toBe(false);
  });
});
