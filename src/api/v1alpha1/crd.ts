// Turns the zod schema into the CustomResourceDefinition. The API server accepts only structural schemas
// (no $ref, no unions of types, no additionalProperties: false), so zod's JSON Schema is post-processed here,
// in the spirit of kube-rs' kube-core/src/schema.rs.
import { z } from "zod";
import { MLAutoscalePolicySpec, MLAutoscalePolicyStatus } from "./schema.js";
import { CATEGORIES, GROUP, KIND, MAX_NAME_LENGTH, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from "./types.js";

export type JsonSchema = { [key: string]: unknown };

const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;

function isRecord(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isIntOrStringUnion(schema: JsonSchema): boolean {
  const branches = schema["anyOf"];
  if (!Array.isArray(branches) || branches.length !== 2) return false;
  const types = branches.map((b) => (isRecord(b) ? b["type"] : undefined)).sort();
  return types[0] === "integer" && types[1] === "string";
}

/** Rewrites one JSON Schema node (and its children) into the structural subset Kubernetes accepts. */
export function toStructural(node: JsonSchema): JsonSchema {
  if (isIntOrStringUnion(node)) {
    // An int-or-string field: the branch constraints move to CEL (attached by the schema), because
    // structural schemas forbid value validation with types inside anyOf.
    const out: JsonSchema = {};
    for (const [key, value] of Object.entries(node)) {
      if (key !== "anyOf") out[key] = value;
    }
    // maxLength applies to strings only, so it may stay on the node: the API server needs it to bound
    // the cost of the field's CEL rules.
    const stringBranch = (node["anyOf"] as unknown[]).find((b) => isRecord(b) && b["type"] === "string");
    if (isRecord(stringBranch) && typeof stringBranch["maxLength"] === "number") {
      out["maxLength"] = stringBranch["maxLength"];
    }
    out["x-kubernetes-int-or-string"] = true;
    out["anyOf"] = [{ type: "integer" }, { type: "string" }];
    return out;
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema" || key === "id") continue;
    if (key === "additionalProperties" && value === false) continue; // unknown fields are pruned/rejected anyway
    if (
      (key === "maximum" && value === SAFE_INTEGER_BOUND) ||
      (key === "minimum" && value === -SAFE_INTEGER_BOUND)
    ) {
      continue;
    }
    if (key === "properties" && isRecord(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, child]) => [name, isRecord(child) ? toStructural(child) : child]),
      );
    } else if ((key === "items" || key === "additionalProperties") && isRecord(value)) {
      out[key] = toStructural(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return toStructural(
    z.toJSONSchema(schema, { io: "input", target: "openapi-3.0", unrepresentable: "throw" }),
  );
}

export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels: Record<string, string> };
  spec: JsonSchema;
}

/** The MLAutoscalePolicy CRD, generated from the zod schema. */
export function buildCustomResourceDefinition(): CustomResourceDefinition {
  const openAPIV3Schema: JsonSchema = {
    type: "object",
    description:
      "MLAutoscalePolicy autoscales one ML workload: a GPU-aware Deployment (or an existing workload), an HPA " +
      "or KEDA ScaledObject, a PodDisruptionBudget and node placement, kept consistent by the operator.",
    properties: {
      apiVersion: { type: "string", description: "APIVersion of this object: mlautoscale.io/v1alpha1." },
      kind: { type: "string", description: "Kind of this object: MLAutoscalePolicy." },
      metadata: { type: "object" },
      spec: jsonSchemaOf(MLAutoscalePolicySpec),
      status: jsonSchemaOf(MLAutoscalePolicyStatus),
    },
    required: ["spec"],
    "x-kubernetes-validations": [
      {
        rule: `size(self.metadata.name) <= ${MAX_NAME_LENGTH}`,
        message: `metadata.name must be at most ${MAX_NAME_LENGTH} characters: it is used as a label value`,
      },
    ],
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      labels: { "app.kubernetes.io/name": "mlautoscale", "app.kubernetes.io/part-of": "mlautoscale" },
    },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
        categories: CATEGORIES,
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            {
              name: "Engine",
              type: "string",
              jsonPath: ".status.engine",
              description: "Autoscaling engine in use",
            },
            { name: "Min", type: "integer", jsonPath: ".spec.replicas.min", description: "Fewest replicas" },
            { name: "Max", type: "integer", jsonPath: ".spec.replicas.max", description: "Most replicas" },
            {
              name: "Replicas",
              type: "integer",
              jsonPath: ".status.replicas",
              description: "Current replicas",
            },
            {
              name: "Ready",
              type: "string",
              jsonPath: '.status.conditions[?(@.type=="Ready")].status',
              description: "Ready condition",
            },
            {
              name: "Reason",
              type: "string",
              priority: 1,
              jsonPath: '.status.conditions[?(@.type=="Reconciled")].reason',
              description: "Reason of the Reconciled condition",
            },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}
