// Which runner the demo uses: the real node (containerd, kubelet and kube-scheduler in a network
// namespace, see localcluster/) when this machine can run it, else the local runner (the pod's
// containers as plain processes). Pure: the reason comes from localcluster/prerequisites.ts.

/** Set to "local" to use the local runner even where the real node can run. */
export const RUNNER_ENV = "TAILCAR_DEMO_RUNNER";

export type RunnerChoice = { readonly kind: "node"; readonly line: string } | { readonly kind: "local"; readonly line: string };

/** `unavailable`: why the real node cannot run here (realNodeUnavailable()), or undefined when it can. */
export function chooseRunner(env: Readonly<Record<string, string | undefined>>, unavailable: string | undefined): RunnerChoice {
  if (env[RUNNER_ENV] === "local") {
    return { kind: "local", line: `local runner: ${RUNNER_ENV}=local asked for it; unset it to use the real node (containerd, kubelet, kube-scheduler)` };
  }
  if (unavailable === undefined) {
    return { kind: "node", line: `real node: containerd, kubelet and kube-scheduler run the pod in a network namespace (${RUNNER_ENV}=local for the local runner)` };
  }
  const how = /needs root/.test(unavailable) ? "; run npm start as root for it" : "";
  return { kind: "local", line: `local runner (no kubelet): ${unavailable}${how}` };
}
