// `npm run bench [-- --quick] [-- --write] [-- --only sidecar|webhook|real-node]`: runs each benchmark in a
// process of its own, one after the other (they would disturb each other's timings otherwise).
// A full run writes BENCHMARKS.md and bench/results/, then docs/capacity.md from those results
// (bench/capacity.ts); --quick is a smoke run that only prints.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BENCHES = ["sidecar", "webhook", "real-node", "sidecar-cost", "forwarding"] as const;
const USAGE = `usage: npm run bench [-- --quick] [-- --write] [-- --only ${BENCHES.join("|")}]
  Runs each benchmark in a process of its own, one after the other; progress goes to stderr.
  A full run writes BENCHMARKS.md and bench/results/ (several minutes: the machine's noise is
  measured out with interleaved rounds), then docs/capacity.md from the stored results.
  --quick          a short smoke run that only prints (unless --write)
  --write          with --quick, write the results anyway
  --only NAME      run one benchmark: ${BENCHES.join(", ")}
`;
const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const unknown = args.filter((a, i) => !["--quick", "--write", "--only"].includes(a) && args[i - 1] !== "--only");
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown argument ${JSON.stringify(unknown[0])}\n${USAGE}`);
  process.exit(2);
}
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
if (onlyAt >= 0 && !(BENCHES as readonly string[]).includes(only ?? "")) {
  process.stderr.write(`bench: --only ${only === undefined ? "needs a benchmark's name" : `${JSON.stringify(only)}: no such benchmark`}; one of ${BENCHES.join(", ")}\n`);
  process.exit(2);
}
const passOn = args.filter((a) => a === "--quick" || a === "--write");

function run(script: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...passOn], { stdio: "inherit" });
    const forward = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    process.once("SIGINT", forward);
    process.once("SIGTERM", forward);
    child.once("exit", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

let failed = 0;
for (const name of BENCHES) {
  if (only !== undefined && name !== only) continue;
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(script)) {
    process.stderr.write(`[bench] bench/${name}.ts does not exist yet: skipping the ${name} benchmark\n`);
    continue;
  }
  process.stderr.write(`[bench] ${name}${passOn.length > 0 ? ` ${passOn.join(" ")}` : ""}\n`);
  const t0 = performance.now();
  const code = await run(script);
  process.stderr.write(`[bench] ${name} ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  if (code !== 0) failed++;
}
// The capacity model (docs/capacity.md) from what the runs above stored, whenever they stored it.
if (!passOn.includes("--quick") || passOn.includes("--write")) {
  process.stderr.write("[bench] capacity model\n");
  if ((await run(fileURLToPath(new URL("./capacity.ts", import.meta.url)))) !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
