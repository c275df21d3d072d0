// Kubernetes resource quantities ("100m", "64Mi", "1.5", "2e3"): the one check of every quantity
// setting (webhook default and pod annotation alike), so a typo becomes a start-up error or a
// warning instead of a pod the API server rejects after mutation. No sign, and more than zero.

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

/** The value of a non-negative quantity, or undefined when the text is not one. */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const suffix = m[2] ?? "";
  const scale = suffix === "" ? 1 : /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix]!;
  return Number(m[1]) * scale;
}

/** Why the text is not a usable quantity, or undefined when it is. */
export function quantityProblem(text: string): string | undefined {
  const value = parseQuantity(text);
  if (value === undefined) return "is not a Kubernetes quantity (examples: 10m, 0.5, 64Mi, 1Gi)";
  if (value === 0) return "must be more than zero";
  return undefined;
}
