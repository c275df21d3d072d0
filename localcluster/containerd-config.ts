// containerd's and the CNI plugin's configuration for one node (pure). Every path containerd writes
// is under the run's folder; the settings are the ones a spike on this machine kind found necessary
// (../shared notes, summarised in docs/e2e.md "The real node").
import { join } from "node:path";
import { SERVICE_CLUSTER_IP_RANGE } from "./harness/flags.ts";
import { POD_SUBNET } from "./netns.ts";

export interface ContainerdPaths {
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly socket: string;
  readonly cniConfDir: string;
  readonly cniBinDir: string;
  readonly config: string;
}

export function containerdPaths(dir: string, cniBinDir: string): ContainerdPaths {
  const base = join(dir, "containerd");
  return {
    dir: base,
    root: join(base, "root"),
    state: join(base, "state"),
    socket: join(base, "containerd.sock"),
    cniConfDir: join(base, "cni-conf"),
    cniBinDir,
    config: join(base, "config.toml"),
  };
}

const q = (s: string): string => JSON.stringify(s);

export function containerdConfigTOML(paths: ContainerdPaths, sandboxImage: string): string {
  return `version = 2
root = ${q(paths.root)}
state = ${q(paths.state)}

[grpc]
  address = ${q(paths.socket)}

[ttrpc]
  address = ${q(`${paths.socket}.ttrpc`)}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(sandboxImage)}
  # Without CAP_SYS_RESOURCE runc cannot give the pause container oom_score_adj -998: every sandbox
  # failed with "can't get final child's PID from pipe: EOF" until this was set.
  restrict_oom_score_adj = true
  disable_apparmor = true
  # Streaming (exec, attach, port-forward) on loopback inside the node's namespace only.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(paths.cniBinDir)}
    conf_dir = ${q(paths.cniConfDir)}
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(join(paths.state, "runc"))}

# containerd 1.6's CRI breaks with this plugin disabled: it stays, with its root under ours.
[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = ${q(join(paths.state, "runtime-v1"))}

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(join(paths.root, "opt"))}
`;
}

/** Pods on a bridge inside the node's namespace, addresses from a documentation range, no way out. */
export const CNI_NETWORK = "tailcar-node";

export function cniConfig(ipamDataDir: string): string {
  return `${JSON.stringify(
    {
      cniVersion: "0.4.0",
      name: CNI_NETWORK,
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          isGateway: true,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          // Leases under the run's folder, not /var/lib/cni/networks.
          // The one route out of the pod's own subnet: Service ClusterIPs via the bridge, where the
          // node's namespace turns the `kubernetes` Service's into the API server (netns.ts).
          ipam: { type: "host-local", ranges: [[{ subnet: POD_SUBNET }]], routes: [{ dst: SERVICE_CLUSTER_IP_RANGE }], dataDir: ipamDataDir },
        },
      ],
    },
    null,
    2,
  )}\n`;
}
