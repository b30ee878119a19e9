/**
 * `verify` end to end on real MariaDB and a real warehouse (DuckDB, or the Redshift Data API stand-in over
 * PostgreSQL): differences planted in either database are each found exactly — a changed cell of every mapped
 * type, a missing row, an extra row, a row deleted at the source, a backdated update — and nothing else is
 * reported (JSON with reordered keys is equal; a row updated since the last run is pending, not different).
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { getTableConfig } from '../../lambdas/engine/config/index.js';
import { type VerifyReport, verifyTable } from '../../lambdas/engine/verify/verify-table.js';
import type { AwsStandins } from '../support/aws-standins.js';
import { createHarness, type Harness } from '../support/harness.js';

/** Changes the warehouse behind Highwater's back (DuckDB file, or the stand-in's PostgreSQL). */
export type WarehouseWriter = (h: Harness, sql: string) => Promise<void>;

const OLD = '2024-03-01 10:00:00.000000';

export function describeVerify(write: WarehouseWriter, startStandins?: () => Promise<AwsStandins>): void {
  let h: Harness;
  let aws: AwsStandins | undefined;
  beforeAll(async () => {
    aws = await startStandins?.();
  });
  afterAll(async () => aws?.stop());
  beforeEach(async () => {
    h = await createHarness('verify', aws);
  });
  afterEach(async () => h.cleanup());

  const name = () => `${h.db.database}.items`;
  const target = () => (aws ? `"${h.warehouseSchema}"."items"` : `"public"."items"`);

  async function verify(bisect?: { leafRows: number; fanout: number; concurrency: number }): Promise<VerifyReport> {
    const rt = await h.runtime();
    try {
      const p = rt.pipeline('test');
      const source = await rt.openSource(p);
      try {
        return await verifyTable(
          { source, state: await rt.state(p), warehouse: await rt.warehouse(p) },
          p,
          getTableConfig(p, name()),
          bisect ? { bisect } : {},
        );
      } finally {
        await source.close();
      }
    } finally {
      await rt.close();
    }
  }

  function pipeline(chunkRows = 7): void {
    h.writePipeline(
      `  ${name()}:\n    cdc_strategy: hybrid\n    cdc_timestamp_column: updated_at\n    cdc_id_column: id\n    chunk_rows: ${chunkRows}`,
    );
  }

  async function createItems(): Promise<void> {
    await h.db.conn.query(`CREATE TABLE items (
      id INT PRIMARY KEY, b TINYINT(1), i SMALLINT, bi BIGINT, u BIGINT UNSIGNED, d DECIMAL(12,4), f FLOAT,
      g DOUBLE, s VARCHAR(50), e ENUM('x','y'), j JSON, bin VARBINARY(16), dt DATE, ts DATETIME(6),
      tz TIMESTAMP(6) NULL DEFAULT NULL, tm TIME(3), yr YEAR, bt BIT(5), updated_at DATETIME(6) NOT NULL)`);
    const rows: unknown[][] = [];
    for (let id = 1; id <= 30; id++) {
      rows.push([
        id,
        id % 2,
        id * -3,
        id * 1_000_000_007,
        id === 30 ? '18446744073709551615' : String(id * 3),
        `${id}.1234`,
        id / 7,
        id / 3,
        id === 6 ? '' : id === 12 ? null : `name ${id} ü'"|`,
        id % 2 ? 'x' : 'y',
        id === 5 ? '{"a": 1, "b": [1, 2]}' : JSON.stringify({ id, tags: ['t'] }),
        Buffer.from([id, 0, 255]),
        id === 13 ? '0000-00-00' : `2024-01-${String((id % 28) + 1).padStart(2, '0')}`,
        `2024-02-01 10:00:00.${String(id).padStart(6, '0')}`,
        id === 14 ? null : `2024-02-02 11:00:00.${String(id * 10).padStart(6, '0')}`,
        `${id}:00:00.5`,
        2000 + id,
        id % 32,
        OLD,
      ]);
    }
    await h.db.conn.query(
      `INSERT INTO items (id, b, i, bi, u, d, f, g, s, e, j, bin, dt, ts, tz, tm, yr, bt, updated_at) VALUES ?`,
      [rows],
    );
  }

  async function synced(): Promise<void> {
    const report = await h.sync([name()]);
    expect(report.tables.map((t) => t.error)).toEqual([null]);
  }

  test('an equal table is equal, every mapped type included', async () => {
    await createItems();
    pipeline();
    await synced();
    const r = await verify();
    expect(r.notes).toEqual([]);
    expect(r).toMatchObject({
      equal: true,
      rows: { source: 30, warehouse: 30 },
      pending: 0,
      scope: 'up to the watermark',
    });
    expect(r.missing.count + r.extra.count + r.changed.count).toBe(0);
    expect(r.columnsCompared).toContain('bt');
  });

  test('planted differences are each found exactly, and nothing else', async () => {
    await createItems();
    pipeline();
    await synced();
    const t = target();
    await write(h, `UPDATE ${t} SET ts = ts + INTERVAL '1 microsecond' WHERE id = 3`);
    await write(h, `UPDATE ${t} SET d = d + 0.0001 WHERE id = 4`);
    // The same JSON with its keys the other way round and other spacing: equal.
    await write(
      h,
      `UPDATE ${t} SET j = ${aws ? `JSON_PARSE('{"b":[1,2],"a":1}')` : `'{"b":[1,2],"a":1}'`} WHERE id = 5`,
    );
    await write(h, `UPDATE ${t} SET s = NULL WHERE id = 6`); // '' at the source
    await write(h, `DELETE FROM ${t} WHERE id = 7`);
    await write(h, `INSERT INTO ${t} (id, s, updated_at) VALUES (1000, 'only here', TIMESTAMP '2024-03-01 10:00:00')`);
    await write(h, `UPDATE ${t} SET f = f * 1.01 WHERE id = 10`);
    await write(h, `UPDATE ${t} SET bin = ${aws ? `FROM_HEX('00')` : `'\\x00'::BLOB`} WHERE id = 11`);
    await write(h, `UPDATE ${t} SET tz = NULL WHERE id = 15`);
    // One changed cell of every other mapped type, each on its own row.
    const perType: [number, string, string][] = [
      [16, 'b', 'NOT b'],
      [17, 'i', 'i + 1'],
      [18, 'bi', 'bi + 1'],
      [19, 'u', 'u + 1'],
      [21, 'g', 'g * 2'],
      [22, 'e', `'z'`],
      [23, 'j', aws ? `JSON_PARSE('{"id":0,"tags":["t"]}')` : `'{"id":0,"tags":["t"]}'`],
      [24, 'dt', 'dt + 1'],
      [25, 'tm', `'01:02:03.000'`],
      [26, 'yr', 'yr + 1'],
      [27, 'bt', 'bt + 1'],
    ];
    for (const [id, col, value] of perType) await write(h, `UPDATE ${t} SET ${col} = ${value} WHERE id = ${id}`);
    await h.db.conn.query('DELETE FROM items WHERE id = 8');
    // Changed at the source with a cursor older than the watermark: beyond what any cursor sees.
    await h.db.conn.query(`UPDATE items SET s = 'backdated', updated_at = '2024-01-01 00:00:00' WHERE id = 9`);
    // Changed since the last run with a newer cursor: the next run's, not a difference.
    await h.db.conn.query(`UPDATE items SET s = 'newer', updated_at = NOW(6) WHERE id = 20`);

    const r = await verify();
    expect(r.equal).toBe(false);
    expect(r.missing).toEqual({ count: 1, keys: [['7']] });
    expect(r.extra.keys.map((k) => k[0]).sort()).toEqual(['1000', '8']);
    const changed = Object.fromEntries(r.changed.rows.map((c) => [c.key[0], c.columns]));
    expect(changed).toEqual({
      '3': ['ts'],
      '4': ['d'],
      '6': ['s'],
      '9': ['s', 'updated_at'],
      '10': ['f'],
      '11': ['bin'],
      '15': ['tz'],
      ...Object.fromEntries(perType.map(([id, col]) => [String(id), [col]])),
    });
    expect(r.pending).toBe(1);
    expect(r.differingRanges.length).toBeGreaterThan(0);
  });

  test('a table larger than one range: the differing rows are found by bisection, the rest is never fetched', async () => {
    await h.db.conn.query(
      'CREATE TABLE items (id BIGINT UNSIGNED PRIMARY KEY, s VARCHAR(20), updated_at DATETIME(6) NOT NULL)',
    );
    const k = (i: number) => String(2n ** 60n + BigInt(i) * 7n);
    const rows = Array.from({ length: 3000 }, (_, i) => [k(i), `v${i}`, OLD]);
    await h.db.conn.query('INSERT INTO items (id, s, updated_at) VALUES ?', [rows]);
    pipeline(1000);
    await synced();
    const t = target();
    await write(h, `UPDATE ${t} SET s = 'x' WHERE id = ${k(1234)}`);
    await write(h, `DELETE FROM ${t} WHERE id = ${k(2999)}`);
    const r = await verify({ leafRows: 50, fanout: 4, concurrency: 2 });
    expect(r.changed.rows).toEqual([{ key: [k(1234)], columns: ['s'] }]);
    expect(r.missing.keys).toEqual([[k(2999)]]);
    expect(r.extra.count).toBe(0);
    expect(r.rangesChecked).toBeGreaterThan(4);
    expect(r.rowsFetched).toBeLessThan(400);
  });

  test('doubles and floats of every magnitude hash alike on both sides: equal, with no row fetched; a last-digit change is found', async () => {
    await h.db.conn.query(
      'CREATE TABLE items (id INT PRIMARY KEY, g DOUBLE, f FLOAT, updated_at DATETIME(6) NOT NULL)',
    );
    const doubles = [
      0.1 + 0.2,
      1 / 3,
      -2 / 3,
      1e-300,
      2.2250738585072014e-308,
      1.7976931348623157e308,
      -1.2345678901234567e300,
      Number('9.999999999999999'), // rounds up to 10 at 15 digits
      1000,
      999.9999999999999,
      1e22,
      1e23,
      Number('123456789012345680000'),
      0.5,
      -0.5,
      1.5e-7,
      42,
      Number.MIN_SAFE_INTEGER,
      // biome-ignore lint/suspicious/noApproximativeNumericConstant: a double with every digit, not π for maths
      3.141592653589793,
      2.718281828459045e-200,
    ];
    const floats = [0.1, 1 / 7, -3.4e38, 1.17549435e-38, 16777216, 0.333333, 1e-30, 65504, -2.5, 7];
    const rows = doubles.map((g, i) => [i + 1, g, floats[i % floats.length], OLD]);
    await h.db.conn.query('INSERT INTO items (id, g, f, updated_at) VALUES ?', [rows]);
    pipeline(5);
    await synced();
    const equal = await verify({ leafRows: 2, fanout: 4, concurrency: 2 });
    expect({ equal: equal.equal, fetched: equal.rowsFetched }).toEqual({ equal: true, fetched: 0 });
    await write(h, `UPDATE ${target()} SET g = 3.1415926535897 WHERE id = 19`);
    const r = await verify({ leafRows: 2, fanout: 4, concurrency: 2 });
    expect(r.changed.rows).toEqual([{ key: ['19'], columns: ['g'] }]);
    expect(r.missing.count + r.extra.count).toBe(0);
  });

  test('composite keys with a VARCHAR part', async () => {
    await h.db.conn.query(
      'CREATE TABLE items (region VARCHAR(10), n INT, v INT, updated_at DATETIME(6) NOT NULL, PRIMARY KEY (region, n))',
    );
    const rows = ['eu', 'us', "o'k", 'Zed'].flatMap((region) =>
      Array.from({ length: 40 }, (_, n) => [region, n, n * 2, OLD]),
    );
    await h.db.conn.query('INSERT INTO items (region, n, v, updated_at) VALUES ?', [rows]);
    h.writePipeline(`  ${name()}:\n    cdc_strategy: full_sync\n    chunk_rows: 50`);
    await synced();
    await write(h, `UPDATE ${target()} SET v = -1 WHERE region = 'o''k' AND n = 3`);
    const r = await verify({ leafRows: 10, fanout: 4, concurrency: 2 });
    expect({ m: r.missing.keys, e: r.extra.keys }).toEqual({ m: [], e: [] });
    expect(r.changed.rows).toEqual([{ key: ["o'k", '3'], columns: ['v'] }]);
    expect(r.missing.count + r.extra.count).toBe(0);
  });

  test('a table without a primary key is compared whole and says it cannot name rows', async () => {
    await h.db.conn.query('CREATE TABLE items (a INT, b VARCHAR(5))');
    await h.db.conn.query("INSERT INTO items VALUES (1, 'x'), (2, 'y'), (2, 'y')");
    h.writePipeline(`  ${name()}:\n    cdc_strategy: full_sync\n    full_sync_mode: replace`);
    await synced();
    expect((await verify()).equal).toBe(true);
    await write(h, `UPDATE ${target()} SET b = 'z' WHERE a = 1`);
    const r = await verify();
    expect(r.equal).toBe(false);
    expect(r.scope).toBe('whole table');
    expect(r.notes.join(' ')).toMatch(/no primary key.*resync/);
  });
}
