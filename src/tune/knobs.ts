// The scaling settings `tune` may change in a policy ("knobs"), the values it tries for each, and how a
// choice of values becomes a candidate policy. Every bound comes from the CRD's own schema, and every
// candidate is checked with the API's zod schema, which carries the TypeScript twin of each CEL rule, so a
// candidate the API server would refuse is never simulated, let alone recommended.
import {
  buildCustomResourceDefinition,
  BEHAVIOR_PRESETS,
  describeIssues,
  MLAutoscalePolicySchema,
  WELL_KNOWN_TRIGGER_KEYS,
  type MLAutoscalePolicy,
  type PolicySpec,
} from "../api/v1alpha1/index.js";
import { PRESETS } from "../controllers/mlautoscalepolicy/desired/behavior.js";
import { chooseEngine, KEDA_ABSENT, KEDA_RUNNING } from "../controllers/mlautoscalepolicy/desired/index.js";
import {
  KEDA_DEFAULT_COOLDOWN_SECONDS,
  KEDA_DEFAULT_POLLING_SECONDS,
} from "../controllers/mlautoscalepolicy/desired/scaledobject.js";
import { quantityValue } from "../runtime/quantity.js";
import { describeTrigger } from "../simulate/keda.js";
import { DEFAULT_SERVER_CONCURRENCY } from "../simulate/llm.js";
import { signalFromText, type Signal } from "../simulate/signals.js";

export type KnobValue = number | string;
export type FieldPath = readonly (string | number)[];

/** One change to a policy's spec: set a field, or remove it. Replayed on the user's YAML as well. */
export type Edit = { path: FieldPath; value: unknown } | { path: FieldPath; remove: true };

export interface Knob {
  /** The field, as `--fix` names it: `replicas.min`, `scaling.metrics.queueDepth.targetAverageValue`. */
  readonly field: string;
  /** Words for explanations: "min replicas", "queue target". */
  readonly label: string;
  /** What a value means in the workload: replicas, a target, a time, a rate. */
  readonly kind: "min" | "max" | "target" | "activation" | "window" | "rate" | "period" | "preset";
  /** The direction of scaling a window or rate applies to. */
  readonly direction?: "up" | "down";
  /** The values tried, in increasing order of what they allow (numbers ascending); the original among them. */
  readonly values: readonly KnobValue[];
  readonly original: KnobValue;
  format(value: KnobValue): string;
  /** False when the knob does nothing in `spec` (a cooldown without scale to zero): it keeps its original value. */
  active(spec: PolicySpec): boolean;
  /** The edits that give `spec` this value. */
  edits(spec: PolicySpec, value: KnobValue): Edit[];
}

export interface TraceNeeds {
  /** Replicas the lowest (5th percentile), median and highest load of the trace keep busy. */
  low: number;
  median: number;
  peak: number;
}

export interface KnobContext {
  kedaInstalled: boolean;
  needs: TraceNeeds;
  /** Requests per second one ready replica serves: what a per-replica request-rate target should be near. */
  serviceRatePerReplica: number;
  /** Requests one LLM server replica runs at once (the simulator's, by default): a running-requests target's. */
  serverConcurrency?: number;
  /** `--signal` overrides: what a metric or trigger measures, by name. */
  signalOverrides?: ReadonlyMap<string, Signal>;
}

// ---------------------------------------------------------------------------------------------------------
// the schema's bounds

interface Bounds {
  minimum: number;
  maximum: number;
  integer: boolean;
}

type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  type?: string;
};

let specSchema: SchemaNode | undefined;

/** The bounds the CRD (generated from the zod schema) puts on a field of spec. */
export function schemaBounds(path: FieldPath): Bounds {
  specSchema ??= (
    buildCustomResourceDefinition().spec as {
      versions: { schema: { openAPIV3Schema: { properties: { spec: SchemaNode } } } }[];
    }
  ).versions[0]?.schema.openAPIV3Schema.properties.spec;
  let node: SchemaNode | undefined = specSchema;
  for (const part of path) node = typeof part === "number" ? node?.items : node?.properties?.[part];
  if (!node) throw new Error(`spec.${path.join(".")} is not in the schema`);
  return {
    minimum: node.minimum ?? 0,
    maximum: node.maximum ?? Number.MAX_SAFE_INTEGER,
    integer: node.type === "integer",
  };
}

// ---------------------------------------------------------------------------------------------------------
// reading and writing fields

function fieldName(path: FieldPath): string {
  return path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join("");
}

type Container = Record<string | number, unknown>;

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null;
}

export function getField(root: unknown, path: FieldPath): unknown {
  let node: unknown = root;
  for (const part of path) node = isContainer(node) ? node[part] : undefined;
  return node;
}

/** Applies an edit to a plain object, creating the maps on the way. */
export function applyEdit(root: Container, edit: Edit): void {
  let node: Container = root;
  const parents = edit.path.slice(0, -1);
  for (const part of parents) {
    const next = node[part];
    if (!isContainer(next)) {
      if ("remove" in edit) return;
      node[part] = {};
    }
    node = node[part] as Container;
  }
  const last = edit.path[edit.path.length - 1];
  if (last === undefined) return;
  if ("remove" in edit) delete node[last];
  else node[last] = structuredClone(edit.value);
}

// ---------------------------------------------------------------------------------------------------------
// value ladders

const uniqueSorted = (values: Iterable<number>) => [...new Set(values)].sort((a, b) => a - b);

function clampLadder(values: Iterable<number>, bounds: Bounds): number[] {
  return uniqueSorted(
    [...values]
      .filter((value) => Number.isFinite(value))
      .map((value) => (bounds.integer ? Math.round(value) : value))
      .filter((value) => value >= bounds.minimum && value <= bounds.maximum),
  );
}

/** Round numbers, each about 1.25 to 1.5 times the one before. */
const NICE = [
  0.25, 0.5, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400,
  500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000,
];

/** Round values from a quarter of `original` to four times it, and `original`. */
function aroundLadder(original: number, bounds: Bounds): number[] {
  return clampLadder([original, ...NICE.filter((n) => n >= original / 4 && n <= original * 4)], bounds);
}

/**
 * A target per replica of what a replica holds at most (the requests per second it serves, the requests its
 * batch runs) also gets the round values from 40 % to 100 % of that capacity: a target far above it never
 * scales out, however near the policy's own value it is.
 */
function targetLadder(original: number, bounds: Bounds, capacity: number | undefined): number[] {
  const near = capacity === undefined ? [] : NICE.filter((n) => n >= 0.4 * capacity && n <= capacity);
  return clampLadder([...aroundLadder(original, bounds), ...near], bounds);
}

const PERCENT_TARGETS = [30, 40, 50, 60, 70, 80, 90, 100];
const WINDOWS = [0, 15, 30, 60, 90, 120, 180, 300, 450, 600, 900];
const POLLING = [5, 10, 15, 30, 60];
const COOLDOWNS = [30, 60, 120, 300, 600, 900, 1800];
const ACTIVATIONS = [0, 1, 2, 5, 10, 20];

// ---------------------------------------------------------------------------------------------------------
// behavior

type RuleSet = NonNullable<PolicySpec["scaling"]["behavior"]["scaleUp"]>;
type RatePolicy = NonNullable<RuleSet["policies"]>[number];
type Direction = "scaleUp" | "scaleDown";

/** What the API server fills in for a direction left out (pkg/apis/autoscaling/v2/defaults.go). */
const API_DEFAULTS: Record<Direction, { window: number; policies: RatePolicy[] }> = {
  scaleUp: {
    window: 0,
    policies: [
      { type: "Percent", value: 100, periodSeconds: 15 },
      { type: "Pods", value: 4, periodSeconds: 15 },
    ],
  },
  scaleDown: { window: 300, policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
};

/** Rates tried besides the policy's own, from one pod a minute to doubling every 15 s. */
const RATE_CATALOG: Record<Direction, RatePolicy[][]> = {
  scaleUp: [
    [{ type: "Pods", value: 1, periodSeconds: 60 }],
    [{ type: "Pods", value: 2, periodSeconds: 30 }],
    [{ type: "Pods", value: 4, periodSeconds: 15 }],
    API_DEFAULTS.scaleUp.policies,
    [
      { type: "Percent", value: 200, periodSeconds: 30 },
      { type: "Pods", value: 10, periodSeconds: 30 },
    ],
  ],
  scaleDown: [
    [{ type: "Pods", value: 1, periodSeconds: 300 }],
    [{ type: "Pods", value: 1, periodSeconds: 60 }],
    [{ type: "Percent", value: 25, periodSeconds: 120 }],
    [{ type: "Percent", value: 50, periodSeconds: 60 }],
    API_DEFAULTS.scaleDown.policies,
  ],
};

/** The rules of a preset in the policy's own form. */
function presetRules(preset: (typeof BEHAVIOR_PRESETS)[number], direction: Direction): RuleSet {
  const rules = PRESETS[preset][direction];
  const out: RuleSet = {};
  if (rules?.stabilizationWindowSeconds !== undefined)
    out.stabilizationWindowSeconds = rules.stabilizationWindowSeconds;
  if (rules?.selectPolicy === "Max" || rules?.selectPolicy === "Min" || rules?.selectPolicy === "Disabled")
    out.selectPolicy = rules.selectPolicy;
  if (rules?.policies !== undefined)
    out.policies = rules.policies.map((p) => ({
      type: p.type === "Pods" ? "Pods" : "Percent",
      value: p.value,
      periodSeconds: p.periodSeconds,
    }));
  return out;
}

/** The rules in force for a direction: explicit, from the preset, or the API's defaults. */
function effectiveRules(
  spec: PolicySpec,
  direction: Direction,
): { window: number; select: string; policies: RatePolicy[] } {
  const behavior = spec.scaling.behavior;
  const rules = behavior.preset !== undefined ? presetRules(behavior.preset, direction) : behavior[direction];
  return {
    window: rules?.stabilizationWindowSeconds ?? API_DEFAULTS[direction].window,
    select: rules?.selectPolicy ?? "Max",
    policies: rules?.policies ?? API_DEFAULTS[direction].policies,
  };
}

function describeRate(policies: readonly RatePolicy[]): string {
  const parts = policies.map((p) =>
    p.type === "Pods"
      ? `${p.value} pod${p.value === 1 ? "" : "s"} per ${p.periodSeconds} s`
      : `${p.value}% per ${p.periodSeconds} s`,
  );
  return parts.join(" or ");
}

/** Pods a rate allows in one minute from 10 replicas: orders the rates from slowest to fastest. */
function rateSpeed(policies: readonly RatePolicy[]): number {
  return Math.max(
    0,
    ...policies.map((p) => {
      const periods = 60 / p.periodSeconds;
      return p.type === "Pods" ? p.value * periods : ((10 * p.value) / 100) * periods;
    }),
  );
}

const EXPLICIT = "explicit rules";

// ---------------------------------------------------------------------------------------------------------
// the knobs of a policy

function engineOf(spec: PolicySpec, kedaInstalled: boolean): "HPA" | "KEDA" | undefined {
  return chooseEngine(spec, kedaInstalled ? KEDA_RUNNING : KEDA_ABSENT).engine;
}

function numberKnob(args: {
  path: FieldPath;
  label: string;
  kind: Knob["kind"];
  direction?: "up" | "down";
  original: number;
  ladder: (bounds: Bounds) => number[];
  /** Bounds of a field the schema leaves open (trigger metadata is a map of strings). */
  bounds?: Bounds;
  unit?: string;
  /** How the value is written: a number, or a string (trigger metadata, fractional quantities). */
  write?: (value: number) => unknown;
  active?: (spec: PolicySpec) => boolean;
  extraEdits?: (spec: PolicySpec, value: number) => Edit[];
}): Knob {
  const bounds = args.bounds ?? schemaBounds(args.path);
  const values = clampLadder([args.original, ...args.ladder(bounds)], bounds);
  if (!values.includes(args.original)) values.push(args.original);
  values.sort((a, b) => a - b);
  const write = args.write ?? ((value: number) => value);
  const knob: Knob = {
    field: fieldName(args.path),
    label: args.label,
    kind: args.kind,
    values,
    original: args.original,
    format: (value) => `${value}${args.unit ?? ""}`,
    active: args.active ?? (() => true),
    edits: (spec, value) => [
      { path: args.path, value: write(Number(value)) },
      ...(args.extraEdits?.(spec, Number(value)) ?? []),
    ],
  };
  if (args.direction !== undefined) return { ...knob, direction: args.direction };
  return knob;
}

/** A quantity as the schema takes it: a whole number, or a decimal string such as "0.5". */
function asSchemaQuantity(value: number): number | string {
  return Number.isInteger(value) ? value : String(value);
}

/** A positive quantity's value ("500m" is 0.5); undefined for anything else. */
function quantityNumber(value: unknown): number | undefined {
  const parsed = typeof value === "number" || typeof value === "string" ? quantityValue(value) : undefined;
  return parsed !== undefined && parsed > 0 ? parsed : undefined;
}

/**
 * Replica counts worth trying up to `top`: every one while there are few, then about 25 % apart, so the
 * ladder stays near 20 values whatever the scale.
 */
function replicaLadder(top: number, extra: readonly number[]): number[] {
  const values = new Set<number>(extra);
  for (let value = 0; value <= top; value = value < 12 ? value + 1 : Math.ceil(value * 1.25))
    values.add(value);
  values.add(top);
  return [...values];
}

function replicaKnobs(spec: PolicySpec, needs: TraceNeeds): Knob[] {
  const { min, max } = spec.replicas;
  return [
    numberKnob({
      path: ["replicas", "min"],
      label: "min replicas",
      kind: "min",
      original: min,
      ladder: () => replicaLadder(needs.peak, [min, needs.low, needs.median]),
      // scaleToZero and an LLM server's activation apply only with replicas.min 0 (CEL rules): they go
      // when the minimum leaves 0.
      extraEdits: (candidate, value) => {
        if (value === 0) return [];
        const edits: Edit[] = [];
        if (candidate.scaling.scaleToZero !== undefined)
          edits.push({ path: ["scaling", "scaleToZero"], remove: true });
        if (candidate.scaling.metrics.server?.activation !== undefined)
          edits.push({ path: ["scaling", "metrics", "server", "activation"], remove: true });
        return edits;
      },
    }),
    numberKnob({
      path: ["replicas", "max"],
      label: "max replicas",
      kind: "max",
      original: max,
      // From half the peak's need (what a queue can absorb) to twice it (headroom to drain a backlog).
      ladder: () =>
        replicaLadder(2 * needs.peak, [max]).filter(
          (value) => value >= Math.max(1, Math.floor(needs.peak / 2)),
        ),
    }),
  ];
}

function metricKnobs(spec: PolicySpec, context: KnobContext): Knob[] {
  const m = spec.scaling.metrics;
  const knobs: Knob[] = [];
  const percent = (name: "cpu" | "memory" | "gpuUtilization", label: string, original: number) =>
    numberKnob({
      path: ["scaling", "metrics", name, "targetUtilization"],
      label,
      kind: "target",
      original,
      unit: "%",
      ladder: () => PERCENT_TARGETS,
    });
  if (m.cpu) knobs.push(percent("cpu", "CPU target", m.cpu.targetUtilization));
  if (m.memory) knobs.push(percent("memory", "memory target", m.memory.targetUtilization));
  if (m.gpuUtilization)
    knobs.push(percent("gpuUtilization", "GPU utilization target", m.gpuUtilization.targetUtilization));
  const queue = quantityNumber(m.queueDepth?.targetAverageValue);
  if (queue !== undefined) {
    knobs.push(
      numberKnob({
        path: ["scaling", "metrics", "queueDepth", "targetAverageValue"],
        label: "queue target",
        kind: "target",
        original: queue,
        ladder: (bounds) => aroundLadder(queue, { ...bounds, minimum: 0.25 }),
        write: asSchemaQuantity,
      }),
    );
  }
  (m.external ?? []).forEach((metric, index) => {
    const key = metric.targetAverageValue !== undefined ? "targetAverageValue" : "targetValue";
    const original = quantityNumber(metric[key]);
    if (original === undefined) return;
    const signal = context.signalOverrides?.get(metric.metricName) ?? signalFromText(metric.metricName);
    const perReplica =
      signal === "rps" && key === "targetAverageValue" ? context.serviceRatePerReplica : undefined;
    knobs.push(
      numberKnob({
        path: ["scaling", "metrics", "external", index, key],
        label: `${metric.metricName} target`,
        kind: "target",
        original,
        ladder: (bounds) => targetLadder(original, { ...bounds, minimum: 0.25 }, perReplica),
        write: asSchemaQuantity,
      }),
    );
  });
  knobs.push(...serverKnobs(spec, context));
  return knobs;
}

/**
 * An LLM server's targets, those the policy sets: with none, the engine's defaults apply, and setting one
 * would drop the others (serverTargets). The activation query's threshold and target, while the policy has
 * one (replicas.min 0: a minimum leaving 0 removes it).
 */
function serverKnobs(spec: PolicySpec, context: KnobContext): Knob[] {
  const server = spec.scaling.metrics.server;
  if (server === undefined) return [];
  const path = (...fields: string[]): FieldPath => ["scaling", "metrics", "server", ...fields];
  const perReplica = (
    fields: string[],
    label: string,
    original: number,
    extra: { capacity?: number; active?: (candidate: PolicySpec) => boolean } = {},
  ) =>
    numberKnob({
      path: path(...fields),
      label,
      kind: "target",
      original,
      ladder: (bounds) => targetLadder(original, { ...bounds, minimum: 0.25 }, extra.capacity),
      ...(extra.active && { active: extra.active }),
    });
  const knobs: Knob[] = [];
  if (server.waitingRequestsPerReplica !== undefined) {
    knobs.push(
      perReplica(["waitingRequestsPerReplica"], "waiting requests target", server.waitingRequestsPerReplica),
    );
  }
  if (server.runningRequestsPerReplica !== undefined) {
    // A replica's batch holds --server-concurrency requests: a target above it never scales out.
    knobs.push(
      perReplica(["runningRequestsPerReplica"], "running requests target", server.runningRequestsPerReplica, {
        capacity: context.serverConcurrency ?? DEFAULT_SERVER_CONCURRENCY,
      }),
    );
  }
  if (server.kvCacheUtilization !== undefined) {
    knobs.push(
      numberKnob({
        path: path("kvCacheUtilization"),
        label: "KV-cache target",
        kind: "target",
        original: server.kvCacheUtilization,
        unit: "%",
        ladder: () => PERCENT_TARGETS,
      }),
    );
  }
  const activation = server.activation;
  if (activation !== undefined) {
    const hasActivation = (candidate: PolicySpec) =>
      candidate.scaling.metrics.server?.activation !== undefined;
    knobs.push(
      numberKnob({
        path: path("activation", "activationValue"),
        label: "upstream queue activation",
        kind: "activation",
        // Without its own, the activation trigger takes scaleToZero's, as every generated trigger does.
        original: activation.activationValue ?? spec.scaling.scaleToZero?.activationValue ?? 0,
        ladder: () => ACTIVATIONS,
        active: hasActivation,
      }),
    );
    // Without its own target, the upstream queue follows the waiting-requests target.
    if (activation.targetAverageValue !== undefined) {
      knobs.push(
        perReplica(
          ["activation", "targetAverageValue"],
          "upstream queue target",
          activation.targetAverageValue,
          {
            active: hasActivation,
          },
        ),
      );
    }
  }
  return knobs;
}

/** What the simulator reads a trigger as measuring; undefined where it cannot tell (simulate says why). */
function triggerSignal(
  trigger: NonNullable<PolicySpec["scaling"]["triggers"]>[number],
  index: number,
  overrides: ReadonlyMap<string, Signal> | undefined,
): Signal | undefined {
  try {
    return describeTrigger(trigger, index, overrides).signal;
  } catch {
    return undefined;
  }
}

function triggerKnobs(spec: PolicySpec, context: KnobContext): Knob[] {
  const knobs: Knob[] = [];
  const atZero = (candidate: PolicySpec) => candidate.replicas.min === 0;
  (spec.scaling.triggers ?? []).forEach((trigger, index) => {
    const name = trigger.name ?? trigger.type;
    const keys = WELL_KNOWN_TRIGGER_KEYS[trigger.type];
    const target = keys ? quantityNumber(trigger.metadata[keys.target]) : undefined;
    if (keys && target !== undefined) {
      const bounds = { minimum: 0.25, maximum: Number.MAX_SAFE_INTEGER, integer: false };
      const signal = triggerSignal(trigger, index, context.signalOverrides);
      const perReplica =
        signal === "rps" && trigger.metricType !== "Value" ? context.serviceRatePerReplica : undefined;
      knobs.push(
        numberKnob({
          path: ["scaling", "triggers", index, "metadata", keys.target],
          label: `${name} target`,
          kind: "target",
          original: target,
          bounds,
          ladder: () => targetLadder(target, bounds, perReplica),
          write: (value) => String(value),
        }),
      );
    }
    const activation = trigger.activationValue ?? spec.scaling.scaleToZero?.activationValue ?? 0;
    knobs.push(
      numberKnob({
        path: ["scaling", "triggers", index, "activationValue"],
        label: `${name} activation`,
        kind: "activation",
        original: activation,
        ladder: () => ACTIVATIONS,
        active: atZero,
      }),
    );
  });
  // The triggers KEDA makes from Prometheus metrics take scaleToZero's activation.
  const m = spec.scaling.metrics;
  if (
    (spec.scaling.triggers ?? []).length === 0 &&
    (m.queueDepth?.prometheus ?? m.gpuUtilization?.prometheus ?? m.server?.prometheus)
  ) {
    knobs.push(
      numberKnob({
        path: ["scaling", "scaleToZero", "activationValue"],
        label: "activation",
        kind: "activation",
        original: spec.scaling.scaleToZero?.activationValue ?? 0,
        ladder: () => ACTIVATIONS,
        active: atZero,
      }),
    );
  }
  return knobs;
}

function kedaKnobs(spec: PolicySpec, kedaInstalled: boolean): Knob[] {
  const onKeda = (candidate: PolicySpec) => engineOf(candidate, kedaInstalled) === "KEDA";
  return [
    numberKnob({
      path: ["scaling", "pollingIntervalSeconds"],
      label: "polling interval",
      kind: "period",
      original: spec.scaling.pollingIntervalSeconds ?? KEDA_DEFAULT_POLLING_SECONDS,
      unit: " s",
      ladder: () => POLLING,
      active: onKeda,
    }),
    numberKnob({
      path: ["scaling", "scaleToZero", "cooldownSeconds"],
      label: "cooldown",
      kind: "period",
      original: spec.scaling.scaleToZero?.cooldownSeconds ?? KEDA_DEFAULT_COOLDOWN_SECONDS,
      unit: " s",
      ladder: () => COOLDOWNS,
      active: (candidate) => onKeda(candidate) && candidate.replicas.min === 0,
    }),
  ];
}

function behaviorKnobs(spec: PolicySpec): Knob[] {
  const behavior = spec.scaling.behavior;
  const originalPreset = behavior.preset ?? EXPLICIT;
  const explicit = (candidate: PolicySpec) => candidate.scaling.behavior.preset === undefined;
  const knobs: Knob[] = [
    {
      field: "scaling.behavior.preset",
      label: "behavior",
      kind: "preset",
      values: [...BEHAVIOR_PRESETS, EXPLICIT],
      original: originalPreset,
      format: (value) => (value === EXPLICIT ? EXPLICIT : `preset ${value}`),
      active: () => true,
      edits: (candidate, value) => {
        if (value !== EXPLICIT) {
          return [
            { path: ["scaling", "behavior", "scaleUp"], remove: true },
            { path: ["scaling", "behavior", "scaleDown"], remove: true },
            { path: ["scaling", "behavior", "preset"], value },
          ];
        }
        // From a preset to explicit rules that start as the preset's: the windows and rates change next.
        const preset = candidate.scaling.behavior.preset ?? "Realtime";
        return [
          { path: ["scaling", "behavior", "preset"], remove: true },
          { path: ["scaling", "behavior", "scaleUp"], value: presetRules(preset, "scaleUp") },
          { path: ["scaling", "behavior", "scaleDown"], value: presetRules(preset, "scaleDown") },
        ];
      },
    },
  ];
  for (const direction of ["scaleUp", "scaleDown"] as const) {
    const rules = effectiveRules(spec, direction);
    const word = direction === "scaleUp" ? "up" : "down";
    knobs.push(
      numberKnob({
        path: ["scaling", "behavior", direction, "stabilizationWindowSeconds"],
        label: `scale-${word} window`,
        kind: "window",
        direction: word,
        original: rules.window,
        unit: " s",
        ladder: () => WINDOWS,
        active: explicit,
      }),
    );
    // A direction the user disabled stays disabled.
    if (rules.select === "Disabled") continue;
    const options = new Map<string, RatePolicy[]>();
    for (const policies of [rules.policies, ...RATE_CATALOG[direction]])
      options.set(describeRate(policies), policies);
    const values = [...options.keys()].sort(
      (a, b) => rateSpeed(options.get(a) ?? []) - rateSpeed(options.get(b) ?? []),
    );
    knobs.push({
      field: `scaling.behavior.${direction}.policies`,
      label: `scale-${word} rate`,
      kind: "rate",
      direction: word,
      values,
      original: describeRate(rules.policies),
      format: (value) => String(value),
      active: explicit,
      edits: (_candidate, value) => [
        { path: ["scaling", "behavior", direction, "policies"], value: options.get(String(value)) ?? [] },
      ],
    });
  }
  return knobs;
}

/** Every knob of the policy, in the order their edits apply (the minimum first: other knobs depend on it). */
export function policyKnobs(policy: MLAutoscalePolicy, context: KnobContext): Knob[] {
  const spec = policy.spec;
  const knobs = [
    ...replicaKnobs(spec, context.needs),
    ...metricKnobs(spec, context),
    ...triggerKnobs(spec, context),
    ...kedaKnobs(spec, context.kedaInstalled),
    ...behaviorKnobs(spec),
  ];
  // Keep the values that make a valid policy on their own (replicas.min 0 needs an event trigger, ...).
  return knobs.map((knob, index) => {
    const values = knob.values.filter((value) => {
      if (value === knob.original) return true;
      const vector = knobs.map((other) => other.original);
      vector[index] = value;
      return buildCandidate(policy, knobs, vector).ok;
    });
    return { ...knob, values };
  });
}

/** The knobs `--fix` leaves free: FIELD fixes the knob of that field and every knob under it. */
export function freeKnobs(
  knobs: readonly Knob[],
  fixed: readonly string[],
): { knobs: Knob[]; unknown: string[] } {
  const normalized = fixed.map((field) => field.replace(/^spec\./, ""));
  const covers = (field: string, knob: Knob) =>
    knob.field === field || knob.field.startsWith(`${field}.`) || knob.field.startsWith(`${field}[`);
  const unknown = fixed.filter((_, index) => !knobs.some((knob) => covers(normalized[index] ?? "", knob)));
  return { knobs: knobs.filter((knob) => !normalized.some((field) => covers(field, knob))), unknown };
}

// ---------------------------------------------------------------------------------------------------------
// candidates

export type Candidate =
  | {
      ok: true;
      /** The values, after the inactive knobs went back to their original values. */
      values: KnobValue[];
      key: string;
      policy: MLAutoscalePolicy;
      edits: Edit[];
    }
  | { ok: false; values: KnobValue[]; key: string; problems: string[] };

export function candidateKey(values: readonly KnobValue[]): string {
  return JSON.stringify(values);
}

/**
 * The policy with these knob values. A minimum above the maximum raises the maximum (or lowers the
 * minimum, when only the maximum moved). The result is checked against the schema and its CEL rules.
 */
export function buildCandidate(
  policy: MLAutoscalePolicy,
  knobs: readonly Knob[],
  requested: readonly KnobValue[],
): Candidate {
  const values = [...requested];
  const minIndex = knobs.findIndex((knob) => knob.kind === "min");
  const maxIndex = knobs.findIndex((knob) => knob.kind === "max");
  const min = Number(values[minIndex] ?? policy.spec.replicas.min);
  const max = Number(values[maxIndex] ?? policy.spec.replicas.max);
  if (min > max) {
    const minMoved = minIndex >= 0 && values[minIndex] !== knobs[minIndex]?.original;
    const maxMoved = maxIndex >= 0 && values[maxIndex] !== knobs[maxIndex]?.original;
    if (minMoved && !maxMoved && maxIndex >= 0) values[maxIndex] = min;
    else if (maxMoved && !minMoved && minIndex >= 0) values[minIndex] = max;
  }
  const spec = structuredClone(policy.spec) as unknown as Container;
  const edits: Edit[] = [];
  knobs.forEach((knob, index) => {
    const value = values[index] ?? knob.original;
    if (value === knob.original) return;
    if (!knob.active(spec as unknown as PolicySpec)) {
      values[index] = knob.original;
      return;
    }
    for (const edit of knob.edits(spec as unknown as PolicySpec, value)) {
      applyEdit(spec, edit);
      edits.push(edit);
    }
  });
  const key = candidateKey(values);
  const parsed = MLAutoscalePolicySchema.safeParse({ ...policy, spec });
  if (!parsed.success) return { ok: false, values, key, problems: describeIssues(parsed.error.issues) };
  return { ok: true, values, key, policy: parsed.data, edits };
}
