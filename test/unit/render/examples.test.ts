// The five workloads of the examples, rendered from examples/ and checked against what each must become.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPolicyFile, renderPolicy, type RenderResult } from "../../../src/render/index.js";
import type { ScaledObject, TriggerAuthentication } from "../../../src/keda/types.js";
import type { V1PodDisruptionBudget } from "@kubernetes/client-node";

const example = (file: string): string =>
  fileURLToPath(new URL(`../../../examples/${file}`, import.meta.url));

async function render(file: string, kedaInstalled = true): Promise<RenderResult> {
  const [policy, ...rest] = await loadPolicyFile(example(file));
  expect(rest).toEqual([]);
  if (policy === undefined) throw new Error(`${file} has no policy`);
  return renderPolicy(policy, { kedaInstalled });
}

function ofKind<T>(result: RenderResult, kind: string): T {
  const found = result.objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as T;
}

function kinds(result: RenderResult): string[] {
  return result.objects.map((o) => o.kind ?? "");
}

describe("1: real-time inference service", () => {
  const file = "1-realtime-inference.yaml";

  it("is served by an HPA on CPU 70 %, memory 80 % and inference_queue_depth 10 per pod, 2-10 replicas", async () => {
    const result = await render(file);
    expect(result.engine).toBe("HPA");
    expect(kinds(result)).toEqual(["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"]);
    const spec = result.hpa?.spec;
    expect(spec?.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "resnet50-inference",
    });
    expect(spec?.minReplicas).toBe(2);
    expect(spec?.maxReplicas).toBe(10);
    expect(spec?.metrics).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      },
      {
        type: "Resource",
        resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } },
      },
      {
        type: "Pods",
        pods: {
          metric: { name: "inference_queue_depth" },
          target: { type: "AverageValue", averageValue: "10" },
        },
      },
    ]);
  });

  it("scales up by the larger of 100 % and 2 pods per 30 s after 60 s, down by 50 % per 60 s after 300 s", async () => {
    const behavior = (await render(file)).hpa?.spec?.behavior;
    expect(behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 60,
        selectPolicy: "Max",
        policies: [
          { type: "Percent", value: 100, periodSeconds: 30 },
          { type: "Pods", value: 2, periodSeconds: 30 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: 300,
        policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
      },
    });
  });

  it("runs one GPU with 2 CPU / 4Gi requests and 4 CPU / 8Gi limits, the model at /models/resnet50", async () => {
    const deployment = (await render(file)).deployment;
    const container = deployment?.spec?.template.spec?.containers[0];
    expect(container?.resources).toEqual({
      requests: { cpu: "2", memory: "4Gi", "nvidia.com/gpu": "1" },
      limits: { cpu: "4", memory: "8Gi", "nvidia.com/gpu": "1" },
    });
    expect(container?.env).toEqual([{ name: "MODEL_PATH", value: "/models/resnet50" }]);
    expect(container?.image).toBe("registry.example.com/vision/resnet50-server:1.4.2");
    // 90 s load time: the startup probe allows 2 x 90 s.
    expect(container?.startupProbe?.failureThreshold).toBe(37);
    expect(deployment?.spec?.template.spec?.terminationGracePeriodSeconds).toBe(40);
    expect(deployment?.metadata?.labels?.["team"]).toBe("vision");
  });

  it("requires g4dn.xlarge or p3.2xlarge and prefers workload-type: ml-inference", async () => {
    const pod = (await render(file)).deployment?.spec?.template.spec;
    expect(pod?.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                {
                  key: "node.kubernetes.io/instance-type",
                  operator: "In",
                  values: ["g4dn.xlarge", "p3.2xlarge"],
                },
              ],
            },
          ],
        },
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            preference: {
              matchExpressions: [{ key: "workload-type", operator: "In", values: ["ml-inference"] }],
            },
          },
        ],
      },
    });
    expect(pod?.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
  });

  it("lowers the PDB's minAvailable 2 to 1, because 2 at 2 replicas would block drains, and says so", async () => {
    const result = await render(file);
    const pdb = ofKind<V1PodDisruptionBudget>(result, "PodDisruptionBudget");
    expect(pdb.spec?.minAvailable).toBe(1);
    expect(pdb.spec?.maxUnavailable).toBeUndefined();
    expect(pdb.spec?.selector).toEqual(result.deployment?.spec?.selector);
    expect(result.corrections).toEqual([expect.stringContaining("minAvailable 2 would block node drains")]);
  });

  it("renders the same without KEDA", async () => {
    expect((await render(file, false)).objects).toEqual((await render(file, true)).objects);
  });
});

describe("2: batch processor fed by RabbitMQ", () => {
  const file = "2-batch-rabbitmq.yaml";

  it("is a ScaledObject, 0-20 replicas, polling every 15 s, cooling down 300 s", async () => {
    const result = await render(file);
    expect(result.engine).toBe("KEDA");
    expect(kinds(result)).toEqual([
      "Deployment",
      "TriggerAuthentication",
      "ScaledObject",
      "PodDisruptionBudget",
    ]);
    const spec = ofKind<ScaledObject>(result, "ScaledObject").spec;
    expect(spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "batch-embeddings",
    });
    expect(spec.minReplicaCount).toBe(0);
    expect(spec.maxReplicaCount).toBe(20);
    expect(spec.pollingInterval).toBe(15);
    expect(spec.cooldownPeriod).toBe(300);
    // Never scaled to zero before the first replica has loaded its model (45 s) twice over.
    expect(spec.initialCooldownPeriod).toBe(90);
  });

  it("reads ml-inference-queue, 5 messages a replica, active from 1, host from the Secret", async () => {
    const result = await render(file);
    const [rabbitmq] = ofKind<ScaledObject>(result, "ScaledObject").spec.triggers;
    expect(rabbitmq).toEqual({
      type: "rabbitmq",
      name: "inference-queue",
      metadata: { activationValue: "1", mode: "QueueLength", queueName: "ml-inference-queue", value: "5" },
      authenticationRef: { name: "batch-embeddings" },
    });
    const auth = ofKind<TriggerAuthentication>(result, "TriggerAuthentication");
    expect(auth.metadata.name).toBe("batch-embeddings");
    expect(auth.spec).toEqual({
      secretTargetRef: [{ parameter: "host", name: "rabbitmq-credentials", key: "host" }],
    });
  });

  it("adds a Prometheus GPU-utilization trigger with threshold 70", async () => {
    const triggers = ofKind<ScaledObject>(await render(file), "ScaledObject").spec.triggers;
    expect(triggers).toHaveLength(2);
    expect(triggers[1]).toEqual({
      type: "prometheus",
      name: "gpu-utilization",
      metadata: {
        serverAddress: "http://prometheus.monitoring.svc:9090",
        query: 'sum(avg by (pod) (DCGM_FI_DEV_GPU_UTIL{namespace="default",pod=~"batch-embeddings-.*"}))',
        threshold: "70",
      },
    });
  });

  it("keeps maxUnavailable 1, which never blocks a drain", async () => {
    const result = await render(file);
    expect(ofKind<V1PodDisruptionBudget>(result, "PodDisruptionBudget").spec?.maxUnavailable).toBe(1);
    expect(result.corrections).toEqual([]);
  });

  it("cannot render without KEDA", async () => {
    await expect(render(file, false)).rejects.toThrow(/KedaNotInstalled/);
  });
});

describe("3: training worker fed by AWS SQS", () => {
  const file = "3-training-sqs.yaml";

  it("is a ScaledObject on the queue, 2 messages a replica, active from 1, 0-5 replicas, 30 s, 600 s", async () => {
    const result = await render(file);
    expect(result.engine).toBe("KEDA");
    expect(kinds(result)).toEqual(["Deployment", "ScaledObject", "PodDisruptionBudget"]);
    const spec = ofKind<ScaledObject>(result, "ScaledObject").spec;
    expect(spec.triggers).toEqual([
      {
        type: "aws-sqs-queue",
        name: "training-jobs",
        metadata: {
          activationQueueLength: "1",
          awsRegion: "us-east-1",
          identityOwner: "operator",
          queueLength: "2",
          queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/training-jobs",
        },
      },
    ]);
    expect(spec.minReplicaCount).toBe(0);
    expect(spec.maxReplicaCount).toBe(5);
    expect(spec.pollingInterval).toBe(30);
    expect(spec.cooldownPeriod).toBe(600);
    expect(spec.initialCooldownPeriod).toBe(360);
  });

  it("lets a 30-minute job finish on scale-down", async () => {
    const pod = (await render(file)).deployment?.spec?.template.spec;
    expect(pod?.terminationGracePeriodSeconds).toBe(1810);
  });

  it("cannot render without KEDA", async () => {
    await expect(render(file, false)).rejects.toThrow(/KedaNotInstalled/);
  });
});

describe("4: hybrid service on an External metric", () => {
  const file = "4-hybrid-external.yaml";

  it("stays on the HPA with KEDA installed: requests_per_second, 100 a pod, service=hybrid-ml, 3-15", async () => {
    const result = await render(file, true);
    expect(result.engine).toBe("HPA");
    expect(kinds(result)).toEqual(["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"]);
    expect(result.scaledObject).toBeUndefined();
    const spec = result.hpa?.spec;
    expect(spec?.minReplicas).toBe(3);
    expect(spec?.maxReplicas).toBe(15);
    expect(spec?.metrics).toEqual([
      {
        type: "External",
        external: {
          metric: { name: "requests_per_second", selector: { matchLabels: { service: "hybrid-ml" } } },
          target: { type: "AverageValue", averageValue: "100" },
        },
      },
    ]);
  });

  it("spreads across zones", async () => {
    const pod = (await render(file)).deployment?.spec?.template.spec;
    expect(pod?.topologySpreadConstraints?.map((c) => c.topologyKey)).toEqual([
      "topology.kubernetes.io/zone",
    ]);
  });
});

describe("5: LLM chat on vLLM, from zero on the gateway's queue", () => {
  const file = "5-llm-vllm.yaml";
  const pods = 'namespace="default",pod=~"llama-chat-.*",model_name="llama-3.1-8b-instruct"';

  it("is a ScaledObject, 0-4 replicas, polling every 15 s, cooling down 600 s, never idle before 2 x 120 s", async () => {
    const result = await render(file);
    expect(result.engine).toBe("KEDA");
    expect(kinds(result)).toEqual(["Deployment", "ScaledObject", "PodDisruptionBudget"]);
    const spec = ofKind<ScaledObject>(result, "ScaledObject").spec;
    expect(spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "llama-chat" });
    expect(spec.minReplicaCount).toBe(0);
    expect(spec.maxReplicaCount).toBe(4);
    expect(spec.pollingInterval).toBe(15);
    expect(spec.cooldownPeriod).toBe(600);
    expect(spec.initialCooldownPeriod).toBe(240);
  });

  it("reads vLLM's waiting requests, 4 a replica, and its KV cache under both names, 75 %, for its model", async () => {
    const [waiting, kvCache] = ofKind<ScaledObject>(await render(file), "ScaledObject").spec.triggers;
    expect(waiting).toEqual({
      type: "prometheus",
      name: "waiting-requests",
      metadata: {
        query: `sum(vllm:num_requests_waiting{${pods}})`,
        serverAddress: "http://prometheus.monitoring.svc:9090",
        threshold: "4",
      },
    });
    expect(kvCache).toEqual({
      type: "prometheus",
      name: "kv-cache-utilization",
      metadata: {
        query: `sum(100 * avg by (namespace, pod) (vllm:kv_cache_usage_perc{${pods}} or vllm:gpu_cache_usage_perc{${pods}}))`,
        serverAddress: "http://prometheus.monitoring.svc:9090",
        threshold: "75",
      },
    });
  });

  it("wakes on llm-d's flow-control queue, under its current and former names, 4 waiting a replica", async () => {
    const triggers = ofKind<ScaledObject>(await render(file), "ScaledObject").spec.triggers;
    expect(triggers).toHaveLength(3);
    expect(triggers[2]).toEqual({
      type: "prometheus",
      name: "activation",
      metadata: {
        query:
          'sum(llm_d_epp_flow_control_queue_size{inference_pool="llama-chat"} ' +
          'or inference_extension_flow_control_queue_size{inference_pool="llama-chat"})',
        serverAddress: "http://prometheus.monitoring.svc:9090",
        threshold: "4",
      },
    });
  });

  it("runs vLLM on one GPU of a g6.xlarge, its API (and /metrics) on 8080, health on /health", async () => {
    const deployment = (await render(file)).deployment;
    const pod = deployment?.spec?.template.spec;
    const container = pod?.containers[0];
    expect(container?.image).toBe("registry.example.com/llm/vllm-openai:0.12.0");
    expect(container?.args).toEqual([
      "--model=/models/llama-3.1-8b-instruct",
      "--served-model-name=llama-3.1-8b-instruct",
      "--port=8080",
    ]);
    expect(container?.ports?.find((p) => p.name === "http")?.containerPort).toBe(8080);
    expect(container?.resources).toEqual({
      requests: { cpu: "3", memory: "12Gi", "nvidia.com/gpu": "1" },
      limits: { memory: "12Gi", "nvidia.com/gpu": "1" },
    });
    expect(container?.startupProbe?.httpGet?.path).toBe("/health");
    expect(container?.readinessProbe?.httpGet?.path).toBe("/health");
    // A 120 s model load: the startup probe allows 2 x 120 s; a two-minute generation finishes on scale-down.
    expect(container?.startupProbe?.failureThreshold).toBe(49);
    expect(pod?.terminationGracePeriodSeconds).toBe(130);
    expect(
      pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    ).toEqual([
      {
        matchExpressions: [
          { key: "node.kubernetes.io/instance-type", operator: "In", values: ["g6.xlarge"] },
        ],
      },
    ]);
    expect(deployment?.metadata?.labels?.["team"]).toBe("assistants");
  });

  it("keeps maxUnavailable 1 and corrects nothing", async () => {
    const result = await render(file);
    expect(ofKind<V1PodDisruptionBudget>(result, "PodDisruptionBudget").spec?.maxUnavailable).toBe(1);
    expect(result.corrections).toEqual([]);
    expect(result.notes).toEqual([]);
  });

  it("cannot render without KEDA", async () => {
    await expect(render(file, false)).rejects.toThrow(/KedaNotInstalled/);
  });
});
