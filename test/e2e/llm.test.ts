// An LLM server on the real loop: the workload emulator plays vLLM (its pods export vllm:num_requests_waiting,
// vllm:kv_cache_usage_perc, ... with the served model's label) and the gateway in front of it (the series
// the activation query reads), Prometheus scrapes them, and KEDA, or the HPA through prometheus-adapter,
// scales on the queries and metrics the operator compiled from `scaling.metrics.server`. Windows are
// shortened (stated at each test); the HPA controller keeps its 15 s sync.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addNodes, nodePool, removeNodes } from "../../dev/controlplane/nodes.js";
import { localExamples } from "../../dev/demo.js";
import { clusterAddresses, testKubeConfig } from "../support/cluster.js";
import { configureWorkload, explainedByEmulator, setLoad } from "../support/emulator.js";
import { eventually, OperatorNamespaces } from "../support/operator.js";
import {
  applyObjects,
  getHpa,
  getScaledObject,
  waitForCondition,
  waitForReplicas,
} from "../support/policies.js";

type Document = { kind?: string; metadata: { name: string }; spec: Record<string, unknown> };

const namespaces = new OperatorNamespaces();
/** Room for example 5 at its maximum: one replica per single-GPU g6.xlarge. */
const NODES = nodePool("llm-g6", ["1", "2", "3", "4"], {
  instanceType: "g6.xlarge",
  cpu: "4",
  memory: "16Gi",
  gpus: 1,
});

beforeAll(async () => {
  await addNodes(testKubeConfig(), NODES);
});

afterAll(async () => {
  await namespaces.stop();
  await removeNodes(testKubeConfig(), NODES);
});

/** Example 5 as the local cluster runs it (its Prometheus), with a 5 s model and the changes given. */
function llamaChat(changes: (spec: Record<string, unknown>) => void): Document {
  const found = (localExamples(clusterAddresses()) as Document[]).find(
    (d) => d.metadata.name === "llama-chat",
  );
  if (found === undefined) throw new Error("no llama-chat example");
  const template = (found.spec["workload"] as { template: { model: { loadSeconds: number } } }).template;
  template.model.loadSeconds = 5;
  changes(found.spec);
  return found;
}

/** The value of an instant PromQL query, undefined when it returns nothing. */
async function promql(query: string): Promise<number | undefined> {
  const url = new URL("/api/v1/query", clusterAddresses().PROMETHEUS_URL);
  url.searchParams.set("query", query);
  const response = await fetch(url);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: { value: [number, string] }[] };
  };
  if (body.status !== "success") throw new Error(`${query}: ${body.error ?? response.status}`);
  const [first] = body.data?.result ?? [];
  return first === undefined ? undefined : Number(first.value[1]);
}

describe("example 5: vLLM on KEDA, from zero on the gateway's queue", () => {
  it("sits at zero, wakes when requests wait at the gateway, scales on vLLM's own metrics, and returns to zero", async () => {
    const ns = await namespaces.create("llm-keda");
    // KEDA polling every 5 s, 30 s of quiet before zero.
    const policy = llamaChat((spec) => {
      const scaling = spec["scaling"] as Record<string, unknown>;
      scaling["pollingIntervalSeconds"] = 5;
      scaling["scaleToZero"] = { cooldownSeconds: 30, initialCooldownSeconds: 5 };
    });
    await applyObjects(ns, { apiVersion: "mlautoscale.io/v1alpha1", ...policy });
    await waitForReplicas(ns, "llama-chat", (r) => r === 0, "scaled to zero", 180_000);
    await waitForCondition(ns, "llama-chat", "Ready", "True", "ScaledToZero", 60_000);

    // The ScaledObject reads what the operator compiled: vLLM's names, this workload's pods and model.
    const triggers = (await getScaledObject(ns, "llama-chat"))?.spec.triggers ?? [];
    expect(triggers.map((t) => t.name)).toEqual(["waiting-requests", "kv-cache-utilization", "activation"]);
    const queryOf = (name: string): string => triggers.find((t) => t.name === name)?.metadata["query"] ?? "";
    expect(queryOf("kv-cache-utilization")).toContain(
      `vllm:kv_cache_usage_perc{namespace="${ns}",pod=~"llama-chat-.*",model_name="llama-3.1-8b-instruct"}`,
    );

    await explainedByEmulator(ns, "llama-chat", async () => {
      // Two chats a second per replica; six a second arrive: the requests wait at the gateway first.
      await eventually(
        () => configureWorkload(ns, "llama-chat", { serviceRatePerReplica: 2 }).then(() => true),
        "the emulator to know llama-chat",
      );
      await setLoad(ns, "llama-chat", 6);
      await eventually(
        async () => ((await promql(queryOf("activation"))) ?? 0) > 0 || undefined,
        "the gateway's queue to reach Prometheus",
        60_000,
        1_000,
      );
      await waitForReplicas(ns, "llama-chat", (r) => r >= 1, "KEDA to wake it from zero", 120_000);

      // Once a replica is Ready, vLLM's own series are in Prometheus under their current names, and the
      // compiled queries read them.
      await eventually(
        async () => ((await promql(queryOf("kv-cache-utilization"))) ?? 0) > 0 || undefined,
        "vllm:kv_cache_usage_perc through the compiled query",
        120_000,
        1_000,
      );
      expect(await promql(`count(vllm:kv_cache_usage_perc{namespace="${ns}"})`)).toBeGreaterThanOrEqual(1);
      expect(await promql(`count(vllm:gpu_cache_usage_perc{namespace="${ns}"})`)).toBeUndefined();
      await waitForReplicas(
        ns,
        "llama-chat",
        (r) => r >= 3,
        "KEDA to scale on waiting requests and KV cache",
        180_000,
      );
      await waitForCondition(ns, "llama-chat", "ScalingActive", "True", undefined, 60_000);

      await setLoad(ns, "llama-chat", 0);
      await waitForReplicas(
        ns,
        "llama-chat",
        (r) => r === 0,
        "back to zero once idle for the cooldown",
        240_000,
      );
    });
  }, 600_000);
});

describe("a vLLM server on the HPA, through prometheus-adapter", () => {
  it("scales on vllm_requests_waiting, served per pod by the adapter's rule from vLLM's own series", async () => {
    const ns = await namespaces.create("llm-hpa");
    // Example 5 without Prometheus or scale to zero: the HPA reads the server's metrics as Pods metrics.
    const policy = llamaChat((spec) => {
      spec["replicas"] = { min: 1, max: 4 };
      spec["scaling"] = {
        metrics: {
          server: { engine: "vLLM", modelName: "llama-3.1-8b-instruct", waitingRequestsPerReplica: 4 },
        },
      };
    });
    await applyObjects(ns, { apiVersion: "mlautoscale.io/v1alpha1", ...policy });
    await waitForCondition(ns, "llama-chat", "Ready", "True", undefined, 120_000);
    const hpa = await getHpa(ns, "llama-chat");
    expect(hpa?.spec?.metrics).toEqual([
      {
        type: "Pods",
        pods: {
          metric: {
            name: "vllm_requests_waiting",
            selector: { matchLabels: { model_name: "llama-3.1-8b-instruct" } },
          },
          target: { type: "AverageValue", averageValue: "4" },
        },
      },
    ]);

    await explainedByEmulator(ns, "llama-chat", async () => {
      await eventually(
        () => configureWorkload(ns, "llama-chat", { serviceRatePerReplica: 2 }).then(() => true),
        "the emulator to know llama-chat",
      );
      await setLoad(ns, "llama-chat", 6);
      // The HPA reads the adapter's value: the waiting requests of each pod.
      const current = await eventually(
        async () => {
          const status = (await getHpa(ns, "llama-chat"))?.status?.currentMetrics ?? [];
          const waiting = status.find((m) => m.pods?.metric.name === "vllm_requests_waiting");
          const value = Number.parseFloat(waiting?.pods?.current.averageValue ?? "0");
          return value > 0 ? value : undefined;
        },
        "the HPA to read vllm_requests_waiting",
        180_000,
        1_000,
      );
      expect(current).toBeGreaterThan(0);
      await waitForReplicas(
        ns,
        "llama-chat",
        (r) => r >= 3,
        "the HPA to scale up on waiting requests",
        180_000,
      );
      await setLoad(ns, "llama-chat", 0);
    });
  }, 600_000);
});
