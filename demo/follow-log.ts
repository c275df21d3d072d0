// `kubectl logs -f POD -c CONTAINER`: GET pods/POD/log?container=C&follow=true on the API server,
// which proxies it to the kubelet. Our own request rather than client-node's Log, whose response
// stream cannot be reached: aborting it (Ctrl-C) raised an unhandled 'error' and crashed the demo
// before its teardown.
import { request } from "node:https";
import type { ControlPlane } from "../localcluster/harness/control-plane.ts";

export interface FollowedLog {
  /** Rejects when the stream ends or fails on its own (the container or the API server stopped). */
  readonly ended: Promise<never>;
  /** Ends the stream; `ended` then stays pending. */
  close(): void;
}

export function followPodLog(cp: Pick<ControlPlane, "apiURL" | "caPEM" | "adminCert">, namespace: string, pod: string, container: string, onText: (text: string) => void): FollowedLog {
  const url = `${cp.apiURL}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?container=${encodeURIComponent(container)}&follow=true`;
  let closed = false;
  let fail: (e: Error) => void = () => {};
  const ended = new Promise<never>((_, reject) => (fail = (e) => (closed ? undefined : reject(e))));
  const req = request(url, { ca: cp.caPEM, cert: cp.adminCert.cert, key: cp.adminCert.key }, (res) => {
    res.setEncoding("utf8");
    if (res.statusCode !== 200) {
      let body = "";
      res.on("data", (d: string) => (body += d));
      res.on("end", () => fail(new Error(`kubectl logs -f ${pod} -c ${container}: HTTP ${res.statusCode}: ${body.slice(0, 500)}`)));
      return;
    }
    res.on("data", onText);
    res.on("end", () => fail(new Error(`the log stream of ${container} ended (the container stopped?)`)));
    res.on("error", (e) => fail(e));
  });
  req.on("error", (e) => fail(e));
  req.end();
  return {
    ended,
    close() {
      closed = true;
      req.destroy();
    },
  };
}
