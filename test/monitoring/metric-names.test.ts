import { test } from "node:test";
import assert from "node:assert/strict";
import { exportedNames, grafanaQueryMetricNames, promqlMetricNames } from "./metric-names.ts";

test("promqlMetricNames keeps selected metrics and drops calls, keywords, label lists, matchers, ranges and numbers", () => {
  const cases: [string, string[]][] = [
    ["up", ["up"]],
    ['up{job="x"} == 0 or absent(up{job="x"})', ["up"]],
    ['sum by (namespace) (rate(a_total{result="error"}[5m])) / sum by (namespace) (rate(a_total[5m])) > 0.01', ["a_total"]],
    ['histogram_quantile(0.99, sum by (namespace, le) (rate(d_seconds_bucket{result!="ignored"}[5m]))) > 0.25', ["d_seconds_bucket"]],
    ["x_seconds - time() < 21 * 86400", ["x_seconds"]],
    ["lag > 1048576 and deriv(lag[15m]) > 0", ["lag"]],
    ["lag > 1e6 unless on (pod) group_left (file) other offset 5m", ["lag", "other"]],
    ["sum(rate(a[1m])) without (le) / ignoring(x) b", ["a", "b"]],
    ['topk(10, lag{namespace=~"$namespace", file="a{b}"})', ["lag"]],
    ["rate(c[$__rate_interval]) * 100 + .5 + 0x1F", ["c"]],
    ["max_over_time(a[1h:5m]) bool > Inf", ["a"]],
    ['label_replace(a, "dst", "$1", "src", "(.*)")', ["a"]],
    ["ns:rule:rate5m", ["ns:rule:rate5m"]],
  ];
  for (const [expr, names] of cases) assert.deepEqual(promqlMetricNames(expr), names, expr);
});

test("grafanaQueryMetricNames reads label_values(metric, label) as its metric, label_values(label) as none", () => {
  assert.deepEqual(grafanaQueryMetricNames("label_values(lines_total, namespace)"), ["lines_total"]);
  assert.deepEqual(grafanaQueryMetricNames('label_values(lines_total{pod="a"}, namespace)'), ["lines_total"]);
  assert.deepEqual(grafanaQueryMetricNames("label_values(namespace)"), []);
  assert.deepEqual(grafanaQueryMetricNames("sum(rate(x[5m]))"), ["x"]);
});

test("exportedNames: a histogram is queryable only by its _bucket, _sum and _count; families count before their first sample", () => {
  const page = [
    "# HELP h_seconds time",
    "# TYPE h_seconds histogram",
    'h_seconds_bucket{le="0.1"} 1',
    "# TYPE s summary",
    "# TYPE c_total counter",
    "# TYPE g gauge",
    "g 0",
    "untyped_sample 3",
    "",
  ].join("\n");
  assert.deepEqual([...exportedNames(page)].sort(), ["c_total", "g", "h_seconds_bucket", "h_seconds_count", "h_seconds_sum", "s", "s_count", "s_sum", "untyped_sample"]);
});
