// JSON Patch operations applied to a parsed YAML document in place, so that `tailcar inject`
// changes only what injection changes and keeps the rest of the input as written: comments, key
// order, quoting, and block or flow style (except a flow collection that gets a map or list added
// inside, which becomes block style). Only the operations a diff produces (add, replace, remove)
// on plain maps and sequences; anything else (an alias on the path, a test or move operation)
// throws, and the caller writes the document out from the object instead.
import { isMap, isSeq, type Document, type YAMLMap, type YAMLSeq } from "yaml";
import type { Operation } from "fast-json-patch";

/** RFC 6901: "/a~1b/0" → ["a/b", "0"]. */
function pointerSegments(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new Error(`not a JSON pointer: ${JSON.stringify(path)}`);
  return path.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function index(segment: string): number {
  if (!/^(0|[1-9]\d*)$/.test(segment)) throw new Error(`not a sequence index: ${JSON.stringify(segment)}`);
  return Number(segment);
}

/** The map or sequence nodes from the document's root down to `segments`; anything else throws. */
function collectionsTo(doc: Document, segments: readonly string[]): (YAMLMap | YAMLSeq)[] {
  const chain: (YAMLMap | YAMLSeq)[] = [];
  let node: unknown = doc.contents;
  for (let i = 0; ; i++) {
    if (!isMap(node) && !isSeq(node)) throw new Error(`no map or sequence at /${segments.slice(0, i).join("/")}`);
    chain.push(node);
    const segment = segments[i];
    if (segment === undefined) return chain;
    node = isSeq(node) ? node.items[index(segment)] : node.get(segment, true);
  }
}

export function applyPatchToDocument(doc: Document, operations: readonly Operation[]): void {
  for (const op of operations) {
    const segments = pointerSegments(op.path);
    const last = segments.at(-1);
    if (last === undefined) throw new Error(`${op.op} of the whole document`);
    const chain = collectionsTo(doc, segments.slice(0, -1));
    const parent = chain.at(-1)!;
    switch (op.op) {
      case "add":
      case "replace": {
        const node = doc.createNode(op.value);
        // A map or list added inside a flow collection (`spec: {containers: […]}`) would stay on one
        // line: that collection, and the flow ones around it, become block style.
        if (typeof op.value === "object" && op.value !== null) for (const c of chain) c.flow = false;
        if (isSeq(parent)) {
          const at = op.op === "add" && last === "-" ? parent.items.length : index(last);
          if (at > parent.items.length || (op.op === "replace" && at === parent.items.length)) throw new Error(`index ${at} out of range at ${op.path}`);
          parent.items.splice(at, op.op === "add" ? 0 : 1, node);
        } else {
          parent.set(doc.createNode(last), node);
        }
        break;
      }
      case "remove":
        if (!parent.delete(isSeq(parent) ? index(last) : last)) throw new Error(`nothing to remove at ${op.path}`);
        break;
      default:
        throw new Error(`unsupported operation ${op.op}`);
    }
  }
}
