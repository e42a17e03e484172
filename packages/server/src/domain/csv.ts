// CSV files (RFC 4180, UTF-8) read through csv-parse as they stream in: bytes go in in pieces of any
// size, complete records come out with the line each starts on. Fields may be quoted; a quoted field
// may hold commas, doubled quotes and line breaks. Records end at CRLF, LF or CR. A quote inside an
// unquoted field, or anything but a separator after a closing quote, is an error, as is a quote left
// open at the end. Errors say what and where, never the field's text (it is user data).
import { Parser, type Options } from 'csv-parse';

export interface CsvRecord { line: number; fields: string[] }

export class CsvError extends Error {
  constructor(message: string, readonly line: number) { super(`Line ${line}: ${message}`); }
}

/** A record may not grow past this many bytes (a quote left open would otherwise swallow the file). */
export const MAX_RECORD_BYTES = 1 << 20;

const PARSER_OPTIONS = {
  record_delimiter: ['\r\n', '\n', '\r'], // mixed freely, as RFC 4180 readers take them
  relax_column_count: true, // rows are checked against the header by the importer, with better messages
  max_record_size: MAX_RECORD_BYTES, // unquoted text only: readCsv bounds quoted fields itself
};

const WHY: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is not closed before the end of the file',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field (quote the field and double the quote)',
  CSV_INVALID_CLOSING_QUOTE: 'unexpected text after a closing quote',
  CSV_MAX_RECORD_SIZE: `a record longer than ${MAX_RECORD_BYTES} bytes`,
};

/** Lines a record spans: the line breaks inside its (quoted) fields, and the one that ends it. */
function linesOf(fields: string[]): number {
  let n = 1;
  for (const f of fields) if (f.includes('\n') || f.includes('\r')) n += f.match(/\r\n|\r|\n/g)!.length;
  return n;
}

/** UTF-8 text of the pieces; a byte sequence that is not UTF-8 throws (ERR_ENCODING_INVALID_ENCODED_DATA). */
async function* utf8(pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true }); // strips a leading byte order mark
  for await (const piece of pieces) {
    const text = decoder.decode(piece, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** The records of a CSV file arriving in pieces, in order; at most a piece and a few records are held at once. */
export async function* readCsv(pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<CsvRecord> {
  // Lines are numbered as the parser goes (on_record runs inside it), so an error names the line of
  // the record it stopped in, whatever records are still on their way to the loop below.
  let line = 1;
  let parsedBytes = 0;
  const parser = new Parser({
    ...PARSER_OPTIONS,
    on_record: ((fields: string[], info: { bytes: number }): CsvRecord => {
      const r = { line, fields };
      line += linesOf(fields);
      parsedBytes = info.bytes;
      return r;
    }) as unknown as Options['on_record'], // csv-parse's types expect a record back, not our wrapper
  });
  // Each piece is parsed before the next is read (a write's callback waits while records are
  // unread), so the parser holds at most one piece plus the record it is in, which is bounded here.
  const tooLong = (fed: number) => fed - parsedBytes > MAX_RECORD_BYTES && new CsvError(WHY.CSV_MAX_RECORD_SIZE, line);
  const feeding = (async () => {
    let fed = 0;
    for await (const text of utf8(pieces)) {
      const e = tooLong(fed);
      if (e) throw e;
      fed += Buffer.byteLength(text);
      await new Promise<void>((resolve, reject) => parser.write(text, (err) => (err ? reject(err) : resolve())));
    }
    const e = tooLong(fed);
    if (e) throw e;
    parser.end();
  })();
  // An error on the way (not UTF-8, bad CSV, too long) destroys the parser with it: the loop below throws it.
  feeding.catch((e) => parser.destroy(e));
  try {
    yield* parser as AsyncIterable<CsvRecord>;
  } catch (e) {
    if (e instanceof CsvError) throw e;
    const code = (e as { code?: string })?.code;
    if (code && code in WHY) throw new CsvError(WHY[code], line);
    if (code?.startsWith('CSV_')) throw new CsvError(`the file cannot be read as CSV (${code})`, line);
    throw e;
  } finally {
    parser.destroy();
  }
}

/** A record that is an empty line. */
export function isBlankRecord(r: CsvRecord) {
  return r.fields.length === 1 && r.fields[0] === '';
}

/** Parses a whole text (for tests and small inputs). */
export async function parseCsv(text: string): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of readCsv([Buffer.from(text)])) out.push(r);
  return out;
}
