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

/**
 * Writes core/v1 Events (what `kubectl describe` and `kubectl get events` show). Recording never fails the
 * caller: an event that cannot be written is logged and dropped, as client-go does. Callers emit events
 * only when something happens (a child created or deleted, a condition turning False), so a steady state
 * writes none.
 */
export class RestEventRecorder implements EventRecorder {
  constructor(
    private readonly rest: Pick<KubeRestClient, "request">,
    private readonly component: string,
    private readonly logger?: Logger,
    private readonly instance = process.env["HOSTNAME"] ?? "",
  ) {}

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
    this.rest
      .request("POST", `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { body })
      .catch((error: unknown) => {
        this.logger?.warn({ err: errorMessage(error), reason }, "could not record event");
      });
  }
}
