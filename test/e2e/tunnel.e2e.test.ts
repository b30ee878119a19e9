/**
 * A sync through an SSH bastion (real OpenSSH on loopback): rows arrive the same as directly, and a tunnel that
 * drops in the middle of a chunk fails that chunk, which is retried over a new tunnel — nothing is half-committed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, inject, test } from 'vitest';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { createHarness, type Harness } from '../support/harness.js';
import { type SshdInstance, startSshd } from '../support/sshd.js';
import { createOrders, expectInStep, insertOrders, T1 } from './fixtures.js';

let sshd: SshdInstance;
let h: Harness;
let t: string;

beforeAll(async () => {
  const maria = inject('mariadb');
  sshd = await startSshd({ permitOpen: [`127.0.0.1:${maria.port}`] });
});
afterAll(async () => sshd?.stop());

beforeEach(async () => {
  const keyDir = join(process.env.TMPDIR ?? '/tmp', `hw-tunnel-key-${process.pid}`);
  writeFileSync(keyDir, sshd.privateKey, { mode: 0o600 });
  h = await createHarness('tun', undefined, {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: keyDir,
    hostKeySha256: sshd.hostKeySha256,
  });
  t = `${h.db.database}.orders`;
  await createOrders(h);
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 100000\n    lag: 0`);
});
afterEach(async () => h.cleanup());

test('rows synced through the bastion equal the source', async () => {
  await insertOrders(
    h,
    Array.from({ length: 300 }, (_, i) => i + 1),
    T1,
  );
  const r = await h.sync([t]);
  expect(r.tables[0]?.error).toBeNull();
  await expectInStep(h);
  expect(sshd.log()).toMatch(/Accepted publickey/);
});

test('a tunnel that drops mid-chunk fails the chunk, which is retried; the run commits once, complete', async () => {
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 1000000\n    lag: 0`);
  await h.db.conn.query('SET SESSION max_recursive_iterations = 1000000').catch(() => undefined);
  await h.db.conn.query(
    `INSERT INTO orders
     WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 150000)
     SELECT n, CONCAT('order ', n, ' ', REPEAT('x', 30)), NULL, ?, 1704067200 FROM s`,
    [T1],
  );
  let attempts = 0;
  const dropping: StepHandlers = {
    ...stepHandlers,
    async extract(input, rt) {
      attempts++;
      if (attempts === 1) {
        const killer = setTimeout(() => void sshd.killConnections(), 100);
        try {
          return await stepHandlers.extract(input, rt);
        } finally {
          clearTimeout(killer);
        }
      }
      return stepHandlers.extract(input, rt);
    },
  };
  const events: string[] = [];
  const r = await h.sync([t], {}, { handlers: dropping, onEvent: (e) => events.push(e.type) });
  expect(r.tables[0]?.error).toBeNull();
  expect(attempts).toBe(2);
  expect(events).toContain('retry');
  expect(r.tables[0]?.rowsLoaded).toBe(150000);
  const [[count]] = (await h.db.conn.query('SELECT COUNT(*) AS n FROM orders')) as unknown as [[{ n: number }]];
  expect(Number(count.n)).toBe(150000);
  const wh = await h.warehouseRows('public.orders', 'id');
  expect(wh).toHaveLength(150000);
  expect(new Set(wh.map((row) => String(row.id))).size).toBe(150000);
});
