// Certificate and key from files (e.g. a cert-manager Secret mounted as a volume), reloaded without a
// restart when they change. Kubernetes swaps a mounted Secret through a symlinked "..data"
// directory, which fs.watch on the file itself can miss: so watch the directories as a hint and
// poll the contents as the truth.
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { createSecureContext } from "node:tls";

export interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

export async function readTlsPair(certFile: string, keyFile: string): Promise<TlsPair> {
  const [cert, key] = await Promise.all([
    readFile(certFile, "utf8").catch((e: Error) => Promise.reject(new Error(`--tls-cert ${certFile}: ${e.message}`))),
    readFile(keyFile, "utf8").catch((e: Error) => Promise.reject(new Error(`--tls-key ${keyFile}: ${e.message}`))),
  ]);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new Error(`--tls-cert ${certFile} / --tls-key ${keyFile}: not a usable certificate and key: ${(e as Error).message}`);
  }
  return { cert, key };
}

export interface TlsWatcher {
  close(): void;
}

export interface WatchOptions {
  readonly pollIntervalMs?: number;
  /** Called with the new pair once both files parse and match. */
  readonly onChange: (pair: TlsPair) => void;
  /** Called when the files changed but do not (yet) form a usable pair; the old pair stays in use. */
  readonly onError: (error: Error) => void;
}

export function watchTlsFiles(certFile: string, keyFile: string, initial: TlsPair, options: WatchOptions): TlsWatcher {
  let current = initial;
  let lastError: string | undefined;
  let checking = false;
  let again = false;
  let closed = false;
  const check = async (): Promise<void> => {
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      do {
        again = false;
        try {
          const pair = await readTlsPair(certFile, keyFile);
          lastError = undefined;
          if (!closed && (pair.cert !== current.cert || pair.key !== current.key)) {
            current = pair;
            options.onChange(pair);
          }
        } catch (e) {
          // A writer replacing cert and key one after the other leaves a mismatched pair for a
          // moment: report each distinct problem once, keep serving the old pair, retry later.
          const message = (e as Error).message;
          if (!closed && message !== lastError) options.onError(e as Error);
          lastError = message;
        }
      } while (again && !closed);
    } finally {
      checking = false;
    }
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(certFile), dirname(keyFile)])) {
    try {
      const w = watch(dir, { persistent: false }, () => void check());
      w.on("error", () => w.close());
      watchers.push(w);
    } catch {
      // no watch support here: the poll alone keeps us current
    }
  }
  const timer = setInterval(() => void check(), options.pollIntervalMs ?? 10_000);
  timer.unref();
  return {
    close() {
      closed = true;
      clearInterval(timer);
      for (const w of watchers) w.close();
    },
  };
}
