// The demo drives the same harness as the e2e tests (test/e2e/): the control plane, the webhook
// process and the local pod runner. Those are TypeScript sources outside the build, so they are
// imported at run time from the repository (Node runs .ts directly) instead of being compiled into
// dist/, where their paths to the Go modules and the CLI would no longer hold. The interfaces below
// are the part the demo uses; test/e2e/demo.test.ts checks that the real modules satisfy them.
import type { V1MutatingWebhookConfiguration, V1Namespace, V1Pod } from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The nearest folder above this file with a package.json: the repository (from demo/ or dist/demo/). */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++, dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}: the demo runs from a clone of the repository`);
}

export const REPO_ROOT = findRepoRoot();

export type Log = (line: string) => void;

export interface DemoControlPlane {
  readonly apiURL: string;
  readonly kubeconfigPath: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface DemoClient {
  createNamespace(name: string, labels?: Readonly<Record<string, string>>): Promise<V1Namespace>;
  create(object: V1Pod, options?: { namespace?: string; dryRun?: boolean }): Promise<V1Pod>;
  getPod(namespace: string, name: string): Promise<V1Pod>;
}

export interface HarnessModule {
  findOrBuildControlPlane(log?: Log): Promise<unknown>;
  startControlPlane(options?: { withControllerManager?: boolean; log?: Log }): Promise<DemoControlPlane>;
  clientFor(controlPlane: { readonly kubeconfigPath: string }): DemoClient;
  registerMutatingWebhook(client: DemoClient, manifestYAML: string, url: string, caBundlePEM: string | undefined): Promise<{ readonly configuration: V1MutatingWebhookConfiguration; unregister(): Promise<void> }>;
  freePorts(count: number): Promise<number[]>;
  parseObjects(yamlText: string): unknown[];
}

export interface DemoWebhook {
  readonly port: number;
  readonly url: string;
  get(path: string): Promise<{ status: number; body: string }>;
  cleanup(): Promise<void>;
}

export interface WebhookProcessModule {
  startWebhook(args: readonly string[], options?: { port?: number; waitReady?: boolean; readyTimeoutMs?: number; name?: string }): Promise<DemoWebhook>;
  shippedWebhookConfiguration(): string;
}

export interface DemoContainer {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  logTail(lines?: number): string;
}

export interface DemoLocalPod {
  startContainer(name: string, options?: { entrypoint?: readonly string[]; env?: Readonly<Record<string, string>> }): DemoContainer;
  cleanup(): Promise<void>;
}

export interface RunPodLocallyModule {
  prepareLocalPod(pod: V1Pod): DemoLocalPod;
}

export interface Harness {
  readonly harness: HarnessModule;
  readonly webhook: WebhookProcessModule;
  readonly local: RunPodLocallyModule;
}

async function load<T>(path: string): Promise<T> {
  const file = join(REPO_ROOT, path);
  try {
    return (await import(pathToFileURL(file).href)) as T;
  } catch (e) {
    throw new Error(`cannot load ${file}: ${e instanceof Error ? e.message : String(e)} (the demo runs from a clone of the repository)`);
  }
}

export async function loadHarness(): Promise<Harness> {
  const [harness, webhook, local] = await Promise.all([
    load<HarnessModule>("test/e2e/harness/index.ts"),
    load<WebhookProcessModule>("test/e2e/webhook-process.ts"),
    load<RunPodLocallyModule>("test/e2e/run-pod-locally.ts"),
  ]);
  return { harness, webhook, local };
}
