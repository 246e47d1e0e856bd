/**
 * Kubernetes resource quantities ("500m", "2", "4Gi", "1e3"): the one grammar the API schema checks, the
 * operator compares and the simulator computes with. Exact rationals where a value must compare equal to
 * the canonical form the API server stores ("1000m" is "1"); plain numbers where only the value matters.
 */

/**
 * resource.ParseQuantity's grammar: a decimal number, then a binary suffix (Ki..Ei), a decimal suffix
 * (n, u, m, k, M..E) or an exponent. Looser patterns let "1.2.3" or "1K" through, which the API server
 * refuses. Groups: 1 the digits, 3 the suffix or exponent.
 */
export const QUANTITY_PATTERN = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$/;

export interface Rational {
  numerator: bigint;
  denominator: bigint;
}

const BINARY_POWERS: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_EXPONENTS: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

interface QuantityParts {
  negative: boolean;
  digits: string;
  /** A power of 1024, or undefined for a power of ten. */
  binaryPower?: number;
  exponent: number;
}

function quantityParts(text: string): QuantityParts | undefined {
  const trimmed = text.trim();
  const match = QUANTITY_PATTERN.exec(trimmed);
  if (!match) return undefined;
  const digits = match[1] ?? "";
  const suffix = match[3] ?? "";
  const negative = trimmed.startsWith("-");
  const binaryPower = BINARY_POWERS[suffix];
  if (binaryPower !== undefined) return { negative, digits, binaryPower, exponent: 0 };
  // "E" alone is exa; "e3" and "E3" are exponents.
  const exponent =
    suffix.length > 1 && /^[eE]/.test(suffix) ? Number(suffix.slice(1)) : DECIMAL_EXPONENTS[suffix];
  return exponent === undefined ? undefined : { negative, digits, exponent };
}

/** The exact value of a quantity; undefined when the text is not one. */
export function parseQuantity(text: string | number): Rational | undefined {
  const parts = quantityParts(String(text));
  if (parts === undefined) return undefined;
  const [whole = "", fraction = ""] = parts.digits.split(".");
  let numerator = BigInt((whole || "0") + fraction) * (parts.negative ? -1n : 1n);
  let denominator = 10n ** BigInt(fraction.length);
  if (parts.binaryPower !== undefined) numerator *= 1024n ** BigInt(parts.binaryPower);
  else if (parts.exponent >= 0) numerator *= 10n ** BigInt(parts.exponent);
  else denominator *= 10n ** BigInt(-parts.exponent);
  return { numerator, denominator };
}

/** True when both texts are quantities of the same value. */
export function quantitiesEqual(left: string | number, right: string | number): boolean {
  const a = parseQuantity(left);
  const b = parseQuantity(right);
  return a !== undefined && b !== undefined && a.numerator * b.denominator === b.numerator * a.denominator;
}

/** The value of a quantity as a number; undefined when the text is not a quantity. */
export function quantityValue(quantity: string | number): number | undefined {
  if (typeof quantity === "number") return Number.isFinite(quantity) ? quantity : undefined;
  const parts = quantityParts(quantity);
  if (parts === undefined) return undefined;
  const magnitude =
    parts.binaryPower !== undefined
      ? Number(parts.digits) * 1024 ** parts.binaryPower
      : Number(`${parts.digits}e${parts.exponent}`);
  return parts.negative ? -magnitude : magnitude;
}

/** Milli-units, rounded up the way resource.Quantity.MilliValue() does for fractions of a milli. */
export function toMilli(value: number): number {
  return Math.ceil(value * 1000 - 1e-9);
}
