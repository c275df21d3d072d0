import assert from "node:assert/strict";
import { test } from "node:test";
import { Invalid } from "../../settings/kind.ts";
import { headerList, headerNameProblem, headerValueProblem, tenant } from "../../settings/http-header.ts";

test("headerList reads Name=value items in order, trimmed, and formats them back", () => {
  const v = headerList.parse("X-Team=shop, X-Env = prod\nX-Empty=");
  assert.deepEqual(v, [["X-Team", "shop"], ["X-Env", "prod"], ["X-Empty", ""]]);
  assert.deepEqual(headerList.parse(headerList.format(v as never)), v);
});

test("headerList refuses a bad name, a header the sink writes, Authorization and X-Scope-OrgID, a repeated name and an item without =", () => {
  for (const [text, problem] of [
    ["X Team=1", /not an HTTP header name/],
    ["Content-Type=text/plain", /writes itself/],
    ["host=a", /writes itself/],
    ["Authorization=Bearer x", /credential: give it from the Secret/],
    ["x-scope-orgid=1", /tenant setting/],
    ["A=1,a=2", /twice/],
    ["justtext", /not Name=value/],
    ["X-A=line\u0001", /visible ASCII/],
  ] as const) {
    const v = headerList.parse(text);
    assert.ok(v instanceof Invalid, text);
    assert.match(v.problem, problem, text);
  }
});

test("a refused header list is shown with its names only: a value may be a token put there by mistake", () => {
  assert.equal(headerList.shown!("Authorization=Bearer s3cret, X-Team=shop"), "Authorization=***, X-Team=***");
  assert.ok(!headerList.parse("Authorization=Bearer s3cret").toString().includes("s3cret"));
  assert.ok(!(headerList.parse("justs3cret") as Invalid).problem.includes("s3cret"));
});

test("from the Secret, Authorization and X-Scope-OrgID are allowed; values are checked for what HTTP takes", () => {
  assert.equal(headerNameProblem("Authorization", true), undefined);
  assert.equal(headerNameProblem("X-Scope-OrgID", true), undefined);
  assert.match(headerNameProblem("Content-Length", true)!, /writes itself/);
  assert.equal(headerValueProblem("ApiKey abc=="), undefined);
  assert.match(headerValueProblem(" lead")!, /starts or ends/);
  assert.match(headerValueProblem("a\r\nX-Evil: 1")!, /visible ASCII/);
  assert.match(headerValueProblem("x".repeat(9000))!, /longer than/);
});

test("tenant: Loki's tenant ID rule", () => {
  assert.equal(tenant.parse("team-a_1.(x)"), "team-a_1.(x)");
  for (const bad of ["team a", "", ".", "..", "a/b", "x".repeat(151)]) assert.ok(tenant.parse(bad) instanceof Invalid, bad);
});
