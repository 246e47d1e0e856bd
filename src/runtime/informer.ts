import type { Logger } from "pino";
import { sleep, systemClock, type Clock, type TimerHandle } from "./clock.js";
import { errorMessage, KubeApiError } from "./errors.js";
import { internStrings, sharedStrings, type StringTable } from "./intern.js";
import { deepFreeze, keyOf, keyString, type DeepReadonly, type KubeObject } from "./object.js";
import {
  collectionPath,
  discoverResource,
  type JsonObject,
  type KubeRestClient,
  type ResourceType,
  type WatchEvent,
} from "./rest.js";
import { Store, type IndexFunc, type ReadonlyStore } from "./store.js";

export interface EventHandler<T extends KubeObject> {
  onAdd?(object: DeepReadonly<T>): void;
  onUpdate?(previous: DeepReadonly<T>, current: DeepReadonly<T>): void;
  onDelete?(object: DeepReadonly<T>): void;
}

/** What controllers and the manager need from an informer, single- or multi-namespace. */
export interface SharedInformer<T extends KubeObject> {
  readonly store: ReadonlyStore<T>;
  /** Registers handlers; returns a function that unregisters them. */
  addEventHandler(handler: EventHandler<T>): () => void;
  start(): void;
  stop(): Promise<void>;
  isRunning(): boolean;
  /** True once the first full list has been loaded into the store. */
  hasSynced(): boolean;
  /** Resolves when synced; rejects if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void>;
}

/** A kind to watch: a full ResourceType, or apiVersion+kind to be resolved through discovery. */
export type ResourceSelector = ResourceType | { apiVersion: string; kind: string };

export interface InformerOptions<T extends KubeObject> {
  rest: Pick<KubeRestClient, "request" | "watch">;
  resource: ResourceSelector;
  /** One namespace; undefined watches all namespaces (or a cluster-scoped kind). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
  logger?: Logger;
  clock?: Clock;
  /** Server-side watch timeout; the server ends each watch after it and the informer re-watches. */
  watchTimeoutSeconds?: number;
  /** A watch that delivers nothing (not even a bookmark) for this long is taken as dead and restarted. */
  maxSilenceMs?: number;
  /** Back-off after failures: doubles from initial to max (client-go reflector: 800 ms to 30 s). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  listPageSize?: number;
  /**
   * Turns the server's JSON into T. By default the JSON is trusted to be a T as the API server
   * validated it; pass a schema's parse function to check it.
   */
  decode?: (raw: unknown) => T;
  /**
   * Trims each object from the server before it is decoded and cached. By default `stripManagedFields`:
   * nothing the controllers read is there, and it is often the largest part of an object.
   */
  transform?: (object: JsonObject) => JsonObject;
}

/**
 * Drops metadata.managedFields (controller-runtime's `cache.TransformStripManagedFields`). Server-side
 * apply keeps them on the server; the cache never needs them, since write-skip compares the fields
 * the desired object sets.
 */
export function stripManagedFields(object: JsonObject): JsonObject {
  const metadata = object["metadata"];
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return object;
  if (!("managedFields" in metadata)) return object;
  const { managedFields: _dropped, ...rest } = metadata as Record<string, unknown>;
  return { ...object, metadata: rest };
}

/**
 * An object from the server as a cache holds it: trimmed by `transform`, with its apiVersion and kind
 * (list items lack them), rebuilt compact, and its strings interned (not yet frozen).
 *
 * Rebuilt compact: the transforms and the kind's spread copy objects, and V8 gives a copied object
 * spare property storage; JSON.parse sizes each object for exactly its fields. The round trip costs
 * about 17 µs per object and saves 0.3 KiB of the 6.3 KiB a policy's objects held in the caches
 * (`bench/cache-memory.bench.ts`). Interned after the transform, so that only what the cache keeps is
 * looked up.
 */
export function cacheCopy(
  type: Pick<ResourceType, "apiVersion" | "kind">,
  raw: JsonObject,
  transform: (object: JsonObject) => JsonObject = stripManagedFields,
  table: StringTable = sharedStrings,
): JsonObject {
  const trimmed = { apiVersion: type.apiVersion, kind: type.kind, ...transform(raw) };
  return internStrings(JSON.parse(JSON.stringify(trimmed)) as JsonObject, table);
}

/** Who wrote a field, as a managedFields entry says, without the field sets. */
export interface FieldWriter {
  manager: string;
  operation: string;
  subresource?: string;
}

/**
 * Like stripManagedFields, but keeps who owns one field: managedFields becomes the entries whose field
 * set holds `path` (e.g. ["spec", "replicas"]), reduced to manager, operation and subresource. A few
 * dozen bytes per object instead of the field sets, for a controller that must see another writer of
 * that field.
 */
export function keepWritersOf(path: readonly string[]): (object: JsonObject) => JsonObject {
  return (object) => {
    const stripped = stripManagedFields(object);
    const metadata = object["metadata"];
    const strippedMetadata = stripped["metadata"];
    if (!isRecord(metadata) || !isRecord(strippedMetadata) || !Array.isArray(metadata["managedFields"])) {
      return stripped;
    }
    const writers: FieldWriter[] = [];
    for (const entry of metadata["managedFields"] as unknown[]) {
      if (!isRecord(entry) || !ownsField(entry["fieldsV1"], path)) continue;
      const { manager, operation, subresource } = entry;
      writers.push({
        manager: typeof manager === "string" ? manager : "",
        operation: typeof operation === "string" ? operation : "",
        ...(typeof subresource === "string" && subresource !== "" && { subresource }),
      });
    }
    if (writers.length === 0) return stripped;
    return { ...stripped, metadata: { ...strippedMetadata, managedFields: writers } };
  };
}

/** Whether a FieldsV1 set ({"f:spec": {"f:replicas": {}}}) holds the field at `path`. */
function ownsField(fields: unknown, path: readonly string[]): boolean {
  let cursor = fields;
  for (const key of path) {
    if (!isRecord(cursor)) return false;
    cursor = cursor[`f:${key}`];
  }
  return cursor !== undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type WatchOutcome = "ended" | "gone" | "silent" | "stopped";

interface ListResponse {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: JsonObject[];
}

/** Counts of what the supervision loop did, for logs, metrics and tests. */
export interface InformerStats {
  lists: number;
  watches: number;
  failures: number;
  silentWatches: number;
  goneWatches: number;
}

/**
 * A supervised list+watch cache for one kind in one namespace (or all).
 *
 * client-node 1.x's own informer stops on any non-410 error and its watch timeout never fires, so this
 * one runs its own loop: list, then watch from the list's resourceVersion with bookmarks and a server
 * timeout; re-watch when the server ends the watch; relist on 410 Gone; restart with back-off after
 * any error; abort and restart a watch that has been silent for too long. Cached objects are deeply
 * frozen, so handlers and readers cannot corrupt the cache.
 */
export class Informer<T extends KubeObject> implements SharedInformer<T> {
  readonly stats: InformerStats = { lists: 0, watches: 0, failures: 0, silentWatches: 0, goneWatches: 0 };
  private readonly cache: Store<T>;
  private readonly handlers = new Set<EventHandler<T>>();
  private readonly clock: Clock;
  private readonly watchTimeoutSeconds: number;
  private readonly maxSilenceMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private resourceType: ResourceType | undefined;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: InformerOptions<T>) {
    this.cache = new Store<T>(options.indexers);
    this.clock = options.clock ?? systemClock;
    this.watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
    this.maxSilenceMs = options.maxSilenceMs ?? this.watchTimeoutSeconds * 1000 + 30_000;
    this.backoffInitialMs = options.backoffInitialMs ?? 800;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
    if ("plural" in options.resource) this.resourceType = options.resource;
  }

  get store(): ReadonlyStore<T> {
    return this.cache;
  }

  addEventHandler(handler: EventHandler<T>): () => void {
    this.handlers.add(handler);
    // Like client-go, a handler added to a running informer first hears about what is cached.
    if (this.synced) for (const object of this.cache.list()) this.dispatch(handler, "add", object);
    return () => this.handlers.delete(handler);
  }

  start(): void {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loop = this.run(abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
    this.abort = undefined;
  }

  isRunning(): boolean {
    return this.loop !== undefined;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new Error("stopped waiting for cache sync"));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  private get logger(): Logger | undefined {
    return this.options.logger;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoffMs = this.backoffInitialMs;
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          resourceVersion = await this.relist(signal);
          backoffMs = this.backoffInitialMs;
        }
        const watch = await this.watchOnce(resourceVersion, signal, (version) => {
          resourceVersion = version;
        });
        if (watch.outcome === "gone") {
          this.stats.goneWatches++;
          this.logger?.info({ resource: this.describe() }, "watch expired (410 Gone); relisting");
          resourceVersion = undefined;
        } else if (watch.outcome === "silent") {
          this.stats.silentWatches++;
          this.logger?.warn({ resource: this.describe() }, "watch silent for too long; restarting it");
        } else if (watch.outcome === "ended" && watch.events === 0 && watch.durationMs < 1000) {
          // A server that keeps closing watches at once must not be hammered in a tight loop.
          await sleep(this.clock, backoffMs, signal);
          backoffMs = Math.min(backoffMs * 2, this.backoffMaxMs);
        } else {
          backoffMs = this.backoffInitialMs;
        }
      } catch (error) {
        if (signal.aborted) break;
        this.stats.failures++;
        this.logger?.warn(
          { resource: this.describe(), err: errorMessage(error), retryInMs: backoffMs },
          "list/watch failed; retrying",
        );
        await sleep(this.clock, backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, this.backoffMaxMs);
      }
    }
  }

  private async resolveResource(): Promise<ResourceType> {
    if (this.resourceType) return this.resourceType;
    const { apiVersion, kind } = this.options.resource;
    const discovered = await discoverResource(this.options.rest, apiVersion, kind);
    if (!discovered) throw new Error(`${apiVersion} ${kind} is not served`);
    this.resourceType = discovered;
    return discovered;
  }

  private describe(): string {
    const { apiVersion, kind } = this.options.resource;
    return `${apiVersion} ${kind}${this.options.namespace ? ` in ${this.options.namespace}` : ""}`;
  }

  /** Lists every page, replaces the cache, and emits the differences as events. */
  private async relist(signal: AbortSignal): Promise<string> {
    const type = await this.resolveResource();
    const path = collectionPath(type, this.options.namespace);
    const listed: JsonObject[] = [];
    let continueToken: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.options.rest.request<ListResponse>("GET", path, {
        query: {
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
          limit: this.options.listPageSize ?? 500,
          continue: continueToken,
        },
        signal,
      });
      listed.push(...(page.items ?? []));
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? "";
    } while (continueToken);
    this.stats.lists++;

    // List items carry no apiVersion/kind; restore them so cached objects are self-describing.
    const fresh = listed.map((item) => this.decode(type, item));
    const seen = new Set<string>();
    for (const object of fresh) {
      const key = keyString(keyOf(object));
      seen.add(key);
      const previous = this.cache.upsert(object);
      if (!previous) this.emit("add", object);
      else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) {
        this.emit("update", object, previous);
      }
    }
    for (const key of this.cache.keys()) {
      if (seen.has(key)) continue;
      const removed = this.cache.remove(key);
      if (removed) this.emit("delete", removed);
    }
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    return resourceVersion;
  }

  private async watchOnce(
    resourceVersion: string,
    signal: AbortSignal,
    onResourceVersion: (version: string) => void,
  ): Promise<{ outcome: WatchOutcome; events: number; durationMs: number }> {
    const type = await this.resolveResource();
    const watchAbort = new AbortController();
    const stopWatch = (): void => watchAbort.abort();
    // A stop that came while listing has already fired its abort event: honour it here.
    if (signal.aborted) return { outcome: "stopped", events: 0, durationMs: 0 };
    signal.addEventListener("abort", stopWatch, { once: true });
    let outcome: WatchOutcome = "ended";
    let events = 0;
    let silenceTimer: TimerHandle | undefined;
    const armSilenceTimer = (): void => {
      silenceTimer?.cancel();
      silenceTimer = this.clock.setTimer(this.maxSilenceMs, () => {
        outcome = "silent";
        watchAbort.abort();
      });
    };
    const startedAt = this.clock.now();
    this.stats.watches++;
    armSilenceTimer();
    try {
      await this.options.rest.watch(
        collectionPath(type, this.options.namespace),
        {
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: this.watchTimeoutSeconds,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
        },
        (event) => {
          if (watchAbort.signal.aborted) return;
          events++;
          armSilenceTimer();
          const result = this.applyWatchEvent(type, event);
          if (result.gone) {
            outcome = "gone";
            watchAbort.abort();
          } else if (result.resourceVersion !== undefined) {
            onResourceVersion(result.resourceVersion);
          }
        },
        watchAbort.signal,
      );
    } catch (error) {
      // The server refuses a too-old resourceVersion either up front (HTTP 410) or as an ERROR event.
      if (error instanceof KubeApiError && error.statusCode === 410) outcome = "gone";
      else if (!watchAbort.signal.aborted) throw error;
    } finally {
      silenceTimer?.cancel();
      signal.removeEventListener("abort", stopWatch);
    }
    if (signal.aborted) outcome = "stopped";
    return { outcome, events, durationMs: this.clock.now() - startedAt };
  }

  /** Applies one watch event to the cache; returns the new resourceVersion, or that the watch expired (410). */
  private applyWatchEvent(
    type: ResourceType,
    event: WatchEvent,
  ): { gone: true } | { gone: false; resourceVersion: string | undefined } {
    if (event.type === "ERROR") {
      const status = event.object as { code?: unknown; message?: unknown };
      if (status.code === 410) return { gone: true };
      throw new KubeApiError(
        typeof status.code === "number" ? status.code : 500,
        typeof status.message === "string" ? status.message : "watch error",
      );
    }
    const object = this.decode(type, event.object);
    const resourceVersion = object.metadata?.resourceVersion;
    if (event.type === "BOOKMARK") return { gone: false, resourceVersion };
    if (event.type === "DELETED") {
      const removed = this.cache.remove(keyString(keyOf(object)));
      this.emit("delete", removed ?? object);
    } else {
      const previous = this.cache.upsert(object);
      if (previous) this.emit("update", object, previous);
      else this.emit("add", object);
    }
    return { gone: false, resourceVersion };
  }

  /**
   * Adds apiVersion/kind (list items lack them), interns its strings, decodes, and freezes an object from
   * the server.
   */
  private decode(type: ResourceType, raw: JsonObject): DeepReadonly<T> {
    const decode = this.options.decode ?? ((value: unknown) => value as T);
    return deepFreeze(decode(cacheCopy(type, raw, this.options.transform)));
  }

  private emit(kind: "add" | "update" | "delete", object: DeepReadonly<T>, previous?: DeepReadonly<T>): void {
    for (const handler of this.handlers) this.dispatch(handler, kind, object, previous);
  }

  private dispatch(
    handler: EventHandler<T>,
    kind: "add" | "update" | "delete",
    object: DeepReadonly<T>,
    previous?: DeepReadonly<T>,
  ): void {
    try {
      if (kind === "add") handler.onAdd?.(object);
      else if (kind === "delete") handler.onDelete?.(object);
      else if (previous) handler.onUpdate?.(previous, object);
    } catch (error) {
      // One faulty handler must not stop the cache or the other handlers.
      this.logger?.error({ err: errorMessage(error), resource: this.describe() }, "event handler failed");
    }
  }
}

/** Reads several per-namespace stores as one. */
class CompositeStore<T extends KubeObject> implements ReadonlyStore<T> {
  constructor(private readonly stores: ReadonlyMap<string, ReadonlyStore<T>>) {}

  get(namespace: string, name: string): DeepReadonly<T> | undefined {
    return this.stores.get(namespace)?.get(namespace, name);
  }

  list(namespace?: string): Array<DeepReadonly<T>> {
    if (namespace !== undefined) return this.stores.get(namespace)?.list(namespace) ?? [];
    return [...this.stores.values()].flatMap((store) => store.list());
  }

  byIndex(indexName: string, value: string): Array<DeepReadonly<T>> {
    return [...this.stores.values()].flatMap((store) => store.byIndex(indexName, value));
  }

  keys(): string[] {
    return [...this.stores.values()].flatMap((store) => store.keys());
  }

  size(): number {
    return [...this.stores.values()].reduce((total, store) => total + store.size(), 0);
  }
}

/** One informer per namespace behind the SharedInformer interface (a namespace-scoped operator). */
export class MultiNamespaceInformer<T extends KubeObject> implements SharedInformer<T> {
  readonly store: ReadonlyStore<T>;
  private readonly informers: ReadonlyMap<string, Informer<T>>;

  constructor(options: Omit<InformerOptions<T>, "namespace">, namespaces: readonly string[]) {
    this.informers = new Map(
      namespaces.map((namespace) => [namespace, new Informer<T>({ ...options, namespace })]),
    );
    this.store = new CompositeStore(
      new Map([...this.informers].map(([namespace, informer]) => [namespace, informer.store])),
    );
  }

  addEventHandler(handler: EventHandler<T>): () => void {
    const removers = [...this.informers.values()].map((informer) => informer.addEventHandler(handler));
    return () => removers.forEach((remove) => remove());
  }

  start(): void {
    for (const informer of this.informers.values()) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
  }

  isRunning(): boolean {
    return [...this.informers.values()].some((informer) => informer.isRunning());
  }

  hasSynced(): boolean {
    return [...this.informers.values()].every((informer) => informer.hasSynced());
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.waitForSync(signal)));
  }
}

/**
 * Makes an informer scoped as the operator is configured: `namespaces` undefined or empty watches all
 * namespaces; one namespace gets one informer; several get one informer each behind one interface.
 */
export function createInformer<T extends KubeObject>(
  options: Omit<InformerOptions<T>, "namespace">,
  namespaces?: readonly string[],
): SharedInformer<T> {
  if (!namespaces || namespaces.length === 0) return new Informer<T>(options);
  if (namespaces.length === 1) return new Informer<T>({ ...options, namespace: namespaces[0] });
  return new MultiNamespaceInformer<T>(options, namespaces);
}
