// Child processes that must never outlive the test run: each logs to a file, stops with SIGTERM then
// SIGKILL, and is killed synchronously by an exit/signal hook if the caller never got to stop it.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
  /** Sends a signal (to the whole group for group processes); no-op once gone. */
  signal(sig: NodeJS.Signals): void;
}

const live = new Set<ManagedProcess>();
const dirsToRemove = new Set<string>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const p of live) p.signal("SIGKILL");
  live.clear();
  for (const dir of dirsToRemove) rmSync(dir, { recursive: true, force: true });
  dirsToRemove.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAllNow);
  for (const [signal, number] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]] as const) {
    const onSignal = () => {
      killAllNow();
      // Someone else (a demo's graceful shutdown) owns this signal: let them decide when to exit.
      if (process.listenerCount(signal) === 1) process.exit(128 + number);
    };
    process.on(signal, onSignal);
  }
}

/** Removed (a folder or a file) by the exit hook if the owner never removes it itself. */
export function removeOnExit(dir: string): void {
  installHooks();
  dirsToRemove.add(dir);
}

export function forgetOnExit(dir: string): void {
  dirsToRemove.delete(dir);
}

export function readTail(path: string, lines = 40): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logPath: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export function startProcess(options: StartOptions): ManagedProcess {
  const fd = openSync(options.logPath, "a");
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args, {
      stdio: ["ignore", fd, fd],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
  } finally {
    closeSync(fd);
  }
  return manage(child, { name: options.name, logPath: options.logPath, command: options.command });
}

export interface ManageOptions {
  readonly name: string;
  /** Where its output goes; logTail() reads it. */
  readonly logPath: string;
  readonly command?: string;
  /** Started with `detached: true`: signals go to its whole process group (a shell and its children). */
  readonly group?: boolean;
  /** Replaces reading logPath, e.g. for output kept in memory. */
  readonly logTail?: (lines?: number) => string;
}

/** Tracks an already spawned child: stop() and the exit hook take care of it from now on. */
export function manage(child: ChildProcess, options: ManageOptions): ManagedProcess {
  installHooks();
  // Spawn failures arrive as an "error" event; without a listener they would crash the test process.
  child.on("error", () => {});
  if (child.pid === undefined) {
    throw new Error(`could not start ${options.name} (${options.command ?? "?"}): not found or not executable`);
  }
  const pid = child.pid;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(options.group ? -pid : pid, sig);
    } catch {
      // Already gone.
    }
  };
  let exitedFlag = false;
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, sig) => {
      exitedFlag = true;
      if (!options.group) live.delete(managed);
      resolve(code ?? sig ?? "unknown");
    });
  });
  const managed: ManagedProcess = {
    name: options.name,
    pid,
    logPath: options.logPath,
    child,
    exited,
    hasExited: () => exitedFlag,
    logTail: options.logTail ?? ((lines) => readTail(options.logPath, lines)),
    async stop(graceMs = 10_000) {
      if (exitedFlag) {
        // The leader is gone, but a group may still hold its children (e.g. a shell's `sleep`).
        if (options.group) signal("SIGKILL");
        live.delete(managed);
        return;
      }
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      if (options.group) signal("SIGKILL");
      live.delete(managed);
    },
    signal,
  };
  live.add(managed);
  return managed;
}

/** True while a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
