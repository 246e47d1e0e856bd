// Reading policy files and rendering the objects the operator would apply, without a cluster.
import { readFile } from "node:fs/promises";
import type { KubernetesObject, V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { parseAllDocuments, stringify } from "yaml";
import { parsePolicy, type Engine, type MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import {
  buildDesiredChildren,
  childObjects,
  KEDA_ABSENT,
  KEDA_RUNNING,
  type KubernetesFeatures,
} from "../controllers/mlautoscalepolicy/desired/index.js";
import type { ScaledObject } from "../keda/types.js";

/** Bad input: every message names the file, the document and the field. */
export class PolicyInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "PolicyInputError";
  }
}

/** A copy of `value` without object fields whose value is null. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, field]) => field !== null)
        .map(([key, field]) => [key, withoutNulls(field)]),
    );
  }
  return value;
}

/** Every policy in a multi-document YAML (or JSON) text. Throws PolicyInputError listing every problem. */
export function parsePolicies(text: string, fileName: string): MLAutoscalePolicy[] {
  const problems: string[] = [];
  const policies: MLAutoscalePolicy[] = [];
  const documents = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(documents)) {
    throw new PolicyInputError([`${fileName}: not a YAML stream`]);
  }
  documents.forEach((doc, index) => {
    const where = `${fileName}: document ${index + 1}`;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push(`${where}: ${e.message.split("\n")[0] ?? e.message}`);
      return;
    }
    // The API server drops fields set to null; so does render, to judge a file as the cluster would.
    const value: unknown = withoutNulls(doc.toJS());
    if (value === null || value === undefined) return; // an empty document, e.g. after a trailing ---
    const name =
      typeof value === "object" &&
      "metadata" in value &&
      typeof value.metadata === "object" &&
      value.metadata !== null
        ? (value.metadata as { name?: unknown }).name
        : undefined;
    const label = typeof name === "string" ? `${where} (${name})` : where;
    const parsed = parsePolicy(value);
    if (parsed.ok) policies.push(parsed.policy);
    else for (const p of parsed.problems) problems.push(`${label}: ${p}`);
  });
  if (problems.length > 0) throw new PolicyInputError(problems);
  if (policies.length === 0) throw new PolicyInputError([`${fileName}: no MLAutoscalePolicy found`]);
  return policies;
}

export async function loadPolicyFile(path: string): Promise<MLAutoscalePolicy[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new PolicyInputError([`${path}: ${(error as Error).message}`]);
  }
  return parsePolicies(text, path);
}

export interface RenderOptions {
  kedaInstalled: boolean;
  /** What the target cluster's Kubernetes version can take; default: the newest version's. */
  kubernetes?: KubernetesFeatures;
}

export interface RenderResult {
  engine: Engine;
  objects: KubernetesObject[];
  deployment?: V1Deployment;
  hpa?: V2HorizontalPodAutoscaler;
  scaledObject?: ScaledObject;
  modelLoadSeconds: number;
  corrections: string[];
  notes: string[];
  /** Parts of the policy the Kubernetes version cannot take, left out, and what applies instead. */
  featuresNotApplied: string[];
}

/** The objects the operator would apply for one policy. A policy without a namespace renders into "default". */
export function renderPolicy(policy: MLAutoscalePolicy, options: RenderOptions): RenderResult {
  const withNamespace: MLAutoscalePolicy = {
    ...policy,
    metadata: { ...policy.metadata, namespace: policy.metadata.namespace ?? "default" },
  };
  const desired = buildDesiredChildren(withNamespace, {
    keda: options.kedaInstalled ? KEDA_RUNNING : KEDA_ABSENT,
    ...(options.kubernetes !== undefined && { kubernetes: options.kubernetes }),
  });
  if (!desired.ok) {
    throw new PolicyInputError([`${policy.metadata.name}: ${desired.reason}: ${desired.message}`]);
  }
  const c = desired.children;
  const result: RenderResult = {
    engine: c.engine,
    objects: childObjects(c),
    modelLoadSeconds: c.modelLoadSeconds,
    corrections: c.corrections,
    notes: c.notes,
    featuresNotApplied: c.featuresNotApplied,
  };
  if (c.deployment !== undefined) result.deployment = c.deployment;
  if (c.hpa !== undefined) result.hpa = c.hpa;
  if (c.scaledObject !== undefined) result.scaledObject = c.scaledObject;
  return result;
}

export function formatObjects(objects: KubernetesObject[], format: "yaml" | "json"): string {
  if (format === "json")
    return JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2) + "\n";
  return objects.map((o) => "---\n" + stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("");
}
