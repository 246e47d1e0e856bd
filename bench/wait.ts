// Waiting on a cluster, for the benchmarks that drive one.
import type { KubeRestClient } from "../src/runtime/rest.js";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** GETs an API path; undefined when it fails for any reason (a benchmark polls again). */
export async function getIfExists<T>(
  rest: KubeRestClient,
  path: string,
  query?: Record<string, string>,
): Promise<T | undefined> {
  try {
    return await rest.request<T>("GET", path, query === undefined ? {} : { query });
  } catch {
    return undefined;
  }
}

/** Polls `check` every second until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1_000);
  }
}
