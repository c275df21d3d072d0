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
}
