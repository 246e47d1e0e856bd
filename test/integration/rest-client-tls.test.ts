import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalPki, type LocalPki } from "../../dev/controlplane/pki.js";
import { KubeRestClient } from "../../src/runtime/rest.js";

// The client's keep-alive agent builds one TLS context for all its connections. A kubeconfig that
// authenticates with a client certificate (kubeadm's admin.conf, kind) must still present it on every new
// connection, and the server's certificate must still be checked against the kubeconfig's CA.

const base64 = (path: string): string => readFileSync(path).toString("base64");

function kubeConfig(server: string, pki: LocalPki, user: { cert?: string; key?: string }): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "local", server, caData: base64(pki.servingCa), skipTLSVerify: false }],
    users: [
      {
        name: "user",
        ...(user.cert !== undefined && { certData: base64(user.cert) }),
        ...(user.key !== undefined && { keyData: base64(user.key) }),
      },
    ],
    contexts: [{ name: "local", cluster: "local", user: "user" }],
    currentContext: "local",
  });
  return config;
}

describe("the API client over mutual TLS", () => {
  let dir: string;
  let pki: LocalPki;
  let server: https.Server;
  let url: string;
  const connections = new Set<string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mlautoscale-tls-"));
    pki = createLocalPki(dir, "openssl");
    server = https.createServer(
      {
        key: readFileSync(pki.serving.key),
        cert: readFileSync(pki.serving.cert),
        ca: readFileSync(pki.frontProxyCa),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (request, response) => {
        const socket = request.socket as TLSSocket;
        connections.add(`${socket.remotePort ?? 0}`);
        // Answer a little later, so that requests sent together need connections of their own.
        setTimeout(() => {
          response.setHeader("Content-Type", "application/json");
          response.end(JSON.stringify({ commonName: socket.getPeerCertificate().subject.CN }));
        }, 50);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("presents the kubeconfig's client certificate on every connection it opens", async () => {
    const client = new KubeRestClient(
      kubeConfig(url, pki, { cert: pki.frontProxyClient.cert, key: pki.frontProxyClient.key }),
    );
    connections.clear();
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => client.request<{ commonName: string }>("GET", "/version")),
    );
    expect(answers.map((answer) => answer.commonName)).toEqual(Array(4).fill("front-proxy-client"));
    expect(connections.size).toBe(4);
    // And again over the connections kept alive.
    const again = await client.request<{ commonName: string }>("GET", "/version");
    expect(again.commonName).toBe("front-proxy-client");
  });

  it("is refused by a server that requires a certificate when the kubeconfig has none", async () => {
    const client = new KubeRestClient(kubeConfig(url, pki, {}));
    await expect(client.request("GET", "/version")).rejects.toThrow();
  });

  it("refuses a server whose certificate the kubeconfig's CA did not sign", async () => {
    const otherCa = { ...pki, servingCa: pki.frontProxyCa };
    const client = new KubeRestClient(
      kubeConfig(url, otherCa, { cert: pki.frontProxyClient.cert, key: pki.frontProxyClient.key }),
    );
    await expect(client.request("GET", "/version")).rejects.toThrow(/certificate/);
  });
});
