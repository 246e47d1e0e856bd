import http from "node:http";
import https from "node:https";
import { createInterface } from "node:readline";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError } from "./errors.js";

/**
 * A thin JSON client for the Kubernetes REST API on node:http(s), authenticated by client-node's
 * KubeConfig. The runtime uses it where client-node's generated clients get in the way: lists and
 * watches it supervises itself (abortable, with its own timeouts), subresources, and Lease objects
 * whose MicroTime fields it must format exactly.
 */

export interface JsonObject {
  [key: string]: unknown;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: JsonObject;
}

export class KubeRestClient {
  constructor(private readonly kubeConfig: KubeConfig) {}

  async request<T = JsonObject>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await readAll(response);
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) throw apiErrorFrom(status, text);
    return (text.length === 0 ? {} : JSON.parse(text)) as T;
  }

  /**
   * Opens a watch and calls `onEvent` for each line. Resolves when the stream ends (server timeout,
   * abort, or connection loss); rejects only if the request could not be made or answered non-200.
   */
  async watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const response = await this.send("GET", path, { query: { ...query, watch: true }, signal });
    const status = response.statusCode ?? 0;
    if (status !== 200) throw apiErrorFrom(status, await readAll(response));
    const lines = createInterface({ input: response, crlfDelay: Infinity });
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        lines.close();
        resolve();
      };
      lines.on("line", (line) => {
        if (line.trim().length === 0) return;
        onEvent(JSON.parse(line) as WatchEvent);
      });
      lines.on("close", finish);
      response.on("error", finish);
      response.on("aborted", finish);
      signal.addEventListener("abort", () => {
        response.destroy();
        finish();
      });
    });
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    const url = new URL(cluster.server.replace(/\/$/, "") + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const requestOptions: https.RequestOptions = { method, headers: { Accept: "application/json" } };
    await this.kubeConfig.applyToHTTPSOptions(requestOptions);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined) {
      requestOptions.headers = {
        ...requestOptions.headers,
        "Content-Type": options.contentType ?? "application/json",
        "Content-Length": Buffer.byteLength(payload),
      };
    }
    const transport = url.protocol === "http:" ? http : https;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { ...requestOptions, signal: options.signal }, resolve);
      request.on("error", reject);
      if (payload !== undefined) request.write(payload);
      request.end();
    });
  }
}

function readAll(stream: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.on("error", reject);
  });
}

function apiErrorFrom(statusCode: number, body: string): KubeApiError {
  try {
    const status = JSON.parse(body) as { message?: unknown; reason?: unknown };
    const message = typeof status.message === "string" ? status.message : body;
    const reason = typeof status.reason === "string" ? status.reason : undefined;
    return new KubeApiError(statusCode, message, reason);
  } catch {
    return new KubeApiError(statusCode, body || `HTTP ${statusCode}`);
  }
}

/** A kind as the API serves it: enough to build its REST paths. */
export interface ResourceType {
  apiVersion: string;
  kind: string;
  /** Plural resource name, e.g. "deployments". */
  plural: string;
  namespaced: boolean;
}

/** Path prefix of an API group/version: /api/v1 for the core group, /apis/<group>/<version> otherwise. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** Collection path of a resource, in one namespace or (namespace undefined) across all of them. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const base = groupVersionPath(type.apiVersion);
  return type.namespaced && namespace !== undefined
    ? `${base}/namespaces/${encodeURIComponent(namespace)}/${type.plural}`
    : `${base}/${type.plural}`;
}

export function objectPath(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
}

interface ApiResourceList {
  resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
}

/**
 * Finds a kind's resource through discovery (GET /apis/<group>/<version>). Returns undefined when the
 * group/version is not served (404) or does not contain the kind; throws on any other failure.
 */
export async function discoverResource(
  rest: Pick<KubeRestClient, "request">,
  apiVersion: string,
  kind: string,
): Promise<ResourceType | undefined> {
  let list: ApiResourceList;
  try {
    list = await rest.request<ApiResourceList>("GET", groupVersionPath(apiVersion));
  } catch (error) {
    // Only a 404 says the group/version is not served. A 503 (an API server starting or overloaded, an
    // aggregated API's backend down) says nothing about it: an error, so that callers keep what they knew.
    if (error instanceof KubeApiError && error.statusCode === 404) return undefined;
    throw error;
  }
  const resource = (list.resources ?? []).find((entry) => entry.kind === kind && !entry.name.includes("/"));
  return resource && { apiVersion, kind, plural: resource.name, namespaced: resource.namespaced };
}
