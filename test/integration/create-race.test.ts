// A child's name taken by someone else a moment before the caches could show it: the reconciler's real
// writer creates with a create, so the other party's object is refused, not merged into, and the policy
// reports Conflict. Its own child that the caches have not seen yet is applied as usual. The caches are
// in-memory stores left behind the API server on purpose; every write goes to the real kube-apiserver.
import type {
  V1Deployment,
  V1PodDisruptionBudget,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restPolicyWriter } from "../../src/controllers/mlautoscalepolicy/controller.js";
import { PolicyReconciler, type PolicyObject } from "../../src/controllers/mlautoscalepolicy/reconciler.js";
import { CACHE_INDEXERS } from "../../src/controllers/mlautoscalepolicy/scale-target.js";
import { Applier } from "../../src/runtime/apply.js";
import { deepFreeze } from "../../src/runtime/object.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import { Store } from "../../src/runtime/store.js";
import { validBasePolicy } from "../fixtures/invalid-policies.js";
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from "../support/cluster.js";
import {
  applyObjects,
  condition,
  getDeployment,
  getHpa,
  getPolicy,
  paths,
  rest,
} from "../support/policies.js";

describe("creating a child whose name the caches do not show as taken", () => {
  let namespace: string;
  beforeAll(async () => {
    namespace = await createTestNamespace("create-race");
  });
  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  function reconcilerOver(policy: PolicyObject, deployments: Store<V1Deployment>): PolicyReconciler {
    const policies = new Store<PolicyObject>(CACHE_INDEXERS.policy);
    policies.upsert(deepFreeze(policy));
    const client = new KubeRestClient(testKubeConfig());
    return new PolicyReconciler({
      caches: {
        policies,
        deployments,
        statefulSets: new Store<V1StatefulSet>(),
        hpas: new Store<V2HorizontalPodAutoscaler>(CACHE_INDEXERS.autoscaler),
        pdbs: new Store<V1PodDisruptionBudget>(CACHE_INDEXERS.pdb),
        keda: () => undefined,
      },
      writer: restPolicyWriter(new Applier(client, { fieldManager: "mlautoscale" }), client),
      events: { event: () => undefined },
    });
  }

  it("refuses another party's object, leaves it as it was, reports Conflict; applies its own", async () => {
    await applyObjects(namespace, validBasePolicy());
    const policy = await getPolicy(namespace, "base-policy");
    if (policy === undefined) throw new Error("the policy was not created");
    // Someone else's HPA with the policy's name, made just before the policy's first reconcile.
    const foreign = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "base-policy", namespace },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "elsewhere" },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 90 } },
          },
        ],
      },
    };
    await rest().request("POST", paths.hpas(namespace), { body: foreign });
    const before = await getHpa(namespace, "base-policy");

    const key = { namespace, name: "base-policy" };
    const context = { reconcileId: "t", logger: undefined, signal: new AbortController().signal };
    const first = reconcilerOver(policy, new Store<V1Deployment>());
    await expect(first.reconcile(key, context)).rejects.toThrow("exists and is not owned by this policy");

    const after = await getHpa(namespace, "base-policy");
    expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
    expect(after?.metadata?.ownerReferences).toBeUndefined();
    expect(after?.spec?.maxReplicas).toBe(3);
    const reported = await getPolicy(namespace, "base-policy");
    expect(condition(reported, "Reconciled")).toMatchObject({ status: "False", reason: "Conflict" });
    expect(condition(reported, "Reconciled")?.message).toContain(
      `HorizontalPodAutoscaler ${namespace}/base-policy exists and is not owned by this policy`,
    );

    // The policy's own Deployment was created in that reconcile; a second reconcile over caches that still
    // miss it finds the name taken by the policy itself, and applies over it.
    const deployment = await getDeployment(namespace, "base-policy");
    expect(deployment?.metadata?.ownerReferences?.[0]?.uid).toBe(policy.metadata.uid);
    await rest().request("DELETE", paths.hpa(namespace, "base-policy"));
    const reread = await getPolicy(namespace, "base-policy");
    if (reread === undefined) throw new Error("the policy is gone");
    const second = reconcilerOver(reread, new Store<V1Deployment>());
    await second.reconcile(key, context);
    expect(condition(await getPolicy(namespace, "base-policy"), "Reconciled")).toMatchObject({
      status: "True",
    });
    const own = await getHpa(namespace, "base-policy");
    expect(own?.metadata?.ownerReferences?.[0]?.uid).toBe(policy.metadata.uid);
    // Created with a create, in one write: its Update entry becomes an Apply entry at the first apply to it
    // (runtime-apply.test.ts), not before.
    expect(
      own?.metadata?.managedFields?.map((entry) => `${entry.manager ?? ""}/${entry.operation ?? ""}`),
    ).toEqual(["mlautoscale/Update"]);
  });
});
