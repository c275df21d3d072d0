// Structured logs: one JSON object per line on stdout, so a cluster's log collector parses them
// without regexes. The sink is injectable so tests and the benchmark can capture or silence it.

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export type LogSink = (line: string) => void;

/**
 * Joins the lines logged within delayMs (or until maxChars are pending) into one write: under load
 * the server answers hundreds of admissions in that time, and a write per line, or even per turn
 * of the event loop, was a large part of its CPU time per request (docs/decisions.md). Lines still
 * pending at exit are written then.
 */
export function batchedSink(write: (chunk: string) => void, delayMs = 10, maxChars = 64 * 1024): LogSink {
  let pending: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const chunk = pending.join("");
    pending = [];
    chars = 0;
    write(chunk);
  };
  process.on("exit", flush);
  return (line) => {
    pending.push(line);
    chars += line.length;
    if (chars >= maxChars) flush();
    // Unref'd: a pending line never keeps the process alive; the exit handler writes it.
    else timer ??= setTimeout(flush, delayMs).unref();
  };
}

let stdoutSink: LogSink | undefined;
const defaultSink = (): LogSink => (stdoutSink ??= batchedSink((chunk) => process.stdout.write(chunk)));

/** An error's message followed by its causes' ("fetch failed: connect ECONNREFUSED 127.0.0.1:1"). */
export function errorMessage(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 5; depth++) {
    const message = x instanceof Error ? x.message : String(x);
    if (!parts.some((p) => p.includes(message))) parts.push(message);
    x = x instanceof Error ? x.cause : undefined;
  }
  return parts.join(": ");
}

/** JSON.stringify replacer: an Error becomes its message chain (it would otherwise log as {}). */
function replacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? errorMessage(value) : value;
}

/**
 * Whether a field may hold an Error somewhere: only plain values and arrays of them are known not
 * to. Without one the replacer is skipped: called for every key and array element, it was most of
 * the cost of the admission line.
 */
function mayHoldError(fields: LogFields): boolean {
  for (const key in fields) {
    const value = fields[key];
    if (typeof value !== "object" || value === null) continue;
    if (!Array.isArray(value)) return true;
    for (const item of value as unknown[]) if (typeof item === "object" && item !== null) return true;
  }
  return false;
}

// The first keys of every line; a field of the same name takes their place (as a spread would).
const HEAD_KEYS = ["time", "level", "component", "msg"] as const;

let isoMs = Number.NaN;
let isoText = "";
/** new Date().toISOString(), formatted once per millisecond: a busy server logs many lines in one. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

export function createLogger(sink: LogSink = defaultSink(), component = "webhook"): Logger {
  const componentJson = JSON.stringify(component);
  const log = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    const stringify = (value: unknown): string => (mayHoldError(fields) ? JSON.stringify(value, replacer) : JSON.stringify(value));
    if (HEAD_KEYS.some((key) => Object.hasOwn(fields, key))) {
      sink(`${stringify({ time: isoNow(), level, component, msg, ...fields })}\n`);
      return;
    }
    // The same text as stringifying { time, level, component, msg, ...fields }, without copying
    // the fields into a new object first.
    const head = `{"time":"${isoNow()}","level":"${level}","component":${componentJson},"msg":${JSON.stringify(msg)}`;
    const rest = stringify(fields);
    sink(rest === "{}" ? `${head}}\n` : `${head},${rest.slice(1)}\n`);
  };
  return {
    log,
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
  };
}
