import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { HealthCheck } from "../runtime/manager.js";

export interface ObservabilityServerOptions {
  registry: Registry;
  /** Liveness: the process can do its work. */
  liveness?: readonly HealthCheck[];
  /** Readiness: the caches are synced (whether or not this replica leads). */
  readiness?: readonly HealthCheck[];
  host?: string;
  port: number;
}

/** Serves /metrics (Prometheus text), /healthz and /readyz (200 "ok", or 503 with the failing checks). */
export class ObservabilityServer {
  private server: http.Server | undefined;

  constructor(private readonly options: ObservabilityServerOptions) {}

  /** Starts listening; resolves with the bound port (useful when `port` is 0). */
  async start(): Promise<number> {
    const server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { "Content-Type": "text/plain" });
        response.end(error instanceof Error ? error.message : String(error));
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port, this.options.host ?? "0.0.0.0", () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path === "/metrics") {
      const body = await this.options.registry.metrics();
      response.writeHead(200, { "Content-Type": this.options.registry.contentType });
      response.end(body);
    } else if (path === "/healthz" || path === "/livez") {
      respondToChecks(response, this.options.liveness ?? []);
    } else if (path === "/readyz") {
      respondToChecks(response, this.options.readiness ?? []);
    } else {
      response.writeHead(404, { "Content-Type": "text/plain" });
      response.end("not found\n");
    }
  }
}

function respondToChecks(response: http.ServerResponse, checks: readonly HealthCheck[]): void {
  const failures = checks.flatMap((healthCheck) => {
    const reason = healthCheck.check();
    return reason === undefined ? [] : [`${healthCheck.name}: ${reason}`];
  });
  response.writeHead(failures.length === 0 ? 200 : 503, { "Content-Type": "text/plain" });
  response.end(failures.length === 0 ? "ok\n" : `${failures.join("\n")}\n`);
}
