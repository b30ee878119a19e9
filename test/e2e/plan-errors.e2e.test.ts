/**
 * Plan's own error and warning paths on real MariaDB: a source user without PROCESS (the horizon is assumed, and the
 * report says which grant is missing, once), a custom_query naming a column that does not exist (refused when its
 * result columns are described, before anything is read), and a resync asked for with --limit through a run request
 * (a schedule or the console can send one).
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, insertOrders, T1 } from './fixtures.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness('planerr');
  await createOrders(h);
});
afterEach(async () => h.cleanup());

const t = () => `${h.db.database}.orders`;

test('without PROCESS the horizon is assumed five minutes back and the report names the grant once', async () => {
  const user = `hw_noproc_${h.db.database.slice(-8)}`;
  await h.db.conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
  await h.db.conn.query(`GRANT SELECT ON \`${h.db.database}\`.* TO '${user}'@'%'`);
  try {
    const file = `${h.configDir}/connections.yml`;
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace(/username: .*/, `username: ${user}`)
        .replace(/password: .*/, 'password: "pw"'),
    );
    h.writePipeline(`  ${t()}: {}`);
    await insertOrders(h, [1, 2], T1);
    // A row written a minute ago: inside the assumed five minutes, so it waits.
    await h.db.conn.query("INSERT INTO orders VALUES (3, 'recent', 1.00, NOW() - INTERVAL 1 MINUTE, 0)");
    const r = await h.sync([t()]);
    const table = r.tables[0]!;
    expect(table.error).toBeNull();
    expect(table.rowsExtracted).toBe(2);
    const grant = table.warnings.filter((w) => w.includes('GRANT PROCESS'));
    expect(grant).toHaveLength(1);
    expect(grant[0]).toContain(`cannot read information_schema.innodb_trx`);
    expect(table.horizon).toContain('transactions assumed to commit within 300 s');
  } finally {
    await h.db.conn.query(`DROP USER '${user}'@'%'`);
  }
});

test('a custom_query naming a column that does not exist is refused before anything is read', async () => {
  h.writePipeline(`  ${t()}:
    cdc_strategy: custom_sql
    custom_query: "SELECT id, nope FROM {table_name} WHERE updated_at <= :upper_timestamp"`);
  await insertOrders(h, [1], T1);
  const r = await h.sync([t()]);
  expect(r.status).toBe('failed');
  expect(r.tables[0]?.error).toMatch(/describing the query failed: .*Unknown column 'nope'/);
  expect(await h.watermark(t())).toBeUndefined();
});

test('a resync with --limit (as a run request may carry) is refused, and a plain resync rebuilds the table', async () => {
  h.writePipeline(`  ${t()}: {}`);
  await insertOrders(h, [1, 2, 3], T1);
  const refused = await h.sync([t()], { resync: true, limit: 2 });
  expect(refused.tables[0]?.error).toMatch(/resync reads and replaces the whole table: it takes no .*--limit/);
  expect(refused.tables[0]?.exitCode).toBe(1);
  const ok = await h.sync([t()], { resync: true });
  expect(ok.tables[0]?.error).toBeNull();
  await expectInStep(h);
});
