// One pod, injected by the webhook or by `tailcar check -f` itself: for each entry of its
// tailcar.io/files annotation (read by the webhook's own parser), the sidecar that follows it, the
// volume that carries it, whether tailcar added that volume over the image's directory, whether the
// sidecar's user can read the file, and, for a running pod, the sidecar's state and metrics.
import { readSettings, SettingsError } from "../../settings/read.ts";
import { SIDECAR_ROWS, type SidecarValues } from "../../settings/sidecar-rows.ts";
import { parsePodConfig, STATUS_ANNOTATION } from "../annotations.ts";
import { CHECKPOINT_MOUNT_PATH, FILES_ANNOTATION } from "../file-entries.ts";
import { inject, parseInjectStatus, SKIP_REASONS, type RecordedInjectStatus } from "../inject.ts";
import { CHECK_INJECT_OPTIONS } from "./inject-defaults.ts";
import type { Container, Pod, Volume, VolumeMount } from "../pod-types.ts";
import { covers, LOG_VOLUME_BASE } from "../volumes.ts";
import { fileAccess, volumeKind } from "./file-access.ts";
import { checkReclaim } from "./reclaim-check.ts";
import { fail, ok, skip, warn, type CheckResult } from "./result.ts";
import { checkSidecarMetrics, checkSidecarState, type ContainerStatusView, type PodRef } from "./sidecar-state.ts";

export interface RunningPod {
  readonly namespace: string;
  readonly name: string;
  /** Each sidecar's /metrics text, or why it was not read. */
  readonly metrics: ReadonlyMap<string, { readonly text?: string; readonly note?: string }>;
}

export interface PodInput {
  readonly group: string;
  readonly pod: Pod;
  /** A pod from the API server (its status and metrics are checked); undefined for a manifest's pod. */
  readonly running?: RunningPod;
  /** A manifest's pod: inject()'s warnings, which say why an entry got no sidecar. */
  readonly injectWarnings?: readonly string[];
}

/** The settings a sidecar container runs with, read from its environment by the sidecar's own rows. */
export function sidecarSettingsOf(container: Container): SidecarValues | undefined {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  try {
    return readSettings(SIDECAR_ROWS, { env, command: `sidecar ${container.name}` });
  } catch (e) {
    if (e instanceof SettingsError) return undefined;
    throw e;
  }
}

const annotationsOf = (pod: Pod): Record<string, string> => (pod.metadata?.annotations ?? {}) as Record<string, string>;

/** The tailcar.io/files entries as the webhook reads them, and the annotation problems it would warn about. */
export function checkAnnotations(input: PodInput): CheckResult[] {
  return parsePodConfig(annotationsOf(input.pod), CHECK_INJECT_OPTIONS).warnings.map((w) =>
    warn(input.group, "annotation", w, "correct the annotation (docs/annotations.md lists every key and value)"));
}

/**
 * A pod that carries no tailcar.io/status: why. `inScope` (a running pod) is whether the shipped
 * selectors send it to the webhook; `replaceFix` how to get it recreated.
 */
export function checkNotInjected(input: PodInput, inScope: boolean | undefined, replaceFix: string): CheckResult[] {
  const id = "injected";
  if (annotationsOf(input.pod)[FILES_ANNOTATION] === undefined) return [skip(input.group, id, `no ${FILES_ANNOTATION} annotation: tailcar has nothing to do for this pod`)];
  const result = inject(input.pod, CHECK_INJECT_OPTIONS, { version: "" });
  const reasons = [...(input.injectWarnings ?? [])];
  if (result.injected.length > 0) {
    if (inScope === false) {
      return [fail(input.group, id, "not injected: its namespace does not opt in (tailcar.io/injection=enabled) and the pod is not labelled tailcar.io/inject=true",
        `label the namespace (kubectl label namespace ${input.running?.namespace ?? "NAMESPACE"} tailcar.io/injection=enabled), then ${replaceFix}`)];
    }
    return [fail(input.group, id, "not injected, though the webhook would give it sidecars: it was admitted while the webhook was down or not registered", replaceFix)];
  }
  const why = result.skipped === undefined ? "no entry got a sidecar" : SKIP_REASONS[result.skipped];
  const detail = [...reasons, ...result.warnings].filter((w, i, all) => all.indexOf(w) === i);
  const message = `not injected: ${why}${detail.length > 0 ? `\n${detail.join("\n")}` : ""}`;
  // Left out on purpose: said, but not a failure.
  if (result.skipped === "opted-out-by-label") return [warn(input.group, id, message, "remove the label tailcar.io/inject=false if it should get sidecars")];
  return [fail(input.group, id, message, "correct the tailcar.io/files annotation (docs/annotations.md)")];
}

interface Sidecar {
  readonly container: Container;
  readonly settings: SidecarValues | undefined;
}

function sidecarsOf(pod: Pod, status: RecordedInjectStatus): Sidecar[] {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return status.containers.flatMap((name) => {
    const container = all.find((c) => c.name === name);
    return container === undefined ? [] : [{ container, settings: sidecarSettingsOf(container) }];
  });
}

const logMountOf = (sidecar: Container, path: string): VolumeMount | undefined =>
  (sidecar.volumeMounts ?? []).filter((m) => m.mountPath !== CHECKPOINT_MOUNT_PATH && covers(m.mountPath, path)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];

/** The app containers that mount the same volume (and subPath) over the file. */
function writersOf(pod: Pod, status: RecordedInjectStatus, mount: VolumeMount, path: string): Container[] {
  return (pod.spec?.containers ?? []).filter((c) => !status.containers.includes(c.name)
    && (c.volumeMounts ?? []).some((m) => m.name === mount.name && m.subPath === mount.subPath && m.subPathExpr === mount.subPathExpr && covers(m.mountPath, path)));
}

/** `added`: the volumes injection added, as its status lists them (undefined in a status from before it did: then emptyDirs named tailcar-logs… are taken as added). */
function checkVolume(input: PodInput, path: string, mount: VolumeMount, volume: Volume | undefined, writers: readonly Container[], added: readonly string[] | undefined): CheckResult {
  const id = "file-volume";
  const apps = writers.map((w) => w.name).join(", ") || "no app container";
  if (added?.includes(mount.name) ?? (mount.name.startsWith(LOG_VOLUME_BASE) && volume?.emptyDir !== undefined)) {
    return warn(input.group, id, `${path}: on emptyDir ${mount.name}, which tailcar added at ${mount.mountPath} in ${apps}: whatever the image has in ${mount.mountPath} is hidden from them`,
      `if the image ships files in ${mount.mountPath} that the app needs, mount a volume of your own there (the sidecar then shares it and nothing is added), or write the log to a directory of its own`);
  }
  return ok(input.group, id, `${path}: on the pod's own volume ${mount.name} (${volumeKind(volume)}) at ${mount.mountPath}, mounted by ${apps}: nothing of the image is hidden`);
}

function containerStatus(pod: Pod, name: string): ContainerStatusView | undefined {
  const status = pod.status as { initContainerStatuses?: ContainerStatusView[]; containerStatuses?: ContainerStatusView[] } | undefined;
  return [...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? [])].find((s) => s.name === name);
}

/** Every check of an injected pod's files. */
export function checkInjectedPod(input: PodInput): CheckResult[] {
  const { pod, group } = input;
  const annotations = annotationsOf(pod);
  const status = parseInjectStatus(annotations[STATUS_ANNOTATION]);
  if (status === undefined) return [];
  const { config } = parsePodConfig(annotations, CHECK_INJECT_OPTIONS);
  const sidecars = sidecarsOf(pod, status);
  const spec = pod.spec!;
  const results: CheckResult[] = [];
  const ref: PodRef | undefined = input.running && { group, namespace: input.running.namespace, name: input.running.name };
  for (const entry of config.files) {
    const sidecar = sidecars.find((s) => s.settings?.files.includes(entry.path));
    if (sidecar === undefined) {
      const why = (input.injectWarnings ?? []).filter((w) => w.includes(JSON.stringify(entry.path)));
      results.push(fail(group, "file-sidecar", `${entry.path}: no sidecar follows it${why.length > 0 ? `\n${why.join("\n")}` : " (the webhook said why in a warning when the pod was created; tailcar check -f MANIFEST says it again)"}`,
        "correct the entry in tailcar.io/files (docs/annotations.md), then recreate the pod"));
      continue;
    }
    const name = sidecar.container.name;
    results.push(ok(group, "file-sidecar", `${entry.path}: followed by sidecar ${name}`));
    const mount = logMountOf(sidecar.container, entry.path);
    if (mount === undefined) {
      results.push(fail(group, "file-volume", `${entry.path}: sidecar ${name} mounts no volume over it`, "recreate the pod so the webhook injects it again"));
      continue;
    }
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    const writers = writersOf(pod, status, mount, entry.path);
    results.push(checkVolume(input, entry.path, mount, volume, writers, status.volumes));
    const access = fileAccess(spec, sidecar.container, writers, volume);
    const line = `${entry.path}: ${access.message}`;
    results.push(access.status === "ok" ? ok(group, "file-access", line) : access.status === "warn" ? warn(group, "file-access", line, access.fix!) : fail(group, "file-access", line, access.fix!));
    const reclaim = checkReclaim(group, spec, entry.path, config.reclaim, sidecar.container, sidecar.settings, mount, writers);
    if (reclaim !== undefined) results.push(reclaim);
    if (ref !== undefined) {
      results.push(checkSidecarState(ref, name, containerStatus(pod, name), (pod.status as { phase?: string } | undefined)?.phase));
      const metricsEnv = SIDECAR_ROWS.find((r) => r.key === "metricsPort")!.env!;
      const metrics = sidecar.settings?.metricsPort === undefined ? { note: `no metrics port (${metricsEnv} is not set in the sidecar's environment)` } : (input.running!.metrics.get(name) ?? { note: "not fetched" });
      results.push(checkSidecarMetrics(ref, name, entry.path, metrics));
    }
  }
  return results;
}
