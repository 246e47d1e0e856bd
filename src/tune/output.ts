// What `tune` prints: the Pareto front and the recommendation as a table or JSON, and the recommended
// policy as YAML, written into the user's own document so that its comments, order and every field tune did
// not change stay as they were.
import { isDeepStrictEqual } from "node:util";
import { Document, isScalar, parseAllDocuments, Scalar } from "yaml";
import type { MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import { parsePolicies } from "../render/index.js";
import { table } from "../simulate/format.js";
import { percent } from "./explain.js";
import type { Edit, Knob } from "./knobs.js";
import { dominating, isFeasible, type Scored } from "./search.js";
import type { TuneResult } from "./tune.js";

export interface RunFacts {
  policyFile: string;
  traceFile: string;
  sloSeconds: number;
  maxViolationRatio: number;
  serviceRatePerReplica: number;
  workers: number;
  elapsedSeconds: number;
}

/** The changes of a candidate, short: "min replicas 2 -> 4, queue target 10 -> 6". */
export function describeChanges(knobs: readonly Knob[], scored: Scored, limit = Infinity): string {
  const parts = knobs.flatMap((knob, index) => {
    const value = scored.candidate.values[index] ?? knob.original;
    return value === knob.original
      ? []
      : [`${knob.label} ${knob.format(knob.original)} -> ${knob.format(value)}`];
  });
  if (parts.length === 0) return "(the original)";
  return parts.length > limit
    ? `${parts.slice(0, limit).join(", ")}, +${parts.length - limit} more`
    : parts.join(", ");
}

/** At most `rows` points of the front, evenly spread, always with both ends and the recommendation. */
export function thinFront(front: readonly Scored[], keep: readonly Scored[], rows = 12): Scored[] {
  if (front.length <= rows) return [...front];
  const chosen = new Set<Scored>([front[0], front[front.length - 1], ...keep].filter((s) => s !== undefined));
  const spare = rows - chosen.size;
  for (let step = 1; step <= spare; step++) {
    const point = front[Math.round((step * (front.length - 1)) / (spare + 1))];
    if (point) chosen.add(point);
  }
  return front.filter((point) => chosen.has(point));
}

function summaryLine(scored: Scored): string {
  const o = scored.outcome;
  return `${o.gpuHours.toFixed(2)} GPU-hours ($${o.cost.toFixed(2)}), ${percent(o.violationRatio)} of requests over the SLO`;
}

/** Where the original stands: on the front, or beaten, and by how much. */
export function originalPlace(result: TuneResult): string {
  const original = result.search.original;
  const beaten = dominating(result.search.evaluated, original);
  if (beaten.length === 0) return `The original (${summaryLine(original)}) is on the front.`;
  const o = original.outcome;
  const sameCost = result.front
    .filter((point) => point.outcome.gpuHours <= o.gpuHours + 1e-9)
    .reduce<Scored | undefined>(
      (best, point) => (!best || point.outcome.violationRatio < best.outcome.violationRatio ? point : best),
      undefined,
    );
  const sameViolations = result.front
    .filter((point) => point.outcome.violationRatio <= o.violationRatio + 1e-9)
    .reduce<Scored | undefined>(
      (best, point) => (!best || point.outcome.gpuHours < best.outcome.gpuHours ? point : best),
      undefined,
    );
  const lines = [
    `The original (${summaryLine(original)}) is behind the front: ${beaten.length} candidates beat it on both.`,
  ];
  if (sameCost && sameCost === sameViolations) {
    lines.push(`  For no more GPU-hours and no more violations: ${summaryLine(sameCost)}.`);
  } else {
    if (sameCost) lines.push(`  For no more GPU-hours: ${summaryLine(sameCost)}.`);
    if (sameViolations) lines.push(`  For no more violations: ${summaryLine(sameViolations)}.`);
  }
  return lines.join("\n");
}

export function formatTuneTable(result: TuneResult, facts: RunFacts): string {
  const { search, front, recommended } = result;
  const original = search.original;
  const out: string[] = [];
  const perSecond = search.evaluated.length / Math.max(facts.elapsedSeconds, 1e-9);
  out.push(`mlautoscale tune: ${result.policy.metadata.name} on ${facts.traceFile}`);
  out.push(
    `SLO ${facts.sloSeconds} s (wait plus service), at most ${percent(facts.maxViolationRatio)} of requests over it; ${facts.serviceRatePerReplica} req/s per ready replica`,
  );
  out.push(
    `${search.evaluated.length} candidates over ${result.knobs.length} settings in ${facts.elapsedSeconds.toFixed(1)} s (${Math.round(perSecond)}/s, ${facts.workers === 0 ? "in one thread" : `${facts.workers} worker threads`})${search.rejected > 0 ? `; ${search.rejected} refused by the schema's rules` : ""}`,
  );
  out.push("", "Pareto front, SLO violations against GPU-hours (* recommended, o original):");
  const rows = [["", "GPU-hours", "cost", "violations", "max wait", "peak", "changes"]];
  for (const point of thinFront(
    front,
    [recommended, original].filter((p) => front.includes(p)),
  )) {
    const o = point.outcome;
    rows.push([
      point === recommended ? "*" : point === original ? "o" : "",
      o.gpuHours.toFixed(2),
      `$${o.cost.toFixed(2)}`,
      percent(o.violationRatio),
      `${o.maxWaitSeconds.toFixed(1)}s`,
      String(o.peakReplicas),
      describeChanges(result.knobs, point, 3),
    ]);
  }
  out.push(table(rows), "", originalPlace(result), "");
  const feasible = isFeasible(recommended.outcome, facts.maxViolationRatio);
  if (recommended === original) {
    out.push(
      feasible
        ? "Recommended: keep the policy as it is; no candidate meets the SLO for fewer GPU-hours."
        : `No candidate keeps violations within ${percent(facts.maxViolationRatio)}, and none does better than the original.`,
    );
  } else {
    out.push(
      feasible
        ? `Recommended: ${summaryLine(recommended)} (the original: ${original.outcome.gpuHours.toFixed(2)} GPU-hours, ${percent(original.outcome.violationRatio)}).`
        : `No candidate keeps violations within ${percent(facts.maxViolationRatio)}; the fewest: ${summaryLine(recommended)} (the original: ${percent(original.outcome.violationRatio)}).`,
    );
    for (const change of result.changes) out.push(`  ${change.reason}`);
    out.push("", "-o yaml prints the recommended policy in full, ready to apply.");
  }
  return `${out.join("\n")}\n`;
}

function pointDocument(result: TuneResult, point: Scored) {
  return {
    gpuHours: round(point.outcome.gpuHours),
    cost: round(point.outcome.cost),
    sloViolationRatio: round(point.outcome.violationRatio, 6),
    maxWaitSeconds: round(point.outcome.maxWaitSeconds),
    peakReplicas: point.outcome.peakReplicas,
    settings: Object.fromEntries(
      result.knobs.map((knob, index) => [knob.field, point.candidate.values[index]]),
    ),
  };
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function formatTuneJson(result: TuneResult, facts: RunFacts, yaml: string): string {
  const document = {
    policy: result.policy.metadata.name,
    trace: facts.traceFile,
    sloSeconds: facts.sloSeconds,
    maxViolationRatio: facts.maxViolationRatio,
    candidates: result.search.evaluated.length,
    refused: result.search.rejected,
    original: pointDocument(result, result.search.original),
    originalOnFront: result.front.includes(result.search.original),
    recommended: {
      ...pointDocument(result, result.recommended),
      meetsSlo: isFeasible(result.recommended.outcome, facts.maxViolationRatio),
      changes: result.changes,
      policy: yaml,
    },
    front: result.front.map((point) => pointDocument(result, point)),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The document of the policy named `name` in a multi-document YAML (or JSON) text. */
function policyDocument(documents: readonly Document[], name: string): Document {
  const document = documents.find((doc) => {
    const value: unknown = doc.toJS();
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { kind?: unknown }).kind === "MLAutoscalePolicy" &&
      (value as { metadata?: { name?: unknown } }).metadata?.name === name
    );
  });
  if (!document) throw new Error(`policy ${name} is not in its file any more`);
  return document;
}

/** A scalar as YAML writes it: numbers plain, strings double-quoted unless they were single-quoted. */
function scalarText(value: unknown, quote: string | undefined): string | undefined {
  if (typeof value === "number") return String(value);
  if (typeof value !== "string") return undefined;
  return quote === Scalar.QUOTE_SINGLE ? `'${value.replaceAll("'", "''")}'` : JSON.stringify(value);
}

/**
 * The file with each edit written over the old value's own characters, when every edit sets a scalar that
 * is already there and the file holds one document: the diff then shows the changed values and nothing else.
 * Undefined otherwise.
 */
function editInPlace(
  text: string,
  document: Document,
  documents: number,
  edits: readonly Edit[],
): string | undefined {
  if (documents !== 1) return undefined;
  const replacements: { start: number; end: number; text: string }[] = [];
  for (const edit of edits) {
    if ("remove" in edit) return undefined;
    const node: unknown = document.getIn(["spec", ...edit.path], true);
    if (!isScalar(node) || !node.range) return undefined;
    const written = scalarText(edit.value, node.type);
    if (written === undefined) return undefined;
    replacements.push({ start: node.range[0], end: node.range[1], text: written });
  }
  replacements.sort((a, b) => b.start - a.start);
  let out = text;
  for (const { start, end, text: written } of replacements)
    out = out.slice(0, start) + written + out.slice(end);
  return out;
}

/**
 * The recommended policy: the user's document with the recommendation's edits, under a comment that says
 * where it comes from and why each field changed. Parsed back and compared with the recommendation, so what
 * is printed is exactly what was simulated, and valid.
 */
export function recommendedYaml(
  fileText: string,
  fileName: string,
  recommended: MLAutoscalePolicy,
  edits: readonly Edit[],
  header: readonly string[],
): string {
  const documents: Document[] = parseAllDocuments(fileText).filter((doc) => doc instanceof Document);
  const document = policyDocument(documents, recommended.metadata.name);
  const comment = header.map((line) => `# ${line}`.trimEnd()).join("\n");
  let text: string;
  const inPlace = editInPlace(fileText, document, documents.length, edits);
  if (inPlace !== undefined) {
    text = `${comment}\n\n${inPlace}`;
  } else {
    for (const edit of edits) {
      const path = ["spec", ...edit.path];
      if ("remove" in edit) document.deleteIn(path);
      // As a node: a later edit may set a field inside it.
      else document.setIn(path, document.createNode(edit.value));
    }
    const before = document.commentBefore;
    document.commentBefore = [...header.map((line) => ` ${line}`), ...(before ? ["", before] : [])].join(
      "\n",
    );
    text = document.toString();
  }
  const [reparsed] = parsePolicies(text, fileName);
  if (!reparsed || !isDeepStrictEqual(reparsed.spec, recommended.spec)) {
    throw new Error("the recommended policy did not survive being written as YAML");
  }
  return text;
}
