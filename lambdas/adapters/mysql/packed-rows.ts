/**
 * Rows as their packets hold them (ports/packed-row.ts). With `typeCast: false` mysql2 still makes an array and one
 * Buffer per value of every row; for the extract the packet is the row. mysql2 has no option for this, so the query's
 * row state is replaced: mysql2 3.x's Query command hands over from its field states to `this.row`, and each row state
 * returns the next; EOF, OK and error packets stay with mysql2 (the prototype's row state, and the command's own
 * error handling). The version is pinned (package-lock.json); the extract tests read every type through this path.
 */
import type { PackedRow } from '../../ports/packed-row.js';

interface RowPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}

type RowState = (this: QueryInternals, packet: RowPacket, connection: unknown) => unknown;

interface QueryInternals {
  row: RowState;
  _resultIndex: number;
  emit(event: 'result', row: PackedRow, index: number): boolean;
}

/** Makes `query` (a mysql2 Query, before it runs) emit PackedRow objects as its 'result' rows. */
export function emitPackedRows(query: object): void {
  const q = query as QueryInternals;
  const protoRow = (Object.getPrototypeOf(q) as Partial<QueryInternals>).row;
  if (typeof protoRow !== 'function') throw new Error('mysql2: the Query command has no row state to replace');
  const row: RowState = function (this: QueryInternals, packet, connection) {
    if (packet.isEOF()) return protoRow.call(this, packet, connection);
    this.emit('result', { buf: packet.buffer, start: packet.offset, end: packet.end }, this._resultIndex);
    return row;
  };
  q.row = row;
}
