export { startControlPlane } from "./controlplane.js";
export type { ControlPlane, ControlPlaneOptions, Profile } from "./controlplane.js";
export { FAKE_NODES, GPU_RESOURCE, GPU_TAINT } from "./nodes.js";
