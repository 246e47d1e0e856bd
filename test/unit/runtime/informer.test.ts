import { describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import { KubeApiError } from "../../../src/runtime/errors.js";
import { createInformer, Informer, MultiNamespaceInformer } from "../../../src/runtime/informer.js";
import type { KubeObject } from "../../../src/runtime/object.js";
import type { JsonObject, Query, RequestOptions, WatchEvent } from "../../../src/runtime/rest.js";

const pods = { apiVersion: "v1", kind: "Pod", plural: "pods", namespaced: true };

function pod(name: string, resourceVersion: string, namespace = "ns"): JsonObject {
  return { metadata: { name, namespace, resourceVersion } };
}

interface OpenWatch {
  path: string;
  query: Query;
  emit(event: WatchEvent): void;
  end(): void;
}

/** A scripted API server: lists answer from a queue, watches stay open until the test ends them. */
class ScriptedRest {
  lists: Array<JsonObject[] | Error> = [];
  listPaths: string[] = [];
  watches: OpenWatch[] = [];

  request<T>(_method: string, path: string, _options?: RequestOptions): Promise<T> {
    this.listPaths.push(path);
    const next = this.lists.shift();
    if (next === undefined) return Promise.reject(new Error("no scripted list"));
    if (next instanceof Error) return Promise.reject(next);
    const response: unknown = {
      metadata: { resourceVersion: String(100 + this.listPaths.length) },
      items: next,
    };
    return Promise.resolve(response as T);
  }

  watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise((resolve) => {
      this.watches.push({ path, query, emit: onEvent, end: resolve });
      signal.addEventListener("abort", () => resolve());
    });
  }
}

async function settle(): Promise<void> {
  for (let round = 0; round < 10; round++) await new Promise((resolve) => setImmediate(resolve));
}

function names(informer: {
  store: { list(): ReadonlyArray<{ readonly metadata?: { readonly name?: string } }> };
}) {
  return informer.store
    .list()
    .map((object) => object.metadata?.name)
    .sort();
}

describe("Informer supervision", () => {
  it("watches from the list's resourceVersion with bookmarks and a server timeout", async () => {
    const rest = new ScriptedRest();
    rest.lists.push([pod("a", "5")]);
    const informer = new Informer<KubeObject>({
      rest,
      resource: pods,
      namespace: "ns",
      clock: new ManualClock(),
    });
    informer.start();
    await informer.waitForSync();
    await settle();
    expect(rest.listPaths).toEqual(["/api/v1/namespaces/ns/pods"]);
    expect(rest.watches[0]?.query).toMatchObject({
      resourceVersion: "101",
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
    });
    await informer.stop();
  });

  it("relists on a 410 ERROR event and reports objects that vanished meanwhile as deleted", async () => {
    const rest = new ScriptedRest();
    rest.lists.push([pod("a", "1"), pod("b", "1")], [pod("a", "2"), pod("c", "1")]);
    const informer = new Informer<KubeObject>({
      rest,
      resource: pods,
      namespace: "ns",
      clock: new ManualClock(),
    });
    const events: string[] = [];
    informer.addEventHandler({
      onAdd: (object) => events.push(`add ${object.metadata?.name}`),
      onUpdate: (_previous, object) => events.push(`update ${object.metadata?.name}`),
      onDelete: (object) => events.push(`delete ${object.metadata?.name}`),
    });
    informer.start();
    await informer.waitForSync();
    await settle();
    rest.watches[0]?.emit({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
    await settle();
    expect(informer.stats.goneWatches).toBe(1);
    expect(events).toEqual(["add a", "add b", "update a", "add c", "delete b"]);
    expect(names(informer)).toEqual(["a", "c"]);
    expect(rest.watches).toHaveLength(2);
    await informer.stop();
  });

  it("applies watch events, follows bookmarks, and re-watches from the last resourceVersion when the server ends the watch", async () => {
    const rest = new ScriptedRest();
    rest.lists.push([]);
    const informer = new Informer<KubeObject>({
      rest,
      resource: pods,
      namespace: "ns",
      clock: new ManualClock(),
    });
    informer.start();
    await informer.waitForSync();
    await settle();
    const first = rest.watches[0];
    first?.emit({ type: "ADDED", object: pod("a", "7") });
    first?.emit({ type: "MODIFIED", object: { ...pod("a", "8"), spec: { x: 1 } } });
    first?.emit({ type: "BOOKMARK", object: { metadata: { resourceVersion: "12" } } });
    first?.end();
    await settle();
    expect(informer.store.get("ns", "a")?.metadata?.resourceVersion).toBe("8");
    expect(informer.store.get("ns", "a")?.kind).toBe("Pod");
    expect(rest.watches[1]?.query.resourceVersion).toBe("12");
    rest.watches[1]?.emit({ type: "DELETED", object: pod("a", "13") });
    await settle();
    expect(informer.store.size()).toBe(0);
    // One list only: ending a watch is normal and needs no relist.
    expect(rest.listPaths).toHaveLength(1);
    await informer.stop();
  });

  it("backs off exponentially while listing fails, then syncs", async () => {
    const clock = new ManualClock();
    const rest = new ScriptedRest();
    rest.lists.push(new KubeApiError(503, "unavailable"), new KubeApiError(503, "unavailable"), [
      pod("a", "1"),
    ]);
    const informer = new Informer<KubeObject>({ rest, resource: pods, clock, backoffInitialMs: 800 });
    informer.start();
    await settle();
    expect(rest.listPaths).toHaveLength(1);
    clock.advance(799);
    await settle();
    expect(rest.listPaths).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(rest.listPaths).toHaveLength(2);
    clock.advance(1599);
    await settle();
    expect(informer.hasSynced()).toBe(false);
    clock.advance(1);
    await settle();
    expect(informer.hasSynced()).toBe(true);
    expect(rest.listPaths[0]).toBe("/api/v1/pods");
    await informer.stop();
  });

  it("aborts a watch that stays silent past the limit and watches again", async () => {
    const clock = new ManualClock();
    const rest = new ScriptedRest();
    rest.lists.push([]);
    const informer = new Informer<KubeObject>({ rest, resource: pods, clock, maxSilenceMs: 60_000 });
    informer.start();
    await informer.waitForSync();
    await settle();
    clock.advance(59_000);
    rest.watches[0]?.emit({ type: "BOOKMARK", object: { metadata: { resourceVersion: "150" } } });
    clock.advance(59_000);
    await settle();
    expect(rest.watches).toHaveLength(1);
    clock.advance(1_000);
    await settle();
    expect(informer.stats.silentWatches).toBe(1);
    expect(rest.watches).toHaveLength(2);
    expect(rest.watches[1]?.query.resourceVersion).toBe("150");
    await informer.stop();
  });

  it("keeps handlers safe from each other, replays the cache to late handlers, and stops even before watching", async () => {
    const rest = new ScriptedRest();
    rest.lists.push([pod("a", "1")]);
    const informer = new Informer<KubeObject>({ rest, resource: pods, clock: new ManualClock() });
    informer.addEventHandler({
      onAdd: () => {
        throw new Error("faulty handler");
      },
    });
    informer.start();
    await informer.waitForSync();
    const late = vi.fn();
    informer.addEventHandler({ onAdd: late });
    expect(late).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(informer.store.get("ns", "a"))).toBe(true);
    await informer.stop();
  });
});

describe("createInformer", () => {
  it("makes one informer per namespace behind one store", async () => {
    const rest = new ScriptedRest();
    rest.lists.push([pod("a", "1", "team-a")], [pod("b", "1", "team-b")]);
    const informer = createInformer<KubeObject>({ rest, resource: pods, clock: new ManualClock() }, [
      "team-a",
      "team-b",
    ]);
    expect(informer).toBeInstanceOf(MultiNamespaceInformer);
    informer.start();
    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(rest.listPaths.sort()).toEqual([
      "/api/v1/namespaces/team-a/pods",
      "/api/v1/namespaces/team-b/pods",
    ]);
    expect(names(informer)).toEqual(["a", "b"]);
    expect(informer.store.get("team-b", "b")).toBeDefined();
    expect(informer.store.list("team-a").map((object) => object.metadata?.name)).toEqual(["a"]);
    await informer.stop();
    expect(informer.isRunning()).toBe(false);
    expect(createInformer<KubeObject>({ rest, resource: pods }, ["only"])).toBeInstanceOf(Informer);
    expect(createInformer<KubeObject>({ rest, resource: pods })).toBeInstanceOf(Informer);
  });
});
