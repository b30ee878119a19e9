/**
 * `highwater watermark-count validate-counts` as a user runs it: a spawned CLI on the harness's config dir, real
 * MariaDB and DuckDB. A lagging table is not a mismatch; a row missing from the warehouse is (exit 4).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from '../support/cli.js';
import { createHarness, type Harness } from '../support/harness.js';

let h: Harness;
let items: string;
let events: string;

function hw(...args: string[]) {
  return runCli(['--config-dir', h.configDir, '--home', h.home, ...args], { cwd: h.dir });
}

interface Report {
  source: { total: number; upToWatermark: number | null; notYetSynced: number | null };
  ledger: { committedRuns: number; rowsExtracted: number; rowsLoaded: number };
  warehouse: number;
  compared: number;
  match: boolean;
  verdict: string;
  notes: string[];
}

function counts(table: string): { code: number | null; report: Report; err: string } {
  const r = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', table, '--json');
  return { code: r.code, report: JSON.parse(r.out) as Report, err: r.err };
}

beforeAll(async () => {
  h = await createHarness('wmcount');
  items = `${h.db.database}.items`;
  events = `${h.db.database}.events`;
  await h.db.conn.query(
    `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL);
     INSERT INTO items VALUES (1,'a','2024-01-01 00:00:00'),(2,'b','2024-01-01 00:00:00'),(3,'c','2024-01-02 00:00:00'),
       (4,'d','2024-01-03 00:00:00'),(5,'e','2024-01-04 00:00:00');
     CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(10) NOT NULL);
     INSERT INTO events VALUES (1,'keep'),(2,'skip'),(3,'keep'),(4,'it''s'),(5,'keep');
     CREATE TABLE picks (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL);
     INSERT INTO picks VALUES (1,'x','2024-01-01 00:00:00'),(2,'y','2024-01-02 00:00:00'),(3,'x','2024-01-03 00:00:00');`,
  );
  h.writePipeline(
    [
      `  ${items}:\n    cdc_strategy: hybrid\n    chunk_rows: 2\n    lag: 0`,
      `  ${events}:\n    cdc_strategy: full_sync\n    full_sync_mode: replace\n    additional_where: "kind <> 'skip'"`,
      `  ${h.db.database}.ghost:\n    cdc_strategy: id_only`,
      `  ${h.db.database}.picks:\n    cdc_strategy: custom_sql\n    lag: 0\n    custom_query: "SELECT * FROM {table_name} WHERE updated_at > :last_timestamp AND updated_at <= :upper_timestamp AND label = 'x'"`,
    ].join('\n'),
  );
});
afterAll(async () => h?.cleanup());

test('equal counts exit 0; rows after the watermark are reported as not yet synced, not as a loss', async () => {
  expect((await h.sync([items])).status).toBe('success');
  const text = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', items);
  expect(text.code, text.err).toBe(0);
  expect(text.out).toContain('verdict: OK — source up to the watermark and warehouse both have 5 rows');

  await h.db.conn.query(`INSERT INTO items VALUES (6,'f','2024-02-01 00:00:00'),(7,'g','2024-02-02 00:00:00')`);
  const lag = counts(items);
  expect(lag.code, lag.err).toBe(0);
  expect(lag.report).toMatchObject({
    source: { total: 7, upToWatermark: 5, notYetSynced: 2 },
    warehouse: 5,
    compared: 5,
    match: true,
  });
  expect(lag.report.notes.join('\n')).toContain('2 source row(s) are after the watermark');

  // An updated row is loaded again by the next run: the ledger exceeds the warehouse, which is fine and explained.
  await h.db.conn.query(`UPDATE items SET label = 'a2', updated_at = '2024-03-01 00:00:00' WHERE id = 1`);
  expect((await h.sync([items])).status).toBe('success');
  const merged = counts(items);
  expect(merged.code, merged.err).toBe(0);
  expect(merged.report.ledger).toMatchObject({ committedRuns: 2, rowsLoaded: 8 });
  expect(merged.report.warehouse).toBe(7);
  expect(merged.report.notes.join('\n')).toContain('can exceed the warehouse');
});

test('the source count stays within additional_where (operator SQL with a quote in the data)', async () => {
  expect((await h.sync([events])).status).toBe('success');
  const r = counts(events);
  expect(r.code, r.err).toBe(0);
  expect(r.report).toMatchObject({ source: { total: 4, upToWatermark: null }, warehouse: 4, match: true });
});

test('full_sync: a second run doubles the ledger, which is explained; custom_sql counts what its query returns', async () => {
  expect((await h.sync([events])).status).toBe('success');
  const again = counts(events);
  expect(again.code, again.err).toBe(0);
  expect(again.report.ledger.rowsLoaded).toBe(8);
  expect(again.report.notes.join('\n')).toContain('each of which loads the whole table again');

  const picks = `${h.db.database}.picks`;
  const s = await h.sync([picks]);
  expect(s.tables[0]?.error ?? null).toBeNull();
  const r = counts(picks);
  expect(r.code, r.err).toBe(0);
  expect(r.report).toMatchObject({ source: { total: 2, upToWatermark: null }, warehouse: 2, match: true });
  expect(r.report.notes.join('\n')).toContain('custom_sql');
});

test('a row missing from the warehouse exits 4 naming the table and both numbers', async () => {
  const db = await DuckDBInstance.create(join(h.home, 'warehouse.duckdb'));
  const conn = await db.connect();
  await conn.run('DELETE FROM "public"."items" WHERE "id" = 3');
  conn.closeSync();
  db.closeSync();

  const r = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', items);
  expect(r.code).toBe(4);
  expect(r.out).toContain(
    'verdict: MISMATCH — source up to the watermark has 7 rows, the warehouse 6 (-1): rows are missing from the warehouse',
  );
  expect(r.err).toContain(`${items}: the source up to the watermark has 7 rows, the warehouse public.items has 6`);
  const j = counts(items);
  expect(j.code).toBe(4);
  expect(j.report).toMatchObject({ compared: 7, warehouse: 6, match: false });
});

test('a row changed after the last run is within the bound (exit 0); one deleted at the source is extra (exit 4)', async () => {
  const moved = `${h.db.database}.moved`;
  await h.db.conn.query(
    `CREATE TABLE moved (id INT PRIMARY KEY, updated_at DATETIME NOT NULL);
     INSERT INTO moved VALUES (1,'2024-01-01 00:00:00'),(2,'2024-01-02 00:00:00'),(3,'2024-01-03 00:00:00'),(4,'2024-01-04 00:00:00');`,
  );
  const pipeline = join(h.configDir, 'pipelines', 'test.yml');
  writeFileSync(pipeline, `${readFileSync(pipeline, 'utf8')}  ${moved}: {}\n`);
  expect((await h.sync([moved])).status).toBe('success');
  // Row 1 moves past the watermark: the source up to it has 3 rows, the warehouse still 4 (row 1's old version).
  await h.db.conn.query("UPDATE moved SET updated_at = '2024-02-01 00:00:00' WHERE id = 1");
  const within = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', moved);
  expect(within.code, within.out + within.err).toBe(0);
  expect(within.out).toContain(
    'verdict: OK — the warehouse has 4 rows: all 3 of the source up to the watermark, and 1 more',
  );
  expect(counts(moved).report).toMatchObject({ compared: 3, warehouse: 4, match: true, verdict: 'within' });
  // Row 2 is deleted at the source: the warehouse now holds more rows than the whole source.
  await h.db.conn.query('DELETE FROM moved WHERE id = 2');
  const extra = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', moved);
  expect(extra.code).toBe(4);
  expect(extra.out).toContain('verdict: MISMATCH — the whole source has 3 rows, the warehouse 4 (+1)');
  expect(counts(moved).report).toMatchObject({ warehouse: 4, match: false, verdict: 'extra' });
});

test('an unknown table exits 1, whether not configured or missing from the source', () => {
  const unknown = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', `${h.db.database}.nope`);
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain(`${h.db.database}.nope`);
  const ghost = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', `${h.db.database}.ghost`);
  expect(ghost.code).toBe(1);
  expect(ghost.err).toContain(`table ${h.db.database}.ghost does not exist in the source database`);
  const help = hw('watermark-count', 'validate-counts', '--help');
  expect(help.out).toContain('Example:');
});
