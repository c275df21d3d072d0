// Throughput of the JSON transforms in-process (MB of input per CPU second), against the obvious
// per-line version (toString + JSON.stringify of an object per line) measured in the same run.
// Usage: node bench/transform.ts [--quick] [--json]  (prints a JSON summary on stdout with --json)
import { parseSidecarConfig, type SidecarConfig } from "../sidecar/config.ts";
import { JsonLinesEncoder } from "../sidecar/json-lines.ts";
import { WasmJsonLinesEncoder } from "../sidecar/json-lines-wasm.ts";
import { RecordEncoder, recordParts } from "../sidecar/json-record.ts";
import { createTransform } from "../sidecar/transform.ts";
import { ByteBuilder } from "../sidecar/transform-bytes.ts";
import { summarize, type Summary } from "./stats.ts";
import { makeLines } from "./gen.ts";

const quick = process.argv.includes("--quick");
const totalBytes = (quick ? 8 : 32) * 1024 * 1024;
const rounds = quick ? 3 : 5;
const CHUNK = 64 * 1024;

function config(multiline: string | undefined): SidecarConfig {
  const base = parseSidecarConfig(["--file", "/var/log/app.log", "--format", "json"], {});
  return { ...base, multiline, pod: { podName: "web-7d9f", podNamespace: "shop", nodeName: "node-1", containerName: "app" } };
}

/** Whole-line chunks of about CHUNK bytes, as the follower hands them over. */
function chunks(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    const nl = data.lastIndexOf(0x0a, Math.min(start + CHUNK, data.length) - 1);
    const end = nl < start ? data.length : nl + 1;
    out.push(data.subarray(start, end));
    start = end;
  }
  return out;
}

type Variant = (parts: Buffer[]) => number;

/** One of the two encoders of --format json by itself, as JsonTransform with reuse drives it. */
function encoder(make: typeof JsonLinesEncoder | typeof WasmJsonLinesEncoder, withPod: boolean): Variant {
  return (parts) => {
    const e = new make(recordParts("/var/log/app.log", withPod ? config(undefined).pod : {}));
    let n = 0;
    for (const p of parts) {
      e.setTime(Date.now());
      n += e.encode(p, 0, p.length).length;
    }
    return n;
  };
}

const variants: Record<string, Variant> = {
  naive: (parts) => {
    let n = 0;
    for (const p of parts) {
      const time = new Date().toISOString();
      const pieces: string[] = [];
      for (const line of p.toString("utf8").split("\n")) {
        if (line === "") continue;
        pieces.push(JSON.stringify({ time, file: "/var/log/app.log", log: line, pod: "web-7d9f", namespace: "shop", node: "node-1", container: "app" }));
      }
      n += Buffer.byteLength(pieces.join("\n") + "\n");
    }
    return n;
  },
  json: (parts) => {
    const t = createTransform(config(undefined), "/var/log/app.log");
    let n = 0;
    let off = 0;
    for (const p of parts) n += t.push(p, (off += p.length)).out.length;
    return n;
  },
  "json reuse": (parts) => {
    const t = createTransform(config(undefined), "/var/log/app.log", { reuseOutput: true });
    let n = 0;
    let off = 0;
    for (const p of parts) n += t.push(p, (off += p.length)).out.length;
    return n;
  },
  "encoder: webassembly": encoder(WasmJsonLinesEncoder, true),
  "encoder: javascript": encoder(JsonLinesEncoder, true),
  "encoder: webassembly, no pod": encoder(WasmJsonLinesEncoder, false),
  "encoder: javascript, no pod": encoder(JsonLinesEncoder, false),
  "json per-line (before)": (parts) => {
    const encoder = new RecordEncoder("/var/log/app.log", config(undefined).pod);
    const out = new ByteBuilder();
    let n = 0;
    for (const p of parts) {
      encoder.setTime(Date.now());
      encoder.appendLines(out, p, 0, p.length);
      n += out.take().length;
    }
    return n;
  },
  "json+java": (parts) => {
    const t = createTransform(config("java"), "/var/log/app.log");
    let n = 0;
    let off = 0;
    for (const p of parts) n += t.push(p, (off += p.length)).out.length;
    return n + t.flush().out.length;
  },
};

export interface TransformResult { name: string; mbPerS: Summary; ratioToNaive: Summary }

export function benchTransforms(): TransformResult[] {
  const parts = chunks(makeLines(totalBytes, 1));
  const seconds: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      // CPU time, not wall time: on a shared machine other work stretches the wall clock.
      const t0 = process.cpuUsage();
      fn(parts);
      const used = process.cpuUsage(t0);
      (seconds[name] ??= []).push((used.user + used.system) / 1e6);
    }
  }
  const naive = seconds.naive!;
  return Object.entries(seconds).map(([name, s]) => ({
    name,
    mbPerS: summarize(s.map((x) => totalBytes / 1e6 / x)),
    ratioToNaive: summarize(s.map((x, i) => naive[i]! / x)),
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = benchTransforms();
  if (process.argv.includes("--json")) process.stdout.write(JSON.stringify(results) + "\n");
  else for (const r of results) console.log(`${r.name.padEnd(30)} ${r.mbPerS.median.toFixed(0)} MB/s (${r.mbPerS.min.toFixed(0)}–${r.mbPerS.max.toFixed(0)}), ${r.ratioToNaive.median.toFixed(2)}× naive`);
}
