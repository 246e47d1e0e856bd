import { getEventListeners } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { linkedSignal } from "../../../src/runtime/signals.js";

describe("linkedSignal", () => {
  it("aborts with the reason of the first source that aborts", () => {
    const first = new AbortController();
    const second = new AbortController();
    const { signal, release } = linkedSignal([first.signal, second.signal]);
    second.abort(new Error("fence closed"));
    first.abort(new Error("stopping"));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe("fence closed");
    release();
  });

  it("starts aborted when a source already is", () => {
    const source = new AbortController();
    source.abort(new Error("already"));
    const { signal } = linkedSignal([source.signal], 1000);
    expect((signal.reason as Error).message).toBe("already");
  });

  it("aborts with a TimeoutError after the timeout", () => {
    vi.useFakeTimers();
    try {
      const { signal } = linkedSignal([], 500);
      vi.advanceTimersByTime(499);
      expect(signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(signal.aborted).toBe(true);
      expect((signal.reason as DOMException).name).toBe("TimeoutError");
      expect(signal.reason).toBeInstanceOf(Error);
    } finally {
      vi.useRealTimers();
    }
  });

  it("leaves nothing on a long-lived source once released", () => {
    const longLived = new AbortController();
    for (let i = 0; i < 1000; i++) linkedSignal([longLived.signal], 30_000).release();
    expect(getEventListeners(longLived.signal, "abort")).toHaveLength(0);
    // and a released signal no longer follows its source, nor times out
    vi.useFakeTimers();
    try {
      const { signal, release } = linkedSignal([longLived.signal], 10);
      release();
      vi.advanceTimersByTime(100);
      longLived.abort();
      expect(signal.aborted).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("unlinks from every source when one aborts", () => {
    const fence = new AbortController();
    const stop = new AbortController();
    linkedSignal([fence.signal, stop.signal]);
    fence.abort();
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
  });

  it("links many requests in flight to one source without a MaxListenersExceededWarning", async () => {
    // Node warns at the 11th listener on an EventTarget; 64 workers keep far more requests in flight
    // on the write fence and the controller's stop signal, each released when its request ends.
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on("warning", onWarning);
    try {
      const longLived = new AbortController();
      const linked = Array.from({ length: 200 }, () => linkedSignal([longLived.signal], 30_000));
      // process warnings are emitted on the next tick
      await new Promise((resolve) => setImmediate(resolve));
      for (const { release } of linked) release();
      expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
      expect(getEventListeners(longLived.signal, "abort")).toHaveLength(0);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
