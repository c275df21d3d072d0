// One-off measurement behind docs/decisions.md ("tail-file or our own reader"): the time and CPU
// to deliver every line of a 64 MiB file to a writable stream, tail-file's per-line 'line'
// events against the sidecar's tailer (reads at byte offsets, writes whole-line chunks).
//   node bench/tail-file-vs-reader.ts [MiB] [rounds]
import { closeSync, createWriteStream, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSidecarConfig } from "../sidecar/config.ts";
import { FdSink } from "../sidecar/fd-sink.ts";
import { startTailer } from "../sidecar/tailer.ts";

interface TailFile {
  on(event: "line", listener: (line: string) => void): void;
  on(event: "error" | "tailError", listener: (err: unknown) => void): void;
  start(): void;
  stop(): Promise<void> | void;
}
type TailFileCtor = new (file: string, options: { startPos: "start" | "end"; force?: boolean }) => TailFile;

const require = createRequire(import.meta.url);
const TailFileClass = require("tail-file") as TailFileCtor;

const mib = Number(process.argv[2] ?? 64);
const rounds = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(join(tmpdir(), "tailcar-bench-"));
const file = join(dir, "app.log");
const line = (i: number): string => `${String(i).padStart(9, "0")} an ordinary log line with some payload text, lorem ipsum dolor sit amet, consectetur adipiscing\n`;
const lines = Math.floor((mib * 1024 * 1024) / line(0).length);
{
  const parts: string[] = [];
  for (let i = 1; i <= lines; i++) parts.push(line(i));
  writeFileSync(file, parts.join(""));
}
const bytes = lines * line(0).length;

interface Result {
  seconds: number;
  cpuSeconds: number;
}

async function measure(run: (done: () => void) => Promise<() => Promise<void>>): Promise<Result> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const stop = await run(finish);
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await stop();
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function tailFileRun(done: () => void): Promise<() => Promise<void>> {
  const out = createWriteStream("/dev/null");
  let n = 0;
  const tail = new TailFileClass(file, { startPos: "start", force: true });
  tail.on("error", (e) => console.error("tail-file error", e));
  tail.on("line", (l) => {
    out.write(l + "\n"); // one write per line, and nothing stops the reading when `out` is slow
    if (++n === lines) done();
  });
  tail.start();
  return Promise.resolve(async () => {
    await tail.stop();
    out.end();
  });
}

async function readerRun(done: () => void): Promise<() => Promise<void>> {
  const out = openSync("/dev/null", "w");
  const sink = new FdSink(out);
  let seen = 0;
  const counting = {
    async write(batch: { file: string; data: Buffer }): Promise<void> {
      await sink.write(batch);
      seen += batch.data.length;
      if (seen === bytes) done();
    },
  };
  const config = parseSidecarConfig(["--file", file], {});
  const tailer = await startTailer({ config, sink: counting });
  return async () => {
    tailer.stop();
    await tailer.done;
    closeSync(out);
  };
}

const results: Record<string, Result[]> = { "tail-file": [], reader: [] };
for (let r = 0; r < rounds; r++) {
  results["tail-file"]!.push(await measure(tailFileRun));
  results.reader!.push(await measure(readerRun));
}
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${(bytes / 1048576).toFixed(0)} MiB, ${lines} lines, ${rounds} rounds, median (min-max):`);
for (const [name, rs] of Object.entries(results)) {
  const mbps = rs.map((x) => bytes / 1e6 / x.seconds);
  const cpuPerGB = rs.map((x) => x.cpuSeconds / (bytes / 1e9));
  console.log(
    `${name.padEnd(10)} ${median(mbps).toFixed(0)} MB/s (${Math.min(...mbps).toFixed(0)}-${Math.max(...mbps).toFixed(0)}), ` +
      `${median(cpuPerGB).toFixed(2)} CPU-s/GB (${Math.min(...cpuPerGB).toFixed(2)}-${Math.max(...cpuPerGB).toFixed(2)})`,
  );
}
