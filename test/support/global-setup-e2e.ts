import type { TestProject } from "vitest/node";
import { setUpControlPlane } from "./control-plane-setup.js";

// The integration control plane plus kube-controller-manager, kube-scheduler and KWOK's fake GPU nodes.
export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return setUpControlPlane(project, "e2e");
}
