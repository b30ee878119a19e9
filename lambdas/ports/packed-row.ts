/**
 * A row as MySQL's text protocol sends it: one length-encoded string per column, back to back, in the packet's own
 * buffer (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_row.html).
 * The extract reads rows in this form so that no Buffer object is made per value — at 1M rows of 12 columns those
 * 12M objects were a fifth of the main thread's time and most of its garbage (decision 0007).
 */
/** One Buffer per value, NULL as null: ports/index.ts's RawRow (declared here too, so the two modules import one way). */
type Values = (Buffer | null)[];

export interface PackedRow {
  readonly buf: Buffer;
  /** Where the row's first value starts, and where the row ends (exclusive). */
  readonly start: number;
  readonly end: number;
}

/** 0xfb: a NULL value; 0xfc/0xfd/0xfe: a length in the next 2, 3 or 8 bytes; below 0xfb: the length itself. */
const NULL_VALUE = 0xfb;

export class PackedRowError extends Error {}

export function isPackedRow(row: Values | PackedRow): row is PackedRow {
  return !Array.isArray(row);
}

/** Bytes of the length prefix of the value starting at b[p] (1 for a NULL); 0 for a byte no value starts with. */
export function lengthPrefixBytes(first: number): number {
  if (first <= NULL_VALUE) return 1;
  if (first === 0xfc) return 3;
  if (first === 0xfd) return 4;
  if (first === 0xfe) return 9;
  return 0;
}

/** Length of the value starting at b[p], after its prefix; -1 for a NULL. */
export function valueLength(b: Buffer, p: number): number {
  const first = b[p]!;
  if (first < NULL_VALUE) return first;
  if (first === NULL_VALUE) return -1;
  if (first === 0xfc) return b[p + 1]! | (b[p + 2]! << 8);
  if (first === 0xfd) return b[p + 1]! | (b[p + 2]! << 8) | (b[p + 3]! << 16);
  return b.readUInt32LE(p + 1) + b.readUInt32LE(p + 5) * 0x100000000;
}

/**
 * Calls `value(column, s, e)` for each value at buf[s, e), or `nul(column)` for a NULL, in column order; throws
 * PackedRowError when the row does not hold exactly `columns` well-formed values.
 */
export function forEachValue(
  row: PackedRow,
  columns: number,
  value: (column: number, s: number, e: number) => void,
  nul: (column: number) => void,
): void {
  const b = row.buf;
  let p = row.start;
  for (let c = 0; c < columns; c++) {
    if (p >= row.end) throw new PackedRowError(`the row has ${c} values, not ${columns}`);
    const prefix = lengthPrefixBytes(b[p]!);
    if (prefix === 0 || p + prefix > row.end) throw new PackedRowError(`value ${c + 1} has a bad length prefix`);
    const len = valueLength(b, p);
    if (len < 0) {
      nul(c);
      p += 1;
      continue;
    }
    const s = p + prefix;
    const e = s + len;
    if (e > row.end) throw new PackedRowError(`value ${c + 1} runs past the end of the row`);
    value(c, s, e);
    p = e;
  }
  if (p !== row.end) throw new PackedRowError(`the row has more than ${columns} values`);
}

/** The row as one Buffer per value (views on the packet, not copies), for the few places that need values by index. */
export function unpackRow(row: PackedRow, columns: number): Values {
  const out: Values = new Array(columns).fill(null);
  forEachValue(
    row,
    columns,
    (c, s, e) => {
      out[c] = row.buf.subarray(s, e);
    },
    () => undefined,
  );
  return out;
}
