import { createServer, type Server } from "node:http";
import type { TestProject } from "vitest/node";
import {
  startControlPlane,
  type ClusterAddresses,
  type ControlPlane,
  type ControlPlaneOptions,
  type Profile,
  type StoppableAddon,
} from "../../dev/controlplane/index.js";

declare module "vitest" {
  interface ProvidedContext {
    /** Admin kubeconfig of the run's control plane. */
    kubeconfig: string;
    /** Folder with the pinned kubectl and helm. */
    binDir: string;
    /** The addresses `npm run cluster` prints: Prometheus, the brokers, the emulator. */
    addresses: ClusterAddresses;
    /** Whether KEDA's programs run. */
    keda: boolean;
    /** http://127.0.0.1:<port> of the harness's control endpoint (stop and start add-ons). */
    harnessUrl: string;
    /** kube-apiserver's version as it reports it, e.g. "v1.35.4". */
    kubernetesVersion: string;
  }
}

const ADDONS: readonly StoppableAddon[] = [
  "keda",
  "prometheus",
  "prometheus-adapter",
  "metrics-server",
  "rabbitmq",
  "kafka",
];

/**
 * Tests run in worker processes; the control plane lives in this one. An outage test asks it to stop and
 * start an add-on's processes over loopback: POST /addons/<name>/stop or /start, answered when done.
 */
function harnessServer(controlPlane: ControlPlane): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const match = /^\/addons\/([a-z-]+)\/(stop|start)$/.exec(request.url ?? "");
    const addon = ADDONS.find((name) => name === match?.[1]);
    if (request.method !== "POST" || match === null || addon === undefined) {
      response.writeHead(404).end(`unknown: ${request.method ?? ""} ${request.url ?? ""}\n`);
      return;
    }
    const action = match[2] === "stop" ? controlPlane.stopAddon(addon) : controlPlane.startAddon(addon);
    action.then(
      () => response.writeHead(204).end(),
      (error: unknown) => response.writeHead(500).end(error instanceof Error ? error.message : String(error)),
    );
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}` });
    });
  });
}

/**
 * One control plane per test run (not per test): starting it costs seconds, and tests isolate themselves
 * by namespace. Returns the teardown that vitest calls at the end of the run.
 */
export async function setUpControlPlane(
  project: TestProject,
  profile: Profile,
  options: Pick<ControlPlaneOptions, "kubernetesVersion"> = {},
): Promise<() => Promise<void>> {
  const controlPlane = await startControlPlane({
    profile,
    ...options,
    log: (line) => process.stderr.write(`[control plane] ${line}\n`),
  });
  const harness = await harnessServer(controlPlane);
  project.provide("kubeconfig", controlPlane.kubeconfigPath);
  project.provide("binDir", controlPlane.binDir);
  project.provide("addresses", { ...controlPlane.addresses });
  project.provide("keda", controlPlane.keda);
  project.provide("harnessUrl", harness.url);
  project.provide("kubernetesVersion", controlPlane.kubernetesVersion);
  return async () => {
    await new Promise((resolve) => harness.server.close(resolve));
    await controlPlane.stop();
  };
}
