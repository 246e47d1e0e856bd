// Where a policy makes KEDA connect, and the allow-list an installation may restrict that to. KEDA sends a
// trigger's credentials (its TriggerAuthentication's Secret values) to the address in the trigger's metadata,
// so whoever writes that address chooses where the Secret goes. The operator checks these rules before it
// applies anything; the admission policy (config/admission/ and the chart's admission-policy.yaml) checks
// the same rules in CEL, step for step as written here: keep the two in agreement
// (test/fixtures/trigger-endpoints.ts holds both to one table).
import type { PolicySpec } from "./types.js";

/**
 * Trigger metadata keys that hold an address, recognised by how the key ends, case-insensitively:
 * serverAddress, host, hosts, bootstrapServers, brokerList, queueURL, awsEndpoint, url, endpoints,
 * scalerAddress, datadogSite... Matching the ending rather than a list of scalers keeps scalers this
 * project does not know covered. The same RE2/JavaScript regex is in the admission policy.
 */
export const ADDRESS_KEY_REGEX =
  "(address|addresses|host|hosts|url|urls|uri|endpoint|endpoints|server|servers|brokerlist|site)$";
const ADDRESS_KEY = new RegExp(ADDRESS_KEY_REGEX);

/** KEDA reads `<key>FromEnv` from the scale target's container environment instead of the metadata. */
const FROM_ENV_SUFFIX = "fromenv";

/** `scheme://` at the start of an address: only then is what follows `://` the authority. */
export const SCHEME_REGEX = "^[a-zA-Z][a-zA-Z0-9+.-]*://";
const SCHEME = new RegExp(SCHEME_REGEX);
/** The authority ends at the first `/`, `?` or `#`. */
export const AUTHORITY_REGEX = "^[^/?#]*";
const AUTHORITY = new RegExp(AUTHORITY_REGEX);
export const PORT_SUFFIX_REGEX = ":[0-9]+$";
const PORT_SUFFIX = new RegExp(PORT_SUFFIX_REGEX);
/**
 * A host the allow-list can judge: a DNS name or IPv4 address, or an IPv6 address in brackets. Anything
 * else (`a.com;b.svc`, `$(VAR)`) is refused rather than guessed at, since another parser may read it
 * differently.
 */
export const HOST_REGEX = "^([a-z0-9]([-a-z0-9.]*[a-z0-9])?|\\[[0-9a-f:.]+\\])$";
const HOST = new RegExp(HOST_REGEX);

/**
 * An allow-list entry: a host, or `*.` and a domain (any name under it, not the domain itself), with an
 * optional `:port` (without one, any port). Lower case.
 */
export const ENDPOINT_PATTERN_REGEX = "^(\\*\\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?$";
const ENDPOINT_PATTERN = new RegExp(ENDPOINT_PATTERN_REGEX);

export interface EndpointPattern {
  /** The host, or for a wildcard the suffix it must end with (".example.com"). */
  readonly host: string;
  readonly wildcard: boolean;
  /** "" matches any port. */
  readonly port: string;
}

export function isEndpointPattern(text: string): boolean {
  return ENDPOINT_PATTERN.test(text);
}

export function parseEndpointPattern(text: string): EndpointPattern {
  if (!isEndpointPattern(text)) {
    throw new Error(
      `${JSON.stringify(text)} is not an endpoint pattern: use a host or *.domain, optionally with :port`,
    );
  }
  const colon = text.indexOf(":");
  const host = colon < 0 ? text : text.slice(0, colon);
  const port = colon < 0 ? "" : text.slice(colon + 1);
  return host.startsWith("*.")
    ? { host: host.slice(1), wildcard: true, port }
    : { host, wildcard: false, port };
}

/** CEL's lowerAscii(): only A-Z change, as in the admission policy (toLowerCase also folds e.g. U+212A). */
function lowerAscii(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** Go's unicode.IsSpace, which CEL's trim() strips (String.prototype.trim differs on U+0085 and U+FEFF). */
const SPACE = "[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const SURROUNDING_SPACE = new RegExp(`^${SPACE}+|${SPACE}+$`, "g");

function trimSpace(text: string): string {
  return text.replace(SURROUNDING_SPACE, "");
}

/** Host and port of one address; port "" when the address names none. */
export interface Authority {
  readonly host: string;
  readonly port: string;
}

/**
 * The host and port an address points at, read the way URL parsers read it: after `scheme://` if there is
 * one, up to the first `/`, `?` or `#`, after the last `@` (user information), and a trailing `:digits` is
 * the port.
 */
export function authorityOf(address: string): Authority {
  const trimmed = trimSpace(address);
  const afterScheme = SCHEME.test(trimmed) ? trimmed.slice(trimmed.indexOf("://") + 3) : trimmed;
  const authority = AUTHORITY.exec(afterScheme)?.[0] ?? "";
  const hostPort = authority.includes("@") ? authority.slice(authority.lastIndexOf("@") + 1) : authority;
  if (PORT_SUFFIX.test(hostPort)) {
    const colon = hostPort.lastIndexOf(":");
    return { host: lowerAscii(hostPort.slice(0, colon)), port: hostPort.slice(colon + 1) };
  }
  return { host: lowerAscii(hostPort), port: "" };
}

/** The addresses in a metadata value: Kafka's bootstrapServers, Redis' addresses... are comma-separated. */
export function splitAddresses(value: string): string[] {
  return value
    .split(",")
    .map(trimSpace)
    .filter((element) => element.length > 0);
}

export function endpointAllowed(address: string, patterns: readonly EndpointPattern[]): boolean {
  const { host, port } = authorityOf(address);
  if (!HOST.test(host)) return false;
  return patterns.some(
    (pattern) =>
      (pattern.port === "" || pattern.port === port) &&
      (pattern.wildcard
        ? host.endsWith(pattern.host) && host.length > pattern.host.length
        : host === pattern.host),
  );
}

/** An address the policy makes KEDA connect to, and the field it comes from. */
export interface PolicyEndpoint {
  readonly field: string;
  readonly address: string;
  /** Set when the address was read from this environment variable of spec.workload.template.env. */
  readonly fromEnv?: string;
}

/** A `...FromEnv` address key whose address is not a literal in the template, so cannot be checked. */
export interface UncheckableEndpoint {
  readonly field: string;
  readonly envName: string;
}

function isAddressKey(key: string): boolean {
  return ADDRESS_KEY.test(lowerAscii(key));
}

function isFromEnvAddressKey(key: string): boolean {
  const lower = lowerAscii(key);
  return (
    lower.endsWith(FROM_ENV_SUFFIX) && ADDRESS_KEY.test(lower.slice(0, lower.length - FROM_ENV_SUFFIX.length))
  );
}

/** Every address in the policy: trigger metadata, and the Prometheus servers of scaling.metrics. */
export function policyEndpoints(spec: PolicySpec): {
  endpoints: PolicyEndpoint[];
  uncheckable: UncheckableEndpoint[];
} {
  const endpoints: PolicyEndpoint[] = [];
  const uncheckable: UncheckableEndpoint[] = [];
  const env = spec.workload.template?.env ?? [];
  (spec.scaling.triggers ?? []).forEach((trigger, index) => {
    for (const [key, value] of Object.entries(trigger.metadata)) {
      const field = `spec.scaling.triggers[${index}].metadata.${key}`;
      if (isAddressKey(key)) {
        endpoints.push({ field, address: value });
      } else if (isFromEnvAddressKey(key)) {
        const literal = env.find((variable) => variable.name === value && variable.value !== undefined);
        if (literal?.value !== undefined) endpoints.push({ field, address: literal.value, fromEnv: value });
        else uncheckable.push({ field, envName: value });
      }
    }
  });
  const queueDepth = spec.scaling.metrics.queueDepth?.prometheus;
  if (queueDepth !== undefined) {
    endpoints.push({
      field: "spec.scaling.metrics.queueDepth.prometheus.serverAddress",
      address: queueDepth.serverAddress,
    });
  }
  const gpuUtilization = spec.scaling.metrics.gpuUtilization?.prometheus;
  if (gpuUtilization !== undefined) {
    endpoints.push({
      field: "spec.scaling.metrics.gpuUtilization.prometheus.serverAddress",
      address: gpuUtilization.serverAddress,
    });
  }
  const server = spec.scaling.metrics.server;
  if (server?.prometheus !== undefined) {
    endpoints.push({
      field: "spec.scaling.metrics.server.prometheus.serverAddress",
      address: server.prometheus.serverAddress,
    });
  }
  if (server?.activation?.serverAddress !== undefined) {
    endpoints.push({
      field: "spec.scaling.metrics.server.activation.serverAddress",
      address: server.activation.serverAddress,
    });
  }
  return { endpoints, uncheckable };
}

/** A field of the policy that names an endpoint outside the allow-list, and why. */
export interface EndpointRefusal {
  readonly field: string;
  readonly message: string;
}

/**
 * What the allow-list refuses in a policy, in field order; nothing when the list is empty (no
 * restriction).
 */
export function disallowedEndpoints(
  spec: PolicySpec,
  patterns: readonly EndpointPattern[],
): EndpointRefusal[] {
  if (patterns.length === 0) return [];
  const { endpoints, uncheckable } = policyEndpoints(spec);
  const refusals: EndpointRefusal[] = [];
  for (const endpoint of endpoints) {
    for (const address of splitAddresses(endpoint.address)) {
      if (endpointAllowed(address, patterns)) continue;
      const source = endpoint.fromEnv === undefined ? "" : ` (environment variable ${endpoint.fromEnv})`;
      refusals.push({
        field: endpoint.field,
        message: `${endpoint.field}: ${address}${source} is not an allowed trigger endpoint`,
      });
    }
  }
  for (const { field, envName } of uncheckable) {
    refusals.push({
      field,
      message:
        `${field}: the address is read from environment variable ${envName}, which is not a literal value in ` +
        "spec.workload.template.env, so it cannot be checked against the allowed trigger endpoints",
    });
  }
  return refusals;
}

/** "a, *.b:9090": for messages. */
export function describePatterns(patterns: readonly EndpointPattern[]): string {
  return patterns
    .map((p) => `${p.wildcard ? "*" : ""}${p.host}${p.port === "" ? "" : `:${p.port}`}`)
    .join(", ");
}
