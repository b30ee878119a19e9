/**
 * The strategy modules on their own: each one's window SQL, the keyset predicates, the commit horizon's arithmetic
 * (clock, open transactions, clock_skew, time zones, column precision), id_only's watermark floor, the staged-run
 * chain, and schema-change classification. End-to-end behaviour is in test/e2e/divergence.e2e.test.ts.
 */
import { describe, expect, test } from 'vitest';
import type { TableConfig } from '../../../lambdas/domain/config.js';
import type { SourceColumn } from '../../../lambdas/domain/model.js';
import {
  diffColumns,
  logicalChange,
  refuseIncompatible,
  schemaWarnings,
} from '../../../lambdas/engine/schema-changes.js';
import {
  checkTimeZone,
  cursorCutoff,
  cutoffInstant,
  formatMicros,
  parseMicros,
  type SourceClock,
  zoneOffsetSeconds,
} from '../../../lambdas/engine/strategies/horizon.js';
import { committedFloor } from '../../../lambdas/engine/strategies/id-only.js';
import { strategyFor } from '../../../lambdas/engine/strategies/index.js';
import { bindFor, tupleAfter, tupleAtOrBefore } from '../../../lambdas/engine/strategies/sql/keyset.js';
import { chunkQuery } from '../../../lambdas/engine/strategies/sql/reads.js';
import { buildTableContext } from '../../../lambdas/engine/table-context.js';
import { mapColumns } from '../../../lambdas/engine/type-map.js';
import { SchemaChangeError } from '../../../lambdas/errors.js';
import { stagedChain } from '../../../lambdas/handlers/plan.js';
import type { RunRecord } from '../../../lambdas/ports/index.js';

function sourceColumn(name: string, columnType: string, over: Partial<SourceColumn> = {}): SourceColumn {
  const dataType = columnType.replace(/\(.*$/, '').replace(/ unsigned$/, '');
  const m = /\((\d+)(?:,(\d+))?\)/.exec(columnType);
  return {
    name,
    dataType,
    columnType,
    nullable: false,
    charMaxLength: ['varchar', 'char'].includes(dataType) && m ? Number(m[1]) : null,
    numericPrecision: dataType === 'decimal' && m ? Number(m[1]) : null,
    numericScale: dataType === 'decimal' && m ? Number(m[2] ?? 0) : null,
    ordinal: 1,
    ...over,
  };
}

function tableConfig(over: Partial<TableConfig> = {}): TableConfig {
  return {
    name: 'shop.orders',
    sourceSchema: 'shop',
    sourceTable: 'orders',
    strategy: 'hybrid',
    timestampColumn: 'updated_at',
    idColumn: 'id',
    targetName: 'orders',
    fullSyncMode: 'replace',
    timestampFormat: 'datetime',
    lagSeconds: 0,
    lookbackSeconds: 0,
    clockSkewSeconds: 15,
    onColumnDrop: 'keep',
    oversize: 'error',
    chunkRows: 1000,
    chunkBytes: 256 * 1024 * 1024,
    chunkSeconds: 300,
    readRowsPerSecond: 20_000,
    deleteDetection: false,
    deleteDetectionEverySeconds: null,
    verifyEvery: null,
    batchSize: 1000,
    dependsOn: [],
    ...over,
  };
}

const ORDERS: SourceColumn[] = [
  sourceColumn('id', 'bigint', { ordinal: 1 }),
  sourceColumn('name', 'varchar(50)', { ordinal: 2 }),
  sourceColumn('updated_at', 'datetime', { ordinal: 3 }),
  sourceColumn('updated_unix', 'int', { ordinal: 4 }),
];

function context(over: Partial<TableConfig> = {}, columns = ORDERS) {
  return buildTableContext(tableConfig(over), mapColumns('shop.orders', columns), ['id']);
}

const W = { ts: '2024-01-01 00:00:00', id: '7' };
const H = { ts: '2024-01-02 00:00:00', id: '9' };

describe('keyset predicates', () => {
  const [id, , ts] = mapColumns('t', ORDERS);
  test('a tuple compares column by column with bound, typed values', () => {
    expect(tupleAfter([ts!, id!], ['2024-01-01 00:00:00', '7'])).toEqual({
      sql: '`updated_at` > ? OR (`updated_at` = ? AND (`id` > CAST(? AS SIGNED)))',
      params: ['2024-01-01 00:00:00', '2024-01-01 00:00:00', '7'],
    });
    expect(tupleAtOrBefore([id!], ['9'])).toEqual({ sql: '`id` <= CAST(? AS SIGNED)', params: ['9'] });
  });
  test('integers bind exactly (unsigned too), decimals at their precision, everything else as text', () => {
    const [u, d, s] = mapColumns('t', [
      sourceColumn('u', 'bigint unsigned'),
      sourceColumn('d', 'decimal(12,3)'),
      sourceColumn('s', 'varchar(10)'),
    ]);
    expect(bindFor(u!)).toBe('CAST(? AS UNSIGNED)');
    expect(bindFor(d!)).toBe('CAST(? AS DECIMAL(12,3))');
    expect(bindFor(s!)).toBe('?');
  });
  test('a tuple of no columns, or of mismatched arity, is a programming error', () => {
    expect(() => tupleAfter([id!], ['1', '2'])).toThrow(/arity/);
  });
});

describe('each strategy’s window', () => {
  test('hybrid: (ts, id) keyset up to H; a NOT NULL cursor needs no NULL branch', () => {
    const ctx = context();
    const w = ctx.strategy.window(ctx, W, H);
    expect(w.sql).not.toContain('IS NULL');
    expect(w.sql).toContain('`updated_at` > ? OR (`updated_at` = ? AND (`id` > CAST(? AS SIGNED)))');
    expect(w.sql).toContain('`updated_at` < ? OR (`updated_at` = ? AND (`id` <= CAST(? AS SIGNED)))');
    expect(w.params).toEqual([W.ts, W.ts, W.id, H.ts, H.ts, H.id]);
  });
  test('a nullable cursor: every run also reads the rows whose cursor is NULL', () => {
    const cols = ORDERS.map((c) => (c.name === 'updated_at' ? { ...c, nullable: true } : c));
    const ctx = context({}, cols);
    const w = ctx.strategy.window(ctx, W, H);
    expect(w.sql).toMatch(/\) OR \(`updated_at` IS NULL\)/);
    // What --limit counts: the cursor rows only.
    expect(ctx.strategy.cursorWindow(ctx, W, H).sql).not.toContain('IS NULL)');
    // A first run has no lower bound, yet the cursor branch still excludes NULLs (the other branch reads them).
    expect(ctx.strategy.window(ctx, { ts: null, id: null }, H).sql).toContain('`updated_at` IS NOT NULL');
  });
  test('to equal to from is the empty cursor range (a run of NULL-cursor rows only)', () => {
    const ctx = context();
    expect(ctx.strategy.window(ctx, W, W).sql).toBe('(1=0)');
  });
  test('lookback widens the lower bound to ts ≥ W − lookback', () => {
    const ctx = context({ lookbackSeconds: 300 });
    const w = ctx.strategy.window(ctx, W, H);
    expect(w.sql).toContain('`updated_at` >= CAST(? AS DATETIME(6)) - INTERVAL ? SECOND');
    expect(w.params.slice(0, 2)).toEqual([W.ts, 300]);
  });
  test('timestamp_only breaks ties with the primary key; unix cursors bind as integers', () => {
    const ctx = context({ strategy: 'timestamp_only', timestampColumn: 'updated_unix', timestampFormat: 'unix' });
    expect(ctx.id?.source.name).toBe('id');
    expect(ctx.strategy.window(ctx, { ts: '100', id: '7' }, null).sql).toContain(
      '`updated_unix` > CAST(? AS SIGNED) OR (`updated_unix` = CAST(? AS SIGNED) AND (`id` > CAST(? AS SIGNED)))',
    );
  });
  test('id_only: id > W up to H; full_sync: every row', () => {
    const ids = context({ strategy: 'id_only' });
    expect(ids.strategy.window(ids, { ts: null, id: '7' }, { ts: null, id: '9' })).toEqual({
      sql: '(`id` > CAST(? AS SIGNED)) AND (`id` <= CAST(? AS SIGNED))',
      params: ['7', '9'],
    });
    const full = context({ strategy: 'full_sync' });
    expect(full.strategy.window(full, W, H)).toEqual({ sql: '1=1', params: [] });
    expect(full.mode).toBe('replace');
    expect(context({ strategy: 'full_sync', fullSyncMode: 'append' }).mode).toBe('append');
  });
  test('a chunk query carries only what its key range does not already imply', () => {
    const ids = context({ strategy: 'id_only' });
    const from = { ts: null, id: '7' };
    const to = { ts: null, id: '90' };
    const sql = (lower: string[] | null, upper: string[] | null) =>
      chunkQuery(ids, from, to, { index: 0, lower, upper });
    const range = (lo: string, hi: string) => ({
      sql: expect.stringMatching(
        /WHERE \(`id` > CAST\(\? AS SIGNED\)\) AND \(`id` <= CAST\(\? AS SIGNED\)\) ORDER BY `id`$/,
      ),
      params: [lo, hi],
    });
    // id_only with the id as the key: one range on the key, the window's bounds only where the chunk is open…
    expect(sql(['20'], ['40'])).toEqual(range('20', '40'));
    expect(sql(null, ['40'])).toEqual(range('7', '40'));
    expect(sql(['40'], null)).toEqual(range('40', '90'));
    // …and the tighter of the two where both are given (a repair range reaching past H).
    expect(sql(['3'], ['120'])).toEqual(range('7', '90'));
    // An additional_where still applies; an empty window reads nothing.
    const filtered = context({ strategy: 'id_only', additionalWhere: 'name <> "x"' });
    expect(chunkQuery(filtered, from, to, { index: 0, lower: ['20'], upper: ['40'] }).sql).toMatch(/AND \(.*name.*\)/);
    expect(chunkQuery(ids, to, to, { index: 0, lower: null, upper: null }).sql).toContain('(1=0)');
    // A timestamp window is not implied by a key range: hybrid keeps it whole.
    const hybrid = context();
    const h = chunkQuery(hybrid, W, H, { index: 0, lower: ['20'], upper: ['40'] });
    expect(h.params).toEqual([W.ts, W.ts, W.id, H.ts, H.ts, H.id, '20', '40']);
  });
  test('roles refuse what the strategy cannot use, naming the column', () => {
    expect(() => context({ strategy: 'id_only', idColumn: 'name' })).toThrow(
      /id_only needs an integer cdc_id_column; name is varchar\(50\)/,
    );
    expect(() => context({ timestampColumn: 'name' })).toThrow(/cdc_timestamp_column name is varchar\(50\)/);
    expect(() => context({ timestampColumn: 'nope' })).toThrow(/column "nope" \(cdc_timestamp_column\) does not exist/);
  });
  test('each strategy owns its defaults, load mode and whether it moves a watermark', () => {
    expect(strategyFor('hybrid').defaults).toEqual({ lagSeconds: 0, lookbackSeconds: 0, clockSkewSeconds: 15 });
    expect(strategyFor('full_sync').advancesWatermark).toBe(false);
    expect(strategyFor('custom_sql').readsCustomQuery).toBe(true);
    expect(strategyFor('id_only').lagCursor(tableConfig())).toEqual({ column: 'id', half: 'id' });
    expect(strategyFor('custom_sql').configProblems(tableConfig({ strategy: 'custom_sql' }))).toEqual([
      { key: 'cdc_strategy', message: 'cdc_strategy custom_sql needs custom_query (the SELECT to run)' },
    ]);
  });
});

describe('the commit horizon', () => {
  const clock = (over: Partial<SourceClock> = {}): SourceClock => ({
    now: '2026-12-03 12:00:05.700000',
    oldestTransaction: null,
    transactionsVisible: true,
    serverOffsetSeconds: 0,
    warning: null,
    ...over,
  });
  const [, , datetime0] = mapColumns('t', ORDERS);
  const settings = { lagSeconds: 0, clockSkewSeconds: 15, timeZone: undefined };

  test('microsecond instants round-trip exactly', () => {
    const us = parseMicros('2026-12-03 12:00:05.000123');
    expect(formatMicros(us, 6)).toBe('2026-12-03 12:00:05.000123');
    expect(formatMicros(us, 0)).toBe('2026-12-03 12:00:05');
    expect(formatMicros(us, -1)).toBe('2026-12-03');
    expect(formatMicros(parseMicros('1969-12-31 23:59:59.5'), 1)).toBe('1969-12-31 23:59:59.5');
  });
  test('without open transactions: NOW − lag − clock_skew', () => {
    expect(formatMicros(cutoffInstant(clock(), { ...settings, lagSeconds: 60 }).us, 6)).toBe(
      '2026-12-03 11:58:50.700000',
    );
  });
  test('an open write transaction older than that holds the horizon at its start less clock_skew', () => {
    const c = cutoffInstant(clock({ oldestTransaction: '2026-12-03 11:59:00.000000' }), settings);
    expect(formatMicros(c.us, 0)).toBe('2026-12-03 11:58:45');
    expect(c.reason).toContain('a write transaction open since 2026-12-03 11:59:00.000000 UTC');
  });
  test('a DATETIME cursor is truncated to its precision and compared strictly', () => {
    // 12:00:05.7 − 15 s = 11:59:50.7 → rows < 11:59:50 are final at one-second resolution.
    expect(cursorCutoff(datetime0!, false, clock(), settings).value).toBe('2026-12-03 11:59:50');
    const [ms] = mapColumns('t', [sourceColumn('u', 'datetime(3)')]);
    expect(cursorCutoff(ms!, false, clock(), settings).value).toBe('2026-12-03 11:59:50.700');
    const [day] = mapColumns('t', [sourceColumn('d', 'date')]);
    expect(cursorCutoff(day!, false, clock(), settings).value).toBe('2026-12-03');
  });
  test('DATETIME is compared in the source’s time zone; TIMESTAMP stays UTC; unix is whole seconds', () => {
    expect(cursorCutoff(datetime0!, false, clock(), { ...settings, timeZone: '+08:00' }).value).toBe(
      '2026-12-03 19:59:50',
    );
    expect(cursorCutoff(datetime0!, false, clock(), { ...settings, timeZone: '-05:00' }).value).toBe(
      '2026-12-03 06:59:50',
    );
    expect(cursorCutoff(datetime0!, false, clock(), { ...settings, timeZone: 'Asia/Shanghai' }).value).toBe(
      '2026-12-03 19:59:50',
    );
    // The server's own zone when none is configured.
    expect(cursorCutoff(datetime0!, false, clock({ serverOffsetSeconds: 3600 }), settings).value).toBe(
      '2026-12-03 12:59:50',
    );
    const [ts] = mapColumns('t', [sourceColumn('t', 'timestamp')]);
    expect(
      cursorCutoff(ts!, false, clock({ serverOffsetSeconds: 3600 }), { ...settings, timeZone: '+08:00' }).value,
    ).toBe('2026-12-03 11:59:50');
    expect(cursorCutoff(datetime0!, true, clock(), settings).value).toBe(
      String(Date.UTC(2026, 11, 3, 11, 59, 50) / 1000),
    );
  });
  test('IANA zones follow daylight saving at the instant', () => {
    expect(zoneOffsetSeconds('America/New_York', parseMicros('2026-07-01 12:00:00'))).toBe(-4 * 3600);
    expect(zoneOffsetSeconds('America/New_York', parseMicros('2026-12-01 12:00:00'))).toBe(-5 * 3600);
  });
  test('time_zone accepts offsets, UTC and IANA names, and names what it refuses', () => {
    expect(checkTimeZone('+08:00')).toBeUndefined();
    expect(checkTimeZone('UTC')).toBeUndefined();
    expect(checkTimeZone('Europe/Paris')).toBeUndefined();
    expect(checkTimeZone('Mars/Olympus')).toMatch(/time_zone "Mars\/Olympus" is neither an offset/);
  });
});

describe('id_only’s watermark floor', () => {
  const obs = (snapshotAt: string, id: string) => ({ snapshotAt, upper: { ts: null, id } });
  test('no open transaction: the newest observation', () => {
    expect(committedFloor([obs('2026-01-01 00:00:01', '10'), obs('2026-01-01 00:00:09', '25')], null)).toBe('25');
  });
  test('an open transaction: the newest observation made before it began', () => {
    const seen = [obs('2026-01-01 00:00:01', '10'), obs('2026-01-01 00:00:05', '18'), obs('2026-01-01 00:00:09', '25')];
    expect(committedFloor(seen, '2026-01-01 00:00:06.000000')).toBe('18');
    expect(committedFloor(seen, '2026-01-01 00:00:00.000000')).toBeNull();
  });
  test('ids compare as integers beyond 2^53', () => {
    expect(committedFloor([obs('2026-01-01', '18446744073709551614'), obs('2026-01-01', '9')], null)).toBe(
      '18446744073709551614',
    );
  });
});

describe('the staged-run chain', () => {
  const run = (runId: string, from: RunRecord['from'], to: RunRecord['to'], over: Partial<RunRecord> = {}) =>
    ({ runId, from, to, advancesWatermark: true, status: 'staged', plan: null, ...over }) as RunRecord;
  const a = { ts: 'a', id: '1' };
  const b = { ts: 'b', id: '2' };
  const c = { ts: 'c', id: '3' };
  test('runs load while each starts where the last ends', () => {
    const r = stagedChain([run('1', a, b), run('2', b, c)], a);
    expect(r.chain.map((x) => x.runId)).toEqual(['1', '2']);
    expect(r.broken).toEqual([]);
  });
  test('a gap (an earlier staged run cleaned away) breaks the chain there; the rest is read again', () => {
    const r = stagedChain([run('2', b, c)], a);
    expect(r.chain).toEqual([]);
    expect(r.broken[0]?.why).toMatch(/its window starts at .* but the data loaded so far ends at/);
  });
  test('a run that does not follow (a load-only run that died, with no files) is given up; the chain goes on', () => {
    const r = stagedChain([run('1', a, b), run('2', a, b, { plannedChunks: 0 }), run('3', b, c)], a);
    expect(r.chain.map((x) => x.runId)).toEqual(['1', '3']);
    expect(r.broken.map((x) => x.run.runId)).toEqual(['2']);
  });
  test('a held watermark (plan.next) is where the next staged run must start', () => {
    const held = run('1', a, c, { plan: { next: b } as RunRecord['plan'] });
    expect(stagedChain([held, run('2', b, c)], a).chain.map((x) => x.runId)).toEqual(['1', '2']);
  });
  test('without a watermark only the newest whole-table run counts', () => {
    const none = { ts: null, id: null };
    const r = stagedChain(
      [run('1', none, none, { advancesWatermark: false }), run('2', none, none, { advancesWatermark: false })],
      none,
    );
    expect(r.chain.map((x) => x.runId)).toEqual(['2']);
    expect(r.broken.map((x) => x.run.runId)).toEqual(['1']);
  });
});

describe('schema changes', () => {
  const t = (columnType: string) => mapColumns('t', [sourceColumn('c', columnType)])[0]!.type;
  test('widenings every warehouse can take', () => {
    expect(logicalChange(t('varchar(10)'), t('varchar(200)'))).toBe('widened');
    expect(logicalChange(t('varchar(200)'), t('varchar(10)'))).toBe('same');
    expect(logicalChange(t('decimal(10,2)'), t('decimal(20,6)'))).toBe('widened');
    expect(logicalChange(t('int'), t('bigint'))).toBe('widened');
    expect(logicalChange(t('int'), t('decimal(10,0)'))).toBe('widened');
    expect(logicalChange(t('int'), t('decimal(12,2)'))).toBe('widened');
    expect(logicalChange(t('float'), t('double'))).toBe('widened');
    expect(logicalChange(t('int(11)'), t('int'))).toBe('same');
  });
  test('narrowings and new types are incompatible', () => {
    expect(logicalChange(t('decimal(20,6)'), t('decimal(10,2)'))).toBe('incompatible');
    expect(logicalChange(t('decimal(10,2)'), t('decimal(10,4)'))).toBe('incompatible');
    expect(logicalChange(t('bigint'), t('int'))).toBe('incompatible');
    expect(logicalChange(t('varchar(10)'), t('int'))).toBe('incompatible');
    expect(logicalChange(t('datetime'), t('timestamp'))).toBe('incompatible');
    expect(logicalChange(t('bigint'), t('decimal(10,0)'))).toBe('incompatible');
  });
  test('added, dropped, renamed and widened columns are told apart; an unknown past is no change', () => {
    const before = [
      sourceColumn('id', 'bigint', { ordinal: 1 }),
      sourceColumn('note', 'varchar(20)', { ordinal: 2 }),
      sourceColumn('amount', 'decimal(10,2)', { ordinal: 3 }),
    ];
    const after = [
      sourceColumn('id', 'bigint', { ordinal: 1 }),
      sourceColumn('remark', 'varchar(20)', { ordinal: 2 }),
      sourceColumn('amount', 'decimal(20,6)', { ordinal: 3 }),
      sourceColumn('status', 'varchar(10)', { ordinal: 4 }),
    ];
    const diff = diffColumns(before, after);
    expect(diff.added.map((c) => c.name)).toEqual(['remark', 'status']);
    expect(diff.dropped.map((c) => c.name)).toEqual(['note']);
    expect(diff.renamed).toEqual([{ from: 'note', to: 'remark' }]);
    expect(diff.widened).toEqual([{ column: 'amount', from: 'decimal(10,2)', to: 'decimal(20,6)' }]);
    const warnings = schemaWarnings(diff, 'keep');
    expect(warnings[0]).toMatch(/column note is gone and remark is new \(a rename\?\)/);
    expect(warnings.join('\n')).toMatch(
      /column status \(varchar\(10\)\) is new at the source: this run re-reads the whole table/,
    );
    expect(warnings.join('\n')).toMatch(/column amount widened from decimal\(10,2\) to decimal\(20,6\)/);
    expect(diffColumns(null, after)).toEqual({ added: [], dropped: [], widened: [], incompatible: [], renamed: [] });
  });
  test('an incompatible change stops with table, column, both types and resync named', () => {
    const diff = diffColumns([sourceColumn('amount', 'decimal(20,6)')], [sourceColumn('amount', 'decimal(10,2)')]);
    expect(() => refuseIncompatible('shop.orders', diff)).toThrow(SchemaChangeError);
    expect(() => refuseIncompatible('shop.orders', diff)).toThrow(
      /shop\.orders: column amount changed from decimal\(20,6\) to decimal\(10,2\)/,
    );
    try {
      refuseIncompatible('shop.orders', diff);
    } catch (e) {
      expect((e as SchemaChangeError).suggestion).toContain('highwater resync -t shop.orders');
    }
  });
});
