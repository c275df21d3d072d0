// The webhook benchmark's load generator, run as its own process by bench/webhook.ts so that it
// does not share an event loop with the servers under test. Reads a LoadSpec as JSON on stdin,
// writes a LoadResult as JSON on stdout.
import { Agent, request } from "node:https";
import { fileURLToPath } from "node:url";
import { percentile } from "./stats.ts";

export interface LoadSpec {
  readonly port: number;
  readonly ca: string;
  readonly body: string;
  /** Bodies to send in turn instead of `body` (pods of different annotations). */
  readonly bodies?: readonly string[];
  readonly seconds: number;
  /** Closed loop: this many requests in flight at all times. */
  readonly concurrency?: number;
  /** Closed loop: stop after this many requests (or `seconds`, whichever comes first); not the warm-up's. */
  readonly requests?: number;
  /** Open loop: requests started at this fixed rate, whatever the answers. */
  readonly rate?: number;
  /**
   * The same load, unrecorded, before the measured seconds: this process is new for every run, so
   * without it the first requests pay for TLS handshakes and a cold JIT on the client's side, and
   * at a fixed rate they pile up behind those, which is not the steady state the API server (with
   * its kept-alive connections) sees.
   */
  readonly warmupSeconds?: number;
}

export interface LoadResult {
  readonly completed: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Every request sent, the warm-up's included: what the server answered during the whole run. */
  readonly sent: number;
}

let sent = 0;

function post(agent: Agent, spec: LoadSpec): Promise<boolean> {
  const body = spec.bodies === undefined || spec.bodies.length === 0 ? spec.body : spec.bodies[sent++ % spec.bodies.length]!;
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port: spec.port, path: "/mutate", method: "POST", ca: spec.ca, agent, headers: { "content-type": "application/json" }, timeout: 5000 },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode === 200));
        res.on("error", () => resolve(false));
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end(body);
  });
}

async function phase(agent: Agent, spec: LoadSpec, seconds: number, latencies: number[] | undefined, requests = Number.POSITIVE_INFINITY): Promise<{ errors: number; seconds: number; sent: number }> {
  let errors = 0;
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const one = async (due: number): Promise<void> => {
    // Open loop: from the time the request was due, so a stall counts against every request it
    // delays; but from when it was sent if that was earlier (a timer may fire up to 1 ms early),
    // or the latency would be too short, even below zero.
    const from = Math.min(due, performance.now());
    count++;
    const ok = await post(agent, spec);
    if (!ok) errors++;
    else latencies?.push(performance.now() - from);
  };
  if (spec.rate !== undefined) {
    const interval = 1000 / spec.rate;
    const inflight: Promise<void>[] = [];
    for (let i = 0; start + i * interval < end; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      inflight.push(one(due));
    }
    await Promise.all(inflight);
  } else {
    let left = requests;
    const worker = async (): Promise<void> => {
      while (performance.now() < end && left-- > 0) await one(performance.now());
    };
    await Promise.all(Array.from({ length: spec.concurrency ?? 1 }, worker));
  }
  return { errors, seconds: (performance.now() - start) / 1000, sent: count };
}

export async function load(spec: LoadSpec): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency ?? 64 });
  const warm = spec.warmupSeconds !== undefined && spec.warmupSeconds > 0 ? (await phase(agent, spec, spec.warmupSeconds, undefined)).sent : 0;
  const latencies: number[] = [];
  const { errors, seconds, sent } = await phase(agent, spec, spec.seconds, latencies, spec.requests);
  agent.destroy();
  if (latencies.length === 0) throw new Error(`no successful request to port ${spec.port} (${errors} errors)`);
  return { completed: latencies.length, errors, seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), minMs: Math.min(...latencies), maxMs: Math.max(...latencies), sent: warm + sent };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  process.stdout.write(JSON.stringify(await load(JSON.parse(Buffer.concat(chunks).toString("utf8")) as LoadSpec)));
}
