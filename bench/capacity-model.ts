// The capacity model of docs/capacity.md (issue 17): measured figures and stated assumptions in,
// the fleet's rows out. Pure, so that a table test pins every sum; bench/capacity.ts reads the
// figures from bench/results/ and writes the doc.

/** One measured rate of one tailer, per sidecar container (one file each). */
export interface RatePoint {
  readonly linesPerS: number;
  readonly cpuMsPerS: number;
  /** The container's cgroup working set (as the kubelet counts it), MiB. */
  readonly workingSetMiB: number;
}

export interface SidecarFigures {
  readonly name: string;
  /** Measured on the real node, by rate; a rate between two of them is interpolated linearly. */
  readonly points: readonly RatePoint[];
  /** The process's anonymous memory after a minute idle: what each container pays alone, MiB. */
  readonly anonymousMiB: number;
  /** Its RSS then: anonymous plus the image's file pages, shared by the containers of one image, MiB. */
  readonly rssMiB: number;
}

export interface WebhookFigures {
  /** Server CPU a /mutate admission costs, µs (median over rounds). */
  readonly cpuUsPerAdmission: number;
  /** One replica's p99 (ms) at each open-loop rate measured (admissions/s). */
  readonly openLoops: readonly { readonly rate: number; readonly p99Ms: number; /** The no-op handler's in the same run. */ readonly noopP99Ms?: number }[];
}

export interface Figures {
  readonly sidecars: readonly SidecarFigures[];
  /** A node-level agent per node, measured the same way; undefined when not measured. */
  readonly nodeAgent?: SidecarFigures;
  readonly webhook: WebhookFigures;
  /** Mean bytes of a log line, newline included. */
  readonly lineBytes: number;
}

export interface Assumptions {
  readonly pods: number;
  readonly filesPerPod: number;
  readonly podsPerNode: number;
  readonly ratesPerFile: readonly number[];
  readonly podCreationsPerS: number;
  readonly admissionP99BoundMs: number;
  /** What the container runtime adds to each line it stores (CRI log format: time, stream, tag). */
  readonly runtimePrefixBytes: number;
}

export type Source = "measured" | "interpolated";

export interface FleetRow {
  readonly linesPerS: number;
  readonly tailer: string;
  /** Undefined when the rate lies outside the measured points: nothing is extrapolated. */
  readonly cost?: {
    readonly source: Source;
    readonly cpuCores: number;
    readonly workingSetGiB: number;
  };
}

export interface MemoryRow {
  readonly tailer: string;
  readonly containers: number;
  readonly anonymousGiB: number;
  /** RSS summed over every container's process, as if nothing were shared. */
  readonly rssSummedGiB: number;
  /** What the containers of one image share on a node (RSS minus anonymous), once a node, summed over nodes. */
  readonly sharedGiB: number;
  /** Anonymous for each container plus the shared pages once a node: what the nodes hold. */
  readonly residentGiB: number;
}

export interface CollectorRow {
  readonly linesPerS: number;
  readonly linesPerSPerNode: number;
  readonly mbPerSPerNode: number;
  readonly linesPerSCluster: number;
  readonly mbPerSCluster: number;
}

export interface WebhookRow {
  readonly creationsPerS: number;
  readonly cpuCores: number;
  /** Replicas the load needs, or undefined when the measurement does not establish the bound. */
  readonly replicas?: number;
  readonly why: string;
}

export interface CapacityModel {
  readonly nodes: number;
  readonly containers: number;
  readonly fleet: readonly FleetRow[];
  readonly memory: readonly MemoryRow[];
  readonly collector: readonly CollectorRow[];
  readonly webhook: WebhookRow;
}

const GIB = 1024;

/**
 * The point at `rate`: a measured one, or the straight line between the two measured points around
 * it; undefined outside the measured range.
 */
export function interpolate(points: readonly RatePoint[], rate: number): (RatePoint & { source: Source }) | undefined {
  const sorted = [...points].sort((a, b) => a.linesPerS - b.linesPerS);
  const exact = sorted.find((p) => p.linesPerS === rate);
  if (exact) return { ...exact, source: "measured" };
  for (let i = 1; i < sorted.length; i++) {
    const lo = sorted[i - 1]!;
    const hi = sorted[i]!;
    if (rate > lo.linesPerS && rate < hi.linesPerS) {
      const t = (rate - lo.linesPerS) / (hi.linesPerS - lo.linesPerS);
      return {
        linesPerS: rate,
        cpuMsPerS: lo.cpuMsPerS + t * (hi.cpuMsPerS - lo.cpuMsPerS),
        workingSetMiB: lo.workingSetMiB + t * (hi.workingSetMiB - lo.workingSetMiB),
        source: "interpolated",
      };
    }
  }
  return undefined;
}

function check(a: Assumptions, f: Figures): void {
  const positive: [string, number][] = [["pods", a.pods], ["filesPerPod", a.filesPerPod], ["podsPerNode", a.podsPerNode], ["podCreationsPerS", a.podCreationsPerS], ["admissionP99BoundMs", a.admissionP99BoundMs], ["lineBytes", f.lineBytes], ["webhook.cpuUsPerAdmission", f.webhook.cpuUsPerAdmission], ...f.webhook.openLoops.map((o): [string, number] => ["webhook open-loop rate", o.rate])];
  for (const [name, v] of positive) if (!(Number.isFinite(v) && v > 0)) throw new Error(`capacity model: ${name} must be a positive number, not ${v}`);
  for (const s of [...f.sidecars, ...(f.nodeAgent ? [f.nodeAgent] : [])]) {
    if (s.points.length === 0) throw new Error(`capacity model: ${s.name} has no measured rate`);
    if (s.rssMiB < s.anonymousMiB) throw new Error(`capacity model: ${s.name}'s RSS ${s.rssMiB} MiB is below its anonymous ${s.anonymousMiB} MiB`);
  }
}

export function capacityModel(f: Figures, a: Assumptions): CapacityModel {
  check(a, f);
  const nodes = Math.ceil(a.pods / a.podsPerNode);
  const containers = a.pods * a.filesPerPod;
  const fleet: FleetRow[] = [];
  for (const rate of a.ratesPerFile) {
    const per = (s: SidecarFigures, count: number): FleetRow => {
      const p = interpolate(s.points, rate);
      return p === undefined
        ? { linesPerS: rate, tailer: s.name }
        : { linesPerS: rate, tailer: s.name, cost: { source: p.source, cpuCores: (count * p.cpuMsPerS) / 1000, workingSetGiB: (count * p.workingSetMiB) / GIB } };
    };
    for (const s of f.sidecars) fleet.push(per(s, containers));
    // A node agent reads every file on its node: its measured point is per node at the node's
    // lines/s, so it is looked up at that rate, once a node.
    if (f.nodeAgent) {
      const p = interpolate(f.nodeAgent.points, rate * a.filesPerPod * a.podsPerNode);
      fleet.push(p === undefined
        ? { linesPerS: rate, tailer: f.nodeAgent.name }
        : { linesPerS: rate, tailer: f.nodeAgent.name, cost: { source: p.source, cpuCores: (nodes * p.cpuMsPerS) / 1000, workingSetGiB: (nodes * p.workingSetMiB) / GIB } });
    }
  }
  const memory = f.sidecars.map((s): MemoryRow => {
    const shared = s.rssMiB - s.anonymousMiB;
    return {
      tailer: s.name,
      containers,
      anonymousGiB: (containers * s.anonymousMiB) / GIB,
      rssSummedGiB: (containers * s.rssMiB) / GIB,
      sharedGiB: (nodes * shared) / GIB,
      residentGiB: (containers * s.anonymousMiB + nodes * shared) / GIB,
    };
  });
  const collector = a.ratesPerFile.map((rate): CollectorRow => {
    const perNode = rate * a.filesPerPod * a.podsPerNode;
    const bytesPerLine = f.lineBytes + a.runtimePrefixBytes;
    return {
      linesPerS: rate,
      linesPerSPerNode: perNode,
      mbPerSPerNode: (perNode * bytesPerLine) / 1e6,
      linesPerSCluster: rate * containers,
      mbPerSCluster: (rate * containers * bytesPerLine) / 1e6,
    };
  });
  return { nodes, containers, fleet, memory, collector, webhook: webhookRow(f.webhook, a) };
}

/**
 * One replica is one Node process. A measurement establishes that a replica answers its rate with
 * the p99 it measured; replicas are sized so that none takes more than the highest measured rate
 * whose p99 was within the bound, and none are claimed when no measured rate was. CPU is the
 * measured cost per admission.
 */
export function webhookRow(w: WebhookFigures, a: Assumptions): WebhookRow {
  const cpuCores = (a.podCreationsPerS * w.cpuUsPerAdmission) / 1e6;
  const measured = w.openLoops.map((o) => `${o.p99Ms.toFixed(2)} ms at ${o.rate}/s${o.noopP99Ms === undefined ? "" : `, the no-op handler's ${o.noopP99Ms.toFixed(2)} ms`}`).join("; ");
  const within = w.openLoops.filter((o) => o.p99Ms < a.admissionP99BoundMs).sort((x, y) => y.rate - x.rate)[0];
  if (within === undefined) {
    return { creationsPerS: a.podCreationsPerS, cpuCores, why: `no measured rate had a p99 under ${a.admissionP99BoundMs} ms (${measured || "none measured"}), so no replica count follows from the measurements` };
  }
  const replicas = Math.ceil(a.podCreationsPerS / within.rate);
  const each = a.podCreationsPerS / replicas;
  return { creationsPerS: a.podCreationsPerS, cpuCores, replicas, why: `each at most ${each.toFixed(0)} admissions/s, within the ${within.rate}/s at which one replica's p99 was ${within.p99Ms.toFixed(2)} ms (measured: ${measured}); each uses ${((each * w.cpuUsPerAdmission) / 1e4).toFixed(1)} % of a core` };
}
