// Server CPU per request for several benchmark servers (bench/webhook-server.ts kinds), each in a
// process of its own, closed-loop load as in the benchmark, rounds interleaved: a quick A/B of one
// piece of /mutate's work (e.g. tailcar against tailcar-nolog) without the whole benchmark.
// Usage: node bench/webhook-ab.ts [DIR:]KIND [DIR:]KIND... [--rounds N] [--seconds S]
//   KIND: one of SERVER_KINDS in bench/webhook-server.ts
//   DIR: another checkout of tailcar (a git worktree of an older commit, say) whose server to run
//   instead of this one's, to compare two versions of the code in the same run.
import { generateCertBundle } from "../webhook/certs.ts";
import { summarize } from "./stats.ts";
import { toolArgs } from "./tool-args.ts";
import { applicationReview, runLoad, startServer, type ServerProcess } from "./webhook.ts";
import { serverArgument } from "./webhook-server.ts";

const USAGE = "usage: node bench/webhook-ab.ts [DIR:]KIND [DIR:]KIND... [--rounds N] [--seconds S]";
const args = toolArgs("webhook-ab", USAGE, { rounds: "number", seconds: "number" });
const names = args.positionals;
if (names.length === 0) {
  process.stderr.write(`webhook-ab: name at least one server kind\n${USAGE}\n`);
  process.exit(2);
}
/** Each argument as a server to start, or a usage error naming the bad one. */
function parsedServers(): ReturnType<typeof serverArgument>[] {
  try {
    return names.map(serverArgument);
  } catch (e) {
    process.stderr.write(`webhook-ab: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
const parsed = parsedServers();
const rounds = args.number("rounds", 6);
const seconds = args.number("seconds", 3);
const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
const tls = { cert: bundle.cert, key: bundle.key };
const servers: { name: string; running: ServerProcess; cpu: number[] }[] = [];
try {
  for (const [i, { kind, script }] of parsed.entries()) {
    const name = names[i]!;
    servers.push({ name, running: await startServer({ kind, tls }, { ...(script !== undefined && { script }) }), cpu: [] });
  }
  const body = applicationReview();
  for (const s of servers) await runLoad({ port: s.running.port, ca: bundle.caCert, body, seconds: 2, concurrency: 16 });
  for (let round = 0; round < rounds; round++) {
    for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
      const cpu0 = await s.running.cpuSeconds();
      const r = await runLoad({ port: s.running.port, ca: bundle.caCert, body, seconds, concurrency: 16 });
      s.cpu.push((((await s.running.cpuSeconds()) - cpu0) * 1e6) / (r.completed + r.errors));
    }
    process.stderr.write(`round ${round + 1}/${rounds}: ${servers.map((s) => `${s.name} ${s.cpu.at(-1)!.toFixed(0)}`).join(", ")} CPU-µs/req\n`);
  }
  for (const s of servers) {
    const x = summarize(s.cpu);
    process.stdout.write(`${s.name.padEnd(20)} CPU-µs/req ${x.median.toFixed(1)} (${x.min.toFixed(0)}–${x.max.toFixed(0)})\n`);
  }
} finally {
  await Promise.all(servers.map((s) => s.running.stop()));
}
