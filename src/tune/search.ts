// The search: which candidates to simulate, and which one to recommend. Deterministic: the same policy,
// trace and options give the same candidates in the same order, however many workers simulate them.
//
// 1. The original, then every knob through its values with the others at their original values.
// 2. The best single changes together.
// 3. From the best so far, every knob through the values near its current one (coordinate descent);
//    when no single knob improves, every pair of knobs one step each way; until nothing improves. Then
//    the same from each single change, the best first, while the budget lasts.
// 4. Simplify: undo each change that the recommendation does not need (within 0.5 % of its GPU-hours and,
//    outside the allowed share of violations, of its violations).
//
// "Best": a candidate within the allowed share of SLO violations beats one outside it; among those within,
// the fewer GPU-hours the better; among those outside, the fewer violations. Ties go to fewer changes.
import type { MLAutoscalePolicy } from "../api/v1alpha1/index.js";
import type { Evaluation, Outcome } from "./evaluate.js";
import { buildCandidate, type Candidate, type Knob, type KnobValue } from "./knobs.js";

export type OkCandidate = Extract<Candidate, { ok: true }>;

export interface Scored {
  candidate: OkCandidate;
  outcome: Outcome;
  /** Knobs whose value differs from the original. */
  changes: number;
}

export type Evaluate = (policies: MLAutoscalePolicy[]) => Promise<Evaluation[]>;

export interface SearchOptions {
  /** Candidates to simulate at most (the simplification may add a few). */
  budget: number;
  /** Allowed share of requests over the SLO, 0..1. */
  maxViolationRatio: number;
}

export interface SearchResult {
  original: Scored;
  /** Every candidate simulated, in the order they were. */
  evaluated: Scored[];
  /** Candidates the schema, its rules or the renderer refused (not simulated, not counted in the budget). */
  rejected: number;
  recommended: Scored;
}

/** Relative GPU-hours a simplification may give up for one change fewer. */
export const SIMPLIFY_TOLERANCE = 0.005;
const EPSILON = 1e-9;

export function isFeasible(outcome: Outcome, maxViolationRatio: number): boolean {
  return outcome.violationRatio <= maxViolationRatio + EPSILON;
}

/** Negative when `a` is the better recommendation. */
export function compareScored(a: Scored, b: Scored, maxViolationRatio: number): number {
  const feasibleA = isFeasible(a.outcome, maxViolationRatio);
  const feasibleB = isFeasible(b.outcome, maxViolationRatio);
  if (feasibleA !== feasibleB) return feasibleA ? -1 : 1;
  const primary = feasibleA ? "gpuHours" : "violationRatio";
  const secondary = feasibleA ? "violationRatio" : "gpuHours";
  for (const field of [primary, secondary] as const) {
    const difference = a.outcome[field] - b.outcome[field];
    if (Math.abs(difference) > EPSILON) return difference;
  }
  return a.changes - b.changes;
}

export class Search {
  private readonly seen = new Map<string, Scored | undefined>();
  private readonly evaluated: Scored[] = [];
  private rejected = 0;

  constructor(
    private readonly policy: MLAutoscalePolicy,
    private readonly knobs: readonly Knob[],
    private readonly evaluate: Evaluate,
    private readonly options: SearchOptions,
  ) {}

  private changesOf(values: readonly KnobValue[]): number {
    return this.knobs.reduce((count, knob, index) => count + (values[index] === knob.original ? 0 : 1), 0);
  }

  private better(a: Scored, b: Scored): boolean {
    return compareScored(a, b, this.options.maxViolationRatio) < 0;
  }

  private best(): Scored {
    let best: Scored | undefined;
    for (const scored of this.evaluated) if (!best || this.better(scored, best)) best = scored;
    if (!best) throw new Error("no candidate was simulated");
    return best;
  }

  /**
   * Simulates the vectors not seen before, within `limit` new simulations. Returns the scores of all the
   * vectors that have one, seen before or new.
   */
  private async submit(
    vectors: readonly KnobValue[][],
    limit = this.options.budget - this.evaluated.length,
  ): Promise<Scored[]> {
    const batch: OkCandidate[] = [];
    const keys: string[] = [];
    for (const vector of vectors) {
      const candidate = buildCandidate(this.policy, this.knobs, vector);
      keys.push(candidate.key);
      if (this.seen.has(candidate.key) || batch.length >= limit) continue;
      this.seen.set(candidate.key, undefined);
      if (candidate.ok) batch.push(candidate);
      else this.rejected++;
    }
    if (batch.length > 0) {
      const evaluations = await this.evaluate(batch.map((candidate) => candidate.policy));
      batch.forEach((candidate, index) => {
        const evaluation = evaluations[index];
        if (!evaluation?.ok) {
          this.rejected++;
          return;
        }
        const entry = { candidate, outcome: evaluation.outcome, changes: this.changesOf(candidate.values) };
        this.seen.set(candidate.key, entry);
        this.evaluated.push(entry);
      });
    }
    return keys.flatMap((key) => {
      const scored = this.seen.get(key);
      return scored ? [scored] : [];
    });
  }

  private remaining(): number {
    return this.options.budget - this.evaluated.length;
  }

  /** Each knob through its values within `reach` steps of the current one, nearest steps first. */
  private neighbours(from: readonly KnobValue[], reach: number): KnobValue[][] {
    const moves: { distance: number; vector: KnobValue[] }[] = [];
    this.knobs.forEach((knob, index) => {
      const position = knob.values.indexOf(from[index] ?? knob.original);
      knob.values.forEach((value, valueIndex) => {
        const distance = Math.abs(valueIndex - position);
        if (distance === 0 || distance > reach) return;
        const vector = [...from];
        vector[index] = value;
        moves.push({ distance, vector });
      });
    });
    // When the budget runs short, the small steps are the ones taken (the sort is stable: knob order).
    return moves.sort((a, b) => a.distance - b.distance).map((move) => move.vector);
  }

  private pairs(from: readonly KnobValue[]): KnobValue[][] {
    const step = (index: number, direction: number): KnobValue | undefined => {
      const knob = this.knobs[index];
      if (!knob) return undefined;
      return knob.values[knob.values.indexOf(from[index] ?? knob.original) + direction];
    };
    const vectors: KnobValue[][] = [];
    for (let i = 0; i < this.knobs.length; i++) {
      for (let j = i + 1; j < this.knobs.length; j++) {
        for (const [di, dj] of [
          [1, 1],
          [1, -1],
          [-1, 1],
          [-1, -1],
        ] as const) {
          const a = step(i, di);
          const b = step(j, dj);
          if (a === undefined || b === undefined) continue;
          const vector = [...from];
          vector[i] = a;
          vector[j] = b;
          vectors.push(vector);
        }
      }
    }
    return vectors;
  }

  async run(): Promise<SearchResult> {
    const originalValues = this.knobs.map((knob) => knob.original);
    const [original] = await this.submit([originalValues], Infinity);
    if (!original) throw new Error("the original policy could not be simulated");

    await this.submit(this.neighbours(originalValues, Infinity));
    // The best single change of each knob, best first.
    const singles = this.knobs
      .map((_, index) => this.bestSingleChange(original, index))
      .filter((scored) => scored !== original)
      .sort((a, b) => compareScored(a, b, this.options.maxViolationRatio));
    // The best single changes together: often most of the way in one step.
    const combined = this.knobs.map((knob, index) => {
      const single = singles.find((scored) => scored.candidate.values[index] !== knob.original);
      return single?.candidate.values[index] ?? knob.original;
    });
    await this.submit([combined]);

    // Descents from the best so far, then from the best single changes: one knob can open a way (a target
    // low enough to scale on) that another (a minimum high enough to need no scaling) would close first.
    const starts = [this.best(), ...singles];
    const tried = new Set<string>();
    for (const start of starts) {
      if (this.remaining() <= 0) break;
      if (tried.has(start.candidate.key)) continue;
      tried.add(start.candidate.key);
      await this.descend(start);
    }

    const recommended = await this.simplify(this.best());
    return { original, evaluated: [...this.evaluated], rejected: this.rejected, recommended };
  }

  /** The best candidate that differs from the original in knob `index` alone (the original if none). */
  private bestSingleChange(original: Scored, index: number): Scored {
    let best = original;
    for (const scored of this.evaluated) {
      const single = scored.candidate.values.every(
        (value, other) => other === index || value === this.knobs[other]?.original,
      );
      if (
        single &&
        scored.candidate.values[index] !== this.knobs[index]?.original &&
        this.better(scored, best)
      )
        best = scored;
    }
    return best;
  }

  /** Coordinate descent from `start`: each knob two steps either way, then pairs; until nothing improves. */
  private async descend(start: Scored): Promise<Scored> {
    let current = start;
    while (this.remaining() > 0) {
      let next = this.bestOf(current, await this.submit(this.neighbours(current.candidate.values, 2)));
      if (next === current)
        next = this.bestOf(current, await this.submit(this.pairs(current.candidate.values)));
      if (next === current) break;
      current = next;
    }
    return current;
  }

  private bestOf(current: Scored, candidates: readonly Scored[]): Scored {
    let best = current;
    for (const scored of candidates) if (this.better(scored, best)) best = scored;
    return best;
  }

  /** Undoes the changes the recommendation does not need, one at a time, while it stays as good. */
  private async simplify(start: Scored): Promise<Scored> {
    let current = start;
    for (;;) {
      const reverts = this.knobs.flatMap((knob, index) => {
        if (current.candidate.values[index] === knob.original) return [];
        const vector = [...current.candidate.values];
        vector[index] = knob.original;
        return [vector];
      });
      let best: Scored | undefined;
      for (const scored of await this.submit(reverts, Infinity)) {
        if (scored.changes >= current.changes || !this.asGood(scored, current)) continue;
        if (!best || this.better(scored, best)) best = scored;
      }
      if (!best) return current;
      current = best;
    }
  }

  private asGood(simpler: Scored, current: Scored): boolean {
    const ratio = this.options.maxViolationRatio;
    const noDearer =
      simpler.outcome.gpuHours <= current.outcome.gpuHours * (1 + SIMPLIFY_TOLERANCE) + EPSILON;
    if (isFeasible(current.outcome, ratio)) return isFeasible(simpler.outcome, ratio) && noDearer;
    // Outside the limit too, a simpler policy that costs more is no simplification: `current` beats it.
    return (
      noDearer &&
      simpler.outcome.violationRatio <= current.outcome.violationRatio * (1 + SIMPLIFY_TOLERANCE) + EPSILON
    );
  }
}

/** The candidates no other beats on both SLO violations and GPU-hours, cheapest first. */
export function paretoFront(candidates: readonly Scored[]): Scored[] {
  const sorted = [...candidates].sort(
    (a, b) =>
      a.outcome.gpuHours - b.outcome.gpuHours ||
      a.outcome.violationRatio - b.outcome.violationRatio ||
      a.changes - b.changes,
  );
  const front: Scored[] = [];
  let fewestViolations = Infinity;
  for (const scored of sorted) {
    if (scored.outcome.violationRatio < fewestViolations - EPSILON) {
      front.push(scored);
      fewestViolations = scored.outcome.violationRatio;
    }
  }
  return front;
}

/** How many candidates beat `target` on both axes (at least as good on both, better on one). */
export function dominating(candidates: readonly Scored[], target: Scored): Scored[] {
  return candidates.filter(
    (other) =>
      other.outcome.gpuHours <= target.outcome.gpuHours + EPSILON &&
      other.outcome.violationRatio <= target.outcome.violationRatio + EPSILON &&
      (other.outcome.gpuHours < target.outcome.gpuHours - EPSILON ||
        other.outcome.violationRatio < target.outcome.violationRatio - EPSILON),
  );
}
