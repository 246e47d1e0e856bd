import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { errorMessage } from "./errors.js";
import { metaTime, type DeepReadonly, type KubeObject } from "./object.js";
import type { KubeRestClient } from "./rest.js";

export type EventType = "Normal" | "Warning";

/** Records Kubernetes Events about objects (client-go `record.EventRecorder`). */
export interface EventRecorder {
  event(
    object: KubeObject | DeepReadonly<KubeObject>,
    type: EventType,
    reason: string,
    message: string,
  ): void;
}

/** Events written at once; the others wait in a queue (client-go's broadcaster writes one at a time). */
const EVENTS_IN_FLIGHT = 8;
/** Events waiting at most; more are dropped, as client-go's broadcaster drops past its queue of 1,000. */
const EVENTS_QUEUED = 1_000;

/**
 * Writes core/v1 Events (what `kubectl describe` and `kubectl get events` show). Recording never fails the
 * caller: an event that cannot be written is logged and dropped, as client-go does. Callers emit events
 * only when something happens (a child created or deleted, a condition turning False), so a steady state
 * writes none. A burst (a roll-out of many policies) is bounded: a few requests at once, a queue of at most
 * EVENTS_QUEUED, so memory follows the caches and not the churn.
 */
export class RestEventRecorder implements EventRecorder {
  private readonly queue: { namespace: string; reason: string; body: unknown }[] = [];
  private inFlight = 0;
  private dropped = 0;

  constructor(
    private readonly rest: Pick<KubeRestClient, "request">,
    private readonly component: string,
    private readonly logger?: Logger,
    private readonly instance = process.env["HOSTNAME"] ?? "",
  ) {}

  /** Events dropped because the queue was full. */
  get droppedCount(): number {
    return this.dropped;
  }

  event(
    object: KubeObject | DeepReadonly<KubeObject>,
    type: EventType,
    reason: string,
    message: string,
  ): void {
    const meta = object.metadata;
    const namespace = meta?.namespace ?? "default";
    const name = meta?.name ?? "";
    const now = metaTime(new Date());
    const body = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${name}.${randomBytes(8).toString("hex")}`, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name,
        namespace,
        uid: meta?.uid,
        resourceVersion: meta?.resourceVersion,
      },
      type,
      reason,
      // The API server limits an event's message to 1 KiB.
      message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
      source: { component: this.component, host: this.instance },
      reportingComponent: this.component,
      reportingInstance: this.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    if (this.queue.length >= EVENTS_QUEUED) {
      if (this.dropped++ % 100 === 0) {
        this.logger?.warn({ dropped: this.dropped, reason }, "event queue full: dropping events");
      }
      return;
    }
    this.queue.push({ namespace, reason, body });
    this.drain();
  }

  private drain(): void {
    while (this.inFlight < EVENTS_IN_FLIGHT) {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.inFlight++;
      this.rest
        .request("POST", `/api/v1/namespaces/${encodeURIComponent(next.namespace)}/events`, {
          body: next.body,
        })
        .catch((error: unknown) => {
          this.logger?.warn({ err: errorMessage(error), reason: next.reason }, "could not record event");
        })
        .finally(() => {
          this.inFlight--;
          this.drain();
        });
    }
  }
}
