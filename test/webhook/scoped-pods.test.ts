import assert from "node:assert/strict";
import { test } from "node:test";
import { listPaged, scopedPodQueries, type List, type PageQuery } from "../../webhook/scoped-pods.ts";

/** A list over an array, paged as the API server pages (limit, and an opaque continue token). */
function arrayList(items: readonly number[], calls: PageQuery[] = []): List<number> {
  return async (q) => {
    calls.push(q);
    const from = q.continue === undefined ? 0 : Number(q.continue.slice("after-".length));
    const next = from + q.limit;
    return { items: items.slice(from, next), ...(next < items.length ? { continue: `after-${next}` } : {}) };
  };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test("listPaged follows continue until the last page, asking for pageSize at a time, and keeps what keep accepts", async () => {
  const calls: PageQuery[] = [];
  const result = await listPaged([{ labelSelector: "a=b", list: arrayList(range(1234), calls) }], (n) => n % 100 === 0, { pageSize: 500, maxListed: 20_000 });
  assert.deepEqual(result, { kept: range(13).map((i) => i * 100), listed: 1234, complete: true });
  assert.deepEqual(calls, [
    { labelSelector: "a=b", limit: 500 },
    { labelSelector: "a=b", limit: 500, continue: "after-500" },
    { labelSelector: "a=b", limit: 500, continue: "after-1000" },
  ]);
});

test("listPaged stops at maxListed, across queries, and says the listing is incomplete", async () => {
  const calls: PageQuery[] = [];
  const result = await listPaged(
    [{ labelSelector: "first", list: arrayList(range(300), calls) }, { labelSelector: "second", list: arrayList(range(10_000), calls) }],
    () => true,
    { pageSize: 250, maxListed: 700 },
  );
  assert.equal(result.listed, 700);
  assert.equal(result.kept.length, 700);
  assert.equal(result.complete, false);
  // The last page asks only for what the bound leaves: nothing past it is fetched.
  assert.deepEqual(calls.map((c) => [c.labelSelector, c.limit]), [["first", 250], ["first", 250], ["second", 250], ["second", 150]]);
});

test("listPaged with exactly maxListed objects and no further page is complete", async () => {
  const result = await listPaged([{ labelSelector: "x", list: arrayList(range(10)) }], () => true, { pageSize: 4, maxListed: 10 });
  assert.deepEqual([result.listed, result.complete], [10, true]);
});

test("the pods in scope: one query per enabled namespace not excluded, then opted-in pods of all namespaces", () => {
  const asked: (string | undefined)[] = [];
  const queries = scopedPodQueries(["shop", "kube-system", "logging", "blog"], ["kube-system", "logging"], {
    pods: (namespace) => {
      asked.push(namespace);
      return arrayList([]);
    },
  });
  assert.deepEqual(queries.map((q) => q.labelSelector), ["tailcar.io/inject!=false", "tailcar.io/inject!=false", "tailcar.io/inject=true"]);
  assert.deepEqual(asked, ["blog", "shop", undefined]);
});
