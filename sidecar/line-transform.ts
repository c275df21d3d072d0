// The pipeline's view of a transform (the same shape as Transform in transform.ts, which builds
// the JSON and multiline ones): the follower needs only this, and raw mode needs none at all.

export interface LineTransformOutput {
  readonly out: Buffer;
  /** File offset up to which every input byte is in `out` or in earlier outputs. */
  readonly safeOffset: number;
}

export interface LineTransform {
  push(lines: Buffer, endOffset: number): LineTransformOutput;
  flush(): LineTransformOutput;
  readonly pending: boolean;
  /** Each output line (record) stands for one input line, in order (json without multiline). */
  readonly recordPerLine?: boolean;
  /**
   * The caller is done with each output (has written or copied it) before its next push or flush:
   * the transform may build every output in the same memory, which saves an allocation and a copy
   * of each output (half the JSON encoder's CPU: docs/decisions.md, "JSON records in one buffer").
   */
  reuseOutput?(): void;
}
