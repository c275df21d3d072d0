// The PromQL tailcar ships parses as Prometheus parses it: every alert of the PrometheusRule and every
// query of the Grafana dashboard goes through Prometheus's own parser (promql/parser, the code
// Prometheus and promtool run), built from its pinned Go module (localcluster/tools/promql-parse).
// The operator's CRD does not check an expression (its `expr` is any string), and a rule that does
// not parse is dropped by the Prometheus that loads it: nothing would alert.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, test } from "node:test";
import { parse } from "yaml";
import { promqlParseBinary } from "../../localcluster/tools/go-tools.ts";
import { dashboardExpressions, grafanaToPromQL, ruleExpressions, type NamedExpression } from "./promql-expressions.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RULE_FILE = "manifests/monitoring/prometheusrule.yaml";
const DASHBOARD_FILE = "manifests/monitoring/dashboards/tailcar.json";

interface Parsed {
  readonly code: number | null;
  readonly results: { name: string; error: string }[];
  readonly stderr: string;
}

function parseAll(binary: string, expressions: readonly NamedExpression[]): Parsed {
  const run = spawnSync(binary, [], { input: JSON.stringify(expressions), encoding: "utf8", timeout: 60_000 });
  const results = run.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { name: string; error: string });
  return { code: run.status, results, stderr: run.stderr };
}

describe("the shipped PromQL, read by Prometheus's parser", () => {
  let binary: string | undefined;
  let why = "";
  before(() => {
    try {
      binary = promqlParseBinary();
    } catch (e) {
      if (process.env.CI === "true") throw e;
      why = `promql-parse could not be built here: ${e instanceof Error ? e.message : String(e)}`;
    }
  });

  test("every alert of the PrometheusRule and every query of the dashboard parses", (t) => {
    if (binary === undefined) return t.skip(why);
    const expressions = [
      ...ruleExpressions(RULE_FILE, parse(readFileSync(join(ROOT, RULE_FILE), "utf8")) as Record<string, unknown>),
      ...dashboardExpressions(DASHBOARD_FILE, JSON.parse(readFileSync(join(ROOT, DASHBOARD_FILE), "utf8")) as Record<string, unknown>),
    ];
    assert.ok(expressions.filter((e) => e.name.includes(": alert ")).length >= 8, "the rule's alerts");
    assert.ok(expressions.filter((e) => e.name.includes(": panel ")).length >= 20, "the dashboard's queries");
    const parsed = parseAll(binary, expressions);
    assert.deepEqual(parsed.results.filter((r) => r.error !== "").map((r) => `${r.name}: ${r.error}`), [], parsed.stderr);
    assert.deepEqual(parsed.results.map((r) => r.name), expressions.map((e) => e.name), "one answer an expression, in order");
    assert.equal(parsed.code, 0, parsed.stderr);
  });

  test("an expression that does not parse or does not type-check is reported with its name and the parser's message, the others pass, and the exit code is 1", (t) => {
    if (binary === undefined) return t.skip(why);
    const parsed = parseAll(binary, [
      { name: "unclosed", expr: "sum(rate(tailcar_sidecar_lines_read_total[5m])" },
      { name: "fine", expr: "sum(rate(tailcar_sidecar_lines_read_total[5m]))" },
      { name: "bad duration", expr: "rate(tailcar_sidecar_lines_read_total[5 minutes])" },
      { name: "unknown function", expr: "rates(tailcar_sidecar_lines_read_total[5m])" },
      { name: "rate of an instant vector", expr: "rate(tailcar_sidecar_lines_read_total)" },
    ]);
    assert.equal(parsed.code, 1);
    const errors = Object.fromEntries(parsed.results.map((r) => [r.name, r.error]));
    assert.deepEqual(Object.keys(errors), ["unclosed", "fine", "bad duration", "unknown function", "rate of an instant vector"]);
    assert.equal(errors["fine"], "");
    assert.match(errors["unclosed"]!, /unclosed left parenthesis/);
    assert.match(errors["bad duration"]!, /parse error/);
    assert.match(errors["unknown function"]!, /unknown function with name "rates"/);
    assert.match(errors["rate of an instant vector"]!, /expected type range vector in call to function "rate", got instant vector/);
  });

  test("input that is not a list of {name, expr} is refused with exit 2, saying what it wants", (t) => {
    if (binary === undefined) return t.skip(why);
    const run = spawnSync(binary, [], { input: "{not json", encoding: "utf8", timeout: 60_000 });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /stdin is not a JSON list of \{"name", "expr"\}/);
  });
});

test("Grafana's range variables become a duration and the dashboard's own variables a label value, so the query is PromQL", () => {
  assert.equal(
    grafanaToPromQL('sum(rate(m{namespace=~"$namespace"}[$__rate_interval])) + increase(m[${__range}]) + rate(m{pod="${pod:regex}"}[$__interval])'),
    'sum(rate(m{namespace=~"x"}[5m])) + increase(m[5m]) + rate(m{pod="x"}[5m])',
  );
});
