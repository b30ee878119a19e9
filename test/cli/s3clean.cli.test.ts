/**
 * `highwater s3clean` as a user runs it: a spawned CLI against a multi-connection config dir (the harness's), real
 * MariaDB, local staging, the SQLite ledger and DuckDB. Syncs run in-process through the harness.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from '../support/cli.js';
import { createHarness, type Harness } from '../support/harness.js';

let h: Harness;
let t: string;

function hw(...args: string[]) {
  return runCli(['--config-dir', h.configDir, '--home', h.home, ...args], { cwd: h.dir });
}

interface ListedFile {
  key: string;
  kind: string;
  runId: string | null;
  runStatus: string | null;
  safe: boolean;
  reason: string;
}
interface Listing {
  files: ListedFile[];
  totals: { files: number; safeFiles: number; unsafeFiles: number };
}

function list(...extra: string[]): Listing {
  const r = hw('s3clean', 'list', '-p', 'test', '-t', t, '--json', ...extra);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as Listing;
}

interface RunJson {
  runId: string;
  status: string;
  error: string | null;
  cleanedAt: string | null;
  chunks: { key: string }[];
}
function runs(): RunJson[] {
  const r = hw('watermark', 'get', '-p', 'test', '-t', t, '--show-files', '--json');
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out) as { runs: RunJson[] }).runs;
}

const staged = (key: string) => existsSync(join(h.home, 'staging', key));

beforeAll(async () => {
  h = await createHarness('s3clean');
  t = `${h.db.database}.items`;
  await h.db.conn.query(
    `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL);
     INSERT INTO items VALUES (1,'a','2024-01-01 00:00:00'),(2,'b','2024-01-01 00:00:00'),(3,'c','2024-01-02 00:00:00'),
       (4,'d','2024-01-03 00:00:00'),(5,'e','2024-01-04 00:00:00')`,
  );
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 2\n    lag: 0`);
});
afterAll(async () => h?.cleanup());

test('after --backup-only the files are not safe: clean keeps them; --force names and deletes them and fails the run', async () => {
  const b = await h.sync([t], { backupOnly: true });
  expect(b.tables[0]?.status, b.tables[0]?.error ?? '').toBe('staged');

  const l = list();
  expect(l.files.length).toBeGreaterThanOrEqual(3);
  expect(l.files.every((f) => !f.safe && f.runStatus === 'staged')).toBe(true);
  expect(l.totals).toMatchObject({ files: l.files.length, safeFiles: 0, unsafeFiles: l.files.length });
  const text = hw('s3clean', 'list', '-p', 'test', '-t', t);
  expect(text.code).toBe(0);
  expect(text.out).toContain('NO');
  expect(text.out).toMatch(new RegExp(`total ${l.files.length} file\\(s\\).*0 safe to delete`));

  const kept = hw('s3clean', 'clean', '-p', 'test', '-t', t);
  expect(kept.code, kept.err).toBe(0);
  expect(kept.err).toContain(`kept ${l.files.length} file(s) that are not safe to delete`);
  expect(kept.err).toContain('--force');
  expect(kept.out).toContain('deleted 0 file(s)');
  expect(l.files.every((f) => staged(f.key))).toBe(true);

  // While a run holds the table's lease (a --redshift-only load could be reading them) --force is refused.
  const rt = await h.runtime();
  const state = await rt.state(rt.pipeline('test'));
  await state.acquireLease(h.stateKey(t), 'loader-run', 600);
  const refused = hw('s3clean', 'clean', '-p', 'test', '-t', t, '--force');
  expect(refused.code).toBe(1);
  expect(refused.err).toContain('refusing --force');
  expect(refused.err).toContain('loader-run');
  expect(l.files.every((f) => staged(f.key))).toBe(true);
  await state.releaseLease(h.stateKey(t), 'loader-run');
  await rt.close();

  const dry = hw('s3clean', 'clean', '-p', 'test', '-t', t, '--force', '--dry-run');
  expect(dry.code, dry.err).toBe(0);
  expect(dry.err).toContain('nothing was deleted');
  expect(l.files.every((f) => staged(f.key))).toBe(true);
  expect(runs()[0]?.status).toBe('staged');

  const forced = hw('s3clean', 'clean', '-p', 'test', '-t', t, '--force', '--yes');
  expect(forced.code, forced.err).toBe(0);
  const runId = l.files[0]!.runId!;
  for (const f of l.files) {
    expect(forced.err).toContain(`will delete ${f.key} of run ${runId} (staged)`);
    expect(staged(f.key)).toBe(false);
  }
  expect(forced.out).toContain(`run ${runId}: staged → failed`);
  const [run] = runs();
  expect(run).toMatchObject({ runId, status: 'failed', error: 'staged files deleted by s3clean --force' });
  expect(run?.cleanedAt).not.toBeNull();

  // --redshift-only finds nothing to load; the next normal sync re-reads the window the deleted files held.
  const ro = await h.sync([t], { redshiftOnly: true });
  expect(ro.tables[0]?.status).toBe('skipped');
  expect(ro.tables[0]?.error ?? null).toBeNull();
  const s = await h.sync([t]);
  expect(s.tables[0]?.error ?? null).toBeNull();
  expect(s.tables[0]?.rowsLoaded).toBe(5);
});

test('after a normal sync: --pattern and --dry-run narrow or change nothing; clean --older-than 0s cleans the run', async () => {
  const committed = runs().find((r) => r.status === 'committed')!;
  expect(committed.chunks.length).toBeGreaterThanOrEqual(3);
  const l = list();
  expect(l.files.every((f) => f.safe && f.runId === committed.runId)).toBe(true);
  expect(l.files.map((f) => f.kind)).toContain('manifest');

  expect(list('--pattern', '*.json').files.map((f) => f.kind)).toEqual(['manifest']);
  expect(list('--older-than', '7d').files).toEqual([]);

  const dry = hw('s3clean', 'clean', '-p', 'test', '-t', t, '--older-than', '0s', '--dry-run');
  expect(dry.code, dry.err).toBe(0);
  expect(dry.out).toContain(`would delete ${l.files.length} file(s)`);
  expect(dry.out).toContain(`run ${committed.runId}: committed → cleaned (dry run)`);
  expect(list().files).toHaveLength(l.files.length);

  const first = committed.chunks[0]!.key;
  const one = hw('s3clean', 'clean', '-p', 'test', '-t', t, '--pattern', 'chunk-00000.parquet');
  expect(one.code, one.err).toBe(0);
  expect(one.out).toContain(`deleted  ${first}`);
  expect(one.out).toContain('deleted 1 file(s)');
  expect(staged(first)).toBe(false);
  expect(list().files).toHaveLength(l.files.length - 1);
  expect(runs().find((r) => r.runId === committed.runId)?.status).toBe('committed');

  const all = hw('s3clean', 'clean', '-p', 'test', '-t', t, '--older-than', '0s', '--json');
  expect(all.code, all.err).toBe(0);
  const result = JSON.parse(all.out) as { deleted: { key: string }[]; runUpdates: { to: string }[] };
  expect(result.deleted).toHaveLength(l.files.length - 1);
  expect(result.runUpdates).toEqual([expect.objectContaining({ runId: committed.runId, to: 'cleaned' })]);
  const after = runs().find((r) => r.runId === committed.runId)!;
  expect(after.status).toBe('cleaned');
  expect(after.cleanedAt).not.toBeNull();
  for (const c of after.chunks) expect(staged(c.key)).toBe(false);
  const empty = hw('s3clean', 'list', '-p', 'test', '-t', t);
  expect(empty.out).toContain('no staged files');
});

test('a bad --older-than and an unknown table exit 1 naming what is wrong; --help has an example', () => {
  for (const sub of ['list', 'clean']) {
    const bad = hw('s3clean', sub, '-p', 'test', '-t', t, '--older-than', 'soon');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--older-than "soon" is not a duration');
  }
  const unknown = hw('s3clean', 'list', '-p', 'test', '-t', `${h.db.database}.nope`);
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain(`${h.db.database}.nope`);
  const unknownDefault = hw('s3clean', 'clean', '-t', `${h.db.database}.nope`);
  expect(unknownDefault.code).toBe(1);
  expect(unknownDefault.err).toContain('has no runs and no staged files');
  const help = hw('s3clean', 'clean', '--help');
  expect(help.code).toBe(0);
  expect(help.out).toContain('Examples:');
});
