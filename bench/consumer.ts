// The consumer end of the throughput pipe: reads 1 MiB at a time from a FIFO until it has
// `expected` bytes, then prints the monotonic times (ns) of its first and last byte as JSON and
// keeps the FIFO open until the parent ends it: a tailer that exits when its reader goes away
// (coreutils tail does) must still be alive when the parent reads its CPU time.
// It says "first" when the first bytes came, so the parent can read the tailer's CPU time there.
// Usage: node bench/consumer.ts FIFO EXPECTED_BYTES
import { openSync, readSync } from "node:fs";

const [fifo, expectedText] = process.argv.slice(2);
if (fifo === undefined || expectedText === undefined) throw new Error("usage: consumer.ts FIFO EXPECTED_BYTES");
const expected = Number(expectedText);
// Start-up is over: the parent starts the clock and the tailer when it reads this line.
process.stdout.write("ready\n");
const fd = openSync(fifo, "r");
const buf = Buffer.allocUnsafe(1024 * 1024);
let got = 0;
let first = 0n;
while (got < expected) {
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  if (got === 0) {
    first = process.hrtime.bigint();
    // The parent reads the tailer's CPU time here: what streaming costs, start-up apart.
    process.stdout.write("first\n");
  }
  got += n;
}
const last = process.hrtime.bigint();
process.stdout.write(JSON.stringify({ bytes: got, firstNs: String(first), lastNs: String(last) }) + "\n");
if (got < expected) process.exit(3);
// Bounded: the parent kills us long before this.
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
