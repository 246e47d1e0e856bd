import type { Logger } from "pino";
import { systemClock, type Clock, type TimerHandle } from "./clock.js";
import { canonicalJson } from "./compare.js";
import { errorMessage } from "./errors.js";

export interface PollerOptions<T> {
  /** What is polled, for logs. */
  what: string;
  read: () => Promise<T>;
  /** Poll period. Default 30 s. */
  intervalMs?: number;
  /** Called with each new answer (first with the first one); answers equal as canonical JSON are one. */
  onChange: (value: T, previous: T | undefined) => void | Promise<void>;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Polls a value of the cluster on an interval and on demand (`check()`), and reports each change. A
 * failed read keeps the last answer: an API server hiccup must not look like the thing going away.
 */
export class Poller<T> {
  private value: T | undefined;
  private known = false;
  private timer: TimerHandle | undefined;
  private running = false;
  private inFlight: Promise<T | undefined> | undefined;
  private readonly clock: Clock;

  constructor(private readonly options: PollerOptions<T>) {
    this.clock = options.clock ?? systemClock;
  }

  /** The last answer; undefined before the first successful read. */
  current(): T | undefined {
    return this.value;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.check();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
  }

  /** Reads now; concurrent calls share one read. Resolves with the (possibly unchanged) answer. */
  check(): Promise<T | undefined> {
    this.inFlight ??= this.poll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimer(this.options.intervalMs ?? 30_000, () => {
      void this.check().finally(() => this.schedule());
    });
  }

  private async poll(): Promise<T | undefined> {
    let next: T;
    try {
      next = await this.options.read();
    } catch (error) {
      this.options.logger?.warn(
        { what: this.options.what, err: errorMessage(error) },
        "poll failed; keeping last answer",
      );
      return this.value;
    }
    if (this.known && canonicalJson(next) === canonicalJson(this.value)) return this.value;
    const previous = this.value;
    this.value = next;
    this.known = true;
    try {
      await this.options.onChange(next, previous);
    } catch (error) {
      this.options.logger?.error(
        { what: this.options.what, err: errorMessage(error) },
        "change handler failed",
      );
    }
    return this.value;
  }
}
