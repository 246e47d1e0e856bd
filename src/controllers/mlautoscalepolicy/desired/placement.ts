// Node affinity, tolerations and zone spreading for GPU instance types and warm pools.
import type {
  V1Affinity,
  V1NodeAffinity,
  V1Toleration,
  V1TopologySpreadConstraint,
} from "@kubernetes/client-node";
import type { MLAutoscalePolicy } from "../../../api/v1alpha1/index.js";

export const INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type";
export const ZONE_LABEL = "topology.kubernetes.io/zone";

export interface PodPlacement {
  affinity?: V1Affinity;
  tolerations?: V1Toleration[];
  topologySpreadConstraints?: V1TopologySpreadConstraint[];
}

export function buildPlacement(policy: MLAutoscalePolicy, podSelector: Record<string, string>): PodPlacement {
  const placement = policy.spec.placement;
  const gpu = policy.spec.workload.template?.gpu;
  const result: PodPlacement = {};

  const instanceTypes = [...new Set(placement.gpuInstanceTypes ?? [])].sort();
  const preferred = Object.entries(placement.preferredNodeLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  if (instanceTypes.length > 0 || preferred.length > 0) {
    const nodeAffinity: V1NodeAffinity = {};
    if (instanceTypes.length > 0) {
      nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: INSTANCE_TYPE_LABEL, operator: "In", values: instanceTypes }] },
        ],
      };
    }
    if (preferred.length > 0) {
      nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution = preferred.map(([key, value]) => ({
        weight: 100,
        preference: { matchExpressions: [{ key, operator: "In", values: [value] }] },
      }));
    }
    result.affinity = { nodeAffinity };
  }

  if (gpu !== undefined && placement.tolerateGpuTaint) {
    // GPU node pools taint their nodes with the GPU resource name (GKE, EKS and the NVIDIA GPU operator do).
    result.tolerations = [{ key: gpu.resourceName, operator: "Exists", effect: "NoSchedule" }];
  }

  if (placement.spreadAcrossZones) {
    result.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: ZONE_LABEL,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: podSelector },
      },
    ];
  }
  return result;
}
