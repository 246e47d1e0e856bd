// The API server's Kubernetes version (GET /version), read at start and polled afterwards, so that a
// controller learns of a control-plane upgrade once it talks to the upgraded server.
import type { Logger } from "pino";
import type { Clock } from "./clock.js";
import { Poller } from "./poller.js";
import type { KubeRestClient } from "./rest.js";

export interface ServerVersion {
  major: number;
  minor: number;
  /** As the server reports it, e.g. "v1.30.14" or "v1.30.5-eks-ce1d5eb". */
  gitVersion: string;
}

/** The fields of /version (apimachinery's version.Info) that say which release the server runs. */
export interface VersionInfo {
  major?: string;
  minor?: string;
  gitVersion?: string;
}

/**
 * Major and minor from /version. Managed clusters report a minor like "30+", so digits are read from the
 * start; when major or minor hold none, gitVersion decides. Throws when neither says.
 */
export function parseServerVersion(info: VersionInfo): ServerVersion {
  const gitVersion = info.gitVersion ?? "";
  const fromGit = /^v?(\d+)\.(\d+)/.exec(gitVersion);
  const major = Number.parseInt(info.major ?? "", 10);
  const minor = Number.parseInt(info.minor ?? "", 10);
  if (Number.isInteger(major) && Number.isInteger(minor)) return { major, minor, gitVersion };
  if (fromGit?.[1] !== undefined && fromGit[2] !== undefined) {
    return { major: Number(fromGit[1]), minor: Number(fromGit[2]), gitVersion };
  }
  throw new Error(`the API server's /version names no version: ${JSON.stringify(info)}`);
}

export async function readServerVersion(rest: Pick<KubeRestClient, "request">): Promise<ServerVersion> {
  return parseServerVersion(await rest.request<VersionInfo>("GET", "/version"));
}

export interface ServerVersionWatcherOptions {
  rest: Pick<KubeRestClient, "request">;
  /** Poll period. Default 60 s. */
  intervalMs?: number;
  onChange: (version: ServerVersion, previous: ServerVersion | undefined) => void | Promise<void>;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Reads the version at start() and then every interval; reports each change (first the first answer). A
 * failed read keeps the last answer, so an outage is not a version change; the first read after it is.
 */
export function watchServerVersion(options: ServerVersionWatcherOptions): Poller<ServerVersion> {
  return new Poller({
    what: "the API server's version",
    read: () => readServerVersion(options.rest),
    onChange: options.onChange,
    intervalMs: options.intervalMs ?? 60_000,
    ...(options.clock !== undefined && { clock: options.clock }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
}
