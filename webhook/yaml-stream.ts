// A multi-document YAML stream read document by document, for `tailcar inject`: text goes in as it
// arrives, and each document comes out (parsed with its comments, as `parseAllDocuments` would give
// it) as soon as the next one begins, so memory is bounded by the largest document, not the input.
// The input is refused, naming the document, when it holds a character YAML does not allow (what
// binary input has; kubectl refuses it too) or when one document outgrows the limit.
import { Composer, Parser, type CST, type Document } from "yaml";
import { LineIndex } from "./line-index.ts";

/** Characters outside YAML's printable set (tab, LF and CR are in it). */
const NOT_YAML = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]/;

/** Input is parsed this many characters at a time, so a document's size is checked as it grows. */
const SLICE_CHARS = 64 * 1024;

/** Bad input; the message names the document (1-based) and, where it can, the line and column. */
export class InputError extends Error {}

export interface StreamedDocument {
  readonly doc: Document.Parsed;
  /** 1-based, in the order of the stream. */
  readonly index: number;
}

function describeChar(code: number): string {
  return `character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

function describeSize(chars: number): string {
  const mib = chars / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${chars} characters`;
}

export class YamlDocumentStream {
  private readonly parser = new Parser();
  // YAML 1.1, as kubectl reads manifests: an unquoted `yes` or `on` is a boolean there.
  private readonly composer = new Composer({ version: "1.1" });
  private readonly lines = new LineIndex();
  /** Characters given so far. */
  private fed = 0;
  /** Where the document the parser is reading began (about: where the one before it ended). */
  private docStart = 0;
  /** Documents the parser has finished, and those handed out. */
  private parsed = 0;
  private emitted = 0;
  private lastToken = "";
  private readonly maxDocumentChars: number;

  constructor(maxDocumentChars: number) {
    this.maxDocumentChars = maxDocumentChars;
  }

  /** The documents that `text`, the next piece of the input, completes. Throws InputError. */
  *push(text: string): Generator<StreamedDocument> {
    for (let at = 0; at < text.length; at += SLICE_CHARS) yield* this.pushSlice(text.slice(at, at + SLICE_CHARS));
  }

  /** The documents left at the end of the input. Throws InputError. */
  *end(): Generator<StreamedDocument> {
    for (const token of this.parser.parse("", false)) yield* this.compose(token);
    for (const doc of this.composer.end()) yield this.emit(doc);
    const stray = this.composer.streamInfo().errors[0];
    if (stray) throw this.error(stray.message, stray.pos[0], this.emitted + 1);
  }

  /** Refuses the input at the end of what was pushed (e.g. the bytes after it are not UTF-8). */
  fail(message: string): InputError {
    return this.error(message, this.fed, this.parsed + 1);
  }

  private *pushSlice(text: string): Generator<StreamedDocument> {
    const bad = text.search(NOT_YAML);
    const good = bad === -1 ? text : text.slice(0, bad);
    this.lines.add(good, this.fed);
    this.fed += good.length;
    for (const token of this.parser.parse(good, true)) yield* this.compose(token);
    // The composer keeps a document until the next one is composed, for a `...` or comments that
    // may follow it; once the parser is inside the next document, nothing more can.
    if (this.lastToken === "document" && this.parser.stack[0]?.type === "document") {
      for (const doc of this.composer.end()) yield this.emit(doc);
    }
    if (bad !== -1) throw this.fail(`${describeChar(text.charCodeAt(bad))} is not allowed in YAML (binary input?)`);
    if (this.fed - this.docStart > this.maxDocumentChars) {
      throw this.fail(`the document is larger than the limit of ${describeSize(this.maxDocumentChars)} (--max-document-size)`);
    }
  }

  private *compose(token: CST.Token): Generator<StreamedDocument> {
    if (token.type === "document") {
      this.parsed++;
      this.docStart = this.parser.offset;
    }
    this.lastToken = token.type;
    for (const doc of this.composer.next(token)) yield this.emit(doc);
  }

  private emit(doc: Document.Parsed): StreamedDocument {
    const index = ++this.emitted;
    const error = doc.errors[0];
    if (error) throw this.error(error.message, error.pos[0], index);
    this.lines.forget(doc.range[2]);
    return { doc, index };
  }

  private error(message: string, offset: number, index: number): InputError {
    const { line, column } = this.lines.at(offset);
    return new InputError(`document ${index}: line ${line}, column ${column}: ${message}`);
  }
}
