// The backend's credentials and TLS material, read from files (a Secret or ConfigMap the injector
// mounts; docs/forwarding.md) and read again when they change, so a rotated password, token, CA or
// client certificate is used without a restart. Kubernetes updates a mounted Secret in place by
// swapping a symlink (..data) in its directory: a watch on the directory sees that at once, and a
// read at most every RECHECK_MS while requests are sent catches what a watch misses (NFS, a lost
// event). Nothing here ever puts a file's content into a message.
import { watch, type FSWatcher } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { headerNameProblem, headerValueProblem, type Header } from "../../settings/http-header.ts";
import type { TlsMaterial } from "./http-client.ts";

export interface CredentialPaths {
  /** A directory as a Secret is mounted: `username` and `password`, or `token`, and `header.NAME` files. */
  readonly authDir?: string;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface Material {
  /** Authorization and the Secret's header.NAME headers. */
  readonly headers: readonly Header[];
  readonly tls: TlsMaterial;
}

export type Loaded = { readonly ok: true; readonly material: Material } | { readonly ok: false; readonly problem: string };

/** A credential file longer than this is refused (a token is a few KB, a CA bundle ~200 KB). */
export const MAX_CREDENTIAL_FILE = 1024 * 1024;
export const RECHECK_MS = 1000;
export const HEADER_FILE_PREFIX = "header.";

/** A file's text without its trailing newlines: `kubectl create secret --from-file` keeps the file's last newline. */
const trimmed = (text: string): string => text.replace(/[\r\n]+$/, "");

/**
 * The headers the files of an auth directory make, or why they cannot be used (never quoting a
 * value). `files`: name → content, only the names this reads (username, password, token, header.*).
 */
export function authHeaders(files: ReadonlyMap<string, string>, dir: string): { headers: Header[] } | { problem: string } {
  const at = (name: string): string => JSON.stringify(join(dir, name));
  const user = files.get("username");
  const password = files.get("password");
  const token = files.get("token");
  const headers: Header[] = [];
  if ((user === undefined) !== (password === undefined)) {
    return { problem: `${at(user === undefined ? "password" : "username")} has no ${at(user === undefined ? "username" : "password")} beside it (basic auth takes both)` };
  }
  if (user !== undefined && token !== undefined) return { problem: `${JSON.stringify(dir)} holds both username/password and token: keep one` };
  if (user !== undefined && password !== undefined) {
    const u = trimmed(user);
    if (u === "" || u.includes(":") || /[\x00-\x1f\x7f]/.test(u)) return { problem: `${at("username")} is empty, holds a ":" or a control character (RFC 7617)` };
    if (/[\x00-\x1f\x7f]/.test(trimmed(password))) return { problem: `${at("password")} holds a control character` };
    headers.push(["Authorization", `Basic ${Buffer.from(`${u}:${trimmed(password)}`, "utf8").toString("base64")}`]);
  }
  if (token !== undefined) {
    const t = trimmed(token);
    const problem = t === "" ? "is empty" : headerValueProblem(t);
    if (problem !== undefined) return { problem: `${at("token")} ${problem}` };
    headers.push(["Authorization", `Bearer ${t}`]);
  }
  for (const [file, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (!file.startsWith(HEADER_FILE_PREFIX)) continue;
    const name = file.slice(HEADER_FILE_PREFIX.length);
    const value = trimmed(content);
    const problem = headerNameProblem(name, true) ?? headerValueProblem(value);
    if (problem !== undefined) return { problem: `${at(file)}: the header ${JSON.stringify(name)} ${problem}` };
    if (headers.some(([n]) => n.toLowerCase() === name.toLowerCase())) return { problem: `${at(file)}: the header ${JSON.stringify(name)} is also set by username/password or token: keep one` };
    headers.push([name, value]);
  }
  if (headers.length === 0) return { problem: `${JSON.stringify(dir)} holds no credentials (username and password, token, or header.NAME files): is the Secret there, with those keys?` };
  return { headers };
}

async function readBounded(path: string): Promise<Buffer> {
  const data = await readFile(path);
  if (data.length > MAX_CREDENTIAL_FILE) throw new Error(`${JSON.stringify(path)} is larger than ${MAX_CREDENTIAL_FILE} bytes`);
  return data;
}

function problemOf(e: unknown, what: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return `${what} does not exist (is the Secret or ConfigMap there, with that key?)`;
  if (code !== undefined) return `${what} cannot be read: ${code}`;
  return e instanceof Error ? e.message : String(e);
}

/** Why `pem` is not one or more PEM certificates (Node skips what it cannot read in a CA bundle, silently). */
function pemProblem(pem: Buffer): string | undefined {
  const blocks = pem.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (e) {
      return `holds a certificate that cannot be read (the ${i + 1}. of ${blocks.length}): ${(e as Error).message}`;
    }
  }
  return undefined;
}

/** Reads every file once: the material, or the first problem. */
export async function readCredentials(paths: CredentialPaths): Promise<Loaded> {
  let headers: Header[] = [];
  if (paths.authDir !== undefined) {
    const files = new Map<string, string>();
    try {
      for (const name of await readdir(paths.authDir)) {
        if (name === "username" || name === "password" || name === "token" || name.startsWith(HEADER_FILE_PREFIX)) {
          files.set(name, (await readBounded(join(paths.authDir, name))).toString("utf8"));
        }
      }
    } catch (e) {
      return { ok: false, problem: problemOf(e, `the credentials directory ${JSON.stringify(paths.authDir)}`) };
    }
    const auth = authHeaders(files, paths.authDir);
    if ("problem" in auth) return { ok: false, problem: auth.problem };
    headers = auth.headers;
  }
  const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  for (const [key, path, what] of [["ca", paths.caFile, "the CA bundle"], ["cert", paths.certFile, "the client certificate"], ["key", paths.keyFile, "the client key"]] as const) {
    if (path === undefined) continue;
    try {
      tls[key] = await readBounded(path);
    } catch (e) {
      return { ok: false, problem: problemOf(e, `${what} ${JSON.stringify(path)}`) };
    }
  }
  for (const [key, path] of [["ca", paths.caFile], ["cert", paths.certFile]] as const) {
    const problem = tls[key] === undefined ? undefined : pemProblem(tls[key]!);
    if (problem !== undefined) return { ok: false, problem: `${JSON.stringify(path)} ${problem}` };
  }
  if (tls.ca !== undefined || tls.cert !== undefined) {
    try {
      // What the agent would do on the next connection, done now so the message names the files.
      createSecureContext(tls);
    } catch (e) {
      const files = [paths.caFile, paths.certFile, paths.keyFile].filter((p) => p !== undefined).map((p) => JSON.stringify(p)).join(", ");
      return { ok: false, problem: `the TLS files ${files} cannot be used: ${(e as Error).message}` };
    }
  }
  return { ok: true, material: { headers, tls } };
}

/** readCredentials, kept between changes of the files. */
export class CredentialFiles {
  readonly #paths: CredentialPaths;
  readonly #now: () => number;
  readonly #watchers: FSWatcher[] = [];
  #loaded: Loaded | undefined;
  #readAt = -Infinity;
  #changed = false;

  constructor(paths: CredentialPaths, now: () => number = Date.now) {
    this.#paths = paths;
    this.#now = now;
  }

  get any(): boolean {
    const p = this.#paths;
    return p.authDir !== undefined || p.caFile !== undefined || p.certFile !== undefined || p.keyFile !== undefined;
  }

  /** The material as the files hold it now (read again if they changed, or RECHECK_MS after the last read). */
  async load(): Promise<Loaded> {
    if (this.#loaded !== undefined && !this.#changed && this.#now() - this.#readAt < RECHECK_MS) return this.#loaded;
    this.#changed = false;
    this.#readAt = this.#now();
    this.#loaded = await readCredentials(this.#paths);
    return this.#loaded;
  }

  /**
   * Calls `onChange` when something in the files' directories changes (Kubernetes' symlink swap is
   * a rename there). The watches keep no process alive; a directory that cannot be watched relies
   * on the periodic read.
   */
  watch(onChange: () => void): void {
    const p = this.#paths;
    const dirs = new Set([p.authDir, ...[p.caFile, p.certFile, p.keyFile].filter((f) => f !== undefined).map((f) => dirname(f!))].filter((d) => d !== undefined));
    for (const dir of dirs) {
      try {
        const w = watch(dir!, { persistent: false }, () => {
          this.#changed = true;
          onChange();
        });
        w.on("error", () => w.close());
        this.#watchers.push(w);
      } catch {
        // Missing or unwatchable: RECHECK_MS reads still see a change.
      }
    }
  }

  close(): void {
    for (const w of this.#watchers.splice(0)) w.close();
  }
}
