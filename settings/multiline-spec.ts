// The multiline setting: "java", "python", or a regular expression that starts a record.

export const MULTILINE_PRESETS = ["java", "python"] as const;

/** Why `spec` is not a multiline spec (a phrase that reads after the quoted value), or undefined. */
export function multilineProblem(spec: string): string | undefined {
  if ((MULTILINE_PRESETS as readonly string[]).includes(spec)) return undefined;
  try {
    new RegExp(spec);
    return undefined;
  } catch (e) {
    // V8's message quotes the whole pattern ("Invalid regular expression: /…/: reason"): keep the reason.
    return `is not java, python or a regular expression: ${(e as Error).message.split(": ").at(-1)}`;
  }
}
