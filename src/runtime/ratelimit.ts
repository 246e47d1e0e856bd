import { sleep, systemClock, type Clock } from "./clock.js";

/**
 * A token bucket like client-go's flowcontrol.NewTokenBucketRateLimiter: `burst` requests at once, then
 * `qps` a second. A qps of 0 or less turns it off, which is the default: controller-runtime no longer
 * limits its clients, on SIG API Machinery's advice to rely on the API server's Priority and Fairness
 * instead, and a roll-out of many policies should be bound by the API server alone.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = Math.max(1, burst);
    this.updatedAt = clock.now();
  }

  get limited(): boolean {
    return this.qps > 0;
  }

  /** Waits for a token (resolves at once when unlimited); returns early, without one, on abort. */
  async take(signal?: AbortSignal): Promise<void> {
    if (!this.limited) return;
    for (;;) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      if (signal?.aborted) return;
      // Waiters are not queued: each sleeps until a token could be there and tries again, as fairly as
      // the timers fire (client-go's limiter has no ordering either).
      await sleep(this.clock, Math.ceil(((1 - this.tokens) / this.qps) * 1000), signal);
    }
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(Math.max(1, this.burst), this.tokens + ((now - this.updatedAt) / 1000) * this.qps);
    this.updatedAt = now;
  }
}
