// What the webhook added to a pod, as a short table for the terminal.
import type { V1Container, V1Pod } from "@kubernetes/client-node";

export interface InjectedRow {
  readonly name: string;
  /** native: an init container with restartPolicy Always; classic: an ordinary container. */
  readonly kind: "native" | "classic";
  readonly file: string;
  readonly image: string;
}

const fileOf = (c: V1Container): string => c.env?.find((e) => e.name === "TAILCAR_FILES")?.value ?? "?";

/** The sidecars named in the pod's tailcar.io/status annotation, in order. */
export function injectedRows(pod: V1Pod): InjectedRow[] {
  const status = pod.metadata?.annotations?.["tailcar.io/status"];
  if (status === undefined) return [];
  let names: string[];
  try {
    names = (JSON.parse(status) as { containers?: string[] }).containers ?? [];
  } catch {
    return [];
  }
  const rows: InjectedRow[] = [];
  for (const name of names) {
    const init = pod.spec?.initContainers?.find((c) => c.name === name);
    const container = init ?? pod.spec?.containers.find((c) => c.name === name);
    if (!container) continue;
    rows.push({ name, kind: init?.restartPolicy === "Always" ? "native" : "classic", file: fileOf(container), image: container.image ?? "" });
  }
  return rows;
}

export function formatTable(rows: readonly InjectedRow[]): string {
  const header = { name: "CONTAINER", kind: "KIND", file: "FILE", image: "IMAGE" };
  const all = [header, ...rows];
  const width = (key: keyof InjectedRow) => Math.max(...all.map((r) => r[key].length));
  const [w1, w2, w3] = [width("name"), width("kind"), width("file")];
  return all.map((r) => `${r.name.padEnd(w1)}  ${r.kind.padEnd(w2)}  ${r.file.padEnd(w3)}  ${r.image}`.trimEnd()).join("\n") + "\n";
}
