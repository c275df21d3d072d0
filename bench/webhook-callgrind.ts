// Instructions per /mutate request under valgrind's callgrind: a count that a noisy, shared
// machine cannot move, for comparing versions of the code where CPU time is too noisy to tell
// (docs/decisions.md). Starts one benchmark server (bench/webhook-server.ts KIND, or another
// checkout's with DIR:KIND) under callgrind, warms it with closed-loop load (16 in flight) until
// the JIT has settled, then counts the instructions of COUNT more requests.
// Needs valgrind (Debian package `valgrind`); takes minutes: the server runs ~50× slower.
// Usage: node bench/webhook-callgrind.ts [DIR:]KIND [--warmup N] [--count N] [--out FILE]
//   prints instructions per request; callgrind_annotate FILE shows where they go.
import { execFileSync, spawn } from "node:child_process";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCertBundle } from "../webhook/certs.ts";
import { applicationReview } from "./webhook.ts";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = argv.indexOf(name);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1]! : fallback;
};
const name = argv.find((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--"));
if (name === undefined || argv.includes("--help")) {
  process.stderr.write("usage: node bench/webhook-callgrind.ts [DIR:]KIND [--warmup N] [--count N] [--out FILE]\n");
  process.exit(name === undefined ? 2 : 0);
}
const warmup = Number(flag("--warmup", "15000"));
const count = Number(flag("--count", "3000"));
const out = flag("--out", join(tmpdir(), `tailcar-callgrind-${process.pid}.out`));
const at = name.lastIndexOf(":");
const kind = name.slice(at + 1);
const server = at < 0 ? fileURLToPath(new URL("webhook-server.ts", import.meta.url)) : join(name.slice(0, at), "bench", "webhook-server.ts");
const progress = (msg: string): void => void process.stderr.write(`[callgrind ${kind}] ${msg}\n`);

const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
// --single-threaded: no concurrent JIT or GC threads whose work would land outside the count.
const child = spawn("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, process.execPath, "--single-threaded", server], { stdio: ["pipe", "pipe", "inherit"] });
child.on("error", (e) => {
  process.stderr.write(`cannot start valgrind: ${e.message} (install the Debian package valgrind)\n`);
  process.exit(1);
});
child.stdin.end(JSON.stringify({ kind, tls: { cert: bundle.cert, key: bundle.key } }));
const port = await new Promise<number>((resolve, reject) => {
  let text = "";
  child.on("exit", (code) => reject(new Error(`server exited with ${code} before listening`)));
  child.stdout.on("data", (d: Buffer) => {
    text += d.toString();
    const m = /\{"port":(\d+)\}/.exec(text);
    if (m) resolve(Number(m[1]));
  });
});
const body = applicationReview();
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const post = (): Promise<void> => new Promise((resolve, reject) => {
  const req = request({ host: "127.0.0.1", port, path: "/mutate", method: "POST", ca: bundle.caCert, agent, headers: { "content-type": "application/json" } }, (res) => {
    res.resume();
    res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
  });
  req.on("error", reject);
  req.end(body);
});
async function send(n: number): Promise<void> {
  let left = n;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (left-- > 0) await post();
  }));
}
try {
  progress(`warming up with ${warmup} requests`);
  await send(warmup);
  execFileSync("callgrind_control", ["--zero", String(child.pid)], { stdio: "ignore" });
  progress(`counting ${count} requests`);
  await send(count);
  execFileSync("callgrind_control", ["--dump", String(child.pid)], { stdio: "ignore" });
  const summary = execFileSync("callgrind_annotate", [`${out}.1`], { encoding: "utf8" });
  const total = Number(/([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS/.exec(summary)?.[1]?.replace(/,/g, ""));
  process.stdout.write(`${name}: ${Math.round(total / count / 1000)} k instructions per request (${count} requests after ${warmup}; ${out}.1)\n`);
} finally {
  agent.destroy();
  child.kill("SIGTERM");
}
