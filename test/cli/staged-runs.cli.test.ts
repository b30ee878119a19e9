/**
 * Staged runs (`sync --backup-only`) as a user drives them, every step a spawned `highwater` process on the harness's
 * multi-connection config dir (private MariaDB, local staging, the SQLite ledger, DuckDB): a later plain sync loads
 * what waits; a staged run whose files were force-cleaned can neither be loaded nor let the watermark pass its window;
 * validate-counts while a run waits says the warehouse is behind the source.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createHarness, type Harness } from '../support/harness.js';
import { pipelineCli } from '../support/pipeline-cli.js';
import { mysqlTableCells, queryWarehouse, warehouseCells, warehouseColumns } from '../support/warehouse-file.js';

let h: Harness;
const cli = pipelineCli(() => h);
const { hw, fq, configure, syncOk } = cli;
const sync = (table: string, ...extra: string[]) => cli.run('sync', table, ...extra);

interface RunJson {
  runId: string;
  status: string;
  error: string | null;
  rowsExtracted: number;
  from: { ts: string | null; id: string | null };
  to: { ts: string | null; id: string | null };
  chunks: { key: string }[];
}

function ledger(table: string): {
  watermark: { watermark: { ts: string | null; id: string | null } } | null;
  runs: RunJson[];
} {
  const r = hw('watermark', 'get', '-p', 'test', '-t', fq(table), '--show-files', '--json');
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
}

/** Whether the warehouse has the table (the file may not exist yet: a --backup-only run never opens it). */
async function inWarehouse(table: string): Promise<boolean> {
  if (!existsSync(join(h.home, 'warehouse.duckdb'))) return false;
  return (await warehouseColumns(h.home, table)).length > 0;
}

async function warehouseCount(table: string): Promise<number> {
  const [row] = await queryWarehouse(h.home, `SELECT count(*) AS n FROM "public"."${table}"`);
  return Number(row?.n);
}

async function expectInStep(table: string, columns = ['id', 'label', 'updated_at']): Promise<void> {
  const source = await mysqlTableCells(h.db.conn, table, columns);
  expect(source.length).toBeGreaterThan(0);
  expect(await warehouseCells(h.home, table, columns)).toEqual(source);
}

/** `n` rows from `first` on, one second apart from `start` (fixed, old timestamps: far below the commit horizon). */
function rows(first: number, n: number, start: string): string {
  return Array.from(
    { length: n },
    (_, i) => `(${first + i}, 'row-${first + i}', TIMESTAMPADD(SECOND, ${i}, '${start}'))`,
  ).join(', ');
}

beforeAll(async () => {
  h = await createHarness('stagedcli');
});
afterAll(async () => h?.cleanup());

test('a run staged by --backup-only is loaded by the next plain sync even when the source has nothing new', async () => {
  await h.db.conn.query(
    `CREATE TABLE waiting (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO waiting VALUES ${rows(1, 7, '2024-01-01 00:00:00')};`,
  );
  configure('waiting', 'cdc_strategy: hybrid\nchunk_rows: 3');

  const staged = syncOk('waiting', '--backup-only');
  expect(staged.table).toMatchObject({ status: 'staged', rowsExtracted: 7, files: 3 });
  expect(ledger('waiting').watermark).toBeNull();
  expect(await inWarehouse('waiting')).toBe(false);

  const loaded = syncOk('waiting');
  expect(loaded.warnings).toContain(`loading 1 staged run(s) left by earlier runs: ${staged.table.runId}`);
  expect(loaded.table).toMatchObject({ status: 'committed', rowsLoaded: 7 });
  expect(loaded.table.watermarkAfter).toEqual({ ts: '2024-01-01 00:00:06', id: '7' });
  await expectInStep('waiting');
  const after = ledger('waiting');
  expect(after.watermark?.watermark).toEqual({ ts: '2024-01-01 00:00:06', id: '7' });
  expect(after.runs.find((r) => r.runId === staged.table.runId)?.status).not.toBe('staged');

  // Loaded once: the next sync has nothing to do.
  expect(syncOk('waiting').table.status).toBe('skipped');
});

test('the older of two staged runs force-cleaned: --redshift-only does not commit past its window; sync restores every row', async () => {
  await h.db.conn.query(
    `CREATE TABLE gap (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO gap VALUES ${rows(1, 150, '2024-01-01 00:00:00')};`,
  );
  configure('gap', 'cdc_strategy: hybrid\nchunk_rows: 50');

  const older = syncOk('gap', '--backup-only');
  expect(older.table).toMatchObject({ status: 'staged', rowsExtracted: 150, files: 3 });
  await h.db.conn.query(`INSERT INTO gap VALUES ${rows(151, 60, '2024-02-01 00:00:00')}`);
  const newer = syncOk('gap', '--backup-only');
  // The second staged run continues where the first one ends: it holds only the new rows.
  expect(newer.table).toMatchObject({ status: 'staged', rowsExtracted: 60 });
  const olderId = older.table.runId!;
  const newerId = newer.table.runId!;

  // s3clean selects files by --pattern (a glob on the key below the table's prefix) or --older-than; the run's
  // folder `run=<id>/` names exactly the older run's files.
  const pattern = `run=${olderId}/*`;
  const listed = hw('s3clean', 'list', '-p', 'test', '-t', fq('gap'), '--pattern', pattern, '--json');
  expect(listed.code, listed.err).toBe(0);
  const files = (JSON.parse(listed.out) as { files: { key: string; runId: string; safe: boolean }[] }).files;
  expect(files.length).toBeGreaterThanOrEqual(3);
  expect(files.every((f) => f.runId === olderId && !f.safe)).toBe(true);
  const newerFiles = ledger('gap')
    .runs.find((r) => r.runId === newerId)!
    .chunks.map((c) => c.key);
  expect(newerFiles.length).toBeGreaterThan(0);

  const clean = hw('s3clean', 'clean', '-p', 'test', '-t', fq('gap'), '--pattern', pattern, '--force', '--yes');
  expect(clean.code, clean.err).toBe(0);
  expect(clean.out).toContain(`run ${olderId}: staged → failed`);
  expect(clean.out).not.toContain(newerId);
  for (const f of files) expect(existsSync(join(h.home, 'staging', f.key))).toBe(false);
  for (const k of newerFiles) expect(existsSync(join(h.home, 'staging', k))).toBe(true);
  const cleaned = ledger('gap').runs;
  expect(cleaned.find((r) => r.runId === olderId)?.status).toBe('failed');
  expect(cleaned.find((r) => r.runId === newerId)?.status).toBe('staged');

  // The newer run does not follow the committed watermark (none) any more: loading it would commit past the
  // 150 rows whose files are gone.
  const ro = sync('gap', '--redshift-only');
  expect(ro.code, ro.out + ro.err).toBe(0);
  expect(ro.table.status).toBe('skipped');
  expect(ro.table.rowsLoaded).toBe(0);
  const afterRo = ledger('gap');
  expect(afterRo.watermark).toBeNull();
  const given = afterRo.runs.find((r) => r.runId === newerId)!;
  expect(given.status).toBe('failed');
  expect(given.error).toContain('not loaded');
  expect(await inWarehouse('gap')).toBe(false);

  // A plain sync reads again from the committed watermark: every row, the deleted window's 150 too.
  const s = syncOk('gap');
  expect(s.table).toMatchObject({ status: 'committed', rowsExtracted: 210, rowsLoaded: 210 });
  expect(await warehouseCount('gap')).toBe(210);
  await expectInStep('gap');
  expect(ledger('gap').watermark?.watermark).toEqual({ ts: '2024-02-01 00:00:59', id: '210' });
});

test('validate-counts while a staged run waits: the warehouse is behind the source, and in step once it is loaded', async () => {
  await h.db.conn.query(
    `CREATE TABLE counted (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO counted VALUES ${rows(1, 5, '2024-01-01 00:00:00')};`,
  );
  configure('counted', 'cdc_strategy: hybrid');
  syncOk('counted');
  await h.db.conn.query(`INSERT INTO counted VALUES ${rows(6, 3, '2024-02-01 00:00:00')}`);
  expect(syncOk('counted', '--backup-only').table).toMatchObject({ status: 'staged', rowsExtracted: 3 });

  const text = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', fq('counted'));
  const json = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', fq('counted'), '--json');
  const report = JSON.parse(json.out) as {
    source: { total: number; upToWatermark: number; notYetSynced: number };
    warehouse: number;
    compared: number;
    match: boolean;
    notes: string[];
  };
  // The 3 staged rows are source rows the warehouse does not have yet: +3 on the source's side, never a surplus
  // in the warehouse.
  expect(report.source).toEqual({ total: 8, upToWatermark: 5, notYetSynced: 3 });
  expect(report.warehouse).toBe(5);
  expect(report.warehouse - report.source.total).toBe(-3);
  expect(text.out).toMatch(/source after the watermark \(not yet synced\)\s+3\b/);
  expect(text.out).toContain('note: 3 source row(s) are after the watermark and wait for the next run');
  expect(text.out).not.toMatch(/\(\+\d+\)/);
  // Behind is not a loss: the contract compares up to the committed watermark (exit 0).
  expect(report.match).toBe(true);
  expect(json.code, json.err).toBe(0);
  expect(text.code, text.err).toBe(0);
  expect(text.out).toContain('verdict: OK — source up to the watermark and warehouse both have 5 rows');

  const loaded = syncOk('counted', '--redshift-only');
  expect(loaded.table).toMatchObject({ status: 'committed', rowsLoaded: 3 });
  const after = hw('watermark-count', 'validate-counts', '-p', 'test', '-t', fq('counted'), '--json');
  expect(after.code, after.err).toBe(0);
  expect(JSON.parse(after.out)).toMatchObject({
    source: { total: 8, upToWatermark: 8, notYetSynced: 0 },
    warehouse: 8,
    match: true,
  });
  await expectInStep('counted');
});
