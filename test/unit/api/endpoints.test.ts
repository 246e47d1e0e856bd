// The operator's trigger endpoint rules: how an address is read, how patterns match, and the shared table
// (which the integration suite also runs through the admission policy's CEL). The regexes are written twice,
// here and in the admission policy, so the test checks they are the same text.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ADDRESS_KEY_REGEX,
  AUTHORITY_REGEX,
  authorityOf,
  disallowedEndpoints,
  endpointAllowed,
  ENDPOINT_PATTERN_REGEX,
  HOST_REGEX,
  parseEndpointPattern,
  parsePolicy,
  PORT_SUFFIX_REGEX,
  SCHEME_REGEX,
  splitAddresses,
} from "../../../src/api/v1alpha1/index.js";
import { ALLOWED_TRIGGER_ENDPOINTS, TRIGGER_ENDPOINT_CASES } from "../../fixtures/trigger-endpoints.js";

const REPO = resolve(import.meta.dirname, "../../..");
const patterns = ALLOWED_TRIGGER_ENDPOINTS.map(parseEndpointPattern);

describe("authorityOf", () => {
  it.each([
    ["http://prometheus.monitoring:9090/api", { host: "prometheus.monitoring", port: "9090" }],
    ["amqp://user:p@ss@rabbitmq.queues:5672/vhost", { host: "rabbitmq.queues", port: "5672" }],
    ["kafka-0.kafka:9092", { host: "kafka-0.kafka", port: "9092" }],
    ["  Kafka.Example.COM  ", { host: "kafka.example.com", port: "" }],
    ["https://sqs.us-east-1.amazonaws.com/1/q?x=1", { host: "sqs.us-east-1.amazonaws.com", port: "" }],
    ["http://[fd00::1]:9090/", { host: "[fd00::1]", port: "9090" }],
    ["[fd00::1]", { host: "[fd00::1]", port: "" }],
    // No scheme: "://" later in the value is not one, and the authority ends at the first "/".
    ["evil.example.com/?u=http://ok.svc", { host: "evil.example.com", port: "" }],
    ["http://evil.example.com#@ok.svc", { host: "evil.example.com", port: "" }],
    ["http://ok.svc@evil.example.com", { host: "evil.example.com", port: "" }],
  ])("reads %s", (address, expected) => {
    expect(authorityOf(address)).toEqual(expected);
  });

  it("splits comma-separated lists and drops empty elements", () => {
    expect(splitAddresses(" a:1, b:2 ,,c:3, ")).toEqual(["a:1", "b:2", "c:3"]);
    expect(splitAddresses("")).toEqual([]);
  });
});

describe("endpoint patterns", () => {
  it("parse hosts, wildcards and ports", () => {
    expect(parseEndpointPattern("prometheus.monitoring")).toEqual({
      host: "prometheus.monitoring",
      wildcard: false,
      port: "",
    });
    expect(parseEndpointPattern("*.svc.cluster.local:9090")).toEqual({
      host: ".svc.cluster.local",
      wildcard: true,
      port: "9090",
    });
  });

  it.each(["", "*", "Upper.Case", "http://x", "a.b/path", "*.", "a:b", "*x.com", "a.b:123456"])(
    "refuse %j",
    (text) => {
      expect(() => parseEndpointPattern(text)).toThrow(/is not an endpoint pattern/);
    },
  );

  it("match a wildcard's names but not the domain itself or look-alikes", () => {
    const wildcard = [parseEndpointPattern("*.example.com")];
    expect(endpointAllowed("a.example.com", wildcard)).toBe(true);
    expect(endpointAllowed("http://a.b.example.com:1/", wildcard)).toBe(true);
    expect(endpointAllowed("example.com", wildcard)).toBe(false);
    expect(endpointAllowed("evilexample.com", wildcard)).toBe(false);
    expect(endpointAllowed("a.example.com.evil.net", wildcard)).toBe(false);
  });

  it("match a port only when the address names it", () => {
    const withPort = [parseEndpointPattern("broker:9092")];
    expect(endpointAllowed("broker:9092", withPort)).toBe(true);
    expect(endpointAllowed("broker:9093", withPort)).toBe(false);
    expect(endpointAllowed("broker", withPort)).toBe(false);
    expect(endpointAllowed("broker:9093", [parseEndpointPattern("broker")])).toBe(true);
  });

  it("refuse hosts that are not host names, even when a wildcard would match their end", () => {
    const wildcard = [parseEndpointPattern("*.svc")];
    expect(endpointAllowed("evil.com;a.svc", wildcard)).toBe(false);
    expect(endpointAllowed("$(HOST).svc", wildcard)).toBe(false);
    expect(endpointAllowed("", wildcard)).toBe(false);
  });
});

describe("disallowedEndpoints", () => {
  it("allows everything when the list is empty", () => {
    for (const c of TRIGGER_ENDPOINT_CASES) {
      const parsed = parsePolicy(c.policy);
      if (!parsed.ok) throw new Error(`${c.name}: ${parsed.problems.join("; ")}`);
      expect(disallowedEndpoints(parsed.policy.spec, []), c.name).toEqual([]);
    }
  });

  it.each(TRIGGER_ENDPOINT_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const parsed = parsePolicy(c.policy);
    if (!parsed.ok) throw new Error(parsed.problems.join("; "));
    const refusals = disallowedEndpoints(parsed.policy.spec, patterns);
    if (c.refused === undefined) {
      expect(refusals).toEqual([]);
      return;
    }
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.field).toBe(c.refused.field);
    expect(refusals[0]?.message).toContain(`${c.refused.field}: `);
    expect(refusals[0]?.message).toContain(c.refused.text);
  });
});

describe("the admission policy's copy of the rules", () => {
  const manifest = readFileSync(join(REPO, "config", "admission", "policy-author-rights.yaml"), "utf8");
  const template = readFileSync(join(REPO, "config", "chart", "templates", "admission-policy.yaml"), "utf8");
  /** A regex as it appears in a single-quoted CEL string inside a YAML block scalar: backslashes doubled. */
  const asCelString = (regex: string): string => `'${regex.replaceAll("\\", "\\\\")}'`;

  it.each([
    ["address keys", ADDRESS_KEY_REGEX],
    ["schemes", SCHEME_REGEX],
    ["authorities", AUTHORITY_REGEX],
    ["ports", PORT_SUFFIX_REGEX],
    ["hosts", HOST_REGEX],
  ])("uses the same regex for %s", (_what, regex) => {
    expect(manifest).toContain(asCelString(regex));
  });

  it("names the address key regex once in the chart template", () => {
    expect(template).toContain(`$addressKey := "${ADDRESS_KEY_REGEX}"`);
  });

  it("validates chart values with the operator's pattern syntax", () => {
    const schema = JSON.parse(readFileSync(join(REPO, "config", "chart", "values.schema.json"), "utf8")) as {
      properties: { triggerEndpoints: { properties: { allowed: { items: { pattern: string } } } } };
    };
    expect(schema.properties.triggerEndpoints.properties.allowed.items.pattern).toBe(ENDPOINT_PATTERN_REGEX);
  });
});
