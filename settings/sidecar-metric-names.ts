// The names of the sidecar's metrics that `tailcar check` reads back: the sidecar serves them
// (sidecar/metrics.ts) and the check reads them (webhook/check/), and neither imports the other.
export const SIDECAR_METRIC_NAMES = {
  lagBytes: "tailcar_sidecar_lag_bytes",
  rotations: "tailcar_sidecar_rotations_total",
  truncations: "tailcar_sidecar_truncations_total",
  copytruncateLostBytes: "tailcar_sidecar_copytruncate_lost_bytes_total",
  fileNotFollowed: "tailcar_sidecar_file_not_followed",
  reclaimedBytes: "tailcar_sidecar_reclaimed_bytes_total",
  reclaimFailures: "tailcar_sidecar_reclaim_failures_total",
} as const;
