// The injector's refusals (issue 14): log paths inside credential volumes, emptyDirs over system
// directories at any depth, more sidecars than the maximum, and excluded namespaces. Each is a
// warning naming the entry and the reason; the pod is still admitted with what remains valid.
import assert from "node:assert/strict";
import { test } from "node:test";
import { admit } from "../../webhook/admit.ts";
import type { AdmissionReviewResponse } from "../../webhook/review.ts";
import { inject } from "../../webhook/inject.ts";
import type { InjectOptions } from "../../webhook/options.ts";
import { DEFAULT_INJECT_OPTIONS } from "./default-options.ts";
import type { Pod, Volume } from "../../webhook/pod-types.ts";
import { SYSTEM_TREES } from "../../webhook/volumes.ts";
import { packageVersion } from "../../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();

const options = (o: Partial<InjectOptions> = {}): InjectOptions => ({ ...DEFAULT_INJECT_OPTIONS, ...o });

function podWith(files: string, volume?: Volume, mountPath?: string, namespace?: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", ...(namespace !== undefined && { namespace }), annotations: { "tailcar.io/files": files } },
    spec: {
      containers: [{
        name: "app",
        image: "busybox",
        volumeMounts: [{ name: "logs", mountPath: "/var/log/app" }, ...(volume ? [{ name: volume.name, mountPath: mountPath!, readOnly: true }] : [])],
      }],
      volumes: [{ name: "logs", emptyDir: {} }, ...(volume ? [volume] : [])],
    },
  };
}

const sidecarFiles = (pod: Pod): string[] =>
  (pod.spec!.initContainers ?? []).map((c) => c.env!.find((e) => e.name === "TAILCAR_FILES")!.value!);

const credentialVolumes: [string, Volume, string, string][] = [
  ["secret", { name: "db-creds", secret: { secretName: "db" } }, "/etc/db", "/etc/db/password"],
  ["configMap", { name: "settings", configMap: { name: "app" } }, "/srv/config", "/srv/config/app.log"],
  ["projected", { name: "kube-api-access-x7k2p", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } }, "/var/run/secrets/kubernetes.io/serviceaccount", "/var/run/secrets/kubernetes.io/serviceaccount/token"],
  ["downwardAPI", { name: "podinfo", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } }, "/podinfo", "/podinfo/labels"],
];
for (const [kind, volume, mountPath, file] of credentialVolumes) {
  test(`a file inside a ${kind} volume is refused with a warning naming the volume; the other entry is still injected`, () => {
    const result = inject(podWith(`${file}, /var/log/app/ok.log`, volume, mountPath), DEFAULT_INJECT_OPTIONS, { version: VERSION });
    assert.deepEqual(result.injected, ["ok-log"]);
    assert.deepEqual(sidecarFiles(result.pod), ["/var/log/app/ok.log"]);
    assert.deepEqual(result.warnings, [
      `invalid value ${JSON.stringify(file)} for annotation "tailcar.io/files": in the ${kind} volume ${JSON.stringify(volume.name)} (at ${mountPath}), which the sidecar would print to its logs; entry ignored`,
    ]);
    // The volume is mounted in no sidecar.
    for (const c of result.pod.spec!.initContainers!) assert.ok(!c.volumeMounts!.some((m) => m.name === volume.name), c.name);
  });
}

test("a credential volume mounted through a subPath is refused too", () => {
  const pod = podWith("/etc/app/key.pem", { name: "tls", secret: { secretName: "tls" } }, "/etc/app/key.pem");
  pod.spec!.containers[0]!.volumeMounts![1]!.subPath = "tls.key";
  const result = inject(pod, DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.equal(result.skipped, "no-valid-files");
  assert.match(result.warnings[0]!, /in the secret volume "tls"/);
});

test("the service account token's directory is refused when its volume is not in the pod (automount off, or offline)", () => {
  const result = inject(podWith("/var/run/secrets/kubernetes.io/serviceaccount/token, /var/log/app/ok.log"), DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.deepEqual(result.injected, ["ok-log"]);
  assert.deepEqual(result.warnings, [
    'invalid value "/var/run/secrets/kubernetes.io/serviceaccount/token" for annotation "tailcar.io/files": no volume is mounted over it and an emptyDir would hide the service account token\'s directory /var/run/secrets/kubernetes.io/serviceaccount; entry ignored',
  ]);
});

const refusedDirs: [string, string][] = [
  ["/proc/self/fd/app.log", "part of the system directory /proc"],
  ["/etc/ssl/app.log", "part of the system directory /etc"],
  ["/usr/local/bin/app.log", "part of the system directory /usr"],
  ["/var/run/app.log", "the system directory /var/run"],
  ["/var/lib/kubelet/app.log", "part of the system directory /var/lib"],
  ["/home/app.log", "the system directory /home"],
  ["/home/app/logs/app.log", "part of the system directory /home"],
  ["/var/app.log", "the system directory /var"],
  ["/run/app/app.log", "part of the system directory /run"],
  ["/root/app.log", "the system directory /root"],
];
for (const [file, hidden] of refusedDirs) {
  test(`no emptyDir is added for ${file}: it would hide ${hidden}`, () => {
    const result = inject(podWith(`${file}, /var/log/app/ok.log`), DEFAULT_INJECT_OPTIONS, { version: VERSION });
    assert.deepEqual(result.injected, ["ok-log"]);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, new RegExp(`^invalid value "${file}" for annotation "tailcar.io/files": no volume is mounted over it and an emptyDir .*would hide ${hidden}; entry ignored$`));
    assert.equal(result.pod.spec!.volumes!.length, 2, "an emptyDir was added");
  });
}

test("an emptyDir below a non-system directory is added, with the shadowing warning kept", () => {
  for (const file of ["/var/log/nginx/access.log", "/opt/app/logs/app.log", "/data/app.log", "/tmp/app.log", "/variable/app.log", "/etcetera/app.log"]) {
    const result = inject(podWith(file), DEFAULT_INJECT_OPTIONS, { version: VERSION });
    assert.equal(result.injected.length, 1, file);
    assert.match(result.warnings[0]!, /no volume mounted over .*; added emptyDir "tailcar-logs" at .*, hiding the image's/, file);
  }
});

test("a file in a system directory is fine when a volume is already mounted there (nothing is hidden)", () => {
  const pod = podWith("/var/lib/app/app.log", { name: "data", persistentVolumeClaim: { claimName: "data" } }, "/var/lib/app");
  const result = inject(pod, DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.deepEqual(result.injected, ["app-log"]);
  assert.deepEqual(result.warnings, []);
});

test("every system tree is absolute, has no trailing slash and is listed once", () => {
  assert.equal(new Set(SYSTEM_TREES).size, SYSTEM_TREES.length);
  for (const dir of SYSTEM_TREES) assert.match(dir, /^\/[a-z0-9]+(\/[a-z0-9]+)*$/);
});

const manyFiles = (n: number): string => Array.from({ length: n }, (_, i) => `/var/log/app/f${i}.log`).join(",");

test("a pod gets at most maxSidecarsPerPod sidecars; one warning says how many entries were left out and from which", () => {
  const result = inject(podWith(manyFiles(5)), options({ maxSidecarsPerPod: 2 }), { version: VERSION });
  assert.deepEqual(result.injected, ["f0-log", "f1-log"]);
  assert.deepEqual(result.warnings, [
    'annotation "tailcar.io/files": at most 2 sidecars a pod (the webhook\'s --max-sidecars-per-pod); the last 3 entries are ignored, from "/var/log/app/f2.log" on',
  ]);
});

test("refused entries do not count toward the maximum", () => {
  const result = inject(podWith(`/etc/ssl/x.log, ${manyFiles(3)}`), options({ maxSidecarsPerPod: 2 }), { version: VERSION });
  assert.deepEqual(result.injected, ["f0-log", "f1-log"]);
  assert.match(result.warnings[0]!, /"\/etc\/ssl\/x.log"/);
  assert.match(result.warnings[1]!, /the last 1 entry is ignored, from "\/var\/log\/app\/f2.log" on/);
});

test("the default maximum is 20: 1,000 entries give 20 sidecars, not 1,000, and a response of tens of KB", () => {
  assert.equal(DEFAULT_INJECT_OPTIONS.maxSidecarsPerPod, 20);
  const input = podWith(manyFiles(1000));
  const result = inject(input, DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.equal(result.injected.length, 20);
  // One warning for the entries past the 200 read at all, one for those read past the maximum.
  assert.equal(result.warnings.length, 2, result.warnings.join("\n"));
  assert.match(result.warnings.join("\n"), /800 more entries ignored/);
  assert.match(result.warnings.join("\n"), /at most 20 sidecars a pod/);
  const review = { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u", kind: { group: "", version: "v1", kind: "Pod" }, resource: { group: "", version: "v1", resource: "pods" }, operation: "CREATE", namespace: "default", object: input } };
  const outcome = admit(review, DEFAULT_INJECT_OPTIONS, VERSION);
  assert.ok(JSON.stringify(outcome.body).length < 100_000, `${JSON.stringify(outcome.body).length} bytes`);
});

const review = (namespace: string | undefined, object: Pod) => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: { uid: "u", kind: { group: "", version: "v1", kind: "Pod" }, resource: { group: "", version: "v1", resource: "pods" }, operation: "CREATE", ...(namespace && { namespace }), object },
});

for (const [where, requestNs, podNs] of [
  ["the request's namespace kube-system", "kube-system", undefined],
  ["the request's namespace, the webhook's own", "tailcar-system", undefined],
  ["the pod's metadata.namespace kube-system", undefined, "kube-system"],
] as const) {
  test(`a pod in ${where} is admitted without a patch, skipped as excluded-namespace, with a warning`, () => {
    const outcome = admit(review(requestNs, podWith("/var/log/app/a.log", undefined, undefined, podNs)), DEFAULT_INJECT_OPTIONS, VERSION);
    assert.equal(outcome.status, 200);
    assert.equal(outcome.result, "skipped");
    assert.equal(outcome.skipped, "excluded-namespace");
    const response = (outcome.body as AdmissionReviewResponse).response;
    assert.equal(response.allowed, true);
    assert.equal(response.patch, undefined);
    assert.match(outcome.warnings[0]!, /^annotation "tailcar.io\/files" ignored: pods in namespace "(kube-system|tailcar-system)" are never injected/);
  });
}

test("the excluded namespaces come from the options: the webhook's own namespace is whatever it runs in", () => {
  const o = options({ excludedNamespaces: ["kube-system", "logging"] });
  assert.equal(inject(podWith("/var/log/app/a.log"), o, { version: VERSION, namespace: "logging" }).skipped, "excluded-namespace");
  assert.deepEqual(inject(podWith("/var/log/app/a.log"), o, { version: VERSION, namespace: "tailcar-system" }).injected, ["a-log"]);
  // Without the files annotation there is nothing to refuse, and no warning.
  const plain = podWith("/x");
  delete plain.metadata!.annotations;
  assert.deepEqual(inject(plain, o, { version: VERSION, namespace: "logging" }), { pod: plain, injected: [], warnings: [], skipped: "no-files-annotation" });
});
