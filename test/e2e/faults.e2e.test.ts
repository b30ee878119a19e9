/**
 * Failure paths end to end: a crash after extract, after load and before commit; a run that dies without
 * aborting (its lease blocks a second run until it expires); a concurrent run refused; bad input refused with
 * nothing changed.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, insertOrders, T1, T2, updateOrders, warehouseOrders } from './fixtures.js';

let h: Harness;
let t: string;
beforeEach(async () => {
  h = await createHarness('fault');
  t = `${h.db.database}.orders`;
  await createOrders(h);
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 3\n    lag: 0`);
});
afterEach(async () => h.cleanup());

const watermark = () => h.watermark(t);

class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

/** Real handlers, with one step made to fail at a chosen point. */
function faulty(point: 'after-extract' | 'after-load' | 'before-commit'): StepHandlers {
  let extracts = 0;
  return {
    ...stepHandlers,
    async extract(input, rt) {
      const r = await stepHandlers.extract(input, rt);
      if (point === 'after-extract' && ++extracts === 2) throw new InjectedCrash('crash after extracting a chunk');
      return r;
    },
    async load(input, rt) {
      const r = await stepHandlers.load(input, rt);
      if (point === 'after-load') throw new InjectedCrash('crash after the load committed');
      return r;
    },
    async commit(input, rt) {
      if (point === 'before-commit') throw new InjectedCrash('crash before commit');
      return stepHandlers.commit(input, rt);
    },
  };
}

test.each(['after-extract', 'after-load', 'before-commit'] as const)(
  'a crash %s leaves the watermark where it was, and the rerun leaves the warehouse equal to the source',
  async (point) => {
    await insertOrders(h, [1, 2, 3, 4, 5, 6, 7], T1);
    const first = await h.sync([t]);
    expect(first.status).toBe('success');
    const before = await watermark();

    await updateOrders(h, [2, 6], T2, 'changed');
    await insertOrders(h, [8, 9, 10, 11], T2);
    const crashed = await h.sync([t], {}, { handlers: faulty(point) });
    expect(crashed.status).toBe('failed');
    expect(crashed.tables[0]?.error).toContain('crash');
    expect(await watermark()).toEqual(before);

    const rerun = await h.sync([t]);
    expect(rerun.status).toBe('success');
    await expectInStep(h);
    expect(await watermark()).toEqual({ ts: T2, id: '11' });
  },
);

test('a run that dies without aborting holds its lease: a second run is refused until the lease expires', async () => {
  h.writePipeline(
    `  ${t}:
    cdc_strategy: hybrid
    chunk_rows: 3
    lag: 0`,
    { leaseSeconds: 2 },
  );
  await insertOrders(h, [1, 2, 3, 4], T1);
  // The process "dies" after loading: no commit, and no abort either.
  const dead: StepHandlers = {
    ...faulty('before-commit'),
    abort: async () => ({ aborted: false, error: 'process died' }),
  };
  await h.sync([t], {}, { handlers: dead });
  const refused = await h.sync([t]);
  expect(refused.status).toBe('failed');
  expect(refused.tables[0]?.error).toMatch(/being synced by run .* refusing a second concurrent run/);
  expect(refused.tables[0]?.exitCode).toBe(3);

  await new Promise((r) => setTimeout(r, 2100));
  const after = await h.sync([t]);
  expect(after.status).toBe('success');
  await expectInStep(h);
});

test('a second concurrent run of the same table is refused while the first holds the lease', async () => {
  await insertOrders(h, [1, 2, 3, 4, 5, 6], T1);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inExtract = new Promise<void>((r) => (entered = r));
  const slow: StepHandlers = {
    ...stepHandlers,
    async extract(input, rt) {
      entered();
      await gate;
      return stepHandlers.extract(input, rt);
    },
  };
  const first = h.sync([t], {}, { handlers: slow });
  await inExtract;
  const second = await h.sync([t]);
  expect(second.status).toBe('failed');
  expect(second.tables[0]?.error).toContain('refusing a second concurrent run');
  release();
  expect((await first).status).toBe('success');
  await expectInStep(h);
});

test('bad input is refused with a clear error and changes nothing', async () => {
  await insertOrders(h, [1, 2, 3], T1);
  expect((await h.sync([t])).status).toBe('success');
  const wm = await watermark();
  const rows = await warehouseOrders(h);

  const cases: { yaml?: string; table?: string; expect: RegExp }[] = [
    { yaml: `  ${t}:\n    cdc_strategy: hybrid\n   lag: [`, expect: /test\.yml:\d+/ },
    { yaml: `  ${t}:\n    cdc_strategy: hybird`, expect: /test\.yml:\d+.*hybird/s },
    {
      yaml: `  ${t}:\n    cdc_strategy: hybrid\n    cdc_timestamp_column: modified_on\n    lag: 0`,
      expect: /modified_on/,
    },
    {
      yaml: `  ${t}:\n    cdc_strategy: custom_sql\n    custom_query: "SELECT * FROM orders; DELETE FROM orders"`,
      expect: /single SELECT/,
    },
    {
      yaml: `  ${t}:\n    cdc_strategy: custom_sql\n    custom_query: "DELETE FROM orders"`,
      expect: /must start with SELECT/,
    },
    { table: `${h.db.database}.orders; DROP TABLE orders`, expect: /not schema\.table/ },
  ];
  for (const c of cases) {
    h.writePipeline(c.yaml ?? `  ${t}:\n    cdc_strategy: hybrid\n    lag: 0`);
    const rt = await h.runtime().catch((e: unknown) => e);
    let message: string;
    if (rt instanceof Error) {
      message = rt.message;
    } else {
      await (rt as { close(): Promise<void> }).close();
      const report = await h
        .sync([c.table ?? t])
        .catch((e: unknown) => ({ status: 'failed', tables: [{ error: String(e) }] }));
      expect(report.status).toBe('failed');
      message = report.tables[0]?.error ?? '';
    }
    expect(message).toMatch(c.expect);
  }
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    lag: 0`);
  expect(await watermark()).toEqual(wm);
  expect(await warehouseOrders(h)).toEqual(rows);
  const [tables] = await h.db.conn.query('SHOW TABLES');
  expect((tables as unknown[]).length).toBe(1);
});
