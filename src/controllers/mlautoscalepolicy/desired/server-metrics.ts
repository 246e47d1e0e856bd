// scaling.metrics.server compiled for the autoscaler: KEDA prometheus triggers running the engine table's
// queries over the workload's pods (and the activation query that wakes it from zero), or HPA Pods metrics
// that the metrics adapter serves per pod with the rules of src/model-servers/promql.ts.
import type { V2MetricSpec } from "@kubernetes/client-node";
import type { MLAutoscalePolicy, PolicySpec } from "../../../api/v1alpha1/index.js";
import { ENGINES } from "../../../model-servers/engines.js";
import {
  ACTIVATION_TRIGGER,
  hpaMetricName,
  perPodQuery,
  promqlString,
  SERVER_SIGNALS,
  SIGNAL_NAMES,
  workloadQuery,
  type ServerSignal,
} from "../../../model-servers/promql.js";
import { scaleTarget } from "./metadata.js";

export type ServerMetricsSpec = NonNullable<PolicySpec["scaling"]["metrics"]["server"]>;

export interface ServerTarget {
  signal: ServerSignal;
  /** Per replica; percent for the KV cache. */
  target: number;
}

/** The targets in force: the ones the policy sets, or the engine's defaults when it sets none. */
export function serverTargets(server: ServerMetricsSpec): ServerTarget[] {
  const setsAny = SERVER_SIGNALS.some((signal) => server[SIGNAL_NAMES[signal].target] !== undefined);
  const source = setsAny ? server : ENGINES[server.engine].defaults;
  return SERVER_SIGNALS.flatMap((signal) => {
    const target = source[SIGNAL_NAMES[signal].target];
    return target === undefined ? [] : [{ signal, target }];
  });
}

/** Label matchers over the workload's pods, and over the served model when the policy names one. */
export function serverMatchers(policy: MLAutoscalePolicy, server: ServerMetricsSpec): string {
  const namespace = policy.metadata.namespace ?? "default";
  const pods = `${scaleTarget(policy).name}-.*`;
  const modelLabel = ENGINES[server.engine].modelLabel;
  return [
    `namespace=${promqlString(namespace)}`,
    `pod=~${promqlString(pods)}`,
    ...(modelLabel !== undefined && server.modelName !== undefined
      ? [`${modelLabel}=${promqlString(server.modelName)}`]
      : []),
  ].join(",");
}

/** A KEDA prometheus trigger to build; scaledobject.ts writes it as every other one. */
export interface ServerTriggerSpec {
  name: string;
  serverAddress: string;
  query: string;
  threshold: number;
  /** Set only where the policy says so; otherwise the policy's default activation applies. */
  activation?: number;
}

/**
 * One trigger per target, in the table's order, and the activation trigger last: the upstream queue is
 * counted per replica like the server's own (its target defaults to the waiting-requests target).
 */
export function serverTriggerSpecs(policy: MLAutoscalePolicy): ServerTriggerSpec[] {
  const server = policy.spec.scaling.metrics.server;
  if (server === undefined) return [];
  const specs: ServerTriggerSpec[] = [];
  const address = server.prometheus?.serverAddress;
  if (address !== undefined) {
    const matchers = serverMatchers(policy, server);
    for (const { signal, target } of serverTargets(server)) {
      specs.push({
        name: SIGNAL_NAMES[signal].trigger,
        serverAddress: address,
        query: workloadQuery(server.engine, signal, matchers),
        threshold: target,
      });
    }
  }
  const activation = server.activation;
  const activationAddress = activation?.serverAddress ?? address;
  if (activation !== undefined && activationAddress !== undefined) {
    specs.push({
      name: ACTIVATION_TRIGGER,
      serverAddress: activationAddress,
      query: activation.query,
      threshold:
        activation.targetAverageValue ??
        server.waitingRequestsPerReplica ??
        ENGINES[server.engine].defaults.waitingRequestsPerReplica,
      ...(activation.activationValue !== undefined && { activation: activation.activationValue }),
    });
  }
  return specs;
}

/** HPA Pods metrics, one per target, named as the metrics adapter serves them. */
export function serverHpaMetrics(server: ServerMetricsSpec | undefined): V2MetricSpec[] {
  if (server === undefined) return [];
  const modelLabel = ENGINES[server.engine].modelLabel;
  const selector =
    modelLabel !== undefined && server.modelName !== undefined
      ? { selector: { matchLabels: { [modelLabel]: server.modelName } } }
      : {};
  return serverTargets(server).map(({ signal, target }) => ({
    type: "Pods",
    pods: {
      metric: { name: hpaMetricName(server.engine, signal), ...selector },
      target: { type: "AverageValue", averageValue: String(target) },
    },
  }));
}

/**
 * What the metrics adapter runs for each Pods metric of an HPA (render prints it): the rule's query with
 * this workload's namespace and pods in place of the HPA's, grouped by pod.
 */
export function serverHpaNotes(policy: MLAutoscalePolicy): string[] {
  const server = policy.spec.scaling.metrics.server;
  if (server === undefined) return [];
  const matchers = serverMatchers(policy, server);
  const notes = serverTargets(server).map(
    ({ signal }) =>
      `scaling.metrics.server: the HPA reads ${hpaMetricName(server.engine, signal)} from the custom metrics ` +
      `API; the metrics adapter's rule for it (docs/engines) queries ${perPodQuery(server.engine, signal, matchers, "pod")}`,
  );
  if (server.prometheus !== undefined) {
    notes.push(
      "scaling.metrics.server.prometheus is read by KEDA only; with the HPA, the metrics adapter serves the server's metrics",
    );
  }
  return notes;
}
