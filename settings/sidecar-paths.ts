// The sidecar's HTTP paths on its metrics port, part of the contract between injector and tailer:
// the sidecar serves them, the webhook points the scrape config and the readiness probe at them.
export const METRICS_PATH = "/metrics";
/** 200 once every followed path has been looked at (sidecar/health.ts), else 503. */
export const READY_PATH = "/readyz";
