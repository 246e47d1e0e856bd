// The GPU-aware Deployment a policy's template becomes.
import type { V1Container, V1Deployment, V1EnvVar, V1Probe } from "@kubernetes/client-node";
import type { MLAutoscalePolicy, WorkloadTemplate } from "../../../api/v1alpha1/index.js";
import { NEWEST_KUBERNETES_FEATURES, type KubernetesFeatures } from "./kubernetes-features.js";
import { childMetadata, selectorLabels, sortKeys } from "./metadata.js";
import { buildPlacement } from "./placement.js";

export const CONTAINER_NAME = "server";
/**
 * On every pod: how long its model takes to load, so that anything that looks at a pod (a dashboard, a
 * load test, the local cluster's emulated kubelet) can tell a pod that is loading from one that is stuck.
 */
export const MODEL_LOAD_SECONDS_ANNOTATION = "mlautoscale.io/model-load-seconds";
export const STARTUP_PROBE_PERIOD_SECONDS = 5;
/** Extra seconds between the end of the longest request and SIGKILL. */
export const TERMINATION_MARGIN_SECONDS = 5;

/**
 * A startup probe that tolerates twice the model's load time, so a slow load (cold cache, throttled
 * storage) is not killed, while readiness and liveness then use short periods: no initialDelaySeconds guess.
 */
export function probesFor(
  template: WorkloadTemplate,
): Pick<V1Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
  const http = (path: string): V1Probe["httpGet"] => ({ path, port: "http" });
  return {
    startupProbe: {
      httpGet: http(template.probes.healthPath),
      periodSeconds: STARTUP_PROBE_PERIOD_SECONDS,
      timeoutSeconds: 2,
      failureThreshold: Math.ceil((2 * template.model.loadSeconds) / STARTUP_PROBE_PERIOD_SECONDS) + 1,
    },
    readinessProbe: {
      httpGet: http(template.probes.readyPath),
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    livenessProbe: {
      httpGet: http(template.probes.healthPath),
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
  };
}

/** Grace period: drain, then let the longest request finish, then a small margin. */
export function terminationGracePeriodSeconds(template: WorkloadTemplate): number {
  return template.shutdown.drainSeconds + template.shutdown.maxRequestSeconds + TERMINATION_MARGIN_SECONDS;
}

function envFor(template: WorkloadTemplate): V1EnvVar[] | undefined {
  const env: V1EnvVar[] = (template.env ?? [])
    .filter((e) => !(e.name === "MODEL_PATH" && template.model.path !== undefined))
    .map((e) => {
      if (e.secretKeyRef !== undefined)
        return { name: e.name, valueFrom: { secretKeyRef: { ...e.secretKeyRef } } };
      if (e.configMapKeyRef !== undefined) {
        return { name: e.name, valueFrom: { configMapKeyRef: { ...e.configMapKeyRef } } };
      }
      return { name: e.name, value: e.value ?? "" };
    });
  if (template.model.path !== undefined) env.push({ name: "MODEL_PATH", value: template.model.path });
  env.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return env.length > 0 ? env : undefined;
}

function resourcesFor(template: WorkloadTemplate): V1Container["resources"] {
  const amounts = (side: "requests" | "limits"): Record<string, string> => {
    const out: Record<string, string> = {};
    const given = template.resources?.[side];
    if (given?.cpu !== undefined) out["cpu"] = String(given.cpu);
    if (given?.memory !== undefined) out["memory"] = String(given.memory);
    // Extended resources cannot be overcommitted: request and limit must be equal.
    if (template.gpu !== undefined) out[template.gpu.resourceName] = String(template.gpu.count);
    return sortKeys(out);
  };
  const requests = amounts("requests");
  const limits = amounts("limits");
  const resources: V1Container["resources"] = {};
  if (Object.keys(requests).length > 0) resources.requests = requests;
  if (Object.keys(limits).length > 0) resources.limits = limits;
  return resources;
}

/**
 * The drain before SIGTERM. The sleep action needs no shell in the image (distroless model servers have
 * none). Without it (before 1.30) there is no hook, and the policy says the drain is not applied; without
 * zero-second sleeps (before 1.33) a drain of 0 is no hook, which does the same.
 */
function preStopFor(template: WorkloadTemplate, features: KubernetesFeatures): V1Container["lifecycle"] {
  const seconds = template.shutdown.drainSeconds;
  if (!features.sleepAction || (seconds === 0 && !features.zeroSecondSleep)) return undefined;
  return { preStop: { sleep: { seconds } } };
}

/** The Deployment for a template policy; undefined in targetRef mode. */
export function buildDeployment(
  policy: MLAutoscalePolicy,
  features: KubernetesFeatures = NEWEST_KUBERNETES_FEATURES,
): V1Deployment | undefined {
  const template = policy.spec.workload.template;
  if (template === undefined) return undefined;
  const podSelector = selectorLabels(policy);

  const container: V1Container = {
    name: CONTAINER_NAME,
    image: template.image,
    ...(template.command !== undefined && { command: [...template.command] }),
    ...(template.args !== undefined && { args: [...template.args] }),
    ports: [
      { name: "http", containerPort: template.ports.http, protocol: "TCP" },
      { name: "metrics", containerPort: template.ports.metrics, protocol: "TCP" },
    ],
    resources: resourcesFor(template),
    ...probesFor(template),
  };
  const lifecycle = preStopFor(template, features);
  if (lifecycle !== undefined) container.lifecycle = lifecycle;
  const env = envFor(template);
  if (env !== undefined) container.env = env;

  const placement = buildPlacement(policy, podSelector);
  const podAnnotations = {
    ...template.podAnnotations,
    [MODEL_LOAD_SECONDS_ANNOTATION]: String(template.model.loadSeconds),
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMetadata(policy),
    spec: {
      // spec.replicas is left to the autoscaler: writing it here would fight the HPA or KEDA.
      selector: { matchLabels: podSelector },
      // Keep serving capacity during rollouts: a new replica must load its model before an old one leaves.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      progressDeadlineSeconds: Math.max(600, 3 * template.model.loadSeconds),
      template: {
        metadata: {
          labels: sortKeys({ ...template.podLabels, ...podSelector }),
          annotations: sortKeys(podAnnotations),
        },
        spec: {
          containers: [container],
          terminationGracePeriodSeconds: terminationGracePeriodSeconds(template),
          ...(template.serviceAccountName !== undefined && {
            serviceAccountName: template.serviceAccountName,
          }),
          ...placement,
        },
      },
    },
  };
}
