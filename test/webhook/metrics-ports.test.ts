// The sidecars' metrics ports: from the base up, none a container of the pod declares (containerPort
// or hostPort, any kind of container), none whose name is taken, each name a valid port name
// (an IANA service name: at most 15 characters) that the PodMonitor's pattern keeps.
import assert from "node:assert/strict";
import { test } from "node:test";
import { claimMetricsPort, METRICS_PORT_BASE, METRICS_PORT_NAME_REGEX, metricsPortName, takenPorts } from "../../webhook/metrics-ports.ts";
import type { PodSpec } from "../../webhook/pod-types.ts";

const B = METRICS_PORT_BASE;

function claim(spec: PodSpec, count: number): (number | undefined)[] {
  const taken = takenPorts(spec);
  return Array.from({ length: count }, () => claimMetricsPort(taken)?.port);
}

const app = (ports: unknown): PodSpec => ({ containers: [{ name: "app", ports } as PodSpec["containers"][number]] });

const CASES: [what: string, spec: PodSpec, count: number, expected: (number | undefined)[]][] = [
  ["a pod that declares no port", { containers: [{ name: "app" }] }, 3, [B, B + 1, B + 2]],
  ["the base declared as a containerPort", app([{ containerPort: B }]), 2, [B + 1, B + 2]],
  ["a hostPort in the way", app([{ containerPort: 8080, hostPort: B + 1 }]), 3, [B, B + 2, B + 3]],
  ["a port named as ours would be, on another number", app([{ name: metricsPortName(B), containerPort: 9000 }]), 2, [B + 1, B + 2]],
  ["ports of init and ephemeral containers", { containers: [{ name: "app" }], initContainers: [{ name: "init", ports: [{ containerPort: B }] } as PodSpec["containers"][number]], ephemeralContainers: [{ name: "debug", ports: [{ containerPort: B + 1 }] }] }, 1, [B + 2]],
  ["a run of declared ports", app(Array.from({ length: 50 }, (_, i) => ({ containerPort: B + i }))), 2, [B + 50, B + 51]],
  ["ports below the base change nothing", app([{ containerPort: 80 }, { containerPort: 9464 }]), 1, [B]],
  ["odd port entries are skipped, not trusted", app([null, "x", { containerPort: String(B) }, { containerPort: B + 0.5 }, { name: 7 }]), 1, [B]],
  ["ports that are not a list", app({ containerPort: B }), 1, [B]],
  ["every port from the base up declared: none left", app(Array.from({ length: 65536 - B }, (_, i) => ({ containerPort: B + i }))), 1, [undefined]],
  ["one port left at the top", app(Array.from({ length: 65535 - B }, (_, i) => ({ containerPort: B + i }))), 2, [65535, undefined]],
];

for (const [what, spec, count, expected] of CASES) {
  test(`metrics ports, ${what}: ${expected.join(", ")}`, () => {
    assert.deepEqual(claim(spec, count), expected);
  });
}

test("every metrics port name is a valid container port name that the PodMonitor's pattern keeps", () => {
  const pattern = new RegExp(`^(?:${METRICS_PORT_NAME_REGEX})$`);
  for (const port of [B, B + 99, 65535]) {
    const name = metricsPortName(port);
    assert.ok(name.length <= 15, `${name}: ${name.length} characters`);
    assert.match(name, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    assert.match(name, /[a-z]/);
    assert.doesNotMatch(name, /--/);
    assert.match(name, pattern);
  }
  for (const other of ["http", "metrics", "tcmetrics", "tcmetrics-", "xtcmetrics-1", "tcmetrics-1x"]) assert.doesNotMatch(other, pattern);
});

test("claimed ports are recorded: claiming again never gives one twice", () => {
  const taken = takenPorts(app([{ containerPort: B + 1 }]));
  const ports = Array.from({ length: 100 }, () => claimMetricsPort(taken)!.port);
  assert.equal(new Set(ports).size, 100);
  assert.ok(!ports.includes(B + 1));
});
