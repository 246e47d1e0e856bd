import http from "node:http";
import https from "node:https";
import { createInterface } from "node:readline";
import { createSecureContext, type SecureContext } from "node:tls";
import { classifyApiRequest } from "./api-request.js";
import { KubeApiError } from "./errors.js";
import type { WriteFence } from "./fence.js";
import type { ClusterConnection } from "./kubeconfig.js";
import { TokenBucket } from "./ratelimit.js";
import { linkedSignal } from "./signals.js";

/**
 * A thin JSON client for the Kubernetes REST API on node:http(s), authenticated by a ClusterConnection
 * (kubeconfig.ts, or client-node's KubeConfig). The runtime uses it where client-node's generated clients get in the way: lists and
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
  /** Overrides the client's request timeout for this call. */
  timeoutMs?: number;
  /**
   * A request of leader election itself (the Lease): neither fenced, since it does not depend on
   * leadership, nor rate limited, since a renewal waiting behind a roll-out would lose the lease.
   */
  unfenced?: boolean;
}

export interface KubeRestClientOptions {
  /**
   * Every request but a watch is aborted after this long (client-go's rest.Config.Timeout; watches
   * have their server-side timeout and the informer's silence check). Default 30 s.
   */
  requestTimeoutMs?: number;
  /** Writes are sent only while the fence is open (leader election); reads never ask it. */
  fence?: WriteFence;
  /**
   * Client-side rate limit of every request but watches (client-go's rest.Config QPS and Burst). Off
   * (qps 0) by default: the API server's Priority and Fairness protects it.
   */
  qps?: number;
  burst?: number;
  /** Told of every request answered (or failed on the way), as kube-apiserver would count it. */
  metrics?: RestClientMetrics;
}

export interface RestClientMetrics {
  /**
   * One request to `resource` with kube-apiserver's `verb` (GET, LIST, WATCH, POST, PUT, PATCH, APPLY,
   * DELETE), answered with the HTTP status `code`, or `<error>` when no answer came (client-go's
   * rest_client_requests_total uses the same).
   */
  requestDone(verb: string, resource: string, code: string): void;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The TLS settings of a connection, as applyToHTTPSOptions fills them in. */
type TlsOptions = Pick<
  https.AgentOptions,
  "ca" | "cert" | "key" | "pfx" | "passphrase" | "rejectUnauthorized" | "servername"
>;

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: JsonObject;
}

export class KubeRestClient {
  private readonly requestTimeoutMs: number;
  private readonly fence: WriteFence | undefined;
  private readonly rateLimit: TokenBucket;
  private readonly metrics: RestClientMetrics | undefined;
  /** One keep-alive agent, so requests reuse connections (client-node builds a new agent per call). */
  private agent: { key: string; agent: https.Agent } | undefined;
  private readonly httpAgent = new http.Agent({ keepAlive: true });

  constructor(
    private readonly kubeConfig: ClusterConnection,
    options: KubeRestClientOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.fence = options.fence;
    this.rateLimit = new TokenBucket(options.qps ?? 0, options.burst ?? 0);
    this.metrics = options.metrics;
  }

  /**
   * One request with a deadline. A write (any method but GET) on a fenced client carries the fence's
   * signal, so it is refused before it is sent, or aborted in flight, once this replica stops leading.
   */
  async request<T = JsonObject>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const sources: AbortSignal[] = [];
    if (options.signal !== undefined) sources.push(options.signal);
    if (this.fence !== undefined && method !== "GET" && options.unfenced !== true) {
      sources.push(this.fence.writeSignal());
    }
    const { signal, release } = linkedSignal(sources, options.timeoutMs ?? this.requestTimeoutMs);
    try {
      if (options.unfenced !== true) await this.rateLimit.take(signal);
      signal.throwIfAborted();
      const response = await this.send(method, path, { ...options, signal });
      const text = await readAll(response);
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) throw apiErrorFrom(status, text);
      return (text.length === 0 ? {} : JSON.parse(text)) as T;
    } catch (error) {
      // The reason the request was aborted (a timeout, a closed fence) says more than "aborted".
      if (signal.aborted && signal.reason instanceof Error) throw signal.reason;
      throw error;
    } finally {
      release();
    }
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
      const onAbort = (): void => {
        response.destroy();
        finish();
      };
      const finish = (): void => {
        // The signal outlives the watch (an informer's stop signal): leave no listener on it.
        signal.removeEventListener("abort", onAbort);
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
      signal.addEventListener("abort", onAbort, { once: true });
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
    // A proxy needs client-node's proxy agent; otherwise connections are kept and reused.
    if (cluster.proxyUrl === undefined) {
      requestOptions.agent = url.protocol === "https:" ? this.keepAliveAgent(requestOptions) : this.httpAgent;
    }
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined) {
      requestOptions.headers = {
        ...requestOptions.headers,
        "Content-Type": options.contentType ?? "application/json",
        "Content-Length": Buffer.byteLength(payload),
      };
    }
    const transport = url.protocol === "http:" ? http : https;
    const kind =
      this.metrics === undefined ? undefined : classifyApiRequest(method, url, options.contentType);
    const done = (code: string): void => {
      if (kind !== undefined) this.metrics?.requestDone(kind.verb, kind.resource, code);
    };
    return new Promise((resolve, reject) => {
      let answered = false;
      const request = transport.request(url, { ...requestOptions, signal: options.signal }, (response) => {
        answered = true;
        done(String(response.statusCode ?? 0));
        resolve(response);
      });
      request.on("error", (error) => {
        // An answer was counted when it arrived; this is a request that got none.
        if (!answered) done("<error>");
        reject(error);
      });
      if (payload !== undefined) request.write(payload);
      request.end();
    });
  }

  /** The shared agent for these TLS settings; a new one only when they change (a rotated certificate). */
  private keepAliveAgent(options: TlsOptions): https.Agent {
    const tls: TlsOptions = {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
      servername: options.servername,
      ...(options.rejectUnauthorized !== undefined && { rejectUnauthorized: options.rejectUnauthorized }),
    };
    const text = (value: unknown): string => {
      if (Array.isArray(value)) return value.map(text).join(",");
      if (Buffer.isBuffer(value)) return value.toString("base64");
      if (typeof value === "string" || typeof value === "boolean") return String(value);
      return value === undefined ? "" : JSON.stringify(value);
    };
    const key = [tls.ca, tls.cert, tls.key, tls.pfx, tls.passphrase, tls.servername, tls.rejectUnauthorized]
      .map(text)
      .join("|");
    if (this.agent?.key !== key) {
      this.agent?.agent.destroy();
      // One TLS context for every connection of the agent: without it each new connection parses the
      // CA bundle, certificate and key again.
      const secureContext = tlsContext(tls);
      this.agent = { key, agent: new https.Agent({ ...tls, secureContext, keepAlive: true }) };
    }
    return this.agent.agent;
  }
}

function tlsContext(options: TlsOptions): SecureContext {
  return createSecureContext({
    ...(options.ca !== undefined && { ca: options.ca }),
    ...(options.cert !== undefined && { cert: options.cert }),
    ...(options.key !== undefined && { key: options.key }),
    ...(options.pfx !== undefined && { pfx: options.pfx }),
    ...(options.passphrase !== undefined && { passphrase: options.passphrase }),
  });
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
