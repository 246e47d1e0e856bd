/**
 * Kubernetes resource quantities ("500m", "1", "1Gi", "1e3") as exact rationals, so that the values a
 * controller writes compare equal to the canonical form the API server stores ("1000m" is "1").
 */
export interface Rational {
  numerator: bigint;
  denominator: bigint;
}

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

const BINARY_POWERS: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_EXPONENTS: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

/** Parses a quantity; undefined when the text is not one. */
export function parseQuantity(text: string | number): Rational | undefined {
  const match = QUANTITY.exec(String(text).trim());
  if (!match) return undefined;
  const [, sign = "", digits = "", suffix = ""] = match;
  const [whole = "", fraction = ""] = digits.split(".");
  let numerator = BigInt((whole || "0") + fraction) * (sign === "-" ? -1n : 1n);
  let denominator = 10n ** BigInt(fraction.length);
  let exponent = 0;
  const binaryPower = BINARY_POWERS[suffix];
  if (binaryPower !== undefined) numerator *= 1024n ** BigInt(binaryPower);
  else if (suffix.startsWith("e") || suffix.startsWith("E")) {
    exponent = suffix.length > 1 ? Number(suffix.slice(1)) : 18;
  } else if (suffix) exponent = DECIMAL_EXPONENTS[suffix] ?? 0;
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
  else denominator *= 10n ** BigInt(-exponent);
  return { numerator, denominator };
}

/** True when both texts are quantities of the same value. */
export function quantitiesEqual(left: string | number, right: string | number): boolean {
  const a = parseQuantity(left);
  const b = parseQuantity(right);
  return a !== undefined && b !== undefined && a.numerator * b.denominator === b.numerator * a.denominator;
}
