import type { KubernetesObject, V1ManagedFieldsEntry } from "@kubernetes/client-node";
import { canonicalJson, contentHash, differingPaths, valueAt, type FieldPath } from "./compare.js";
import type { DeepReadonly, KubeObject } from "./object.js";
import { isConflict, isNotFound, KubeApiError } from "./errors.js";
import {
  collectionPath,
  discoverResource,
  type KubeRestClient,
  objectPath,
  type ResourceType,
} from "./rest.js";

/** How many objects' kept differences the Applier remembers at most. */
const MAX_KEPT_DIFFERENTLY = 10_000;

/** The values of `object` at `paths`, comparable as a string. */
function keptAt(object: unknown, paths: readonly FieldPath[]): string {
  return canonicalJson(paths.map((path) => valueAt(object, path) ?? null));
}

/** Server-side apply's patch type; JSON is YAML, so the body is sent as JSON. */
const APPLY_PATCH = "application/apply-patch+yaml";

/** Identifies an object to act on. */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export type DeleteOutcome = "deleted" | "not-found" | "uid-mismatch";

/** The API server's answer to a write, or the live object when it already matched and nothing was sent. */
export type ApplyOutcome<T, Live> = { written: true; object: T } | { written: false; object: Live };

/**
 * Writes objects with server-side apply under one field manager, always forcing: the operator owns
 * the fields it sets and takes them back from anyone who changed them. All writes of the operator go
 * through here, so `writeCount` counts them.
 */
export class Applier {
  readonly fieldManager: string;
  private readonly resourceTypes = new Map<string, ResourceType>();
  private writes = 0;

  constructor(
    private readonly rest: KubeRestClient,
    options: { fieldManager: string },
  ) {
    this.fieldManager = options.fieldManager;
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
    const type = await this.resourceType(object.apiVersion ?? "", object.kind ?? "");
    this.writes++;
    return this.rest.request<T>(
      "PATCH",
      objectPath(type, object.metadata?.namespace, object.metadata?.name ?? ""),
      {
        query: { fieldManager: this.fieldManager, force: true },
        contentType: APPLY_PATCH,
        body: object,
      },
    );
  }

  /**
   * Applies `desired` only when it differs from `live` in the fields it sets, and not when the only
   * differences are those the API server kept after the last apply of this very content: a field it drops
   * (unknown to it, or behind a disabled feature gate) or another manager's entries in a list. Without
   * that, such an object would be written again on every reconcile.
   */
  async applyIfChanged<T extends KubernetesObject, Live extends DeepReadonly<KubeObject>>(
    desired: T,
    live: Live | undefined,
  ): Promise<ApplyOutcome<T, Live>> {
    if (live !== undefined) {
      const differences = differingPaths(desired, live);
      if (differences.length === 0 || this.keptAsBefore(desired, live, differences)) {
        return { written: false, object: live };
      }
    }
    if (live !== undefined) {
      const type = await this.resourceType(desired.apiVersion ?? "", desired.kind ?? "");
      await this.ownAsAppliedOnce(type, live);
    }
    const answer = await this.apply(desired);
    this.rememberWhatWasKept(desired, answer);
    return { written: true, object: answer };
  }

  /** What the server kept differently from what was sent, by object UID, for the last apply of each. */
  private readonly keptDifferently = new Map<string, { sent: string; paths: FieldPath[]; kept: string }>();

  private rememberWhatWasKept(sent: KubernetesObject, answer: KubernetesObject): void {
    const uid = answer.metadata?.uid;
    if (uid === undefined) return;
    const paths = differingPaths(sent, answer);
    this.keptDifferently.delete(uid);
    if (paths.length === 0) return;
    this.keptDifferently.set(uid, { sent: contentHash(sent), paths, kept: keptAt(answer, paths) });
    // Bounded: an object deleted while it differed would otherwise stay here. The oldest entry goes.
    if (this.keptDifferently.size > MAX_KEPT_DIFFERENTLY) {
      const oldest = this.keptDifferently.keys().next().value;
      if (oldest !== undefined) this.keptDifferently.delete(oldest);
    }
  }

  /** True when `live` differs from `desired` only where, and as, the server kept it after the same apply. */
  private keptAsBefore(
    desired: KubernetesObject,
    live: DeepReadonly<KubeObject>,
    differences: FieldPath[],
  ): boolean {
    const known = this.keptDifferently.get(live.metadata?.uid ?? "");
    if (known === undefined || known.sent !== contentHash(desired)) return false;
    const knownPaths = new Set(known.paths.map((path) => canonicalJson(path)));
    return (
      differences.every((path) => knownPaths.has(canonicalJson(path))) &&
      keptAt(live, known.paths) === known.kept
    );
  }

  /**
   * Creates `object` (POST): unlike an apply, a create never merges into an object of the same name that
   * someone else made a moment before the caches could show it; that answers 409 AlreadyExists
   * (isAlreadyExists). The field manager's entry of a create is an Update entry, whose fields a later
   * apply by the same manager cannot remove: the first apply to the object (applyIfChanged) turns that
   * entry into the Apply entry it would have been, as client-go's csaupgrade does. Not here: most objects
   * are never applied to again, and a second write per create would cost a roll-out a fifth of its writes
   * (and each ScaledObject another round through KEDA's admission webhook).
   */
  async create<T extends KubernetesObject>(object: T): Promise<T> {
    const type = await this.resourceType(object.apiVersion ?? "", object.kind ?? "");
    this.writes++;
    return this.rest.request<T>("POST", collectionPath(type, object.metadata?.namespace), {
      query: { fieldManager: this.fieldManager },
      body: object,
    });
  }

  /** UIDs of objects whose managedFields hold no Update entry of this manager (checked, or made so). */
  private readonly ownedAsApplied = new Set<string>();

  /**
   * Before the first apply to `live` in this process: reads the object, whose managedFields the caches
   * drop, and turns an Update entry of this manager (left by a create) into an Apply entry. Best effort:
   * when it fails, the apply still sets what it sets, and a field the policy stopped setting stays until
   * someone removes it.
   */
  private async ownAsAppliedOnce(type: ResourceType, live: DeepReadonly<KubeObject>): Promise<void> {
    const uid = live.metadata?.uid;
    if (uid === undefined || this.ownedAsApplied.has(uid)) return;
    const path = objectPath(type, live.metadata?.namespace, live.metadata?.name ?? "");
    const current = await this.rest
      .request<KubernetesObject>("GET", path)
      .catch((): KubernetesObject | undefined => undefined);
    if (current === undefined || current.metadata?.uid !== uid) return;
    await this.ownAsApplied(path, current.metadata.managedFields ?? []);
    this.ownedAsApplied.add(uid);
    // Bounded like keptDifferently: forgetting an object costs one read before its next apply.
    if (this.ownedAsApplied.size > MAX_KEPT_DIFFERENTLY) {
      const oldest = this.ownedAsApplied.values().next().value;
      if (oldest !== undefined) this.ownedAsApplied.delete(oldest);
    }
  }

  /**
   * Turns this manager's Update entry among `entries` into an Apply entry with a JSON patch whose tests
   * make it touch that entry only. Another writer's entry (a controller's status update) may have moved
   * ours since: then once more at the entry's new place.
   */
  private async ownAsApplied(path: string, managedFields: readonly V1ManagedFieldsEntry[]): Promise<void> {
    let entries = managedFields;
    for (let attempt = 0; attempt < 2; attempt++) {
      const index = entries.findIndex(
        (entry) =>
          entry.manager === this.fieldManager &&
          entry.operation === "Update" &&
          entry.subresource === undefined,
      );
      if (index < 0) return;
      const entry = `/metadata/managedFields/${index}`;
      this.writes++;
      try {
        await this.rest.request("PATCH", path, {
          query: { fieldManager: this.fieldManager },
          contentType: "application/json-patch+json",
          body: [
            { op: "test", path: `${entry}/manager`, value: this.fieldManager },
            { op: "test", path: `${entry}/operation`, value: "Update" },
            { op: "replace", path: `${entry}/operation`, value: "Apply" },
          ],
        });
        return;
      } catch (error) {
        if (!(error instanceof KubeApiError) || error.statusCode !== 422) return;
        const current = await this.rest
          .request<KubernetesObject>("GET", path)
          .catch((): KubernetesObject | undefined => undefined);
        entries = current?.metadata?.managedFields ?? [];
      }
    }
  }

  /** Reads an object (undefined when there is none). */
  async read<T extends KubernetesObject>(reference: ObjectReference): Promise<T | undefined> {
    const type = await this.resourceType(reference.apiVersion, reference.kind);
    try {
      return await this.rest.request<T>("GET", objectPath(type, reference.namespace, reference.name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Server-side applies to the status subresource. `object` holds apiVersion, kind, metadata
   * name/namespace and the status fields this manager owns.
   */
  async applyStatus(object: ObjectReference & { status: unknown }): Promise<KubeObject> {
    const { apiVersion, kind, namespace, name, status } = object;
    const type = await this.resourceType(apiVersion, kind);
    this.writes++;
    return this.rest.request("PATCH", `${objectPath(type, namespace, name)}/status`, {
      query: { fieldManager: this.fieldManager, force: true },
      contentType: APPLY_PATCH,
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
    const type = await this.resourceType(reference.apiVersion, reference.kind);
    this.writes++;
    try {
      await this.rest.request("DELETE", objectPath(type, reference.namespace, reference.name), {
        // In the body: the API server reads DeleteOptions from the body when there is one.
        body: { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid }, propagationPolicy },
      });
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
