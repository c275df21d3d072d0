// Line and column of an offset in a text that arrives in pieces, for error messages about a YAML
// stream read document by document: only the lines of the documents still being read are kept.

export class LineIndex {
  /** Offsets where lines start, from the oldest line not forgotten. */
  private starts: number[] = [0];
  /** The line number (1-based) of starts[0]. */
  private first = 1;

  /** Records the lines of `text`, which begins at `offset` of the whole input. */
  add(text: string, offset: number): void {
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) this.starts.push(offset + i + 1);
  }

  /** Index in `starts` of the line holding `offset`. */
  private find(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** 1-based line and column; an offset before the lines kept counts from the oldest one kept. */
  at(offset: number): { line: number; column: number } {
    const i = this.find(offset);
    return { line: this.first + i, column: Math.max(0, offset - this.starts[i]!) + 1 };
  }

  /** Drops the lines that end before `offset`: nothing before it will be asked for. */
  forget(offset: number): void {
    const i = this.find(offset);
    if (i === 0) return;
    this.starts.splice(0, i);
    this.first += i;
  }
}
