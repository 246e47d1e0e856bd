import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer, type Server } from "node:net";

// Ports handed out by this process and not yet known to be released; two control planes started in
// parallel in one process then never receive the same port even if the kernel offers it twice.
const handedOut = new Set<number>();

/** Free loopback ports, all held open together while they are chosen so that they differ. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = createServer();
      servers.push(server);
      const port = await new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
          const address = server.address();
          if (address && typeof address === "object") resolve(address.port);
          else reject(new Error("no port"));
        });
      });
      if (!handedOut.has(port)) {
        handedOut.add(port);
        ports.push(port);
      }
    }
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
  return ports;
}

export function releasePorts(ports: Iterable<number>): void {
  for (const port of ports) handedOut.delete(port);
}

export interface HttpProbe {
  url: string;
  /** PEM CA bundle to trust for https; the components serve self-signed certificates otherwise. */
  ca?: string;
  bearerToken?: string;
}

/** One GET; resolves with the status and body, or rejects on a connection error. */
export function httpGet(probe: HttpProbe, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  const url = new URL(probe.url);
  const headers: Record<string, string> = probe.bearerToken
    ? { Authorization: `Bearer ${probe.bearerToken}` }
    : {};
  return new Promise((resolve, reject) => {
    const onResponse = (response: IncomingMessage): void => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    };
    const req =
      url.protocol === "https:"
        ? httpsRequest(url, { headers, timeout: timeoutMs, ...tlsOptions(probe.ca) }, onResponse)
        : httpRequest(url, { headers, timeout: timeoutMs }, onResponse);
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

function tlsOptions(ca: string | undefined): { ca: string } | { rejectUnauthorized: false } {
  // A component's health endpoint is only asked "are you up"; its self-signed certificate carries no trust.
  return ca ? { ca } : { rejectUnauthorized: false };
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked on every round: throwing from it ends the wait early (e.g. the process died). */
  abortIf?: () => void;
}

/** Polls until check() returns a value other than undefined; the last failure is in the timeout error. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastProblem = "not ready";
  for (;;) {
    options.abortIf?.();
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}: ${lastProblem}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
