// Shared set-up of the tune tests: policies written as a user would, traces by hand, tuning in this thread.
import { readFileSync } from "node:fs";
import { MLAutoscalePolicySchema, type MLAutoscalePolicy } from "../../../src/api/v1alpha1/index.js";
import { parsePolicies } from "../../../src/render/index.js";
import { DEFAULT_OPTIONS, type SimulationOptions } from "../../../src/simulate/simulate.js";
import { parseTrace, type Trace } from "../../../src/simulate/trace.js";
import { inlineEvaluator } from "../../../src/tune/pool.js";
import { tunePolicy, tuningSetup, type TuneOptions, type TuneResult } from "../../../src/tune/tune.js";

export const examplesDir = new URL("../../../examples/", import.meta.url).pathname;

export function examplePolicy(file: string): MLAutoscalePolicy {
  const [policy] = parsePolicies(readFileSync(`${examplesDir}${file}`, "utf8"), file);
  if (!policy) throw new Error(`${file} holds no policy`);
  return policy;
}

export function exampleTrace(file: string): Trace {
  return parseTrace(readFileSync(`${examplesDir}traces/${file}`, "utf8"), file);
}

/** A GPU model server scaled by the HPA; `scaling` replaces the defaults' fields. */
export function servingPolicy(
  scaling: Record<string, unknown>,
  replicas = { min: 1, max: 30 },
): MLAutoscalePolicy {
  return MLAutoscalePolicySchema.parse({
    apiVersion: "mlautoscale.io/v1alpha1",
    kind: "MLAutoscalePolicy",
    metadata: { name: "model" },
    spec: {
      workload: {
        template: {
          image: "registry.example.com/model:1",
          model: { loadSeconds: 60 },
          resources: { requests: { cpu: "2", memory: "4Gi" } },
          gpu: { count: 1 },
        },
      },
      replicas,
      scaling: { engine: "HPA", ...scaling },
    },
  });
}

/** Points of constant load, `rps` per segment, each `seconds` long. */
export function steps(...segments: { rps: number; seconds: number }[]): Trace {
  let t = 0;
  const points = segments.map((segment) => {
    const point = { t, rps: segment.rps };
    t += segment.seconds;
    return point;
  });
  return { points, end: t };
}

export function setupFor(policy: MLAutoscalePolicy, trace: Trace, options: Partial<SimulationOptions> = {}) {
  return tuningSetup(policy, trace, { ...DEFAULT_OPTIONS, ...options }, true);
}

export async function tuneInline(
  policy: MLAutoscalePolicy,
  trace: Trace,
  tune: Partial<TuneOptions> = {},
  options: Partial<SimulationOptions> = {},
): Promise<TuneResult> {
  const setup = setupFor(policy, trace, options);
  return tunePolicy(
    policy,
    setup,
    inlineEvaluator(setup),
    { budget: 150, maxViolationRatio: 0.01, fixed: [], ...tune },
    { serviceRatePerReplica: setup.options.serviceRatePerReplica, startupSeconds: 70 },
  );
}

/** The recommended value of a field, or the original when the field was not searched. */
export function recommendedValue(result: TuneResult, field: string): unknown {
  const index = result.knobs.findIndex((knob) => knob.field === field);
  return index < 0 ? undefined : result.recommended.candidate.values[index];
}
