// Pure helpers of the benchmark: statistics over rounds and parsers of /proc files.

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** Median (mean of the middle two for an even count), min and max. Throws on no samples. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error("summarize: no samples");
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error("percentile: no samples");
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile: p=${p} is not within 0..100`);
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

/** Ratio of each tailer's sample to the baseline's sample of the same round. */
export function pairedRatios(values: readonly number[], baseline: readonly number[]): number[] {
  if (values.length !== baseline.length) throw new Error(`pairedRatios: ${values.length} values vs ${baseline.length} baseline samples`);
  return values.map((v, i) => v / baseline[i]!);
}

/**
 * utime + stime in clock ticks from /proc/PID/stat. The command name (field 2) may hold spaces
 * and parentheses, so fields are counted after its last ")".
 */
export function parseProcStatCpuTicks(stat: string): number {
  const close = stat.lastIndexOf(")");
  if (close < 0) throw new Error(`/proc stat: no ")" in ${JSON.stringify(stat.slice(0, 80))}`);
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  // After the name: state(3) ppid … utime is field 14, stime field 15 (1-based, man 5 proc).
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`/proc stat: bad utime/stime in ${JSON.stringify(stat.slice(0, 120))}`);
  return utime + stime;
}

export interface MemoryKiB {
  readonly rss: number;
  readonly anonymous: number;
}

/** Rss and Anonymous (kB) from /proc/PID/smaps_rollup. */
export function parseSmapsRollup(text: string): MemoryKiB {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text);
    if (!m) throw new Error(`smaps_rollup: no "${name}:" line`);
    return Number(m[1]);
  };
  return { rss: field("Rss"), anonymous: field("Anonymous") };
}

export function formatRange(s: Summary, digits = 2): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}
