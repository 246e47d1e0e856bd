import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { apiPaths, ClusterSampler, findTarget, type KubeReader } from "../../../src/loadtest/cluster.js";
import { policiesInText } from "../../../src/loadtest/target.js";

const examples = new URL("../../../examples/", import.meta.url).pathname;
const [batch] = policiesInText(readFileSync(`${examples}2-batch-rabbitmq.yaml`, "utf8"), "2.yaml");
if (!batch) throw new Error("no policy");

/** The API server as a map of paths; a path that maps to an Error fails. */
function reader(objects: Record<string, unknown>): KubeReader & { paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    get<T>(path: string): Promise<T | undefined> {
      paths.push(path);
      const value = objects[path];
      return value instanceof Error ? Promise.reject(value) : Promise.resolve(value as T | undefined);
    },
  };
}

const ns = "ml";
const policyPath = apiPaths.policy(ns, "batch-embeddings");

describe("finding the policy in the cluster", () => {
  it("fails, naming the policy and how to apply it, when it is not there", async () => {
    await expect(
      findTarget(reader({}), batch, ns, "https://k:6443 (context dev)", "batch.yaml"),
    ).rejects.toThrow(
      "MLAutoscalePolicy ml/batch-embeddings is not in the cluster at https://k:6443 (context dev): apply it first (kubectl apply -n ml -f batch.yaml), or name its namespace with -n",
    );
    await expect(
      findTarget(reader({ [policyPath]: new Error("forbidden") }), batch, ns, "k", "batch.yaml"),
    ).rejects.toThrow("cannot read MLAutoscalePolicy ml/batch-embeddings at k: forbidden");
  });

  it("samples the HPA KEDA made, named in the ScaledObject's status", async () => {
    const kube = reader({
      [policyPath]: {
        status: {
          engine: "KEDA",
          children: [{ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", name: "batch-embeddings" }],
        },
      },
      [apiPaths.scaledObject(ns, "batch-embeddings")]: { status: { hpaName: "keda-hpa-batch-embeddings" } },
    });
    const target = await findTarget(kube, batch, ns, "k", "f");
    expect(target).toMatchObject({
      engine: "KEDA",
      hpaName: "keda-hpa-batch-embeddings",
      workload: { kind: "Deployment", name: "batch-embeddings" },
    });
  });

  it("samples a targetRef's StatefulSet and the HPA the policy owns", async () => {
    const policy = structuredClone(batch);
    policy.spec.workload = { targetRef: { apiVersion: "apps/v1", kind: "StatefulSet", name: "legacy" } };
    const kube = reader({
      [policyPath]: {
        status: { engine: "HPA", children: [{ kind: "HorizontalPodAutoscaler", name: "hpa-x" }] },
      },
    });
    const target = await findTarget(kube, policy, ns, "k", "f");
    expect(target).toMatchObject({ hpaName: "hpa-x", workload: { kind: "StatefulSet", name: "legacy" } });
  });
});

describe("sampling the replicas", () => {
  const target = {
    namespace: ns,
    name: "svc",
    engine: "KEDA" as const,
    workload: { kind: "Deployment" as const, name: "svc" },
    hpaName: "svc",
    live: {},
  };
  const hpaPath = apiPaths.hpa(ns, "svc");
  const deploymentPath = apiPaths.workload(ns, "Deployment", "svc");

  it("reads the HPA's desired replicas and the Deployment's replicas and ready replicas", async () => {
    const sampler = new ClusterSampler(
      reader({
        [hpaPath]: {
          status: {
            desiredReplicas: 4,
            conditions: [{ type: "ScalingActive", status: "True", reason: "ValidMetricFound" }],
          },
        },
        [deploymentPath]: { spec: { replicas: 3 }, status: { readyReplicas: 2 } },
      }),
      target,
    );
    expect(await sampler.sample()).toEqual({ desiredReplicas: 4, replicas: 3, readyReplicas: 2 });
    expect(sampler.missed).toBe(0);
  });

  it("takes the Deployment's replicas while no HPA decides: none yet, or KEDA holds it at zero", async () => {
    const disabled = new ClusterSampler(
      reader({
        [hpaPath]: {
          status: {
            desiredReplicas: 0,
            conditions: [{ type: "ScalingActive", status: "False", reason: "ScalingDisabled" }],
          },
        },
        [deploymentPath]: { spec: { replicas: 1 }, status: {} },
      }),
      target,
    );
    expect(await disabled.sample()).toEqual({ desiredReplicas: 1, replicas: 1, readyReplicas: 0 });
    const none = new ClusterSampler(
      reader({ [deploymentPath]: { spec: { replicas: 2 }, status: { readyReplicas: 2 } } }),
      target,
    );
    expect(await none.sample()).toEqual({ desiredReplicas: 2, replicas: 2, readyReplicas: 2 });
  });

  it("records a failed read as unknown and counts it", async () => {
    const sampler = new ClusterSampler(
      reader({
        [hpaPath]: new Error("timeout"),
        [deploymentPath]: { spec: { replicas: 2 }, status: { readyReplicas: 1 } },
      }),
      target,
    );
    expect(await sampler.sample()).toEqual({ desiredReplicas: null, replicas: 2, readyReplicas: 1 });
    expect(sampler.missed).toBe(1);
    expect(sampler.lastError).toBe("timeout");
  });
});
