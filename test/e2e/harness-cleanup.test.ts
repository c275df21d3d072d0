// Nothing outlives a test: the exit and signal hooks kill what a test never stopped, and the reaper
// cleans up after a test process that was killed outright (SIGKILL runs no hook).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pollUntil } from "../../localcluster/harness/poll.ts";
import { isAlive } from "../../localcluster/harness/processes.ts";
import { reapOrphanedRuns, RUN_DIR_PREFIX } from "../../localcluster/harness/reaper.ts";

/** A node process that starts `sleep 60` through the harness, prints its pid, then does `then`. */
function childWithSleeper(then: string): ReturnType<typeof spawn> {
  const processes = pathToFileURL(fileURLToPath(new URL("../../localcluster/harness/processes.ts", import.meta.url))).href;
  const script = `
    import { startProcess } from ${JSON.stringify(processes)};
    const p = startProcess({ name: "sleeper", command: "sleep", args: ["60"], logPath: "/dev/null" });
    process.stdout.write(p.pid + "\\n");
    ${then}`;
  return spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
}

async function firstLine(child: ReturnType<typeof spawn>): Promise<number> {
  let text = "";
  for await (const chunk of child.stdout!) {
    text += String(chunk);
    if (text.includes("\n")) break;
  }
  return Number(text.trim());
}

for (const [how, then, signal] of [
  ["exits without stopping its servers", "setTimeout(() => process.exit(3), 100);", undefined],
  ["is interrupted (SIGTERM)", "setInterval(() => {}, 1000);", "SIGTERM"],
] as const) {
  test(`no child process outlives a test process that ${how}`, async () => {
    const child = childWithSleeper(then);
    const exited = new Promise((resolve) => child.on("exit", (code, sig) => resolve(code ?? sig)));
    const sleeper = await firstLine(child);
    assert.ok(sleeper > 0 && isAlive(sleeper), "sleeper did not start");
    if (signal) child.kill(signal);
    assert.equal(await exited, signal ? 143 : 3);
    await pollUntil(`sleep (pid ${sleeper}) to be gone`, async () => (isAlive(sleeper) ? undefined : true), { timeoutMs: 2_000 });
  });
}

test("the reaper kills the servers of a run whose owner was killed, and removes its folder", async () => {
  const deadOwner = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => deadOwner.on("exit", resolve));
  const server = spawn("sleep", ["30"], { stdio: "ignore" });
  const dir = mkdtempSync(join(tmpdir(), RUN_DIR_PREFIX));
  try {
    writeFileSync(join(dir, "owner.json"), JSON.stringify({ owner: deadOwner.pid, children: [{ pid: server.pid, command: "sleep" }] }));
    const lines: string[] = [];
    assert.ok(reapOrphanedRuns((l) => lines.push(l)) >= 1);
    await pollUntil("the orphaned server to be gone", async () => (server.exitCode !== null || server.signalCode !== null ? true : undefined), {
      timeoutMs: 2_000,
    });
    assert.equal(server.signalCode, "SIGKILL");
    assert.equal(existsSync(dir), false);
    assert.ok(lines.some((l) => l.includes(dir)));
  } finally {
    server.kill("SIGKILL");
  }
});
