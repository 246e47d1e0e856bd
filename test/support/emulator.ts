// The workload emulator of the run's cluster (dev/emulator), as tests drive it over its HTTP API.
import { clusterAddresses, kubectl } from "./cluster.js";

export interface EmulatedWorkload {
  namespace: string;
  name: string;
  pods: number;
  readyPods: number;
  queue: number;
  served: number;
  busy: number;
  source: { type: string; description: string; status: string };
}

function emulatorUrl(): string {
  const url = clusterAddresses().EMULATOR_URL;
  if (url === undefined) throw new Error("the cluster runs no workload emulator");
  return url;
}

async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${emulatorUrl()}${path}`, {
    method,
    ...(body !== undefined && {
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`emulator ${method} ${path}: HTTP ${response.status}: ${text}`);
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

const workloadPath = (namespace: string, name: string): string =>
  `/v1/workloads/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

/** The emulator's view of a policy's workload; undefined until it has discovered it. */
export async function emulatedWorkload(
  namespace: string,
  name: string,
): Promise<EmulatedWorkload | undefined> {
  const all = (await call("GET", "/v1/workloads")) as EmulatedWorkload[];
  return all.find((w) => w.namespace === namespace && w.name === name);
}

/** Overrides the emulation of one workload (e.g. its service rate); null restores a default. */
export async function configureWorkload(
  namespace: string,
  name: string,
  overrides: Record<string, unknown>,
): Promise<void> {
  await call("PUT", workloadPath(namespace, name), overrides);
}

/** `count` HTTP requests arrive at the workload now. */
export async function addArrivals(namespace: string, name: string, count: number): Promise<void> {
  await call("POST", `${workloadPath(namespace, name)}/arrivals`, { count });
}

/** A steady HTTP arrival rate until changed (0 stops it). */
export async function setLoad(namespace: string, name: string, rps: number): Promise<void> {
  await call("PUT", `${workloadPath(namespace, name)}/load`, { rps });
}

/** Runs `step`; if it fails, adds what the emulator and the namespace's pods and autoscalers looked like. */
export async function explainedByEmulator<T>(ns: string, policy: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const workload = await emulatedWorkload(ns, policy).catch(() => undefined);
    const listed = await kubectl(["get", "pods,hpa,scaledobjects", "-o", "wide"], { namespace: ns });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\nemulator: ${JSON.stringify(workload)}\n${listed.stdout}`, { cause: error });
  }
}
