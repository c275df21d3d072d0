// A multi-document YAML stream of small annotated pods (about 164 bytes each, so 305k pods are
// about 50 MB): the input of the `tailcar inject` streaming benchmark and of its memory test.

/** Pod number `i` as one YAML document, without the `---` separator. */
export function podDocument(i: number): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: pod-${i}, annotations: {tailcar.io/files: /var/log/app.log}}
spec: {containers: [{name: app, image: "busybox:1.36"}]}
`;
}

/** Pods `from` (inclusive) to `to` (exclusive) as one string, each document after a `---` line. */
export function podStream(from: number, to: number): string {
  const parts: string[] = [];
  for (let i = from; i < to; i++) parts.push(`---\n${podDocument(i)}`);
  return parts.join("");
}
