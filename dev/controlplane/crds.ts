import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  ApiException,
  ApiextensionsV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { waitFor } from "./net.js";

/** YAML files named directly or found (not recursively) in the folders named; missing paths are skipped. */
export function yamlFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (/\.ya?ml$/.test(entry)) files.push(join(path, entry));
      }
    } else {
      files.push(path);
    }
  }
  return files;
}

function isCrd(document: unknown): document is V1CustomResourceDefinition {
  return (
    typeof document === "object" &&
    document !== null &&
    "kind" in document &&
    document.kind === "CustomResourceDefinition" &&
    "apiVersion" in document &&
    document.apiVersion === "apiextensions.k8s.io/v1"
  );
}

export interface CrdSource {
  file: string;
  crd: V1CustomResourceDefinition;
}

export function readCrds(files: string[]): CrdSource[] {
  return files.flatMap((file) =>
    // loadAllYaml maps YAML keys such as x-kubernetes-int-or-string to the client's model fields; a plain
    // YAML parse would lose them when the client serializes the model back, and the server would refuse
    // the schema.
    parseCrdFile(file)
      .filter(isCrd)
      .map((crd) => ({ file, crd })),
  );
}

function parseCrdFile(file: string): unknown[] {
  try {
    const documents: unknown[] = loadAllYaml(readFileSync(file, "utf8"));
    return documents;
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The API server's own message from a failed request, rather than the client's generic one. */
function serverMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = typeof error.body === "string" ? safeJson(error.body) : error.body;
    if (typeof body === "object" && body !== null && "message" in body && typeof body.message === "string") {
      return `HTTP ${error.code}: ${body.message}`;
    }
    return `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Server-side apply, so a CRD too large for the last-applied annotation of client-side apply (KEDA's
 * ScaledJob is ~667 KB) installs, and re-installing into an existing cluster updates in place.
 */
export async function installCrds(kubeConfig: KubeConfig, sources: CrdSource[]): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const { file, crd } of sources) {
    try {
      await objects.patch(
        crd,
        undefined,
        undefined,
        "mlautoscale-controlplane",
        true,
        PatchStrategy.ServerSideApply,
      );
    } catch (error) {
      throw new Error(
        `installing CRD ${crd.metadata?.name ?? "(unnamed)"} from ${file} failed: ${serverMessage(error)}`,
      );
    }
  }
}

export async function waitForCrdsEstablished(
  kubeConfig: KubeConfig,
  names: string[],
  timeoutMs: number,
): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  await Promise.all(
    names.map((name) =>
      waitFor(
        `CRD ${name} to be Established`,
        async () => {
          const crd = await api.readCustomResourceDefinition({ name });
          const established = crd.status?.conditions?.find((condition) => condition.type === "Established");
          return established?.status === "True" ? true : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      ),
    ),
  );
}
