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
 * Joins the lines logged in one turn of the event loop into one write: under load the server
 * handles several admissions per turn, and a write(2) per line was a tenth of its CPU time. Lines
 * still pending at exit are written then.
 */
export function batchedSink(write: (chunk: string) => void): LogSink {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join("");
    pending = [];
    write(chunk);
  };
  process.on("exit", flush);
  return (line) => {
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
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

export function createLogger(sink: LogSink = defaultSink(), component = "webhook"): Logger {
  const log = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    sink(`${JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields }, replacer)}\n`);
  };
  return {
    log,
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
  };
}

/** A logger that drops everything (benchmarks). */
export const silentLogger: Logger = createLogger(() => {});
