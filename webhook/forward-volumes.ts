// The volumes that bring a forwarding sidecar its credentials and TLS material: the auth Secret, the
// CA bundle's ConfigMap or Secret, and the client certificate's Secret, each mounted read-only into
// the forward sidecars only (the app containers never see them). Optional volumes: a Secret that
// does not exist yet leaves the directory empty and the pod starting; the sidecar then says what is
// missing, keeps the lines, and sends them once kubelet fills the volume. Whole-directory mounts,
// never subPath: kubelet updates those in place when the Secret changes, and the sidecar rereads them.
import type { PodConfig } from "./annotations.ts";
import { claimName } from "./container-name.ts";
import type { Volume, VolumeMount } from "./pod-types.ts";

export const FORWARD_AUTH_MOUNT = "/etc/tailcar/forward-auth";
export const FORWARD_CA_MOUNT = "/etc/tailcar/forward-ca";
export const FORWARD_CLIENT_CERT_MOUNT = "/etc/tailcar/forward-client-cert";
/** The file names in the mounted directories (the CA's key is projected to this path whatever its name). */
export const CA_FILE = "ca.crt";
export const CERT_FILE = "tls.crt";
export const KEY_FILE = "tls.key";

/** The names of the volumes added for forwarding, by what they hold. */
export interface ForwardVolumes {
  readonly auth?: string;
  readonly ca?: string;
  readonly clientCert?: string;
}

/** Whether the sidecars of `config` forward (mode forward with a sink and an endpoint). */
export function forwards(config: Pick<PodConfig, "mode" | "forwardSink" | "forwardEndpoint">): boolean {
  return config.mode === "forward" && config.forwardSink !== undefined && config.forwardEndpoint !== undefined;
}

/** The volumes `config` asks for, named clear of `takenVolumes` (which gains their names). */
export function planForwardVolumes(config: PodConfig, takenVolumes: Set<string>): { volumes: Volume[]; names: ForwardVolumes } {
  if (!forwards(config)) return { volumes: [], names: {} };
  const volumes: Volume[] = [];
  const names: { auth?: string; ca?: string; clientCert?: string } = {};
  if (config.forwardAuthSecret !== undefined) {
    names.auth = claimName("tailcar-forward-auth", takenVolumes);
    volumes.push({ name: names.auth, secret: { secretName: config.forwardAuthSecret, optional: true } });
  }
  if (config.forwardCa !== undefined) {
    const { kind, name, key } = config.forwardCa;
    names.ca = claimName("tailcar-forward-ca", takenVolumes);
    const items = [{ key, path: CA_FILE }];
    volumes.push(kind === "configMap" ? { name: names.ca, configMap: { name, items, optional: true } } : { name: names.ca, secret: { secretName: name, items, optional: true } });
  }
  if (config.forwardClientCertSecret !== undefined) {
    names.clientCert = claimName("tailcar-forward-client-cert", takenVolumes);
    volumes.push({ name: names.clientCert, secret: { secretName: config.forwardClientCertSecret, items: [{ key: CERT_FILE, path: CERT_FILE }, { key: KEY_FILE, path: KEY_FILE }], optional: true } });
  }
  return { volumes, names };
}

/** The sidecar's read-only mounts of those volumes. */
export function forwardMounts(names: ForwardVolumes): VolumeMount[] {
  const mounts: VolumeMount[] = [];
  if (names.auth !== undefined) mounts.push({ name: names.auth, mountPath: FORWARD_AUTH_MOUNT, readOnly: true });
  if (names.ca !== undefined) mounts.push({ name: names.ca, mountPath: FORWARD_CA_MOUNT, readOnly: true });
  if (names.clientCert !== undefined) mounts.push({ name: names.clientCert, mountPath: FORWARD_CLIENT_CERT_MOUNT, readOnly: true });
  return mounts;
}

/** The sidecar settings that point it at the mounted files. */
export function forwardFiles(names: ForwardVolumes): { authDir?: string; caFile?: string; certFile?: string; keyFile?: string } {
  return {
    ...(names.auth !== undefined && { authDir: FORWARD_AUTH_MOUNT }),
    ...(names.ca !== undefined && { caFile: `${FORWARD_CA_MOUNT}/${CA_FILE}` }),
    ...(names.clientCert !== undefined && { certFile: `${FORWARD_CLIENT_CERT_MOUNT}/${CERT_FILE}`, keyFile: `${FORWARD_CLIENT_CERT_MOUNT}/${KEY_FILE}` }),
  };
}
