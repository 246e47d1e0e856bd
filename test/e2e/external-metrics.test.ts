// Example 4 scales on an HPA External metric (requests_per_second of its service). Only one server can
// hold external.metrics.k8s.io: where KEDA holds it (the suite's cluster), the policy says so and makes no
// HPA that could never read; on a cluster without KEDA, prometheus-adapter serves the metric and the real
// HPA scales the workload on it.
import { afterAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { startControlPlane, type ControlPlane } from "../../dev/controlplane/index.js";
import { localExamples } from "../../dev/demo.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import {
  clusterAddresses,
  createTestNamespace,
  deleteTestNamespace,
  testKubeConfig,
} from "../support/cluster.js";
import { eventually, getIfExists, startOperator, type InProcessOperator } from "../support/operator.js";
import {
  applyObjects,
  condition,
  getDeployment,
  getHpa,
  waitForCondition,
  type Policy,
} from "../support/policies.js";

type Document = { kind?: string; metadata: { name: string }; spec: Record<string, unknown> };

const operators: InProcessOperator[] = [];
const namespaces: string[] = [];
let ownCluster: ControlPlane | undefined;

afterAll(async () => {
  await Promise.all(operators.map((operator) => operator.stop()));
  for (const ns of namespaces) await deleteTestNamespace(ns);
  await ownCluster?.stop();
});

function hybridRanker(addresses: Parameters<typeof localExamples>[0]): Document {
  const found = (localExamples(addresses) as Document[]).find((d) => d.metadata.name === "hybrid-ranker");
  if (found === undefined) throw new Error("no hybrid-ranker example");
  // A 5 s model instead of 30 s, so that new replicas come quickly.
  const template = (found.spec["workload"] as { template: { model: { loadSeconds: number } } }).template;
  template.model.loadSeconds = 5;
  return found;
}

describe("example 4 and the external metrics API", () => {
  it("where KEDA holds the API: says so, makes no HPA, and runs the workload at its minimum", async () => {
    const ns = await createTestNamespace("external-keda");
    namespaces.push(ns);
    operators.push(
      await startOperator(testKubeConfig(), { namespaces: [ns], kedaDiscoveryIntervalMs: 2_000 }),
    );
    await applyObjects(ns, hybridRanker(clusterAddresses()));
    const policy = await waitForCondition(
      ns,
      "hybrid-ranker",
      "Reconciled",
      "False",
      "ExternalMetricsUnavailable",
    );
    expect(condition(policy, "Reconciled")?.message).toBe(
      "the HPA cannot read its External metric requests_per_second: external.metrics.k8s.io is held by KEDA's " +
        "metrics server (keda/keda-metrics-apiserver), which serves only ScaledObjects' metrics, and only one " +
        "server can hold it; read the metric through a KEDA trigger (e.g. prometheus) instead; no " +
        "HorizontalPodAutoscaler is created until one can",
    );
    expect(condition(policy, "ScalingActive")).toMatchObject({
      status: "False",
      reason: "ExternalMetricsUnavailable",
    });
    expect(await getHpa(ns, "hybrid-ranker")).toBeUndefined();
    // The workload itself runs: the Deployment serves its minimum of 3.
    await waitForCondition(ns, "hybrid-ranker", "Ready", "True", "Available", 120_000);
    expect((await getDeployment(ns, "hybrid-ranker"))?.spec?.replicas).toBe(3);
  });

  it("on a cluster without KEDA: prometheus-adapter serves the metric and the HPA scales on it", async () => {
    ownCluster = await startControlPlane({ profile: "e2e", keda: false });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(ownCluster.kubeconfigPath);
    const rest = new KubeRestClient(kubeConfig);
    const emulator = ownCluster.addresses.EMULATOR_URL ?? "";
    // The e2e cluster without KEDA still has KEDA's CRDs; the external metrics API is prometheus-adapter's.
    const apiService = await rest.request<{ spec: { service: { name: string } } }>(
      "GET",
      "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.external.metrics.k8s.io",
    );
    expect(apiService.spec.service.name).toBe("prometheus-adapter");

    await rest.request("POST", "/api/v1/namespaces", { body: { metadata: { name: "ranker" } } });
    operators.push(await startOperator(kubeConfig, { namespaces: ["ranker"] }));
    const policy = { apiVersion: "mlautoscale.io/v1alpha1", ...hybridRanker(ownCluster.addresses) };
    await rest.request(
      "PATCH",
      "/apis/mlautoscale.io/v1alpha1/namespaces/ranker/mlautoscalepolicies/hybrid-ranker",
      {
        query: { fieldManager: "test-user", force: true },
        contentType: "application/apply-patch+yaml",
        body: policy,
      },
    );
    const deploymentPath = "/apis/apps/v1/namespaces/ranker/deployments/hybrid-ranker";
    const replicas = async (): Promise<number | undefined> =>
      (await getIfExists<{ spec?: { replicas?: number } }>(rest, deploymentPath))?.spec?.replicas;
    await eventually(async () => ((await replicas()) === 3 ? true : undefined), "3 replicas", 120_000);

    // 1,000 requests per second to the service: its pods' requests_per_second{service="hybrid-ml"} sum to
    // 1,000, and at 100 per pod the HPA wants 10.
    await eventually(async () => {
      const response = await fetch(`${emulator}/v1/workloads/ranker/hybrid-ranker/load`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ rps: 1000 }),
      });
      return response.ok ? true : undefined;
    }, "the emulator to take the load");
    await eventually(
      async () => ((await replicas()) === 10 ? true : undefined),
      "10 replicas",
      240_000,
      1_000,
    );
    const scaled = await eventually(async () => {
      const current = await getIfExists<Policy>(
        rest,
        "/apis/mlautoscale.io/v1alpha1/namespaces/ranker/mlautoscalepolicies/hybrid-ranker",
      );
      return condition(current, "ScalingActive")?.status === "True" ? current : undefined;
    }, "ScalingActive from the HPA");
    expect(condition(scaled, "ScalingActive")?.reason).toBe("ValidMetricFound");
    expect(condition(scaled, "Reconciled")?.status).toBe("True");
    const hpa = await getIfExists<{
      status?: { currentMetrics?: { external?: { current?: { averageValue?: string } } }[] };
    }>(rest, "/apis/autoscaling/v2/namespaces/ranker/horizontalpodautoscalers/hybrid-ranker");
    expect(hpa?.status?.currentMetrics?.[0]?.external?.current?.averageValue).toBeDefined();
  });
});
