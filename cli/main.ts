#!/usr/bin/env node
// Dispatch only: each subcommand lives beside the code it drives and is imported lazily, so the
// sidecar never loads express or the Kubernetes client.
// Not `import { readFileSync } from "node:fs"`: that module facade loads fs.promises and the fs
// streams, RSS every sidecar pod would pay for (docs/decisions.md).
const { readFileSync } = process.getBuiltinModule("node:fs");

interface Command {
  readonly summary: string;
  readonly load: () => Promise<{ run(argv: readonly string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  webhook: { summary: "serve the mutating admission webhook over HTTPS", load: () => import("../webhook/command.ts") },
  sidecar: { summary: "follow log files and stream them to stdout or a backend", load: () => import("../sidecar/command.ts") },
  inject: { summary: "inject sidecars into manifests offline (YAML in, YAML out)", load: () => import("../webhook/inject-command.ts") },
  check: { summary: "diagnose the installation, a namespace, a pod or a manifest (a checklist)", load: () => import("../webhook/check/command.ts") },
  uninject: { summary: "remove what inject (or the webhook) added from manifests (YAML in, YAML out)", load: () => import("../webhook/uninject-command.ts") },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return [
    "Usage: tailcar <command> [options]",
    "",
    "Commands:",
    ...rows,
    "",
    "Options:",
    "  -h, --help     show help (also: tailcar <command> --help)",
    "  -v, --version  print the version",
    "",
  ].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(usage());
    return 0;
  }
  // Usage asked for goes to stdout; usage as the answer to a wrong command line goes to stderr.
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === "-v" || name === "--version") {
    process.stdout.write(`tailcar ${version()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tailcar: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tailcar: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
