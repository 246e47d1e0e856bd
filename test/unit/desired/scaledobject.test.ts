import { describe, expect, it } from "vitest";
import {
  buildScaledObject,
  buildTriggerAuthentication,
  buildTriggers,
  defaultPodQuery,
  KEDA_DEFAULT_COOLDOWN_SECONDS,
  KEDA_DEFAULT_POLLING_SECONDS,
} from "../../../src/controllers/mlautoscalepolicy/desired/scaledobject.js";
import { PRESETS } from "../../../src/controllers/mlautoscalepolicy/desired/behavior.js";
import { TRANSFER_HPA_OWNERSHIP_ANNOTATION } from "../../../src/keda/types.js";
import type { Json } from "../../fixtures/invalid-policies.js";
import { hpaPolicy, kedaPolicy } from "./policies.js";

const triggersByType: Record<
  string,
  { metadata: Record<string, string>; activationKey: string | undefined }
> = {
  rabbitmq: {
    metadata: { queueName: "q", mode: "QueueLength", value: "5" },
    activationKey: "activationValue",
  },
  kafka: {
    metadata: { bootstrapServers: "kafka:9092", consumerGroup: "g", topic: "t", lagThreshold: "50" },
    activationKey: "activationLagThreshold",
  },
  "aws-sqs-queue": {
    metadata: { queueURL: "https://sqs.example/q", awsRegion: "eu-west-1", queueLength: "2" },
    activationKey: "activationQueueLength",
  },
  prometheus: {
    metadata: { serverAddress: "http://prom:9090", query: "sum(x)", threshold: "10" },
    activationKey: "activationThreshold",
  },
  // A scaler the API does not know: its metadata passes through and no activation key is guessed.
  redis: { metadata: { address: "redis:6379", listName: "jobs", listLength: "5" }, activationKey: undefined },
};

function policyWithTrigger(type: string, extra: Record<string, Json | undefined> = {}) {
  const t = triggersByType[type];
  if (t === undefined) throw new Error(type);
  return kedaPolicy({
    "spec.scaling.triggers": [{ type, metadata: t.metadata, activationValue: 3 }],
    ...extra,
  });
}

describe("trigger metadata", () => {
  it.each(Object.keys(triggersByType))("%s: activationValue goes to the scaler's activation key", (type) => {
    const t = triggersByType[type];
    const [trigger] = buildTriggers(policyWithTrigger(type));
    const expected: Record<string, string> = { ...t?.metadata };
    if (t?.activationKey !== undefined) expected[t.activationKey] = "3";
    expect(trigger?.metadata).toEqual(expected);
    expect(Object.keys(trigger?.metadata ?? {})).toEqual(Object.keys(expected).sort());
    expect(trigger?.type).toBe(type);
  });

  it("uses scaleToZero.activationValue for triggers that set none, and the trigger's own first", () => {
    const policy = kedaPolicy({
      "spec.scaling.scaleToZero.activationValue": 2,
      "spec.scaling.triggers": [
        { type: "rabbitmq", metadata: { queueName: "a", mode: "QueueLength", value: "5" } },
        {
          type: "rabbitmq",
          metadata: { queueName: "b", mode: "QueueLength", value: "5" },
          activationValue: 7,
        },
      ],
    });
    const [first, second] = buildTriggers(policy);
    expect(first?.metadata["activationValue"]).toBe("2");
    expect(second?.metadata["activationValue"]).toBe("7");
  });

  it("names unnamed triggers by type and position and keeps given names and metric types", () => {
    const policy = kedaPolicy({
      "spec.scaling.triggers": [
        { type: "rabbitmq", metadata: { queueName: "a", mode: "QueueLength", value: "5" } },
        {
          type: "rabbitmq",
          name: "urgent",
          metricType: "Value",
          metadata: { queueName: "b", mode: "QueueLength", value: "5" },
        },
      ],
    });
    const triggers = buildTriggers(policy);
    expect(triggers.map((t) => t.name)).toEqual(["rabbitmq-0", "urgent"]);
    expect(triggers.map((t) => t.metricType)).toEqual([undefined, "Value"]);
  });
});

describe("authentication", () => {
  it("points every trigger at the TriggerAuthentication named after the policy", () => {
    const policy = kedaPolicy();
    expect(buildTriggers(policy).map((t) => t.authenticationRef)).toEqual([{ name: "keda-base-policy" }]);
    const auth = buildTriggerAuthentication(policy);
    expect(auth?.apiVersion).toBe("keda.sh/v1alpha1");
    expect(auth?.kind).toBe("TriggerAuthentication");
    expect(auth?.metadata.name).toBe("keda-base-policy");
    expect(auth?.spec).toEqual({ secretTargetRef: [{ parameter: "host", name: "rabbitmq", key: "host" }] });
  });

  it("sorts the Secret parameters", () => {
    const policy = kedaPolicy({
      "spec.authentication.secretRef.parameters": [
        { parameter: "password", key: "pw" },
        { parameter: "host", key: "url" },
      ],
    });
    expect(buildTriggerAuthentication(policy)?.spec.secretTargetRef?.map((r) => r.parameter)).toEqual([
      "host",
      "password",
    ]);
  });

  it("references an existing TriggerAuthentication without building one", () => {
    const policy = kedaPolicy({ "spec.authentication": { triggerAuthenticationRef: "shared-rabbitmq" } });
    expect(buildTriggers(policy)[0]?.authenticationRef).toEqual({ name: "shared-rabbitmq" });
    expect(buildTriggerAuthentication(policy)).toBeUndefined();
  });

  it("sets no authenticationRef without authentication", () => {
    const policy = kedaPolicy({ "spec.authentication": undefined });
    expect(buildTriggers(policy)[0]?.authenticationRef).toBeUndefined();
    expect(buildTriggerAuthentication(policy)).toBeUndefined();
  });
});

describe("metric triggers", () => {
  it("turns Prometheus-sourced metrics into prometheus triggers with default queries over the pods", () => {
    const prometheus = { serverAddress: "http://prom:9090" };
    const policy = kedaPolicy({
      "spec.scaling.scaleToZero.activationValue": 1,
      "spec.scaling.triggers": undefined,
      "spec.authentication": undefined,
      "spec.scaling.metrics": {
        queueDepth: { targetAverageValue: 10, prometheus },
        gpuUtilization: { targetUtilization: 70, prometheus },
      },
    });
    expect(buildTriggers(policy)).toEqual([
      {
        type: "prometheus",
        name: "queue-depth",
        metadata: {
          activationThreshold: "1",
          query: 'sum(inference_queue_depth{namespace="ml",pod=~"keda-base-policy-.*"})',
          serverAddress: "http://prom:9090",
          threshold: "10",
        },
      },
      {
        type: "prometheus",
        name: "gpu-utilization",
        metadata: {
          activationThreshold: "1",
          query: 'sum(avg by (pod) (DCGM_FI_DEV_GPU_UTIL{namespace="ml",pod=~"keda-base-policy-.*"}))',
          serverAddress: "http://prom:9090",
          threshold: "70",
        },
      },
    ]);
  });

  it("keeps a given query", () => {
    const policy = kedaPolicy({
      "spec.scaling.metrics.gpuUtilization": {
        targetUtilization: 60,
        prometheus: { serverAddress: "http://prom:9090", query: "avg(gpu)" },
      },
    });
    const gpu = buildTriggers(policy).find((t) => t.name === "gpu-utilization");
    expect(gpu?.metadata["query"]).toBe("avg(gpu)");
  });

  it("adds cpu and memory triggers with the Utilization metric type", () => {
    const policy = kedaPolicy({
      "spec.replicas.min": 1,
      "spec.scaling.scaleToZero": undefined,
      "spec.scaling.metrics": { cpu: { targetUtilization: 60 }, memory: { targetUtilization: 75 } },
    });
    expect(buildTriggers(policy).slice(1)).toEqual([
      { type: "cpu", name: "cpu", metricType: "Utilization", metadata: { value: "60" } },
      { type: "memory", name: "memory", metricType: "Utilization", metadata: { value: "75" } },
    ]);
  });

  it("queries the target's pods in targetRef mode", () => {
    const policy = hpaPolicy({
      "spec.workload.template": undefined,
      "spec.workload.targetRef": { kind: "Deployment", name: "llm" },
    });
    expect(defaultPodQuery(policy, "m", "sum")).toBe('sum(m{namespace="ml",pod=~"llm-.*"})');
  });
});

describe("buildScaledObject", () => {
  it("uses KEDA's defaults for polling and cooldown, and an initial cooldown of twice the load time", () => {
    const so = buildScaledObject(
      kedaPolicy({ "spec.scaling.scaleToZero": {}, "spec.workload.template.model.loadSeconds": 90 }),
    );
    expect(so.spec.pollingInterval).toBe(KEDA_DEFAULT_POLLING_SECONDS);
    expect(so.spec.cooldownPeriod).toBe(KEDA_DEFAULT_COOLDOWN_SECONDS);
    expect(so.spec.initialCooldownPeriod).toBe(180);
    expect(so.spec.minReplicaCount).toBe(0);
    expect(so.spec.maxReplicaCount).toBe(10);
  });

  it("takes polling, cooldown and initial cooldown from the policy", () => {
    const so = buildScaledObject(
      kedaPolicy({
        "spec.scaling.pollingIntervalSeconds": 15,
        "spec.scaling.scaleToZero": { cooldownSeconds: 600, initialCooldownSeconds: 30 },
      }),
    );
    expect(so.spec.pollingInterval).toBe(15);
    expect(so.spec.cooldownPeriod).toBe(600);
    expect(so.spec.initialCooldownPeriod).toBe(30);
  });

  it("sets no initial cooldown when the workload never scales to zero", () => {
    const so = buildScaledObject(
      kedaPolicy({ "spec.replicas.min": 2, "spec.scaling.scaleToZero": undefined }),
    );
    expect(so.spec.minReplicaCount).toBe(2);
    expect(so.spec.initialCooldownPeriod).toBeUndefined();
  });

  it("copies the fallback", () => {
    const so = buildScaledObject(
      kedaPolicy({ "spec.scaling.fallback": { failureThreshold: 3, replicas: 4 } }),
    );
    expect(so.spec.fallback).toEqual({ failureThreshold: 3, replicas: 4 });
    expect(buildScaledObject(kedaPolicy()).spec.fallback).toBeUndefined();
  });

  it("restores a targetRef workload's own replica count when a scale-to-zero policy goes, and only then", () => {
    const attached = (min: number) =>
      kedaPolicy({
        "spec.workload.template": undefined,
        "spec.workload.targetRef": { kind: "Deployment", name: "llm" },
        "spec.replicas.min": min,
        ...(min > 0 && { "spec.scaling.scaleToZero": undefined }),
      });
    expect(buildScaledObject(attached(0)).spec.advanced?.restoreToOriginalReplicaCount).toBe(true);
    expect(buildScaledObject(attached(1)).spec.advanced?.restoreToOriginalReplicaCount).toBeUndefined();
    // The policy's own Deployment goes with the policy: nothing to restore.
    expect(buildScaledObject(kedaPolicy()).spec.advanced?.restoreToOriginalReplicaCount).toBeUndefined();
  });

  it("adopts the HPA named after the policy and carries the behavior", () => {
    const so = buildScaledObject(kedaPolicy({ "spec.scaling.behavior": { preset: "Batch" } }));
    expect(so.metadata.annotations).toEqual({ [TRANSFER_HPA_OWNERSHIP_ANNOTATION]: "true" });
    expect(so.spec.advanced?.horizontalPodAutoscalerConfig).toEqual({
      name: "keda-base-policy",
      behavior: PRESETS.Batch,
    });
    expect(so.spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "keda-base-policy",
    });
  });
});

describe("the ScaledObject's labels", () => {
  it("carry KEDA's scaledobject.keda.sh/name, so that KEDA's operator has no label of its own to add", () => {
    const policy = kedaPolicy({});
    const labels = buildScaledObject(policy).metadata?.labels ?? {};
    expect(labels["scaledobject.keda.sh/name"]).toBe(policy.metadata.name);
    // beside the labels every child carries
    expect(labels["app.kubernetes.io/managed-by"]).toBeDefined();
  });
});
