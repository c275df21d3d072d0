// When the demo should stop: Ctrl-C, SIGTERM, or --duration once the logs stream.

export interface StopSignal {
  /** Resolves on SIGINT/SIGTERM, or when the timer set by stopAfter() fires. */
  readonly stopped: Promise<string>;
  /** Throws Interrupted once a stop was asked for: called between set-up steps. */
  check(): void;
  /** Why a stop was asked for, if it was. */
  reason(): string | undefined;
  stopAfter(seconds: number): void;
  dispose(): void;
}

/**
 * Ctrl-C during set-up lets the step in flight end (the harness's own signal hook kills its child
 * processes at once, so it ends quickly) and then stops before the next one: abandoning a step
 * midway would leak what it was about to hand back, such as a running control plane.
 */
export function stopSignal(): StopSignal {
  let why: string | undefined;
  let resolve: (why: string) => void = () => {};
  const stopped = new Promise<string>((r) => (resolve = r));
  const stop = (reason: string) => {
    why ??= reason;
    resolve(reason);
  };
  const onSignal = (signal: NodeJS.Signals) => stop(signal);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let timer: NodeJS.Timeout | undefined;
  return {
    stopped,
    check() {
      if (why !== undefined) throw new Interrupted(why);
    },
    reason: () => why,
    stopAfter(seconds) {
      timer = setTimeout(() => stop(`--duration ${seconds}`), seconds * 1000);
    },
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      clearTimeout(timer);
    },
  };
}

export class Interrupted extends Error {
  override name = "Interrupted";
}
