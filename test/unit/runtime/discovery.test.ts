import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import { DiscoveryWatcher, restKindLookup } from "../../../src/runtime/discovery.js";
import { KubeApiError } from "../../../src/runtime/errors.js";
import type { ResourceType } from "../../../src/runtime/rest.js";

const scaledObjects: ResourceType = {
  apiVersion: "keda.sh/v1alpha1",
  kind: "ScaledObject",
  plural: "scaledobjects",
  namespaced: true,
};

async function settle(): Promise<void> {
  for (let round = 0; round < 5; round++) await new Promise((resolve) => setImmediate(resolve));
}

describe("DiscoveryWatcher", () => {
  it("keeps KEDA served through an API server that answers 503, and sees it gone on a 404", async () => {
    // What kube-apiserver answers for /apis/keda.sh/v1alpha1: the list, 503 while it is unavailable
    // (starting, overloaded, an etcd blip), 404 once the CRDs are gone.
    let answer: "served" | 503 | 404 = "served";
    const rest = {
      request: <T>(): Promise<T> => {
        if (answer !== "served") return Promise.reject(new KubeApiError(answer, `status ${answer}`));
        const list = {
          resources: [
            { name: "scaledobjects", kind: "ScaledObject", namespaced: true },
            { name: "scaledobjects/status", kind: "ScaledObject", namespaced: true },
          ],
        };
        return Promise.resolve(list as T);
      },
    };
    const changes: boolean[] = [];
    const watcher = new DiscoveryWatcher({
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      clock: new ManualClock(),
      lookup: restKindLookup(rest),
      onChange: (served) => {
        changes.push(served);
      },
    });
    await watcher.start();
    expect(changes).toEqual([true]);
    answer = 503;
    expect(await watcher.check()).toBe(true);
    expect(changes).toEqual([true]);
    answer = 404;
    expect(await watcher.check()).toBe(false);
    expect(changes).toEqual([true, false]);
    watcher.stop();
  });

  it("reports the first answer and each change, polling on its interval and on demand", async () => {
    const clock = new ManualClock();
    let installed = false;
    let failing = false;
    let lookups = 0;
    const changes: boolean[] = [];
    const watcher = new DiscoveryWatcher({
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      intervalMs: 30_000,
      clock,
      lookup: () => {
        lookups++;
        if (failing) return Promise.reject(new Error("connection refused"));
        return Promise.resolve(installed ? scaledObjects : undefined);
      },
      onChange: (served) => {
        changes.push(served);
      },
    });
    await watcher.start();
    expect(changes).toEqual([false]);
    installed = true;
    clock.advance(29_999);
    await settle();
    expect(changes).toEqual([false]);
    clock.advance(1);
    await settle();
    expect(changes).toEqual([false, true]);
    // A failed poll keeps the last answer.
    failing = true;
    expect(await watcher.check()).toBe(true);
    expect(changes).toEqual([false, true]);
    failing = false;
    installed = false;
    expect(await watcher.check()).toBe(false);
    expect(changes).toEqual([false, true, false]);
    watcher.stop();
    const before = lookups;
    clock.advance(120_000);
    await settle();
    expect(lookups).toBe(before);
  });
});
