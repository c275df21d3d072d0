// Runs one `go build` of an upstream main package, at low CPU priority, showing progress while it works.
import { spawn } from "node:child_process";
import { rename, rm } from "node:fs/promises";
import { setPriority } from "node:os";
import { join } from "node:path";
import { CONTROL_PLANE_DIR, GO_BUILD_FLAGS, type BinaryRecipe } from "./pins.ts";
import { manage } from "./processes.ts";

export type Log = (line: string) => void;

const PROGRESS_EVERY_MS = 15_000;
/** A cold build takes minutes; an hour means something is stuck. */
const BUILD_TIMEOUT_MS = 60 * 60_000;

export class GoMissingError extends Error {
  constructor(detail: string) {
    super(
      `Go is required to build the control plane: ${detail}. Install Go (1.26 or newer), ` +
        "or set KUBEBUILDER_ASSETS to a folder holding etcd, kube-apiserver and kube-controller-manager.",
    );
    this.name = "GoMissingError";
  }
}

export function formatSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** Runs `go <args>` in `cwd` and returns stdout; GoMissingError if there is no `go` to run. */
export function runGo(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("go", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "ENOENT" ? new GoMissingError("`go` was not found on PATH") : e),
    );
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`go ${args.join(" ")} failed (exit ${code}): ${err.trim()}`)),
    );
  });
}

/** Logs `message()` every PROGRESS_EVERY_MS until the returned function is called. */
function every(message: () => string, log: Log): () => void {
  const timer = setInterval(() => log(message()), PROGRESS_EVERY_MS);
  return () => clearInterval(timer);
}

/**
 * Builds `recipe` to `outPath`: into a temporary file beside it, renamed only on success, so an
 * interrupted build never leaves a half-written binary where a later run would trust it.
 */
export async function goBuild(recipe: BinaryRecipe, outPath: string, log: Log): Promise<void> {
  const tmp = join(outPath, "..", `.${recipe.name}.${process.pid}.tmp`);
  const args = ["build", "-v", ...GO_BUILD_FLAGS, "-ldflags", recipe.ldflags.join(" "), "-o", tmp, recipe.pkg];
  const started = Date.now();
  let compiled = 0;
  const tail: string[] = [];
  const cwd = join(CONTROL_PLANE_DIR, recipe.module);
  // Listing the packages first downloads the modules (a minute or two, first time only) and gives the
  // "N of M" shown while compiling; packages already in Go's build cache are not compiled again.
  log(`control-plane: ${recipe.name}: resolving modules (downloaded from the Go module proxy on first use)`);
  const stopListing = every(() => `control-plane: still resolving modules for ${recipe.name}: ${formatSeconds(Date.now() - started)} elapsed`, log);
  const total = await runGo(["list", "-mod=readonly", "-deps", recipe.pkg], cwd)
    .then((out) => out.split("\n").filter(Boolean).length)
    .catch(() => 0) // the build below reports the same problem, with its output
    .finally(stopListing);
  const of = total > 0 ? ` of ${total}` : "";
  log(`control-plane: building ${recipe.name} (go build ${recipe.pkg}, ${total || "?"} packages)`);
  await new Promise<void>((resolve, reject) => {
    // Its own process group, tracked like the servers: if the test run is interrupted, the exit hook
    // kills go and the compilers it forked instead of leaving them to finish a half-hour build.
    const child = spawn("go", args, {
      cwd,
      env: { ...process.env, CGO_ENABLED: "0" },
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    const managed = child.pid === undefined ? undefined : manage(child, { name: `go build ${recipe.name}`, logPath: "(kept in memory)", group: true, logTail: () => tail.join("\n") });
    // Niceness is inherited by the compiler processes go forks later, so other work stays responsive.
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, 10);
      } catch {
        // Not permitted on some systems: build at normal priority.
      }
    }
    const stopTicker = every(
      () => `control-plane: still building ${recipe.name}: ${compiled}${of} packages compiled, ${formatSeconds(Date.now() - started)} elapsed`,
      log,
    );
    const timeout = setTimeout(() => managed?.signal("SIGKILL"), BUILD_TIMEOUT_MS);
    let pending = "";
    child.stderr.on("data", (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        // `go build -v` names each package as it compiles it; anything else (downloads, errors) is kept.
        if (/^[\w.-]+(\/[\w.~+-]+)*$/.test(line)) compiled++;
        tail.push(line);
        if (tail.length > 30) tail.shift();
      }
    });
    const finish = (error?: Error) => {
      stopTicker();
      clearTimeout(timeout);
      void managed?.stop();
      if (error) reject(error);
      else resolve();
    };
    child.on("error", (e: NodeJS.ErrnoException) =>
      finish(e.code === "ENOENT" ? new GoMissingError("`go` was not found on PATH") : e),
    );
    child.on("close", (code, signal) => {
      if (code === 0) return finish();
      const why = signal ? `killed by ${signal}` : `exit ${code}`;
      finish(
        new Error(
          `go build of ${recipe.name} failed (${why}) after ${formatSeconds(Date.now() - started)}. ` +
            `If the lines below show a download error, check access to the Go module proxy (GOPROXY).\n` +
            [...tail, pending].filter((l) => l !== "").join("\n"),
        ),
      );
    });
  }).catch(async (e: unknown) => {
    await rm(tmp, { force: true });
    throw e;
  });
  await rename(tmp, outPath);
  log(`control-plane: built ${recipe.name} in ${formatSeconds(Date.now() - started)} (${compiled} packages compiled)`);
}
