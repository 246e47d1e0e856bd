// What the operator knows about each LLM server's Prometheus metrics, in one table: the series that count
// the requests waiting and running on a replica and the one that measures its KV cache, every name the
// engine has used for them (newest first; the queries take whichever a server exports), their labels, and a
// default target. Everything else (the KEDA queries, the metrics adapter's rules, the emulator's series,
// the simulator's signals) is derived from it. docs/engines/ cites the engines' sources for each name.

/** The engines `scaling.metrics.server.engine` accepts. */
export const SERVER_ENGINES = ["vLLM", "TGI", "SGLang", "Triton"] as const;
export type ServerEngine = (typeof SERVER_ENGINES)[number];

/** One series: a metric name, and the label values that pick the signal out of its family. */
export interface SeriesRef {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * KV-cache use as a fraction (0..1) of one engine: a gauge the engine exports, or the ratio of a used
 * amount to the capacity.
 */
export type UsageForm =
  { readonly gauge: SeriesRef } | { readonly used: SeriesRef; readonly capacity: SeriesRef };

/** Targets of `scaling.metrics.server`, per replica; kvCacheUtilization is in percent. */
export interface ServerTargets {
  readonly waitingRequestsPerReplica?: number;
  readonly kvCacheUtilization?: number;
  readonly runningRequestsPerReplica?: number;
}

export interface EngineMetrics {
  /** The release the names were checked against (docs/engines/ says where). */
  readonly checkedAgainst: string;
  /** Prefix of the names under which the metrics adapter serves this engine's signals to the HPA. */
  readonly adapterPrefix: string;
  /** The label naming the served model (scaling.metrics.server.modelName); none for one-model servers. */
  readonly modelLabel?: string;
  /**
   * Labels whose series repeat one value rather than divide the work (each tensor- or pipeline-parallel
   * rank reports the same scheduler): counted once per replica, not summed.
   */
  readonly replicaLabels: readonly string[];
  /** Requests queued in the server, not yet scheduled: every name the engine has used, newest first. */
  readonly waiting: readonly SeriesRef[];
  /** Requests in the running batch. */
  readonly running: readonly SeriesRef[];
  /** KV-cache use, every form the engine has offered, newest first. */
  readonly kvCache: readonly UsageForm[];
  /** The targets a policy that sets none gets: waiting requests always, every engine counts them. */
  readonly defaults: ServerTargets & { readonly waitingRequestsPerReplica: number };
}

/**
 * Waiting requests are the signal every engine has: a replica that keeps a few queued keeps its batch full
 * (throughput) while a new request waits only a few decode steps. Five per replica is a starting point
 * for chat; KV-cache use adds a second, earlier signal where the engine measures it directly, below the
 * level where the engine starts preempting (vLLM) or retracting (SGLang) requests.
 */
const WAITING_PER_REPLICA = 5;
const KV_CACHE_PERCENT = 80;

export const ENGINES: Readonly<Record<ServerEngine, EngineMetrics>> = {
  vLLM: {
    checkedAgainst: "vLLM 0.12 (vllm/v1/metrics/loggers.py)",
    adapterPrefix: "vllm",
    modelLabel: "model_name",
    // The `engine` label tells data-parallel engines of one server apart: their counts add up.
    replicaLabels: [],
    waiting: [{ name: "vllm:num_requests_waiting" }],
    running: [{ name: "vllm:num_requests_running" }],
    // gpu_cache_usage_perc was renamed kv_cache_usage_perc in 0.9.2, hidden in 0.11, removed in 0.12.
    kvCache: [
      { gauge: { name: "vllm:kv_cache_usage_perc" } },
      { gauge: { name: "vllm:gpu_cache_usage_perc" } },
    ],
    defaults: { waitingRequestsPerReplica: WAITING_PER_REPLICA, kvCacheUtilization: KV_CACHE_PERCENT },
  },
  TGI: {
    checkedAgainst: "TGI 3.3.7 (backends/v3/src/backend.rs, queue.rs, lib.rs)",
    adapterPrefix: "tgi",
    replicaLabels: [],
    waiting: [{ name: "tgi_queue_size" }],
    running: [{ name: "tgi_batch_current_size" }],
    // The tokens the running batch may grow to over the tokens the KV cache holds (TGI 2.3.1 and later):
    // TGI reserves the whole budget of a request when it admits it.
    kvCache: [
      { used: { name: "tgi_batch_current_max_tokens" }, capacity: { name: "tgi_batch_max_total_tokens" } },
    ],
    // A reservation, not a use: it sits near 100 % under any load, so it is no default.
    defaults: { waitingRequestsPerReplica: WAITING_PER_REPLICA },
  },
  SGLang: {
    checkedAgainst: "SGLang 0.5 (python/sglang/srt/metrics/collector.py)",
    adapterPrefix: "sglang",
    modelLabel: "model_name",
    replicaLabels: ["tp_rank", "pp_rank"],
    waiting: [{ name: "sglang:num_queue_reqs" }],
    running: [{ name: "sglang:num_running_reqs" }],
    kvCache: [{ gauge: { name: "sglang:token_usage" } }],
    defaults: { waitingRequestsPerReplica: WAITING_PER_REPLICA, kvCacheUtilization: KV_CACHE_PERCENT },
  },
  Triton: {
    checkedAgainst: "Triton's TensorRT-LLM backend 0.19 (custom_metrics_reporter.cc)",
    adapterPrefix: "triton",
    modelLabel: "model",
    replicaLabels: [],
    // request_type="waiting" and kv_cache_block_type="fraction" arrived with the backend's 0.18; before,
    // only the used and max block counts tell the KV cache's fill.
    waiting: [{ name: "nv_trt_llm_request_metrics", labels: { request_type: "waiting" } }],
    running: [{ name: "nv_trt_llm_request_metrics", labels: { request_type: "scheduled" } }],
    kvCache: [
      { gauge: { name: "nv_trt_llm_kv_cache_block_metrics", labels: { kv_cache_block_type: "fraction" } } },
      {
        used: { name: "nv_trt_llm_kv_cache_block_metrics", labels: { kv_cache_block_type: "used" } },
        capacity: { name: "nv_trt_llm_kv_cache_block_metrics", labels: { kv_cache_block_type: "max" } },
      },
    ],
    defaults: { waitingRequestsPerReplica: WAITING_PER_REPLICA, kvCacheUtilization: KV_CACHE_PERCENT },
  },
};

/** Engines whose metrics carry no model label: a policy cannot filter them by model. */
export const ENGINES_WITHOUT_MODEL_LABEL: readonly string[] = SERVER_ENGINES.filter(
  (engine) => ENGINES[engine].modelLabel === undefined,
);
