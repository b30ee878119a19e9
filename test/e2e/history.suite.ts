/**
 * History tables (SCD type 2) end to end on real MariaDB and a real warehouse (DuckDB, or the Redshift Data API
 * stand-in over PostgreSQL): rounds of inserts, updates of tracked and ignored columns, NULL and '' , deletes and
 * re-inserts under a composite business key; after each round the whole version history is compared row by row with
 * what the rounds imply, every `_hw_row_hash` with the MD5 this test computes itself (the same on both engines), and
 * every `_hw_valid_from`/`_hw_valid_to` with the run that opened/closed it. Reruns, a crash after the load and
 * before the commit, and a repair change no history.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { getTableConfig } from '../../lambdas/engine/config/index.js';
import { WHOLE_RANGE } from '../../lambdas/engine/verify/side-sql.js';
import { verifyTable } from '../../lambdas/engine/verify/verify-table.js';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import type { AwsStandins } from '../support/aws-standins.js';
import { createHarness, type Harness } from '../support/harness.js';

/** A source row: (id, region) is the business key; last_seen_at is ignored by history. */
interface Row {
  id: number;
  region: string;
  name: string | null;
  score: number | null;
  seen: string | null;
}

/** One version as the test expects it: the row, and the rounds (1-based committed runs) that opened and closed it. */
interface Version extends Row {
  from: number;
  to: number | null;
}

const CURSOR = (round: number) => `2024-01-${String(round).padStart(2, '0')} 00:00:00.000000`;

/** The tracked columns' canonical text as engine/history.ts defines it, hashed: what both warehouses must store. */
function expectedHash(r: Row, updatedAt: string): string {
  const parts: [string, string | null][] = [
    ['id', String(r.id)],
    ['name', r.name],
    ['region', r.region],
    ['score', r.score === null ? null : String(r.score)],
    ['updated_at', updatedAt],
  ];
  const text = parts.map(([n, v]) => (v === null ? '' : `${n}\u001d${v}\u001f`)).join('');
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function instant(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  const s = String(v)
    .replace(' ', 'T')
    .replace(/([+-]\d\d)$/, '$1:00');
  const t = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(s) ? s : `${s}Z`);
  if (Number.isNaN(t)) throw new Error(`not an instant: ${String(v)}`);
  return t;
}

/** Changes the warehouse behind Highwater's back (DuckDB file, or the stand-in's PostgreSQL). */
export type WarehouseWriter = (h: Harness, sql: string) => Promise<void>;

export function describeHistory(write: WarehouseWriter, startStandins?: () => Promise<AwsStandins>): void {
  /** The source as the test models it, with the round each row was last written in (its updated_at). */
  const source = new Map<string, { row: Row; round: number }>();
  /** The history the rounds imply; openedAt: the round of the row each version was opened from. */
  const versions: Version[] = [];
  const openedAt = new Map<number, number>();
  let round = 0;
  let h: Harness;
  let aws: AwsStandins | undefined;
  beforeAll(async () => {
    aws = await startStandins?.();
  });
  afterAll(async () => aws?.stop());
  beforeEach(async () => {
    source.clear();
    versions.length = 0;
    openedAt.clear();
    round = 0;
    h = await createHarness('history', aws);
    await h.db.conn.query(`CREATE TABLE dims (
      id INT NOT NULL, region VARCHAR(10) NOT NULL, name VARCHAR(50) NULL, score INT NULL,
      last_seen_at DATETIME(6) NULL, updated_at DATETIME(6) NOT NULL, PRIMARY KEY (id, region))`);
  });
  afterEach(async () => h.cleanup());

  const t = () => `${h.db.database}.dims`;

  function pipeline(extra = ''): void {
    h.writePipeline(`  ${t()}:
    cdc_strategy: hybrid
    cdc_timestamp_column: updated_at
    cdc_id_column: id
    history: scd2
    business_key: [id, region]
    history_ignore_columns: [last_seen_at]
    delete_detection: hard
    lookback: 3650d
    lag: 0
    chunk_rows: 2${extra}`);
  }

  async function writeSource(rows: Row[], deletes: [number, string][] = []): Promise<void> {
    round++;
    for (const r of rows) {
      await h.db.conn.query(
        `INSERT INTO dims (id, region, name, score, last_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE name = VALUES(name), score = VALUES(score), last_seen_at = VALUES(last_seen_at), updated_at = VALUES(updated_at)`,
        [r.id, r.region, r.name, r.score, r.seen, CURSOR(round)],
      );
    }
    for (const [id, region] of deletes)
      await h.db.conn.query('DELETE FROM dims WHERE id = ? AND region = ?', [id, region]);
  }

  /** What one committed run does to the expected history, given the source now (the model of history.ts). */
  function expectRun(run: number): void {
    const current = (k: string) => versions.find((v) => `${v.id}|${v.region}` === k && v.to === null);
    for (const [k, { row, round: r }] of source) {
      const v = current(k);
      const same = v && v.name === row.name && v.score === row.score && expectedRound(v) === r;
      if (same) {
        v.seen = row.seen; // ignored column: updated in the current version
        continue;
      }
      if (v) v.to = run;
      versions.push({ ...row, from: run, to: null });
      openedAt.set(versions.length - 1, r);
    }
    for (const v of versions) if (v.to === null && !source.has(`${v.id}|${v.region}`)) v.to = run;
  }
  const expectedRound = (v: Version) => openedAt.get(versions.indexOf(v));

  async function syncRound(rows: Row[], deletes: [number, string][] = [], also?: () => Promise<void>): Promise<void> {
    await writeSource(rows, deletes);
    await also?.();
    for (const r of rows) source.set(`${r.id}|${r.region}`, { row: { ...r }, round });
    for (const [id, region] of deletes) source.delete(`${id}|${region}`);
    const report = await h.sync([t()]);
    expect(report.tables.map((x) => x.error)).toEqual([null]);
    expectRun(await committedRuns().then((r) => r.length));
  }

  async function committedRuns(): Promise<number[]> {
    const rt = await h.runtime();
    try {
      const runs = await (await rt.state(rt.pipeline('test'))).listRuns(h.stateKey(t()), { status: ['committed'] });
      return runs.map((r) => Date.parse(r.startedAt));
    } finally {
      await rt.close();
    }
  }

  async function history(): Promise<Version[]> {
    const runs = await committedRuns();
    const runOf = (v: unknown) => {
      const i = runs.indexOf(instant(v));
      if (i < 0) throw new Error(`instant ${String(v)} is no committed run's start`);
      return i + 1;
    };
    const rows = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    return rows.map((r) => {
      expect(r._hw_is_current).toBe(r._hw_valid_to === null);
      const row: Row = {
        id: Number(r.id),
        region: String(r.region),
        name: r.name === null ? null : String(r.name),
        score: r.score === null ? null : Number(r.score),
        seen: r.last_seen_at === null ? null : String(instant(r.last_seen_at)),
      };
      const updatedAt = new Date(instant(r.updated_at)).toISOString().replace('T', ' ').replace('Z', '000');
      expect(r._hw_row_hash, `hash of ${row.id}|${row.region}`).toBe(expectedHash(row, updatedAt));
      return { ...row, from: runOf(r._hw_valid_from), to: r._hw_valid_to === null ? null : runOf(r._hw_valid_to) };
    });
  }

  function expected(): Version[] {
    const sorted = [...versions].sort((a, b) => a.id - b.id || a.region.localeCompare(b.region) || a.from - b.from);
    return sorted.map((v) => ({ ...v, seen: v.seen === null ? null : String(instant(v.seen)) }));
  }

  async function expectHistory(): Promise<void> {
    expect(await history()).toEqual(expected());
  }

  /** `highwater verify`'s comparison: the current versions equal the source's `rows` rows, no `_hw_` column compared. */
  async function expectVerified(rows: number): Promise<void> {
    const rt = await h.runtime();
    try {
      const p = rt.pipeline('test');
      const src = await rt.openSource(p);
      try {
        const report = await verifyTable(
          { source: src, state: await rt.state(p), warehouse: await rt.warehouse(p) },
          p,
          getTableConfig(p, t()),
        );
        expect(report).toMatchObject({ equal: true, rows: { source: rows, warehouse: rows } });
        expect(report.columnsCompared.some((c) => c.startsWith('_hw_'))).toBe(false);
      } finally {
        await src.close();
      }
    } finally {
      await rt.close();
    }
  }

  const r = (id: number, region: string, name: string | null, score: number | null, seen: string | null = null) => ({
    id,
    region,
    name,
    score,
    seen,
  });

  test('rounds of inserts, updates (tracked and ignored), NULL vs empty, deletes and re-inserts: the history row by row', async () => {
    pipeline();
    await syncRound([
      r(1, 'a', 'x', 1),
      r(2, 'a', 'y', null, '2024-02-01 00:00:00'),
      r(2, 'b', '', 5),
      r(3, 'a', null, null),
    ]);
    await expectHistory();
    // Tracked change; ignored-only change; '' → NULL; a delete; a new key.
    // (2,a) changes only last_seen_at (its updated_at stays): no new version, the current one takes the value.
    await syncRound([r(1, 'a', 'x2', 1), r(2, 'b', null, 5), r(4, 'a', 'new', 4)], [[3, 'a']], async () => {
      await h.db.conn.query(`UPDATE dims SET last_seen_at = '2024-03-01 00:00:00' WHERE id = 2 AND region = 'a'`);
      source.get('2|a')!.row.seen = '2024-03-01 00:00:00';
    });
    await expectHistory();
    expect(versions.filter((v) => v.id === 2 && v.region === 'a')).toHaveLength(1);
    // Back after its delete; NULL → ''; (1,a) back to its first values (a new version, not the old one reopened).
    await syncRound([r(3, 'a', null, null), r(2, 'b', '', 5), r(1, 'a', 'x', 1)]);
    await expectHistory();
    // Nothing changed: a rerun re-reads every row (lookback) and changes nothing.
    const before = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    const again = await h.sync([t()]);
    expect(again.tables.map((x) => x.error)).toEqual([null]);
    expect(await h.warehouseRows('public.dims', 'id, region, _hw_valid_from')).toEqual(before);
    // verify compares the current versions only, and finds them equal.
    await expectVerified(5);
    // A repair of the whole key range re-reads every row: no history changes.
    const repaired = await h.sync([t()], { repair: { ranges: [WHOLE_RANGE], deleteKeys: [] } });
    expect(repaired.tables.map((x) => x.error)).toEqual([null]);
    expect(await h.warehouseRows('public.dims', 'id, region, _hw_valid_from')).toEqual(before);
  });

  test('several changes of one key before a load: only the newest staged row makes a version', async () => {
    pipeline();
    await syncRound([r(1, 'a', 'x', 1)]);
    await writeSource([r(1, 'a', 'first', 2)]);
    expect((await h.sync([t()], { backupOnly: true })).tables.map((x) => x.error)).toEqual([null]);
    await writeSource([r(1, 'a', 'second', 3)]);
    source.set('1|a', { row: r(1, 'a', 'second', 3), round });
    const loaded = await h.sync([t()]);
    expect(loaded.tables.map((x) => x.error)).toEqual([null]);
    // Two committed runs since the first: the backup-only one opened nothing, the loading one opened 'second'.
    const runs = await committedRuns();
    expectRun(runs.length);
    const got = await history();
    expect(got.map((v) => v.name)).toEqual(['x', 'second']);
    expect(got).toEqual(expected());
  });

  test('a crash after the load and before the commit: the rerun opens no second version', async () => {
    pipeline();
    await syncRound([r(1, 'a', 'x', 1), r(2, 'a', 'y', 2)]);
    await writeSource([r(1, 'a', 'x2', 1)], [[2, 'a']]);
    source.set('1|a', { row: r(1, 'a', 'x2', 1), round });
    source.delete('2|a');
    const crashing: StepHandlers = {
      ...stepHandlers,
      async commit() {
        throw new Error('crash before commit');
      },
    };
    const crashed = await h.sync([t()], {}, { handlers: crashing });
    expect(crashed.status).toBe('failed');
    const afterCrash = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    const rerun = await h.sync([t()]);
    expect(rerun.tables.map((x) => x.error)).toEqual([null]);
    // The crashed run's load committed the versions; the rerun (a new run) re-reads the same rows and changes nothing.
    expect(await h.warehouseRows('public.dims', 'id, region, _hw_valid_from')).toEqual(afterCrash);
    const rows = afterCrash.map((x) => [x.id, x.name, x._hw_is_current].map(String));
    expect(rows).toEqual([
      ['1', 'x', 'false'],
      ['1', 'x2', 'true'],
      ['2', 'y', 'false'],
    ]);
  });

  test('full_sync replace compares with the current versions: history is kept, unread keys are closed', async () => {
    h.writePipeline(`  ${t()}:
    cdc_strategy: full_sync
    history: scd2
    history_ignore_columns: last_seen_at`);
    await writeSource([r(1, 'a', 'x', 1), r(2, 'a', 'y', 2)]);
    expect((await h.sync([t()])).tables.map((x) => x.error)).toEqual([null]);
    await writeSource([r(1, 'a', 'x', 1, '2024-05-05 00:00:00')], [[2, 'a']]);
    await h.db.conn.query(`UPDATE dims SET updated_at = '${CURSOR(1)}' WHERE id = 1`);
    expect((await h.sync([t()])).tables.map((x) => x.error)).toEqual([null]);
    await writeSource([r(2, 'a', 'y', 2)]);
    expect((await h.sync([t()])).tables.map((x) => x.error)).toEqual([null]);
    const rows = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    expect(rows.map((x) => [x.id, x.name, x._hw_is_current, x.last_seen_at === null].map(String))).toEqual([
      ['1', 'x', 'true', 'false'],
      ['2', 'y', 'false', 'true'],
      ['2', 'y', 'true', 'true'],
    ]);
  });

  test('refusals: a run older than the newest version, and a plain load into a history table; nothing changes', async () => {
    pipeline();
    await syncRound([r(1, 'a', 'x', 1)]);
    const table = aws ? `"${h.warehouseSchema}"."dims"` : '"public"."dims"';
    // A version from the future: this run would close it before it opened.
    await write(h, `UPDATE ${table} SET _hw_valid_from = CAST('2999-01-01 00:00:00+00' AS TIMESTAMPTZ)`);
    const before = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    await writeSource([r(1, 'a', 'x2', 1)]);
    const later = await h.sync([t()]);
    expect(later.tables[0]?.error).toMatch(
      /has versions from 2999-01-01.*later than this run's .*history would go backwards, nothing was changed/,
    );
    expect(await h.warehouseRows('public.dims', 'id, region, _hw_valid_from')).toEqual(before);
    // History turned off: the plain merge would delete every version of a key, so the load refuses.
    h.writePipeline(`  ${t()}:\n    cdc_strategy: hybrid\n    lag: 0`);
    const plain = await h.sync([t()]);
    expect(plain.tables[0]?.error).toContain(
      'the table keeps history (it has _hw_is_current), and a plain load would overwrite its versions; nothing was changed',
    );
    expect(await h.warehouseRows('public.dims', 'id, region, _hw_valid_from')).toEqual(before);
  });

  test('a column added at the source is NULL in every version and opens no version by itself', async () => {
    pipeline();
    await syncRound([r(1, 'a', 'x', 1), r(2, 'a', 'y', 2)]);
    await syncRound([r(1, 'a', 'x2', 1)]);
    const before = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    await h.db.conn.query('ALTER TABLE dims ADD COLUMN note VARCHAR(10) NULL');
    const report = await h.sync([t()]);
    expect(report.tables.map((x) => x.error)).toEqual([null]);
    const after = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    expect(after.map((x) => x.note)).toEqual([null, null, null]);
    expect(after.map(({ note: _, ...rest }) => rest)).toEqual(before);
    // A value in the new column is a change: one new version.
    await h.db.conn.query(`UPDATE dims SET note = 'n', updated_at = '2024-02-01' WHERE id = 2`);
    expect((await h.sync([t()])).tables.map((x) => x.error)).toEqual([null]);
    const last = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    expect(last.map((x) => [x.id, x.note, x._hw_is_current].map(String))).toEqual([
      ['1', 'null', 'false'],
      ['1', 'null', 'true'],
      ['2', 'null', 'false'],
      ['2', 'n', 'true'],
    ]);
  });

  test('history turned on for a plain table: its rows become current versions opened by that run, changes open more', async () => {
    // Run 1: a plain table (no history), the same source and key.
    h.writePipeline(`  ${t()}:
    cdc_strategy: hybrid
    cdc_timestamp_column: updated_at
    cdc_id_column: id
    delete_detection: hard
    lookback: 3650d
    lag: 0
    chunk_rows: 2`);
    const first = [
      r(1, 'a', 'x', 1),
      r(2, 'a', 'y', null, '2024-02-01 00:00:00'),
      r(2, 'b', '', 5),
      r(3, 'a', null, null),
    ];
    await writeSource(first);
    for (const row of first) source.set(`${row.id}|${row.region}`, { row: { ...row }, round });
    expect((await h.sync([t()])).tables.map((x) => x.error)).toEqual([null]);
    const plain = await h.warehouseRows('public.dims', 'id, region');
    expect(plain).toHaveLength(4);
    expect(Object.keys(plain[0]!).some((c) => c.startsWith('_hw_'))).toBe(false);

    // Run 2, with history: every row already there is adopted as the current version opened by this run (hashed
    // as a version opened by a load is); (1,a) changed (tracked) and (2,a) changed only an ignored column; (4,a) is new.
    pipeline();
    for (const row of first) {
      versions.push({ ...row, from: 2, to: null });
      openedAt.set(versions.length - 1, 1);
    }
    await syncRound([r(1, 'a', 'x2', 1), r(4, 'a', 'new', 4)], [], async () => {
      await h.db.conn.query(`UPDATE dims SET last_seen_at = '2024-03-01 00:00:00' WHERE id = 2 AND region = 'a'`);
      source.get('2|a')!.row.seen = '2024-03-01 00:00:00';
    });
    await expectHistory();
    const got = await history();
    // Each of the four rows is a version opened by run 2; (1,a)'s adopted version is closed by the same run (its
    // old value is kept, valid at no instant) and its new value is current; (2,a) took its ignored column in place.
    expect(got.filter((v) => v.to === null).map((v) => [v.id, v.region, v.name, v.from])).toEqual([
      [1, 'a', 'x2', 2],
      [2, 'a', 'y', 2],
      [2, 'b', '', 2],
      [3, 'a', null, 2],
      [4, 'a', 'new', 2],
    ]);
    expect(got.filter((v) => v.to !== null).map((v) => [v.id, v.name, v.from, v.to])).toEqual([[1, 'x', 2, 2]]);
    expect(got.find((v) => v.id === 2 && v.region === 'a')?.seen).toBe(String(instant('2024-03-01 00:00:00')));
    await expectVerified(5);
    // A rerun changes nothing.
    const before = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    expect((await h.sync([t()])).tables.map((x) => x.error)).toEqual([null]);
    expect(await h.warehouseRows('public.dims', 'id, region, _hw_valid_from')).toEqual(before);
  });

  test('a type change the history table cannot take is refused by sync and by resync, naming the column; nothing changes', async () => {
    pipeline();
    await syncRound([r(1, 'a', 'x', 1), r(2, 'a', 'y', 2), r(3, 'a', 'z', 3)]);
    const before = await h.warehouseRows('public.dims', 'id, region, _hw_valid_from');
    // A narrowing at the source: INT → SMALLINT.
    await h.db.conn.query('ALTER TABLE dims MODIFY score SMALLINT NULL');
    await writeSource([r(1, 'a', 'x2', 1)]);
    const synced = await h.sync([t()]);
    const s0 = synced.tables[0]!;
    expect(s0.error).toMatch(
      /dims: column score changed from int(\(11\))? to smallint(\(6\))? at the source, which the history table's column cannot take in place .*nothing was read or changed/,
    );
    // Not resync (it would be refused the same way): what to do instead.
    expect(s0.suggestion).toContain('A history table is never rebuilt (that would lose its versions)');
    expect(s0.suggestion).toContain(`give the table a new target_name and run \`highwater resync -t ${t()}\``);
    expect(s0.suggestion).not.toContain('Rebuild the table');
    expect(await h.warehouseRows('public.dims', 'id, region, _hw_valid_from')).toEqual(before);
    // resync reads the whole table; the load refuses before anything changes: no version is dropped or opened.
    const resynced = await h.sync([t()], { resync: true });
    const s1 = resynced.tables[0]!;
    expect(s1.error).toMatch(
      /dims column score is integer in the warehouse but the source now maps it to smallint, a narrowing that would not keep every value, and it is a history table, which is never rebuilt; nothing was changed/i,
    );
    expect(s1.suggestion).toContain('`highwater resync` cannot fix this');
    expect(await h.warehouseRows('public.dims', 'id, region, _hw_valid_from')).toEqual(before);

    // The source column back as it was: resync of a history table compares every row with its current version and,
    // having read the whole table, closes the keys it did not read (here deleted without a delete to detect).
    await h.db.conn.query('ALTER TABLE dims MODIFY score INT NULL');
    await h.db.conn.query('DELETE FROM dims WHERE id = 2');
    source.set('1|a', { row: r(1, 'a', 'x2', 1), round });
    source.delete('2|a');
    const ok = await h.sync([t()], { resync: true });
    expect(ok.tables.map((x) => x.error)).toEqual([null]);
    expectRun((await committedRuns()).length);
    await expectHistory();
    expect(versions.filter((v) => v.to === null).map((v) => [v.id, v.name])).toEqual([
      [3, 'z'],
      [1, 'x2'],
    ]);
  });

  test('JSON columns: an unchanged value read again opens no version, a changed one opens one; an ignored one updates in place', async () => {
    await h.db.conn.query(`CREATE TABLE jdocs (
      id INT NOT NULL PRIMARY KEY, doc JSON NULL, meta JSON NULL, updated_at DATETIME(6) NOT NULL)`);
    const jt = `${h.db.database}.jdocs`;
    h.writePipeline(`  ${jt}:
    cdc_strategy: hybrid
    cdc_timestamp_column: updated_at
    cdc_id_column: id
    history: scd2
    history_ignore_columns: [meta]
    lookback: 3650d
    lag: 0`);
    const put = async (id: number, doc: string | null, meta: string | null, at: string) =>
      h.db.conn.query(
        `INSERT INTO jdocs VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE doc = VALUES(doc), meta = VALUES(meta), updated_at = VALUES(updated_at)`,
        [id, doc, meta, at],
      );
    const rows = async () =>
      (await h.warehouseRows('public.jdocs', 'id, _hw_valid_from')).map((x) => ({
        id: Number(x.id),
        doc: x.doc === null ? null : JSON.parse(String(x.doc)),
        meta: x.meta === null ? null : JSON.parse(String(x.meta)),
        current: String(x._hw_is_current),
        hash: String(x._hw_row_hash),
      }));
    await put(1, '{"a":1,"b":[1,2,{"c":null}],"s":"é\\"x"}', '{"m":1}', '2024-01-01');
    await put(2, '{"x":"y"}', null, '2024-01-01');
    await put(3, null, '{"m":3}', '2024-01-01');
    await put(4, '[1,2.5,"t",true,null]', null, '2024-01-01');
    expect((await h.sync([jt])).tables.map((x) => x.error)).toEqual([null]);
    const first = await rows();
    expect(first.map((x) => [x.id, x.current])).toEqual([
      [1, 'true'],
      [2, 'true'],
      [3, 'true'],
      [4, 'true'],
    ]);
    // Every row read again (lookback): 1 changes only its ignored JSON column, 2 changes its tracked JSON, 3 and 4
    // are written again with the same values.
    await put(1, '{"a":1,"b":[1,2,{"c":null}],"s":"é\\"x"}', '{"m":2}', '2024-01-01');
    await put(2, '{"x":"z"}', null, '2024-01-02');
    await put(3, null, '{"m":3}', '2024-01-01');
    await put(4, '[1,2.5,"t",true,null]', null, '2024-01-01');
    expect((await h.sync([jt])).tables.map((x) => x.error)).toEqual([null]);
    const second = await rows();
    expect(second.map((x) => [x.id, x.doc, x.meta, x.current])).toEqual([
      [1, { a: 1, b: [1, 2, { c: null }], s: 'é"x' }, { m: 2 }, 'true'],
      [2, { x: 'y' }, null, 'false'],
      [2, { x: 'z' }, null, 'true'],
      [3, null, { m: 3 }, 'true'],
      [4, [1, 2.5, 't', true, null], null, 'true'],
    ]);
    // The unchanged rows kept their version and its hash; the changed one's new hash differs.
    for (const id of [1, 3, 4]) {
      expect(second.find((x) => x.id === id)?.hash).toBe(first.find((x) => x.id === id)?.hash);
    }
    expect(second[2]!.hash).not.toBe(second[1]!.hash);
    // A third run reading every row again changes nothing.
    const before = await h.warehouseRows('public.jdocs', 'id, _hw_valid_from');
    expect((await h.sync([jt])).tables.map((x) => x.error)).toEqual([null]);
    expect(await h.warehouseRows('public.jdocs', 'id, _hw_valid_from')).toEqual(before);
  });
}
