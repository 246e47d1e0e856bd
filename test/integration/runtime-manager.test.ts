import { CoreV1Api, type V1ConfigMap } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/observability/logger.js";
import { OperatorMetrics } from "../../src/observability/metrics.js";
import { ObservabilityServer } from "../../src/observability/server.js";
import { Applier } from "../../src/runtime/apply.js";
import { Controller } from "../../src/runtime/controller.js";
import { DiscoveryWatcher, restKindLookup } from "../../src/runtime/discovery.js";
import { Informer } from "../../src/runtime/informer.js";
import { restLeaseClient } from "../../src/runtime/leader-election.js";
import { Manager } from "../../src/runtime/manager.js";
import type { KubeObject } from "../../src/runtime/object.js";
import { controllerOwnerReference } from "../../src/runtime/ownerref.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from "../support/cluster.js";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const configMaps = { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true };

/**
 * A replica of a small operator: for each ConfigMap labelled role=source it keeps a ConfigMap
 * "<name>-copy" with the same data, owned by the source.
 */
function replica(namespace: string, identity: string, reconciled: string[]) {
  const rest = new KubeRestClient(testKubeConfig());
  const metrics = new OperatorMetrics({ processMetrics: false });
  const logger = createLogger({ level: "silent" });
  const applier = new Applier(new KubeRestClient(testKubeConfig()), { fieldManager: "copier" });
  const sources = new Informer<ConfigMap>({
    rest,
    resource: configMaps,
    namespace,
    labelSelector: "role=source",
  });
  const copies = new Informer<ConfigMap>({
    rest,
    resource: configMaps,
    namespace,
    labelSelector: "role=copy",
  });
  const controller = new Controller({
    name: "copier",
    logger,
    metrics: metrics.controller("copier"),
    queueMetrics: metrics.workQueue("copier"),
    reconciler: async (key) => {
      reconciled.push(`${identity}:${key.name}`);
      const source = sources.store.get(key.namespace, key.name);
      if (!source) return;
      const desired: V1ConfigMap = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name: `${key.name}-copy`,
          namespace: key.namespace,
          labels: { role: "copy" },
          ownerReferences: [controllerOwnerReference(source)],
        },
        data: { ...source.data },
      };
      await applier.applyIfChanged(desired, copies.store.get(key.namespace, `${key.name}-copy`));
    },
  });
  controller.watchPrimary(sources);
  controller.watchOwned(copies, { apiVersion: "v1", kind: "ConfigMap" });
  const manager = new Manager({
    logger,
    shutdownTimeoutMs: 10_000,
    leaderElection: {
      client: restLeaseClient(rest),
      namespace,
      name: "copier-leader",
      identity,
      leaseDurationMs: 30_000,
      renewDeadlineMs: 20_000,
      retryPeriodMs: 500,
    },
  });
  manager.addInformer("sources", sources);
  manager.addInformer("copies", copies);
  manager.addController(controller);
  const server = new ObservabilityServer({
    registry: metrics.registry,
    ...manager.healthChecks(),
    port: 0,
    host: "127.0.0.1",
  });
  return { manager, applier, server };
}

async function get(port: number | undefined, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port ?? 0}${path}`);
  return { status: response.status, body: await response.text() };
}

describe("Manager against a real API server", () => {
  let namespace: string;
  let core: CoreV1Api;

  beforeAll(async () => {
    namespace = await createTestNamespace("runtime-manager");
    core = testKubeConfig().makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  const readCopy = (): Promise<V1ConfigMap> =>
    core.readNamespacedConfigMap({ namespace, name: "settings-copy" });

  it("runs controllers only on the leader, serves health and metrics, and hands over on shutdown", async () => {
    const reconciled: string[] = [];
    const first = replica(namespace, "replica-1", reconciled);
    const second = replica(namespace, "replica-2", reconciled);
    const firstPort = await first.server.start();
    const secondPort = await second.server.start();
    await first.manager.start();
    await vi.waitFor(() => expect(first.manager.isLeader()).toBe(true), 15_000);
    await second.manager.start();

    // Both replicas are ready (caches synced), whichever leads.
    expect((await get(firstPort, "/readyz")).status).toBe(200);
    expect((await get(secondPort, "/readyz")).status).toBe(200);
    expect((await get(secondPort, "/healthz")).status).toBe(200);

    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "settings", labels: { role: "source" } }, data: { mode: "fast" } },
    });
    await vi.waitFor(async () => expect((await readCopy()).data).toEqual({ mode: "fast" }), 15_000);
    const copy = await readCopy();
    expect(copy.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "ConfigMap",
      name: "settings",
      controller: true,
    });

    // A deleted child wakes its owner through the owner mapping, and comes back.
    await core.deleteNamespacedConfigMap({ namespace, name: "settings-copy" });
    await vi.waitFor(
      async () => expect((await readCopy()).metadata?.uid).not.toBe(copy.metadata?.uid),
      15_000,
    );
    expect(reconciled.every((entry) => entry.startsWith("replica-1:"))).toBe(true);

    const metrics = (await get(firstPort, "/metrics")).body;
    expect(metrics).toMatch(
      /controller_runtime_reconcile_total\{controller="copier",result="success"\} [1-9]/,
    );
    expect(metrics).toMatch(/workqueue_adds_total\{name="copier",controller="copier"\} [1-9]/);
    expect(metrics).toContain('controller_runtime_max_concurrent_reconciles{controller="copier"} 1');

    // Graceful shutdown releases the lease: the second replica takes over well before it would expire.
    await first.manager.stop("test");
    await vi.waitFor(() => expect(second.manager.isLeader()).toBe(true), 15_000);
    await core.replaceNamespacedConfigMap({
      namespace,
      name: "settings",
      body: { metadata: { name: "settings", labels: { role: "source" } }, data: { mode: "safe" } },
    });
    await vi.waitFor(async () => expect((await readCopy()).data).toEqual({ mode: "safe" }), 15_000);
    expect(reconciled.some((entry) => entry.startsWith("replica-2:"))).toBe(true);
    await second.manager.stop("test");
    await Promise.all([first.server.stop(), second.server.stop()]);
  });

  it("reports whether KEDA's ScaledObject kind is served", async () => {
    const answers: boolean[] = [];
    const lookup = restKindLookup(new KubeRestClient(testKubeConfig()));
    const keda = new DiscoveryWatcher({
      lookup,
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      onChange: (served) => {
        answers.push(served);
      },
    });
    await keda.start();
    keda.stop();
    expect(answers).toEqual([true]);
    const missing = new DiscoveryWatcher({
      lookup,
      apiVersion: "keda.sh/v1alpha1",
      kind: "NoSuchKind",
      onChange: (served) => {
        answers.push(served);
      },
    });
    await missing.start();
    missing.stop();
    expect(answers).toEqual([true, false]);
    expect((await lookup("keda.sh/v1alpha1", "ScaledObject"))?.plural).toBe("scaledobjects");
    expect(await lookup("nothing.example/v1", "Thing")).toBeUndefined();
  });
});
