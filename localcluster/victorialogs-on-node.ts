// VictoriaLogs inside the real node's network namespace: listening on 0.0.0.0 there (its loopback,
// the node address and the pods' bridge, nothing else), reached by pods at the bridge's address and by
// this process through node.exposeFromNode on the same port of 127.0.0.1.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pollUntil, startProcess, type ManagedProcess } from "./harness/index.ts";
import { inNetns } from "./netns.ts";
import type { RealNode } from "./node.ts";
import { freePort, victoriaLogsBinary } from "./backend/victorialogs.ts";

/** The bridge's own address, the pods' gateway (the first of the CNI range): a server in the node's namespace is reached there from pods. */
export const BRIDGE_IP = "198.51.100.1";

export interface NodeVictoriaLogs {
  readonly process: ManagedProcess;
  /** For this process (through the node's bridge). */
  readonly url: string;
  /** For pods. */
  readonly podURL: string;
  /** For processes inside the node's namespace (e.g. the node's collector): 127.0.0.1 there. */
  readonly nodeURL: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** `auth`: basic auth on every API but /health (-httpAuth.*); query with user:password@ in the URL. */
export async function startVictoriaLogsOnNode(node: RealNode, auth?: { readonly username: string; readonly password: string }): Promise<NodeVictoriaLogs> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tailcar-vl-node-"));
  const authFlags = auth === undefined ? [] : [`-httpAuth.username=${auth.username}`, `-httpAuth.password=${auth.password}`];
  const cmd = inNetns(node.netns, victoriaLogsBinary(), [`-httpListenAddr=0.0.0.0:${port}`, `-storageDataPath=${join(dir, "data")}`, "-loggerLevel=ERROR", "-inmemoryDataFlushInterval=1s", ...authFlags]);
  const proc = startProcess({ name: "victorialogs", command: cmd.command, args: cmd.args, logPath: join(dir, "victorialogs.log") });
  const stop = async (): Promise<void> => {
    await proc.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await node.exposeFromNode(port);
    await pollUntil("VictoriaLogs in the node's namespace to answer /health", async () => ((await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) })).ok ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 100,
      abortIf: () => (proc.hasExited() ? `VictoriaLogs exited: ${proc.logTail()}` : undefined),
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { process: proc, url: `http://127.0.0.1:${port}`, podURL: `http://${BRIDGE_IP}:${port}`, nodeURL: `http://127.0.0.1:${port}`, port, stop };
}
