// The Kubernetes docs' streaming-sidecar example ("Using a sidecar container with the logging agent",
// test/golden/application.in.yaml) with its hand-written busybox sidecars replaced by the
// tailcar.io/files annotation. Only the tempo differs: a line every half second, so the demo moves.
import type { V1Pod } from "@kubernetes/client-node";

export const DEMO_NAMESPACE = "demo";

export function applicationPod(): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "application", annotations: { "tailcar.io/files": "/var/log/error.log,/var/log/access.log" } },
    spec: {
      containers: [
        {
          name: "app",
          image: "busybox:1.28",
          args: [
            "/bin/sh",
            "-c",
            'i=0; while true; do echo "$i: $(date) error" >> /var/log/error.log; echo "$(date) INFO $i GET /" >> /var/log/access.log; i=$((i+1)); sleep 0.5; done',
          ],
          volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
        },
      ],
      volumes: [{ name: "varlog", emptyDir: {} }],
    },
  };
}
