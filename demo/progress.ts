// Progress on stderr: numbered steps with the time since start, so a newcomer always sees what the
// demo is doing and how long it has taken (the first control-plane build takes minutes).

export interface Progress {
  /** "[2/6] starting etcd and kube-apiserver… (3.1 s)" */
  step(title: string): void;
  /** An indented detail line under the current step. */
  info(line: string): void;
  /** The failing step, what went wrong, and a hint. */
  fail(message: string): void;
  elapsedSeconds(): number;
}

export function formatElapsed(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function createProgress(total: number, write: (text: string) => void = (t) => process.stderr.write(t), now = () => Date.now()): Progress {
  const started = now();
  let current = 0;
  let title = "";
  const elapsed = () => formatElapsed(now() - started);
  return {
    step(t) {
      current++;
      title = t;
      write(`[${current}/${total}] ${t}… (${elapsed()})\n`);
    },
    info(line) {
      write(`      ${line}\n`);
    },
    fail(message) {
      write(`\n[${current}/${total}] ${title} failed after ${elapsed()}:\n${message}\n`);
    },
    elapsedSeconds: () => (now() - started) / 1000,
  };
}
