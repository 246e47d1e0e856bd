import type { EventHandler, SharedInformer } from "../../../src/runtime/informer.js";
import {
  deepFreeze,
  keyOf,
  keyString,
  type DeepReadonly,
  type KubeObject,
} from "../../../src/runtime/object.js";
import { Store } from "../../../src/runtime/store.js";

/** An in-memory informer: the test decides which events happen. */
export class FakeInformer<T extends KubeObject> implements SharedInformer<T> {
  readonly store = new Store<T>();
  private readonly handlers = new Set<EventHandler<T>>();
  private running = false;

  addEventHandler(handler: EventHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  start(): void {
    this.running = true;
  }

  stop(): Promise<void> {
    this.running = false;
    return Promise.resolve();
  }

  isRunning(): boolean {
    return this.running;
  }

  hasSynced(): boolean {
    return true;
  }

  waitForSync(): Promise<void> {
    return Promise.resolve();
  }

  upsert(object: T): void {
    const frozen = deepFreeze(structuredClone(object));
    const previous = this.store.upsert(frozen);
    for (const handler of this.handlers) {
      if (previous) handler.onUpdate?.(previous, frozen);
      else handler.onAdd?.(frozen);
    }
  }

  delete(object: T): void {
    const removed: DeepReadonly<T> | undefined = this.store.remove(keyString(keyOf(object)));
    if (!removed) return;
    for (const handler of this.handlers) handler.onDelete?.(removed);
  }
}
