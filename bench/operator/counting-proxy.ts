// A plain-HTTP reverse proxy on loopback in front of kube-apiserver that counts the requests passing
// through it. kube-apiserver's own request metrics do not say which client sent a request, so the
// operator is pointed at this proxy: what it counts is exactly the operator's traffic.
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { classifyRequest, countKey, type RequestCounts } from "./request-counts.js";

export interface CountingProxy {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** A copy of the counts so far ("VERB resource" -> requests). */
  counts(): RequestCounts;
  close(): Promise<void>;
}

export interface Upstream {
  /** https://host:port of kube-apiserver */
  server: string;
  /** PEM of the CA that signed the API server's certificate. */
  caPem: string;
  /** Bearer token the proxy sends upstream on behalf of every client. */
  token: string;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "host"]);

export async function startCountingProxy(upstream: Upstream): Promise<CountingProxy> {
  const target = new URL(upstream.server);
  // Watches hold a connection each for minutes: no socket limit.
  const agent = new https.Agent({ keepAlive: true, ca: upstream.caPem, maxSockets: Infinity });
  const counts: RequestCounts = new Map();

  const server = http.createServer((request, response) => {
    const method = request.method ?? "GET";
    const url = request.url ?? "/";
    const contentType = request.headers["content-type"];
    const classified = classifyRequest(method, url, contentType);
    if (classified !== undefined) {
      const key = countKey(classified.verb, classified.resource);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    }
    headers["authorization"] = `Bearer ${upstream.token}`;
    const upstreamRequest = https.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method,
        path: url,
        headers,
        agent,
      },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
        upstreamResponse.on("error", () => response.destroy());
      },
    );
    upstreamRequest.on("error", (error) => {
      if (!response.headersSent) {
        response.writeHead(502, { "content-type": "text/plain" });
        response.end(`proxy: ${error.message}`);
      } else {
        response.destroy();
      }
    });
    // A client that goes away (a watch it aborts) ends the upstream request too.
    response.on("close", () => upstreamRequest.destroy());
    request.pipe(upstreamRequest);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => new Map(counts),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
