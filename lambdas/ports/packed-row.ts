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

/**
 * Calls `value(column, s, e)` for each value at buf[s, e), or `nul(column)` for a NULL, in column order; throws
 * PackedRowError when the row does not hold exactly `columns` well-formed values. Each prefix byte is read once: a
 * length below 0xfb (nearly every value) takes the first branch.
 */
export function forEachValue(
  row: PackedRow,
  columns: number,
  value: (column: number, s: number, e: number) => void,
  nul: (column: number) => void,
): void {
  const b = row.buf;
  const end = row.end;
  let p = row.start;
  for (let c = 0; c < columns; c++) {
    if (p >= end) throw new PackedRowError(`the row has ${c} values, not ${columns}`);
    const first = b[p]!;
    let s: number;
    let len: number;
    if (first < NULL_VALUE) {
      s = p + 1;
      len = first;
    } else if (first === NULL_VALUE) {
      nul(c);
      p += 1;
      continue;
    } else if (first === 0xfc && p + 3 <= end) {
      s = p + 3;
      len = b[p + 1]! | (b[p + 2]! << 8);
    } else if (first === 0xfd && p + 4 <= end) {
      s = p + 4;
      len = b[p + 1]! | (b[p + 2]! << 8) | (b[p + 3]! << 16);
    } else if (first === 0xfe && p + 9 <= end) {
      s = p + 9;
      len = b.readUInt32LE(p + 1) + b.readUInt32LE(p + 5) * 0x100000000;
    } else {
      throw new PackedRowError(`value ${c + 1} has a bad length prefix`);
    }
    const e = s + len;
    if (e > end) throw new PackedRowError(`value ${c + 1} runs past the end of the row`);
    value(c, s, e);
    p = e;
  }
  if (p !== end) throw new PackedRowError(`the row has more than ${columns} values`);
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
