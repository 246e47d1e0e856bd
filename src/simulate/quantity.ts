// Kubernetes resource quantities ("500m", "2", "4Gi", "1e3") as plain numbers. The simulator only
// needs their value, not their canonical form.

const DECIMAL_SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
const BINARY_SUFFIXES: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY_PATTERN = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The numeric value of a quantity, or undefined when the text is not a quantity. */
export function parseQuantity(quantity: string | number): number | undefined {
  if (typeof quantity === "number") return Number.isFinite(quantity) ? quantity : undefined;
  const match = QUANTITY_PATTERN.exec(quantity.trim());
  if (!match) return undefined;
  const mantissa = Number(match[1]);
  const exponent = match[2];
  if (exponent !== undefined) return Number(`${match[1]}${exponent}`);
  const suffix = match[3] ?? "";
  const scale = BINARY_SUFFIXES[suffix] ?? DECIMAL_SUFFIXES[suffix];
  return scale === undefined ? undefined : mantissa * scale;
}

/** Milli-units, rounded up the way resource.Quantity.MilliValue() does for fractions of a milli. */
export function toMilli(value: number): number {
  return Math.ceil(value * 1000 - 1e-9);
}
