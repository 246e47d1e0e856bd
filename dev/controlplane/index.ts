export { oldestKubernetes } from "./binaries.js";
export { startControlPlane } from "./controlplane.js";
export type {
  ClusterAddresses,
  ControlPlane,
  ControlPlaneOptions,
  Profile,
  StoppableAddon,
} from "./controlplane.js";
export { FAKE_NODES, GPU_RESOURCE, GPU_TAINT } from "./nodes.js";
