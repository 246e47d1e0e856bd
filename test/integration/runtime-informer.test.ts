import { CoreV1Api, KubernetesObjectApi, type V1ConfigMap } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Informer } from "../../src/runtime/informer.js";
import type { DeepReadonly } from "../../src/runtime/object.js";
import { KubeRestClient, type Query, type WatchEvent } from "../../src/runtime/rest.js";
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from "../support/cluster.js";

interface ConfigMap {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

type Events = Array<{ type: "add" | "update" | "delete"; name: string; value?: string }>;

/** A REST client whose watches can be tampered with, to stage failures against the real server. */
class TamperingRestClient {
  watchCalls = 0;
  constructor(
    private readonly inner: KubeRestClient,
    private readonly tamper: (call: number, query: Query) => { query: Query; swallow: boolean },
  ) {}

  request: KubeRestClient["request"] = (method, path, options) => this.inner.request(method, path, options);

  watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.watchCalls++;
    const change = this.tamper(this.watchCalls, query);
    return this.inner.watch(path, change.query, change.swallow ? () => {} : onEvent, signal);
  }
}

function recordEvents(informer: Informer<ConfigMap>): Events {
  const events: Events = [];
  informer.addEventHandler({
    onAdd: (object) =>
      events.push({ type: "add", name: object.metadata?.name ?? "", value: object.data?.value }),
    onUpdate: (_previous, current) =>
      events.push({ type: "update", name: current.metadata?.name ?? "", value: current.data?.value }),
    onDelete: (object) => events.push({ type: "delete", name: object.metadata?.name ?? "" }),
  });
  return events;
}

describe("Informer against a real API server", () => {
  let namespace: string;
  let core: CoreV1Api;
  let rest: KubeRestClient;
  const configMapType = { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true };

  const createConfigMap = (name: string, value: string): Promise<V1ConfigMap> =>
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { value } } });

  beforeAll(async () => {
    namespace = await createTestNamespace("runtime-informer");
    core = testKubeConfig().makeApiClient(CoreV1Api);
    rest = new KubeRestClient(testKubeConfig());
  });

  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  it("syncs existing objects, then delivers add, update and delete events", async () => {
    await createConfigMap("before-start", "1");
    // Kind given as apiVersion+kind only: the informer resolves it through discovery.
    const informer = new Informer<ConfigMap>({
      rest,
      resource: { apiVersion: "v1", kind: "ConfigMap" },
      namespace,
    });
    const events = recordEvents(informer);
    informer.start();
    try {
      await informer.waitForSync();
      expect(informer.hasSynced()).toBe(true);
      expect(informer.store.get(namespace, "before-start")?.data?.value).toBe("1");
      expect(events).toContainEqual({ type: "add", name: "before-start", value: "1" });

      await createConfigMap("live", "a");
      await vi.waitFor(
        () => expect(events).toContainEqual({ type: "add", name: "live", value: "a" }),
        15_000,
      );
      await core.replaceNamespacedConfigMap({
        namespace,
        name: "live",
        body: { metadata: { name: "live" }, data: { value: "b" } },
      });
      await vi.waitFor(
        () => expect(events).toContainEqual({ type: "update", name: "live", value: "b" }),
        15_000,
      );
      // Delivered by the watch, and cached without the managedFields the server sent.
      expect(informer.store.get(namespace, "live")?.metadata).not.toHaveProperty("managedFields");
      await core.deleteNamespacedConfigMap({ namespace, name: "live" });
      await vi.waitFor(() => expect(events).toContainEqual({ type: "delete", name: "live" }), 15_000);
      expect(informer.store.get(namespace, "live")).toBeUndefined();

      const cached: DeepReadonly<ConfigMap> | undefined = informer.store.get(namespace, "before-start");
      expect(cached?.kind).toBe("ConfigMap");
      expect(Object.isFrozen(cached?.data)).toBe(true);
      // The server keeps managedFields on every object; the listed copy is cached without them.
      const live = await core.readNamespacedConfigMap({ namespace, name: "before-start" });
      expect(live.metadata?.managedFields?.length).toBeGreaterThan(0);
      for (const object of informer.store.list()) expect(object.metadata).not.toHaveProperty("managedFields");
    } finally {
      await informer.stop();
    }
  });

  it("relists after the server answers 410 Gone to a watch with a too-old resourceVersion", async () => {
    // A custom resource's watch cache starts when its CRD is established, so resourceVersion 1 is
    // older than anything it holds and the server ends the watch with an ERROR event, code 410.
    const triggerAuthentications = {
      apiVersion: "keda.sh/v1alpha1",
      kind: "TriggerAuthentication",
      plural: "triggerauthentications",
      namespaced: true,
    };
    const objects = KubernetesObjectApi.makeApiClient(testKubeConfig());
    const createTriggerAuthentication = (name: string) =>
      objects.create({
        apiVersion: "keda.sh/v1alpha1",
        kind: "TriggerAuthentication",
        metadata: { name, namespace },
        spec: { secretTargetRef: [{ parameter: "token", name: "credentials", key: "token" }] },
      });
    await createTriggerAuthentication("before-start");
    const tampering = new TamperingRestClient(rest, (call, query) => ({
      query: call === 1 ? { ...query, resourceVersion: "1" } : query,
      swallow: false,
    }));
    const informer = new Informer<ConfigMap>({
      rest: tampering,
      resource: triggerAuthentications,
      namespace,
      backoffInitialMs: 50,
    });
    const events = recordEvents(informer);
    informer.start();
    try {
      await informer.waitForSync();
      await vi.waitFor(() => expect(informer.stats.goneWatches).toBe(1), 15_000);
      await vi.waitFor(() => expect(informer.stats.lists).toBe(2), 15_000);
      await createTriggerAuthentication("after-relist");
      await vi.waitFor(() => expect(events).toContainEqual({ type: "add", name: "after-relist" }), 15_000);
      // The relist found nothing new, so it raised no duplicate add for what the first list loaded.
      expect(events.filter((event) => event.name === "before-start")).toEqual([
        { type: "add", name: "before-start" },
      ]);
      expect(tampering.watchCalls).toBeGreaterThanOrEqual(2);
    } finally {
      await informer.stop();
    }
  });

  it("restarts a watch that stays silent too long and catches up on what it missed", async () => {
    // The first watch is connected but its events are lost, as with a half-open TCP connection.
    const tampering = new TamperingRestClient(rest, (call, query) => ({ query, swallow: call === 1 }));
    const informer = new Informer<ConfigMap>({
      rest: tampering,
      resource: configMapType,
      namespace,
      maxSilenceMs: 1500,
      backoffInitialMs: 50,
    });
    const events = recordEvents(informer);
    informer.start();
    try {
      await informer.waitForSync();
      await createConfigMap("during-silence", "y");
      await vi.waitFor(
        () => expect(events).toContainEqual({ type: "add", name: "during-silence", value: "y" }),
        20_000,
      );
      expect(informer.stats.silentWatches).toBeGreaterThanOrEqual(1);
      expect(tampering.watchCalls).toBeGreaterThanOrEqual(2);
    } finally {
      await informer.stop();
    }
  });

  it("keeps retrying with back-off while a kind is not served, and stops cleanly", async () => {
    const informer = new Informer<ConfigMap>({
      rest,
      resource: { apiVersion: "example.invalid/v1", kind: "Missing" },
      backoffInitialMs: 50,
      backoffMaxMs: 200,
    });
    informer.start();
    try {
      await vi.waitFor(() => expect(informer.stats.failures).toBeGreaterThanOrEqual(3), 15_000);
      expect(informer.hasSynced()).toBe(false);
    } finally {
      await informer.stop();
    }
    expect(informer.isRunning()).toBe(false);
  });
});
