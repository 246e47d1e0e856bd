import { describe, expect, it } from "vitest";
import { MLAutoscalePolicySchema } from "../../../src/api/v1alpha1/index.js";
import { validBasePolicy, withChanges } from "../../fixtures/invalid-policies.js";
import {
  QUANTITY_PATTERN,
  parseQuantity,
  quantitiesEqual,
  quantityValue,
  toMilli,
} from "../../../src/runtime/quantity.js";

// The one grammar: what the schema admits, the operator compares and the simulator computes with.
describe("quantities", () => {
  it.each([
    ["500m", 0.5],
    ["2", 2],
    ["+2", 2],
    ["-1.5", -1.5],
    [".5", 0.5],
    ["1.", 1],
    ["4Gi", 4 * 2 ** 30],
    ["1Ki", 1024],
    ["1.5k", 1500],
    ["250u", 250e-6],
    ["3n", 3e-9],
    ["1e3", 1000],
    ["1E3", 1000],
    ["2.5e-3", 0.0025],
    ["1E", 1e18],
    ["2M", 2e6],
    [" 7 ", 7],
  ])("%s is %d", (text, value) => {
    expect(quantityValue(text)).toBeCloseTo(value, 12);
    const exact = parseQuantity(text);
    expect(exact).toBeDefined();
    expect(Number(exact?.numerator) / Number(exact?.denominator)).toBeCloseTo(value, 12);
  });

  it.each(["", "10%", "1.2.3", "1K", "1Gb", "abc", "e3", "1e", "--1", "0x10"])(
    "%j is not a quantity anywhere",
    (text) => {
      expect(QUANTITY_PATTERN.test(text.trim())).toBe(false);
      expect(parseQuantity(text)).toBeUndefined();
      expect(quantityValue(text)).toBeUndefined();
    },
  );

  it("takes numbers as they are, and no infinity", () => {
    expect(quantityValue(3)).toBe(3);
    expect(quantityValue(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it("compares the canonical form the API server stores", () => {
    expect(quantitiesEqual("1000m", "1")).toBe(true);
    expect(quantitiesEqual("1Gi", "1073741824")).toBe(true);
    expect(quantitiesEqual("1e3", "1k")).toBe(true);
    expect(quantitiesEqual("1Gi", "1G")).toBe(false);
  });

  it("rounds to milli-units up, as MilliValue does", () => {
    expect(toMilli(0.5)).toBe(500);
    expect(toMilli(0.0001)).toBe(1);
    expect(toMilli(2)).toBe(2000);
  });

  it("is the grammar the policy schema admits", () => {
    const policy = (cpu: string) =>
      withChanges(validBasePolicy(), { "spec.workload.template.resources.requests.cpu": cpu });
    for (const good of ["500m", "2", "1e3"]) {
      expect(MLAutoscalePolicySchema.safeParse(policy(good)).success, good).toBe(true);
    }
    for (const bad of ["1K", "1.2.3"]) {
      expect(MLAutoscalePolicySchema.safeParse(policy(bad)).success, bad).toBe(false);
    }
  });
});
