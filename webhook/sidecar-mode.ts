// --sidecar-mode auto: native sidecars (an init container with restartPolicy: Always) are on by
// default from Kubernetes 1.29 (beta). Below that the field is dropped or rejected, and an init
// container that never exits would block the pod for ever, so classic is the safe fallback, also
// when the version cannot be read.
import type { SidecarMode } from "./options.ts";
import type { SidecarModeSetting } from "./settings.ts";
import type { Logger } from "./log.ts";

export const NATIVE_SIDECARS_SINCE = { major: 1, minor: 29 } as const;

export interface ServerVersion {
  readonly major?: string;
  readonly minor?: string;
  readonly gitVersion?: string;
}

/** major.minor from gitVersion ("v1.29.3-gke.1") or from major/minor ("1", "29+"); undefined when neither parses. */
export function parseServerVersion(v: ServerVersion): { major: number; minor: number } | undefined {
  const git = /^v?(\d+)\.(\d+)/.exec(v.gitVersion ?? "");
  if (git) return { major: Number(git[1]), minor: Number(git[2]) };
  const major = /^(\d+)/.exec(v.major ?? "");
  const minor = /^(\d+)/.exec(v.minor ?? "");
  return major && minor ? { major: Number(major[1]), minor: Number(minor[1]) } : undefined;
}

export function sidecarModeForVersion(v: ServerVersion): SidecarMode | undefined {
  const parsed = parseServerVersion(v);
  if (!parsed) return undefined;
  const { major, minor } = NATIVE_SIDECARS_SINCE;
  return parsed.major > major || (parsed.major === major && parsed.minor >= minor) ? "native" : "classic";
}

/** Resolves "auto" by asking the API server, within timeoutMs. */
export async function resolveSidecarMode(
  setting: SidecarModeSetting,
  kubeconfig: string | undefined,
  logger: Logger,
  timeoutMs = 5000,
): Promise<SidecarMode> {
  if (setting !== "auto") return setting;
  let timer: NodeJS.Timeout | undefined;
  try {
    // Loaded only here: the Kubernetes client takes about 2 s to import.
    const [{ VersionApi }, { kubeConfigFrom }] = await Promise.all([import("@kubernetes/client-node"), import("./tls-bootstrap.ts")]);
    const api = kubeConfigFrom(kubeconfig).makeApiClient(VersionApi);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const version = await Promise.race([api.getCode(), timeout]);
    const mode = sidecarModeForVersion(version);
    if (mode === undefined) {
      logger.warn("sidecar mode auto: unreadable API server version; using classic sidecars", { version });
      return "classic";
    }
    logger.info(`sidecar mode auto: API server ${version.gitVersion}; using ${mode} sidecars`, { sidecarMode: mode });
    return mode;
  } catch (e) {
    logger.warn("sidecar mode auto: cannot read the API server version; using classic sidecars (set --sidecar-mode to choose)", { error: e });
    return "classic";
  } finally {
    clearTimeout(timer);
  }
}
