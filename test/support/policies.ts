// Reading and writing policies and their children in tests against a real cluster.
import { stringify } from "yaml";
import type { V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import type { PolicyStatus } from "../../src/api/v1alpha1/index.js";
import type { ScaledObject } from "../../src/keda/types.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import { kubectl, testKubeConfig } from "./cluster.js";
import { eventually, getIfExists } from "./operator.js";

export type Policy = {
  metadata: { name: string; namespace?: string; uid?: string; generation?: number };
  spec: Record<string, unknown>;
  status?: PolicyStatus;
};

export const paths = {
  policy: (ns: string, name: string) =>
    `/apis/mlautoscale.io/v1alpha1/namespaces/${ns}/mlautoscalepolicies/${name}`,
  deployment: (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
  hpa: (ns: string, name: string) => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${name}`,
  hpas: (ns: string) => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`,
  scaledObject: (ns: string, name: string) => `/apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects/${name}`,
};

let restClient: KubeRestClient | undefined;
export function rest(): KubeRestClient {
  restClient ??= new KubeRestClient(testKubeConfig());
  return restClient;
}

export const get = <T>(path: string): Promise<T | undefined> => getIfExists<T>(rest(), path);

export const getPolicy = (ns: string, name: string): Promise<Policy | undefined> =>
  get<Policy>(paths.policy(ns, name));
export const getDeployment = (ns: string, name: string): Promise<V1Deployment | undefined> =>
  get<V1Deployment>(paths.deployment(ns, name));
export const getHpa = (ns: string, name: string): Promise<V2HorizontalPodAutoscaler | undefined> =>
  get<V2HorizontalPodAutoscaler>(paths.hpa(ns, name));
export const getScaledObject = (ns: string, name: string): Promise<ScaledObject | undefined> =>
  get<ScaledObject>(paths.scaledObject(ns, name));

export async function listHpas(ns: string): Promise<V2HorizontalPodAutoscaler[]> {
  return (await rest().request<{ items: V2HorizontalPodAutoscaler[] }>("GET", paths.hpas(ns))).items;
}

/** `kubectl apply --server-side` of objects, as a user would; fails the test on any error. */
export async function applyObjects(namespace: string, ...objects: unknown[]): Promise<void> {
  const result = await kubectl(
    ["apply", "--server-side", "--field-manager=test-user", "--force-conflicts", "-f", "-"],
    {
      namespace,
      input: objects.map((o) => stringify(o)).join("---\n"),
    },
  );
  if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr}`);
}

export function condition(policy: Policy | undefined, type: string) {
  return policy?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the policy's condition has this status (and reason), for its current generation. */
export async function waitForCondition(
  namespace: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
  timeoutMs = 60_000,
): Promise<Policy> {
  return eventually(
    async () => {
      const policy = await getPolicy(namespace, name);
      const c = condition(policy, type);
      const generationSeen = policy?.status?.observedGeneration === policy?.metadata.generation;
      if (c?.status === status && (reason === undefined || c.reason === reason) && generationSeen) {
        return policy;
      }
      // Thrown so that a timeout says what the condition was instead.
      throw new Error(
        `last seen ${c === undefined ? "no condition" : `${c.status} (${c.reason}): ${c.message}`}` +
          (generationSeen ? "" : `, generation ${policy?.metadata.generation} not yet observed`),
      );
    },
    `${namespace}/${name} ${type}=${status}${reason ? ` (${reason})` : ""}`,
    timeoutMs,
  );
}

/** Polls the Deployment until `accept` holds for its spec.replicas. */
export async function waitForReplicas(
  namespace: string,
  name: string,
  accept: (replicas: number) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<number> {
  return eventually(
    async () => {
      const replicas = (await getDeployment(namespace, name))?.spec?.replicas;
      return replicas !== undefined && accept(replicas) ? replicas : undefined;
    },
    `${namespace}/${name}: ${what}`,
    timeoutMs,
    500,
  );
}
