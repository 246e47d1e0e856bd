import type { Logger } from "pino";
import type { Clock } from "./clock.js";
import { KubeApiError } from "./errors.js";
import { Poller } from "./poller.js";
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
 * Watches whether a group/version/kind is served (e.g. keda.sh/v1alpha1 ScaledObject while KEDA's CRDs
 * are installed), by polling discovery and on demand through `check()`. A failed poll keeps the last
 * answer: an API server hiccup must not look like KEDA being uninstalled.
 */
export class DiscoveryWatcher {
  private readonly poller: Poller<ResourceType | null>;

  constructor(options: DiscoveryWatcherOptions) {
    const { apiVersion, kind, logger } = options;
    this.poller = new Poller({
      what: `${apiVersion} ${kind}`,
      read: async () => (await options.lookup(apiVersion, kind)) ?? null,
      onChange: async (type, previous) => {
        const served = type !== null;
        // null and a ResourceType differ, but two ResourceTypes of one served kind are one answer.
        if (previous !== undefined && (previous !== null) === served) return;
        logger?.info({ apiVersion, kind, served }, "API availability changed");
        await options.onChange(served, type ?? undefined);
      },
      ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
      ...(options.clock !== undefined && { clock: options.clock }),
      ...(logger !== undefined && { logger }),
    });
  }

  /** The last answer; undefined before the first successful check. */
  isServed(): boolean | undefined {
    const type = this.poller.current();
    return type === undefined ? undefined : type !== null;
  }

  start(): Promise<void> {
    return this.poller.start();
  }

  stop(): void {
    this.poller.stop();
  }

  /** Checks now; concurrent calls share one request. Resolves with the (possibly unchanged) answer. */
  async check(): Promise<boolean | undefined> {
    const type = await this.poller.check();
    return type === undefined ? undefined : type !== null;
  }
}

/** An APIService as far as its clients care: does it exist, is it Available, which Service serves it. */
export type ApiServiceState =
  | { readable: false; message: string }
  | { readable: true; exists: false }
  | {
      readable: true;
      exists: true;
      available: boolean;
      /** The Available condition's reason and message. */
      reason: string;
      message: string;
      /** The Service behind it; none for an API served by kube-apiserver itself. */
      service?: { namespace: string; name: string };
      labels: Record<string, string>;
    };

interface ApiServiceObject {
  metadata?: { labels?: Record<string, string> };
  spec?: { service?: { namespace?: string; name?: string } | null };
  status?: { conditions?: { type?: string; status?: string; reason?: string; message?: string }[] };
}

/**
 * Reads one APIService (e.g. v1beta1.external.metrics.k8s.io, to learn which server holds that API).
 * Forbidden is an answer, not an error: an install may not grant the read.
 */
export async function readApiService(
  rest: Pick<KubeRestClient, "request">,
  name: string,
): Promise<ApiServiceState> {
  let object: ApiServiceObject;
  try {
    object = await rest.request<ApiServiceObject>(
      "GET",
      `/apis/apiregistration.k8s.io/v1/apiservices/${encodeURIComponent(name)}`,
    );
  } catch (error) {
    if (error instanceof KubeApiError && error.statusCode === 404) return { readable: true, exists: false };
    if (error instanceof KubeApiError && error.statusCode === 403) {
      return { readable: false, message: error.message };
    }
    throw error;
  }
  const available = object.status?.conditions?.find((c) => c.type === "Available");
  const service = object.spec?.service;
  return {
    readable: true,
    exists: true,
    available: available?.status === "True",
    reason: available?.reason ?? "",
    message: available?.message ?? "",
    ...(service?.name !== undefined && {
      service: { namespace: service.namespace ?? "", name: service.name },
    }),
    labels: { ...object.metadata?.labels },
  };
}

export interface ApiServiceWatcherOptions {
  rest: Pick<KubeRestClient, "request">;
  name: string;
  intervalMs?: number;
  onChange: (state: ApiServiceState) => void | Promise<void>;
  clock?: Clock;
  logger?: Logger;
}

/** Polls one APIService and reports each change of its state. */
export function watchApiService(options: ApiServiceWatcherOptions): Poller<ApiServiceState> {
  return new Poller({
    what: `APIService ${options.name}`,
    read: () => readApiService(options.rest, options.name),
    onChange: (state) => {
      options.logger?.info({ apiService: options.name, state }, "APIService changed");
      return options.onChange(state);
    },
    ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
    ...(options.clock !== undefined && { clock: options.clock }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
}
