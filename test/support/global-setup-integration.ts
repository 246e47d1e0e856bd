import type { TestProject } from "vitest/node";
import { setUpControlPlane } from "./control-plane-setup.js";

// etcd + kube-apiserver with our CRDs and KEDA's installed.
export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return setUpControlPlane(project, "integration");
}
