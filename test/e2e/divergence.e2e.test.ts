/**
 * No silent divergence, with default settings, on real MariaDB and DuckDB: live writes in the same second as a
 * run's upper bound, transactions that commit after a run (with application-set cursors older than the write),
 * late auto-increment ids, NULL cursors and writers in other time zones. Each scenario ends by comparing the
 * warehouse with MySQL row for row.
 *
 * These tests hold write transactions open on purpose, and the commit horizon is server-wide, so they run on a
 * MariaDB of their own: an open transaction here must not hold back other test files' runs.
 */
import type mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { createHarness, type Harness } from '../support/harness.js';
import { type MariaDbInstance, startMariaDb } from '../support/mariadb.js';
import { expectInStep } from './fixtures.js';

/** The default clock_skew (strategies/defaults.ts) plus a second of DATETIME resolution and some slack. */
const HORIZON_WAIT_MS = 17_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: MariaDbInstance;
const harnesses: Harness[] = [];
beforeAll(async () => {
  server = await startMariaDb();
});
afterAll(async () => server?.stop());
/** Connections a failed test would leave holding a transaction (which would block dropping its database). */
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  for (const h of harnesses.splice(0)) await h.cleanup();
});

async function harness(): Promise<Harness> {
  const h = await createHarness('div', undefined, undefined, server);
  harnesses.push(h);
  return h;
}

/** The e2e `orders` table (fixtures.ts), with a cursor that is NOW()-written and may be NULL where asked. */
async function createOrders(h: Harness, opts: { nullable?: boolean; autoIncrement?: boolean } = {}): Promise<void> {
  await h.db.conn.query(`CREATE TABLE orders (
    id BIGINT NOT NULL ${opts.autoIncrement ? 'AUTO_INCREMENT ' : ''}PRIMARY KEY,
    name VARCHAR(50) NOT NULL,
    amount DECIMAL(12,2) NULL,
    updated_at DATETIME ${opts.nullable ? 'NULL' : 'NOT NULL'},
    updated_unix INT NOT NULL DEFAULT 0
  )`);
}

function table(h: Harness, body = ''): string {
  return `  ${h.db.database}.orders:${
    body
      ? `\n${body
          .trim()
          .split('\n')
          .map((l) => `    ${l.trim()}`)
          .join('\n')}`
      : ' {}'
  }`;
}

function ok(report: Awaited<ReturnType<Harness['sync']>>) {
  expect(report.tables.map((t) => t.error)).toEqual([null]);
  expect(['success']).toContain(report.status);
  return report.tables[0]!;
}

async function connect(h: Harness, timeZone?: string): Promise<mysql.Connection> {
  const { default: mysql2 } = await import('mysql2/promise');
  const c = await mysql2.createConnection({
    host: h.db.host,
    port: h.db.port,
    user: h.db.user,
    password: h.db.password,
    database: h.db.database,
  });
  if (timeZone) await c.query('SET time_zone = ?', [timeZone]);
  return c;
}

describe('writes in the same second as the upper bound', () => {
  test('live NOW() writes during back-to-back runs: after the writer stops, one more run leaves no row stale', async () => {
    const h = await harness();
    await createOrders(h);
    h.writePipeline(table(h));
    const t = `${h.db.database}.orders`;
    const writer = await connect(h);
    for (let id = 1; id <= 40; id++) {
      await writer.query('INSERT INTO orders (id, name, amount, updated_at) VALUES (?, ?, 1.00, NOW())', [
        id,
        `o${id}`,
      ]);
    }
    let stop = false;
    let next = 41;
    let writes = 0;
    const writing = (async () => {
      while (!stop) {
        // Mostly updates of random (often low) ids, stamped NOW() at one-second resolution, plus new rows.
        if (Math.random() < 0.3) {
          await writer.query('INSERT INTO orders (id, name, amount, updated_at) VALUES (?, ?, 1.00, NOW())', [
            next,
            `o${next}`,
          ]);
          next++;
        } else {
          const id = 1 + Math.floor(Math.random() * (next - 1));
          await writer.query('UPDATE orders SET name = ?, amount = amount + 1, updated_at = NOW() WHERE id = ?', [
            `w${writes}`,
            id,
          ]);
        }
        writes++;
        await sleep(5);
      }
    })();
    const deadline = Date.now() + 8000;
    let runs = 0;
    while (Date.now() < deadline) {
      ok(await h.sync([t]));
      runs++;
    }
    stop = true;
    await writing;
    await writer.end();
    expect(runs).toBeGreaterThan(2);
    expect(writes).toBeGreaterThan(100);
    await sleep(HORIZON_WAIT_MS);
    ok(await h.sync([t]));
    await expectInStep(h);
  });

  test('clock_skew 0: a row written in the same second as the plan, with a lower id, is read by the next run', async () => {
    const h = await harness();
    await createOrders(h);
    h.writePipeline(table(h, 'clock_skew: 0'));
    const t = `${h.db.database}.orders`;
    const topOfSecond = async () => {
      for (;;) {
        const [rows] = await h.db.conn.query('SELECT MICROSECOND(NOW(6)) AS us');
        if (Number((rows as { us: number }[])[0]?.us) < 50_000) return;
        await sleep(10);
      }
    };
    // After the run read its rows, in the same second as its plan: a tie on the timestamp, with ids below H's.
    // (When the plan reads nothing, as it must here, the writes follow the plan instead.)
    const writeTies = async () => {
      await h.db.conn.query("UPDATE orders SET name = 'changed', updated_at = NOW() WHERE id = 5");
      await h.db.conn.query("INSERT INTO orders (id, name, updated_at) VALUES (1, 'one', NOW())");
    };
    const plannedThenWritten: StepHandlers = {
      ...stepHandlers,
      async plan(input, rt) {
        await topOfSecond();
        await h.db.conn.query(
          "INSERT INTO orders (id, name, updated_at) VALUES (5, 'five', NOW()), (9, 'nine', NOW())",
        );
        const out = await stepHandlers.plan(input, rt);
        if (out.run === null) await writeTies();
        return out;
      },
      async extract(input, rt) {
        const out = await stepHandlers.extract(input, rt);
        await writeTies();
        return out;
      },
    };
    await h.sync([t], {}, { handlers: plannedThenWritten });
    await sleep(1100);
    ok(await h.sync([t]));
    await expectInStep(h);
  });
});

describe('transactions that commit after a run', () => {
  for (const strategy of ['hybrid', 'timestamp_only'] as const) {
    test(`${strategy}: a row written with updated_at 10 s in the past, committed after the run, is synced`, async () => {
      const h = await harness();
      await createOrders(h);
      h.writePipeline(table(h, `cdc_strategy: ${strategy}`));
      const t = `${h.db.database}.orders`;
      const late = await connect(h);
      closers.push(() => late.destroy());
      await late.query('BEGIN');
      // The application stamps the row from its own clock, 10 s behind the moment it writes it.
      await late.query("INSERT INTO orders (id, name, updated_at) VALUES (1, 'late', NOW() - INTERVAL 10 SECOND)");
      // Committed rows just after it: a horizon at NOW − clock_skew alone would let H pass the late row.
      await h.db.conn.query(
        "INSERT INTO orders (id, name, updated_at) VALUES (2, 'early', NOW() - INTERVAL 9 SECOND), (3, 'early', NOW() - INTERVAL 9 SECOND)",
      );
      await sleep(8000);
      const r1 = ok(await h.sync([t]));
      expect(r1.horizon ?? '').toContain('a write transaction open since');
      await late.query('COMMIT');
      await late.end();
      await sleep(HORIZON_WAIT_MS);
      ok(await h.sync([t]));
      await expectInStep(h);
      expect((await h.warehouseRows('public.orders', 'id')).map((r) => String(r.id))).toContain('1');
    });
  }

  test('id_only: a lower auto-increment id that commits after a higher one is not skipped', async () => {
    const h = await harness();
    await createOrders(h, { autoIncrement: true });
    h.writePipeline(table(h, 'cdc_strategy: id_only'));
    const t = `${h.db.database}.orders`;
    for (let i = 0; i < 10; i++) await h.db.conn.query("INSERT INTO orders (name, updated_at) VALUES ('a', NOW())");
    ok(await h.sync([t]));
    expect(await h.watermark(t)).toEqual({ ts: null, id: '10' });

    const late = await connect(h);
    closers.push(() => late.destroy());
    await late.query('BEGIN');
    await late.query("INSERT INTO orders (name, updated_at) VALUES ('late', NOW())"); // id 11, not committed
    await h.db.conn.query("INSERT INTO orders (name, updated_at) VALUES ('b', NOW()), ('c', NOW())"); // 12, 13
    const r2 = ok(await h.sync([t]));
    // 12 and 13 are loaded, but the watermark stays below the id the open transaction holds.
    expect(r2.rowsExtracted).toBe(2);
    expect(await h.watermark(t)).toEqual({ ts: null, id: '10' });
    expect(r2.warnings.join('\n')).toMatch(/watermark held at 10 rather than 13/);
    await late.query('COMMIT');
    await late.end();
    ok(await h.sync([t]));
    await expectInStep(h);
    expect(await h.watermark(t)).toEqual({ ts: null, id: '13' });
  });
});

describe('NULL cursors', () => {
  test('rows whose updated_at is NULL reach the warehouse, at the first run and later, and are counted', async () => {
    const h = await harness();
    await createOrders(h, { nullable: true });
    h.writePipeline(table(h));
    const t = `${h.db.database}.orders`;
    for (let id = 1; id <= 50; id++) {
      await h.db.conn.query('INSERT INTO orders (id, name, updated_at) VALUES (?, ?, ?)', [
        id,
        `o${id}`,
        id % 5 === 0 ? '2024-01-01 00:00:00' : null,
      ]);
    }
    const r1 = ok(await h.sync([t]));
    expect(r1.rowsExtracted).toBe(50);
    expect(r1.warnings.join('\n')).toContain('40 row(s) have a NULL updated_at');
    await expectInStep(h);
    // Inserted later with a NULL cursor, and a change to a NULL-cursor row that keeps it NULL.
    await h.db.conn.query("INSERT INTO orders (id, name, updated_at) VALUES (51, 'later', NULL)");
    await h.db.conn.query("UPDATE orders SET name = 'changed' WHERE id = 1");
    ok(await h.sync([t]));
    await expectInStep(h);
  });
});

describe('time zones', () => {
  async function writeRows(h: Harness, zone: string, ids: number[], ago: string): Promise<void> {
    const c = await connect(h, zone);
    for (const id of ids) {
      await c.query(`INSERT INTO orders (id, name, updated_at) VALUES (?, 'x', NOW() - INTERVAL ${ago})`, [id]);
    }
    await c.end();
  }

  test('a +08:00 writer with time_zone +08:00 and lag 1m: rows older than a minute are synced, not held 8 hours', async () => {
    const h = await harness();
    await createOrders(h);
    h.setSourceOption('time_zone', '"+08:00"');
    h.writePipeline(table(h, 'lag: 1m'));
    const t = `${h.db.database}.orders`;
    await writeRows(
      h,
      '+08:00',
      Array.from({ length: 20 }, (_, i) => i + 1),
      '2 MINUTE',
    );
    const r = ok(await h.sync([t]));
    expect(r.rowsExtracted).toBe(20);
    expect(r.horizon).toContain('+08:00');
    await expectInStep(h);
  });

  test('a -05:00 writer with time_zone -05:00 and lag 1m: rows written just now wait for the lag', async () => {
    const h = await harness();
    await createOrders(h);
    h.setSourceOption('time_zone', '"-05:00"');
    h.writePipeline(table(h, 'lag: 1m'));
    const t = `${h.db.database}.orders`;
    await writeRows(h, '-05:00', [1, 2, 3], '2 MINUTE');
    await writeRows(h, '-05:00', [4, 5], '0 SECOND');
    const r = ok(await h.sync([t]));
    // Compared with UTC, the fresh rows would look five hours old and pass the lag at once.
    expect(r.rowsExtracted).toBe(3);
    expect((await h.warehouseRows('public.orders', 'id')).map((x) => String(x.id))).toEqual(['1', '2', '3']);
  });
});
