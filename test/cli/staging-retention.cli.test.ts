/**
 * Local staging stays bounded, as a user sees it: a spawned CLI on the harness's config (private MariaDB, local
 * staging, SQLite ledger, DuckDB). Files of committed runs go after the sync that committed them — or once
 * `processing.keep_staged_files` has passed — and never a file of a run that is not committed; `status` shows how
 * much disk the home takes.
 */
import { type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createHarness, type Harness } from '../support/harness.js';
import { type PipelineCli, pipelineCli } from '../support/pipeline-cli.js';

let h: Harness;
let cli: PipelineCli;
let items: string;

/** The staged Parquet and JSON files of the table, by run folder. */
function stagedByRun(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(join(h.home, 'staging'), { recursive: true, withFileTypes: true });
  } catch {
    return out;
  }
  for (const d of entries) {
    if (!d.isFile()) continue;
    const run = /run=([^/]+)/.exec(d.parentPath)?.[1] ?? '?';
    out[run] = [...(out[run] ?? []), d.name];
  }
  return out;
}

interface LedgerRun {
  runId: string;
  status: string;
  cleanedAt: string | null;
}
function ledger(): LedgerRun[] {
  const r = cli.hw('watermark', 'get', '-p', 'test', '-t', items, '--json');
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out) as { runs: LedgerRun[] }).runs;
}

const TABLE = `cdc_strategy: hybrid\nchunk_rows: 40`;

beforeAll(async () => {
  h = await createHarness('retain');
  cli = pipelineCli(() => h);
  items = cli.fq('items');
  await h.db.conn.query(
    `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO items SELECT seq, CONCAT('item-', seq), '2024-01-01 00:00:00' FROM seq_1_to_100;`,
  );
  cli.configure('items', TABLE);
}, 120_000);
afterAll(async () => h?.cleanup());

test('files of a run not yet committed stay; once the run commits, its files and those it loaded go', async () => {
  const staged = cli.syncOk('items', '--backup-only');
  expect(staged.table.status).toBe('staged');
  const stagedRun = staged.table.runId!;
  // 100 rows in chunks of 40: three Parquet files, kept because --redshift-only has yet to load them.
  expect(stagedByRun()[stagedRun]?.filter((f) => f.endsWith('.parquet'))).toHaveLength(3);
  expect(staged.err).not.toContain('staging: removed');

  await h.db.conn.query(
    `INSERT INTO items SELECT seq, CONCAT('item-', seq), '2024-01-02 00:00:00' FROM seq_101_to_130`,
  );
  const loaded = cli.syncOk('items');
  expect(loaded.table).toMatchObject({ status: 'committed', rowsLoaded: 130 });
  // Both runs committed (the staged one with the run that loaded it): every file of both is gone.
  expect(stagedByRun()).toEqual({});
  expect(loaded.err).toMatch(/staging: removed \d+ files \([\d.]+ kB\) of 2 committed runs/);
  const runs = ledger();
  for (const id of [stagedRun, loaded.table.runId!]) {
    const run = runs.find((r) => r.runId === id);
    expect(run?.status, id).toBe('committed');
    expect(run?.cleanedAt, id).not.toBeNull();
  }
  expect(await h.warehouseRows(`public.items`, 'id')).toHaveLength(130);
});

test('keep_staged_files keeps them that long; past it, the next sync removes them even with nothing to sync', async () => {
  h.writePipeline(`  ${items}:\n    cdc_strategy: hybrid\n    chunk_rows: 40`, { keepStagedFiles: '7d' });
  await h.db.conn.query(
    `INSERT INTO items SELECT seq, CONCAT('item-', seq), '2024-01-03 00:00:00' FROM seq_131_to_150`,
  );
  const kept = cli.syncOk('items');
  expect(kept.table).toMatchObject({ status: 'committed', rowsLoaded: 20 });
  expect(stagedByRun()[kept.table.runId!]).toEqual(expect.arrayContaining(['chunk-00000.parquet', 'manifest.json']));
  expect(kept.err).not.toContain('staging: removed');

  h.writePipeline(`  ${items}:\n    cdc_strategy: hybrid\n    chunk_rows: 40`, { keepStagedFiles: '0s' });
  const idle = cli.syncOk('items');
  expect(idle.table.status).toBe('skipped');
  expect(idle.err).toMatch(/staging: removed 2 files \([\d.]+ kB\) of 1 committed run/);
  expect(stagedByRun()).toEqual({});
});

test('a keep_staged_files that is not a duration is refused with the file and line, before anything runs', () => {
  h.writePipeline(`  ${items}:\n    cdc_strategy: hybrid`, { keepStagedFiles: 'forever' });
  const r = cli.hw('sync', '-p', 'test', '-t', items);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/pipelines\/test\.yml:\d+(:\d+)?: .*keep_staged_files.*"forever" is not a duration/);
  h.writePipeline(`  ${items}:\n    ${TABLE.replace('\n', '\n    ')}`);
});

test('status shows how much disk the home takes, in all and per entry', () => {
  const text = cli.hw('status', '-p', 'test');
  expect(text.code, text.err).toBe(0);
  expect(text.out).toMatch(
    new RegExp(
      `^home {4}${h.home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} {2}[\\d.]+ [kM]?B \\(.*state\\.sqlite [\\d.]+ [kM]?B.*\\)$`,
      'm',
    ),
  );
  expect(text.out).toMatch(/warehouse\.duckdb [\d.]+ [kM]?B/);
  const json = cli.hw('status', '-p', 'test', '--json');
  const disk = (
    JSON.parse(json.out) as { disk: { home: string; bytes: number; entries: { name: string; bytes: number }[] } }
  ).disk;
  expect(disk.home).toBe(h.home);
  expect(disk.entries.map((e) => e.name)).toEqual(
    expect.arrayContaining(['staging/', 'state.sqlite', 'warehouse.duckdb']),
  );
  expect(disk.bytes).toBe(disk.entries.reduce((n, e) => n + e.bytes, 0));
  expect(disk.entries.find((e) => e.name === 'warehouse.duckdb')!.bytes).toBeGreaterThan(0);
});
