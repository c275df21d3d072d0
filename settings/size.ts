// Sizes in bytes with Kubernetes-style suffixes: "4096", "64Ki", "1Mi", "2M".

const SIZE = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/;
const UNIT_BYTES: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };

/** Bytes, or undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  return m ? Number(m[1]) * (m[2] ? UNIT_BYTES[m[2]]! : 1) : undefined;
}

/** The text parseSize reads back as `bytes`, with the largest binary suffix that divides it. */
export function formatSize(bytes: number): string {
  for (const [suffix, unit] of [["Gi", 1024 ** 3], ["Mi", 1024 ** 2], ["Ki", 1024]] as const) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
