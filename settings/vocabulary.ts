// The words both halves use for the same things: what the sidecar writes and where it sends it.

export const OUTPUT_FORMATS = ["raw", "json"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Backends a sidecar forwards to. */
export const FORWARD_SINKS = ["elasticsearch", "loki", "otlp"] as const;
export type ForwardSink = (typeof FORWARD_SINKS)[number];

/** Where a sidecar writes: its stdout, or a backend. */
export const SINK_KINDS = ["stdout", ...FORWARD_SINKS] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export const START_POSITIONS = ["start", "end"] as const;
export type StartPosition = (typeof START_POSITIONS)[number];

/** How a forwarding sidecar encodes request bodies. */
export const COMPRESSIONS = ["none", "gzip"] as const;
export type Compression = (typeof COMPRESSIONS)[number];
