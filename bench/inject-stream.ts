// `tailcar inject` on a large multi-document stream: wall time, CPU, peak RSS and the time to the
// first output byte, for the built CLI (or another build's, to compare). The stream of small
// annotated pods (bench/pod-stream.ts) is written to a temporary file and removed after.
// Usage: node bench/inject-stream.ts [--pods N] [--timeout S] [--cli PATH/TO/dist/cli/main.js]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHILD_USAGE_IMPORT, parseChildUsage } from "./child-usage.ts";
import { podStream } from "./pod-stream.ts";
import { toolArgs } from "./tool-args.ts";

const USAGE = "usage: node bench/inject-stream.ts [--pods N] [--timeout S] [--cli PATH/TO/dist/cli/main.js]";
const args = toolArgs("inject-stream", USAGE, { pods: "number", timeout: "number", cli: "string" });
const pods = args.number("pods", 305_000);
const timeoutMs = args.number("timeout", 600) * 1000;
const cli = args.string("cli", fileURLToPath(new URL("../dist/cli/main.js", import.meta.url)));

/** Peak RSS so far (VmHWM, KiB) of a running process, for a run stopped at the timeout. */
function peakKiB(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const dir = mkdtempSync(join(tmpdir(), "tailcar-inject-stream-"));
try {
  const file = join(dir, "pods.yaml");
  const text = podStream(0, pods);
  writeFileSync(file, text);
  const inputBytes = Buffer.byteLength(text);
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", CHILD_USAGE_IMPORT, cli, "inject", "-f", file], { stdio: ["ignore", "pipe", "ignore", "pipe"] });
  let firstByteMs: number | undefined;
  let outputBytes = 0;
  let report = "";
  let peak = 0;
  child.stdout!.on("data", (chunk: Buffer) => {
    firstByteMs ??= performance.now() - started;
    outputBytes += chunk.length;
  });
  child.stdio[3]!.on("data", (chunk: Buffer) => void (report += chunk.toString()));
  const sampler = setInterval(() => void (peak = Math.max(peak, peakKiB(child.pid!) ?? 0)), 1000);
  const timer = setTimeout(() => {
    peak = Math.max(peak, peakKiB(child.pid!) ?? 0);
    child.kill("SIGKILL");
  }, timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("close", (c, s) => resolve([c, s])));
  clearInterval(sampler);
  clearTimeout(timer);
  const wallS = (performance.now() - started) / 1000;
  const MB = 1e6;
  console.log(`input: ${pods} pods, ${(inputBytes / MB).toFixed(1)} MB`);
  if (signal === "SIGKILL") {
    console.log(`stopped after ${wallS.toFixed(0)} s: ${(outputBytes / MB).toFixed(1)} MB of output, peak RSS ${(peak / 1024).toFixed(0)} MiB so far`);
  } else {
    const usage = parseChildUsage(report);
    const cpuS = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
    console.log(`exit ${code}: wall ${wallS.toFixed(1)} s, CPU ${cpuS.toFixed(1)} s, peak RSS ${(usage.maxRSS / 1024).toFixed(0)} MiB, ` +
      `first output after ${firstByteMs === undefined ? "-" : `${(firstByteMs / 1000).toFixed(2)} s`}, ${(outputBytes / MB).toFixed(1)} MB of output`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
