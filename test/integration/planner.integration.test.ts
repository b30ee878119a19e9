/**
 * The planner on its own against real MariaDB: the bounds each strategy fixes in the planning snapshot, --limit cut
 * in cursor order (never key order, ties included), NULL-cursor rows with and without new cursor rows, chunk
 * boundaries by primary key, and id_only's watermark held below an open transaction. Nothing is extracted or loaded.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createMysqlSource } from '../../lambdas/adapters/mysql/index.js';
import type { TableConfig } from '../../lambdas/domain/config.js';
import { EMPTY_WATERMARK } from '../../lambdas/domain/model.js';
import { type PlanRequest, planWindow } from '../../lambdas/engine/planner.js';
import { strategyFor } from '../../lambdas/engine/strategies/index.js';
import { buildTableContext } from '../../lambdas/engine/table-context.js';
import { mapColumns } from '../../lambdas/engine/type-map.js';
import { ConfigError } from '../../lambdas/errors.js';
import type { SourceReader } from '../../lambdas/ports/index.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
let source: SourceReader;

beforeAll(async () => {
  db = await createTestDatabase('plan');
  source = createMysqlSource({ host: db.host, port: db.port, user: db.user, password: db.password });
});
afterAll(async () => {
  await source?.close();
  await db?.drop();
});
beforeEach(async () => {
  await db.conn.query('DROP TABLE IF EXISTS t');
  await db.conn.query(
    'CREATE TABLE t (id BIGINT PRIMARY KEY, updated_at DATETIME NULL, label VARCHAR(10) NOT NULL DEFAULT "x")',
  );
});

function table(over: Partial<TableConfig> = {}): TableConfig {
  const strategy = over.strategy ?? 'hybrid';
  return {
    name: `${db.database}.t`,
    sourceSchema: db.database,
    sourceTable: 't',
    strategy,
    timestampColumn: 'updated_at',
    idColumn: 'id',
    targetName: 't',
    fullSyncMode: 'replace',
    timestampFormat: 'datetime',
    ...strategyFor(strategy).defaults,
    onColumnDrop: 'keep',
    oversize: 'error',
    chunkRows: 3,
    chunkBytes: 256 * 1024 * 1024,
    chunkSeconds: 300,
    readRowsPerSecond: 20_000,
    deleteDetection: false,
    deleteDetectionEverySeconds: null,
    verifyEvery: null,
    batchSize: 100,
    dependsOn: [],
    ...over,
  };
}

async function plan(
  t: TableConfig,
  req: Partial<PlanRequest> = {},
  over: { reader?: SourceReader; pkIsPrimaryIndex?: boolean } = {},
) {
  const schema = await source.describeTable(db.database, 't');
  const built = buildTableContext(t, mapColumns(t.name, schema.columns), schema.primaryKey);
  const ctx = over.pkIsPrimaryIndex === undefined ? built : { ...built, pkIsPrimaryIndex: over.pkIsPrimaryIndex };
  return planWindow(over.reader ?? source, ctx, {
    from: EMPTY_WATERMARK,
    options: {},
    timeZone: undefined,
    history: [],
    sourceUser: 'root',
    ...req,
  });
}

/** The test's source, recording the SQL of every query and stream it is asked for. */
function recording(): { reader: SourceReader; statements: string[] } {
  const statements: string[] = [];
  const reader: SourceReader = {
    ...source,
    query: (sql, params) => {
      statements.push(sql);
      return source.query(sql, params);
    },
    stream: (sql, params) => {
      statements.push(sql);
      return source.stream(sql, params);
    },
  };
  return { reader, statements };
}

async function rows(values: [number, string | null][]): Promise<void> {
  for (const [id, ts] of values) await db.conn.query('INSERT INTO t (id, updated_at) VALUES (?, ?)', [id, ts]);
}

const T1 = '2024-01-01 00:00:00';
const T2 = '2024-01-02 00:00:00';

describe('timestamp bounds', () => {
  test('H is the greatest (ts, id) below the horizon; rows at or after it wait; chunks split by key', async () => {
    await rows([
      [1, T1],
      [2, T1],
      [3, T2],
      [4, T2],
      [5, T2],
      [6, T2],
      [7, T2],
    ]);
    await db.conn.query('INSERT INTO t (id, updated_at) VALUES (8, NOW())'); // inside clock_skew: not yet
    const p = await plan(table());
    expect(p.to).toEqual({ ts: T2, id: '7' });
    expect(p.next).toEqual(p.to);
    expect(p.horizon).toMatch(/^updated_at < \d{4}-\d\d-\d\d \d\d:\d\d:\d\d in the server's zone/);
    expect(p.chunks).toEqual([
      { index: 0, lower: null, upper: ['3'] },
      { index: 1, lower: ['3'], upper: ['6'] },
      { index: 2, lower: ['6'], upper: null },
    ]);
    expect(p.nullCursorRows).toBe(0);
  });

  test('--limit cuts at the N-th row in cursor order, inside a tie, whatever the key order', async () => {
    await rows([
      [9, T1],
      [1, T2],
      [2, T2],
      [3, T2],
    ]);
    const p = await plan(table(), { options: { limit: 2 } });
    // (T1, 9) then (T2, 1): the second row in cursor order, though id 9 is the largest key.
    expect(p.to).toEqual({ ts: T2, id: '1' });
    const rest = await plan(table(), { from: p.to });
    expect(rest.to).toEqual({ ts: T2, id: '3' });
  });

  test('NULL-cursor rows: counted, and read by a run even when no cursor row is new', async () => {
    await rows([
      [1, T1],
      [2, null],
      [3, null],
    ]);
    const first = await plan(table());
    expect(first.nullCursorRows).toBe(2);
    const again = await plan(table(), { from: first.to });
    expect(again.skipped).toBeNull();
    expect(again.to).toEqual(first.to); // no cursor range, the NULL rows only
    expect(again.chunks.length).toBeGreaterThan(0);
    await db.conn.query('UPDATE t SET updated_at = ? WHERE id IN (2, 3)', [T1]);
    expect((await plan(table(), { from: { ts: T2, id: '1' } })).skipped).toBe('no new rows in the window');
  });

  test('lag holds back what is not old enough, in the column’s own frame', async () => {
    await db.conn.query(
      'INSERT INTO t (id, updated_at) VALUES (1, NOW() - INTERVAL 2 MINUTE), (2, NOW() - INTERVAL 30 SECOND)',
    );
    const p = await plan(table({ lagSeconds: 60 }));
    expect(p.to.id).toBe('1');
  });
});

describe('id_only bounds', () => {
  // A write transaction held open is server-wide: that case runs on a private server (divergence.e2e.test.ts).
  test('no open transaction: the watermark is H, and the plan records when it observed the source', async () => {
    await rows([
      [1, T1],
      [2, T1],
    ]);
    const first = await plan(table({ strategy: 'id_only' }));
    expect(first.to).toEqual({ ts: null, id: '2' });
    expect(first.next).toEqual({ ts: null, id: '2' });
    expect(first.snapshotAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  });

  test('nothing after the watermark: nothing to do', async () => {
    await rows([[1, T1]]);
    const t = table({ strategy: 'id_only' });
    expect((await plan(t, { from: { ts: null, id: '1' } })).skipped).toBe('no new rows in the window');
  });
});

describe('lookback', () => {
  test('widens what a run reads behind the watermark, but H only moves forward and an idle table is skipped', async () => {
    await rows([
      [1, T1],
      [2, T2],
    ]);
    const t = table({ lookbackSeconds: 86_400 * 2 });
    const first = await plan(t);
    expect(first.to).toEqual({ ts: T2, id: '2' });
    expect((await plan(t, { from: first.to })).skipped).toBe('no new rows in the window');
    await rows([[3, '2024-01-03 00:00:00']]);
    const next = await plan(t, { from: first.to });
    expect(next.to).toEqual({ ts: '2024-01-03 00:00:00', id: '3' });
    // The window reaches back over the lookback: rows 1 and 2 are read again with 3.
    const schema = await source.describeTable(db.database, 't');
    const ctx = buildTableContext(t, mapColumns(t.name, schema.columns), schema.primaryKey);
    const w = ctx.strategy.window(ctx, first.to, next.to);
    const [n] = await source.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM \`${db.database}\`.t WHERE ${w.sql}`,
      w.params,
    );
    expect(Number(n?.n)).toBe(3);
  });
});

describe('chunk sizing and boundaries', () => {
  test('rows per chunk follow the table’s average row length toward chunk_bytes (chunk_rows unset)', async () => {
    await db.conn.query('INSERT INTO t (id, updated_at, label) SELECT seq, ?, "x" FROM seq_1_to_200', [T1]);
    await db.conn.query('ANALYZE TABLE t');
    const [[stats]] = (await db.conn.query(
      'SELECT AVG_ROW_LENGTH AS a FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [db.database, 't'],
    )) as unknown as [[{ a: number }]];
    expect(Number(stats.a)).toBeGreaterThan(0);
    const p = await plan(table({ strategy: 'full_sync', chunkRows: null, chunkBytes: 20 * Number(stats.a) }));
    // MySQL's estimate, 20 rows' worth of bytes: 20 rows a chunk, boundaries at every 20th key (the last one
    // closed, as 200 rows end exactly on it).
    expect(p.chunkSizing).toEqual({ rows: 20, rowBytes: Number(stats.a), by: 'chunk_bytes', estimated: true });
    expect(p.chunks.map((c) => c.upper)).toEqual(Array.from({ length: 10 }, (_, i) => [String(20 * (i + 1))]));
    // chunk_rows stays a ceiling below the byte target.
    const capped = await plan(table({ strategy: 'full_sync', chunkRows: 50, chunkBytes: 20 * Number(stats.a) }));
    expect(capped.chunks).toHaveLength(10);
    const rowsCapped = await plan(table({ strategy: 'full_sync', chunkRows: 50 }));
    expect(rowsCapped.chunkSizing).toMatchObject({ rows: 50, by: 'chunk_rows' });
    expect(rowsCapped.chunks.map((c) => c.upper)).toEqual([['50'], ['100'], ['150'], ['200']]);
  });

  test('into Redshift the chunks are the COPY layout’s files: a count COPY divides evenly, the deadline kept', async () => {
    for (let i = 1; i <= 1000; i += 100) {
      const values = Array.from({ length: 100 }, (_, k) => `(${i + k}, '${T1}')`).join(', ');
      await db.conn.query(`INSERT INTO t (id, updated_at) VALUES ${values}`);
    }
    // At most 70 rows a chunk by the deadline (1 s at 70 rows/s): 15 files, raised to 16 for 32 slices.
    const deadline = { chunkRows: null, chunkSeconds: 1, readRowsPerSecond: 70 };
    const p = await plan(table({ strategy: 'full_sync', ...deadline }), { copySlices: 32 });
    expect(p.copyLayout).toMatchObject({ files: 16, by: 'deadline', rowsPerFile: 63 });
    expect(p.chunks).toHaveLength(16);
    expect(p.rowsEstimate).toBe(1000);
    // The same table into DuckDB: chunks by the deadline alone (15), no layout.
    const local = await plan(table({ strategy: 'full_sync', ...deadline }));
    expect(local.copyLayout).toBeNull();
    expect(local.chunks).toHaveLength(15);
    // A small run into Redshift with no deadline pressure is one file.
    const one = await plan(table({ strategy: 'full_sync', chunkRows: null }), { copySlices: 4 });
    expect(one.copyLayout).toMatchObject({ files: 1, by: 'one-file' });
    expect(one.chunks).toEqual([{ index: 0, lower: null, upper: null }]);
  });

  test('a big window’s boundaries are found by walking the PRIMARY index, and are the key stream’s own', async () => {
    // 200 rows; 30 of them (ids 171–200) are too new for the window, so it holds 170.
    await db.conn.query('INSERT INTO t (id, updated_at) SELECT seq, ? FROM seq_1_to_170', [T1]);
    await db.conn.query('INSERT INTO t (id, updated_at) SELECT seq, NOW() FROM seq_171_to_200');
    await db.conn.query('ANALYZE TABLE t');
    const { reader, statements } = recording();
    for (const chunkRows of [1, 7, 17, 85, 169]) {
      statements.length = 0;
      const walked = await plan(table({ chunkRows }), {}, { reader });
      expect(statements.some((q) => q.includes('FORCE INDEX (PRIMARY)'))).toBe(true);
      expect(walked.rowsEstimate).toBe(170);
      const streamed = await plan(table({ chunkRows }), {}, { pkIsPrimaryIndex: false });
      expect(walked.chunks, `chunk_rows ${chunkRows}`).toEqual(streamed.chunks);
      expect(walked.chunks).toHaveLength(Math.ceil(170 / chunkRows));
      expect(walked.chunks.at(-1)?.upper).toEqual(170 % chunkRows === 0 ? ['170'] : null);
    }
  });

  test('a plan of more than 10,000 chunks is a ConfigError naming the table and what to raise, walked or streamed', async () => {
    await db.conn.query('INSERT INTO t (id, updated_at) SELECT seq, ? FROM seq_1_to_10000', [T1]);
    await db.conn.query('ANALYZE TABLE t');
    const message = `${db.database}.t: the run would need more than 10000 chunks of 1 rows; raise chunk_bytes (or chunk_rows), or use --max-chunks`;
    const { reader, statements } = recording();
    // The walk refuses on the count, before it seeks a single boundary.
    await expect(plan(table({ strategy: 'full_sync', chunkRows: 1 }), {}, { reader })).rejects.toThrow(ConfigError);
    await expect(plan(table({ strategy: 'full_sync', chunkRows: 1 }), {}, { reader })).rejects.toThrow(message);
    expect(statements.some((q) => q.includes('FORCE INDEX'))).toBe(false);
    const streamed = plan(table({ strategy: 'full_sync', chunkRows: 1 }), {}, { pkIsPrimaryIndex: false });
    await expect(streamed).rejects.toThrow(message);
    // 2 rows a chunk is 5,000 chunks: planned (streamed here; the walk would send 5,000 queries).
    const fits = await plan(table({ strategy: 'full_sync', chunkRows: 2 }), {}, { pkIsPrimaryIndex: false });
    expect(fits.chunks).toHaveLength(5000);
  });

  test('a small window (an incremental run’s changed rows) is streamed through its own index', async () => {
    await db.conn.query('INSERT INTO t (id, updated_at) SELECT seq, ? FROM seq_1_to_1000', [T1]);
    await db.conn.query('UPDATE t SET updated_at = ? WHERE id % 100 = 0', [T2]);
    await db.conn.query('ANALYZE TABLE t');
    const { reader, statements } = recording();
    // After the first run the window holds the 10 rows updated at T2: 1% of the table.
    const p = await plan(table({ chunkRows: 3 }), { from: { ts: T1, id: '1000' } }, { reader });
    expect(p.chunks.map((c) => c.upper)).toEqual([['300'], ['600'], ['900'], null]);
    expect(statements.some((q) => q.includes('FORCE INDEX'))).toBe(false);
  });

  test('--max-chunks: the last chunk takes the rest; an empty window is one chunk', async () => {
    await db.conn.query('INSERT INTO t (id, updated_at) SELECT seq, ? FROM seq_1_to_10', [T1]);
    const p = await plan(table({ strategy: 'full_sync', fullSyncMode: 'append' }), { options: { maxChunks: 2 } });
    expect(p.chunks).toEqual([
      { index: 0, lower: null, upper: ['3'] },
      { index: 1, lower: ['3'], upper: null },
    ]);
    await db.conn.query('DELETE FROM t');
    expect((await plan(table({ strategy: 'full_sync' }))).chunks).toEqual([{ index: 0, lower: null, upper: null }]);
  });
});
