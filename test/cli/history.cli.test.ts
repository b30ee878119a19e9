/**
 * `highwater query --as-of TIMESTAMP -t TABLE` through the real CLI (spawned), on real MariaDB and the local DuckDB
 * warehouse: the versions of a history table valid at an instant — before, between and after two runs — and the
 * refusals (a table without history, --as-of without -t, a timestamp that is not one, SQL given as well); and the
 * run report of a history table, which counts versions (opened, closed by a change, closed by a delete), not rows.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createHarness, type Harness } from '../support/harness.js';
import { pipelineCli } from '../support/pipeline-cli.js';
import { queryWarehouse } from '../support/warehouse-file.js';

let h: Harness;
const cli = pipelineCli(() => h);
beforeEach(async () => {
  h = await createHarness('hcli');
});
afterEach(async () => h.cleanup());

function asOf(at: string, ...extra: string[]) {
  return cli.hw('query', '-p', 'test', '--as-of', at, '-t', cli.fq('dims'), '--json', ...extra);
}

test('--as-of reads the versions valid then; the refusals say what to give', async () => {
  await h.db.conn.query('CREATE TABLE dims (id INT PRIMARY KEY, name VARCHAR(20), updated_at DATETIME(6) NOT NULL)');
  await h.db.conn.query(`INSERT INTO dims VALUES (1, 'a', '2024-01-01'), (2, 'b', '2024-01-01')`);
  cli.configure('dims', 'cdc_strategy: hybrid\nhistory: scd2\nlag: 0');
  cli.syncOk('dims');
  await h.db.conn.query(`UPDATE dims SET name = 'a2', updated_at = '2024-01-02' WHERE id = 1`);
  cli.syncOk('dims');

  const opened = await queryWarehouse(
    h.home,
    `SELECT DISTINCT strftime(_hw_valid_from AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS at FROM public.dims ORDER BY 1`,
  );
  const [first, second] = opened.map((r) => String(r.at));
  expect(second).toBeDefined();
  const names = (at: string) => {
    const r = asOf(at);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as { columns: { name: string }[]; rows: unknown[][] };
    const name = doc.columns.findIndex((c) => c.name === 'name');
    return doc.rows.map((row) => String(row[name])).sort();
  };
  expect(names('2023-12-31')).toEqual([]);
  expect(names(first!)).toEqual(['a', 'b']);
  expect(names(new Date(Date.parse(second!) - 1).toISOString())).toEqual(['a', 'b']);
  expect(names(second!)).toEqual(['a2', 'b']);

  const notHistory = (() => {
    cli.configure('dims', 'cdc_strategy: hybrid\nlag: 0');
    return asOf(second!);
  })();
  expect(notHistory.code).not.toBe(0);
  // With --json the error is the JSON document on stdout.
  expect(notHistory.out + notHistory.err).toContain(
    'keeps no history (history: scd2), so it has no versions to read --as-of',
  );

  const noTable = cli.hw('query', '-p', 'test', '--as-of', '2024-01-01');
  expect(noTable.err).toContain('--as-of and -t go together');
  const bad = asOf('yesterday');
  expect(bad.out + bad.err).toContain('is not a date or date-time: give 2024-05-01');
  const both = cli.hw('query', '-p', 'test', 'SELECT 1', '--as-of', '2024-01-01', '-t', cli.fq('dims'));
  expect(both.err).toContain('--as-of builds its own query: give -t TABLE and no SQL statement');
});

test('the run report of a history table counts versions, in the text and in --json; a plain table counts rows', async () => {
  await h.db.conn.query('CREATE TABLE dims (id INT PRIMARY KEY, name VARCHAR(20), updated_at DATETIME(6) NOT NULL)');
  await h.db.conn.query(
    `INSERT INTO dims VALUES (1, 'a', '2024-01-01'), (2, 'b', '2024-01-01'), (3, 'c', '2024-01-01')`,
  );
  cli.configure('dims', 'cdc_strategy: hybrid\nhistory: scd2\ndelete_detection: hard\nlookback: 3650d\nlag: 0');
  const first = cli.syncOk('dims');
  const line = (r: { out: string }) => r.out.split('\n').find((l) => l.startsWith(`${cli.fq('dims')}  `)) ?? '';
  expect(line(first)).toContain(
    'committed: 3 rows extracted, 3 versions opened, 0 closed by a change, 0 closed by a delete, ',
  );
  expect(first.table).toMatchObject({ rowsLoaded: 3, versions: { opened: 3, closedByChange: 0, closedByDelete: 0 } });

  // One change (a version closed, one opened), one delete (a version closed), one unchanged row read again.
  await h.db.conn.query(`UPDATE dims SET name = 'a2', updated_at = '2024-01-02' WHERE id = 1`);
  await h.db.conn.query('DELETE FROM dims WHERE id = 2');
  const second = cli.syncOk('dims');
  expect(line(second)).toContain(
    'committed: 2 rows extracted, 1 version opened, 1 closed by a change, 1 closed by a delete, ',
  );
  expect(second.table).toMatchObject({ rowsLoaded: 1, versions: { opened: 1, closedByChange: 1, closedByDelete: 1 } });
  await h.db.conn.query(`UPDATE dims SET name = 'c2', updated_at = '2024-01-03' WHERE id = 3`);
  const json = cli.hw('sync', '-p', 'test', '-t', cli.fq('dims'), '--json');
  expect(json.code, json.err).toBe(0);
  const doc = JSON.parse(json.out) as { tables: { rowsLoaded: number; versions: unknown }[] };
  expect(doc.tables[0], json.out).toMatchObject({
    rowsLoaded: 1,
    versions: { opened: 1, closedByChange: 1, closedByDelete: 0 },
  });

  // A plain table's report counts rows, with no versions.
  await h.db.conn.query('CREATE TABLE plain (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL)');
  await h.db.conn.query(`INSERT INTO plain VALUES (1, '2024-01-01')`);
  cli.configure('plain', 'cdc_strategy: hybrid\nlag: 0');
  const plain = cli.syncOk('plain');
  expect(plain.out).toContain(`${cli.fq('plain')}  committed: 1 rows extracted, 1 loaded, `);
  expect(plain.table.versions).toBeNull();
});
