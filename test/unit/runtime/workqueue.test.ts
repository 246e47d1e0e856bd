import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import {
  ExponentialFailureRateLimiter,
  TokenBucketRateLimiter,
  defaultControllerRateLimiter,
} from "../../../src/runtime/rate-limiter.js";
import { WorkQueue, type WorkQueueMetrics } from "../../../src/runtime/workqueue.js";

async function take(queue: WorkQueue): Promise<string> {
  const item = await queue.get();
  if (item.shutdown) throw new Error("queue shut down");
  return item.key;
}

function recordingMetrics(): WorkQueueMetrics & {
  depthNow: number;
  adds: number;
  retries: number;
  work: number[];
} {
  const state = {
    depthNow: 0,
    adds: 0,
    retries: 0,
    work: [] as number[],
    depth(delta: number) {
      state.depthNow += delta;
    },
    added() {
      state.adds++;
    },
    queueDuration() {},
    workDuration(seconds: number) {
      state.work.push(seconds);
    },
    retried() {
      state.retries++;
    },
    observeInProgress() {},
  };
  return state;
}

describe("WorkQueue", () => {
  it("de-duplicates a key added several times before it is taken", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    queue.add("b");
    queue.add("a");
    expect(queue.len()).toBe(2);
    expect(await take(queue)).toBe("a");
    expect(await take(queue)).toBe("b");
  });

  it("holds back a key re-added while it is processed, and queues it once more after done", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    const key = await take(queue);
    queue.add("a");
    queue.add("a");
    // Never handed out twice at once.
    expect(queue.len()).toBe(0);
    queue.done(key);
    expect(queue.len()).toBe(1);
    expect(await take(queue)).toBe("a");
    queue.done("a");
    expect(queue.len()).toBe(0);
  });

  it("wakes a waiting get when a key arrives", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    const pending = queue.get();
    queue.add("late");
    expect(await pending).toEqual({ shutdown: false, key: "late" });
  });

  it("delays addAfter until the clock reaches the time, keeping the earliest time per key", async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter("a", 1000);
    queue.addAfter("a", 300);
    queue.addAfter("a", 2000);
    clock.advance(299);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(await take(queue)).toBe("a");
    queue.done("a");
    clock.advance(5000);
    // The superseded later timers must not fire a second add.
    expect(queue.len()).toBe(0);
  });

  it("backs off per key on rate-limited adds and forgets on success", async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock, rateLimiter: new ExponentialFailureRateLimiter(5, 1_000_000) });
    const delays: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const before = clock.now();
      queue.addRateLimited("a");
      while (queue.len() === 0) clock.advance(1);
      delays.push(clock.now() - before);
      queue.done(await take(queue));
    }
    expect(delays).toEqual([5, 10, 20, 40]);
    expect(queue.numRequeues("a")).toBe(4);
    queue.forget("a");
    expect(queue.numRequeues("a")).toBe(0);
    queue.addRateLimited("a");
    clock.advance(5);
    expect(queue.len()).toBe(1);
  });

  it("hands out queued keys after shutdown, then reports shutdown, and refuses new adds", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    const waiting = new WorkQueue({ clock: new ManualClock() });
    const blocked = waiting.get();
    waiting.shutdown();
    expect(await blocked).toEqual({ shutdown: true });

    queue.shutdown();
    queue.add("b");
    expect(await queue.get()).toEqual({ shutdown: false, key: "a" });
    expect(await queue.get()).toEqual({ shutdown: true });
  });

  it("drops pending delayed adds on shutdown", () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter("a", 100);
    queue.shutdown();
    clock.advance(1000);
    expect(queue.len()).toBe(0);
  });

  it("shutdownWithDrain resolves only when in-flight keys are done", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    const key = await take(queue);
    let drained = false;
    const drain = queue.shutdownWithDrain().then(() => {
      drained = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    queue.done(key);
    await drain;
    expect(drained).toBe(true);
  });

  it("reports depth, adds, retries, work duration and in-progress time", async () => {
    const clock = new ManualClock();
    const metrics = recordingMetrics();
    let inProgress: { unfinishedWorkSeconds(): number; longestRunningProcessorSeconds(): number } | undefined;
    metrics.observeInProgress = (source) => {
      inProgress = source;
    };
    const queue = new WorkQueue({ clock, metrics });
    queue.add("a");
    queue.add("a");
    queue.add("b");
    expect(metrics.adds).toBe(2);
    expect(metrics.depthNow).toBe(2);
    await take(queue);
    clock.advance(1500);
    await take(queue);
    clock.advance(500);
    expect(inProgress?.unfinishedWorkSeconds()).toBeCloseTo(2.5);
    expect(inProgress?.longestRunningProcessorSeconds()).toBeCloseTo(2);
    queue.done("a");
    expect(metrics.work).toEqual([2]);
    expect(metrics.depthNow).toBe(0);
    queue.addRateLimited("a");
    expect(metrics.retries).toBe(1);
  });
});

describe("rate limiters", () => {
  it("exponential back-off doubles from 5 ms and caps at 1000 s", () => {
    const limiter = new ExponentialFailureRateLimiter(5, 1_000_000);
    const delays = Array.from({ length: 30 }, () => limiter.when("k"));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(delays.at(-1)).toBe(1_000_000);
    expect(Math.max(...delays)).toBe(1_000_000);
    expect(limiter.when("other")).toBe(5);
  });

  it("token bucket lets a burst through, then spaces calls at the rate", () => {
    const clock = new ManualClock();
    const bucket = new TokenBucketRateLimiter(clock, 10, 100);
    const burst = Array.from({ length: 100 }, (_, index) => bucket.when(`k${index}`));
    expect(burst.every((delay) => delay === 0)).toBe(true);
    expect(bucket.when("x")).toBeCloseTo(100);
    expect(bucket.when("y")).toBeCloseTo(200);
    clock.advance(1000);
    // 10 tokens came back, 2 were owed: the next 8 calls are free again.
    const refilled = Array.from({ length: 8 }, () => bucket.when("z"));
    expect(refilled.every((delay) => delay === 0)).toBe(true);
    expect(bucket.when("z")).toBeCloseTo(100);
  });

  it("the default limiter takes the larger of per-key back-off and the overall bucket", () => {
    const clock = new ManualClock();
    const limiter = defaultControllerRateLimiter(clock);
    for (let index = 0; index < 100; index++) limiter.when(`key-${index}`);
    // Bucket is empty: a fresh key waits for the bucket (100 ms), not its own 5 ms.
    expect(limiter.when("fresh")).toBeCloseTo(100);
    clock.advance(60_000);
    for (let failure = 0; failure < 15; failure++) limiter.when("flaky");
    expect(limiter.when("flaky")).toBe(5 * 2 ** 15);
  });
});

describe("WorkQueue urgent lane", () => {
  it("hands out urgent keys first, each lane in the order added", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("status-1");
    queue.add("new-1", { urgent: true });
    queue.add("status-2");
    queue.add("new-2", { urgent: true });
    const order = [];
    for (let i = 0; i < 4; i++) order.push(await take(queue));
    expect(order).toEqual(["new-1", "new-2", "status-1", "status-2"]);
  });

  it("moves a queued key ahead when it is added again as urgent, and still holds it once", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("a");
    queue.add("b");
    queue.add("b", { urgent: true });
    expect(queue.len()).toBe(2);
    expect(await take(queue)).toBe("b");
    expect(await take(queue)).toBe("a");
  });

  it("requeues a key made urgent while it is processed in the urgent lane", async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add("busy");
    expect(await take(queue)).toBe("busy");
    queue.add("waiting");
    queue.add("busy", { urgent: true });
    queue.done("busy");
    expect(await take(queue)).toBe("busy");
    expect(await take(queue)).toBe("waiting");
    // Urgency lasts one hand-out: added again plainly, the key waits its turn.
    queue.done("busy");
    queue.add("later");
    queue.add("busy");
    expect(await take(queue)).toBe("later");
  });
});
