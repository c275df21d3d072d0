// The Node flags the sidecar runs under, chosen from its parsed settings (docs/decisions.md, "The
// sidecar's memory at idle"). Raw format to stdout runs with --lite-mode (no optimizing compilers:
// about 2.7 MiB less RSS at idle, for about 15 % of raw throughput). JSON format runs without it (its
// encoder is about 12x slower without the optimizing compilers), and so does forwarding (chosen when
// it used fetch, which needs the WebAssembly --lite-mode leaves out; requests now go over node:http,
// and forwarding under --lite-mode has not been measured).
// V8 takes --lite-mode only at start, so a sidecar started without the flags it needs re-executes
// itself once with them (command.ts); the image's entry script runs plain `node`.
import type { OutputFormat, SinkKind } from "../settings/vocabulary.ts";
import type { SidecarConfig } from "./config.ts";

/** The flags this module decides; any other flag the process was started with is kept as it is. */
export const DECIDED_FLAGS: readonly string[] = ["--lite-mode"];

/**
 * Set in the environment of the re-executed process, to the settings its predecessor parsed and
 * its pid (JSON; execve keeps the pid): a sidecar that finds it runs under the flags it has, so it
 * re-executes at most once, and takes those settings as they are. Settings are taken only when the
 * marker parses and names the process's own pid, so a value copied or typed into a pod spec (which
 * would skip validation) is ignored, not trusted or crashed on. Set by hand to anything else (such as 1), it keeps the flags node was started with and
 * the sidecar parses its settings as usual.
 */
export const RELAUNCHED_ENV = "TAILCAR_NODE_FLAGS_CHOSEN";

/** The marker's value for the process about to replace itself. */
export function handOver(settings: SidecarConfig, pid: number): string {
  return JSON.stringify({ pid, settings });
}

/** The settings handed over by the process this one replaced (same pid), or undefined. */
export function handedSettings(env: Readonly<Record<string, string | undefined>>, pid: number): SidecarConfig | undefined {
  const text = env[RELAUNCHED_ENV];
  if (!text?.startsWith("{")) return undefined;
  try {
    const marker = JSON.parse(text) as { pid?: unknown; settings?: SidecarConfig };
    return marker.pid === pid ? marker.settings : undefined;
  } catch {
    return undefined;
  }
}

export function nodeFlagsFor(settings: { readonly format: OutputFormat; readonly sink: SinkKind }): readonly string[] {
  return settings.format === "raw" && settings.sink === "stdout" ? ["--lite-mode"] : [];
}

/**
 * The Node flags to re-execute with, or undefined when the process already runs under the flags it
 * needs, or has already been re-executed (`env[RELAUNCHED_ENV]` set).
 */
export function relaunchFlags(
  wanted: readonly string[],
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] | undefined {
  if (env[RELAUNCHED_ENV] !== undefined) return undefined;
  const decided = (flags: readonly string[]): string => DECIDED_FLAGS.filter((f) => flags.includes(f)).join(" ");
  if (decided(execArgv) === decided(wanted)) return undefined;
  return [...execArgv.filter((f) => !DECIDED_FLAGS.includes(f)), ...wanted];
}
