// An incremental CSV reader (RFC 4180): text goes in in pieces of any size, complete records come
// out with the line each starts on. Fields may be quoted; a quoted field may hold commas, doubled
// quotes and line breaks. Records end at CRLF, LF or CR. A quote inside an unquoted field, or
// anything but a separator after a closing quote, is an error, as is a quote left open at the end.

export interface CsvRecord { line: number; fields: string[] }

export class CsvError extends Error {
  constructor(message: string, readonly line: number) { super(`Line ${line}: ${message}`); }
}

const COMMA = 44, QUOTE = 34, CR = 13, LF = 10;
const enum State { FieldStart, Unquoted, Quoted, QuoteInQuoted }

/** A record may not grow past this many characters (a quote left open would otherwise swallow the file). */
export const MAX_RECORD_CHARS = 1 << 20;

export class CsvReader {
  private state = State.FieldStart;
  private field = '';
  private fields: string[] = [];
  private size = 0;
  private line = 1;
  private recordLine = 1;
  /** The previous character was a CR: a LF now completes the same line break. */
  private afterCR = false;

  /** Reads `text`, appending each record it completes to `out`. */
  feed(text: string, out: CsvRecord[]): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (this.afterCR) {
        this.afterCR = false;
        if (c === LF) {
          if (this.state === State.Quoted) this.field += '\n';
          i++;
          continue;
        }
      }
      switch (this.state) {
        case State.FieldStart:
          if (c === QUOTE) { this.state = State.Quoted; i++; break; }
          if (c === COMMA) { this.push(); i++; break; }
          if (c === CR || c === LF) { this.push(); this.endRecord(c, out); i++; break; }
          this.state = State.Unquoted;
          break;
        case State.Unquoted: {
          let j = i;
          let d = c;
          while (j < n && (d = text.charCodeAt(j)) !== COMMA && d !== CR && d !== LF && d !== QUOTE) j++;
          this.add(text.slice(i, j));
          i = j;
          if (j === n) break;
          if (d === QUOTE) throw new CsvError('a quote inside an unquoted field (quote the field and double the quote)', this.line);
          this.push();
          this.state = State.FieldStart;
          if (d !== COMMA) this.endRecord(d, out);
          i++;
          break;
        }
        case State.Quoted: {
          let j = i;
          let d = c;
          while (j < n && (d = text.charCodeAt(j)) !== QUOTE) {
            if (d === LF) { if (!this.afterCR) this.line++; this.afterCR = false; } else if (d === CR) { this.line++; this.afterCR = true; } else this.afterCR = false;
            j++;
          }
          // A CR at the very end of this piece may pair with a LF at the start of the next: the
          // LF is then kept (see afterCR above) and not counted again.
          const tail = text.slice(i, j);
          this.add(tail);
          if (j === n) { i = j; break; }
          this.afterCR = false;
          this.state = State.QuoteInQuoted;
          i = j + 1;
          break;
        }
        case State.QuoteInQuoted:
          if (c === QUOTE) { this.add('"'); this.state = State.Quoted; i++; break; }
          if (c === COMMA) { this.push(); this.state = State.FieldStart; i++; break; }
          if (c === CR || c === LF) { this.push(); this.state = State.FieldStart; this.endRecord(c, out); i++; break; }
          throw new CsvError('unexpected text after a closing quote', this.line);
      }
    }
  }

  /** Ends the input: the last record may lack a line break; an open quote is an error. */
  end(out: CsvRecord[]): void {
    if (this.state === State.Quoted) throw new CsvError('a quoted field is not closed before the end of the file', this.recordLine);
    if (this.state === State.FieldStart && this.fields.length === 0 && this.field === '') return;
    this.push();
    out.push({ line: this.recordLine, fields: this.fields });
    this.fields = [];
    this.state = State.FieldStart;
  }

  private add(s: string) {
    this.size += s.length;
    if (this.size > MAX_RECORD_CHARS) throw new CsvError(`a record longer than ${MAX_RECORD_CHARS} characters`, this.recordLine);
    this.field += s;
  }

  private push() {
    this.fields.push(this.field);
    this.field = '';
  }

  private endRecord(terminator: number, out: CsvRecord[]) {
    out.push({ line: this.recordLine, fields: this.fields });
    this.fields = [];
    this.size = 0;
    this.line++;
    if (terminator === CR) this.afterCR = true;
    this.recordLine = this.line;
  }
}

/** A record that is an empty line. */
export function isBlankRecord(r: CsvRecord) {
  return r.fields.length === 1 && r.fields[0] === '';
}

/** Parses a whole text (for tests and small inputs). */
export function parseCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  const r = new CsvReader();
  r.feed(text, out);
  r.end(out);
  return out;
}
