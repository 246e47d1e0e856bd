import { join } from "node:path";
import { ApiException, ApiextensionsV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../dev/controlplane/binaries.js";
import { readCrds, yamlFiles } from "../../dev/controlplane/crds.js";
import { createTestNamespace, deleteTestNamespace, kubectl, testKubeConfig } from "../support/cluster.js";

const KEDA_CRDS = [
  "scaledobjects.keda.sh",
  "scaledjobs.keda.sh",
  "triggerauthentications.keda.sh",
  "clustertriggerauthentications.keda.sh",
];
const ourCrdNames = readCrds(yamlFiles([join(repoRoot, "crds")])).map(({ crd }) => crd.metadata?.name ?? "");

async function isEstablished(name: string): Promise<boolean> {
  const crd = await testKubeConfig().makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name });
  return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
}

/** The HTTP status the API server answered a create with (201 when it accepted the object). */
async function createStatus(namespace: string, plural: string, body: object): Promise<number> {
  const api = testKubeConfig().makeApiClient(CustomObjectsApi);
  try {
    await api.createNamespacedCustomObject({
      group: "keda.sh",
      version: "v1alpha1",
      namespace,
      plural,
      body,
    });
    return 201;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describe("integration control plane", () => {
  let namespace = "";
  beforeAll(async () => {
    namespace = await createTestNamespace("controlplane");
  });
  afterAll(async () => {
    await deleteTestNamespace(namespace);
  });

  it("serves the pinned Kubernetes version to the pinned kubectl", async () => {
    const result = await kubectl(["version", "--output=json"]);
    expect(result.code, result.stderr).toBe(0);
    const versions = JSON.parse(result.stdout) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string; minor: string };
    };
    expect(versions.serverVersion.gitVersion).toBe("v1.35.4");
    expect(versions.serverVersion.minor).toBe("35");
    expect(versions.clientVersion.gitVersion).toBe("v1.35.4");
  });

  it.each(KEDA_CRDS)("has KEDA's %s CRD Established", async (name) => {
    expect(await isEstablished(name)).toBe(true);
  });

  it.skipIf(ourCrdNames.length === 0).each(ourCrdNames)("has our %s CRD Established", async (name) => {
    expect(await isEstablished(name)).toBe(true);
  });

  const scaledObject = (spec: object): object => ({
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { generateName: "so-" },
    spec,
  });
  const cpuTrigger = { type: "cpu", metricType: "Utilization", metadata: { value: "60" } };

  it("accepts a valid ScaledObject", async () => {
    const status = await createStatus(
      namespace,
      "scaledobjects",
      scaledObject({ scaleTargetRef: { name: "model-server" }, triggers: [cpuTrigger] }),
    );
    expect(status).toBe(201);
  });

  it("rejects a ScaledObject without scaleTargetRef", async () => {
    expect(await createStatus(namespace, "scaledobjects", scaledObject({ triggers: [cpuTrigger] }))).toBe(
      422,
    );
  });

  it("rejects a ScaledObject whose minReplicaCount is not an integer", async () => {
    const status = await createStatus(
      namespace,
      "scaledobjects",
      scaledObject({
        scaleTargetRef: { name: "model-server" },
        minReplicaCount: "two",
        triggers: [cpuTrigger],
      }),
    );
    expect(status).toBe(422);
  });

  const triggerAuthentication = (secretTargetRef: object[]): object => ({
    apiVersion: "keda.sh/v1alpha1",
    kind: "TriggerAuthentication",
    metadata: { generateName: "ta-" },
    spec: { secretTargetRef },
  });

  it("accepts a valid TriggerAuthentication", async () => {
    const ref = { parameter: "password", name: "queue-secret", key: "password" };
    expect(await createStatus(namespace, "triggerauthentications", triggerAuthentication([ref]))).toBe(201);
  });

  it("rejects a TriggerAuthentication whose secretTargetRef lacks its key", async () => {
    const ref = { parameter: "password", name: "queue-secret" };
    expect(await createStatus(namespace, "triggerauthentications", triggerAuthentication([ref]))).toBe(422);
  });
});
