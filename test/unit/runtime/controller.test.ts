import { describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import {
  Controller,
  readFieldsChanged,
  type ControllerMetrics,
  type ReconcileOutcome,
  type Reconciler,
} from "../../../src/runtime/controller.js";
import { TerminalError } from "../../../src/runtime/errors.js";
import type { KubeObject, ObjectKey } from "../../../src/runtime/object.js";
import { controllerOwnerReference } from "../../../src/runtime/ownerref.js";
import { ExponentialFailureRateLimiter } from "../../../src/runtime/rate-limiter.js";
import { FakeInformer } from "./fake-informer.js";

function policy(name: string, generation: number, status = "pending"): KubeObject & { status: string } {
  return {
    apiVersion: "example.io/v1",
    kind: "Widget",
    metadata: {
      namespace: "team",
      name,
      uid: `uid-${name}`,
      generation,
      resourceVersion: String(Math.random()),
    },
    status,
  };
}

function recordingMetrics(): ControllerMetrics & {
  outcomes: ReconcileOutcome[];
  errors: number;
  terminal: number;
} {
  const state = {
    outcomes: [] as ReconcileOutcome[],
    errors: 0,
    terminal: 0,
    reconciled(outcome: ReconcileOutcome) {
      state.outcomes.push(outcome);
    },
    errored(terminal: boolean) {
      state.errors++;
      if (terminal) state.terminal++;
    },
    activeWorkers() {},
    maxConcurrentReconciles() {},
  };
  return state;
}

function setup(reconciler: Reconciler, options: { resyncPeriodMs?: number; workers?: number } = {}) {
  const clock = new ManualClock();
  const metrics = recordingMetrics();
  const controller = new Controller({
    name: "widgets",
    reconciler,
    clock,
    metrics,
    rateLimiter: new ExponentialFailureRateLimiter(5, 1_000_000),
    ...options,
  });
  const primary = new FakeInformer<KubeObject>();
  controller.watchPrimary(primary);
  return { clock, metrics, controller, primary };
}

describe("Controller", () => {
  it("reconciles the key of a new object once, and forgets it on success", async () => {
    const seen: ObjectKey[] = [];
    const { controller, primary, metrics } = setup(async (key) => {
      await Promise.resolve(); // reconcilers are asynchronous; yield once like a real one
      seen.push(key);
    });
    controller.start();
    primary.upsert(policy("a", 1));
    await vi.waitFor(() => expect(metrics.outcomes).toEqual(["success"]));
    expect(seen).toEqual([{ namespace: "team", name: "a" }]);
    expect(controller.queue.numRequeues("team/a")).toBe(0);
    await controller.stop();
  });

  it("ignores status-only updates but reconciles generation changes", async () => {
    const seen: string[] = [];
    const { controller, primary, metrics } = setup(async (key) => {
      await Promise.resolve(); // reconcilers are asynchronous; yield once like a real one
      seen.push(key.name);
    });
    controller.start();
    primary.upsert(policy("a", 1));
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(1));
    primary.upsert(policy("a", 1, "ready"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(controller.queue.len()).toBe(0);
    expect(seen).toEqual(["a"]);
    primary.upsert(policy("a", 2, "ready"));
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(2));
    expect(seen).toEqual(["a", "a"]);
    await controller.stop();
  });

  it("retries a failing reconcile with growing back-off until it succeeds", async () => {
    let attempts = 0;
    const { controller, primary, metrics, clock } = setup(async () => {
      await Promise.resolve(); // reconcilers are asynchronous; yield once like a real one
      attempts++;
      if (attempts < 3) throw new Error("API server unavailable");
    });
    controller.start();
    primary.upsert(policy("a", 1));
    await vi.waitFor(() => expect(attempts).toBe(1));
    expect(controller.queue.numRequeues("team/a")).toBe(1);
    clock.advance(4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toBe(1);
    clock.advance(1);
    await vi.waitFor(() => expect(attempts).toBe(2));
    clock.advance(9);
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toBe(2);
    clock.advance(1);
    await vi.waitFor(() => expect(metrics.outcomes).toEqual(["error", "error", "success"]));
    expect(metrics.errors).toBe(2);
    expect(controller.queue.numRequeues("team/a")).toBe(0);
    await controller.stop();
  });

  it("records a terminal error and does not retry it", async () => {
    let attempts = 0;
    const { controller, primary, metrics, clock } = setup(async () => {
      await Promise.resolve(); // reconcilers are asynchronous; yield once like a real one
      attempts++;
      throw new TerminalError("spec.maxReplicas below spec.minReplicas");
    });
    controller.start();
    primary.upsert(policy("a", 1));
    await vi.waitFor(() => expect(metrics.terminal).toBe(1));
    clock.advance(3_600_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toBe(1);
    expect(metrics.outcomes).toEqual(["error"]);
    expect(metrics.errors).toBe(1);
    await controller.stop();
  });

  it("requeues after the requested delay", async () => {
    let attempts = 0;
    const { controller, primary, metrics, clock } = setup(async () => {
      await Promise.resolve(); // reconcilers are asynchronous; yield once like a real one
      attempts++;
      return attempts === 1 ? { requeueAfterMs: 30_000 } : undefined;
    });
    controller.start();
    primary.upsert(policy("a", 1));
    await vi.waitFor(() => expect(metrics.outcomes).toEqual(["requeue_after"]));
    clock.advance(29_999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toBe(1);
    clock.advance(1);
    await vi.waitFor(() => expect(metrics.outcomes).toEqual(["requeue_after", "success"]));
    await controller.stop();
  });

  it("resyncs every known key periodically", async () => {
    const seen: string[] = [];
    const { controller, primary, metrics, clock } = setup(
      async (key) => {
        await Promise.resolve(); // reconcilers are asynchronous; yield once like a real one
        seen.push(key.name);
      },
      { resyncPeriodMs: 60_000 },
    );
    primary.upsert(policy("a", 1));
    primary.upsert(policy("b", 1));
    controller.start();
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(2));
    clock.advance(60_000);
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(4));
    expect(seen.sort()).toEqual(["a", "a", "b", "b"]);
    await controller.stop();
  });

  it("reconciles a label or annotation change that leaves the generation as it was", async () => {
    const seen: string[] = [];
    const { controller, primary, metrics } = setup(async (key) => {
      await Promise.resolve(); // reconcilers are asynchronous; yield once like a real one
      seen.push(key.name);
    });
    controller.start();
    const created = policy("a", 1);
    primary.upsert(created);
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(1));
    // Labels and annotations are metadata: the API server does not bump the generation for them.
    primary.upsert({ ...created, metadata: { ...created.metadata, labels: { team: "search" } } });
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(2));
    primary.upsert({
      ...created,
      metadata: { ...created.metadata, labels: { team: "search" }, annotations: { note: "x" } },
    });
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(3));
    expect(seen).toEqual(["a", "a", "a"]);
    await controller.stop();
  });

  it("maps both versions of an updated object, so the key it was mapped to before is reconciled too", async () => {
    const seen: string[] = [];
    const { controller, metrics } = setup(async (key) => {
      await Promise.resolve(); // reconcilers are asynchronous; yield once like a real one
      seen.push(key.name);
    });
    interface Targeting extends KubeObject {
      spec: { target: string };
    }
    const targets = new FakeInformer<Targeting>();
    controller.watchMapped<Targeting>(targets, (object) => [{ namespace: "team", name: object.spec.target }]);
    controller.start();
    const hpa = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { namespace: "team", name: "foreign" },
    };
    targets.upsert({ ...hpa, spec: { target: "left" } });
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(1));
    // Retargeted away from "left": "left" must learn that the conflict is gone, "right" that it begins.
    targets.upsert({ ...hpa, spec: { target: "right" } });
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(3));
    expect(seen.slice(1).sort()).toEqual(["left", "right"]);
    await controller.stop();
  });

  it("wakes a mapped key only for updates that change the fields its predicate reads", async () => {
    const seen: string[] = [];
    const { controller, metrics } = setup(async (key) => {
      await Promise.resolve();
      seen.push(key.name);
    });
    interface Child extends KubeObject {
      status: { ready: number; observedGeneration: number };
    }
    const children = new FakeInformer<Child>();
    controller.watchMapped<Child>(
      children,
      () => [{ namespace: "team", name: "owner" }],
      readFieldsChanged((child) => child.status.ready),
    );
    controller.start();
    const child = { metadata: { namespace: "team", name: "child", resourceVersion: "1" } };
    children.upsert({ ...child, status: { ready: 0, observedGeneration: 1 } });
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(1));
    // A field nobody reads: nothing is queued.
    children.upsert({ ...child, status: { ready: 0, observedGeneration: 2 } });
    expect(controller.queue.len()).toBe(0);
    // A field the reconciler reads: one reconcile, though both versions map to the key and a worker
    // is idle (it takes the key at once, so a second add would run it again).
    children.upsert({ ...child, status: { ready: 1, observedGeneration: 2 } });
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(metrics.outcomes).toHaveLength(2);
    // Deletion always wakes the owner.
    children.delete({ ...child, status: { ready: 1, observedGeneration: 2 } });
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(3));
    expect(seen).toEqual(["owner", "owner", "owner"]);
    await controller.stop();
  });

  it("reconciles the keys its urgent predicate picks ahead of the others", async () => {
    const seen: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const controller = new Controller({
      name: "widgets",
      clock: new ManualClock(),
      metrics: recordingMetrics(),
      reconciler: async (key) => {
        seen.push(key.name);
        if (key.name === "first") await gate;
      },
    });
    interface Widget extends KubeObject {
      status?: { observedGeneration?: number };
    }
    const widgets = new FakeInformer<Widget>();
    controller.watchPrimary<Widget>(
      widgets,
      undefined,
      (w) => w.status?.observedGeneration !== w.metadata?.generation,
    );
    controller.start();
    const widget = (name: string, observedGeneration?: number): Widget => ({
      metadata: { namespace: "team", name, generation: 1 },
      ...(observedGeneration !== undefined && { status: { observedGeneration } }),
    });
    widgets.upsert(widget("first", 1));
    await vi.waitFor(() => expect(seen).toEqual(["first"]));
    widgets.upsert(widget("seen-before", 1));
    widgets.upsert(widget("never-reconciled"));
    release();
    await vi.waitFor(() => expect(seen).toHaveLength(3));
    expect(seen).toEqual(["first", "never-reconciled", "seen-before"]);
    await controller.stop();
  });

  it("maps an owned object's events to its controller owner of the right kind", async () => {
    const seen: string[] = [];
    const { controller, primary, metrics } = setup(async (key) => {
      await Promise.resolve(); // reconcilers are asynchronous; yield once like a real one
      seen.push(`${key.namespace}/${key.name}`);
    });
    const children = new FakeInformer<KubeObject>();
    controller.watchOwned(children, { apiVersion: "example.io/v1", kind: "Widget" });
    controller.start();
    const owner = policy("owner", 1);
    primary.store.upsert(owner);
    children.upsert({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        namespace: "team",
        name: "owner-serving",
        ownerReferences: [controllerOwnerReference(owner)],
      },
    });
    children.upsert({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        namespace: "team",
        name: "foreign",
        ownerReferences: [
          { apiVersion: "other.io/v1", kind: "Widget", name: "x", uid: "u", controller: true },
        ],
      },
    });
    children.upsert({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { namespace: "team", name: "orphan" },
    });
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(["team/owner"]);
    await controller.stop();
  });

  it("lets timers and I/O run between reconciles that make no request", async () => {
    // A reconcile that finds nothing to write never waits for I/O. Without a turn of the event loop
    // between them, workers would run a queue of thousands in one go, and a lease renewal or a health
    // probe due meanwhile would wait for all of them.
    let reconciled = 0;
    const { controller, primary, metrics } = setup(
      async () => {
        await Promise.resolve();
        reconciled++;
      },
      { workers: 4 },
    );
    for (let i = 0; i < 200; i++) primary.upsert(policy(`p${i}`, 1));
    let reconciledWhenTimerRan: number | undefined;
    setTimeout(() => (reconciledWhenTimerRan = reconciled), 0);
    controller.start();
    await vi.waitFor(() => expect(metrics.outcomes).toHaveLength(200));
    expect(reconciledWhenTimerRan).toBeDefined();
    expect(reconciledWhenTimerRan).toBeLessThan(200);
    await controller.stop();
  });

  it("never runs one key twice at once, even with several workers", async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    let release: () => void = () => {};
    const { controller, primary } = setup(
      async () => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        running--;
      },
      { workers: 4 },
    );
    controller.start();
    primary.upsert(policy("a", 1));
    await vi.waitFor(() => expect(calls).toBe(1));
    primary.upsert(policy("a", 2));
    primary.upsert(policy("a", 3));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(1);
    release();
    await vi.waitFor(() => expect(calls).toBe(2));
    release();
    await vi.waitFor(() => expect(running).toBe(0));
    expect(maxRunning).toBe(1);
    await controller.stop();
  });

  it("on stop, finishes the in-flight reconcile and starts no new one", async () => {
    const started: string[] = [];
    let finished = false;
    let release: () => void = () => {};
    const { controller, primary } = setup(async (key) => {
      started.push(key.name);
      if (key.name === "a") {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        finished = true;
      }
    });
    controller.start();
    primary.upsert(policy("a", 1));
    await vi.waitFor(() => expect(started).toEqual(["a"]));
    primary.upsert(policy("b", 1));
    const stopping = controller.stop(60_000);
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(started).toEqual(["a"]);
  });

  it("stops waiting for a stuck reconcile at the deadline and aborts its signal", async () => {
    let signal: AbortSignal | undefined;
    const { controller, primary, clock } = setup(async (_key, context) => {
      signal = context.signal;
      await new Promise(() => {});
    });
    controller.start();
    primary.upsert(policy("a", 1));
    await vi.waitFor(() => expect(signal).toBeDefined());
    const stopping = controller.stop(5_000);
    clock.advance(5_000);
    await stopping;
    expect(signal?.aborted).toBe(true);
  });
});
