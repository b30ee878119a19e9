/**
 * Every CDC strategy, end to end on real MariaDB and DuckDB, over several rounds of inserts and updates, with
 * cursor ties that straddle chunk boundaries (chunk_rows 3) and run boundaries (--limit ending mid-tie).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { AwsStandins } from '../support/aws-standins.js';
import { createHarness, type Harness } from '../support/harness.js';
import {
  createOrders,
  expectInStep,
  insertOrders,
  sourceOrders,
  T1,
  T2,
  T3,
  T4,
  updateOrders,
  warehouseOrders,
} from './fixtures.js';

/** Registers the suite; `standins` (started once per file) switches every adapter to its AWS twin. */
export function describeStrategies(startStandins?: () => Promise<AwsStandins>): void {
  let h: Harness;
  let aws: AwsStandins | undefined;
  beforeAll(async () => {
    aws = await startStandins?.();
  });
  afterAll(async () => aws?.stop());
  beforeEach(async () => {
    h = await createHarness('strat', aws);
    await createOrders(h);
  });
  afterEach(async () => h.cleanup());

  function table(body: string): string {
    return `  ${h.db.database}.orders:\n${body
      .trim()
      .split('\n')
      .map((l) => `    ${l.trim()}`)
      .join('\n')}`;
  }

  async function watermark(): Promise<{ ts: string | null; id: string | null } | undefined> {
    const rt = await h.runtime();
    try {
      const p = rt.pipeline('test');
      const key = h.stateKey(`${h.db.database}.orders`);
      return (await (await rt.state(p)).getWatermark(key))?.watermark;
    } finally {
      await rt.close();
    }
  }

  function ok(report: Awaited<ReturnType<Harness['sync']>>) {
    expect(report.tables.map((t) => t.error)).toEqual([null]);
    expect(report.status).toBe('success');
    return report.tables[0]!;
  }

  describe.each([
    ['hybrid', 'cdc_strategy: hybrid\ncdc_timestamp_column: updated_at\ncdc_id_column: id'],
    ['timestamp_only', 'cdc_strategy: timestamp_only\ncdc_timestamp_column: updated_at'],
    ['timestamp_only unix', 'cdc_strategy: timestamp_only\ncdc_timestamp_column: updated_unix\ntimestamp_format: unix'],
  ])('%s', (_name, cfg) => {
    test('rounds of inserts and updates with ties at chunk and run boundaries stay in step', async () => {
      h.writePipeline(table(`${cfg}\nchunk_rows: 3\nlag: 0`));
      await insertOrders(h, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], T1); // ten rows tied on one timestamp
      await insertOrders(h, [11, 12, 13, 14, 15], T2);
      const table1 = `${h.db.database}.orders`;

      // Run 1 stops in the middle of the T1 tie: exactly 7 rows, watermark (T1, 7).
      const r1 = ok(await h.sync([table1], { limit: 7 }));
      expect(r1.rowsExtracted).toBe(7);
      expect((await warehouseOrders(h)).map((r) => r.id)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
      expect((await watermark())?.id).toBe('7');

      // Run 2 picks up the rest of the tie and T2.
      const r2 = ok(await h.sync([table1]));
      expect(r2.rowsExtracted).toBe(8);
      await expectInStep(h);

      // Round 2: updates move rows forward, new rows share the updates' timestamp.
      await updateOrders(h, [2, 12], T3, 'changed');
      await insertOrders(h, [16, 17, 18], T3);
      ok(await h.sync([table1]));
      await expectInStep(h);

      // Round 3: a row at the very timestamp the last run ended on, with a higher id.
      await insertOrders(h, [19], T3);
      await updateOrders(h, [5], T4, 'again');
      ok(await h.sync([table1]));
      await expectInStep(h);

      // Nothing new: the run is skipped and the watermark stays.
      const before = await watermark();
      const r4 = await h.sync([table1]);
      expect(r4.tables[0]?.status).toBe('skipped');
      expect(await watermark()).toEqual(before);
    });
  });

  test('id_only appends new rows in rounds, with --max-chunks', async () => {
    h.writePipeline(table('cdc_strategy: id_only\ncdc_id_column: id\nchunk_rows: 4'));
    const t = `${h.db.database}.orders`;
    await insertOrders(h, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], T1);
    const r1 = ok(await h.sync([t], { maxChunks: 2 }));
    expect(r1.rowsExtracted).toBe(8);
    expect((await watermark())?.id).toBe('8');
    ok(await h.sync([t]));
    await expectInStep(h);
    await insertOrders(h, [12, 13, 20], T2);
    ok(await h.sync([t]));
    await expectInStep(h);
  });

  test('full_sync replace mirrors inserts, updates and deletes', async () => {
    h.writePipeline(table('cdc_strategy: full_sync\nfull_sync_mode: replace\nchunk_rows: 3'));
    const t = `${h.db.database}.orders`;
    await insertOrders(h, [1, 2, 3, 4, 5, 6, 7], T1);
    ok(await h.sync([t]));
    await expectInStep(h);
    await updateOrders(h, [3], T2, 'changed');
    await h.db.conn.query('DELETE FROM orders WHERE id IN (1, 6)');
    await insertOrders(h, [8], T2);
    ok(await h.sync([t]));
    await expectInStep(h);
    expect(await watermark()).toBeUndefined();
    // An emptied source empties the target.
    await h.db.conn.query('DELETE FROM orders');
    ok(await h.sync([t]));
    expect(await warehouseOrders(h)).toEqual([]);
  });

  test('full_sync append upserts every row again', async () => {
    h.writePipeline(table('cdc_strategy: full_sync\nfull_sync_mode: append\nchunk_rows: 2'));
    const t = `${h.db.database}.orders`;
    await insertOrders(h, [1, 2, 3, 4, 5], T1);
    ok(await h.sync([t]));
    await updateOrders(h, [2], T2, 'changed');
    await insertOrders(h, [6], T2);
    ok(await h.sync([t]));
    await expectInStep(h);
  });

  test('custom_sql binds its placeholders and advances to the greatest cursor it read', async () => {
    h.writePipeline(
      table(`cdc_strategy: custom_sql
cdc_timestamp_column: updated_at
cdc_id_column: id
lag: 0
custom_query: "SELECT o.* FROM {table_name} AS o WHERE (o.updated_at > :last_timestamp OR (o.updated_at = :last_timestamp AND o.id > :last_id)) AND o.updated_at <= :upper_timestamp AND o.name <> 'it''s; not a statement'"`),
    );
    const t = `${h.db.database}.orders`;
    await insertOrders(h, [1, 2, 3, 4], T1);
    const r1 = ok(await h.sync([t]));
    expect(r1.rowsExtracted).toBe(4);
    expect(await watermark()).toEqual({ ts: T1, id: '4' });
    await updateOrders(h, [1], T2, 'changed');
    await insertOrders(h, [5, 6], T2);
    const r2 = ok(await h.sync([t]));
    expect(r2.rowsExtracted).toBe(3);
    await expectInStep(h);
    expect(await sourceOrders(h)).toHaveLength(6);
  });

  test('--backup-only stages runs without moving the watermark; --redshift-only loads them in order', async () => {
    h.writePipeline(table('cdc_strategy: hybrid\nchunk_rows: 3\nlag: 0'));
    const t = `${h.db.database}.orders`;
    await insertOrders(h, [1, 2, 3, 4, 5], T1);
    const b1 = await h.sync([t], { backupOnly: true, limit: 3 });
    expect(b1.tables[0]?.status).toBe('staged');
    const b2 = await h.sync([t], { backupOnly: true });
    expect(b2.tables[0]?.rowsExtracted).toBe(2);
    expect(await watermark()).toBeUndefined();
    expect(await warehouseOrders(h).catch(() => [])).toEqual([]);
    const l = ok(await h.sync([t], { redshiftOnly: true }));
    expect(l.rowsLoaded).toBe(5);
    expect(await watermark()).toEqual({ ts: T1, id: '5' });
    await expectInStep(h);
    const again = await h.sync([t], { redshiftOnly: true });
    expect(again.tables[0]?.status).toBe('skipped');
  });
}
