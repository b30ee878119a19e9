/**
 * A load that takes the files of earlier --backup-only runs stages each run's files with that run's own columns:
 * a column the source gained since is NULL in the older rows (not a COPY/read error), on the local warehouse.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, insertOrders, T1, T2 } from './fixtures.js';

let h: Harness;
let t: string;
beforeEach(async () => {
  h = await createHarness('stcol');
  t = `${h.db.database}.orders`;
  await createOrders(h);
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 2\n    lag: 0`);
});
afterEach(async () => h.cleanup());

test('a column added after a backup-only run is NULL for that run’s rows when --redshift-only loads it', async () => {
  await insertOrders(h, [1, 2, 3], T1);
  const staged = await h.sync([t], { backupOnly: true });
  expect(staged.tables[0]).toMatchObject({ status: 'staged', rowsExtracted: 3 });

  await h.db.conn.query('ALTER TABLE orders ADD COLUMN note VARCHAR(20) NULL');
  const loaded = await h.sync([t], { redshiftOnly: true });
  expect(loaded.tables[0]?.error ?? null).toBeNull();
  expect(loaded.tables[0]).toMatchObject({ status: 'committed', rowsLoaded: 3 });
  const rows = await h.warehouseRows('public.orders', 'id');
  expect(rows.map((r) => [r.id, r.note])).toEqual([
    [1, null],
    [2, null],
    [3, null],
  ]);

  // The next normal run reads on from the staged run's end, with the new column.
  await h.db.conn.query("INSERT INTO orders VALUES (4, 'order 4', NULL, ?, 0, 'fresh')", [T2]);
  const next = await h.sync([t]);
  expect(next.tables[0]).toMatchObject({ status: 'committed', rowsLoaded: 1 });
  expect((await h.warehouseRows('public.orders', 'id')).at(-1)).toMatchObject({ id: 4, note: 'fresh' });
});
