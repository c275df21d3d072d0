// Instructions per /mutate request under valgrind's callgrind: a count that a noisy, shared
// machine cannot move, for comparing versions of the code where CPU time is too noisy to tell
// (docs/decisions.md). Starts one benchmark server (bench/webhook-server.ts KIND, or another
// checkout's with DIR:KIND) under callgrind, warms it with closed-loop load (16 in flight) until
// the JIT has settled, then counts the instructions of COUNT more requests.
// Needs valgrind (Debian package `valgrind`); takes minutes: the server runs ~50× slower.
// Usage: node bench/webhook-callgrind.ts [DIR:]KIND [--warmup N] [--count N] [--out FILE]
//   prints instructions per request; callgrind_annotate FILE shows where they go.
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCertBundle } from "../webhook/certs.ts";
import { toolArgs } from "./tool-args.ts";
import { applicationReview, runLoad, startServer } from "./webhook.ts";
import { serverArgument } from "./webhook-server.ts";

const USAGE = "usage: node bench/webhook-callgrind.ts [DIR:]KIND [--warmup N] [--count N] [--out FILE]";
const args = toolArgs("webhook-callgrind", USAGE, { warmup: "number", count: "number", out: "string" });
const name = args.positionals[0];
if (name === undefined || args.positionals.length > 1) {
  process.stderr.write(`webhook-callgrind: name one server kind\n${USAGE}\n`);
  process.exit(2);
}
const warmup = args.number("warmup", 15000);
const count = args.number("count", 3000);
const out = args.string("out", join(tmpdir(), `tailcar-callgrind-${process.pid}.out`));
let server: ReturnType<typeof serverArgument>;
try {
  server = serverArgument(name);
} catch (e) {
  process.stderr.write(`webhook-callgrind: ${(e as Error).message}\n`);
  process.exit(2);
}
const { kind, script } = server;
const progress = (msg: string): void => void process.stderr.write(`[callgrind ${name}] ${msg}\n`);

const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
// --single-threaded: no concurrent JIT or GC threads whose work would land outside the count.
const running = await startServer({ kind, tls: { cert: bundle.cert, key: bundle.key } }, {
  wrapper: ["valgrind", "--quiet", "--tool=callgrind", `--callgrind-out-file=${out}`],
  nodeArgs: ["--single-threaded"],
  ...(script !== undefined && { script }),
  listenTimeoutMs: 300_000,
});
try {
  const body = applicationReview();
  // Generous time bounds: the counts end these runs, at ~50× the server's usual cost a request.
  const send = async (requests: number, mustAll: boolean): Promise<void> => {
    const r = await runLoad({ port: running.port, ca: bundle.caCert, body, concurrency: 16, requests, seconds: 3600 });
    if (r.completed !== requests && mustAll) throw new Error(`${r.completed} of ${requests} requests answered (${r.errors} errors)`);
    // A warm-up request the client gave up on (5 s, under valgrind on a loaded machine) still warmed the server.
    if (r.errors > 0) progress(`${r.errors} of ${requests} warm-up requests timed out at the client`);
  };
  progress(`warming up with ${warmup} requests`);
  await send(warmup, false);
  execFileSync("callgrind_control", ["--zero", String(running.pid)], { stdio: "ignore" });
  progress(`counting ${count} requests`);
  await send(count, true);
  execFileSync("callgrind_control", ["--dump", String(running.pid)], { stdio: "ignore" });
  const summary = execFileSync("callgrind_annotate", [`${out}.1`], { encoding: "utf8" });
  const total = Number(/([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS/.exec(summary)?.[1]?.replace(/,/g, ""));
  process.stdout.write(`${name}: ${Math.round(total / count / 1000)} k instructions per request (${count} requests after ${warmup}; ${out}.1)\n`);
} finally {
  await running.stop();
}
