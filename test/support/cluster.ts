import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { inject } from "vitest";
import type { ClusterAddresses, StoppableAddon } from "../../dev/controlplane/index.js";
import "./control-plane-setup.js";

export function testKubeconfigPath(): string {
  return inject("kubeconfig");
}

export function testKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(testKubeconfigPath());
  return kubeConfig;
}

export function testBinDir(): string {
  return inject("binDir");
}

/** A namespace of its own for a test: `<prefix>-<random>`, created and returned. */
export async function createTestNamespace(prefix: string): Promise<string> {
  const cleaned = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
  const name = `${cleaned || "test"}-${randomBytes(4).toString("hex")}`;
  await testKubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { "mlautoscale.io/test": "true" } } } });
  return name;
}

/**
 * Asks for the namespace's deletion and returns without waiting: only the e2e profile runs the namespace
 * controller that finishes it; in integration the namespace stays Terminating until the run ends.
 */
export async function deleteTestNamespace(name: string): Promise<void> {
  try {
    await testKubeConfig().makeApiClient(CoreV1Api).deleteNamespace({ name });
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return;
    throw error;
  }
}

/** The pinned kubectl against the test cluster. */
export function kubectl(
  args: string[],
  opts: { input?: string; namespace?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const fullArgs = [
    `--kubeconfig=${testKubeconfigPath()}`,
    ...(opts.namespace ? [`--namespace=${opts.namespace}`] : []),
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(join(testBinDir(), "kubectl"), fullArgs, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

/** Addresses of the run's cluster: Prometheus, the brokers, the emulator (those it runs). */
export function clusterAddresses(): ClusterAddresses {
  return inject("addresses");
}

/** Stops an add-on's processes (an outage); its registrations stay, as after a crash. */
export async function stopAddon(name: StoppableAddon): Promise<void> {
  await harnessRequest(name, "stop");
}

/** Starts a stopped add-on again on the same ports, and waits until it is up. */
export async function startAddon(name: StoppableAddon): Promise<void> {
  await harnessRequest(name, "start");
}

async function harnessRequest(name: StoppableAddon, action: "stop" | "start"): Promise<void> {
  const response = await fetch(`${inject("harnessUrl")}/addons/${name}/${action}`, { method: "POST" });
  if (response.status !== 204) throw new Error(`${action} ${name}: ${await response.text()}`);
}
