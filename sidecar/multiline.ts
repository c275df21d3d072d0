// Which lines belong together: the rules that turn a stack trace into one record, after Fluent
// Bit's built-in multiline parsers (java, python) and its regex first-line mode. Pure: a grouper
// sees one line at a time, as text without its newline, and says what to do with it.

/**
 * - "start": the line opens a record that later lines may join (held back until it is complete);
 * - "single": the line is a record of its own that nothing can join (written at once);
 * - "join": the line belongs to the open record (and so do any "maybe" lines before it);
 * - "maybe": the line belongs to the open record only if a later line joins it (a blank line
 *   between chained Python tracebacks); otherwise it becomes a record of its own.
 */
export type Verdict = "start" | "single" | "join" | "maybe";

export interface Grouper {
  next(line: string): Verdict;
  /** The open record was written (timeout, shutdown, size cap): what follows starts afresh. */
  reset(): void;
  /** What next() knows from the lines before, as a short word (a checkpoint keeps it: transform-multiline.ts). */
  state(): string;
  /** Takes up a state() again; false (and starts afresh) for one it does not know. */
  restore(state: string): boolean;
}

/** state() and restore() of a grouper whose only memory is whether a record is open. */
function openState(get: () => boolean, set: (open: boolean) => void): Pick<Grouper, "state" | "restore"> {
  return {
    state: () => (get() ? "open" : "closed"),
    restore(state) {
      set(state === "open");
      return state === "open" || state === "closed";
    },
  };
}

// Continuation lines of a Java stack trace.
const JAVA_FRAME = /^[\t ]+(?:eval )?at /;
const JAVA_CONTINUATION = [
  JAVA_FRAME,
  /^[\t ]*(?:Caused by|Suppressed):/,
  /^[\t ]*\.\.\. \d+ (?:more|common frames omitted)/,
  /^[\t ]+--- End of inner exception stack trace ---$/,
  /^[\t ]*nested exception is:/,
];
// A line that can start a trace: it names an exception or error (Fluent Bit's java start_state),
// or the thread, or begins with a qualified class name followed by ":" or nothing. A false start
// costs only holding that line until the next one; it joins nothing but trace lines.
const JAVA_START = /(?:Exception|Error|Throwable)(?::|$)|^Exception in thread |^(?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?::|$)/;

export function javaGrouper(): Grouper {
  let open = false;
  return {
    next(line) {
      if (open && JAVA_CONTINUATION.some((re) => re.test(line))) return "join";
      open = JAVA_START.test(line);
      return open ? "start" : "single";
    },
    reset() {
      open = false;
    },
    ...openState(() => open, (o) => (open = o)),
  };
}

const PY_START = /^Traceback \(most recent call last\):$/;
const PY_INDENTED = /^[\t ]+\S/;
const PY_FINAL = /^[A-Za-z_][\w.]*(?::|$)/;
const PY_CHAIN = /^(?:During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)$/;

const PY_STATES = ["closed", "header", "frames", "final", "gap", "chain", "chainGap"] as const;
type PyState = (typeof PY_STATES)[number];

export function pythonGrouper(): Grouper {
  let state: PyState = "closed";
  const fresh = (line: string): Verdict => {
    state = PY_START.test(line) ? "header" : "closed";
    return state === "header" ? "start" : "single";
  };
  return {
    next(line) {
      switch (state) {
        case "header":
        case "frames":
          if (PY_INDENTED.test(line)) {
            state = "frames";
            return "join";
          }
          if (state === "frames" && PY_FINAL.test(line)) {
            state = "final";
            return "join";
          }
          return fresh(line);
        case "final":
          if (line === "") {
            state = "gap";
            return "maybe";
          }
          return fresh(line);
        case "gap":
          if (PY_CHAIN.test(line)) {
            state = "chain";
            return "join";
          }
          return fresh(line);
        case "chain":
          if (line === "") {
            state = "chainGap";
            return "join";
          }
          return fresh(line);
        case "chainGap":
          if (PY_START.test(line)) {
            state = "header";
            return "join";
          }
          return fresh(line);
        case "closed":
          return fresh(line);
      }
    },
    reset() {
      state = "closed";
    },
    state: () => state,
    restore(s) {
      const known = (PY_STATES as readonly string[]).includes(s);
      state = known ? (s as PyState) : "closed";
      return known;
    },
  };
}

/** A line matching `firstLine` starts a record; every other line joins the open one, if any. */
export function regexGrouper(firstLine: RegExp): Grouper {
  let open = false;
  return {
    next(line) {
      if (firstLine.test(line)) {
        open = true;
        return "start";
      }
      return open ? "join" : "single";
    },
    reset() {
      open = false;
    },
    ...openState(() => open, (o) => (open = o)),
  };
}

/** `spec` is config.multiline: "java", "python", or a regular expression for a record's first line. */
export function createGrouper(spec: string): Grouper {
  if (spec === "java") return javaGrouper();
  if (spec === "python") return pythonGrouper();
  let re: RegExp;
  try {
    // Without flags: a "g" or "y" flag would make test() stateful between lines.
    re = new RegExp(spec);
  } catch (e) {
    throw new Error(`multiline: "${spec}" is not a regular expression: ${(e as Error).message}`);
  }
  return regexGrouper(re);
}
