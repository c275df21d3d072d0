// Raw lines with their file's path in front (--prefix-file-name): `/var/log/app/a.log: the line`.
// What tells the files of a glob apart on stdout; json records carry the path in "file" instead.
import type { Transform, TransformOutput } from "./transform.ts";
import { ByteBuilder } from "./transform-bytes.ts";

const EMPTY = Buffer.alloc(0);

export class PrefixTransform implements Transform {
  readonly #prefix: Buffer;
  readonly #out = new ByteBuilder();
  #end = 0;
  readonly pending = false;
  readonly recordPerLine = true;

  constructor(file: string) {
    this.#prefix = Buffer.from(`${file}: `, "utf8");
  }

  push(lines: Buffer, endOffset: number): TransformOutput {
    this.#end = endOffset;
    const out = this.#out;
    for (let start = 0; start < lines.length; ) {
      let nl = lines.indexOf(0x0a, start);
      nl = nl < 0 ? lines.length : nl + 1;
      out.append(this.#prefix);
      out.append(lines, start, nl);
      start = nl;
    }
    return { out: out.take(), safeOffset: endOffset };
  }

  flush(): TransformOutput {
    return { out: EMPTY, safeOffset: this.#end };
  }
}
