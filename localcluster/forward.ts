// Byte pipes between the test process's 127.0.0.1 and the node's network namespace, through Unix
// sockets (a path in the file system is reachable from both namespaces; a TCP port is not). A
// connection through a gateway socket starts with one header line, the 127.0.0.1 port it is for.
// - into the namespace: the test process listens on 127.0.0.1:PORT and sends to the `in` gateway,
//   which this file's main, running inside the namespace, connects to 127.0.0.1:PORT there;
// - out of it: on a `listen PORT` line on its stdin, the main listens on 127.0.0.1:PORT in the
//   namespace and sends to the `out` gateway, which the test process connects to its own 127.0.0.1:PORT
//   (only for ports it opened that way).
// Same port numbers on both sides, so URLs and kubeconfigs are the same everywhere. Nothing here
// listens or connects anywhere but 127.0.0.1 and Unix sockets.
import { connect, createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const MAX_HEADER = 16;

/** The port of a header line, or undefined when it is not one (pure). */
export function parseHeader(line: string): number | undefined {
  if (!/^\d{1,5}$/.test(line)) return undefined;
  const port = Number(line);
  return port > 0 && port < 65536 ? port : undefined;
}

function pipeBoth(a: Socket, b: Socket): void {
  const closeBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", closeBoth).on("close", closeBoth);
  b.on("error", closeBoth).on("close", closeBoth);
  a.pipe(b).pipe(a);
}

/** Listens on 127.0.0.1:`port`; each connection goes to `gateway` with the port as its header. */
export function listenTcpToGateway(port: number, gateway: string): Promise<Server> {
  const server = createServer((incoming) => {
    const outgoing = connect(gateway);
    outgoing.write(`${port}\n`);
    pipeBoth(incoming, outgoing);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/** Listens on the Unix socket `gateway`; each connection is connected to 127.0.0.1:<its header port>. */
export function listenGatewayToTcp(gateway: string, allowed: (port: number) => boolean = () => true): Promise<Server> {
  const server = createServer((incoming) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > MAX_HEADER) incoming.destroy();
        return;
      }
      incoming.off("data", onData);
      incoming.pause();
      const port = parseHeader(head.subarray(0, nl).toString());
      if (port === undefined || !allowed(port)) {
        incoming.destroy();
        return;
      }
      const outgoing = connect(port, "127.0.0.1");
      const rest = head.subarray(nl + 1);
      if (rest.length > 0) outgoing.write(rest);
      pipeBoth(incoming, outgoing);
      incoming.resume();
    };
    incoming.on("data", onData);
    incoming.on("error", () => incoming.destroy());
  });
  rmSync(gateway, { force: true });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(gateway, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [inGateway, outGateway] = process.argv.slice(2);
  if (inGateway === undefined || outGateway === undefined) {
    process.stderr.write("usage: node forward.ts IN_GATEWAY_SOCKET OUT_GATEWAY_SOCKET (then `listen PORT` lines on stdin)\n");
    process.exit(2);
  }
  await listenGatewayToTcp(inGateway);
  process.stdout.write("ready\n");
  for await (const line of createInterface({ input: process.stdin })) {
    const port = parseHeader(line.replace(/^listen /, ""));
    if (port === undefined || !line.startsWith("listen ")) {
      process.stdout.write(`error not a "listen PORT" line: ${JSON.stringify(line)}\n`);
      continue;
    }
    await listenTcpToGateway(port, outGateway).then(
      () => process.stdout.write(`listening ${port}\n`),
      (e: unknown) => process.stdout.write(`error ${port} ${e instanceof Error ? e.message : String(e)}\n`),
    );
  }
  // stdin closed: the harness is gone, and so is this bridge.
  process.exit(0);
}
