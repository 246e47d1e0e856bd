import type { TestProject } from "vitest/node";
import { startControlPlane, type Profile } from "../../dev/controlplane/index.js";

declare module "vitest" {
  interface ProvidedContext {
    /** Admin kubeconfig of the run's control plane. */
    kubeconfig: string;
    /** Folder with the pinned kubectl and helm. */
    binDir: string;
  }
}

/**
 * One control plane per test run (not per test): starting it costs seconds, and tests isolate themselves
 * by namespace. Returns the teardown that vitest calls at the end of the run.
 */
export async function setUpControlPlane(
  project: TestProject,
  profile: Profile,
): Promise<() => Promise<void>> {
  const controlPlane = await startControlPlane({
    profile,
    log: (line) => process.stderr.write(`[control plane] ${line}\n`),
  });
  project.provide("kubeconfig", controlPlane.kubeconfigPath);
  project.provide("binDir", controlPlane.binDir);
  return () => controlPlane.stop();
}
