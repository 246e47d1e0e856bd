// Objects the harness writes into its own cluster (add-on registrations, namespaces): server-side apply
// as the admin, so starting an add-on again updates them in place.
import type { KubeConfig } from "@kubernetes/client-node";
import { discoverResource, KubeRestClient, objectPath, type ResourceType } from "../../src/runtime/rest.js";
import { isNotFound } from "../../src/runtime/errors.js";

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

const FIELD_MANAGER = "mlautoscale-controlplane";

export class ClusterObjects {
  private readonly rest: KubeRestClient;
  private readonly types = new Map<string, ResourceType>();

  constructor(kubeConfig: KubeConfig) {
    this.rest = new KubeRestClient(kubeConfig);
  }

  async apply(...objects: ManifestObject[]): Promise<void> {
    for (const object of objects) {
      const path = await this.path(object);
      try {
        await this.rest.request("PATCH", path, {
          query: { fieldManager: FIELD_MANAGER, force: true },
          contentType: "application/apply-patch+yaml",
          body: object,
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`applying ${object.kind} ${object.metadata.name}: ${message}`);
      }
    }
  }

  /** GET of one object; undefined when it does not exist. */
  async get<T>(object: Pick<ManifestObject, "apiVersion" | "kind" | "metadata">): Promise<T | undefined> {
    try {
      return await this.rest.request<T>("GET", await this.path(object));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async delete(object: Pick<ManifestObject, "apiVersion" | "kind" | "metadata">): Promise<void> {
    try {
      await this.rest.request("DELETE", await this.path(object));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private async path(object: Pick<ManifestObject, "apiVersion" | "kind" | "metadata">): Promise<string> {
    const key = `${object.apiVersion}/${object.kind}`;
    let type = this.types.get(key);
    if (type === undefined) {
      type = await discoverResource(this.rest, object.apiVersion, object.kind);
      if (type === undefined) throw new Error(`${object.apiVersion} ${object.kind} is not served`);
      this.types.set(key, type);
    }
    return objectPath(type, object.metadata.namespace, object.metadata.name);
  }
}

/**
 * How kube-apiserver reaches an aggregated API server or a webhook that runs as a host process: a Service
 * of type ExternalName to localhost, with the host port in the APIService's or webhook's service.port.
 * Without --enable-aggregator-routing, ResolveCluster (k8s.io/apiserver/pkg/util/proxy) dials
 * <externalName>:<port> for such a Service; Endpoints at 127.0.0.1 would be refused by validation. The
 * TLS server name is still <name>.<namespace>.svc, which the serving certificate carries (pki.ts).
 */
export function externalNameService(namespace: string, name: string): ManifestObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: { type: "ExternalName", externalName: "localhost" },
  };
}

export function namespace(name: string): ManifestObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}
