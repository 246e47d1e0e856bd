// The operator's configuration: flags override environment variables; zod validates the result.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { describeIssues, isEndpointPattern } from "./api/v1alpha1/index.js";

const SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

const boolean = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A comma-separated flag as a list: entries trimmed (lower-cased when asked), empty entries dropped. */
const commaList = (options: { lowerCase?: boolean } = {}) =>
  z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((s) => (options.lowerCase === true ? s.trim().toLowerCase() : s.trim()))
        .filter((s) => s.length > 0),
    );

export const OperatorConfigSchema = z.strictObject({
  namespaces: commaList()
    .pipe(z.array(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a namespace name")))
    .describe("Namespaces to watch, comma-separated; empty watches all."),
  bindAddress: z
    .string()
    .default("0.0.0.0")
    .describe("Address of the /metrics, /healthz and /readyz server."),
  metricsPort: integer(0, 65535).default(8080).describe("Port of the /metrics, /healthz and /readyz server."),
  leaderElect: boolean.default(true).describe("Elect a leader among replicas through a Lease."),
  leaderElectionNamespace: z.string().min(1).optional().describe("Namespace of the Lease."),
  leaderElectionId: z.string().min(1).default("mlautoscale-operator").describe("Name of the Lease."),
  workers: integer(1, 64)
    .default(64)
    .describe(
      "Concurrent reconciles. A reconcile mostly waits for the API server, so more workers than cores pay off while many policies change at once.",
    ),
  kubeApiQps: z.coerce
    .number()
    .min(0)
    .max(10_000)
    .default(0)
    .describe(
      "Requests per second to the API server (watches aside); 0, the default, sets no client-side limit and relies on the API server's Priority and Fairness.",
    ),
  kubeApiBurst: integer(1, 10_000).default(100).describe("Requests at once before --kube-api-qps applies."),
  resyncSeconds: integer(10, 86400).default(600).describe("Reconcile every policy this often."),
  kedaDiscoverySeconds: integer(1, 3600)
    .default(30)
    .describe("How often to check whether KEDA is installed."),
  shutdownTimeoutSeconds: integer(1, 600)
    .default(30)
    .describe("Deadline for in-flight reconciles on SIGTERM."),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  kubeconfig: z.string().min(1).optional().describe("Path to a kubeconfig; in-cluster config when absent."),
  allowedTriggerEndpoints: commaList({ lowerCase: true })
    .pipe(
      z.array(
        z
          .string()
          .refine(isEndpointPattern, "must be a host or *.domain, optionally with :port (e.g. *.svc:9090)"),
      ),
    )
    .describe(
      "Hosts trigger addresses may point at, comma-separated (host or *.domain, optionally :port); empty allows any.",
    ),
  propagateLabels: commaList().describe(
    "Policy labels copied onto its children, comma-separated keys or prefixes ending in / (e.g. team,example.com/); empty copies all. GitOps tracking labels are never copied.",
  ),
});

export type OperatorConfig = z.output<typeof OperatorConfigSchema>;

/** flag name -> [config key, environment variable] */
const SOURCES = {
  namespaces: ["namespaces", "WATCH_NAMESPACES"],
  "bind-address": ["bindAddress", "BIND_ADDRESS"],
  "metrics-port": ["metricsPort", "METRICS_PORT"],
  "leader-elect": ["leaderElect", "LEADER_ELECT"],
  "leader-election-namespace": ["leaderElectionNamespace", "LEADER_ELECTION_NAMESPACE"],
  "leader-election-id": ["leaderElectionId", "LEADER_ELECTION_ID"],
  workers: ["workers", "WORKERS"],
  "kube-api-qps": ["kubeApiQps", "KUBE_API_QPS"],
  "kube-api-burst": ["kubeApiBurst", "KUBE_API_BURST"],
  "resync-seconds": ["resyncSeconds", "RESYNC_SECONDS"],
  "keda-discovery-seconds": ["kedaDiscoverySeconds", "KEDA_DISCOVERY_SECONDS"],
  "shutdown-timeout-seconds": ["shutdownTimeoutSeconds", "SHUTDOWN_TIMEOUT_SECONDS"],
  "log-level": ["logLevel", "LOG_LEVEL"],
  kubeconfig: ["kubeconfig", "KUBECONFIG"],
  "allowed-trigger-endpoints": ["allowedTriggerEndpoints", "ALLOWED_TRIGGER_ENDPOINTS"],
  "propagate-labels": ["propagateLabels", "PROPAGATE_LABELS"],
} as const satisfies Record<string, readonly [keyof OperatorConfig, string]>;

export const OPERATOR_USAGE = `Usage: mlautoscale operator [flags]

Runs the MLAutoscalePolicy controller. Every flag can also be set through the environment variable in brackets.
${Object.entries(SOURCES)
  .map(
    ([flag, [key, env]]) =>
      `  --${flag.padEnd(26)} [${env}] ${OperatorConfigSchema.shape[key].description ?? ""}`,
  )
  .join("\n")}
`;

export class ConfigError extends Error {}

function defaultLeaseNamespace(env: NodeJS.ProcessEnv): string {
  if (env["POD_NAMESPACE"]) return env["POD_NAMESPACE"];
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, "utf8").trim();
  } catch {
    return "default";
  }
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(SOURCES).map((flag) => [flag, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${OPERATOR_USAGE}`);
  }
  const input: Record<string, string> = {};
  for (const [flag, [key, variable]] of Object.entries(SOURCES)) {
    const fromFlag = values[flag];
    const value = typeof fromFlag === "string" ? fromFlag : env[variable];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const result = OperatorConfigSchema.safeParse(input);
  if (!result.success) {
    const flagOf = (key: string): string => {
      const entry = Object.entries(SOURCES).find(([, [k]]) => k === key);
      return entry === undefined ? key : `--${entry[0]} (${entry[1][1]})`;
    };
    const problems = result.error.issues.map((issue) => {
      const [first] = issue.path;
      return typeof first === "string" ? `${flagOf(first)}: ${issue.message}` : describeIssues([issue])[0];
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  return {
    ...result.data,
    leaderElectionNamespace: result.data.leaderElectionNamespace ?? defaultLeaseNamespace(env),
  };
}
