// The PromQL the operator writes for LLM servers, evaluated by Prometheus itself (`promtool test rules`,
// Debian's prometheus package) on series shaped as each engine exports them: every name an engine has
// used is read, a server exporting two of them is counted once, tensor-parallel ranks are not summed,
// other workloads and models are left out, and a workload at zero replicas reads nothing.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { binaryLocator } from "../../dev/controlplane/binaries.js";
import { buildTriggers } from "../../src/controllers/mlautoscalepolicy/desired/scaledobject.js";
import type { ServerEngine } from "../../src/model-servers/engines.js";
import {
  ADAPTER_GROUP_BY,
  ADAPTER_LABEL_MATCHERS,
  adapterRule,
  promqlString,
  workloadQuery,
  type ServerSignal,
} from "../../src/model-servers/promql.js";
import { parsePolicy } from "../../src/api/v1alpha1/index.js";
import { validBasePolicy, withChanges, type Json } from "../fixtures/invalid-policies.js";

const dir = mkdtempSync(join(tmpdir(), "mlautoscale-promql-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The workload's pods in namespace ml, as the operator matches them. */
const PODS = 'namespace="ml",pod=~"chat-.*"';

type Series = [name: string, labels: Record<string, string>, value: number];

function seriesText([name, labels, value]: Series): { series: string; values: string } {
  const all = { namespace: "ml", ...labels };
  const inner = Object.entries(all)
    .map(([label, v]) => `${label}=${promqlString(v)}`)
    .join(",");
  return { series: `${name}{${inner}}`, values: String(value) };
}

interface Expectation {
  expr: string;
  /** Samples by their labels ("{}" for one total); none for an empty result. */
  samples: { labels: string; value: number }[];
}

/** Runs `promtool test rules` on the series and expectations; resolves to its output, rejects on failure. */
async function promtool(series: readonly Series[], expectations: readonly Expectation[]): Promise<string> {
  const file = join(dir, `test-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(
    file,
    stringify({
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: series.map(seriesText),
          promql_expr_test: expectations.map((e) => ({
            expr: e.expr,
            eval_time: "0m",
            exp_samples: e.samples,
          })),
        },
      ],
    }),
  );
  const child = spawn(binaryLocator().system("promtool"), ["test", "rules", file], { stdio: "pipe" });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`promtool test rules failed (${String(code)}):\n${output}`);
  expect(output).toContain("SUCCESS");
  return output;
}

const total = (value: number) => [{ labels: "{}", value }];
const query = (engine: ServerEngine, signal: ServerSignal) => workloadQuery(engine, signal, PODS);

describe("vLLM", () => {
  const kvCache = (pod: string, engine: string, value: number, names = ["vllm:kv_cache_usage_perc"]) =>
    names.map((name): Series => [name, { pod, engine, model_name: "llama" }, value]);
  const both = ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"];
  const series: Series[] = [
    // chat-a runs two data-parallel engines on a release that exports both names; chat-b only the old one.
    ...kvCache("chat-a", "0", 0.5, both),
    ...kvCache("chat-a", "1", 0.7, both),
    ...kvCache("chat-b", "0", 0.9, ["vllm:gpu_cache_usage_perc"]),
    // Another workload, and another model on this one: neither counts.
    ...kvCache("other-a", "0", 1),
    ["vllm:kv_cache_usage_perc", { pod: "chat-c", engine: "0", model_name: 'org/"odd"\\name' }, 0.3],
    ["vllm:num_requests_waiting", { pod: "chat-a", engine: "0", model_name: "llama" }, 3],
    ["vllm:num_requests_waiting", { pod: "chat-a", engine: "1", model_name: "llama" }, 2],
    ["vllm:num_requests_waiting", { pod: "chat-b", engine: "0", model_name: "llama" }, 4],
    ["vllm:num_requests_waiting", { pod: "other-a", engine: "0", model_name: "llama" }, 50],
  ];

  /** The queries of policy `chat` in namespace ml on vLLM with these settings, by trigger name. */
  function triggerQueries(server: Record<string, Json>): Map<string, string> {
    const parsed = parsePolicy(
      withChanges(validBasePolicy(), {
        "metadata.name": "chat",
        "metadata.namespace": "ml",
        "spec.scaling": {
          metrics: {
            server: { engine: "vLLM", prometheus: { serverAddress: "http://prometheus:9090" }, ...server },
          },
        },
      }),
    );
    if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
    return new Map(buildTriggers(parsed.policy).map((t) => [t.name ?? "", t.metadata["query"] ?? ""]));
  }

  it("reads the KV cache under either name, once per server, per pod mean summed; waiting requests summed", async () => {
    const queries = triggerQueries({ modelName: "llama" });
    await promtool(series, [
      // (0.5 + 0.7) / 2 on chat-a, 0.9 on chat-b, in percent.
      { expr: queries.get("kv-cache-utilization") ?? "", samples: total(150) },
      { expr: queries.get("waiting-requests") ?? "", samples: total(9) },
    ]);
  });

  it("selects an oddly named model exactly", async () => {
    const queries = triggerQueries({ kvCacheUtilization: 80, modelName: 'org/"odd"\\name' });
    await promtool(series, [{ expr: queries.get("kv-cache-utilization") ?? "", samples: total(30) }]);
  });

  it("serves the metrics adapter one value per pod the HPA asks about", async () => {
    const matchers = 'namespace="ml",pod=~"chat-a|chat-b"';
    const rule = adapterRule("vLLM", "kvCache");
    const expr = rule.metricsQuery
      .replaceAll(ADAPTER_LABEL_MATCHERS, matchers)
      .replaceAll(ADAPTER_GROUP_BY, "pod");
    await promtool(series, [
      {
        expr,
        samples: [
          { labels: '{pod="chat-a"}', value: 60 },
          { labels: '{pod="chat-b"}', value: 90 },
        ],
      },
    ]);
  });

  it("reads nothing at zero replicas (KEDA takes an empty result as 0)", async () => {
    await promtool(
      [["vllm:num_requests_waiting", { pod: "other-a", engine: "0" }, 7]],
      [
        { expr: query("vLLM", "waiting"), samples: [] },
        { expr: query("vLLM", "kvCache"), samples: [] },
      ],
    );
  });
});

describe("SGLang", () => {
  it("counts each data-parallel rank's queue once, not once per tensor-parallel rank", async () => {
    const rank = (name: string, pod: string, tp: string, dp: string | undefined, value: number): Series => [
      name,
      { pod, model_name: "m", tp_rank: tp, pp_rank: "0", ...(dp !== undefined && { dp_rank: dp }) },
      value,
    ];
    const series: Series[] = [];
    for (const tp of ["0", "1"]) {
      series.push(rank("sglang:num_queue_reqs", "chat-a", tp, "0", 3));
      series.push(rank("sglang:num_queue_reqs", "chat-a", tp, "1", 2));
      series.push(rank("sglang:num_queue_reqs", "chat-b", tp, undefined, 4));
      series.push(rank("sglang:token_usage", "chat-a", tp, "0", 0.5));
      series.push(rank("sglang:token_usage", "chat-a", tp, "1", 0.7));
      series.push(rank("sglang:token_usage", "chat-b", tp, undefined, 0.2));
    }
    await promtool(series, [
      { expr: query("SGLang", "waiting"), samples: total(9) },
      { expr: query("SGLang", "kvCache"), samples: total(80) },
    ]);
  });
});

describe("TGI", () => {
  it("reads the KV cache as the batch's tokens over the tokens it holds", async () => {
    await promtool(
      [
        ["tgi_batch_current_max_tokens", { pod: "chat-a" }, 500],
        ["tgi_batch_max_total_tokens", { pod: "chat-a" }, 1000],
        ["tgi_batch_current_max_tokens", { pod: "chat-b" }, 0],
        ["tgi_batch_max_total_tokens", { pod: "chat-b" }, 1000],
        ["tgi_queue_size", { pod: "chat-a" }, 6],
        ["tgi_batch_current_size", { pod: "chat-a" }, 12],
      ],
      [
        { expr: query("TGI", "kvCache"), samples: total(50) },
        { expr: query("TGI", "waiting"), samples: total(6) },
        { expr: query("TGI", "running"), samples: total(12) },
      ],
    );
  });
});

describe("Triton (TensorRT-LLM backend)", () => {
  it("reads the KV cache as the fraction, or as used / max blocks where the backend predates it", async () => {
    const blocks = (pod: string, type: string, value: number): Series => [
      "nv_trt_llm_kv_cache_block_metrics",
      { pod, model: "tensorrt_llm", version: "1", kv_cache_block_type: type },
      value,
    ];
    const requests = (pod: string, type: string, value: number): Series => [
      "nv_trt_llm_request_metrics",
      { pod, model: "tensorrt_llm", version: "1", request_type: type },
      value,
    ];
    await promtool(
      [
        // A 0.18+ backend reports the fraction as well as the blocks: the fraction counts, once.
        blocks("chat-a", "fraction", 0.4),
        blocks("chat-a", "used", 1),
        blocks("chat-a", "max", 10),
        blocks("chat-a", "tokens_per", 64),
        // An older one only the blocks.
        blocks("chat-b", "used", 30),
        blocks("chat-b", "max", 40),
        requests("chat-a", "waiting", 2),
        requests("chat-a", "scheduled", 7),
        requests("chat-a", "active", 9),
        requests("chat-b", "waiting", 3),
      ],
      [
        { expr: query("Triton", "kvCache"), samples: total(115) },
        { expr: query("Triton", "waiting"), samples: total(5) },
        { expr: query("Triton", "running"), samples: total(7) },
      ],
    );
  });
});
