// `npm start`: the whole story on this machine, no cluster needed. A real etcd and kube-apiserver
// (built from Go modules the first time), the real `tailcar webhook` bootstrapping its own TLS through
// the API, the docs' application pod created and injected, then run as a kubelet would, with the
// error-log sidecar's output streamed here like `kubectl logs -f application -c error-log`.
import type { V1Pod } from "@kubernetes/client-node";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { applicationPod, DEMO_NAMESPACE } from "./application-pod.ts";
import { formatTable, injectedRows } from "./containers-table.ts";
import { loadHarness, type DemoContainer, type DemoControlPlane, type DemoLocalPod, type DemoWebhook } from "./harness.ts";
import { createProgress, type Progress } from "./progress.ts";
import { stopSignal } from "./stop-signal.ts";

const USAGE = `Usage: npm start [-- --duration SECONDS]
       node dist/demo/main.js [--duration SECONDS]

Runs tailcar end to end on this machine, with no cluster:
  1. builds etcd, kube-apiserver and kube-controller-manager from Go modules (first time only,
     several minutes; cached in the user's cache folder; needs Go), or reuses them,
  2. starts etcd and kube-apiserver on 127.0.0.1,
  3. starts \`tailcar webhook --self-bootstrap\`: it creates its TLS Secret and patches the caBundle
     of the MutatingWebhookConfiguration we ship (manifests/base) through the API,
  4. creates the namespace "demo" labelled tailcar.io/injection=enabled and the Kubernetes docs'
     "application" pod (annotation tailcar.io/files), and prints the sidecars the webhook injected,
  5. runs the pod as a kubelet would (there is none): the app's and the sidecars' exact commands as
     local processes, each volume a temporary folder,
  6. streams the error-log sidecar's output, like kubectl logs -f application -c error-log.

Progress goes to stderr, the log stream to stdout. Ctrl-C (or --duration) stops everything and
removes every temporary file; nothing is left running.

Options:
  --duration SECONDS   stop by itself after streaming logs for this long
  -h, --help           show this help
`;

export interface DemoArgs {
  readonly help: boolean;
  readonly durationSeconds?: number;
}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  let durationSeconds: number | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "-h" || arg === "--help") help = true;
    else if (arg === "--duration" || arg.startsWith("--duration=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      const n = Number(value);
      if (value === undefined || value === "" || !Number.isFinite(n) || n <= 0) throw new Error(`--duration: "${value ?? ""}" is not a positive number of seconds`);
      durationSeconds = n;
    } else throw new Error(`unknown option "${arg}" (see --help)`);
  }
  return durationSeconds === undefined ? { help } : { help, durationSeconds };
}

const SYSTEM_NAMESPACE = "tailcar-system";
const STEPS = 6;

function hintFor(message: string): string {
  if (/Go is required/.test(message)) return "";
  if (/EADDRINUSE/.test(message)) return "\nA port on 127.0.0.1 is taken; run the demo again.";
  if (/dist\/cli\/main\.js|Cannot find module/.test(message)) return "\nBuild first: npm run build (npm start does it for you).";
  return "\nA server's failure above ends with the last lines of its log; rerun to retry.";
}

interface Running {
  cp?: DemoControlPlane;
  webhook?: DemoWebhook;
  pod?: DemoLocalPod;
}

async function teardown(running: Running, progress: Progress): Promise<void> {
  if (!running.cp && !running.webhook && !running.pod) return;
  progress.info("stopping the pod's processes, the webhook and the control plane…");
  await running.pod?.cleanup().catch(() => {});
  await running.webhook?.cleanup().catch(() => {});
  await running.cp?.stop().catch(() => {});
}

function watchExit(container: DemoContainer, name: string): Promise<never> {
  return container.exited.then((code) => Promise.reject(new Error(`container ${name} exited (${String(code)}); its stderr:\n${container.logTail()}`)));
}

export async function runDemo(args: DemoArgs): Promise<number> {
  const progress = createProgress(STEPS);
  const stop = stopSignal();
  const running: Running = {};
  const log = (line: string) => progress.info(line);
  let lines = 0;
  try {
    progress.step("control plane binaries: finding them, or building them the first time (several minutes)");
    const { harness, webhook: webhookProcess, local } = await loadHarness();
    await harness.findOrBuildControlPlane(log);
    stop.check();

    progress.step("starting etcd and kube-apiserver on 127.0.0.1");
    running.cp = await harness.startControlPlane({ withControllerManager: false, log });
    stop.check();
    const client = harness.clientFor(running.cp);

    progress.step("starting tailcar webhook --self-bootstrap (it creates its TLS Secret and patches its caBundle)");
    await client.createNamespace(SYSTEM_NAMESPACE, { "tailcar.io/injection": "disabled" });
    const [port = 0] = await harness.freePorts(1);
    // The configuration we ship, pointed at 127.0.0.1 and with no caBundle: the webhook fills it in.
    await harness.registerMutatingWebhook(client, webhookProcess.shippedWebhookConfiguration(), `https://127.0.0.1:${port}`, undefined);
    running.webhook = await webhookProcess.startWebhook(
      ["--self-bootstrap", "--kubeconfig", running.cp.kubeconfigPath, "--cert-ip", "127.0.0.1", "--namespace", SYSTEM_NAMESPACE],
      { port, readyTimeoutMs: 60_000 },
    );
    stop.check();
    progress.info(`webhook ready at https://127.0.0.1:${port}/mutate; caBundle patched through the API`);

    progress.step(`creating namespace "${DEMO_NAMESPACE}" (tailcar.io/injection=enabled) and the docs' application pod`);
    await client.createNamespace(DEMO_NAMESPACE, { "tailcar.io/injection": "enabled" });
    const pod = await createInjected(client, applicationPod(), stop);
    stop.check();
    const rows = injectedRows(pod);
    process.stdout.write(`\npod ${DEMO_NAMESPACE}/application, as the API server stored it: ${rows.length} sidecars injected\n\n${formatTable(rows)}\n`);

    progress.step("running the pod locally as a kubelet would (no kubelet here): sidecars first, then the app");
    running.pod = local.prepareLocalPod(pod);
    const errorLog = running.pod.startContainer("error-log");
    const others = rows.filter((r) => r.name !== "error-log").map((r) => running.pod!.startContainer(r.name));
    for (const c of others) c.stdout.resume();
    const app = running.pod.startContainer("app", { entrypoint: [] });
    app.stdout.resume();
    stop.check();

    progress.step("kubectl logs -f application -c error-log (Ctrl-C to stop)");
    errorLog.stdout.setEncoding("utf8");
    errorLog.stdout.on("data", (chunk: string) => {
      process.stdout.write(chunk);
      lines += chunk.split("\n").length - 1;
    });
    if (args.durationSeconds !== undefined) stop.stopAfter(args.durationSeconds);
    const why = await Promise.race([stop.stopped, watchExit(errorLog, "error-log"), watchExit(app, "app")]);
    process.stderr.write(`\nstopping (${why}): ${lines} lines streamed from error-log\n`);
    await teardown(running, progress);
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
async function createInjected(client: { create(o: V1Pod, opts?: { namespace?: string; dryRun?: boolean }): Promise<V1Pod> }, pod: V1Pod, stop: { check(): void }): Promise<V1Pod> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    stop.check();
    const dry = await client.create(pod, { namespace: DEMO_NAMESPACE, dryRun: true });
    if (dry.metadata?.annotations?.["tailcar.io/status"] !== undefined) return client.create(pod, { namespace: DEMO_NAMESPACE });
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the API server did not call the webhook within 30 s (dry-run pods came back without sidecars)");
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
