// The emulator's HTTP endpoints: /healthz, /metrics for Prometheus, and the JSON API under /v1.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ApiResult, Emulator } from "./emulator.js";
import { parseArrivals, parseLoad } from "./model.js";

const MAX_BODY_BYTES = 1 << 20;

type Api = Pick<
  Emulator,
  "synced" | "metricsText" | "listWorkloads" | "getWorkload" | "configure" | "addArrivals" | "setLoad"
>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readJson(request: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new HttpError(413, "request body too large"));
      else chunks.push(chunk);
    });
    request.on("error", reject);
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return reject(new HttpError(400, "expected a JSON body"));
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, "the body is not valid JSON"));
      }
    });
  });
}

async function route(
  api: Api,
  request: http.IncomingMessage,
): Promise<ApiResult | { text: string; status: number }> {
  const method = request.method ?? "GET";
  const segments = new URL(request.url ?? "/", "http://localhost").pathname
    .split("/")
    .filter(Boolean)
    .map((segment) => decodeURIComponent(segment));
  const path = `/${segments.join("/")}`;
  const allow = (...methods: string[]): void => {
    if (!methods.includes(method)) throw new HttpError(405, `${path} takes ${methods.join(" or ")}`);
  };
  if (path === "/healthz") {
    allow("GET");
    return api.synced() ? { status: 200, text: "ok\n" } : { status: 503, text: "caches not synced yet\n" };
  }
  if (path === "/metrics") {
    allow("GET");
    return { status: 200, text: api.metricsText() };
  }
  if (segments[0] === "v1" && segments[1] === "workloads") {
    const [, , namespace, name, action, ...rest] = segments;
    if (namespace === undefined) {
      allow("GET");
      return { status: 200, body: api.listWorkloads() };
    }
    if (name !== undefined && rest.length === 0) {
      if (action === undefined) {
        allow("GET", "PUT");
        return method === "GET"
          ? api.getWorkload(namespace, name)
          : api.configure(namespace, name, await readJson(request));
      }
      if (action === "arrivals") {
        allow("POST");
        const count = parseArrivals(await readJson(request));
        return count.ok
          ? api.addArrivals(namespace, name, count.value)
          : { status: 400, body: { error: count.message } };
      }
      if (action === "load") {
        allow("PUT");
        const rps = parseLoad(await readJson(request));
        return rps.ok
          ? api.setLoad(namespace, name, rps.value)
          : { status: 400, body: { error: rps.message } };
      }
    }
  }
  throw new HttpError(404, `no route ${method} ${path}`);
}

export async function serveEmulator(
  api: Api,
  port: number,
  host = "127.0.0.1",
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    route(api, request)
      .catch((error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500;
        return { status, body: { error: error instanceof Error ? error.message : String(error) } };
      })
      .then((result) => {
        if ("text" in result) {
          const type = request.url?.startsWith("/metrics") ? "text/plain; version=0.0.4" : "text/plain";
          response.writeHead(result.status, { "Content-Type": type });
          response.end(result.text);
        } else {
          response.writeHead(result.status, { "Content-Type": "application/json" });
          response.end(`${JSON.stringify(result.body)}\n`);
        }
      })
      .catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
