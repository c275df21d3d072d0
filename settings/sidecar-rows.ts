// The contract between injector and tailer: the sidecar's settings, read by `tailcar sidecar`
// from its flags and environment, and written by the webhook into each sidecar's environment
// (toEnv). Both halves import this file; neither imports the other.
import { bool, count, duration, list, multiline, oneOf, port, size, text, url } from "./kinds.ts";
import { optional, setting, type Row, type ValuesOf } from "./row.ts";
import { headerList, tenant, type Header } from "./http-header.ts";
import { formatSize } from "./size.ts";
import { COMPRESSIONS, OUTPUT_FORMATS, SINK_KINDS, START_POSITIONS } from "./vocabulary.ts";

/** The most --max-files may be: each file followed holds a descriptor and a directory watch. */
export const MAX_FILES_CEILING = 10_000;

const env = (name: string, flag: string) => ({ flag, env: `TAILCAR_${name}` });

/**
 * The --reclaim step tailcar.io/reclaim gives a sidecar: a punch (one fallocate child, about 15 ms
 * of CPU) every 64 MiB delivered, 16 a GiB (docs/decisions.md, "Bounded disk").
 */
export const RECLAIM_STEP = 64 * 1024 * 1024;
/** The smallest --reclaim step: each step runs a child process. */
export const MIN_RECLAIM_STEP = 1024 * 1024;

export const SIDECAR_ROWS = [
  setting("files", list(text), [] as readonly string[], "file to follow; repeat the flag, or separate by commas/newlines in the variable", env("FILES", "--file")),
  optional("checkpointDir", text, "directory for checkpoints (resume after restart); unset: no checkpoints", env("CHECKPOINT_DIR", "--checkpoint-dir")),
  setting("from", oneOf(START_POSITIONS), "start", "start or end: where to begin a file seen for the first time (start: like tail -n+1). A file that appears after start-up is always read from its beginning", env("FROM", "--from")),
  setting("format", oneOf(OUTPUT_FORMATS), "raw", "raw copies bytes; json writes one object per line ({\"time\",\"file\",\"log\"} plus pod metadata)", env("FORMAT", "--format")),
  setting("partialFlushMs", duration, 1000, "a last line without newline is written after this long", env("PARTIAL_FLUSH", "--partial-flush")),
  setting("maxLineBytes", size, 1024 * 1024, "lines longer than this are split with a marker", env("MAX_LINE_BYTES", "--max-line-bytes")),
  optional("multiline", multiline, "json only: java, python or a regular expression that starts a record (default off)", env("MULTILINE", "--multiline")),
  setting("multilineTimeoutMs", duration, 1000, "a pending multiline record is written after this long", env("MULTILINE_TIMEOUT", "--multiline-timeout")),
  setting("drainTimeoutMs", duration, 5000, "on SIGTERM, keep reading to the end of the files for at most this long, checkpoint save included", env("DRAIN_TIMEOUT", "--drain-timeout")),
  setting("checkpointIntervalMs", duration, 1000, "how often checkpoints are saved while something moves (an idle sidecar saves nothing and sets no timer)", env("CHECKPOINT_INTERVAL", "--checkpoint-interval")),
  setting("pollIntervalMs", duration, 250, "stat poll interval, the truth behind fs.watch hints", env("POLL_INTERVAL", "--poll-interval")),
  setting("quietPollIntervalMs", duration, 60_000, "the same for a file quiet for 10 s while fs.watch watches it (its writes, truncation, rename and deletion wake the sidecar at once; this poll only catches a lost wake-up); never below --poll-interval (set it to --poll-interval's value for one pace)", env("QUIET_POLL_INTERVAL", "--quiet-poll-interval")),
  setting("coalesceMs", duration, 15, "after fs.watch reports a write, wait this long before reading, so that writes landing meanwhile are read and written together; one window serves all the files of a sidecar, so a file written while it is open waits less (0: read at once; adds up to this much latency a line)", env("COALESCE", "--coalesce")),
  optional("metricsPort", port, "serve Prometheus metrics on this port at /metrics (default off; 0 picks a free port and logs it)", env("METRICS_PORT", "--metrics-port")),
  setting("sink", oneOf(SINK_KINDS), "stdout", "where lines go: stdout, or a backend (see forwarding.md)", env("SINK", "--sink")),
  optional("endpoint", url(), "backend base URL for the elasticsearch, loki and otlp sinks; user:password@ in it is sent as basic auth and redacted from output", env("ENDPOINT", "--endpoint")),
  // Forwarding: credentials and TLS from files (a mounted Secret or ConfigMap), read again when they change (forwarding.md).
  optional("authDir", text, "directory holding the backend's credentials as a mounted Secret does: files username and password (basic auth) or token (bearer), and header.NAME files (a header each); read again when they change; never printed", env("AUTH_DIR", "--auth-dir")),
  optional("caFile", text, "PEM CA bundle the https endpoint's certificate must chain to (instead of Node's built-in roots); read again when it changes", env("CA_FILE", "--ca-file")),
  optional("certFile", text, "PEM client certificate for backends that ask for one (mTLS), with --key-file; read again when it changes", env("CERT_FILE", "--cert-file")),
  optional("keyFile", text, "PEM private key of --cert-file; read again when it changes", env("KEY_FILE", "--key-file")),
  optional("tenant", tenant, "sent as X-Scope-OrgID with every request: the Loki tenant (also for Loki's OTLP endpoint)", env("TENANT", "--tenant")),
  setting("headers", headerList, [] as readonly Header[], "extra request headers, Name=value,Name=value (a secret value: a header.NAME file in --auth-dir instead)", env("HEADERS", "--header")),
  setting("compression", oneOf(COMPRESSIONS), "none", "gzip: request bodies compressed (Content-Encoding: gzip): 5-9x fewer bytes on access-log lines for 1.2-1.8x the sidecar's CPU a line (forwarding.md)", env("COMPRESSION", "--compression")),
  optional("reclaim", size, `free the disk blocks of each file's prefix delivered and checkpointed (punch holes: the file keeps its size and offsets), in steps of at least this size (tailcar.io/reclaim sets ${formatSize(RECLAIM_STEP)}; at least ${formatSize(MIN_RECLAIM_STEP)}; needs --checkpoint-dir, write permission on the file and fallocate from util-linux; default off)`, env("RECLAIM", "--reclaim")),
  // Globs (sidecar/glob.ts): a --file entry with a wildcard follows every file it matches.
  setting("maxFiles", count(1, MAX_FILES_CEILING), 100, "files followed at once at most, exact paths included; files a glob matches beyond it are not followed, with a warning naming them, until others go", env("MAX_FILES", "--max-files")),
  setting("globIntervalMs", duration, 1000, "how often a glob's directories are listed again for new files when fs.watch does not watch them all (when it does, a new file is found at once, and they are listed again every --quiet-poll-interval)", env("GLOB_INTERVAL", "--glob-interval")),
  setting("prefixFileName", bool, false, "raw format: start each line with the path of its file and \": \" (useful with a glob; json records carry the path in \"file\")", env("PREFIX_FILE_NAME", "--prefix-file-name")),
] as const satisfies readonly Row[];

export type SidecarValues = ValuesOf<typeof SIDECAR_ROWS>;

/** What the injector may set per sidecar; anything left out takes the sidecar's default. */
export type SidecarSettings = Partial<SidecarValues> & { readonly files: readonly string[] };

/** Downward-API variables the webhook sets so JSON records carry pod metadata. */
export const POD_ENV = {
  podName: "TAILCAR_POD_NAME",
  podNamespace: "TAILCAR_POD_NAMESPACE",
  nodeName: "TAILCAR_NODE_NAME",
  containerName: "TAILCAR_CONTAINER_NAME",
} as const;

/** The environment variables that make the sidecar read exactly these settings, in row order. */
export function toEnv(settings: SidecarSettings): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const row of SIDECAR_ROWS) {
    const value = settings[row.key];
    if (value === undefined) continue;
    out.push({ name: row.env!, value: (row.kind.format as (v: unknown) => string)(value) });
  }
  return out;
}
