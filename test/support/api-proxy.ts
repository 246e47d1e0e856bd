// A plain-HTTP proxy in front of the real API server, for one operator process: it forwards every
// request with the test's own credentials, records when each was forwarded, and can hold chosen
// requests forever (a lease renewal that hangs) without touching the others.
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { KubeConfig } from "@kubernetes/client-node";

export interface ForwardedRequest {
  method: string;
  path: string;
  /** Date.now() when the request was sent on to the API server. */
  at: number;
}

export class ApiProxy {
  readonly forwarded: ForwardedRequest[] = [];
  /** Requests that match are held: neither forwarded nor answered, until the client gives up. */
  stall: (method: string, path: string) => boolean = () => false;
  readonly held: ForwardedRequest[] = [];
  private readonly server: http.Server;
  private upstream: { url: URL; options: https.RequestOptions } | undefined;

  constructor(private readonly kubeConfig: KubeConfig) {
    this.server = http.createServer((request, response) => this.handle(request, response));
  }

  /** Starts listening on loopback; returns the address to put in the operator's kubeconfig. */
  async start(): Promise<string> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error("the test kubeconfig has no cluster");
    const options: https.RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(options);
    this.upstream = { url: new URL(cluster.server), options };
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Writes (anything but GET) that were forwarded, except those to `except`'s paths. */
  writes(except: RegExp = /\/leases(\/|$)/): ForwardedRequest[] {
    return this.forwarded.filter((r) => r.method !== "GET" && !except.test(r.path));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const method = request.method ?? "GET";
    const path = request.url ?? "/";
    if (this.stall(method, path)) {
      this.held.push({ method, path, at: Date.now() });
      request.resume();
      return;
    }
    const upstream = this.upstream;
    if (upstream === undefined) throw new Error("proxy not started");
    // The operator's own credentials (a placeholder token) are replaced by the test's client certificate.
    const headers = { ...request.headers };
    delete headers["authorization"];
    delete headers["host"];
    const forwarded = https.request(
      new URL(path, upstream.url),
      { ...upstream.options, method, headers: { ...upstream.options.headers, ...headers } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on("error", () => response.destroy());
    response.on("close", () => forwarded.destroy());
    this.forwarded.push({ method, path, at: Date.now() });
    request.pipe(forwarded);
  }
}
