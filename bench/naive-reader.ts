// A stand-in tailer for proving the harness before the real sidecar exists: reads the file at
// explicit offsets in 64 KiB chunks, writes whole lines to fd 1 synchronously, polls for growth.
// Usage: node bench/naive-reader.ts FILE
import { openSync, readSync, writeSync } from "node:fs";

const file = process.argv[2];
if (file === undefined) throw new Error("usage: naive-reader.ts FILE");
const fd = openSync(file, "r");
const buf = Buffer.allocUnsafe(64 * 1024);
let offset = 0;
let carry = 0;
function pump(): void {
  for (;;) {
    const n = readSync(fd, buf, carry, buf.length - carry, offset);
    if (n === 0) break;
    offset += n;
    const end = buf.lastIndexOf(0x0a, carry + n - 1) + 1;
    let w = 0;
    while (w < end) w += writeSync(1, buf, w, end - w);
    carry = carry + n - end;
    buf.copy(buf, 0, end, end + carry);
  }
  setTimeout(pump, 5);
}
pump();
