// A test process killed with SIGKILL runs no exit hook. So each control plane records its owner and
// children in its temp folder, and the next start reaps folders whose owner is gone.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive } from "./processes.ts";

export const RUN_DIR_PREFIX = "tailcar-e2e-";
const OWNER_FILE = "owner.json";

interface OwnerRecord {
  readonly owner: number;
  readonly children: readonly { readonly pid: number; readonly command: string }[];
}

export function recordOwner(dir: string, children: readonly { pid: number; command: string }[]): void {
  const record: OwnerRecord = { owner: process.pid, children };
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify(record));
}

/** The pid still runs `command` (not a recycled pid now running something else). */
function runs(pid: number, command: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] === command;
  } catch {
    return false;
  }
}

/** Kills the servers of runs whose owning process has died, and removes their folders. Returns how many. */
export function reapOrphanedRuns(log: (line: string) => void): number {
  let reaped = 0;
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    let record: OwnerRecord;
    try {
      record = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as OwnerRecord;
    } catch {
      continue; // Still starting, or not ours.
    }
    if (isAlive(record.owner)) continue;
    for (const child of record.children) {
      if (!runs(child.pid, child.command)) continue;
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    log(`control-plane: removed an orphaned run left by pid ${record.owner} (${dir})`);
    reaped++;
  }
  return reaped;
}
