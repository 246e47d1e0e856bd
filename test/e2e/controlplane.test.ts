import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  type V1Deployment,
  type V1NodeSelectorRequirement,
  type V1Pod,
} from "@kubernetes/client-node";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GPU_RESOURCE, GPU_TAINT } from "../../dev/controlplane/index.js";
import { addNodes, removeNodes } from "../../dev/controlplane/nodes.js";
import {
  createTestNamespace,
  deleteTestNamespace,
  kubectl,
  testBinDir,
  testKubeConfig,
  testKubeconfigPath,
} from "../support/cluster.js";

const INSTANCE_TYPE = "node.kubernetes.io/instance-type";
const WAIT = { timeout: 60_000, interval: 250 };

function gpuDeployment(name: string, replicas: number, instanceTypes: string[]): V1Deployment {
  const requirement: V1NodeSelectorRequirement = {
    key: INSTANCE_TYPE,
    operator: "In",
    values: instanceTypes,
  };
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [requirement] }],
              },
            },
          },
          tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
          containers: [
            {
              name: "model-server",
              image: "model-server:test",
              resources: { limits: { [GPU_RESOURCE]: "1" } },
            },
          ],
        },
      },
    },
  };
}

async function isGone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return true;
    throw error;
  }
}

describe("e2e control plane", () => {
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  const apps = testKubeConfig().makeApiClient(AppsV1Api);
  let namespace = "";
  beforeAll(async () => {
    namespace = await createTestNamespace("controlplane-e2e");
  });
  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  it("has Ready GPU nodes of two instance types and a CPU-only node", async () => {
    const nodes = (await core.listNode()).items;
    const gpuNodes = nodes.filter((node) => node.status?.allocatable?.[GPU_RESOURCE] !== undefined);
    const instanceTypes = new Set(gpuNodes.map((node) => node.metadata?.labels?.[INSTANCE_TYPE]));
    expect(instanceTypes).toEqual(new Set(["g4dn.xlarge", "p3.2xlarge"]));
    for (const node of gpuNodes) {
      expect(node.spec?.taints).toContainEqual(expect.objectContaining(GPU_TAINT));
      expect(node.metadata?.labels?.["workload-type"]).toBe("ml-inference");
      expect(node.metadata?.labels?.["topology.kubernetes.io/zone"]).toBeTruthy();
    }
    const cpuOnly = nodes.filter((node) => node.status?.allocatable?.[GPU_RESOURCE] === undefined);
    expect(cpuOnly.map((node) => node.metadata?.labels?.[INSTANCE_TYPE])).toEqual(["m5.xlarge"]);
    for (const node of nodes) {
      expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    }
  });

  it("runs a GPU Deployment's pods only on nodes of the required instance type", async () => {
    await apps.createNamespacedDeployment({
      namespace,
      body: gpuDeployment("g4dn-inference", 3, ["g4dn.xlarge"]),
    });
    const pods = await vi.waitFor(async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: "app=g4dn-inference" });
      const running = list.items.filter((pod) => pod.status?.phase === "Running");
      expect(running).toHaveLength(3);
      return running;
    }, WAIT);
    const nodeNames = new Set(pods.map((pod) => pod.spec?.nodeName ?? ""));
    for (const nodeName of nodeNames) {
      const node = await core.readNode({ name: nodeName });
      expect(node.metadata?.labels?.[INSTANCE_TYPE]).toBe("g4dn.xlarge");
    }
    const deployment = await vi.waitFor(async () => {
      const current = await apps.readNamespacedDeployment({ namespace, name: "g4dn-inference" });
      expect(current.status?.readyReplicas).toBe(3);
      return current;
    }, WAIT);
    expect(deployment.status?.availableReplicas).toBe(3);
  });

  it("schedules no more GPU pods than the matching nodes have nvidia.com/gpu free", async () => {
    // A node of its own instance type, so that what other tests run cannot take its GPUs.
    const capacityNodes = [
      {
        name: "gpu-capacity-a",
        instanceType: "g5.capacity-test",
        zone: "zone-a",
        cpu: "8",
        memory: "32Gi",
        gpus: 2,
      },
    ];
    await addNodes(testKubeConfig(), capacityNodes);
    try {
      await apps.createNamespacedDeployment({
        namespace,
        body: gpuDeployment("gpu-capacity", 3, ["g5.capacity-test"]),
      });
      const pods = await vi.waitFor(async () => {
        const list = await core.listNamespacedPod({ namespace, labelSelector: "app=gpu-capacity" });
        const count = (phase: string): number =>
          list.items.filter((pod) => pod.status?.phase === phase).length;
        expect(count("Running")).toBe(2);
        expect(count("Pending")).toBe(1);
        return list.items;
      }, WAIT);
      const pending = pods.find((pod) => pod.status?.phase === "Pending");
      const scheduled = pending?.status?.conditions?.find((c) => c.type === "PodScheduled");
      expect(scheduled?.status).toBe("False");
      expect(scheduled?.message).toContain(GPU_RESOURCE);
      await apps.deleteNamespacedDeployment({ namespace, name: "gpu-capacity" });
    } finally {
      await removeNodes(testKubeConfig(), capacityNodes);
    }
  });

  it("leaves a pod whose affinity matches no node Pending with PodScheduled=False", async () => {
    const pod: V1Pod = {
      metadata: { name: "no-such-gpu" },
      spec: {
        ...gpuDeployment("unused", 1, ["a100.nonexistent"]).spec?.template.spec,
        containers: [{ name: "model-server", image: "model-server:test" }],
      },
    };
    await core.createNamespacedPod({ namespace, body: pod });
    const condition = await vi.waitFor(async () => {
      const current = await core.readNamespacedPod({ namespace, name: "no-such-gpu" });
      const scheduled = current.status?.conditions?.find((c) => c.type === "PodScheduled");
      expect(scheduled?.status).toBe("False");
      return scheduled;
    }, WAIT);
    expect(condition?.reason).toBe("Unschedulable");
    const current = await core.readNamespacedPod({ namespace, name: "no-such-gpu" });
    expect(current.status?.phase).toBe("Pending");
    expect(current.spec?.nodeName).toBeUndefined();
  });

  it("garbage-collects an owned object when its owner is deleted", async () => {
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "owner" } } });
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: "owned",
          ownerReferences: [
            { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata?.uid ?? "" },
          ],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ namespace, name: "owner" });
    await vi.waitFor(async () => {
      expect(await isGone(() => core.readNamespacedConfigMap({ namespace, name: "owned" }))).toBe(true);
    }, WAIT);
  });

  it("deletes a namespace with its contents", async () => {
    const doomed = await createTestNamespace("doomed");
    const result = await kubectl(["create", "configmap", "content", "--from-literal=k=v"], {
      namespace: doomed,
    });
    expect(result.code, result.stderr).toBe(0);
    await deleteTestNamespace(doomed);
    await vi.waitFor(async () => {
      expect(await isGone(() => core.readNamespace({ name: doomed }))).toBe(true);
    }, WAIT);
  });

  it("installs a Helm chart that requires the server's Kubernetes version", async () => {
    const chartDir = mkdtempSync(join(tmpdir(), "mlautoscale-chart-"));
    try {
      // kubeVersion makes Helm refuse the install unless the server reports 1.35 (set at build time).
      writeFileSync(
        join(chartDir, "Chart.yaml"),
        'apiVersion: v2\nname: probe\nversion: 0.1.0\nkubeVersion: ">=1.35.0-0 <1.36.0-0"\n',
      );
      mkdirSync(join(chartDir, "templates"));
      writeFileSync(
        join(chartDir, "templates", "configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}\n",
      );
      await promisify(execFile)(join(testBinDir(), "helm"), [
        "install",
        "probe",
        chartDir,
        `--namespace=${namespace}`,
        `--kubeconfig=${testKubeconfigPath()}`,
        "--wait",
        "--timeout=60s",
      ]);
    } finally {
      rmSync(chartDir, { recursive: true, force: true });
    }
    const configMap = await core.readNamespacedConfigMap({ namespace, name: "probe" });
    expect(configMap.data?.kubeVersion).toBe("v1.35.4");
  });
});
