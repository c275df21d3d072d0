// What gets built, from which wrapper module, with which flags. The versions live only in the wrapper
// modules' go.mod files (test/e2e/control-plane/*/go.mod); the cache key hashes those files.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The project root: the nearest folder above this file with a package.json. Found by walking up, so
 * the harness also works when compiled into dist/ (e.g. imported by the demo).
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10 && !existsSync(join(dir, "package.json")); i++) dir = dirname(dir);
  if (!existsSync(join(dir, "package.json"))) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
  return dir;
}

export const CONTROL_PLANE_DIR = join(projectRoot(), "test", "e2e", "control-plane");

export type ControlPlaneBinaryName = "etcd" | "kube-apiserver" | "kube-controller-manager";
export type NodeBinaryName = "kube-scheduler" | "kubelet";
/** The client, for tests that apply the shipped manifests as a user does (`kubectl apply -k`). */
export type ClientBinaryName = "kubectl";
export type BinaryName = ControlPlaneBinaryName | NodeBinaryName | ClientBinaryName;

/** What every control plane needs (and what KUBEBUILDER_ASSETS may provide). */
export const BINARY_NAMES: readonly ControlPlaneBinaryName[] = ["etcd", "kube-apiserver", "kube-controller-manager"];
/** Built only when a real node is asked for, into the same cache entry: they share the pins. */
export const NODE_BINARY_NAMES: readonly NodeBinaryName[] = ["kube-scheduler", "kubelet"];

export interface BinaryRecipe {
  readonly name: BinaryName;
  /** Folder under control-plane/ holding the wrapper go.mod. */
  readonly module: string;
  /** Package to build, as `go build` names it from inside that module. */
  readonly pkg: string;
  readonly ldflags: readonly string[];
}

/** Flags common to every build: small static binaries, independent of where the clone lives. */
export const GO_BUILD_FLAGS: readonly string[] = ["-trimpath", "-mod=readonly", "-buildvcs=false"];
const LDFLAGS_COMMON: readonly string[] = ["-s", "-w"];

/** Files whose contents decide what gets built: any change to them means a new cache entry. */
export const PIN_FILES: readonly string[] = [
  "kubernetes/go.mod",
  "kubernetes/go.sum",
  "kubernetes/tools.go",
  "etcd/go.mod",
  "etcd/go.sum",
  "etcd/main.go",
];

/** The version a wrapper go.mod requires for `modulePath` (pure: takes the go.mod text). */
export function requiredVersion(goMod: string, modulePath: string): string | undefined {
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v[^\\s/]+)`, "m").exec(goMod);
  return match?.[1];
}

function readRequired(module: string, modulePath: string): string {
  const file = join(CONTROL_PLANE_DIR, module, "go.mod");
  const version = requiredVersion(readFileSync(file, "utf8"), modulePath);
  if (!version) throw new Error(`${file}: no "require ${modulePath} vX.Y.Z" line`);
  return version;
}

export function kubernetesVersion(): string {
  return readRequired("kubernetes", "k8s.io/kubernetes");
}

export function etcdVersion(): string {
  return readRequired("etcd", "go.etcd.io/etcd/server/v3");
}

/** Without these the servers report v0.0.0 and clients warn about version skew. */
export function kubernetesVersionFlags(version: string): string[] {
  const [major, minor] = version.replace(/^v/, "").split(".");
  const flags: string[] = [];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    flags.push(`-X ${pkg}.gitVersion=${version}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`);
    flags.push(`-X ${pkg}.gitTreeState=clean`);
  }
  return flags;
}

export function recipes(): Record<BinaryName, BinaryRecipe> {
  const kube = [...LDFLAGS_COMMON, ...kubernetesVersionFlags(kubernetesVersion())];
  return {
    etcd: { name: "etcd", module: "etcd", pkg: ".", ldflags: LDFLAGS_COMMON },
    "kube-apiserver": { name: "kube-apiserver", module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kube-apiserver", ldflags: kube },
    "kube-controller-manager": {
      name: "kube-controller-manager",
      module: "kubernetes",
      pkg: "k8s.io/kubernetes/cmd/kube-controller-manager",
      ldflags: kube,
    },
    "kube-scheduler": { name: "kube-scheduler", module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kube-scheduler", ldflags: kube },
    kubelet: { name: "kubelet", module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kubelet", ldflags: kube },
    kubectl: { name: "kubectl", module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kubectl", ldflags: kube },
  };
}
