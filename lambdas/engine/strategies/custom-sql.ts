/**
 * custom_sql: the user's one read-only SELECT (judged by sql/user-sql.ts), with :last_timestamp, :last_id and
 * :upper_timestamp bound as parameters. :upper_timestamp is the commit horizon, so a query that bounds itself by it
 * is as safe as hybrid; the run advances to the greatest cursor it read when the result carries the cursor columns.
 */
import type { MappedColumn } from '../../domain/model.js';
import { findColumn } from './columns.js';
import { TIMESTAMP_DEFAULTS } from './defaults.js';
import { cursorCutoff } from './horizon.js';
import { and } from './sql/fragment.js';
import { additionalWhere, fromClause } from './sql/reads.js';
import { prepareCustomSql } from './sql/user-sql.js';
import type { Strategy } from './strategy.js';

/** The frame :upper_timestamp is given in when the query's result has no timestamp column: DATETIME(6). */
const DATETIME6: MappedColumn = {
  source: {
    name: ':upper_timestamp',
    dataType: 'datetime',
    columnType: 'datetime(6)',
    nullable: true,
    charMaxLength: null,
    numericPrecision: null,
    numericScale: null,
    ordinal: 0,
  },
  target: 'upper_timestamp',
  type: { kind: 'timestamp', utc: false },
  nullable: true,
};

export const customSql: Strategy = {
  name: 'custom_sql',
  advancesWatermark: true,
  readsCustomQuery: true,
  defaults: TIMESTAMP_DEFAULTS,
  shownKeys: new Set(['timestampColumn', 'timestampFormat', 'idColumn']),
  mode: () => 'merge',
  requiredColumns: () => [],
  configProblems: (t) =>
    t.customQuery === undefined
      ? [{ key: 'cdc_strategy', message: 'cdc_strategy custom_sql needs custom_query (the SELECT to run)' }]
      : [],
  roles: (table, columns) => ({
    ts: findColumn(columns, table.timestampColumn),
    id: findColumn(columns, table.idColumn),
  }),
  sourceProblems: () => [],
  window: (ctx) => and([additionalWhere(ctx)]),
  cursorWindow: (ctx) => and([additionalWhere(ctx)]),
  async bounds({ ctx, clock, timeZone }) {
    const cut = cursorCutoff(ctx.ts ?? DATETIME6, ctx.table.timestampFormat === 'unix', clock, {
      lagSeconds: ctx.table.lagSeconds,
      clockSkewSeconds: ctx.table.clockSkewSeconds,
      timeZone,
    });
    const warnings = clock.warning ? [clock.warning] : [];
    const placeholders = prepareCustomSql(ctx.table.customQuery ?? '', fromClause(ctx), ctx.table.name).placeholders;
    if (!placeholders.includes('upper_timestamp')) {
      warnings.push(
        'custom_query does not use :upper_timestamp, so it can read rows whose transactions have not all committed and the watermark can pass rows that commit later; bound the query with it',
      );
    }
    return { kind: 'query', upperTimestamp: cut.value, horizon: `:upper_timestamp is ${cut.description}`, warnings };
  },
  lagCursor: () => undefined,
  describe: () => 'the rows custom_query returns for the bound placeholders',
};
