import type { KubeConfig } from "@kubernetes/client-node";
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from "@kubernetes/client-node";
import { needsApply } from "./compare.js";
import { asKubeApiError, isConflict, isNotFound } from "./errors.js";
import { discoverResource, KubeRestClient, objectPath, type JsonObject, type ResourceType } from "./rest.js";

/** Identifies an object to act on. */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export type DeleteOutcome = "deleted" | "not-found" | "uid-mismatch";

export interface ApplyOutcome<T> {
  /** False when the live object already matched and no request was sent. */
  written: boolean;
  object: T;
}

/**
 * Writes objects with server-side apply under one field manager, always forcing: the operator owns
 * the fields it sets and takes them back from anyone who changed them. All writes of the operator go
 * through here, so `writeCount` counts them.
 */
export class Applier {
  readonly fieldManager: string;
  private readonly objectApi: KubernetesObjectApi;
  private readonly rest: KubeRestClient;
  private readonly resourceTypes = new Map<string, ResourceType>();
  private writes = 0;

  constructor(kubeConfig: KubeConfig, options: { fieldManager: string; rest?: KubeRestClient }) {
    this.fieldManager = options.fieldManager;
    this.objectApi = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.rest = options.rest ?? new KubeRestClient(kubeConfig);
  }

  /** Requests sent that could change something (applies and deletes). */
  get writeCount(): number {
    return this.writes;
  }

  /**
   * Server-side applies `object` (Content-Type application/apply-patch+yaml, force=true). A refusal is
   * thrown as a KubeApiError carrying the API server's message (an admission webhook's reason included).
   */
  async apply<T extends KubernetesObject>(object: T): Promise<T> {
    this.writes++;
    try {
      return await this.objectApi.patch(
        object,
        undefined,
        undefined,
        this.fieldManager,
        true,
        PatchStrategy.ServerSideApply,
      );
    } catch (error) {
      throw asKubeApiError(error);
    }
  }

  /** Applies `desired` only when it differs from `live` in the fields it sets. */
  async applyIfChanged<T extends KubernetesObject, Live>(
    desired: T,
    live: Live | undefined,
  ): Promise<ApplyOutcome<T | Live>> {
    if (live !== undefined && !needsApply(desired, live)) return { written: false, object: live };
    return { written: true, object: await this.apply(desired) };
  }

  /**
   * Server-side applies to the status subresource. `object` holds apiVersion, kind, metadata
   * name/namespace and the status fields this manager owns.
   */
  async applyStatus(object: ObjectReference & { status: unknown }): Promise<JsonObject> {
    const { apiVersion, kind, namespace, name, status } = object;
    const type = await this.resourceType(apiVersion, kind);
    this.writes++;
    return this.rest.request("PATCH", `${objectPath(type, namespace, name)}/status`, {
      query: { fieldManager: this.fieldManager, force: true },
      // JSON is YAML, so the apply content type takes it as is.
      contentType: PatchStrategy.ServerSideApply,
      body: { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, status },
    });
  }

  /**
   * Deletes the object only if it is still the one with `uid`: if it was deleted and re-created
   * under the same name by someone else, the API server refuses (409) and nothing is deleted.
   * Orphan propagation leaves the object's dependents in place (their owner reference is removed).
   */
  async deleteIfUid(
    reference: ObjectReference,
    uid: string,
    propagationPolicy: "Background" | "Foreground" | "Orphan" = "Background",
  ): Promise<DeleteOutcome> {
    this.writes++;
    try {
      await this.objectApi.delete(
        {
          apiVersion: reference.apiVersion,
          kind: reference.kind,
          metadata: { name: reference.name, namespace: reference.namespace },
        },
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        // In the body: the API server reads DeleteOptions from the body when there is one, not from the query.
        { preconditions: { uid }, propagationPolicy },
      );
      return "deleted";
    } catch (error) {
      if (isNotFound(error)) return "not-found";
      if (isConflict(error)) return "uid-mismatch";
      throw error;
    }
  }

  private async resourceType(apiVersion: string, kind: string): Promise<ResourceType> {
    const cacheKey = `${apiVersion}/${kind}`;
    const cached = this.resourceTypes.get(cacheKey);
    if (cached) return cached;
    const type = await discoverResource(this.rest, apiVersion, kind);
    if (!type) throw new Error(`${apiVersion} ${kind} is not served`);
    this.resourceTypes.set(cacheKey, type);
    return type;
  }
}
