// The kubelet's configuration and the command line that runs it in a mount namespace of its own (pure).
// Two things a shared machine must not suffer, fixed there:
// - at start kubelet writes global sysctls (kernel.panic_on_oops=1 among them): files of ours are
//   bind-mounted over those /proc/sys entries in its namespace, so it writes into them instead;
// - kubelet ignores --root-dir for /var/lib/kubelet/device-plugins (and pod-resources) and
//   /var/log/containers: folders of ours are bound over /var/lib and /var/log in its namespace.
// The run's folder is a shared mount, so the volume mounts kubelet makes there reach runc.
import { join } from "node:path";
import { stringify } from "yaml";

/** The sysctls kubelet sets at start (pkg/kubelet/cm: setupKernelTunables), with the values it wants. */
export const KUBELET_SYSCTLS: Readonly<Record<string, string>> = {
  "vm/overcommit_memory": "1",
  "vm/panic_on_oom": "0",
  "kernel/panic": "10",
  "kernel/panic_on_oops": "1",
  "kernel/keys/root_maxkeys": "1000000",
  "kernel/keys/root_maxbytes": "25000000",
};

export interface KubeletPaths {
  readonly dir: string;
  readonly config: string;
  readonly kubeconfig: string;
  readonly rootDir: string;
  readonly certDir: string;
  readonly podLogsDir: string;
  readonly volumePluginDir: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly caCert: string;
  /** Bound over /var/lib and /var/log in kubelet's mount namespace. */
  readonly varLib: string;
  readonly varLog: string;
  /** One file per entry of KUBELET_SYSCTLS, bound over it. */
  readonly sysctlDir: string;
}

export function kubeletPaths(dir: string): KubeletPaths {
  const base = join(dir, "kubelet");
  return {
    dir: base,
    config: join(base, "config.yaml"),
    kubeconfig: join(base, "kubelet.kubeconfig"),
    rootDir: join(base, "root"),
    certDir: join(base, "pki"),
    podLogsDir: join(base, "pod-logs"),
    volumePluginDir: join(base, "volume-plugins"),
    servingCert: join(base, "pki", "kubelet.crt"),
    servingKey: join(base, "pki", "kubelet.key"),
    caCert: join(base, "pki", "ca.crt"),
    varLib: join(base, "var-lib"),
    varLog: join(base, "var-log"),
    sysctlDir: join(base, "sysctl"),
  };
}

export interface KubeletSettings {
  readonly nodeIP: string;
  readonly cgroupRoot: string;
  readonly containerdSocket: string;
}

export function kubeletConfigYAML(paths: KubeletPaths, settings: KubeletSettings): string {
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    address: settings.nodeIP,
    port: 10250,
    readOnlyPort: 0,
    healthzPort: 0,
    // The API server's client certificate (from the cluster CA) is the only way in; what it may do is
    // asked back from the API server (SubjectAccessReview).
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: paths.caCert } },
    authorization: { mode: "Webhook" },
    tlsCertFile: paths.servingCert,
    tlsPrivateKeyFile: paths.servingKey,
    containerRuntimeEndpoint: `unix://${settings.containerdSocket}`,
    cgroupDriver: "cgroupfs",
    cgroupRoot: settings.cgroupRoot,
    failCgroupV1: false,
    failSwapOn: false,
    podLogsDir: paths.podLogsDir,
    volumePluginDir: paths.volumePluginDir,
    resolvConf: "",
    makeIPTablesUtilChains: false,
    protectKernelDefaults: false,
    // The machine's disk is shared: never evict or collect images because of what others use.
    evictionHard: { "memory.available": "1Mi", "nodefs.available": "0%", "imagefs.available": "0%", "nodefs.inodesFree": "0%" },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    maxPods: 30,
    // Status and pod changes show quickly in short tests.
    nodeStatusUpdateFrequency: "2s",
    syncFrequency: "5s",
    fileCheckFrequency: "5s",
    serializeImagePulls: false,
    hairpinMode: "hairpin-veth",
    containerLogMaxSize: "10Mi",
    containerLogMaxFiles: 3,
  });
}

export function kubeletArgs(paths: KubeletPaths, nodeName: string, nodeIP: string): string[] {
  return [
    `--config=${paths.config}`,
    `--kubeconfig=${paths.kubeconfig}`,
    `--root-dir=${paths.rootDir}`,
    `--cert-dir=${paths.certDir}`,
    `--hostname-override=${nodeName}`,
    `--node-ip=${nodeIP}`,
    "--v=1",
  ];
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shell script run (as `sh -c SCRIPT sh KUBELET ARGS...`) in kubelet's new mount namespace before
 * it execs kubelet. Each mount it covers is first made private in this namespace (a no-op where the
 * machine's mounts are private already), so nothing bound here can propagate back to the machine.
 */
export function mountNamespaceScript(paths: KubeletPaths): string {
  const lines = ["set -eu", "mount --make-rprivate /proc"];
  for (const entry of Object.keys(KUBELET_SYSCTLS)) {
    lines.push(`mount --bind ${shq(join(paths.sysctlDir, entry.replace(/\//g, ".")))} ${shq(`/proc/sys/${entry}`)}`);
  }
  lines.push(...bindLines([[paths.varLib, "/var/lib"], [paths.varLog, "/var/log"]]));
  lines.push('exec "$@"');
  return lines.join("\n");
}

function bindLines(binds: readonly (readonly [string, string])[]): string[] {
  const lines: string[] = [];
  for (const [from, to] of binds) {
    lines.push(`mount --make-private "$(findmnt -n -o TARGET -T ${to})"`);
    lines.push(`mount --bind ${shq(from)} ${to}`);
  }
  return lines;
}

/**
 * `command args` in a mount namespace of its own where folders of ours cover machine folders (e.g.
 * containerd's fixed /run/containerd/s and /run/netns, libcni's /var/lib/cni): whatever it writes there
 * goes away with the run. Mounts elsewhere (the run's shared folder) still propagate.
 */
export function withPrivateFolders(binds: readonly (readonly [string, string])[], command: string, args: readonly string[]): { command: string; args: string[] } {
  const script = ["set -eu", ...bindLines(binds), 'exec "$@"'].join("\n");
  return { command: "unshare", args: ["--mount", "--propagation", "unchanged", "--", "sh", "-c", script, "sh", command, ...args] };
}

/** nsenter (network) + unshare (mount) + the script, then kubelet itself with the same pid. */
export function kubeletCommand(netnsPath: string, paths: KubeletPaths, kubelet: string, args: readonly string[]): { command: string; args: string[] } {
  return {
    command: "nsenter",
    args: [`--net=${netnsPath}`, "--", "unshare", "--mount", "--propagation", "unchanged", "--", "sh", "-c", mountNamespaceScript(paths), "sh", kubelet, ...args],
  };
}
