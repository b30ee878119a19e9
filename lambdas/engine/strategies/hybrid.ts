/**
 * hybrid (the default): the cursor is `cdc_timestamp_column` with `cdc_id_column` breaking ties, read as the keyset
 * (ts, id) > (W_ts, W_id) up to H below the commit horizon. The safe choice for tables with an updated_at.
 */
import { isMysqlInteger } from '../type-map.js';
import { findSourceColumn, requireColumn } from './columns.js';
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

export const hybrid: Strategy = {
  name: 'hybrid',
  advancesWatermark: true,
  readsCustomQuery: false,
  defaults: TIMESTAMP_DEFAULTS,
  shownKeys: new Set(['timestampColumn', 'timestampFormat', 'idColumn']),
  mode: () => 'merge',
  requiredColumns: (t) => [
    { column: t.timestampColumn, key: 'cdc_timestamp_column' },
    { column: t.idColumn, key: 'cdc_id_column' },
  ],
  configProblems: () => [],
  roles(table, columns) {
    const ts = requireColumn(columns, table, table.timestampColumn, 'cdc_timestamp_column');
    checkTimestampRole(table, ts);
    return { ts, id: requireColumn(columns, table, table.idColumn, 'cdc_id_column') };
  },
  sourceProblems(table, columns) {
    const out: SourceProblem[] = timestampSourceProblems(table, columns);
    const id = findSourceColumn(columns, table.idColumn);
    if (id && !isMysqlInteger(id)) {
      out.push({
        severity: 'warning',
        column: id.name,
        message: `cdc_id_column ${id.name} is ${id.columnType}, not an integer; it still breaks timestamp ties, but ordering follows the column's collation`,
      });
    }
    return out;
  },
  window: timestampWindow,
  cursorWindow: timestampCursorWindow,
  bounds: timestampBounds,
  lagCursor: timestampLagCursor,
  describe: (t) =>
    `rows with (${t.timestampColumn}, ${t.idColumn}) after the watermark, up to the commit horizon; NULL ${t.timestampColumn} rows every run`,
};
