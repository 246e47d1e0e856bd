// The engine table compiled to PromQL: the exact queries KEDA's triggers run and the prometheus-adapter
// rules that serve the HPA. What the queries compute on real series is checked by Prometheus itself in
// test/integration/server-queries.test.ts.
import { describe, expect, it } from "vitest";
import { ENGINES, SERVER_ENGINES } from "../../../src/model-servers/engines.js";
import {
  adapterRule,
  adapterRules,
  hpaMetricName,
  perPodQuery,
  promqlString,
  SERVER_SIGNALS,
  SERVER_TRIGGER_NAMES,
  serverSignalOf,
  workloadQuery,
} from "../../../src/model-servers/promql.js";

const PODS = 'namespace="ml",pod=~"chat-.*"';

describe("the engine table", () => {
  it.each(SERVER_ENGINES)(
    "%s names every signal, a default waiting target and its source release",
    (engine) => {
      const table = ENGINES[engine];
      expect(table.waiting.length).toBeGreaterThan(0);
      expect(table.running.length).toBeGreaterThan(0);
      expect(table.kvCache.length).toBeGreaterThan(0);
      expect(table.defaults.waitingRequestsPerReplica).toBeGreaterThan(0);
      expect(table.checkedAgainst).toMatch(/\d/);
    },
  );

  it("keeps vLLM's KV-cache gauge under both its names, the current one first", () => {
    expect(ENGINES.vLLM.kvCache).toEqual([
      { gauge: { name: "vllm:kv_cache_usage_perc" } },
      { gauge: { name: "vllm:gpu_cache_usage_perc" } },
    ]);
  });
});

describe("KEDA queries (the total over the workload's pods)", () => {
  it("reads vLLM's waiting requests, summed over its pods and data-parallel engines", () => {
    expect(workloadQuery("vLLM", "waiting", PODS)).toBe(
      'sum(vllm:num_requests_waiting{namespace="ml",pod=~"chat-.*"})',
    );
  });

  it("reads vLLM's KV cache under either name, as the per-pod mean in percent, summed", () => {
    expect(workloadQuery("vLLM", "kvCache", PODS)).toBe(
      "sum(100 * avg by (namespace, pod) (" +
        'vllm:kv_cache_usage_perc{namespace="ml",pod=~"chat-.*"} or ' +
        'vllm:gpu_cache_usage_perc{namespace="ml",pod=~"chat-.*"}))',
    );
  });

  it("counts an SGLang queue once per replica, not once per tensor-parallel rank", () => {
    expect(workloadQuery("SGLang", "waiting", PODS)).toBe(
      'sum(max without (tp_rank, pp_rank) (sglang:num_queue_reqs{namespace="ml",pod=~"chat-.*"}))',
    );
  });

  it("divides TGI's batch tokens by the tokens its KV cache holds", () => {
    expect(workloadQuery("TGI", "kvCache", PODS)).toBe(
      "sum(100 * avg by (namespace, pod) (" +
        'tgi_batch_current_max_tokens{namespace="ml",pod=~"chat-.*"} / ' +
        'tgi_batch_max_total_tokens{namespace="ml",pod=~"chat-.*"}))',
    );
  });

  it("picks Triton's series out of their families, and reads the KV cache as a fraction or used / max", () => {
    expect(workloadQuery("Triton", "waiting", PODS)).toBe(
      'sum(nv_trt_llm_request_metrics{request_type="waiting",namespace="ml",pod=~"chat-.*"})',
    );
    expect(workloadQuery("Triton", "kvCache", PODS)).toBe(
      "sum(100 * avg by (namespace, pod) (" +
        "max without (kv_cache_block_type) " +
        '(nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="fraction",namespace="ml",pod=~"chat-.*"}) or ' +
        '(nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="used",namespace="ml",pod=~"chat-.*"} ' +
        "/ ignoring (kv_cache_block_type) " +
        'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",namespace="ml",pod=~"chat-.*"})))',
    );
  });

  it("starts every query with sum(: one value, the total", () => {
    for (const engine of SERVER_ENGINES) {
      for (const signal of SERVER_SIGNALS) expect(workloadQuery(engine, signal, PODS)).toMatch(/^sum\(/);
    }
  });
});

describe("prometheus-adapter rules (one value per pod, for the HPA)", () => {
  it("serves vLLM's KV cache as vllm_kv_cache_utilization from either name", () => {
    expect(adapterRule("vLLM", "kvCache")).toEqual({
      seriesQuery: '{__name__=~"vllm:kv_cache_usage_perc|vllm:gpu_cache_usage_perc",namespace!="",pod!=""}',
      resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
      name: {
        matches: "^(vllm:kv_cache_usage_perc|vllm:gpu_cache_usage_perc)$",
        as: "vllm_kv_cache_utilization",
      },
      metricsQuery:
        "100 * avg by (<<.GroupBy>>) (" +
        "vllm:kv_cache_usage_perc{<<.LabelMatchers>>} or vllm:gpu_cache_usage_perc{<<.LabelMatchers>>})",
    });
  });

  it("groups the counts by the pods the HPA asks about", () => {
    expect(perPodQuery("TGI", "running", "<<.LabelMatchers>>", "<<.GroupBy>>")).toBe(
      "sum by (<<.GroupBy>>) (tgi_batch_current_size{<<.LabelMatchers>>})",
    );
  });

  it("has one rule per engine and signal, each under its own name", () => {
    const rules = adapterRules();
    expect(rules).toHaveLength(SERVER_ENGINES.length * SERVER_SIGNALS.length);
    expect(new Set(rules.map((r) => r.name.as)).size).toBe(rules.length);
    expect(rules.map((r) => r.name.as)).toContain(hpaMetricName("SGLang", "running"));
    expect(hpaMetricName("SGLang", "running")).toBe("sglang_requests_running");
  });
});

describe("which signal a query or metric reads", () => {
  it.each(SERVER_ENGINES)("recognizes every compiled %s query and adapter metric", (engine) => {
    for (const signal of SERVER_SIGNALS) {
      expect(serverSignalOf(workloadQuery(engine, signal, PODS))).toBe(signal);
      expect(serverSignalOf(hpaMetricName(engine, signal))).toBe(signal);
    }
  });

  it("recognizes nothing else", () => {
    expect(serverSignalOf("DCGM_FI_DEV_GPU_UTIL")).toBeUndefined();
    expect(serverSignalOf('sum(llm_d_epp_flow_control_queue_size{inference_pool="chat"})')).toBeUndefined();
    expect(serverSignalOf("my_vllm:num_requests_waiting_total")).toBeUndefined();
  });
});

describe("the names the operator gives the triggers", () => {
  it("are one per signal and the activation trigger", () => {
    expect(SERVER_TRIGGER_NAMES).toEqual([
      "waiting-requests",
      "running-requests",
      "kv-cache-utilization",
      "activation",
    ]);
  });
});

describe("promqlString", () => {
  it("escapes quotes and backslashes", () => {
    expect(promqlString('org/"quoted"\\model')).toBe('"org/\\"quoted\\"\\\\model"');
  });
});
