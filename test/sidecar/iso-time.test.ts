// Diagnostics and checkpoints carry isoTime's timestamps: they must read exactly as toISOString's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isoTime } from "../../sidecar/log.ts";

test("isoTime(ms) equals new Date(ms).toISOString() across years, month ends and leap days", () => {
  const fixed = [0, 1, 999, 951782400000 /* 2000-02-29 */, 1709164800123, 4102444799999 /* 2099-12-31T23:59:59.999 */, Date.now()];
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const samples = [...fixed, ...Array.from({ length: 5000 }, () => Math.floor(random() * 4102444800000))];
  for (const ms of samples) assert.equal(isoTime(ms), new Date(ms).toISOString(), `ms ${ms}`);
});
