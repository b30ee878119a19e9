/**
 * `highwater query --as-of TIMESTAMP -t TABLE` through the real CLI (spawned), on real MariaDB and the local DuckDB
 * warehouse: the versions of a history table valid at an instant — before, between and after two runs — and the
 * refusals (a table without history, --as-of without -t, a timestamp that is not one, SQL given as well).
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
