// Command lines for the three servers (pure). Everything listens on 127.0.0.1 only; tuned for short-lived
// test clusters (no fsync, no leader election, quiet logs).
import { join } from "node:path";

export interface ControlPlaneFiles {
  readonly dir: string;
  readonly caCert: string;
  /** What the apiserver shows a kubelet (logs, exec): a client certificate from the cluster CA. */
  readonly kubeletClientCert: string;
  readonly kubeletClientKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly saPublicKey: string;
  readonly saPrivateKey: string;
  readonly adminKubeconfig: string;
  readonly controllerManagerKubeconfig: string;
}

/** Service ClusterIPs; the first one (10.0.0.1) is the `kubernetes` Service's. */
export const SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24";

export function etcdArgs(files: ControlPlaneFiles, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    `--data-dir=${join(files.dir, "etcd-data")}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    // A peer port of our own: the default 2380 may be taken by another run.
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

/**
 * The default admission plugins stay on, ServiceAccount included, so pods come back as in a real cluster
 * (projected token volume); the controller-manager, or the harness's createNamespace, provides the
 * `default` ServiceAccount that plugin insists on.
 */
export function apiserverArgs(files: ControlPlaneFiles, etcdURL: string, securePort: number): string[] {
  return [
    `--etcd-servers=${etcdURL}`,
    `--secure-port=${securePort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--cert-dir=${join(files.dir, "apiserver-certs")}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--client-ca-file=${files.caCert}`,
    `--kubelet-client-certificate=${files.kubeletClientCert}`,
    `--kubelet-client-key=${files.kubeletClientKey}`,
    `--kubelet-certificate-authority=${files.caCert}`,
    // A real node (localcluster/) is reached at its node IP: no DNS for node names here.
    "--kubelet-preferred-address-types=InternalIP",
    // Nothing routes traffic to these addresses, except on the real node the `kubernetes` Service's
    // (localcluster/netns.ts, standing in for kube-proxy for that one Service).
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    "--authorization-mode=RBAC",
    `--service-account-issuer=https://127.0.0.1:${securePort}`,
    `--service-account-key-file=${files.saPublicKey}`,
    `--service-account-signing-key-file=${files.saPrivateKey}`,
    "--allow-privileged=true",
    "--v=1",
  ];
}

/** The controllers tests need: pods from Deployments and Jobs, service accounts, namespace cleanup. */
export const CONTROLLERS: readonly string[] = [
  "serviceaccount-controller",
  "serviceaccount-token-controller",
  "root-ca-certificate-publisher-controller",
  "namespace-controller",
  "garbage-collector-controller",
  "deployment-controller",
  "replicaset-controller",
  "job-controller",
];

export function controllerManagerArgs(files: ControlPlaneFiles, extraControllers: readonly string[] = []): string[] {
  return [
    `--kubeconfig=${files.controllerManagerKubeconfig}`,
    `--authentication-kubeconfig=${files.controllerManagerKubeconfig}`,
    `--authorization-kubeconfig=${files.controllerManagerKubeconfig}`,
    `--controllers=${[...CONTROLLERS, ...extraControllers].join(",")}`,
    "--leader-elect=false",
    // One identity (system:masters) for every controller: no per-controller tokens to mint.
    "--use-service-account-credentials=false",
    `--service-account-private-key-file=${files.saPrivateKey}`,
    `--root-ca-file=${files.caCert}`,
    // No HTTPS endpoint: readiness is judged by the default ServiceAccount appearing.
    "--secure-port=0",
    "--v=1",
  ];
}
