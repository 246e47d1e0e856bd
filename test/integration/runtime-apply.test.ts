import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Applier } from "../../src/runtime/apply.js";
import { withApplyHash } from "../../src/runtime/compare.js";
import { isAlreadyExists } from "../../src/runtime/errors.js";
import { Informer } from "../../src/runtime/informer.js";
import type { KubeObject } from "../../src/runtime/object.js";
import { KubeRestClient } from "../../src/runtime/rest.js";
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from "../support/cluster.js";

const HASH_ANNOTATION = "mlautoscale.io/applied-hash";

function desiredDeployment(
  namespace: string,
  image: string,
  extraEnv: Array<{ name: string; value: string }> = [],
) {
  return withApplyHash(
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "model-server", namespace, labels: { app: "model-server" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "model-server" } },
        template: {
          metadata: { labels: { app: "model-server" } },
          spec: {
            containers: [
              {
                name: "server",
                image,
                env: [{ name: "MODEL", value: "small" }, ...extraEnv],
                ports: [{ name: "http", containerPort: 8080 }],
                // The server stores these as "1", "1Gi" and "500m": equal quantities, different text.
                resources: {
                  requests: { cpu: "0.5", memory: "1024Mi" },
                  limits: { cpu: "1000m", memory: "1Gi" },
                },
              },
            ],
          },
        },
      },
    },
    HASH_ANNOTATION,
  );
}

describe("server-side apply helpers against a real API server", () => {
  let namespace: string;
  let applier: Applier;
  let deployments: Informer<KubeObject>;
  const apps = () => testKubeConfig().makeApiClient(AppsV1Api);

  beforeAll(async () => {
    namespace = await createTestNamespace("runtime-apply");
    applier = new Applier(new KubeRestClient(testKubeConfig()), { fieldManager: "mlautoscale-test" });
    deployments = new Informer<KubeObject>({
      rest: new KubeRestClient(testKubeConfig()),
      resource: { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments", namespaced: true },
      namespace,
    });
    deployments.start();
    await deployments.waitForSync();
  });

  afterAll(async () => {
    await deployments.stop();
    await deleteTestNamespace(namespace);
  });

  /** Waits until the cache holds the object at (at least) the given resourceVersion. */
  async function cachedAt(
    resourceVersion: string | undefined,
  ): Promise<ReturnType<typeof deployments.store.get>> {
    await vi.waitFor(
      () =>
        expect(deployments.store.get(namespace, "model-server")?.metadata?.resourceVersion).toBe(
          resourceVersion,
        ),
      15_000,
    );
    return deployments.store.get(namespace, "model-server");
  }

  it("reaches a steady state that makes zero writes, and writes again only on a real change", async () => {
    const first = await applier.applyIfChanged(desiredDeployment(namespace, "model:1"), undefined);
    expect(first.written).toBe(true);
    const created = await apps().readNamespacedDeployment({ namespace, name: "model-server" });
    expect(created.spec?.template.spec?.containers[0]?.resources?.limits).toEqual({
      cpu: "1",
      memory: "1Gi",
    });

    const writesBefore = applier.writeCount;
    for (let round = 0; round < 3; round++) {
      const live = await cachedAt(created.metadata?.resourceVersion);
      const outcome = await applier.applyIfChanged(desiredDeployment(namespace, "model:1"), live);
      expect(outcome.written).toBe(false);
    }
    expect(applier.writeCount).toBe(writesBefore);
    const after = await apps().readNamespacedDeployment({ namespace, name: "model-server" });
    expect(after.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);

    // A changed image is a change.
    const live = await cachedAt(created.metadata?.resourceVersion);
    const changed = await applier.applyIfChanged(desiredDeployment(namespace, "model:2"), live);
    expect(changed.written).toBe(true);
    const updated = await apps().readNamespacedDeployment({ namespace, name: "model-server" });
    expect(updated.spec?.template.spec?.containers[0]?.image).toBe("model:2");

    // Dropping a field is a change too (the hash annotation differs), and the apply removes it.
    const withExtra = await applier.applyIfChanged(
      desiredDeployment(namespace, "model:2", [{ name: "DEBUG", value: "1" }]),
      await cachedAt(updated.metadata?.resourceVersion),
    );
    expect(withExtra.written).toBe(true);
    const extraVersion = (await apps().readNamespacedDeployment({ namespace, name: "model-server" })).metadata
      ?.resourceVersion;
    const withoutExtra = await applier.applyIfChanged(
      desiredDeployment(namespace, "model:2"),
      await cachedAt(extraVersion),
    );
    expect(withoutExtra.written).toBe(true);
    const final = await apps().readNamespacedDeployment({ namespace, name: "model-server" });
    expect(final.spec?.template.spec?.containers[0]?.env?.map((variable) => variable.name)).toEqual([
      "MODEL",
    ]);
  });

  it("takes back a field someone else changed (force) and then is steady again", async () => {
    const live = await apps().readNamespacedDeployment({ namespace, name: "model-server" });
    await apps().replaceNamespacedDeployment({
      namespace,
      name: "model-server",
      body: { ...live, spec: live.spec && { ...live.spec, replicas: 5 } },
    });
    const drifted = await apps().readNamespacedDeployment({ namespace, name: "model-server" });
    const outcome = await applier.applyIfChanged(
      desiredDeployment(namespace, "model:2"),
      await cachedAt(drifted.metadata?.resourceVersion),
    );
    expect(outcome.written).toBe(true);
    const restored = await apps().readNamespacedDeployment({ namespace, name: "model-server" });
    expect(restored.spec?.replicas).toBe(2);
    const steady = await applier.applyIfChanged(
      desiredDeployment(namespace, "model:2"),
      await cachedAt(restored.metadata?.resourceVersion),
    );
    expect(steady.written).toBe(false);
  });

  it("stays at zero writes when the server keeps another manager's entry in a list the operator sets", async () => {
    const name = "kept-differently";
    const desired = () =>
      withApplyHash(
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name, namespace },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              spec: {
                containers: [{ name: "server", image: "model:1", env: [{ name: "MODEL", value: "small" }] }],
              },
            },
          },
        },
        HASH_ANNOTATION,
      );
    const liveNow = async () => {
      const resourceVersion = (await apps().readNamespacedDeployment({ namespace, name })).metadata
        ?.resourceVersion;
      await vi.waitFor(
        () => expect(deployments.store.get(namespace, name)?.metadata?.resourceVersion).toBe(resourceVersion),
        15_000,
      );
      const live = deployments.store.get(namespace, name);
      if (live === undefined) throw new Error("not cached");
      return live;
    };

    expect((await applier.applyIfChanged(desired(), undefined)).written).toBe(true);
    const writes = applier.writeCount;
    for (let round = 0; round < 2; round++) {
      expect((await applier.applyIfChanged(desired(), await liveNow())).written).toBe(false);
    }
    expect(applier.writeCount).toBe(writes);

    // Another field manager adds an entry to the container's env (a keyed list): ours stays as sent, the
    // other entry stays as that manager wants. One apply finds that out; the next ones are skipped.
    await new KubeRestClient(testKubeConfig()).request(
      "PATCH",
      `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
      {
        query: { fieldManager: "sidecar-injector" },
        contentType: "application/apply-patch+yaml",
        body: {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name, namespace },
          spec: {
            template: { spec: { containers: [{ name: "server", env: [{ name: "TRACING", value: "on" }] }] } },
          },
        },
      },
    );
    expect((await applier.applyIfChanged(desired(), await liveNow())).written).toBe(true);
    const settled = applier.writeCount;
    for (let round = 0; round < 2; round++) {
      expect((await applier.applyIfChanged(desired(), await liveNow())).written).toBe(false);
    }
    expect(applier.writeCount).toBe(settled);
    const env = (await apps().readNamespacedDeployment({ namespace, name })).spec?.template.spec
      ?.containers[0]?.env;
    expect(env?.map((variable) => variable.name).sort()).toEqual(["MODEL", "TRACING"]);

    // A real change of one of the operator's fields in that list is still seen and taken back.
    await apps().patchNamespacedDeployment(
      {
        namespace,
        name,
        body: [{ op: "replace", path: "/spec/template/spec/containers/0/env/0/value", value: "large" }],
      },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    expect((await applier.applyIfChanged(desired(), await liveNow())).written).toBe(true);
    const restored = (await apps().readNamespacedDeployment({ namespace, name })).spec?.template.spec
      ?.containers[0]?.env;
    expect(restored?.find((variable) => variable.name === "MODEL")?.value).toBe("small");
  });

  it("creates with a create: refused for a name already taken, one write; the first later apply owns (and drops) what it set", async () => {
    const core = testKubeConfig().makeApiClient(CoreV1Api);
    const configMap = (name: string, data: Record<string, string>): V1ConfigMap => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace },
      data,
    });
    await core.createNamespacedConfigMap({ namespace, body: configMap("taken", { theirs: "1" }) });
    const refused = await applier.create(configMap("taken", { ours: "1" })).catch((error: unknown) => error);
    expect(isAlreadyExists(refused)).toBe(true);
    expect((await core.readNamespacedConfigMap({ namespace, name: "taken" })).data).toEqual({ theirs: "1" });

    const before = applier.writeCount;
    const created = await applier.create(configMap("created", { a: "1", b: "2" }));
    expect(applier.writeCount).toBe(before + 1);
    const managers = async (): Promise<string[] | undefined> =>
      (await core.readNamespacedConfigMap({ namespace, name: "created" })).metadata?.managedFields?.map(
        (entry) => `${entry.manager ?? ""}/${entry.operation ?? ""}`,
      );
    expect(await managers()).toEqual(["mlautoscale-test/Update"]);

    // As the caches hold it: no managedFields.
    const { managedFields: _dropped, ...cachedMetadata } = created.metadata ?? {};
    const cached = { ...created, metadata: cachedMetadata };
    const outcome = await applier.applyIfChanged(configMap("created", { a: "3" }), cached);
    expect(outcome.written).toBe(true);
    expect((await core.readNamespacedConfigMap({ namespace, name: "created" })).data).toEqual({ a: "3" });
    expect(await managers()).toEqual(["mlautoscale-test/Apply"]);

    // Checked once per object: the next apply is one request.
    const afterFirst = applier.writeCount;
    expect(afterFirst).toBe(before + 3); // the create, the entry turned into an Apply entry, the apply
    const live = await core.readNamespacedConfigMap({ namespace, name: "created" });
    const { managedFields: _again, ...liveMetadata } = live.metadata ?? {};
    await applier.applyIfChanged(configMap("created", { a: "2" }), { ...live, metadata: liveMetadata });
    expect(applier.writeCount).toBe(afterFirst + 1);
    expect((await core.readNamespacedConfigMap({ namespace, name: "created" })).data).toEqual({ a: "2" });
  });

  it("applies to the status subresource without touching the spec", async () => {
    const before = await apps().readNamespacedDeployment({ namespace, name: "model-server" });
    await applier.applyStatus({
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace,
      name: "model-server",
      status: {
        observedGeneration: 42,
        conditions: [{ type: "Progressing", status: "True", reason: "Testing" }],
      },
    });
    const after = await apps().readNamespacedDeployment({ namespace, name: "model-server" });
    expect(after.status?.observedGeneration).toBe(42);
    expect(after.status?.conditions?.map((condition) => condition.reason)).toEqual(["Testing"]);
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    const statusManager = after.metadata?.managedFields?.find(
      (entry) => entry.manager === "mlautoscale-test" && entry.subresource === "status",
    );
    expect(statusManager?.operation).toBe("Apply");
  });

  it("deletes only the object with the given UID, never a namesake created since", async () => {
    const core = testKubeConfig().makeApiClient(CoreV1Api);
    const body = { metadata: { name: "namesake" }, data: { generation: "1" } };
    const original = await core.createNamespacedConfigMap({ namespace, body });
    await core.deleteNamespacedConfigMap({ namespace, name: "namesake" });
    const replacement = await core.createNamespacedConfigMap({ namespace, body });
    const reference = { apiVersion: "v1", kind: "ConfigMap", namespace, name: "namesake" };

    expect(await applier.deleteIfUid(reference, original.metadata?.uid ?? "")).toBe("uid-mismatch");
    const survivor = await core.readNamespacedConfigMap({ namespace, name: "namesake" });
    expect(survivor.metadata?.uid).toBe(replacement.metadata?.uid);

    expect(await applier.deleteIfUid(reference, replacement.metadata?.uid ?? "")).toBe("deleted");
    expect(await applier.deleteIfUid(reference, replacement.metadata?.uid ?? "")).toBe("not-found");
  });
});
