// Starts etcd, kube-apiserver and (optionally) kube-controller-manager on 127.0.0.1 with a fresh PKI,
// waits until they serve, and stops them all again. Flags follow envtest (controller-runtime).
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOrBuildControlPlane, type ControlPlaneBinaries } from "./build.ts";
import { createControlPlanePKI, type KeyPairPEM } from "./certs.ts";
import { formatSeconds, type Log } from "./go-build.ts";
import { kubeconfigYAML } from "./kubeconfig.ts";
import { pollUntil } from "./poll.ts";
import { freePorts } from "./ports.ts";
import { forgetOnExit, removeOnExit, startProcess, type ManagedProcess } from "./processes.ts";
import { apiserverArgs, controllerManagerArgs, etcdArgs, type ControlPlaneFiles } from "./flags.ts";
import { reapOrphanedRuns, recordOwner, RUN_DIR_PREFIX } from "./reaper.ts";

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager, so Deployments, ReplicaSets and Jobs create Pods. Default true. */
  readonly withControllerManager?: boolean;
  readonly log?: Log;
  /** Controllers to run besides CONTROLLERS (the real node adds the node lifecycle one). */
  readonly extraControllers?: readonly string[];
  /** Flags added to kube-apiserver's. */
  readonly extraApiserverArgs?: readonly string[];
  /**
   * Runs the servers somewhere else than this process's network, e.g. in a network namespace
   * (localcluster/): `wrap` turns each command line into the one to spawn, and `expose` makes the
   * given ports reachable on this process's 127.0.0.1 (same numbers) before the servers start.
   */
  readonly network?: ServerNetwork;
}

export interface ServerNetwork {
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  expose(ports: readonly number[]): Promise<void>;
}

export interface ControlPlane {
  readonly apiURL: string;
  /** Admin kubeconfig (system:masters), certificates embedded. */
  readonly kubeconfigPath: string;
  readonly caPEM: string;
  readonly adminCert: KeyPairPEM;
  /** The cluster CA with its key: sign serving certificates for webhooks with it (see certs.ts). */
  readonly ca: KeyPairPEM;
  /** Temporary folder holding data, certificates and one log file per process; removed by stop(). */
  readonly dir: string;
  readonly processes: readonly ManagedProcess[];
  readonly binaries: ControlPlaneBinaries;
  stop(): Promise<void>;
}

const ETCD_READY_MS = 30_000;
const APISERVER_READY_MS = 90_000;
const CONTROLLERS_READY_MS = 60_000;

/** GET `url`; resolves with status and body. TLS client material only for https. */
export function httpGet(
  url: string,
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean },
  timeoutMs = 5_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith("https:") ? httpsRequest : httpRequest;
    const req = request(url, { ...tls, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

function diedWhileWaiting(p: ManagedProcess): () => string | undefined {
  return () => (p.hasExited() ? `${p.name} exited early; last lines of ${p.logPath}:\n${p.logTail()}` : undefined);
}

async function waitOrExplain(p: ManagedProcess, wait: Promise<unknown>): Promise<void> {
  try {
    await wait;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (message.includes("last lines of")) throw e;
    throw new Error(`${p.name} did not become ready: ${message}\nlast lines of ${p.logPath}:\n${p.logTail()}`);
  }
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const binaries = await findOrBuildControlPlane(log);
  reapOrphanedRuns(log);
  const startedAt = Date.now();
  const dir = await mkdtemp(join(tmpdir(), RUN_DIR_PREFIX));
  removeOnExit(dir);
  const processes: ManagedProcess[] = [];
  const owned: { pid: number; command: string }[] = [];
  const launch = (name: string, command: string, args: string[]): ManagedProcess => {
    const spawned = options.network?.wrap(command, args) ?? { command, args };
    const p = startProcess({ name, command: spawned.command, args: spawned.args, logPath: join(dir, `${name}.log`) });
    processes.push(p);
    owned.push({ pid: p.pid, command });
    recordOwner(dir, owned);
    return p;
  };
  const stopAll = async () => {
    for (const p of [...processes].reverse()) await p.stop();
    await rm(dir, { recursive: true, force: true });
    forgetOnExit(dir);
  };
  try {
    const pki = await createControlPlanePKI();
    const [etcdClientPort = 0, etcdPeerPort = 0, apiserverPort = 0] = await freePorts(3);
    await options.network?.expose([etcdClientPort, apiserverPort]);
    const apiURL = `https://127.0.0.1:${apiserverPort}`;
    const files: ControlPlaneFiles = {
      dir,
      caCert: join(dir, "ca.crt"),
      kubeletClientCert: join(dir, "kubelet-client.crt"),
      kubeletClientKey: join(dir, "kubelet-client.key"),
      servingCert: join(dir, "apiserver.crt"),
      servingKey: join(dir, "apiserver.key"),
      saPublicKey: join(dir, "sa.pub"),
      saPrivateKey: join(dir, "sa.key"),
      adminKubeconfig: join(dir, "admin.kubeconfig"),
      controllerManagerKubeconfig: join(dir, "controller-manager.kubeconfig"),
    };
    const write = (path: string, text: string) => writeFile(path, text, { mode: 0o600 });
    await Promise.all([
      write(files.caCert, pki.ca.cert),
      write(files.servingCert, pki.apiserverServing.cert),
      write(files.servingKey, pki.apiserverServing.key),
      write(files.kubeletClientCert, pki.kubeletClient.cert),
      write(files.kubeletClientKey, pki.kubeletClient.key),
      write(files.saPublicKey, pki.serviceAccount.publicKey),
      write(files.saPrivateKey, pki.serviceAccount.privateKey),
      write(files.adminKubeconfig, kubeconfigYAML({ server: apiURL, caPEM: pki.ca.cert, user: "admin", client: pki.admin })),
      write(
        files.controllerManagerKubeconfig,
        kubeconfigYAML({ server: apiURL, caPEM: pki.ca.cert, user: "kube-controller-manager", client: pki.controllerManager }),
      ),
    ]);
    const tls = { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };

    const etcdURL = `http://127.0.0.1:${etcdClientPort}`;
    const etcd = launch("etcd", binaries.paths.etcd, etcdArgs(files, etcdClientPort, etcdPeerPort));
    await waitOrExplain(
      etcd,
      pollUntil("etcd /health", async () => ((await httpGet(`${etcdURL}/health`)).body.includes('"true"') ? true : undefined), {
        timeoutMs: ETCD_READY_MS,
        abortIf: diedWhileWaiting(etcd),
      }),
    );

    const apiserver = launch("kube-apiserver", binaries.paths["kube-apiserver"], [...apiserverArgs(files, etcdURL, apiserverPort), ...(options.extraApiserverArgs ?? [])]);
    await waitOrExplain(
      apiserver,
      pollUntil("kube-apiserver /readyz", async () => ((await httpGet(`${apiURL}/readyz`, tls)).status === 200 ? true : undefined), {
        timeoutMs: APISERVER_READY_MS,
        intervalMs: 500,
        abortIf: diedWhileWaiting(apiserver),
      }),
    );

    if (options.withControllerManager ?? true) {
      const kcm = launch("kube-controller-manager", binaries.paths["kube-controller-manager"], controllerManagerArgs(files, options.extraControllers));
      // The serviceaccount controller creating `default` proves the controllers are running.
      const defaultSA = `${apiURL}/api/v1/namespaces/default/serviceaccounts/default`;
      await waitOrExplain(
        kcm,
        pollUntil("kube-controller-manager to create the default ServiceAccount", async () => ((await httpGet(defaultSA, tls)).status === 200 ? true : undefined), {
          timeoutMs: CONTROLLERS_READY_MS,
          intervalMs: 500,
          abortIf: diedWhileWaiting(kcm),
        }),
      );
    }
    log(`control-plane: ready in ${formatSeconds(Date.now() - startedAt)} at ${apiURL} (kubernetes ${binaries.kubernetesVersion}, etcd ${binaries.etcdVersion}; logs in ${dir})`);
    return {
      apiURL,
      kubeconfigPath: files.adminKubeconfig,
      caPEM: pki.ca.cert,
      adminCert: pki.admin,
      ca: pki.ca,
      dir,
      processes,
      binaries,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
