// An HTTP server on a free loopback port for unit tests of the REST client, and a kubeconfig that points
// at it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

export class LoopbackServer {
  connections = 0;
  private readonly server: http.Server;

  constructor(handler: http.RequestListener) {
    this.server = http.createServer(handler);
    this.server.on("connection", () => this.connections++);
  }

  /** Listens on a free port; resolves with the server's address. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A kubeconfig whose current context is `server`, with a token. */
export function kubeConfigFor(server: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "local", server, skipTLSVerify: true }],
    users: [{ name: "user", token: "t" }],
    contexts: [{ name: "local", cluster: "local", user: "user" }],
    currentContext: "local",
  });
  return kubeConfig;
}
