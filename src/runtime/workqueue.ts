import { systemClock, type Clock, type TimerHandle } from "./clock.js";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiter.js";

/**
 * Hooks a queue reports to; observability/metrics.ts implements them with the controller-runtime
 * metric names. Durations are in seconds, as Prometheus expects.
 */
export interface WorkQueueMetrics {
  depth(delta: number): void;
  added(): void;
  queueDuration(seconds: number): void;
  workDuration(seconds: number): void;
  retried(): void;
  /** Called once so the sink can read the two "in progress" gauges lazily at scrape time. */
  observeInProgress(source: {
    unfinishedWorkSeconds(): number;
    longestRunningProcessorSeconds(): number;
  }): void;
}

export const noopWorkQueueMetrics: WorkQueueMetrics = {
  depth: () => {},
  added: () => {},
  queueDuration: () => {},
  workDuration: () => {},
  retried: () => {},
  observeInProgress: () => {},
};

export interface WorkQueueOptions {
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
}

/** What `get` hands out: a key to process, or word that the queue has shut down and is empty. */
export type QueueItem = { shutdown: false; key: string } | { shutdown: true };

/**
 * A rate-limited, delaying work queue of string keys, with client-go `util/workqueue` semantics:
 * - a key is queued at most once (dirty set); a key added while it is processed is queued again when
 *   `done` is called, so it never runs twice at once and never misses the later change;
 * - `addRateLimited` waits per the rate limiter; `forget` resets a key's back-off;
 * - `addAfter` delays an add, keeping the earliest pending time per key;
 * - `shutdown` refuses new adds; `get` keeps handing out what is queued and then reports shutdown;
 * - a key added as urgent is handed out before every key that is not (in order of adding within
 *   each lane), and a queued key added again as urgent moves ahead.
 */
export class WorkQueue {
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics;
  private readonly queue: string[] = [];
  private readonly urgentQueue: string[] = [];
  /** Keys to hand out ahead of the others once queued (they may be processing meanwhile). */
  private readonly urgentKeys = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>();
  private readonly addedAt = new Map<string, number>();
  private readonly delayed = new Map<string, { readyAt: number; timer: TimerHandle }>();
  private readonly waiters: Array<(item: QueueItem) => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics = options.metrics ?? noopWorkQueueMetrics;
    this.metrics.observeInProgress({
      unfinishedWorkSeconds: () => this.unfinishedWorkSeconds(),
      longestRunningProcessorSeconds: () => this.longestRunningProcessorSeconds(),
    });
  }

  add(key: string, options: { urgent?: boolean } = {}): void {
    if (this.shuttingDown) return;
    if (options.urgent === true && !this.urgentKeys.has(key)) {
      this.urgentKeys.add(key);
      const index = this.queue.indexOf(key);
      if (index >= 0) {
        this.queue.splice(index, 1);
        this.urgentQueue.push(key);
      }
    }
    if (this.dirty.has(key)) return;
    this.metrics.added();
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.readyAt <= readyAt) return;
    pending?.timer.cancel();
    const timer = this.clock.setTimer(delayMs, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { readyAt, timer });
  }

  addRateLimited(key: string): void {
    this.metrics.retried();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** Waits for the next key; reports shutdown once the queue is shut down and empty. */
  get(): Promise<QueueItem> {
    const key = this.urgentQueue.shift() ?? this.queue.shift();
    if (key !== undefined) {
      this.metrics.depth(-1);
      return Promise.resolve(this.startProcessing(key));
    }
    if (this.shuttingDown) return Promise.resolve({ shutdown: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` finished; if it was added meanwhile it goes back on the queue. */
  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    this.metrics.workDuration((this.clock.now() - startedAt) / 1000);
    if (this.dirty.has(key)) this.enqueue(key);
    if (this.processing.size === 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  len(): number {
    return this.queue.length + this.urgentQueue.length;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops accepting adds and drops pending delayed adds. Queued keys are still handed out. */
  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    if (this.len() === 0) {
      for (const resolve of this.waiters.splice(0)) resolve({ shutdown: true });
    }
  }

  /** Shuts down and resolves once every key being processed has been marked done. */
  shutdownWithDrain(): Promise<void> {
    this.shutdown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  unfinishedWorkSeconds(): number {
    const now = this.clock.now();
    let total = 0;
    for (const startedAt of this.processing.values()) total += now - startedAt;
    return total / 1000;
  }

  longestRunningProcessorSeconds(): number {
    const now = this.clock.now();
    let oldest = now;
    for (const startedAt of this.processing.values()) oldest = Math.min(oldest, startedAt);
    return (now - oldest) / 1000;
  }

  private enqueue(key: string): void {
    this.addedAt.set(key, this.clock.now());
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.startProcessing(key));
      return;
    }
    (this.urgentKeys.has(key) ? this.urgentQueue : this.queue).push(key);
    this.metrics.depth(1);
  }

  private startProcessing(key: string): QueueItem {
    const now = this.clock.now();
    const addedAt = this.addedAt.get(key) ?? now;
    this.addedAt.delete(key);
    this.metrics.queueDuration((now - addedAt) / 1000);
    this.dirty.delete(key);
    this.urgentKeys.delete(key);
    this.processing.set(key, now);
    return { shutdown: false, key };
  }
}
