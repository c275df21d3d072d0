// Pathological Pod CREATE reviews of about `size` bytes each, the shapes any pod (or any client of
// /mutate) can send: huge annotation keys and values, thousands of entries, deep nesting, many
// containers. Used by bench/webhook-worst-case.ts and by the test that such reviews leave normal
// pods' answers fast (test/webhook/bounds.test.ts).

function fill(size: number, item: (i: number) => string, separator = ","): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const part = item(i);
    parts.push(part);
    length += part.length + separator.length;
  }
  return parts.join(separator);
}

const pad = (i: number, width = 6): string => String(i).padStart(width, "0");

function podReview(uid: string, pod: { metadata?: Record<string, unknown>; spec?: Record<string, unknown> }, extra: Record<string, unknown> = {}): string {
  const spec = pod.spec ?? {
    securityContext: { runAsUser: 1000, fsGroup: 2000 },
    containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "varlog", mountPath: "/var/log" }] }],
    volumes: [{ name: "varlog", emptyDir: {} }],
  };
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      operation: "CREATE",
      namespace: "bounds",
      object: { apiVersion: "v1", kind: "Pod", metadata: { name: "pathological", ...pod.metadata }, spec },
      ...extra,
    },
  });
}

const annotated = (annotations: Record<string, string>): { metadata: Record<string, unknown> } => ({ metadata: { annotations } });

/** Case name → review JSON text. */
export function pathologicalReviews(size: number): Record<string, string> {
  const keys = (length: number): Record<string, string> => {
    const out: Record<string, string> = { "tailcar.io/files": "/var/log/app.log" };
    const stem = "tailcar.io/fi1es-";
    for (let i = 0, used = 0; used < size; i++) {
      const key = `${stem}${pad(i)}`.padEnd(length, "x");
      out[key] = "";
      used += key.length + 6;
    }
    return out;
  };
  const containers = (() => {
    const list: Record<string, unknown>[] = [];
    const mounts = Array.from({ length: 100 }, (_, j) => ({ name: `v${j}`, mountPath: `/data/m${j}` }));
    const each = JSON.stringify({ name: "c000000", image: "busybox", volumeMounts: mounts }).length + 1;
    for (let i = 0; i < size / each; i++) list.push({ name: `c${pad(i)}`, image: "busybox", volumeMounts: mounts });
    return list;
  })();
  const deep = Math.floor(size / 6);
  return {
    "huge unknown key": podReview("huge-key", annotated({ "tailcar.io/files": "/var/log/app.log", [`tailcar.io/${"f".repeat(size)}`]: "" })),
    "unknown keys of 20 chars": podReview("keys-20", annotated(keys(20))),
    "unknown keys of 60 chars": podReview("keys-60", annotated(keys(60))),
    "unknown keys of 250 chars": podReview("keys-250", annotated(keys(250))),
    "unknown keys of 4000 chars": podReview("keys-4000", annotated(keys(4000))),
    "files: valid entries": podReview("files-valid", annotated({ "tailcar.io/files": fill(size, (i) => `/var/log/app/f${pad(i)}.log`) })),
    "files: one name for every entry": podReview("files-same-name", annotated({ "tailcar.io/files": fill(size, (i) => `/var/log/d${pad(i)}/app.log`) })),
    "files: invalid entries": podReview("files-invalid", annotated({ "tailcar.io/files": fill(size, (i) => `relative/f${pad(i)}.log`) })),
    "files: one huge entry": podReview("files-huge-entry", annotated({ "tailcar.io/files": `/var/log/${"a".repeat(size)}.log` })),
    "huge invalid value": podReview("huge-value", annotated({ "tailcar.io/files": "/var/log/app.log", "tailcar.io/mode": "x".repeat(size) })),
    "huge quantity": podReview("huge-quantity", annotated({ "tailcar.io/files": "/var/log/app.log", "tailcar.io/cpu-request": "1".repeat(size) })),
    "huge multiline expression": podReview("huge-regex", annotated({ "tailcar.io/files": "/var/log/app.log", "tailcar.io/format": "json", "tailcar.io/multiline": fill(size, (i) => `(a${i}|b)`, "|") })),
    "huge endpoint URL": podReview("huge-url", annotated({ "tailcar.io/files": "/var/log/app.log", "tailcar.io/mode": "forward", "tailcar.io/forward-sink": "loki", "tailcar.io/forward-endpoint": `http://loki/${"a".repeat(size)}` })),
    "other annotations and labels": podReview("other", { metadata: { annotations: { "tailcar.io/files": "/var/log/app.log", ...Object.fromEntries(Array.from({ length: Math.floor(size / 40) }, (_, i) => [`example.com/k${pad(i)}`, `v${i}`])) } } }),
    "deep nesting in the pod": podReview("deep", annotated({ "tailcar.io/files": "/var/log/app.log" })).replace('"spec":{', `"spec":{"deep":${'{"n":'.repeat(deep)}1${"}".repeat(deep)},`),
    "many containers, 64 files": podReview("containers", { ...annotated({ "tailcar.io/files": fill(64 * 20, (i) => `/var/log/a${pad(i)}/x.log`) }), spec: { containers } }),
    "huge uid and name": podReview("u".repeat(size / 2), { metadata: { name: "n".repeat(size / 2), annotations: { "tailcar.io/files": "/var/log/app.log" } } }),
  };
}
