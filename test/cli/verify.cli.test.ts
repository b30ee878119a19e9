/**
 * `highwater verify` and `delete_detection` through the real CLI (spawned), on real MariaDB and the local DuckDB
 * warehouse: exit 0 when equal, 4 with the differing keys when not, `--json` with the same data, `--repair`
 * through the normal extract → load path (a ledger run of kind repair, watermark unchanged) ending in a clean
 * verify; and deletes at the source carried hard or soft over several rounds, equal to the source each time.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createHarness, type Harness } from '../support/harness.js';
import { pipelineCli } from '../support/pipeline-cli.js';
import { queryWarehouse } from '../support/warehouse-file.js';

let h: Harness;
const cli = pipelineCli(() => h);
beforeEach(async () => {
  h = await createHarness('vcli');
});
afterEach(async () => h.cleanup());

const OLD = '2024-05-01 08:00:00';

async function createOrders(n: number): Promise<void> {
  await h.db.conn.query(
    'CREATE TABLE orders (id INT PRIMARY KEY, amount DECIMAL(10,2), note VARCHAR(20), updated_at DATETIME(6) NOT NULL)',
  );
  const rows = Array.from({ length: n }, (_, i) => [i + 1, `${i}.25`, `n${i}`, OLD]);
  await h.db.conn.query('INSERT INTO orders VALUES ?', [rows]);
}

function verify(...args: string[]) {
  return cli.hw('verify', '-p', 'test', '-t', cli.fq('orders'), ...args);
}

async function warehouseIds(where = '1=1'): Promise<number[]> {
  const rows = await queryWarehouse(h.home, `SELECT id FROM "public"."orders" WHERE ${where} ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

async function sourceIds(): Promise<number[]> {
  const [rows] = await h.db.conn.query('SELECT id FROM orders ORDER BY id');
  return (rows as { id: number }[]).map((r) => r.id);
}

describe('verify', () => {
  test('equal: exit 0; differences: exit 4 naming each key once; --json has the same data', async () => {
    await createOrders(40);
    cli.configure('orders', 'cdc_strategy: hybrid\ncdc_timestamp_column: updated_at\ncdc_id_column: id');
    cli.syncOk('orders');
    const ok = verify();
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/orders {2}equal: 40 source rows, 40 warehouse rows \(up to the watermark\)/);

    await queryWarehouse(h.home, `UPDATE "public"."orders" SET amount = 0 WHERE id = 5`);
    await queryWarehouse(h.home, `DELETE FROM "public"."orders" WHERE id = 6`);
    const bad = verify();
    expect(bad.code).toBe(4);
    expect(bad.out).toContain('missing from the warehouse (1): 6');
    expect(bad.out).toMatch(/changed \(1\):\n {4}5: amount/);
    expect(bad.err.match(/the warehouse differs from the source/g)).toHaveLength(1);

    const json = verify('--json');
    expect(json.code).toBe(4);
    const [report] = JSON.parse(json.out) as { missing: { keys: string[][] }; changed: { rows: unknown[] } }[];
    expect(report!.missing.keys).toEqual([['6']]);
    expect(report!.changed.rows).toEqual([{ key: ['5'], columns: ['amount'] }]);

    // status shows the last verification.
    const status = cli.hw('status', '-p', 'test', '--json');
    expect(status.code, status.err).toBe(0);
    expect(status.out).toMatch(/"verification":\s*\{[^}]*"equal":\s*false/);
  });

  test('--repair re-reads the differing rows through extract and load, keeps the watermark, and verifies clean', async () => {
    await createOrders(40);
    cli.configure('orders', 'cdc_strategy: hybrid\ncdc_timestamp_column: updated_at\ncdc_id_column: id');
    cli.syncOk('orders');
    const before = cli.watermarkOf('orders');
    await queryWarehouse(h.home, `UPDATE "public"."orders" SET note = 'x' WHERE id IN (3, 30)`);
    await queryWarehouse(h.home, `DELETE FROM "public"."orders" WHERE id = 7`);
    // A backdated change at the source: beyond any cursor, but verify sees it.
    await h.db.conn.query(`UPDATE orders SET note = 'late', updated_at = '2024-01-01' WHERE id = 12`);
    const r = verify('--repair');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('orders (after repair)  equal');
    expect(cli.watermarkOf('orders')).toEqual(before);
    const rows = await queryWarehouse(
      h.home,
      `SELECT id, note FROM "public"."orders" WHERE id IN (3, 7, 12, 30) ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 3, note: 'n2' },
      { id: 7, note: 'n6' },
      { id: 12, note: 'late' },
      { id: 30, note: 'n29' },
    ]);
    const status = cli.hw('status', '-p', 'test', '--json');
    expect(status.out).toMatch(/"verification":\s*\{[^}]*"equal":\s*true/);
  });

  test('--repair of rows the source deleted: deleted where the table carries deletes, reported where it does not', async () => {
    await createOrders(20);
    cli.configure('orders', 'cdc_strategy: hybrid\ncdc_timestamp_column: updated_at\ncdc_id_column: id');
    cli.syncOk('orders');
    await h.db.conn.query('DELETE FROM orders WHERE id IN (4, 9)');
    const kept = verify('--repair');
    expect(kept.code).toBe(4);
    expect(kept.err).toContain('the table does not carry deletes');
    cli.configure(
      'orders',
      'cdc_strategy: hybrid\ncdc_timestamp_column: updated_at\ncdc_id_column: id\ndelete_detection: hard\ndelete_detection_every: 1h',
    );
    const fixed = verify('--repair');
    expect(fixed.code, fixed.out + fixed.err).toBe(0);
    expect(await warehouseIds()).toEqual(await sourceIds());
  });
});

describe('verify refuses what it cannot do, once and clearly', () => {
  test('custom_sql: exit 1, naming the table and the command to use instead', async () => {
    await createOrders(5);
    cli.configure('orders', 'cdc_strategy: custom_sql\ncustom_query: SELECT id, amount, updated_at FROM orders');
    const r = verify();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/orders: verify compares a table with its copy/);
    expect(r.err).toContain('validate-counts');
  });

  test('--repair of a table without a primary key: exit 1 with resync named, nothing changed', async () => {
    await h.db.conn.query('CREATE TABLE orders (a INT, b VARCHAR(5))');
    await h.db.conn.query("INSERT INTO orders VALUES (1, 'x'), (2, 'y')");
    cli.configure('orders', 'cdc_strategy: full_sync\nfull_sync_mode: replace');
    cli.syncOk('orders');
    await queryWarehouse(h.home, `UPDATE "public"."orders" SET b = 'z' WHERE a = 1`);
    const r = verify('--repair');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/without a primary key the differing rows cannot be named/);
    expect(r.err).toContain('highwater resync');
    const rows = await queryWarehouse(h.home, `SELECT b FROM "public"."orders" WHERE a = 1`);
    expect(rows).toEqual([{ b: 'z' }]);
  });
});

describe('verify_every', () => {
  test('a sync verifies when due: equal is said; a difference is a warning with the repair command, and status shows it', async () => {
    await createOrders(25);
    cli.configure(
      'orders',
      'cdc_strategy: hybrid\ncdc_timestamp_column: updated_at\ncdc_id_column: id\nverify_every: 1 run',
    );
    const first = cli.syncOk('orders');
    expect(first.out).toContain('verified: equal to the source (25 rows)');
    expect(first.table.verification).toMatchObject({ equal: true, rows: { source: 25, warehouse: 25 } });
    await queryWarehouse(h.home, `UPDATE "public"."orders" SET note = 'x' WHERE id = 4`);
    await h.db.conn.query('INSERT INTO orders VALUES (26, 1, ?, NOW(6) - INTERVAL 1 MINUTE)', ['new']);
    const second = cli.syncOk('orders');
    expect(second.warnings.join('\n')).toMatch(
      /verification: the warehouse differs from the source \(0 missing, 0 extra, 1 changed\): `highwater verify -t .*orders --repair`/,
    );
    const status = cli.hw('status', '-p', 'test', '--json');
    expect(status.out).toMatch(/"verification":\s*\{[^}]*"equal":\s*false/);
  });

  test('every 3 runs: verified on the first run, then not until the third after it', async () => {
    await createOrders(5);
    cli.configure('orders', 'cdc_strategy: full_sync\nverify_every: 3 runs');
    const verified = [1, 2, 3, 4].map(() => cli.syncOk('orders').table.verification !== null);
    expect(verified).toEqual([true, false, false, true]);
  });

  test('a bad verify_every names the file and the key', async () => {
    await createOrders(3);
    cli.configure('orders', 'cdc_strategy: hybrid\nverify_every: sometimes');
    const r = cli.hw('sync', '-p', 'test', '-t', cli.fq('orders'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/test\.yml.*verify_every.*neither a duration/s);
  });
});

describe('delete_detection', () => {
  test('hard: rounds of deletes, inserts and updates leave the warehouse equal to the source', async () => {
    await createOrders(60);
    cli.configure(
      'orders',
      'cdc_strategy: hybrid\ncdc_timestamp_column: updated_at\ncdc_id_column: id\ndelete_detection: hard\nclock_skew: 0',
    );
    cli.syncOk('orders');
    for (let round = 0; round < 3; round++) {
      await h.db.conn.query('DELETE FROM orders WHERE MOD(id, 7) = ?', [round]);
      // clock_skew 0: a row written now is past the last run's upper bound (written before this run plans).
      await h.db.conn.query('INSERT INTO orders VALUES (?, 1, ?, NOW(6))', [100 + round, `r${round}`]);
      await h.db.conn.query('UPDATE orders SET note = ?, updated_at = NOW(6) WHERE id = ?', [`u${round}`, 20 + round]);
      const r = cli.syncOk('orders');
      expect(r.table.warnings.join(' ')).toMatch(/row\(s\) deleted at the source/);
      expect(await warehouseIds(), `round ${round}: ${r.out}`).toEqual(await sourceIds());
      expect(verify().code).toBe(0);
    }
    // Deletes alone, no new rows: still carried.
    await h.db.conn.query('DELETE FROM orders WHERE id = 1');
    cli.syncOk('orders');
    expect(await warehouseIds()).toEqual(await sourceIds());
  });

  test('soft: deleted rows get _hw_deleted_at and stay; live rows equal the source; a re-inserted key is live again', async () => {
    await createOrders(30);
    cli.configure(
      'orders',
      'cdc_strategy: hybrid\ncdc_timestamp_column: updated_at\ncdc_id_column: id\ndelete_detection: soft\nclock_skew: 0',
    );
    cli.syncOk('orders');
    await h.db.conn.query('DELETE FROM orders WHERE id IN (2, 3, 4)');
    cli.syncOk('orders');
    expect(await warehouseIds('"_hw_deleted_at" IS NOT NULL')).toEqual([2, 3, 4]);
    expect(await warehouseIds('"_hw_deleted_at" IS NULL')).toEqual(await sourceIds());
    await h.db.conn.query('INSERT INTO orders VALUES (3, 9, ?, NOW(6))', ['back']);
    await h.db.conn.query('DELETE FROM orders WHERE id = 10');
    cli.syncOk('orders');
    expect(await warehouseIds('"_hw_deleted_at" IS NOT NULL')).toEqual([2, 4, 10]);
    expect(await warehouseIds('"_hw_deleted_at" IS NULL')).toEqual(await sourceIds());
    expect(verify().code).toBe(0);
  });

  test('a bad delete_detection value names the file, the table and the key', async () => {
    await createOrders(3);
    cli.configure('orders', 'cdc_strategy: hybrid\ndelete_detection: sometimes');
    const r = cli.hw('sync', '-p', 'test', '-t', cli.fq('orders'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/test\.yml.*delete_detection.*expected hard, soft or false/s);
  });
});
