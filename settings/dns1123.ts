// DNS-1123 labels: what Kubernetes accepts as a container name (and many other names).

export const MAX_DNS1123_LABEL = 63;
const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(name: string): boolean {
  return name.length <= MAX_DNS1123_LABEL && DNS1123_LABEL.test(name);
}
