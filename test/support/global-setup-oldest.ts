import type { TestProject } from "vitest/node";
import { oldestKubernetes } from "../../dev/controlplane/index.js";
import { setUpControlPlane } from "./control-plane-setup.js";

// etcd + kube-apiserver of the oldest supported Kubernetes (KUBERNETES_OLDEST in
// scripts/controlplane/versions.env), with our CRDs and KEDA's installed.
export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return setUpControlPlane(project, "integration", { kubernetesVersion: oldestKubernetes() });
}
