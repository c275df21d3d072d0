// No kubelet here, so run a pod as a kubelet would: every volume becomes a local folder, and a container's
// exact command, args and env run as a local process with each mount path rewritten to its folder.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import type { V1Pod } from "@kubernetes/client-node";
import { expandVariables, findContainer, resolveEnv, rewritePaths, type PathMapping } from "./harness/local-pod-spec.ts";
import { projectRoot } from "./harness/pins.ts";
import { forgetOnExit, manage, removeOnExit, type ManagedProcess } from "./harness/processes.ts";

/** The CLI as built by `npm run build`; stands in for the `tailcar` executable of the image. */
export const TAILCAR_CLI = join(projectRoot(), "dist", "cli", "main.js");

/** The sidecar image's ENTRYPOINT: injected sidecars may carry only args and env. */
export const SIDECAR_ENTRYPOINT: readonly string[] = ["tailcar", "sidecar"];

export interface LocalContainer extends ManagedProcess {
  /** What `kubectl logs` would show. Read it: an unread pipe fills up and blocks the process. */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The command line actually started, after rewriting (for messages). */
  readonly argv: readonly string[];
}

export interface StartContainerOptions {
  /** Used when the container has no `command` (the image's ENTRYPOINT), e.g. ["tailcar"]; [] for an image without one. */
  readonly entrypoint?: readonly string[];
  /** Extra environment, applied last (e.g. faster poll intervals in tests). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface LocalPod {
  readonly pod: V1Pod;
  /** Temporary folder holding one sub-folder per volume; removed by cleanup(). */
  readonly root: string;
  /** The local folder standing in for each volume, by volume name. */
  readonly volumes: ReadonlyMap<string, string>;
  /** The local path for a path inside `container` (e.g. the app's log file). */
  localPath(container: string, pathInContainer: string): string;
  startContainer(name: string, options?: StartContainerOptions): LocalContainer;
  /** Stops every container started (SIGTERM, then SIGKILL) and removes the folders. */
  cleanup(): Promise<void>;
}

/** Executables of the images that map to something local; everything else is looked up on PATH. */
function localExecutable(argv0: string): string[] {
  const base = argv0.split("/").pop();
  if (base === "tailcar") return [process.execPath, TAILCAR_CLI];
  return [argv0];
}

export function prepareLocalPod(pod: V1Pod): LocalPod {
  const root = mkdtempSync(join(tmpdir(), `tailcar-pod-${pod.metadata?.name ?? "pod"}-`));
  removeOnExit(root);
  const volumes = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) {
    // emptyDir, hostPath, projected, configMap...: all become empty folders (no content is projected).
    const dir = join(root, "volumes", volume.name);
    mkdirSync(dir, { recursive: true });
    volumes.set(volume.name, dir);
  }
  const started: LocalContainer[] = [];

  const mappingsFor = (containerName: string): PathMapping[] =>
    (findContainer(pod, containerName).volumeMounts ?? []).map((mount) => {
      const volumeDir = volumes.get(mount.name);
      if (!volumeDir) throw new Error(`container ${containerName}: volumeMount "${mount.name}" names no volume of the pod`);
      const localPath = mount.subPath ? join(volumeDir, mount.subPath) : volumeDir;
      mkdirSync(localPath, { recursive: true });
      return { mountPath: mount.mountPath, localPath };
    });

  return {
    pod,
    root,
    volumes,
    localPath(containerName, pathInContainer) {
      const local = rewritePaths(pathInContainer, mappingsFor(containerName));
      if (local === pathInContainer) throw new Error(`container ${containerName}: ${pathInContainer} is on no volume mount`);
      return local;
    },
    startContainer(name, options = {}) {
      const container = findContainer(pod, name);
      const mappings = mappingsFor(name);
      const env = resolveEnv(pod, container, { cpus: availableParallelism(), memoryBytes: totalmem() });
      for (const [k, v] of Object.entries(env)) env[k] = rewritePaths(v, mappings);
      Object.assign(env, options.env);
      const command = container.command ?? options.entrypoint;
      // An empty entrypoint is an image without ENTRYPOINT (busybox): its args are the whole command line.
      if (!command || (command.length === 0 && (container.args ?? []).length === 0)) {
        throw new Error(`container ${name} has no command: pass options.entrypoint (the image's ENTRYPOINT; [] when it has none)`);
      }
      const words = [...command, ...(container.args ?? [])].map((w) => rewritePaths(expandVariables(w, env), mappings));
      const [argv0 = "", ...rest] = words;
      const [executable = argv0, ...prefix] = localExecutable(argv0);
      const argv = [executable, ...prefix, ...rest];
      const cwd = container.workingDir ? rewritePaths(container.workingDir, mappings) : root;
      // Containers do not inherit the host environment; PATH is kept so `sh`, `sleep` & co. resolve.
      const child = spawn(executable, [...prefix, ...rest], {
        cwd: resolve(cwd),
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOSTNAME: pod.metadata?.name ?? "", HOME: root, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let stderrTail = "";
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (d: string) => (stderrTail = (stderrTail + d).slice(-8192)));
      const managed = manage(child, {
        name: `${pod.metadata?.name}/${name}`,
        logPath: "(stderr kept in memory)",
        command: executable,
        group: true,
        logTail: (lines = 40) => stderrTail.trimEnd().split("\n").slice(-lines).join("\n"),
      });
      if (!child.stdout || !child.stderr) throw new Error(`container ${name}: no stdout/stderr pipes`);
      const local: LocalContainer = { ...managed, stdout: child.stdout, stderr: child.stderr, argv };
      started.push(local);
      return local;
    },
    async cleanup() {
      await Promise.all(started.map((c) => c.stop(5_000)));
      rmSync(root, { recursive: true, force: true });
      forgetOnExit(root);
    },
  };
}
