// Server CPU per request for several benchmark servers (bench/webhook-server.ts kinds), each in a
// process of its own, closed-loop load as in the benchmark, rounds interleaved: a quick A/B of one
// piece of /mutate's work (e.g. tailcar against tailcar-nolog) without the whole benchmark.
// Usage: node bench/webhook-ab.ts [DIR:]KIND [DIR:]KIND... [--rounds N] [--seconds S]
//   kinds: noop tailcar reference reference-admit admit-send tailcar-nolog tailcar-fmtonly tailcar-nometrics
//   DIR: another checkout of tailcar (a git worktree of an older commit, say) whose server to run
//   instead of this one's, to compare two versions of the code in the same run.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCertBundle } from "../webhook/certs.ts";
import { cpuSeconds } from "./probes.ts";
import { summarize } from "./stats.ts";
import { applicationReview, runLoad } from "./webhook.ts";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const kinds = argv.filter((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--"));
if (kinds.length === 0 || argv.includes("--help")) {
  process.stderr.write("usage: node bench/webhook-ab.ts KIND KIND... [--rounds N] [--seconds S]\n");
  process.exit(kinds.length === 0 ? 2 : 0);
}
const rounds = flag("--rounds", 6);
const seconds = flag("--seconds", 3);
const SERVER = fileURLToPath(new URL("webhook-server.ts", import.meta.url));
const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
const servers = await Promise.all(kinds.map((name) => new Promise<{ kind: string; port: number; pid: number; stop: () => void }>((resolve, reject) => {
  const at = name.lastIndexOf(":");
  const kind = name.slice(at + 1);
  const server = at < 0 ? SERVER : join(name.slice(0, at), "bench", "webhook-server.ts");
  const child = spawn(process.execPath, [server], { stdio: ["pipe", "pipe", "inherit"] });
  child.on("exit", (code) => reject(new Error(`server ${kind} exited with ${code}`)));
  child.stdin.end(JSON.stringify({ kind, tls: { cert: bundle.cert, key: bundle.key } }));
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    const m = /\{"port":(\d+)\}/.exec(out);
    if (m) resolve({ kind: name, port: Number(m[1]), pid: child.pid!, stop: () => child.kill() });
  });
})));
const body = applicationReview();
const cpu = new Map<string, number[]>(kinds.map((k) => [k, []]));
try {
  for (const s of servers) await runLoad({ port: s.port, ca: bundle.caCert, body, seconds: 2, concurrency: 16 });
  for (let round = 0; round < rounds; round++) {
    for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
      const cpu0 = await cpuSeconds(s.pid);
      const r = await runLoad({ port: s.port, ca: bundle.caCert, body, seconds, concurrency: 16 });
      cpu.get(s.kind)!.push((((await cpuSeconds(s.pid)) - cpu0) * 1e6) / (r.completed + r.errors));
    }
    process.stderr.write(`round ${round + 1}/${rounds}: ${servers.map((s) => `${s.kind} ${cpu.get(s.kind)!.at(-1)!.toFixed(0)}`).join(", ")} CPU-µs/req\n`);
  }
  for (const s of servers) {
    const x = summarize(cpu.get(s.kind)!);
    process.stdout.write(`${s.kind.padEnd(20)} CPU-µs/req ${x.median.toFixed(1)} (${x.min.toFixed(0)}–${x.max.toFixed(0)})\n`);
  }
} finally {
  for (const s of servers) s.stop();
}
