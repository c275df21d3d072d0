// Test-only helpers for random JSON trees (the property tests of the diff and its YAML edit).

export type JsonNode = Record<string, unknown> | unknown[];

/** Every object and array in a JSON tree, the root first. */
export function nodesOf(root: unknown, out: JsonNode[] = []): JsonNode[] {
  if (typeof root !== "object" || root === null) return out;
  out.push(root as JsonNode);
  for (const child of Object.values(root)) nodesOf(child, out);
  return out;
}
