// `npm start`: the whole story on this machine, no cluster needed. A real etcd and kube-apiserver
// (built from Go modules the first time), the real `tailcar webhook` bootstrapping its own TLS through
// the API, the docs' application pod created and injected, then run by a real kubelet and containerd
// (localcluster/) where the machine allows it, else as local processes, with the error-log sidecar's
// output streamed here like `kubectl logs -f application -c error-log`.
import type { V1Pod } from "@kubernetes/client-node";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findOrBuildControlPlane, findOrBuildNode } from "../localcluster/harness/build.ts";
import { renderHelp } from "../settings/help.ts";
import { Invalid, type Kind } from "../settings/kind.ts";
import { bool } from "../settings/kinds.ts";
import { readSettings } from "../settings/read.ts";
import { optional, setting } from "../settings/row.ts";
import { clientFor, type TestClient } from "../localcluster/harness/client.ts";
import { startControlPlane, type ControlPlane } from "../localcluster/harness/control-plane.ts";
import { pollUntil } from "../localcluster/harness/poll.ts";
import { freePorts } from "../localcluster/harness/ports.ts";
import { registerMutatingWebhook } from "../localcluster/harness/webhook-registration.ts";
import { findOrBuildImages, SIDECAR_IMAGE } from "../localcluster/images.ts";
import { leftoversOf, startRealNode, type RealNode } from "../localcluster/node.ts";
import { realNodeUnavailable } from "../localcluster/prerequisites.ts";
import { prepareLocalPod, type LocalContainer, type LocalPod } from "../localcluster/run-pod-locally.ts";
import { shippedWebhookConfiguration, startWebhook, type WebhookProcess } from "../localcluster/webhook-process.ts";
import { applicationPod, DEMO_NAMESPACE } from "./application-pod.ts";
import { formatTable, injectedRows } from "./containers-table.ts";
import { followPodLog, type FollowedLog } from "./follow-log.ts";
import { createProgress, type Progress } from "./progress.ts";
import { chooseRunner, RUNNER_ENV, type RunnerChoice } from "./runner-choice.ts";
import { stopSignal, type StopSignal } from "./stop-signal.ts";

/** Seconds, more than 0, fractions allowed. */
const seconds: Kind<number> = {
  name: "seconds (more than 0)",
  metavar: "SECONDS",
  parse: (t) => {
    const n = Number(t);
    return t !== "" && Number.isFinite(n) && n > 0 ? n : new Invalid("is not a positive number of seconds");
  },
  format: String,
};

/** The demo's settings, read by the settings engine; --help's options are written from them. */
export const DEMO_ROWS = [
  optional("durationSeconds", seconds, "stop by itself after streaming logs for this long", { flag: "--duration" }),
  setting("help", bool, false, "show this help", { flag: "--help", short: "h", defaultText: "" }),
] as const;

const USAGE = `Usage: npm start [-- --duration SECONDS]
       node dist/demo/main.js [--duration SECONDS]

Runs tailcar end to end on this machine, with no cluster:
  1. builds etcd, kube-apiserver and kube-controller-manager from Go modules (first time only,
     several minutes; cached in the user's cache folder; needs Go), or reuses them; with the real
     node also kubelet, kube-scheduler and the app's and sidecar's images (buildah),
  2. starts etcd and kube-apiserver on 127.0.0.1; with the real node, in a network namespace with
     containerd, kubelet and kube-scheduler,
  3. starts \`tailcar webhook --self-bootstrap\`: it creates its TLS Secret and patches the caBundle
     of the MutatingWebhookConfiguration we ship (manifests/base) through the API,
  4. creates the namespace "demo" labelled tailcar.io/injection=enabled and the Kubernetes docs'
     "application" pod (annotation tailcar.io/files), and prints the sidecars the webhook injected,
  5. real node: the scheduler places the pod, kubelet and containerd run it;
     local runner: the app's and the sidecars' exact commands run as local processes,
  6. streams kubectl logs -f application -c error-log (real node: the log API with follow=true,
     through the API server and kubelet; local runner: the sidecar's stdout).

The real node is used when it can run here (Linux, root, containerd, runc, buildah and the CNI
plugins installed); otherwise the demo says why on one line and uses the local runner.
${RUNNER_ENV}=local chooses the local runner.

Progress goes to stderr, the log stream to stdout. Ctrl-C (or --duration) stops everything and
removes every temporary file, network namespace, mount and cgroup; nothing is left running.

Options:
${renderHelp(DEMO_ROWS)}
`;

export interface DemoArgs {
  readonly help: boolean;
  readonly durationSeconds?: number;
}

/** Throws SettingsError naming the flag (or the unknown option, with the nearest known one). */
export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const { help, durationSeconds } = readSettings(DEMO_ROWS, { argv, command: "npm start --" });
  return durationSeconds === undefined ? { help } : { help, durationSeconds };
}

const SYSTEM_NAMESPACE = "tailcar-system";
const STEPS = 6;
const POD_RUNNING_MS = 120_000;

function hintFor(message: string): string {
  if (/Go is required/.test(message)) return "";
  if (/EADDRINUSE/.test(message)) return "\nA port on 127.0.0.1 is taken; run the demo again.";
  if (/dist\/cli\/main\.js|Cannot find module/.test(message)) return "\nBuild first: npm run build (npm start does it for you).";
  return `\nA server's failure above ends with the last lines of its log; rerun to retry (${RUNNER_ENV}=local uses the local runner).`;
}

interface Running {
  cp?: ControlPlane;
  node?: RealNode;
  webhook?: WebhookProcess;
  pod?: LocalPod;
  logStream?: FollowedLog;
}

/** Stops what was started, in reverse; returns what the real node left behind (nothing, normally). */
async function teardown(running: Running, progress: Progress): Promise<string[]> {
  if (!running.cp && !running.node && !running.webhook && !running.pod) return [];
  progress.info(running.node ? "stopping the log stream, the webhook and the real node (pods, kubelet, containerd, control plane)…" : "stopping the pod's processes, the webhook and the control plane…");
  running.logStream?.close();
  await running.pod?.cleanup().catch(() => {});
  await running.webhook?.cleanup().catch(() => {});
  await running.cp?.stop().catch(() => {});
  if (!running.node) return [];
  await running.node.stop().catch((e: unknown) => progress.info(`real node: stop failed: ${String(e)}`));
  return leftoversOf(running.node);
}

function watchExit(container: LocalContainer, name: string): Promise<never> {
  return container.exited.then((code) => Promise.reject(new Error(`container ${name} exited (${String(code)}); its stderr:\n${container.logTail()}`)));
}

export async function runDemo(args: DemoArgs, choice: RunnerChoice = chooseRunner(process.env, realNodeUnavailable())): Promise<number> {
  const progress = createProgress(STEPS);
  const stop = stopSignal();
  const running: Running = {};
  const log = (line: string) => progress.info(line);
  const onNode = choice.kind === "node";
  let lines = 0;
  const countAndPrint = (chunk: string) => {
    process.stdout.write(chunk);
    lines += chunk.split("\n").length - 1;
  };
  process.stderr.write(`${choice.line}\n`);
  try {
    if (onNode) {
      progress.step("binaries and images: control plane, kubelet, kube-scheduler, the app's and the sidecar's images; found, or built the first time (several minutes)");
      await findOrBuildControlPlane(log);
      await findOrBuildNode(log);
      await findOrBuildImages(log);
    } else {
      progress.step("control plane binaries: finding them, or building them the first time (several minutes)");
      await findOrBuildControlPlane(log);
    }
    stop.check();

    if (onNode) {
      progress.step("starting etcd, kube-apiserver, containerd, kubelet and kube-scheduler in a network namespace");
      running.node = await startRealNode({ log });
    } else {
      progress.step("starting etcd and kube-apiserver on 127.0.0.1");
      running.cp = await startControlPlane({ withControllerManager: false, log });
    }
    stop.check();
    const cp = running.node?.cp ?? running.cp;
    if (!cp) throw new Error("no control plane");
    const client = running.node?.client ?? clientFor(cp);

    progress.step("starting tailcar webhook --self-bootstrap (it creates its TLS Secret and patches its caBundle)");
    await client.createNamespace(SYSTEM_NAMESPACE, { "tailcar.io/injection": "disabled" });
    const [port = 0] = await freePorts(1);
    // The configuration we ship, pointed at 127.0.0.1 and with no caBundle: the webhook fills it in.
    await registerMutatingWebhook(client, shippedWebhookConfiguration(), `https://127.0.0.1:${port}`, undefined);
    const image = onNode ? ["--image", SIDECAR_IMAGE] : [];
    running.webhook = await startWebhook(["--self-bootstrap", "--kubeconfig", cp.kubeconfigPath, "--cert-ip", "127.0.0.1", "--namespace", SYSTEM_NAMESPACE, ...image], {
      port,
      readyTimeoutMs: 60_000,
    });
    // The API server runs in the node's network namespace: it reaches the webhook through the bridge.
    if (running.node) await running.node.exposeToNode(port);
    stop.check();
    progress.info(`webhook ready at https://127.0.0.1:${port}/mutate; caBundle patched through the API`);

    progress.step(`creating namespace "${DEMO_NAMESPACE}" (tailcar.io/injection=enabled) and the docs' application pod`);
    await client.createNamespace(DEMO_NAMESPACE, { "tailcar.io/injection": "enabled" });
    const pod = await createInjected(client, applicationPod(), stop);
    const created = Date.now();
    stop.check();
    const rows = injectedRows(pod);
    process.stdout.write(`\npod ${DEMO_NAMESPACE}/application, as the API server stored it: ${rows.length} sidecars injected\n\n${formatTable(rows)}\n`);

    let ended: Promise<never>;
    if (running.node) {
      progress.step(`kube-scheduler places the pod on ${running.node.nodeName}; kubelet and containerd run it`);
      await waitForRunning(client, stop);
      progress.info(`pod running on ${running.node.nodeName}, ${((Date.now() - created) / 1000).toFixed(1)} s after it was created`);
      stop.check();

      progress.step("kubectl logs -f application -c error-log: the log API with follow=true, through the API server and kubelet (Ctrl-C to stop)");
      running.logStream = followPodLog(cp, DEMO_NAMESPACE, "application", "error-log", countAndPrint);
      ended = running.logStream.ended;
    } else {
      progress.step("running the pod locally as a kubelet would (no kubelet here): sidecars first, then the app");
      const local = prepareLocalPod(pod);
      running.pod = local;
      const errorLog = local.startContainer("error-log");
      const others = rows.filter((r) => r.name !== "error-log").map((r) => local.startContainer(r.name));
      for (const c of others) c.stdout.resume();
      const app = local.startContainer("app", { entrypoint: [] });
      app.stdout.resume();
      stop.check();

      progress.step("kubectl logs -f application -c error-log (Ctrl-C to stop)");
      errorLog.stdout.setEncoding("utf8");
      errorLog.stdout.on("data", countAndPrint);
      ended = Promise.race([watchExit(errorLog, "error-log"), watchExit(app, "app")]);
    }
    if (args.durationSeconds !== undefined) stop.stopAfter(args.durationSeconds);
    const why = await Promise.race([stop.stopped, ended]);
    process.stderr.write(`\nstopping (${why}): ${lines} lines streamed from error-log\n`);
    const left = await teardown(running, progress);
    if (left.length > 0) {
      process.stderr.write(`done in ${progress.elapsedSeconds().toFixed(1)} s, but the real node left: ${left.join("; ")}\n`);
      return 1;
    }
    process.stderr.write(`done in ${progress.elapsedSeconds().toFixed(1)} s; nothing left running\n`);
    return 0;
  } catch (e) {
    // A signal during set-up also makes the step in flight fail (its processes were killed): not an error.
    const interrupted = stop.reason();
    if (interrupted !== undefined) {
      process.stderr.write(`\nstopping (${interrupted}) during set-up\n`);
      await teardown(running, progress);
      return 130;
    }
    const message = e instanceof Error ? e.message : String(e);
    progress.fail(`${message}${hintFor(message)}`);
    await teardown(running, progress);
    return 1;
  } finally {
    stop.dispose();
  }
}

/** Creates the pod once the webhook answers (its configuration reaches the API server asynchronously). */
async function createInjected(client: Pick<TestClient, "create">, pod: V1Pod, stop: Pick<StopSignal, "check">): Promise<V1Pod> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    stop.check();
    const dry = await client.create(pod, { namespace: DEMO_NAMESPACE, dryRun: true });
    if (dry.metadata?.annotations?.["tailcar.io/status"] !== undefined) return client.create(pod, { namespace: DEMO_NAMESPACE });
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the API server did not call the webhook within 30 s (dry-run pods came back without sidecars)");
}

/** Until kubelet reports the error-log sidecar running (bounded; Ctrl-C ends the wait). */
async function waitForRunning(client: Pick<TestClient, "getPod">, stop: Pick<StopSignal, "reason">): Promise<void> {
  await pollUntil(
    "the application pod's error-log container to run",
    async () => {
      const pod = await client.getPod(DEMO_NAMESPACE, "application");
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      return statuses.find((c) => c.name === "error-log")?.state?.running ? true : undefined;
    },
    { timeoutMs: POD_RUNNING_MS, intervalMs: 250, abortIf: () => (stop.reason() === undefined ? undefined : `stopped (${stop.reason()})`) },
  );
}

async function main(): Promise<void> {
  let args: DemoArgs;
  try {
    args = parseDemoArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  process.exitCode = await runDemo(args);
}

// Run only as the program, not when a test imports parseDemoArgs.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
