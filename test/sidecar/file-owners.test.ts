// One owner per file across the followed paths of a sidecar (sidecar/file-owners.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { FileOwners, FINISHED_MAX, keyOf } from "../../sidecar/file-owners.ts";

test("one owner per file: a second path is refused while the first reads it, and takes it on where the first finished it", () => {
  const owners = new FileOwners();
  const key = keyOf({ dev: 1n, ino: 2n, birthtimeNs: 3n });
  const identity = { dev: "1", ino: "2", fingerprint: "f", fingerprintLength: 1 };
  assert.equal(owners.claim(key, "/a"), undefined);
  assert.equal(owners.claim(key, "/a"), undefined, "claiming again is fine");
  assert.equal(owners.claim(key, "/b"), "/a");
  assert.equal(owners.ownerOf(key, "/b"), "/a");
  owners.release(key, "/b"); // not the owner: no effect
  assert.equal(owners.ownerOf(key, "/b"), "/a");
  owners.release(key, "/a", { identity, offset: 100, path: "/a" });
  assert.equal(owners.ownerOf(key, "/b"), undefined);
  assert.equal(owners.finished(key)?.offset, 100);
  assert.equal(owners.claim(key, "/b"), undefined);
  assert.equal(owners.finished(key), undefined, "the new owner carries the file on");
  for (let i = 0; i < FINISHED_MAX + 10; i++) {
    const k = keyOf({ dev: 9n, ino: BigInt(i), birthtimeNs: 0n });
    owners.claim(k, "/c");
    owners.release(k, "/c", { identity, offset: i, path: "/c" });
  }
  assert.equal(owners.finished(keyOf({ dev: 9n, ino: 0n, birthtimeNs: 0n })), undefined, "the oldest finished files are forgotten");
  assert.equal(owners.finished(keyOf({ dev: 9n, ino: BigInt(FINISHED_MAX + 9), birthtimeNs: 0n }))?.offset, FINISHED_MAX + 9);
});
