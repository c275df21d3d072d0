// Freezes a plain JSON value and everything in it, so that what is shared (settings, memoized
// sidecars) cannot be changed by one caller under another: a write then throws instead.
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
