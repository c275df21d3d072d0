// Wildcard entries of --file and tailcar.io/files: `/var/log/app/*.log`, `/var/log/**/*.log`, with
// excludes after `!`: `/var/log/app/*.log!debug.log!/var/log/app/tmp/**/*`. Plain functions: what a
// pattern is, which paths it matches, which directories may hold matches. Here, under both halves:
// the injector checks entries and shares the glob's root, the sidecar follows the matches
// (sidecar/glob.ts chooses which, sidecar/glob-scan.ts lists and watches the directories).
//
// Syntax, one path segment at a time, like the shell's: `*` any characters but `/`, `?` one, `[abc]`,
// `[a-z]`, `[!abc]` a set; a segment `**` any number of directories (none included). A name starting
// with `.` is matched only by a segment starting with `.`. An exclude without `/` is matched against
// the file's name, one with `/` (absolute) against its whole path. The part before the first
// wildcard's segment is the glob's root: the directory listed, watched and shared with the sidecar.

const WILDCARD = /[*?[]/;
/** Separates a pattern from its excludes. Only in an entry with a wildcard: an exact path may hold a `!`. */
export const EXCLUDE_SEPARATOR = "!";

export interface Glob {
  /** The entry as given (pattern and excludes): the sidecar's name for it. */
  readonly entry: string;
  readonly pattern: string;
  /** The directory before the first wildcard's segment. */
  readonly root: string;
  /** The segments after the root: `**` or one segment's matcher. */
  readonly segments: readonly Segment[];
  readonly excludes: readonly Exclude[];
}

type Segment = "**" | Wildcard;
type Exclude = { readonly name: Wildcard } | { readonly path: Glob };

/** The pattern and its excludes: split at each `!` outside a `[...]` set (where `[!ab]` negates). */
function splitEntry(entry: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < entry.length; i++) {
    const c = entry[i];
    if (c === "[") {
      const close = entry.indexOf("]", i + 2);
      if (close >= 0 && !entry.slice(i, close).includes("/")) i = close;
    } else if (c === EXCLUDE_SEPARATOR) {
      parts.push(entry.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(entry.slice(from));
  return parts;
}

/** Whether a --file entry is a glob (has a wildcard). */
export function isGlob(entry: string): boolean {
  return WILDCARD.test(splitEntry(entry)[0]!);
}

/** One character of a segment: a literal, `?`, or a `[...]` set. */
type Token = { readonly star: true } | { readonly star: false; readonly test: (c: string) => boolean };

/**
 * One segment, matched without regular expressions: `*` by the two-pointer wildcard match (back to
 * the last `*` on a mismatch), O(name × pattern) whatever the pattern. As a regular expression,
 * `*a*a*a*a*a*a*a*a*a*a*a*a*b` against 40 a's backtracked for more than a minute: a pod's annotation
 * could hang the webhook, which matches a glob against the app's mount paths.
 */
class Wildcard {
  readonly #tokens: readonly Token[];
  readonly #hidden: boolean;

  /** Throws on an unclosed `[`. */
  constructor(segment: string) {
    const tokens: Token[] = [];
    for (let i = 0; i < segment.length; i++) {
      const c = segment[i]!;
      if (c === "*") {
        if (tokens.at(-1)?.star !== true) tokens.push({ star: true });
      } else if (c === "?") tokens.push({ star: false, test: () => true });
      else if (c === "[") {
        const close = segment.indexOf("]", i + 2);
        if (close < 0) throw new Error(`segment ${JSON.stringify(segment)} has a "[" without its "]"`);
        tokens.push({ star: false, test: setTest(segment.slice(i + 1, close)) });
        i = close;
      } else tokens.push({ star: false, test: (x) => x === c });
    }
    this.#tokens = tokens;
    this.#hidden = segment.startsWith(".");
  }

  test(name: string): boolean {
    // Hidden names only for a segment that names them: `*` is not `.*`.
    if (name.startsWith(".") && !this.#hidden) return false;
    const t = this.#tokens;
    let p = 0;
    let n = 0;
    let starAt = -1;
    let starName = 0;
    while (n < name.length) {
      const tok = t[p];
      if (tok !== undefined && !tok.star && tok.test(name[n]!)) {
        p++;
        n++;
      } else if (tok?.star) {
        starAt = p++;
        starName = n;
      } else if (starAt >= 0) {
        p = starAt + 1;
        n = ++starName;
      } else return false;
    }
    while (t[p]?.star) p++;
    return p === t.length;
  }
}

/** The test of a `[...]` set's inside: characters and ranges (`a-z`), negated by a leading `!` or `^`. */
function setTest(inside: string): (c: string) => boolean {
  const negated = inside.startsWith("!") || inside.startsWith("^");
  const body = negated ? inside.slice(1) : inside;
  const ranges: [string, string][] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i + 1] === "-" && i + 2 < body.length) {
      ranges.push([body[i]!, body[i + 2]!]);
      i += 2;
    } else ranges.push([body[i]!, body[i]!]);
  }
  return (c) => ranges.some(([lo, hi]) => c >= lo && c <= hi) !== negated;
}

/** Why `entry` is not a usable glob entry, or undefined. Exact paths are checked elsewhere. */
export function globProblem(entry: string): string | undefined {
  try {
    parseGlob(entry);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The glob of a --file entry that isGlob. Throws an Error that says what is wrong. */
export function parseGlob(entry: string): Glob {
  const [pattern = "", ...rest] = splitEntry(entry);
  const compiled = compile(pattern);
  const excludes = rest.map((x): Exclude => {
    if (x === "") throw new Error(`an empty exclude after "${EXCLUDE_SEPARATOR}"`);
    if (!x.includes("/")) return { name: new Wildcard(x) };
    if (!x.startsWith("/")) throw new Error(`the exclude ${JSON.stringify(x)} has a "/" but is not an absolute path (a name alone, or a whole path)`);
    return { path: { ...compile(x), entry: x, excludes: [] } };
  });
  return { entry, ...compiled, excludes };
}

function compile(pattern: string): Omit<Glob, "entry" | "excludes"> {
  if (!pattern.startsWith("/")) throw new Error(`the pattern ${JSON.stringify(pattern)} is not an absolute path`);
  if (pattern.endsWith("/")) throw new Error(`the pattern ${JSON.stringify(pattern)} names a directory, not files`);
  const parts = pattern.split("/").slice(1);
  if (parts.some((p) => p === "" || p === "." || p === "..")) throw new Error(`the pattern ${JSON.stringify(pattern)} has an empty, "." or ".." segment`);
  const first = parts.findIndex((p) => WILDCARD.test(p));
  const literal = first < 0 ? parts.length - 1 : first;
  const root = `/${parts.slice(0, literal).join("/")}`;
  const segments = parts.slice(literal).map((p): Segment => (p === "**" ? "**" : new Wildcard(p)));
  if (segments.at(-1) === "**") throw new Error(`the pattern ${JSON.stringify(pattern)} ends with "**", which names directories; end it with a file name (**/*.log)`);
  return { pattern, root, segments };
}

/**
 * The positions in `segments` reachable after matching `names` (each one path segment), `**`
 * standing for any number of them. Position segments.length: everything matched.
 */
function advance(segments: readonly Segment[], names: readonly string[]): Set<number> {
  const closure = (from: Iterable<number>): Set<number> => {
    const out = new Set<number>();
    for (let p of from) {
      out.add(p);
      while (segments[p] === "**") out.add(++p);
    }
    return out;
  };
  let at = closure([0]);
  for (const name of names) {
    const next: number[] = [];
    for (const p of at) {
      const s = segments[p];
      if (s === undefined) continue;
      if (s === "**") {
        if (!name.startsWith(".")) next.push(p); // ** passes hidden directories by, as the shell's does
      } else if (s.test(name)) next.push(p + 1);
    }
    at = closure(next);
    if (at.size === 0) break;
  }
  return at;
}

/** The segments of `path` below `root`, or undefined when it is not below it. */
function below(root: string, path: string): string[] | undefined {
  const prefix = root === "/" ? "/" : `${root}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length).split("/") : undefined;
}

export function patternMatches(g: Pick<Glob, "root" | "segments">, path: string): boolean {
  const names = below(g.root, path);
  return names !== undefined && advance(g.segments, names).has(g.segments.length);
}

/** Whether `path` (a file's absolute path) is matched by the glob and by none of its excludes. */
export function matches(g: Glob, path: string): boolean {
  return patternMatches(g, path) && !isExcluded(g, path);
}

export function isExcluded(g: Glob, path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return g.excludes.some((x) => ("name" in x ? x.name.test(name) : patternMatches(x.path, path)));
}

/** Whether files below `dir` (the root or a directory under it) may match: worth listing. */
export function mayHoldMatches(g: Glob, dir: string): boolean {
  if (dir === g.root) return true;
  const names = below(g.root, dir);
  if (names === undefined) return false;
  // A position before the last segment: at least a file name is still to come.
  for (const p of advance(g.segments, names)) if (p < g.segments.length) return true;
  return false;
}

