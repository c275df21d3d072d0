// An API server stand-in on 127.0.0.1 for tests of `tailcar webhook` with API access, and a
// kubeconfig that points at it. "empty": every list is empty, so a missed-pod scan succeeds and
// finds nothing; "unavailable": every call is answered 503, so self-bootstrap keeps failing.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ApiStandIn {
  readonly kubeconfig: string;
  close(): Promise<void>;
}

export async function apiStandIn(kind: "empty" | "unavailable"): Promise<ApiStandIn> {
  const server = createServer((req, res) => {
    if (kind === "unavailable") {
      res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ apiVersion: "v1", kind: "Status", status: "Failure", code: 503, message: "stand-in: unavailable" }));
      return;
    }
    const list = /\/namespaces(\?|$)/.test(req.url ?? "") ? "NamespaceList" : "PodList";
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ apiVersion: "v1", kind: list, metadata: {}, items: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  // The client refuses plain HTTP unless told to skip TLS verification (there is none to verify).
  const kubeconfig = [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{name: stand-in, cluster: {server: 'http://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]`,
    "users: [{name: stand-in, user: {token: unused}}]",
    "contexts: [{name: stand-in, context: {cluster: stand-in, user: stand-in}}]",
    "current-context: stand-in",
    "",
  ].join("\n");
  return { kubeconfig, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
