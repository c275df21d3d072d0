// Every PromQL expression tailcar ships, each with a name that says where it is: the alerts of the
// PrometheusRule, and the dashboard's panel queries and query variables, with Grafana's variables
// given values so that Prometheus's parser can read them (test/monitoring/promql.test.ts).

export interface NamedExpression {
  readonly name: string;
  readonly expr: string;
}

// A loose view of parsed YAML and JSON.
type Obj = Record<string, any>;

/** Grafana's built-in range variables: each is a duration when Grafana sends the query. */
const GRAFANA_DURATIONS = new Set(["__rate_interval", "__interval", "__range"]);

/**
 * A Grafana query as Prometheus receives it: $__rate_interval, $__interval and $__range become 5m,
 * any other $variable or ${variable} (the dashboard's own, used in label matchers) becomes x. A
 * variable used where x cannot stand (a number, a duration) then fails to parse: add its value here.
 */
export function grafanaToPromQL(query: string): string {
  return query.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_, braced: string | undefined, plain: string | undefined) => (GRAFANA_DURATIONS.has((braced ?? plain)!) ? "5m" : "x"));
}

/** The alerts and recording rules of a PrometheusRule, named by file and alert (or record). */
export function ruleExpressions(file: string, rule: Obj): NamedExpression[] {
  return (rule["spec"]?.groups ?? []).flatMap((g: Obj) =>
    (g["rules"] ?? []).map((r: Obj) => ({ name: `${file}: ${r["alert"] !== undefined ? `alert ${r["alert"]}` : `record ${r["record"]}`}`, expr: String(r["expr"]) })),
  );
}

/** The dashboard's panel queries (named by panel title and refId) and the selectors of its label_values() variables. */
export function dashboardExpressions(file: string, dashboard: Obj): NamedExpression[] {
  const panels = (list: Obj[]): Obj[] => list.flatMap((p) => [p, ...panels(p["panels"] ?? [])]);
  const queries = panels(dashboard["panels"] ?? []).flatMap((p) =>
    (p["targets"] ?? []).map((t: Obj) => ({ name: `${file}: panel "${p["title"]}" query ${t["refId"]}`, expr: grafanaToPromQL(String(t["expr"])) })),
  );
  const variables = (dashboard["templating"]?.list ?? [])
    .filter((v: Obj) => v["type"] === "query")
    .flatMap((v: Obj) => {
      const query = typeof v["query"] === "string" ? v["query"] : String(v["query"]?.query ?? "");
      // label_values(SELECTOR, label) is Grafana's; the selector in it is PromQL.
      const selector = /^\s*label_values\(\s*(.*),\s*\w+\s*\)\s*$/s.exec(query)?.[1];
      const expr = selector ?? (/^\s*label_values\(\s*\w+\s*\)\s*$/.test(query) ? undefined : query);
      return expr === undefined ? [] : [{ name: `${file}: variable ${v["name"]}`, expr: grafanaToPromQL(expr) }];
    });
  return [...queries, ...variables];
}
