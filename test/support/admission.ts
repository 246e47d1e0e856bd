// Policies and rendered children put to the real API server's admission (schema, CEL rules, strict field
// validation), for the suites that run against each Kubernetes version.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiException, CustomObjectsApi, VersionApi, type KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { GROUP, parsePolicy, PLURAL, VERSION, type MLAutoscalePolicy } from "../../src/api/v1alpha1/index.js";
import {
  kubernetesFeatures,
  type KubernetesFeatures,
} from "../../src/controllers/mlautoscalepolicy/desired/index.js";
import { quantitiesEqual } from "../../src/runtime/quantity.js";
import { parseServerVersion, type ServerVersion } from "../../src/runtime/server-version.js";
import type { JsonObject } from "../fixtures/invalid-policies.js";
import { kubectl, testKubeConfig } from "./cluster.js";

/** The test cluster's kube-apiserver version. */
export async function serverVersion(): Promise<ServerVersion> {
  return parseServerVersion(await testKubeConfig().makeApiClient(VersionApi).getCode());
}

/** What the test cluster's Kubernetes version can take: what the operator builds the children for. */
export async function serverFeatures(): Promise<KubernetesFeatures> {
  const version = await serverVersion();
  return kubernetesFeatures(version, version.gitVersion);
}

const examplesDir = fileURLToPath(new URL("../../examples/", import.meta.url));

/** Every policy of examples/*.yaml, with its file name. */
export function examplePolicies(): { file: string; value: JsonObject }[] {
  return readdirSync(examplesDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((file) => {
      const documents = parseAllDocuments(readFileSync(join(examplesDir, file), "utf8"));
      if (!Array.isArray(documents)) throw new Error(`${file}: not a YAML stream`);
      return documents.map((d) => ({ file, value: d.toJS() as JsonObject }));
    });
}

export function withNamespace(policy: JsonObject, namespace: string): JsonObject {
  const metadata = policy["metadata"];
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new Error("policy without metadata");
  }
  return { ...policy, metadata: { ...metadata, namespace } };
}

/** A copy of an example named per KEDA case, so both cases of one example can exist in one namespace. */
export function namedFor(value: JsonObject, namespace: string, keda: string): JsonObject {
  const metadata = value["metadata"] as { name: string };
  return withNamespace({ ...value, metadata: { ...metadata, name: `${metadata.name}-${keda}` } }, namespace);
}

/** The message of the API server's Status, or the error's own text. */
export function serverMessage(error: unknown): string {
  if (!(error instanceof ApiException)) return error instanceof Error ? error.message : String(error);
  let body: unknown = error.body;
  if (typeof error.body === "string") {
    const text = error.body;
    try {
      body = JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (typeof body === "object" && body !== null && "message" in body && typeof body.message === "string") {
    return body.message;
  }
  return `HTTP ${error.code}`;
}

export type CreateOutcome =
  { accepted: true; object: JsonObject } | { accepted: false; code: number; message: string };

/** Creates a policy with strict field validation (or a dry run of it); the server's verdict. */
export async function createPolicy(
  namespace: string,
  policy: JsonObject,
  dryRun: boolean,
): Promise<CreateOutcome> {
  const api = testKubeConfig().makeApiClient(CustomObjectsApi);
  try {
    const created: unknown = await api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      body: withNamespace(policy, namespace),
      fieldValidation: "Strict",
      ...(dryRun && { dryRun: "All" }),
    });
    return { accepted: true, object: created as JsonObject };
  } catch (error) {
    if (error instanceof ApiException)
      return { accepted: false, code: error.code, message: serverMessage(error) };
    throw error;
  }
}

/** The policy as the controller sees it: stored, defaulted, with a UID, so children carry owner refs. */
export async function storedPolicy(namespace: string, value: JsonObject): Promise<MLAutoscalePolicy> {
  const outcome = await createPolicy(namespace, value, false);
  if (!outcome.accepted) throw new Error(outcome.message);
  const parsed = parsePolicy(outcome.object);
  if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
  if (!/^[0-9a-f-]{36}$/.test(parsed.policy.metadata.uid ?? "")) {
    throw new Error(`the stored policy has no UID: ${JSON.stringify(parsed.policy.metadata)}`);
  }
  return parsed.policy;
}

/**
 * Creates the object with a server-side dry run. Returns the API server's error, or the fields the server
 * dropped or changed (a disabled feature gate drops fields silently, even with strict validation); "" when
 * the server took it as written.
 */
export async function dryRunCreate(namespace: string, object: KubernetesObject): Promise<string> {
  // --validate=strict: an unknown or misspelt field in a child is an error, not a dropped field.
  const result = await kubectl(["create", "--dry-run=server", "--validate=strict", "-o", "json", "-f", "-"], {
    input: JSON.stringify(object),
    namespace,
  });
  if (result.code !== 0) return result.stderr.trim();
  const stored = JSON.parse(result.stdout) as unknown;
  return notKept(object, stored, "").join("; ");
}

/** Paths of `written` whose values `stored` does not hold (extra fields in `stored` are defaults). */
export function notKept(written: unknown, stored: unknown, path: string): string[] {
  if (Array.isArray(written)) {
    if (!Array.isArray(stored) || stored.length !== written.length)
      return [`${path}: ${JSON.stringify(stored)}`];
    return written.flatMap((w, i) => notKept(w, stored[i], `${path}[${i}]`));
  }
  if (typeof written === "object" && written !== null) {
    if (typeof stored !== "object" || stored === null) return [`${path}: missing`];
    return Object.entries(written).flatMap(([key, value]) =>
      notKept(value, (stored as Record<string, unknown>)[key], `${path}.${key}`),
    );
  }
  if (written === stored) return [];
  // The API server stores quantities in canonical form ("1.5Gi" becomes "1536Mi"); the value is the same.
  if (typeof written === "string" && typeof stored === "string" && quantitiesEqual(written, stored))
    return [];
  return [`${path}: wrote ${JSON.stringify(written)}, stored ${JSON.stringify(stored)}`];
}
