// Reading where the API server is and how to authenticate, as client-go does, without client-node's
// KubeConfig for the cases an operator runs with.
import { mkdtempSync, writeFileSync } from "node:fs";
import type https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  inClusterConnection,
  kubeconfigConnection,
  loadClusterConnection,
} from "../../../src/runtime/kubeconfig.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "kubeconfig-test-"));
}

async function optionsOf(connection: {
  applyToHTTPSOptions(o: https.RequestOptions): Promise<void>;
}): Promise<https.RequestOptions> {
  const options: https.RequestOptions = { headers: { Accept: "application/json" } };
  await connection.applyToHTTPSOptions(options);
  return options;
}

describe("inClusterConnection", () => {
  it("reads the ServiceAccount's CA and token, and the token again once it is rotated", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "ca.crt"), "CA");
    writeFileSync(join(dir, "token"), "first\n");
    let now = 0;
    const connection = inClusterConnection(
      { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" },
      dir,
      () => now,
    );
    expect(connection.getCurrentCluster()).toEqual({ server: "https://10.0.0.1:443" });
    const options = await optionsOf(connection);
    expect(options.ca?.toString()).toBe("CA");
    expect(options.headers).toMatchObject({ Authorization: "Bearer first", Accept: "application/json" });
    // The kubelet rotates the token in place: within a minute the new one is sent.
    writeFileSync(join(dir, "token"), "second\n");
    now += 30_000;
    expect((await optionsOf(connection)).headers).toMatchObject({ Authorization: "Bearer first" });
    now += 31_000;
    expect((await optionsOf(connection)).headers).toMatchObject({ Authorization: "Bearer second" });
  });

  it("brackets an IPv6 service host, and refuses to run outside a cluster", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "ca.crt"), "CA");
    const connection = inClusterConnection(
      { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" },
      dir,
    );
    expect(connection.getCurrentCluster()?.server).toBe("https://[fd00::1]:443");
    expect(() => inClusterConnection({}, dir)).toThrow("not in a cluster");
  });
});

describe("kubeconfigConnection", () => {
  const write = (dir: string, text: string): string => {
    const path = join(dir, "config");
    writeFileSync(path, text);
    return path;
  };

  it("reads the current context: server, inline CA, client certificate files relative to the file", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "client.crt"), "CERT");
    writeFileSync(join(dir, "client.key"), "KEY");
    const path = write(
      dir,
      `apiVersion: v1
kind: Config
current-context: local
contexts:
  - name: other
    context: { cluster: other, user: other }
  - name: local
    context: { cluster: local, user: admin }
clusters:
  - name: local
    cluster:
      server: https://127.0.0.1:6443
      certificate-authority-data: ${Buffer.from("CA").toString("base64")}
      tls-server-name: kubernetes
users:
  - name: admin
    user: { client-certificate: client.crt, client-key: client.key }
`,
    );
    const connection = kubeconfigConnection(path);
    expect(connection?.getCurrentCluster()).toEqual({ server: "https://127.0.0.1:6443" });
    const options = await optionsOf(connection ?? { applyToHTTPSOptions: () => Promise.resolve() });
    expect(options.ca?.toString()).toBe("CA");
    expect(options.cert?.toString()).toBe("CERT");
    expect(options.key).toEqual(Buffer.from("KEY"));
    expect(options.servername).toBe("kubernetes");
    expect(options.headers).not.toHaveProperty("Authorization");
  });

  it("sends a bearer token and honours insecure-skip-tls-verify", async () => {
    const path = write(
      tempDir(),
      `current-context: c
contexts: [{ name: c, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: { server: "https://k:6443", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: abc } }]
`,
    );
    const options = await optionsOf(
      kubeconfigConnection(path) ?? { applyToHTTPSOptions: () => Promise.resolve() },
    );
    expect(options.rejectUnauthorized).toBe(false);
    expect(options.headers).toMatchObject({ Authorization: "Bearer abc" });
  });

  it("leaves an exec plugin, an auth provider and a proxy to client-node", () => {
    const base = (user: string, cluster = "") => `current-context: c
contexts: [{ name: c, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: { server: "https://k:6443"${cluster} } }]
users: [{ name: u, user: ${user} }]
`;
    expect(kubeconfigConnection(write(tempDir(), base("{ exec: { command: aws } }")))).toBeUndefined();
    expect(kubeconfigConnection(write(tempDir(), base("{ auth-provider: { name: oidc } }")))).toBeUndefined();
    expect(
      kubeconfigConnection(write(tempDir(), base("{ token: t }", ', proxy-url: "http://p:3128"'))),
    ).toBeUndefined();
  });

  it("names what is missing", () => {
    expect(() => kubeconfigConnection(write(tempDir(), "contexts: []\n"))).toThrow("no current-context");
    expect(() =>
      kubeconfigConnection(write(tempDir(), "current-context: x\ncontexts: [{ name: y, context: {} }]\n")),
    ).toThrow('no context named "x"');
  });
});

describe("loadClusterConnection", () => {
  it("takes the kubeconfig given, then the ServiceAccount in a cluster, then $KUBECONFIG", async () => {
    const dir = tempDir();
    const path = join(dir, "config");
    writeFileSync(
      path,
      `current-context: c
contexts: [{ name: c, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: { server: "https://from-file:6443" } }]
users: [{ name: u, user: { token: t } }]
`,
    );
    expect((await loadClusterConnection(path, {})).getCurrentCluster()?.server).toBe(
      "https://from-file:6443",
    );
    expect((await loadClusterConnection(undefined, { KUBECONFIG: path })).getCurrentCluster()?.server).toBe(
      "https://from-file:6443",
    );
    // A kubeconfig with an exec plugin is read by client-node's KubeConfig.
    const execPath = join(dir, "exec-config");
    writeFileSync(
      execPath,
      `current-context: c
contexts: [{ name: c, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: { server: "https://exec:6443" } }]
users: [{ name: u, user: { exec: { command: "true", apiVersion: "client.authentication.k8s.io/v1" } } }]
`,
    );
    const viaClientNode = await loadClusterConnection(execPath, {});
    expect(viaClientNode.constructor.name).toBe("KubeConfig");
    expect(viaClientNode.getCurrentCluster()?.server).toBe("https://exec:6443");
  });
});
