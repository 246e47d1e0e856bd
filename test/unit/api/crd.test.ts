import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  buildCustomResourceDefinition,
  CRD_FILE,
  renderCrdYaml,
  type JsonSchema,
} from "../../../src/api/v1alpha1/index.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

function isRecord(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

interface SchemaNode {
  path: string;
  node: JsonSchema;
}

/** Every schema node under `root`, with a dotted path (`[]` for list items, `{}` for map values). */
function schemaNodes(root: JsonSchema, path: string): SchemaNode[] {
  const out: SchemaNode[] = [{ path, node: root }];
  const properties = root["properties"];
  if (isRecord(properties)) {
    for (const [name, child] of Object.entries(properties)) {
      if (isRecord(child)) out.push(...schemaNodes(child, `${path}.${name}`));
    }
  }
  const items = root["items"];
  if (isRecord(items)) out.push(...schemaNodes(items, `${path}[]`));
  const values = root["additionalProperties"];
  if (isRecord(values)) out.push(...schemaNodes(values, `${path}{}`));
  const branches = root["anyOf"];
  if (Array.isArray(branches)) {
    branches.forEach((b, i) => {
      if (isRecord(b)) out.push(...schemaNodes(b, `${path}|anyOf${i}`));
    });
  }
  return out;
}

/** Every key anywhere in a JSON value (to find $ref or definitions hidden at any depth). */
function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...allKeys(v)]);
}

const crd = buildCustomResourceDefinition();
const version = (crd.spec["versions"] as JsonSchema[])[0] ?? {};
const openAPIV3Schema = (version["schema"] as { openAPIV3Schema: JsonSchema }).openAPIV3Schema;
const rootProperties = openAPIV3Schema["properties"] as Record<string, JsonSchema>;
const specSchema = rootProperties["spec"] ?? {};
const statusSchema = rootProperties["status"] ?? {};
const nodes = schemaNodes(openAPIV3Schema, "");
const validations = nodes.flatMap(({ path, node }) => {
  const rules = node["x-kubernetes-validations"];
  return Array.isArray(rules) ? rules.map((r: unknown) => ({ path, rule: r as JsonSchema })) : [];
});

describe("committed CRD", () => {
  it(`${CRD_FILE} is what \`npm run generate\` writes from the schema`, () => {
    const committed = readFileSync(join(repoRoot, CRD_FILE), "utf8");
    // A failure here means the zod schema changed without regenerating the CRD.
    expect(committed).toBe(renderCrdYaml());
  });

  it("parses back to the object the generator builds", () => {
    const documents = renderCrdYaml()
      .split(/^---$/m)
      .map((d) => d.trim())
      .filter((d) => d !== "" && !d.startsWith("#"));
    expect(documents).toHaveLength(1);
    expect(parse(documents[0] ?? "")).toEqual(JSON.parse(JSON.stringify(crd)));
  });

  it("reports its size and CEL rule count", () => {
    const bytes = Buffer.byteLength(renderCrdYaml(), "utf8");
    const jsonBytes = Buffer.byteLength(JSON.stringify(crd), "utf8");
    console.log(
      `CRD ${CRD_FILE}: ${bytes} bytes of YAML, ${jsonBytes} bytes of JSON, ${validations.length} CEL rules, ` +
        `${nodes.length} schema nodes`,
    );
    // etcd's default request limit is 1.5 MiB; a CRD near it cannot be updated. Keep a wide margin.
    expect(jsonBytes).toBeLessThan(256 * 1024);
    // One rule per cross-field constraint: spec rules, trigger metadata rules and field-level checks.
    expect(validations.length).toBeGreaterThanOrEqual(25);
  });
});

describe("structural schema", () => {
  it("has no $ref, definitions or additionalProperties: false", () => {
    const keys = allKeys(openAPIV3Schema);
    expect(keys).not.toContain("$ref");
    expect(keys).not.toContain("$defs");
    expect(keys).not.toContain("definitions");
    expect(keys).not.toContain("$schema");
    const closed = nodes.filter(({ node }) => node["additionalProperties"] === false).map((n) => n.path);
    expect(closed).toEqual([]);
  });

  it("uses anyOf only in int-or-string fields, with bare integer and string branches", () => {
    const unions = nodes.filter(({ node }) => node["anyOf"] !== undefined || node["oneOf"] !== undefined);
    expect(unions.length).toBeGreaterThan(0);
    for (const { path, node } of unions) {
      expect(node["oneOf"], path).toBeUndefined();
      expect(node["x-kubernetes-int-or-string"], path).toBe(true);
      expect(node["anyOf"], path).toEqual([{ type: "integer" }, { type: "string" }]);
      expect(node["type"], path).toBeUndefined();
    }
    expect(keysOf(nodes, "allOf")).toEqual([]);
    expect(keysOf(nodes, "not")).toEqual([]);
  });

  it("gives every node a type, except int-or-string fields and their branches", () => {
    const untyped = nodes
      .filter(({ node }) => node["type"] === undefined && node["x-kubernetes-int-or-string"] !== true)
      .filter(({ path }) => !path.includes("|anyOf"))
      .map((n) => n.path);
    expect(untyped).toEqual([]);
  });

  it("gives every property under spec and status a description", () => {
    const undocumented = [...schemaNodes(specSchema, "spec"), ...schemaNodes(statusSchema, "status")]
      .filter(({ path }) => !path.endsWith("[]") && !path.endsWith("{}") && !path.includes("|anyOf"))
      .filter(({ node }) => typeof node["description"] !== "string" || node["description"] === "")
      .map((n) => n.path);
    expect(undocumented).toEqual([]);
  });

  it("keeps the CEL rules attached where their fields are", () => {
    for (const { path, rule } of validations) {
      expect(typeof rule["rule"], path).toBe("string");
      expect(typeof rule["message"], path).toBe("string");
      expect(String(rule["message"]).length, path).toBeGreaterThan(10);
    }
    const specRules = validations.filter((v) => v.path === ".spec");
    expect(specRules.map((v) => v.rule["fieldPath"]).sort()).toEqual([
      ".authentication",
      ".replicas.min",
      ".scaling",
      ".scaling.engine",
      ".scaling.fallback.replicas",
      ".scaling.metrics",
      ".scaling.metrics.server.activation",
      ".scaling.metrics.server.activation",
      ".scaling.scaleToZero",
    ]);
  });

  it("bounds every list above a CEL rule and every string a quantity rule reads", () => {
    // The API server refuses a CRD whose rules' estimated cost is unbounded: a rule inside a list runs once
    // per item, and isQuantity() costs by string length.
    const unbounded: string[] = [];
    for (const { path } of validations) {
      const listPaths = [...path.matchAll(/\[\]/g)].map((m) => path.slice(0, m.index));
      for (const listPath of listPaths) {
        const list = nodes.find((n) => n.path === listPath)?.node;
        if (typeof list?.["maxItems"] !== "number") unbounded.push(`${listPath} (above ${path})`);
      }
    }
    for (const { path, node } of nodes) {
      if (node["x-kubernetes-int-or-string"] !== true || node["x-kubernetes-validations"] === undefined)
        continue;
      if (JSON.stringify(node["x-kubernetes-validations"]).includes("quantity")) {
        if (typeof node["maxLength"] !== "number") unbounded.push(path);
      }
    }
    expect([...new Set(unbounded)]).toEqual([]);
  });

  it("declares defaults the API server applies", () => {
    const at = (path: string): JsonSchema | undefined => nodes.find((n) => n.path === path)?.node;
    expect(at(".spec.scaling.engine")?.["default"]).toBe("Auto");
    expect(at(".spec.replicas.min")?.["default"]).toBe(1);
    expect(at(".spec.workload.template.ports.http")?.["default"]).toBe(8080);
    expect(at(".spec.workload.template.ports.metrics")?.["default"]).toBe(8000);
    expect(at(".spec.workload.template.model.loadSeconds")?.["default"]).toBe(60);
    expect(at(".spec.disruption")?.["default"]).toEqual({ maxUnavailable: 1 });
    expect(at(".spec.scaling.engine")?.["enum"]).toEqual(["Auto", "HPA", "KEDA"]);
  });
});

function keysOf(list: SchemaNode[], key: string): string[] {
  return list.filter(({ node }) => node[key] !== undefined).map((n) => n.path);
}

describe("CRD names, columns and subresources", () => {
  it("is the namespaced mlautoscale.io MLAutoscalePolicy with short name mlap in category ml", () => {
    expect(crd.metadata.name).toBe("mlautoscalepolicies.mlautoscale.io");
    expect(crd.spec["group"]).toBe("mlautoscale.io");
    expect(crd.spec["scope"]).toBe("Namespaced");
    expect(crd.spec["names"]).toEqual({
      kind: "MLAutoscalePolicy",
      listKind: "MLAutoscalePolicyList",
      plural: "mlautoscalepolicies",
      singular: "mlautoscalepolicy",
      shortNames: ["mlap"],
      categories: ["ml"],
    });
    expect(crd.spec["versions"]).toHaveLength(1);
    expect(version["name"]).toBe("v1alpha1");
    expect(version["served"]).toBe(true);
    expect(version["storage"]).toBe(true);
  });

  it("has the status subresource", () => {
    expect(version["subresources"]).toEqual({ status: {} });
  });

  it("prints ENGINE, MIN, MAX, REPLICAS, READY and AGE", () => {
    const columns = version["additionalPrinterColumns"] as {
      name: string;
      jsonPath: string;
      priority?: number;
    }[];
    const shown = columns.filter((c) => (c.priority ?? 0) === 0);
    expect(shown.map((c) => [c.name.toUpperCase(), c.jsonPath])).toEqual([
      ["ENGINE", ".status.engine"],
      ["MIN", ".spec.replicas.min"],
      ["MAX", ".spec.replicas.max"],
      ["REPLICAS", ".status.replicas"],
      ["READY", '.status.conditions[?(@.type=="Ready")].status'],
      ["AGE", ".metadata.creationTimestamp"],
    ]);
  });

  it("keeps conditions as a list-map keyed by type", () => {
    const conditions = nodes.find((n) => n.path === ".status.conditions")?.node;
    expect(conditions?.["type"]).toBe("array");
    expect(conditions?.["x-kubernetes-list-type"]).toBe("map");
    expect(conditions?.["x-kubernetes-list-map-keys"]).toEqual(["type"]);
    const item = conditions?.["items"] as JsonSchema;
    // A list-map key must be required (or defaulted) in every item.
    expect(item["required"]).toEqual(expect.arrayContaining(["type", "status", "reason", "message"]));
  });

  it("requires the list-map keys of every list-map", () => {
    const listMaps = nodes.filter(({ node }) => node["x-kubernetes-list-type"] === "map");
    expect(listMaps.length).toBeGreaterThanOrEqual(4);
    for (const { path, node } of listMaps) {
      const item = node["items"] as JsonSchema;
      const required = (item["required"] as string[] | undefined) ?? [];
      for (const key of node["x-kubernetes-list-map-keys"] as string[]) {
        expect(required, `${path} key ${key}`).toContain(key);
      }
    }
  });
});
