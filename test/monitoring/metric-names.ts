// Which metric names an alert or a dashboard query reads, and which a /metrics page exports: the two
// sides of test/monitoring/monitoring.test.ts. A small PromQL reader, not a parser: it drops what
// cannot hold a metric name (strings, label matchers, ranges, label lists, durations after offset,
// Grafana's $variables) and keeps the identifiers that are not calls, keywords or numbers.

const KEYWORDS = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan"]);

/** The metric names a PromQL expression selects, in order of first use. */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#[^\n]*/g, " ")
    .replace(/\$\{[^}]*\}|\$\w+/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ")
    .replace(/\boffset\s+-?[\dsmhdwy]+/gi, " ");
  const names: string[] = [];
  // A number first, so the exponent of 1e6 or the unit of 5m is never read as a name.
  for (const m of stripped.matchAll(/(0x[\da-f]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|([A-Za-z_:][\w:]*)(\s*\()?/gi)) {
    const id = m[2];
    if (id === undefined || m[3] !== undefined || KEYWORDS.has(id.toLowerCase())) continue;
    if (!names.includes(id)) names.push(id);
  }
  return names;
}

/** A Grafana query: PromQL, or a variable's label_values(METRIC-OR-SELECTOR, label) / label_values(label). */
export function grafanaQueryMetricNames(query: string): string[] {
  const labelValues = /^\s*label_values\(\s*(?:(.*),)?\s*\w+\s*\)\s*$/s.exec(query);
  if (labelValues) return labelValues[1] === undefined ? [] : promqlMetricNames(labelValues[1]);
  return promqlMetricNames(query);
}

/**
 * The series names a Prometheus text page makes queryable: each declared family (a counter's or
 * gauge's own name; a histogram only as _bucket, _sum and _count, a summary as itself, _sum and
 * _count), declared even before its first sample, and every sample's name.
 */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      if (kind === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
      else if (kind === "summary") for (const s of ["", "_sum", "_count"]) names.add(name + s);
      else names.add(name);
      continue;
    }
    if (line.startsWith("#") || line.trim() === "") continue;
    const sample = /^[A-Za-z_:][\w:]*/.exec(line);
    if (sample) names.add(sample[0]);
  }
  return names;
}
