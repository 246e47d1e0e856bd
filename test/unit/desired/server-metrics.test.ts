// scaling.metrics.server as the autoscaler sees it: KEDA prometheus triggers with the engine's queries and
// the activation query, or HPA Pods metrics served by the metrics adapter; and which engine Auto picks.
import { describe, expect, it } from "vitest";
import {
  buildDesiredChildren,
  KEDA_ABSENT,
  KEDA_RUNNING,
} from "../../../src/controllers/mlautoscalepolicy/desired/index.js";
import { buildHpaMetrics } from "../../../src/controllers/mlautoscalepolicy/desired/hpa.js";
import { buildTriggers } from "../../../src/controllers/mlautoscalepolicy/desired/scaledobject.js";
import { serverTargets } from "../../../src/controllers/mlautoscalepolicy/desired/server-metrics.js";
import type { Json } from "../../fixtures/invalid-policies.js";
import { hpaPolicy } from "./policies.js";

const PROMETHEUS = "http://prometheus.monitoring.svc:9090";
const GATEWAY_QUEUE = 'sum(llm_d_epp_flow_control_queue_size{inference_pool="chat"})';

function serverPolicy(server: Json, changes: Record<string, Json | undefined> = {}) {
  return hpaPolicy({ "metadata.name": "chat", "spec.scaling": { metrics: { server } }, ...changes });
}

describe("the targets in force", () => {
  it("are the engine's defaults when the policy sets none", () => {
    expect(serverTargets({ engine: "vLLM" })).toEqual([
      { signal: "waiting", target: 5 },
      { signal: "kvCache", target: 80 },
    ]);
    expect(serverTargets({ engine: "TGI" })).toEqual([{ signal: "waiting", target: 5 }]);
  });

  it("are exactly those set when the policy sets any", () => {
    expect(serverTargets({ engine: "vLLM", runningRequestsPerReplica: 32 })).toEqual([
      { signal: "running", target: 32 },
    ]);
    expect(serverTargets({ engine: "SGLang", kvCacheUtilization: 70, waitingRequestsPerReplica: 2 })).toEqual(
      [
        { signal: "waiting", target: 2 },
        { signal: "kvCache", target: 70 },
      ],
    );
  });
});

describe("KEDA triggers", () => {
  it("query the workload's pods for each target, the threshold per replica", () => {
    const policy = serverPolicy({
      engine: "vLLM",
      kvCacheUtilization: 75,
      waitingRequestsPerReplica: 4,
      prometheus: { serverAddress: PROMETHEUS },
    });
    expect(buildTriggers(policy)).toEqual([
      {
        type: "prometheus",
        name: "waiting-requests",
        metadata: {
          query: 'sum(vllm:num_requests_waiting{namespace="ml",pod=~"chat-.*"})',
          serverAddress: PROMETHEUS,
          threshold: "4",
        },
      },
      {
        type: "prometheus",
        name: "kv-cache-utilization",
        metadata: {
          query:
            'sum(100 * avg by (namespace, pod) (vllm:kv_cache_usage_perc{namespace="ml",pod=~"chat-.*"} or vllm:gpu_cache_usage_perc{namespace="ml",pod=~"chat-.*"}))',
          serverAddress: PROMETHEUS,
          threshold: "75",
        },
      },
    ]);
  });

  it("filter by the served model, escaped", () => {
    const policy = serverPolicy({
      engine: "SGLang",
      runningRequestsPerReplica: 48,
      modelName: 'org/"odd"\\name',
      prometheus: { serverAddress: PROMETHEUS },
    });
    expect(buildTriggers(policy)[0]?.metadata["query"]).toBe(
      'sum(max without (tp_rank, pp_rank) (sglang:num_running_reqs{namespace="ml",pod=~"chat-.*",model_name="org/\\"odd\\"\\\\name"}))',
    );
  });

  it("add the activation query last, active above its activationValue, per replica like the waiting target", () => {
    const policy = serverPolicy(
      {
        engine: "vLLM",
        waitingRequestsPerReplica: 3,
        prometheus: { serverAddress: PROMETHEUS },
        activation: { query: GATEWAY_QUEUE, activationValue: 2 },
      },
      { "spec.replicas.min": 0, "spec.scaling.scaleToZero": { activationValue: 0.5 } },
    );
    const triggers = buildTriggers(policy);
    expect(triggers.map((t) => t.name)).toEqual(["waiting-requests", "activation"]);
    // The server's own trigger gets the policy's default activation; the activation trigger its own.
    expect(triggers[0]?.metadata["activationThreshold"]).toBe("0.5");
    expect(triggers[1]).toEqual({
      type: "prometheus",
      name: "activation",
      metadata: { activationThreshold: "2", query: GATEWAY_QUEUE, serverAddress: PROMETHEUS, threshold: "3" },
    });
  });

  it("read the activation query from its own Prometheus, with its own target", () => {
    const policy = serverPolicy(
      {
        engine: "TGI",
        prometheus: { serverAddress: PROMETHEUS },
        activation: {
          query: GATEWAY_QUEUE,
          serverAddress: "http://gateway-prometheus:9090",
          targetAverageValue: 8,
        },
      },
      { "spec.replicas.min": 0 },
    );
    const activation = buildTriggers(policy).find((t) => t.name === "activation");
    expect(activation?.metadata).toEqual({
      query: GATEWAY_QUEUE,
      serverAddress: "http://gateway-prometheus:9090",
      threshold: "8",
    });
  });

  it("sit beside a queue trigger that wakes the workload instead", () => {
    const policy = serverPolicy(
      { engine: "Triton", prometheus: { serverAddress: PROMETHEUS } },
      {
        "spec.replicas.min": 0,
        "spec.scaling.triggers": [
          {
            type: "rabbitmq",
            name: "requests",
            metadata: { queueName: "q", mode: "QueueLength", value: "5" },
          },
        ],
      },
    );
    expect(buildTriggers(policy).map((t) => t.name)).toEqual([
      "requests",
      "waiting-requests",
      "kv-cache-utilization",
    ]);
  });
});

describe("HPA metrics", () => {
  it("are Pods metrics named as the metrics adapter serves them, selecting the model by label", () => {
    const policy = serverPolicy({ engine: "Triton", modelName: "ensemble" });
    expect(buildHpaMetrics(policy.spec)).toEqual([
      {
        type: "Pods",
        pods: {
          metric: { name: "triton_requests_waiting", selector: { matchLabels: { model: "ensemble" } } },
          target: { type: "AverageValue", averageValue: "5" },
        },
      },
      {
        type: "Pods",
        pods: {
          metric: { name: "triton_kv_cache_utilization", selector: { matchLabels: { model: "ensemble" } } },
          target: { type: "AverageValue", averageValue: "80" },
        },
      },
    ]);
  });

  it("tell render the query the adapter runs for each", () => {
    const result = buildDesiredChildren(serverPolicy({ engine: "vLLM", runningRequestsPerReplica: 16 }), {
      keda: KEDA_RUNNING,
    });
    if (!result.ok) throw new Error(result.message);
    expect(result.children.engine).toBe("HPA");
    expect(result.children.notes).toEqual([
      "scaling.metrics.server: the HPA reads vllm_requests_running from the custom metrics API; the metrics " +
        'adapter\'s rule for it (docs/engines) queries sum by (pod) (vllm:num_requests_running{namespace="ml",pod=~"chat-.*"})',
    ]);
  });
});

describe("the engine Auto picks", () => {
  it("is KEDA when the server's metrics are read from Prometheus and KEDA runs, the HPA otherwise", () => {
    const policy = serverPolicy({ engine: "vLLM", prometheus: { serverAddress: PROMETHEUS } });
    const withKeda = buildDesiredChildren(policy, { keda: KEDA_RUNNING });
    const withoutKeda = buildDesiredChildren(policy, { keda: KEDA_ABSENT });
    if (!withKeda.ok || !withoutKeda.ok) throw new Error("no engine");
    expect(withKeda.children.engine).toBe("KEDA");
    expect(withKeda.children.scaledObject?.spec.triggers.map((t) => t.name)).toEqual([
      "waiting-requests",
      "kv-cache-utilization",
    ]);
    expect(withoutKeda.children.engine).toBe("HPA");
    expect(withoutKeda.children.hpa?.spec?.metrics?.map((m) => m.pods?.metric.name)).toEqual([
      "vllm_requests_waiting",
      "vllm_kv_cache_utilization",
    ]);
    expect(withoutKeda.children.notes).toContain(
      "scaling.metrics.server.prometheus is read by KEDA only; with the HPA, the metrics adapter serves the server's metrics",
    );
  });
});
