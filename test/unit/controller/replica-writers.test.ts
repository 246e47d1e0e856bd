// Another field manager writing a targetRef workload's spec.replicas fights the autoscaler: the cache
// keeps who writes that field (and nothing else of managedFields), and the policy says so in Reconciled.
import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../src/api/v1alpha1/index.js";
import { keepWritersOf } from "../../../src/runtime/informer.js";
import { validBasePolicy, withChanges } from "../../fixtures/invalid-policies.js";
import { NAMESPACE, reconcileOnce } from "../../fixtures/reconciler-harness.js";

describe("keepWritersOf", () => {
  const transform = keepWritersOf(["spec", "replicas"]);
  const fields = (spec: Record<string, unknown>) => ({ "f:spec": spec });

  it("keeps the managers of the field, without their field sets, and drops the others", () => {
    const object = {
      metadata: {
        name: "m",
        managedFields: [
          {
            manager: "argocd-controller",
            operation: "Apply",
            fieldsV1: fields({ "f:replicas": {}, "f:template": {} }),
          },
          {
            manager: "kube-controller-manager",
            operation: "Update",
            subresource: "scale",
            fieldsV1: fields({ "f:replicas": {} }),
          },
          { manager: "kubectl-edit", operation: "Update", fieldsV1: fields({ "f:paused": {} }) },
        ],
      },
      spec: { replicas: 3 },
    };
    expect(transform(object)).toEqual({
      metadata: {
        name: "m",
        managedFields: [
          { manager: "argocd-controller", operation: "Apply" },
          { manager: "kube-controller-manager", operation: "Update", subresource: "scale" },
        ],
      },
      spec: { replicas: 3 },
    });
  });

  it("drops managedFields entirely when nobody owns the field", () => {
    const object = {
      metadata: {
        name: "m",
        managedFields: [{ manager: "x", operation: "Update", fieldsV1: fields({ "f:paused": {} }) }],
      },
    };
    expect(transform(object)).toEqual({ metadata: { name: "m" } });
  });
});

describe("a targetRef workload whose replicas another manager writes", () => {
  const target = (writers: { manager: string; operation: string; subresource?: string }[]): V1Deployment => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { namespace: NAMESPACE, name: "server", uid: "d", managedFields: writers },
    spec: { replicas: 3, selector: { matchLabels: { app: "server" } }, template: {} },
  });
  const policy = withChanges(validBasePolicy(), {
    "spec.workload.targetRef": { kind: "Deployment", name: "server" },
    "spec.workload.template": undefined,
  });
  const reconciled = (status: Awaited<ReturnType<typeof reconcileOnce>>["status"]) =>
    status?.conditions?.find((c) => c.type === "Reconciled");

  it("is named in Reconciled (still True), with a Warning event", async () => {
    const { status, events } = await reconcileOnce(policy, {
      deployments: [target([{ manager: "argocd-controller", operation: "Apply" }])],
    });
    expect(reconciled(status)).toMatchObject({ status: "True", reason: Reason.ReplicasWrittenElsewhere });
    expect(reconciled(status)?.message).toContain(
      "spec.replicas of Deployment ml/server is also written by argocd-controller (Apply)",
    );
    expect(events.some((e) => e.startsWith(`Warning ${Reason.ReplicasWrittenElsewhere}`))).toBe(true);
  });

  it("is not reported when only the autoscalers write the replicas", async () => {
    const { status } = await reconcileOnce(policy, {
      deployments: [
        target([
          { manager: "kube-controller-manager", operation: "Update", subresource: "scale" },
          { manager: "keda", operation: "Update", subresource: "scale" },
        ]),
      ],
    });
    expect(reconciled(status)?.reason).toBe(Reason.ReconcileSucceeded);
  });
});
