// KEDA -> HPA hand-over with garbage collection running: the ScaledObject's HPA (as KEDA would have made
// it) survives the ScaledObject, is adopted by the policy with the same UID, and replicas do not drop.
import { afterAll, beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import type { V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import type { PolicyStatus } from "../../src/api/v1alpha1/index.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import type { ScaledObject } from "../../src/keda/types.js";
import { validBasePolicy, type JsonObject } from "../fixtures/invalid-policies.js";
import { createTestNamespace, deleteTestNamespace, kubectl, testKubeConfig } from "../support/cluster.js";
import { eventually, startOperator, type InProcessOperator, getIfExists } from "../support/operator.js";

let rest: KubeRestClient;
let operator: InProcessOperator;
let ns: string;

beforeAll(async () => {
  rest = new KubeRestClient(testKubeConfig());
  ns = await createTestNamespace("handover");
  operator = await startOperator(testKubeConfig(), { namespaces: [ns] });
});

afterAll(async () => {
  await operator?.stop();
  await deleteTestNamespace(ns);
});

const get = <T>(path: string): Promise<T | undefined> => getIfExists<T>(rest, path);

function policy(withTrigger: boolean): JsonObject {
  const p = validBasePolicy();
  (p["metadata"] as JsonObject)["name"] = "svc";
  const spec = p["spec"] as JsonObject;
  (spec["replicas"] as JsonObject)["min"] = 2;
  if (withTrigger) {
    (spec["scaling"] as JsonObject)["triggers"] = [
      {
        type: "kafka",
        metadata: { bootstrapServers: "kafka:9092", consumerGroup: "ml", topic: "jobs", lagThreshold: "10" },
      },
    ];
  }
  return p;
}

const paths = {
  policy: () => `/apis/mlautoscale.io/v1alpha1/namespaces/${ns}/mlautoscalepolicies/svc`,
  deployment: () => `/apis/apps/v1/namespaces/${ns}/deployments/svc`,
  hpa: () => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/svc`,
  scaledObject: () => `/apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects/svc`,
};

it("keeps the KEDA-managed HPA through a switch to the HPA engine and adopts it", async () => {
  await kubectl(["apply", "-f", "-"], { namespace: ns, input: stringify(policy(true)) });
  const so = await eventually(() => get<ScaledObject>(paths.scaledObject()), "the ScaledObject");
  // KEDA is the engine: the policy owns no HPA of its own.
  expect(await get(paths.hpa())).toBeUndefined();
  // Pods come up on the fake GPU nodes; the Deployment runs 3 replicas as the autoscaler left it.
  await rest.request("PATCH", `${paths.deployment()}/scale`, {
    contentType: "application/merge-patch+json",
    body: { spec: { replicas: 3 } },
  });

  // What KEDA does for the ScaledObject: an HPA named by advanced.horizontalPodAutoscalerConfig.name,
  // labelled with the ScaledObject's labels and controlled by it.
  await kubectl(["apply", "--server-side", "--field-manager=keda", "-f", "-"], {
    namespace: ns,
    input: stringify({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: {
        name: so.spec.advanced?.horizontalPodAutoscalerConfig?.name ?? "",
        labels: { ...so.metadata.labels, "app.kubernetes.io/managed-by": "keda-operator" },
        ownerReferences: [
          {
            apiVersion: "keda.sh/v1alpha1",
            kind: "ScaledObject",
            name: "svc",
            uid: so.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "svc" },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          {
            type: "External",
            external: {
              metric: {
                name: "s0-kafka-jobs",
                selector: { matchLabels: { "scaledobject.keda.sh/name": "svc" } },
              },
              target: { type: "AverageValue", averageValue: "10" },
            },
          },
        ],
      },
    }),
  });
  const kedaHpa = await eventually(() => get<V2HorizontalPodAutoscaler>(paths.hpa()), "KEDA's HPA");

  // Switch to the HPA engine.
  await kubectl(["apply", "-f", "-"], { namespace: ns, input: stringify(policy(false)) });
  const adopted = await eventually(
    async () => {
      const current = await get<V2HorizontalPodAutoscaler>(paths.hpa());
      return current?.metadata?.ownerReferences?.[0]?.kind === "MLAutoscalePolicy" ? current : undefined;
    },
    "the policy to adopt the HPA",
    60_000,
  );
  expect(adopted.metadata?.uid).toBe(kedaHpa.metadata?.uid);
  expect(adopted.metadata?.ownerReferences).toHaveLength(1);
  expect(adopted.spec?.metrics?.[0]?.resource?.name).toBe("cpu");
  await eventually(
    async () => ((await get(paths.scaledObject())) === undefined ? true : undefined),
    "the ScaledObject to go",
  );
  const deployment = await get<V1Deployment>(paths.deployment());
  expect(deployment?.spec?.replicas).toBe(3);
  const status = (await get<{ status?: PolicyStatus }>(paths.policy()))?.status;
  expect(status?.engine).toBe("HPA");
});
