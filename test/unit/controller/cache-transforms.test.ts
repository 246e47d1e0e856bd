// Each cache keeps what the reconciler reads of its kind, and drops the rest as objects arrive.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { CACHE_TRANSFORMS } from "../../../src/controllers/mlautoscalepolicy/cache-transforms.js";
import { cacheCopy } from "../../../src/runtime/informer.js";
import type { JsonObject } from "../../../src/runtime/rest.js";

/** A Deployment of the operator's as a v1.35 API server sent it (managedFields, defaults, status). */
const serverDeployment = JSON.parse(
  readFileSync(
    new URL("../../../bench/fixtures/api-server-objects/deployments.json", import.meta.url),
    "utf8",
  ),
) as JsonObject;

const lastApplied = { "kubectl.kubernetes.io/last-applied-configuration": '{"a":"whole manifest"}' };
const policyOwner = [
  { apiVersion: "mlautoscale.io/v1alpha1", kind: "MLAutoscalePolicy", name: "p", uid: "1", controller: true },
];
const podTemplate = {
  metadata: { labels: { app: "server" }, annotations: { note: "x" } },
  spec: { containers: [{ name: "server", image: "model:1", env: [{ name: "A", value: "1" }] }] },
};
const workloadStatus = {
  replicas: 3,
  readyReplicas: 2,
  availableReplicas: 2,
  updatedReplicas: 3,
  observedGeneration: 4,
  conditions: [{ type: "Available", status: "True", message: "Deployment has minimum availability." }],
};

describe("the caches' transforms", () => {
  it("keep the pod spec of the policy's own Deployment (write-skip compares it), not of anyone else's", () => {
    const own = CACHE_TRANSFORMS.workload({
      metadata: { name: "p", ownerReferences: policyOwner, annotations: { ...lastApplied, keep: "me" } },
      spec: { replicas: 3, selector: { matchLabels: { app: "server" } }, template: podTemplate },
      status: workloadStatus,
    });
    expect(own).toEqual({
      metadata: { name: "p", ownerReferences: policyOwner, annotations: { keep: "me" } },
      spec: { replicas: 3, selector: { matchLabels: { app: "server" } }, template: podTemplate },
      status: { replicas: 3, readyReplicas: 2, availableReplicas: 2 },
    });
    const foreign = CACHE_TRANSFORMS.workload({
      metadata: { name: "target" },
      spec: { replicas: 3, selector: { matchLabels: { app: "server" } }, template: podTemplate },
      status: workloadStatus,
    });
    expect(foreign["spec"]).toEqual({
      replicas: 3,
      selector: { matchLabels: { app: "server" } },
      template: { metadata: { labels: { app: "server" } } },
    });
  });

  it("drop what the API server defaults in the policy's own Deployment and the operator never sets", () => {
    const cached = CACHE_TRANSFORMS.workload(serverDeployment);
    const spec = cached["spec"] as JsonObject & {
      template: { spec: JsonObject & { containers: JsonObject[] } };
    };
    const podSpec = spec.template.spec;
    const container = podSpec.containers[0] as JsonObject & { readinessProbe: JsonObject };
    expect(spec).not.toHaveProperty("revisionHistoryLimit");
    for (const field of ["dnsPolicy", "restartPolicy", "schedulerName", "securityContext"]) {
      expect(podSpec).not.toHaveProperty(field);
    }
    for (const field of ["terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy"]) {
      expect(container).not.toHaveProperty(field);
    }
    expect(container.readinessProbe).toEqual({
      httpGet: { path: "/ready", port: "http" },
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
    });
    expect(cached["metadata"]).toMatchObject({
      annotations: { "mlautoscale.io/spec-hash": "2fdd8d45e9a3af44" },
    });
    expect(cached["metadata"]).not.toHaveProperty(["annotations", "deployment.kubernetes.io/revision"]);
    // What the operator sets stays, for write-skip to compare.
    expect(spec).toMatchObject({
      progressDeadlineSeconds: 600,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    });
    expect(podSpec).toMatchObject({ terminationGracePeriodSeconds: 40 });
    expect(container).toMatchObject({ image: "registry.example.com/ml/model-server:1.0.0", name: "server" });
  });

  it("keep a Deployment nobody's policy controls as it came, but for its pod spec", () => {
    const { ownerReferences: _owner, ...metadata } = serverDeployment["metadata"] as JsonObject;
    const cached = CACHE_TRANSFORMS.workload({ ...serverDeployment, metadata });
    expect(cached["spec"]).toHaveProperty("revisionHistoryLimit", 10);
    expect(cached["metadata"]).toHaveProperty(["annotations", "deployment.kubernetes.io/revision"], "1");
  });

  it("keep an HPA's desired replicas, last scale time and ScalingActive", () => {
    const hpa = CACHE_TRANSFORMS.hpa({
      metadata: { name: "p" },
      spec: { maxReplicas: 10 },
      status: {
        currentReplicas: 2,
        desiredReplicas: 3,
        lastScaleTime: "2026-12-01T00:00:00Z",
        currentMetrics: [{ type: "Resource" }],
        conditions: [
          { type: "AbleToScale", status: "True" },
          { type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: "ok" },
          { type: "ScalingLimited", status: "False" },
        ],
      },
    });
    expect(hpa["status"]).toEqual({
      desiredReplicas: 3,
      lastScaleTime: "2026-12-01T00:00:00Z",
      conditions: [{ type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: "ok" }],
    });
  });

  it("keep no PDB or TriggerAuthentication status, and a ScaledObject's conditions and health", () => {
    expect(
      CACHE_TRANSFORMS.pdb({ metadata: { name: "p" }, spec: {}, status: { currentHealthy: 3 } }),
    ).toEqual({
      metadata: { name: "p" },
      spec: {},
    });
    const so = CACHE_TRANSFORMS.scaledObject({
      metadata: { name: "p" },
      spec: {},
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        health: { "s0-rabbitmq": { status: "Happy" } },
        externalMetricNames: ["s0-rabbitmq"],
        originalReplicaCount: 1,
      },
    });
    expect(so["status"]).toEqual({
      conditions: [{ type: "Ready", status: "True" }],
      health: { "s0-rabbitmq": { status: "Happy" } },
    });
  });

  it("drop managedFields and kubectl's copy of the manifest from a policy, and keep its status", () => {
    const policy = CACHE_TRANSFORMS.policy({
      metadata: { name: "p", annotations: lastApplied, managedFields: [{ manager: "kubectl" }] },
      spec: { replicas: { min: 1 } },
      status: { observedGeneration: 1 },
    });
    expect(policy).toEqual({
      metadata: { name: "p", annotations: {} },
      spec: { replicas: { min: 1 } },
      status: { observedGeneration: 1 },
    });
  });

  it("hold a copy of the server's object with its kind, sharing nothing with what was parsed", () => {
    const raw = structuredClone(serverDeployment);
    const copy = cacheCopy({ apiVersion: "apps/v1", kind: "Deployment" }, raw, CACHE_TRANSFORMS.workload);
    expect(copy).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      ...CACHE_TRANSFORMS.workload(structuredClone(serverDeployment)),
    });
    (raw["spec"] as JsonObject)["replicas"] = 7;
    expect(copy["spec"]).toHaveProperty("replicas", 1);
    // Nested objects too: the transforms copy only the levels they change.
    const rawSelector = (raw["spec"] as { selector: { matchLabels: Record<string, string> } }).selector;
    rawSelector.matchLabels["added"] = "later";
    expect(copy["spec"]).not.toHaveProperty(["selector", "matchLabels", "added"]);
  });
});
