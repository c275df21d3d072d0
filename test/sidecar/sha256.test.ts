// The plain-TypeScript SHA-256 gives node:crypto's digests, so checkpoints written by either match.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { sha256Hex } from "../../sidecar/sha256.ts";

const reference = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

test("sha256Hex equals node:crypto's sha256 for every length around the block and padding edges", () => {
  for (let n = 0; n <= 300; n++) {
    const data = randomBytes(n);
    assert.equal(sha256Hex(data), reference(data), `length ${n}`);
  }
  for (const n of [1023, 1024, 1025, 4096, 100_003]) {
    const data = randomBytes(n);
    assert.equal(sha256Hex(data), reference(data), `length ${n}`);
  }
});

test("sha256Hex hashes a string as UTF-8, and known vectors come out right", () => {
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  for (const s of ["/var/log/app.log", "/logs/día/日志.log", "x".repeat(70)]) assert.equal(sha256Hex(s), reference(s), s);
});
