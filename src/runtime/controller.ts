import { randomUUID } from "node:crypto";
import { setImmediate } from "node:timers/promises";
import type { Logger } from "pino";
import { systemClock, type Clock, type TimerHandle } from "./clock.js";
import { canonicalJson } from "./compare.js";
import { errorMessage, TerminalError } from "./errors.js";
import type { SharedInformer } from "./informer.js";
import { keyOf, keyString, parseKey, type DeepReadonly, type KubeObject, type ObjectKey } from "./object.js";
import { controllerOf, groupOf } from "./ownerref.js";
import type { RateLimiter } from "./rate-limiter.js";
import { WorkQueue, type WorkQueueMetrics } from "./workqueue.js";

/** What a reconcile asks for next. Returning nothing means done until something changes. */
export interface ReconcileResult {
  /** Reconcile again after this long (and reset back-off). */
  requeueAfterMs?: number;
  /** Reconcile again soon, through the rate limiter, without counting as an error. */
  requeue?: boolean;
}

export interface ReconcileContext {
  /** Unique per reconcile, for correlating logs. */
  reconcileId: string;
  /** A logger with controller, namespace, name and reconcileID bound. */
  logger: Logger | undefined;
  /** Aborted when the controller is shutting down and its deadline has passed. */
  signal: AbortSignal;
}

/**
 * Reconciles one object, read from the cache by key. Throw to retry with back-off; throw
 * TerminalError for a failure that retrying cannot fix.
 */
export type Reconciler = (key: ObjectKey, context: ReconcileContext) => Promise<ReconcileResult | void>;

export type ReconcileOutcome = "success" | "error" | "requeue" | "requeue_after";

export interface ControllerMetrics {
  reconciled(outcome: ReconcileOutcome, seconds: number): void;
  errored(terminal: boolean): void;
  activeWorkers(delta: number): void;
  maxConcurrentReconciles(value: number): void;
}

export const noopControllerMetrics: ControllerMetrics = {
  reconciled: () => {},
  errored: () => {},
  activeWorkers: () => {},
  maxConcurrentReconciles: () => {},
};

export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  /** Concurrent reconciles (controller-runtime MaxConcurrentReconciles). Default 1. */
  workers?: number;
  /** Requeue every key of the primary kind this often, because watches can miss events. 0 disables. */
  resyncPeriodMs?: number;
  clock?: Clock;
  rateLimiter?: RateLimiter;
  logger?: Logger;
  metrics?: ControllerMetrics;
  queueMetrics?: WorkQueueMetrics;
}

/** Decides whether an update event should enqueue; add and delete always do. */
export type UpdatePredicate<T extends KubeObject> = (
  previous: DeepReadonly<T>,
  current: DeepReadonly<T>,
) => boolean;

/**
 * Passes updates whose metadata.generation changed, so status-only writes (which do not bump the
 * generation of a kind with a status subresource) do not loop (controller-runtime
 * `predicate.GenerationChangedPredicate`). Kinds without a generation always pass.
 */
export function generationChanged<T extends KubeObject>(
  previous: DeepReadonly<T>,
  current: DeepReadonly<T>,
): boolean {
  const before = previous.metadata?.generation;
  const after = current.metadata?.generation;
  if (before === undefined || after === undefined) return true;
  return before !== after;
}

/**
 * Passes what the reconciler of a primary kind must see: a new generation, or new labels or annotations,
 * which are metadata and leave the generation as it was (controller-runtime's
 * `predicate.Or(GenerationChangedPredicate{}, LabelChangedPredicate{}, AnnotationChangedPredicate{})`):
 * labels are copied onto children, so a change must reach them now, not at the next resync.
 */
export function specOrMetadataChanged<T extends KubeObject>(
  previous: DeepReadonly<T>,
  current: DeepReadonly<T>,
): boolean {
  return (
    generationChanged(previous, current) ||
    canonicalJson(previous.metadata?.labels ?? {}) !== canonicalJson(current.metadata?.labels ?? {}) ||
    canonicalJson(previous.metadata?.annotations ?? {}) !== canonicalJson(current.metadata?.annotations ?? {})
  );
}

/**
 * Passes updates that change what `read` picks out of the object: the fields a reconciler reads. A
 * child's status changes many times while it rolls out (every pod that becomes ready, every metric
 * the HPA controller records); a reconciler that reads three of those fields should wake for those.
 */
export function readFieldsChanged<T extends KubeObject>(
  read: (object: DeepReadonly<T>) => unknown,
): UpdatePredicate<T> {
  return (previous, current) => canonicalJson(read(previous)) !== canonicalJson(read(current));
}

/**
 * The reconcile loop (controller-runtime `internal/controller`): watches feed keys into a rate-limited
 * work queue; workers take a key, call the reconciler, and requeue by its answer.
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly workers: number;
  private readonly resyncPeriodMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly metrics: ControllerMetrics;
  private readonly primaries: Array<SharedInformer<KubeObject>> = [];
  private readonly unsubscribers: Array<() => void> = [];
  private workerLoops: Array<Promise<void>> = [];
  private resyncTimer: TimerHandle | undefined;
  private readonly abort = new AbortController();
  private started = false;
  private stopping = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.workers = Math.max(1, options.workers ?? 1);
    this.resyncPeriodMs = options.resyncPeriodMs ?? 0;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger?.child({ controller: options.name });
    this.metrics = options.metrics ?? noopControllerMetrics;
    this.queue = new WorkQueue({
      clock: this.clock,
      rateLimiter: options.rateLimiter,
      metrics: options.queueMetrics,
    });
  }

  /**
   * Watches the kind this controller reconciles: each event enqueues the object's own key. Updates
   * pass through `predicate` (by default, a new generation, labels or annotations). Resync requeues this
   * kind's keys. Keys of objects `urgent` picks go ahead of the others in the queue.
   */
  watchPrimary<T extends KubeObject>(
    informer: SharedInformer<T>,
    predicate: UpdatePredicate<T> = specOrMetadataChanged,
    urgent: (object: DeepReadonly<T>) => boolean = () => false,
  ): void {
    this.primaries.push(informer);
    const enqueueOwn = (object: DeepReadonly<T>): void =>
      this.queue.add(keyString(keyOf(object)), { urgent: urgent(object) });
    this.unsubscribers.push(
      informer.addEventHandler({
        onAdd: enqueueOwn,
        onUpdate: (previous, current) => {
          if (predicate(previous, current)) enqueueOwn(current);
        },
        onDelete: enqueueOwn,
      }),
    );
  }

  /**
   * Watches a kind the primary kind owns: each event enqueues the key of the child's controller owner
   * when that owner is of `owner`'s group and kind (controller-runtime `EnqueueRequestForOwner` with
   * OnlyControllerOwner). Owners are namespaced like their children.
   */
  watchOwned<T extends KubeObject>(
    informer: SharedInformer<T>,
    owner: { apiVersion: string; kind: string },
  ): void {
    const ownerGroup = groupOf(owner.apiVersion);
    // Both versions of an update are mapped (watchMapped): a child whose owner reference changed must
    // wake the old owner too.
    this.watchMapped(informer, (object) => {
      const reference = controllerOf(object);
      if (!reference || reference.kind !== owner.kind || groupOf(reference.apiVersion) !== ownerGroup)
        return [];
      return [{ namespace: object.metadata?.namespace ?? "", name: reference.name }];
    });
  }

  /**
   * Watches any kind with a custom mapping from object to keys (controller-runtime
   * `EnqueueRequestsFromMapFunc`). Updates pass through `predicate` (by default, every update).
   */
  watchMapped<T extends KubeObject>(
    informer: SharedInformer<T>,
    map: (object: DeepReadonly<T>) => readonly ObjectKey[],
    predicate: UpdatePredicate<T> = () => true,
  ): () => void {
    const enqueueMapped = (...objects: Array<DeepReadonly<T>>): void => {
      // Each key once: a key handed to an idle worker is no longer queued, so adding it a second
      // time would reconcile it twice.
      const keys = new Set(objects.flatMap((object) => map(object).map(keyString)));
      for (const key of keys) this.queue.add(key);
    };
    const unsubscribe = informer.addEventHandler({
      onAdd: enqueueMapped,
      // Both versions (as controller-runtime's map handler does): an object that no longer maps to a key
      // (a foreign HPA retargeted away) must wake the key it left, not only the one it joins.
      onUpdate: (previous, current) => {
        if (predicate(previous, current)) enqueueMapped(previous, current);
      },
      onDelete: enqueueMapped,
    });
    this.unsubscribers.push(unsubscribe);
    return unsubscribe;
  }

  /** Starts the workers and the resync timer. Call once the watched informers have synced. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.metrics.maxConcurrentReconciles(this.workers);
    this.workerLoops = Array.from({ length: this.workers }, () => this.runWorker());
    this.scheduleResync();
    this.logger?.info({ workers: this.workers }, "controller started");
  }

  /**
   * Stops taking work and waits for in-flight reconciles. Keys still queued are dropped: they are
   * rebuilt from the cache by whoever leads next. After `deadlineMs` the reconciles' signal aborts and
   * stop returns without waiting further.
   */
  async stop(deadlineMs = 30_000): Promise<void> {
    this.resyncTimer?.cancel();
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.stopping = true;
    const drained = this.queue.shutdownWithDrain().then(() => true);
    let deadlineTimer: TimerHandle | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      deadlineTimer = this.clock.setTimer(deadlineMs, () => resolve(false));
    });
    const finished = await Promise.race([drained, deadline]);
    deadlineTimer?.cancel();
    if (!finished) {
      this.logger?.warn({ deadlineMs }, "in-flight reconciles did not finish before the shutdown deadline");
      this.abort.abort();
      return;
    }
    await Promise.all(this.workerLoops);
    this.logger?.info("controller stopped");
  }

  private scheduleResync(): void {
    if (this.resyncPeriodMs <= 0) return;
    this.resyncTimer = this.clock.setTimer(this.resyncPeriodMs, () => {
      for (const informer of this.primaries) {
        for (const key of informer.store.keys()) this.queue.add(key);
      }
      this.scheduleResync();
    });
  }

  private async runWorker(): Promise<void> {
    for (;;) {
      const item = await this.queue.get();
      if (item.shutdown) return;
      if (this.stopping) {
        // Work handed out after stop was called is not started; drain only what is in flight.
        this.queue.done(item.key);
        continue;
      }
      this.metrics.activeWorkers(1);
      try {
        await this.reconcileKey(item.key);
      } finally {
        this.metrics.activeWorkers(-1);
        this.queue.done(item.key);
      }
      // A reconcile with nothing to write never waits for I/O, and the next key is at hand: without a
      // turn of the event loop here, workers would run a whole queue (a resync of thousands of
      // policies) in one go while the lease renewal, health probes and watch events wait. Goroutines
      // are preempted; promises are not.
      await setImmediate();
    }
  }

  private async reconcileKey(key: string): Promise<void> {
    const objectKey = parseKey(key);
    const reconcileId = randomUUID();
    const logger = this.logger?.child({
      namespace: objectKey.namespace,
      name: objectKey.name,
      reconcileID: reconcileId,
    });
    const startedAt = this.clock.now();
    const elapsedSeconds = (): number => (this.clock.now() - startedAt) / 1000;
    let result: ReconcileResult | void;
    try {
      result = await this.reconciler(objectKey, { reconcileId, logger, signal: this.abort.signal });
    } catch (error) {
      const terminal = error instanceof TerminalError;
      this.metrics.errored(terminal);
      this.metrics.reconciled("error", elapsedSeconds());
      if (terminal) {
        logger?.error({ err: errorMessage(error) }, "reconcile failed terminally; not retrying");
        this.queue.forget(key);
      } else {
        logger?.warn(
          { err: errorMessage(error), retries: this.queue.numRequeues(key) },
          "reconcile failed; retrying",
        );
        this.queue.addRateLimited(key);
      }
      return;
    }
    if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfterMs);
      this.metrics.reconciled("requeue_after", elapsedSeconds());
    } else if (result?.requeue) {
      this.queue.addRateLimited(key);
      this.metrics.reconciled("requeue", elapsedSeconds());
    } else {
      this.queue.forget(key);
      this.metrics.reconciled("success", elapsedSeconds());
    }
    logger?.debug({ requeueAfterMs: result?.requeueAfterMs }, "reconciled");
  }
}
