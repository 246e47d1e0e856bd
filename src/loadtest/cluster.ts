// The cluster side of a load test: the kubeconfig loaded as kubectl loads it, the policy and its
// autoscaler found, and the replicas sampled. Reads only: loadtest never writes to the cluster.
import { KubeConfig } from "@kubernetes/client-node";
import type { V1Deployment, V1StatefulSet, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import type { MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import { scaleTarget } from "../controllers/mlautoscalepolicy/desired/metadata.js";
import type { ScaledObject } from "../keda/types.js";
import { errorMessage, isNotFound } from "../runtime/errors.js";
import { KubeRestClient } from "../runtime/rest.js";
import type { ClusterSample } from "./timeline.js";
import { LoadtestError } from "./target.js";

/** GETs of API paths: the one thing loadtest does with the Kubernetes API. */
export interface KubeReader {
  /** The object at `path`; undefined when it does not exist. */
  get<T>(path: string, signal?: AbortSignal): Promise<T | undefined>;
}

export interface KubeConnection {
  reader: KubeReader;
  /** The API server's URL and the context, for messages. */
  where: string;
  /** The context's namespace, if it sets one. */
  contextNamespace: string | undefined;
}

/** KUBECONFIG (or ~/.kube/config, or the in-cluster account), or --kubeconfig; --context picks one. */
export function connectKube(options: { kubeconfig?: string; context?: string }): KubeConnection {
  const kubeConfig = new KubeConfig();
  try {
    if (options.kubeconfig !== undefined) kubeConfig.loadFromFile(options.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new LoadtestError(`cannot load the kubeconfig: ${errorMessage(error)}`, { cause: error });
  }
  if (options.context !== undefined) {
    if (kubeConfig.getContextObject(options.context) === null) {
      const known = kubeConfig.getContexts().map((context) => context.name);
      throw new LoadtestError(
        `context "${options.context}" is not in the kubeconfig${known.length > 0 ? ` (it has ${known.join(", ")})` : ""}`,
      );
    }
    kubeConfig.setCurrentContext(options.context);
  }
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined) throw new LoadtestError("the kubeconfig has no current cluster");
  const rest = new KubeRestClient(kubeConfig);
  const where = `${server}${context ? ` (context ${context.name})` : ""}`;
  return {
    where,
    contextNamespace: context?.namespace,
    reader: {
      async get<T>(path: string, signal?: AbortSignal): Promise<T | undefined> {
        try {
          return await rest.request<T>("GET", path, signal ? { signal } : {});
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      },
    },
  };
}

const enc = encodeURIComponent;

export const apiPaths = {
  policy: (ns: string, name: string) =>
    `/apis/mlautoscale.io/v1alpha1/namespaces/${enc(ns)}/mlautoscalepolicies/${enc(name)}`,
  scaledObject: (ns: string, name: string) =>
    `/apis/keda.sh/v1alpha1/namespaces/${enc(ns)}/scaledobjects/${enc(name)}`,
  hpa: (ns: string, name: string) =>
    `/apis/autoscaling/v2/namespaces/${enc(ns)}/horizontalpodautoscalers/${enc(name)}`,
  workload: (ns: string, kind: "Deployment" | "StatefulSet", name: string) =>
    `/apis/apps/v1/namespaces/${enc(ns)}/${kind === "Deployment" ? "deployments" : "statefulsets"}/${enc(name)}`,
};

/** A policy as the API server returns it: what loadtest reads of it. */
export interface LivePolicy {
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: unknown;
  status?: {
    engine?: "HPA" | "KEDA";
    observedGeneration?: number;
    children?: { apiVersion?: string; kind?: string; name?: string }[];
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

export interface LiveTarget {
  namespace: string;
  name: string;
  /** The engine the operator chose; undefined while it has not reconciled the policy. */
  engine: "HPA" | "KEDA" | undefined;
  workload: { kind: "Deployment" | "StatefulSet"; name: string };
  /** The HPA whose status.desiredReplicas is sampled: the policy's, or the one KEDA made. */
  hpaName: string;
  live: LivePolicy;
}

/**
 * Finds the policy in the cluster and what to sample: its workload and its HPA (for KEDA, the HPA named
 * in the ScaledObject's status.hpaName, else the policy's name, which the operator gives KEDA's HPA).
 */
export async function findTarget(
  reader: KubeReader,
  policy: MLAutoscalePolicy,
  namespace: string,
  where: string,
  file: string,
): Promise<LiveTarget> {
  const name = policy.metadata.name;
  let live: LivePolicy | undefined;
  try {
    live = await reader.get<LivePolicy>(apiPaths.policy(namespace, name));
  } catch (error) {
    throw new LoadtestError(
      `cannot read MLAutoscalePolicy ${namespace}/${name} at ${where}: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  if (live === undefined) {
    throw new LoadtestError(
      `MLAutoscalePolicy ${namespace}/${name} is not in the cluster at ${where}: apply it first ` +
        `(kubectl apply -n ${namespace} -f ${file}), or name its namespace with -n`,
    );
  }
  const engine = live.status?.engine;
  const target = scaleTarget(policy);
  const workload = {
    kind: target.kind === "StatefulSet" ? ("StatefulSet" as const) : ("Deployment" as const),
    name: target.name,
  };
  let hpaName =
    live.status?.children?.find((child) => child.kind === "HorizontalPodAutoscaler")?.name ?? name;
  if (engine === "KEDA") {
    const scaledObjectName =
      live.status?.children?.find((child) => child.kind === "ScaledObject")?.name ?? name;
    const scaledObject = await reader
      .get<ScaledObject>(apiPaths.scaledObject(namespace, scaledObjectName))
      .catch(() => undefined);
    hpaName = scaledObject?.status?.hpaName ?? name;
  }
  return { namespace, name, engine, workload, hpaName, live };
}

type Workload = V1Deployment | V1StatefulSet;

/** Whether the HPA decided at its last sync: not while KEDA holds the target at zero (ScalingDisabled). */
function hpaDecides(hpa: V2HorizontalPodAutoscaler | undefined): hpa is V2HorizontalPodAutoscaler {
  if (hpa?.status?.desiredReplicas === undefined) return false;
  const active = hpa.status.conditions?.find((condition) => condition.type === "ScalingActive");
  return active?.reason !== "ScalingDisabled";
}

/** Reads the replicas of a target: two GETs, each bounded by `timeoutMs`. */
export class ClusterSampler {
  /** Samples with at least one read that failed. */
  missed = 0;
  lastError: string | undefined;

  constructor(
    private readonly reader: KubeReader,
    private readonly target: LiveTarget,
    private readonly timeoutMs = 5_000,
  ) {}

  async sample(): Promise<ClusterSample> {
    const { namespace, workload, hpaName } = this.target;
    let failed = false;
    const read = <T>(path: string): Promise<T | undefined | null> =>
      this.reader.get<T>(path, AbortSignal.timeout(this.timeoutMs)).catch((error: unknown) => {
        failed = true;
        this.lastError = errorMessage(error);
        return null;
      });
    const [hpa, object] = await Promise.all([
      read<V2HorizontalPodAutoscaler>(apiPaths.hpa(namespace, hpaName)),
      read<Workload>(apiPaths.workload(namespace, workload.kind, workload.name)),
    ]);
    if (failed) this.missed++;
    const replicas = object ? (object.spec?.replicas ?? 1) : null;
    return {
      desiredReplicas: hpaDecides(hpa ?? undefined)
        ? (hpa?.status?.desiredReplicas ?? null)
        : hpa === null
          ? null
          : replicas,
      replicas,
      readyReplicas: object ? (object.status?.readyReplicas ?? 0) : null,
    };
  }
}
