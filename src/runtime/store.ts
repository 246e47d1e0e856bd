import { sharedStrings } from "./intern.js";
import { keyOf, keyString, type DeepReadonly, type KubeObject } from "./object.js";

/** Maps an object to the index values it is filed under (client-go `cache.IndexFunc`). */
export type IndexFunc<T extends KubeObject> = (object: DeepReadonly<T>) => readonly string[];

export const OWNER_INDEX = "controller-owner-uid";
export const NAMESPACE_INDEX = "namespace";

/** Files an object under the UID of its controller owner reference, if it has one. */
export function controllerOwnerUidIndex<T extends KubeObject>(object: DeepReadonly<T>): readonly string[] {
  const metadata = (object as DeepReadonly<KubeObject>).metadata;
  const owner = metadata?.ownerReferences?.find((reference) => reference.controller === true);
  return owner ? [owner.uid] : [];
}

export function namespaceIndex<T extends KubeObject>(object: DeepReadonly<T>): readonly string[] {
  return [(object as DeepReadonly<KubeObject>).metadata?.namespace ?? ""];
}

/** Read access to a cache: what reconcilers get. Objects are frozen; copy before editing. */
export interface ReadonlyStore<T extends KubeObject> {
  get(namespace: string, name: string): DeepReadonly<T> | undefined;
  list(namespace?: string): Array<DeepReadonly<T>>;
  byIndex(indexName: string, value: string): Array<DeepReadonly<T>>;
  keys(): string[];
  size(): number;
}

/**
 * An indexed cache of objects keyed by namespace/name (client-go `cache.Indexer`). Only an informer
 * writes to it; everyone else sees it through ReadonlyStore. The owner and namespace indexes are
 * always present.
 */
export class Store<T extends KubeObject> implements ReadonlyStore<T> {
  private readonly items = new Map<string, DeepReadonly<T>>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /**
   * index name -> index value -> object keys. Most values file one object (an owner's uid, a
   * workload's name), so a lone key is held as itself: a Set of one weighs more than the object's
   * entry in the cache does.
   */
  private readonly indices = new Map<string, Map<string, string | Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexer(OWNER_INDEX, controllerOwnerUidIndex);
    this.addIndexer(NAMESPACE_INDEX, namespaceIndex);
    for (const [name, indexFunc] of Object.entries(indexers)) this.addIndexer(name, indexFunc);
  }

  get(namespace: string, name: string): DeepReadonly<T> | undefined {
    return this.items.get(keyString({ namespace, name }));
  }

  getByKey(key: string): DeepReadonly<T> | undefined {
    return this.items.get(key);
  }

  list(namespace?: string): Array<DeepReadonly<T>> {
    if (namespace === undefined) return [...this.items.values()];
    return this.byIndex(NAMESPACE_INDEX, namespace);
  }

  byIndex(indexName: string, value: string): Array<DeepReadonly<T>> {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`no index named ${indexName}`);
    const keys = index.get(value);
    if (keys === undefined) return [];
    if (typeof keys === "string") {
      const object = this.items.get(keys);
      return object ? [object] : [];
    }
    return [...keys].flatMap((key) => {
      const object = this.items.get(key);
      return object ? [object] : [];
    });
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  size(): number {
    return this.items.size;
  }

  /** Inserts or replaces an object; returns the previous one. */
  upsert(object: DeepReadonly<T>): DeepReadonly<T> | undefined {
    // A policy and each of its children have the same namespace/name: one key string for all of them.
    const key = sharedStrings.intern(keyString(keyOf(object)));
    const previous = this.items.get(key);
    if (previous) this.unindex(key, previous);
    this.items.set(key, object);
    this.index(key, object);
    return previous;
  }

  /** Removes the object stored under `key`; returns it. */
  remove(key: string): DeepReadonly<T> | undefined {
    const previous = this.items.get(key);
    if (!previous) return undefined;
    this.unindex(key, previous);
    this.items.delete(key);
    return previous;
  }

  clear(): void {
    this.items.clear();
    for (const index of this.indices.values()) index.clear();
  }

  private addIndexer(name: string, indexFunc: IndexFunc<T>): void {
    this.indexers.set(name, indexFunc);
    this.indices.set(name, new Map());
  }

  private index(key: string, object: DeepReadonly<T>): void {
    for (const [name, indexFunc] of this.indexers) {
      const index = this.indices.get(name);
      if (!index) continue;
      for (const computed of indexFunc(object)) {
        // Index functions build their values; the policy's and its HPA's scale target are one string.
        const value = sharedStrings.intern(computed);
        const keys = index.get(value);
        if (keys === undefined || keys === key) index.set(value, key);
        else if (typeof keys === "string") index.set(value, new Set([keys, key]));
        else keys.add(key);
      }
    }
  }

  private unindex(key: string, object: DeepReadonly<T>): void {
    for (const [name, indexFunc] of this.indexers) {
      const index = this.indices.get(name);
      if (!index) continue;
      for (const value of indexFunc(object)) {
        const keys = index.get(value);
        if (keys === key) {
          index.delete(value);
        } else if (keys instanceof Set) {
          keys.delete(key);
          if (keys.size > 1) continue;
          // One key left (or none): held as itself again. Destructuring reads only the first.
          const [remaining] = keys;
          if (remaining === undefined) index.delete(value);
          else index.set(value, remaining);
        }
      }
    }
  }
}
