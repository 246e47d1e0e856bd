import { CoreV1Api, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import { fileURLToPath } from "node:url";
import { waitFor } from "./net.js";

/** The project's own KWOK stages (pod start, readiness after the model's load time, deletion). */
export const KWOK_STAGES_DIR = fileURLToPath(new URL("./kwok/", import.meta.url));

export const GPU_RESOURCE = "nvidia.com/gpu";
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" } as const;

export interface FakeNodeSpec {
  name: string;
  instanceType: string;
  zone: string;
  cpu: string;
  memory: string;
  gpus: number;
}

/**
 * The fake nodes of the e2e profile: GPU nodes of two instance types in two zones, tainted as GPU nodes
 * usually are so that only pods tolerating the taint land there, and one CPU-only node.
 */
export const FAKE_NODES: readonly FakeNodeSpec[] = [
  { name: "gpu-g4dn-a", instanceType: "g4dn.xlarge", zone: "zone-a", cpu: "4", memory: "16Gi", gpus: 4 },
  { name: "gpu-g4dn-b", instanceType: "g4dn.xlarge", zone: "zone-b", cpu: "4", memory: "16Gi", gpus: 4 },
  { name: "gpu-p3-a", instanceType: "p3.2xlarge", zone: "zone-a", cpu: "8", memory: "61Gi", gpus: 4 },
  { name: "cpu-m5-a", instanceType: "m5.xlarge", zone: "zone-a", cpu: "4", memory: "16Gi", gpus: 0 },
];

/**
 * Nodes `<prefix>-<suffix>` of one shape, spread over two zones in turn (the first in `zones[0]`), as a
 * node pool is.
 */
export function nodePool(
  prefix: string,
  suffixes: readonly string[],
  shape: Omit<FakeNodeSpec, "name" | "zone">,
  zones: readonly [string, string] = ["zone-a", "zone-b"],
): FakeNodeSpec[] {
  const [even, odd] = zones;
  return suffixes.map((suffix, i) => ({
    name: `${prefix}-${suffix}`,
    zone: i % 2 === 0 ? even : odd,
    ...shape,
  }));
}

export function fakeNode(spec: FakeNodeSpec): V1Node {
  const isGpu = spec.gpus > 0;
  const resources: Record<string, string> = {
    cpu: spec.cpu,
    memory: spec.memory,
    pods: "110",
    ...(isGpu ? { [GPU_RESOURCE]: String(spec.gpus) } : {}),
  };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: spec.name,
      annotations: {
        // KWOK manages every node (--manage-all-nodes); the annotation also tells people these are fake.
        "kwok.x-k8s.io/node": "fake",
        "node.alpha.kubernetes.io/ttl": "0",
        // Every node's kubelet is KWOK on one address: metrics-server tells them apart by this path.
        "metrics.k8s.io/resource-metrics-path": `/metrics/nodes/${spec.name}/metrics/resource`,
      },
      labels: {
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/role": "agent",
        "node.kubernetes.io/instance-type": spec.instanceType,
        "topology.kubernetes.io/zone": spec.zone,
        "topology.kubernetes.io/region": "local",
        type: "kwok",
        ...(isGpu ? { "workload-type": "ml-inference", "nvidia.com/gpu.present": "true" } : {}),
      },
    },
    spec: { taints: isGpu ? [{ ...GPU_TAINT }] : [] },
    status: {
      capacity: resources,
      allocatable: resources,
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        kubeletVersion: "fake",
        kubeProxyVersion: "fake",
        bootID: "",
        containerRuntimeVersion: "",
        kernelVersion: "",
        machineID: "",
        osImage: "",
        systemUUID: "",
      },
    },
  };
}

/** Creates the nodes (KWOK manages every node) and waits for them to be Ready. */
export async function addNodes(
  kubeConfig: KubeConfig,
  specs: readonly FakeNodeSpec[],
  timeoutMs = 60_000,
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  for (const spec of specs) await core.createNode({ body: fakeNode(spec) });
  await Promise.all(
    specs.map(({ name }) =>
      waitFor(
        `fake node ${name} to be Ready`,
        async () => {
          const node = await core.readNode({ name });
          const ready = node.status?.conditions?.find((condition) => condition.type === "Ready");
          return ready?.status === "True" ? true : undefined;
        },
        { timeoutMs, intervalMs: 200 },
      ),
    ),
  );
}

/** Deletes the nodes; one already gone is no error. */
export async function removeNodes(kubeConfig: KubeConfig, specs: readonly FakeNodeSpec[]): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  for (const { name } of specs) await core.deleteNode({ name }).catch(() => undefined);
}

export async function createFakeNodes(kubeConfig: KubeConfig, timeoutMs: number): Promise<void> {
  await addNodes(kubeConfig, FAKE_NODES, timeoutMs);
}
