// A kubeconfig with everything embedded, so it works from any directory and needs no other files.
import { stringify } from "yaml";
import type { KeyPairPEM } from "./certs.ts";

const b64 = (pem: string): string => Buffer.from(pem).toString("base64");

export function kubeconfigYAML(options: { server: string; caPEM: string; user: string; client: KeyPairPEM }): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "tailcar-e2e", cluster: { server: options.server, "certificate-authority-data": b64(options.caPEM) } }],
    users: [
      {
        name: options.user,
        user: { "client-certificate-data": b64(options.client.cert), "client-key-data": b64(options.client.key) },
      },
    ],
    contexts: [{ name: "tailcar-e2e", context: { cluster: "tailcar-e2e", user: options.user } }],
    "current-context": "tailcar-e2e",
  });
}
