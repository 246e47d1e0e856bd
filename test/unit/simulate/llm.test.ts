// LLM server signals in the simulator: waiting requests, the running batch and KV-cache use as functions of
// the load and the ready replicas, and the queue upstream that wakes a workload from zero; simulated for
// the policies that name them, with no --signal.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePolicy, type MLAutoscalePolicy } from "../../../src/api/v1alpha1/index.js";
import { loadPolicyFile, renderPolicy } from "../../../src/render/index.js";
import { SERVER_ENGINES } from "../../../src/model-servers/engines.js";
import { workloadQuery } from "../../../src/model-servers/promql.js";
import { serverSignalValue } from "../../../src/simulate/llm.js";
import { signalFromQuery, signalFromText, type Signal } from "../../../src/simulate/signals.js";
import { DEFAULT_OPTIONS, simulate, type SimulationResult } from "../../../src/simulate/simulate.js";
import { parseTrace } from "../../../src/simulate/trace.js";
import { validBasePolicy, withChanges } from "../../fixtures/invalid-policies.js";

const examples = new URL("../../../examples/", import.meta.url).pathname;
const demoTrace = parseTrace(readFileSync(`${examples}traces/demo-llm.csv`, "utf8"), "demo-llm.csv");

async function llamaChat(): Promise<MLAutoscalePolicy> {
  const [policy] = await loadPolicyFile(`${examples}5-llm-vllm.yaml`);
  if (policy === undefined) throw new Error("no policy");
  return policy;
}

function run(
  policy: MLAutoscalePolicy,
  kedaInstalled = true,
  signalOverrides = new Map<string, Signal>(),
): SimulationResult {
  const rendered = renderPolicy(policy, { kedaInstalled });
  return simulate(
    {
      name: policy.metadata.name,
      engine: rendered.engine,
      modelLoadSeconds: rendered.modelLoadSeconds,
      ...(rendered.deployment && { deployment: rendered.deployment }),
      ...(rendered.hpa && { hpa: rendered.hpa }),
      ...(rendered.scaledObject && { scaledObject: rendered.scaledObject }),
    },
    demoTrace,
    // Two chats a second per replica, a 12 s model load (the demo's tenth of the example's 120 s).
    { ...DEFAULT_OPTIONS, serviceRatePerReplica: 2, modelLoadSeconds: 12, signalOverrides },
  );
}

describe("the server signals of the workload model", () => {
  // 40 requests waiting, the ready replicas' capacity 75 % in use, 32 requests to a full batch.
  const value = (signal: "waiting" | "running" | "kvCache" | "upstream", ready: number, perPod: boolean) =>
    serverSignalValue(signal, 40, 0.75, ready, 32, perPod);

  it("spread the waiting requests over the ready replicas", () => {
    expect(value("waiting", 4, true)).toBe(10);
    expect(value("waiting", 4, false)).toBe(40);
  });

  it("fill each replica's batch and KV cache with the share of its capacity in use", () => {
    expect(value("running", 4, true)).toBe(24);
    expect(value("running", 4, false)).toBe(96);
    expect(value("kvCache", 4, true)).toBe(75);
    expect(value("kvCache", 4, false)).toBe(300);
  });

  it("vanish at zero ready replicas, when the requests wait upstream instead", () => {
    for (const signal of ["waiting", "running", "kvCache"] as const) expect(value(signal, 0, false)).toBe(0);
    expect(value("upstream", 0, false)).toBe(40);
    expect(value("upstream", 2, false)).toBe(0);
  });

  it("are told apart by the engines' metric names, a queue by its name elsewhere", () => {
    expect(signalFromText('sum(vllm:num_requests_waiting{pod=~"a-.*"})')).toBe("waiting");
    expect(signalFromText("sglang_requests_running")).toBe("running");
    expect(signalFromText("triton_kv_cache_utilization")).toBe("kvCache");
    expect(signalFromText("requests_waiting_in_my_broker")).toBe("queue");
  });

  it("are read from the operator's queries, Triton's by the label that picks them out of one family", () => {
    const matchers = 'namespace="ml",pod=~"chat-.*"';
    for (const engine of SERVER_ENGINES) {
      for (const signal of ["waiting", "running", "kvCache"] as const) {
        expect(signalFromQuery(workloadQuery(engine, signal, matchers))).toEqual({ signal });
      }
    }
    // A server's series beside another quantity: the user says which.
    expect(
      signalFromQuery("sum(rate(vllm:request_success_total[1m])) + sum(vllm:num_requests_waiting)").ambiguous,
    ).toEqual(["vllm:request_success_total (rps)", "vllm:num_requests_waiting (waiting)"]);
  });
});

describe("simulating examples/5-llm-vllm.yaml on the demo's chat load", () => {
  it("stays at zero through the quiet minute, wakes on the gateway's queue, and peaks at 4", async () => {
    const result = run(await llamaChat());
    const [wake] = result.events;
    expect(wake).toMatchObject({ from: 0, to: 1, by: "KEDA" });
    // The load starts at 60 s. Prometheus scrapes the gateway every 60 s, half an interval after the
    // start (30 s, 90 s, ...), and KEDA polls every 15 s: the first poll to see the queue is at 90 s.
    expect(wake?.t).toBe(90);
    expect(result.summary.peakReplicas).toBe(4);
    expect(result.summary.droppedRequests).toBe(0);
    expect(result.summary.servedRequests).toBeCloseTo(result.summary.totalRequests, 6);
  });

  it("never wakes when the activation query reads the server's own metrics", async () => {
    const result = run(await llamaChat(), true, new Map([["activation", "waiting"]]));
    expect(result.summary.peakReplicas).toBe(0);
    expect(result.summary.servedRequests).toBe(0);
  });
});

describe("simulating a server the HPA scales through the metrics adapter", () => {
  it("reads vllm_requests_waiting and vllm_kv_cache_utilization per pod and scales up under load", () => {
    const parsed = parsePolicy(
      withChanges(validBasePolicy(), {
        "metadata.name": "chat",
        "spec.replicas": { min: 1, max: 6 },
        "spec.scaling": { metrics: { server: { engine: "vLLM" } } },
      }),
    );
    if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
    const result = run(parsed.policy, false);
    expect(result.summary.engine).toBe("HPA");
    // The first HPA sync after Prometheus scrapes the loaded server (at 90 s: every 60 s from 30 s) sees a
    // queue far above 5 per replica: up by the Realtime preset's 4 pods, then to the maximum of 6 (8
    // requests a second at 2 per replica need more).
    expect(result.events[0]).toMatchObject({
      t: 90,
      from: 1,
      to: 5,
      reason: "pods metric vllm_requests_waiting above target",
    });
    expect(result.summary.peakReplicas).toBe(6);
  });
});
