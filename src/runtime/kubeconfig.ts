// Where the API server is and how to authenticate to it, without client-node's KubeConfig where it is not
// needed. KubeConfig imports client-node's generated API models and clients (about 70 MiB of resident memory
// and a second of start-up for a process that uses none of them). A pod's ServiceAccount and a kubeconfig
// with certificates or a token, what an operator runs with, are read here; a kubeconfig that needs an
// exec plugin, an auth provider, a proxy or several files merged goes to client-node's KubeConfig, loaded
// only then.
import { readFileSync } from "node:fs";
import type https from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

/** What KubeRestClient needs of a kubeconfig (client-node's KubeConfig has the same two methods). */
export interface ClusterConnection {
  getCurrentCluster(): { server: string; proxyUrl?: string | undefined } | null;
  /** Sets TLS options and the Authorization header for one request. */
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** How long a token read from a file is used before the file is read again (it is rotated in place). */
const TOKEN_REREAD_MS = 60_000;

/** A server, its CA, a client certificate or a bearer token (from a file read again as it rotates). */
class StaticConnection implements ClusterConnection {
  private token: { value: string; readAt: number } | undefined;

  constructor(
    private readonly cluster: { server: string; tlsServerName?: string },
    private readonly tls: Pick<https.RequestOptions, "ca" | "cert" | "key" | "rejectUnauthorized">,
    private readonly auth: { token?: string; tokenFile?: string; basic?: string },
    private readonly now: () => number = Date.now,
  ) {}

  getCurrentCluster(): { server: string } {
    return { server: this.cluster.server };
  }

  applyToHTTPSOptions(options: https.RequestOptions): Promise<void> {
    Object.assign(options, this.tls);
    if (this.cluster.tlsServerName !== undefined) options.servername = this.cluster.tlsServerName;
    const authorization = this.authorization();
    if (authorization !== undefined) options.headers = { ...options.headers, Authorization: authorization };
    return Promise.resolve();
  }

  private authorization(): string | undefined {
    if (this.auth.tokenFile !== undefined) {
      if (this.token === undefined || this.now() - this.token.readAt > TOKEN_REREAD_MS) {
        this.token = { value: readFileSync(this.auth.tokenFile, "utf8").trim(), readAt: this.now() };
      }
      return `Bearer ${this.token.value}`;
    }
    if (this.auth.token !== undefined) return `Bearer ${this.auth.token}`;
    if (this.auth.basic !== undefined) return `Basic ${this.auth.basic}`;
    return undefined;
  }
}

/** The pod's own ServiceAccount (client-go's rest.InClusterConfig). */
export function inClusterConnection(
  env: NodeJS.ProcessEnv = process.env,
  directory = SERVICE_ACCOUNT_DIR,
  now: () => number = Date.now,
): ClusterConnection {
  const host = env["KUBERNETES_SERVICE_HOST"];
  const port = env["KUBERNETES_SERVICE_PORT"];
  if (host === undefined || port === undefined) {
    throw new Error("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new StaticConnection(
    { server },
    { ca: readFileSync(join(directory, "ca.crt")) },
    { tokenFile: join(directory, "token") },
    now,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`kubeconfig: ${what} is not a map`);
  return value;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new Error(`kubeconfig: ${what} is not a string`);
  return value;
}

function named(list: unknown, name: string, what: string, field: string): Record<string, unknown> {
  const entries: unknown[] = Array.isArray(list) ? list : [];
  const found = entries.map((entry) => record(entry, what)).find((entry) => entry["name"] === name);
  if (found === undefined) throw new Error(`kubeconfig: no ${what} named "${name}"`);
  return record(found[field] ?? {}, `${what} ${name}`);
}

/** A file's bytes, or inline base64 data (`certificate-authority` or `certificate-authority-data`). */
function fileOrData(
  entry: Record<string, unknown>,
  field: string,
  baseDir: string,
  what: string,
): Buffer | undefined {
  const data = optionalString(entry[`${field}-data`], `${what} ${field}-data`);
  if (data !== undefined) return Buffer.from(data, "base64");
  const file = optionalString(entry[field], `${what} ${field}`);
  return file === undefined ? undefined : readFileSync(file.startsWith("/") ? file : join(baseDir, file));
}

/**
 * Reads a kubeconfig file's current context. Returns undefined when it needs what only client-node
 * provides (an exec plugin, an auth provider, a proxy), so that the caller loads client-node then.
 */
export function kubeconfigConnection(path: string): ClusterConnection | undefined {
  const baseDir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  const document = record(parse(readFileSync(path, "utf8")), path);
  const contextName = optionalString(document["current-context"], "current-context");
  if (contextName === undefined || contextName === "")
    throw new Error(`kubeconfig ${path}: no current-context`);
  const context = named(document["contexts"], contextName, "context", "context");
  const clusterName = optionalString(context["cluster"], "context cluster") ?? "";
  const userName = optionalString(context["user"], "context user");
  const cluster = named(document["clusters"], clusterName, "cluster", "cluster");
  const user = userName === undefined ? {} : named(document["users"], userName, "user", "user");
  if (
    user["exec"] !== undefined ||
    user["auth-provider"] !== undefined ||
    cluster["proxy-url"] !== undefined
  ) {
    return undefined;
  }
  const server = optionalString(cluster["server"], `cluster ${clusterName} server`);
  if (server === undefined) throw new Error(`kubeconfig ${path}: cluster "${clusterName}" has no server`);
  const what = `user ${userName ?? ""}`;
  const ca = fileOrData(cluster, "certificate-authority", baseDir, `cluster ${clusterName}`);
  const cert = fileOrData(user, "client-certificate", baseDir, what);
  const key = fileOrData(user, "client-key", baseDir, what);
  const tlsServerName = optionalString(cluster["tls-server-name"], `cluster ${clusterName} tls-server-name`);
  const username = optionalString(user["username"], `${what} username`);
  const password = optionalString(user["password"], `${what} password`);
  const token = optionalString(user["token"], `${what} token`);
  const tokenFile = optionalString(user["tokenFile"], `${what} tokenFile`);
  return new StaticConnection(
    { server, ...(tlsServerName !== undefined && { tlsServerName }) },
    {
      ...(ca !== undefined && { ca }),
      ...(cert !== undefined && { cert }),
      ...(key !== undefined && { key }),
      ...(cluster["insecure-skip-tls-verify"] === true && { rejectUnauthorized: false }),
    },
    {
      ...(token !== undefined && { token }),
      ...(tokenFile !== undefined && { tokenFile }),
      ...(username !== undefined &&
        password !== undefined && { basic: Buffer.from(`${username}:${password}`).toString("base64") }),
    },
  );
}

/**
 * The connection an operator uses, in client-go's order: the kubeconfig file it is given, else the pod's
 * ServiceAccount in a cluster, else $KUBECONFIG or ~/.kube/config. client-node's KubeConfig is imported
 * only for what this module does not read itself.
 */
export async function loadClusterConnection(
  kubeconfigPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ClusterConnection> {
  const path =
    kubeconfigPath ??
    (env["KUBERNETES_SERVICE_HOST"] !== undefined
      ? undefined
      : (env["KUBECONFIG"] ?? join(homedir(), ".kube", "config")));
  if (path === undefined) return inClusterConnection(env);
  // Several files merged (KUBECONFIG=a:b) are client-node's to read, as is whatever this module declines.
  const own = path.includes(":") ? undefined : kubeconfigConnection(path);
  if (own !== undefined) return own;
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kubeConfig = new KubeConfig();
  if (kubeconfigPath !== undefined) kubeConfig.loadFromFile(kubeconfigPath);
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}
