// mlautoscale_policies counts the policies in the cache at each scrape: it follows adds, changes and
// deletions with nothing to keep in step.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { registerPolicyGauge } from "../../../src/controllers/mlautoscalepolicy/controller.js";
import type { PolicyObject } from "../../../src/controllers/mlautoscalepolicy/reconciler.js";
import { deepFreeze } from "../../../src/runtime/object.js";
import { Store } from "../../../src/runtime/store.js";

function policy(name: string, engine: "HPA" | "KEDA" | undefined, ready?: "True" | "False"): PolicyObject {
  return {
    metadata: { namespace: "ml", name, uid: name },
    status: {
      ...(engine !== undefined && { engine }),
      ...(ready !== undefined && {
        conditions: [
          {
            type: "Ready",
            status: ready,
            reason: "r",
            message: "",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          },
        ],
      }),
    },
  };
}

async function series(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split("\n").filter((line) => line.startsWith("mlautoscale_policies{"));
}

describe("mlautoscale_policies", () => {
  it("counts the cached policies by engine and Ready at each scrape", async () => {
    const registry = new Registry();
    const store = new Store<PolicyObject>();
    registerPolicyGauge(registry, store);
    store.upsert(deepFreeze(policy("a", "HPA", "True")));
    store.upsert(deepFreeze(policy("b", "HPA", "True")));
    store.upsert(deepFreeze(policy("c", "KEDA", "False")));
    store.upsert(deepFreeze(policy("d", undefined)));
    expect(await series(registry)).toEqual([
      'mlautoscale_policies{engine="HPA",ready="True"} 2',
      'mlautoscale_policies{engine="KEDA",ready="False"} 1',
      'mlautoscale_policies{engine="None",ready="Unknown"} 1',
    ]);
    store.upsert(deepFreeze(policy("c", "KEDA", "True")));
    store.remove("ml/a");
    expect(await series(registry)).toEqual([
      'mlautoscale_policies{engine="HPA",ready="True"} 1',
      'mlautoscale_policies{engine="KEDA",ready="True"} 1',
      'mlautoscale_policies{engine="None",ready="Unknown"} 1',
    ]);
  });
});
