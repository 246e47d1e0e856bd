import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import { TokenBucket } from "../../../src/runtime/ratelimit.js";

/** Lets resolved promises run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("TokenBucket", () => {
  it("lets a burst through at once, then qps a second", async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(10, 3, clock);
    let granted = 0;
    const takers = Array.from({ length: 8 }, () => bucket.take().then(() => granted++));
    await settle();
    expect(granted).toBe(3);
    // 10 a second: one every 100 ms.
    for (const expected of [4, 5, 6, 7, 8]) {
      clock.advance(100);
      await settle();
      await settle();
      expect(granted).toBe(expected);
    }
    await Promise.all(takers);
  });

  it("does not limit at qps 0, the default", async () => {
    const bucket = new TokenBucket(0, 0, new ManualClock());
    expect(bucket.limited).toBe(false);
    await Promise.all(Array.from({ length: 1000 }, () => bucket.take()));
  });

  it("refills no more than the burst while idle", async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(100, 2, clock);
    clock.advance(60_000);
    let granted = 0;
    const takers = Array.from({ length: 3 }, () => bucket.take().then(() => granted++));
    await settle();
    expect(granted).toBe(2);
    clock.advance(10);
    await settle();
    await settle();
    expect(granted).toBe(3);
    await Promise.all(takers);
  });

  it("gives up waiting on abort", async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1, 1, clock);
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort();
    await waiting;
  });
});
