/**
 * timestamp_only: the cursor is `cdc_timestamp_column` alone, with the single-column primary key breaking ties —
 * the old tool's bare `ts > W` lost every row tied with the watermark, so the keyset is the same as hybrid's.
 */
import { DataError } from '../../errors.js';
import { requireColumn } from './columns.js';
import { TIMESTAMP_DEFAULTS } from './defaults.js';
import type { SourceProblem, Strategy } from './strategy.js';
import {
  checkTimestampRole,
  timestampBounds,
  timestampCursorWindow,
  timestampLagCursor,
  timestampSourceProblems,
  timestampWindow,
} from './timestamp-cursor.js';

function keyProblem(pk: readonly string[]): string | undefined {
  if (pk.length === 1) return undefined;
  return `timestamp_only breaks timestamp ties with the primary key, which must be one column (it is ${pk.length ? pk.join(', ') : 'missing'}); use hybrid with cdc_id_column`;
}

export const timestampOnly: Strategy = {
  name: 'timestamp_only',
  advancesWatermark: true,
  readsCustomQuery: false,
  defaults: TIMESTAMP_DEFAULTS,
  shownKeys: new Set(['timestampColumn', 'timestampFormat']),
  mode: () => 'merge',
  requiredColumns: (t) => [{ column: t.timestampColumn, key: 'cdc_timestamp_column' }],
  configProblems: () => [],
  roles(table, columns, pk) {
    const ts = requireColumn(columns, table, table.timestampColumn, 'cdc_timestamp_column');
    checkTimestampRole(table, ts);
    const problem = keyProblem(pk.map((c) => c.source.name));
    if (problem) throw new DataError(`${table.name}: ${problem}`);
    return { ts, id: pk[0] };
  },
  sourceProblems(table, columns, pk) {
    const out: SourceProblem[] = timestampSourceProblems(table, columns);
    const problem = pk.length > 1 ? keyProblem(pk) : undefined;
    if (problem) out.push({ severity: 'error', message: problem });
    return out;
  },
  window: timestampWindow,
  cursorWindow: timestampCursorWindow,
  bounds: timestampBounds,
  lagCursor: timestampLagCursor,
  describe: (t) =>
    `rows with (${t.timestampColumn}, primary key) after the watermark, up to the commit horizon; NULL ${t.timestampColumn} rows every run`,
};
