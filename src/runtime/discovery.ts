import type { Logger } from "pino";
import { systemClock, type Clock, type TimerHandle } from "./clock.js";
import { errorMessage } from "./errors.js";
import { discoverResource, type KubeRestClient, type ResourceType } from "./rest.js";

/** Answers whether a kind is served: a ResourceType when it is, undefined when not. */
export type KindLookup = (apiVersion: string, kind: string) => Promise<ResourceType | undefined>;

export function restKindLookup(rest: Pick<KubeRestClient, "request">): KindLookup {
  return (apiVersion, kind) => discoverResource(rest, apiVersion, kind);
}

export interface DiscoveryWatcherOptions {
  lookup: KindLookup;
  apiVersion: string;
  kind: string;
  /** Poll period. Default 30 s. */
  intervalMs?: number;
  /** Called with the new answer each time it changes (first with the first answer). */
  onChange: (served: boolean, type: ResourceType | undefined) => void | Promise<void>;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Watches whether a group/version/kind is served (e.g. keda.sh/v1alpha1 ScaledObject while KEDA is
 * installed), by polling discovery and on demand through `check()`. A failed poll keeps the last
 * answer: an API server hiccup must not look like KEDA being uninstalled.
 */
export class DiscoveryWatcher {
  private served: boolean | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  private inFlight: Promise<boolean | undefined> | undefined;
  private readonly clock: Clock;

  constructor(private readonly options: DiscoveryWatcherOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** The last answer; undefined before the first successful check. */
  isServed(): boolean | undefined {
    return this.served;
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

  /** Checks now; concurrent calls share one request. Resolves with the (possibly unchanged) answer. */
  check(): Promise<boolean | undefined> {
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

  private async poll(): Promise<boolean | undefined> {
    const { apiVersion, kind } = this.options;
    let type: ResourceType | undefined;
    try {
      type = await this.options.lookup(apiVersion, kind);
    } catch (error) {
      this.options.logger?.warn(
        { apiVersion, kind, err: errorMessage(error) },
        "discovery failed; keeping last answer",
      );
      return this.served;
    }
    const served = type !== undefined;
    if (served !== this.served) {
      this.served = served;
      this.options.logger?.info({ apiVersion, kind, served }, "API availability changed");
      try {
        await this.options.onChange(served, type);
      } catch (error) {
        this.options.logger?.error(
          { apiVersion, kind, err: errorMessage(error) },
          "discovery change handler failed",
        );
      }
    }
    return this.served;
  }
}
