/** The DuckDB warehouse on real database files: the shared contract plus what only DuckDB has (types, locks, readers). */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogicalType } from '../../lambdas/domain/model.js';
import { duckdbType } from '../../lambdas/engine/type-map.js';
import { catalogSpelling } from '../../lambdas/engine/type-widening.js';
import { CountMismatchError, WarehouseError } from '../../lambdas/errors.js';
import { createDuckDbWarehouse } from '../../lambdas/local/adapters/duckdb/index.js';
import type { LoadRequest, TargetTable, Warehouse } from '../../lambdas/ports/index.js';
import { checkInserted } from '../../lambdas/ports/load-request.js';
import {
  type CatalogColumnRow,
  column,
  describeWarehouseContract,
  writeParquetWithDuckDb,
} from '../contract/warehouse.contract.js';
import { holdInChildProcess, release } from '../support/duckdb-lock.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hw-duckdb-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const unique = (name: string) => `${randomBytes(4).toString('hex')}-${name}`;
const dbPath = () => join(dir, 'db', `${unique('wh')}.duckdb`);
async function parquet(name: string, select: string): Promise<string> {
  const path = join(dir, 'files', `${unique(name)}.parquet`);
  await writeParquetWithDuckDb(path, select);
  return path;
}

/** A merge of `(id BIGINT NOT NULL, v BIGINT NOT NULL)` rows, keyed on id, into `target`. */
function idValueMerge(target: TargetTable, files: string[], rows: number): LoadRequest {
  const int64 = { kind: 'int64' } as const;
  return {
    target,
    columns: [column('id', int64, false), column('v', int64, false)],
    primaryKey: ['id'],
    cursorColumns: [],
    mode: 'merge',
    files,
    expectedRows: rows,
    onColumnDrop: 'keep',
  };
}

/** The target's columns as duckdb_columns() spells them, in table order. */
async function catalogColumns(wh: Warehouse, target: TargetTable): Promise<CatalogColumnRow[]> {
  const rows = await wh.query<{ name: string; type: string; not_null: boolean }>(
    `SELECT column_name AS name, data_type AS type, NOT is_nullable AS not_null FROM duckdb_columns()
      WHERE schema_name = ? AND table_name = ? ORDER BY column_index`,
    [target.schema, target.name],
  );
  return rows.map((r) => ({ name: r.name, type: r.type, notNull: r.not_null }));
}

describeWarehouseContract('duckdb', {
  open: () => createDuckDbWarehouse({ path: dbPath() }),
  parquet,
  missingLocation: (name) => join(dir, 'missing', `${name}.parquet`),
  columns: catalogColumns,
});

const INT: LogicalType = { kind: 'int32' };

describe('DuckDB warehouse: types and DDL', () => {
  it('maps every logical type', async () => {
    const cases: [LogicalType, string][] = [
      [{ kind: 'boolean' }, 'BOOLEAN'],
      [{ kind: 'int16' }, 'SMALLINT'],
      [{ kind: 'int32' }, 'INTEGER'],
      [{ kind: 'int64' }, 'BIGINT'],
      [{ kind: 'float32' }, 'REAL'],
      [{ kind: 'float64' }, 'DOUBLE'],
      [{ kind: 'decimal', precision: 38, scale: 10 }, 'DECIMAL(38,10)'],
      [{ kind: 'string', maxBytes: 40 }, 'VARCHAR'],
      [{ kind: 'json' }, 'JSON'],
      [{ kind: 'binary', maxBytes: 16 }, 'BLOB'],
      [{ kind: 'date' }, 'DATE'],
      [{ kind: 'timestamp', utc: false }, 'TIMESTAMP'],
      [{ kind: 'timestamp', utc: true }, 'TIMESTAMPTZ'],
      [{ kind: 'time' }, 'VARCHAR'],
    ];
    const wh = await createDuckDbWarehouse({ path: ':memory:' });
    try {
      expect(wh.capabilities.name).toBe('duckdb');
      for (const [type, ddl] of cases) {
        expect(duckdbType(type)).toBe(ddl);
        expect(wh.capabilities.columnType(column('c', type))).toBe(ddl);
      }
    } finally {
      await wh.close();
    }
  });

  it('describes the CREATE TABLE a load would run, with quoted names and NOT NULL', async () => {
    const wh = await createDuckDbWarehouse({ path: ':memory:' });
    try {
      const ddl = wh.describeDdl({
        target: { schema: 'shop', name: 'order' },
        columns: [column('id', INT, false), column('col_1st', { kind: 'decimal', precision: 15, scale: 4 })],
        primaryKey: ['id'],
      });
      expect(ddl).toBe('CREATE TABLE "shop"."order" (\n  "id" INTEGER NOT NULL,\n  "col_1st" DECIMAL(15,4)\n)');
    } finally {
      await wh.close();
    }
  });

  it('round-trips DECIMAL(38,10), TIMESTAMPTZ, TIMESTAMP, BIGINT, BLOB, JSON and the rest as JSON-friendly values', async () => {
    const wh = await createDuckDbWarehouse({ path: dbPath() });
    try {
      const columns = [
        column('id', INT, false),
        column('amount', { kind: 'decimal', precision: 38, scale: 10 }),
        column('at_utc', { kind: 'timestamp', utc: true }),
        column('at_local', { kind: 'timestamp', utc: false }),
        column('big', { kind: 'int64' }),
        column('bytes', { kind: 'binary', maxBytes: 8 }),
        column('doc', { kind: 'json' }),
        column('day', { kind: 'date' }),
        column('dur', { kind: 'time' }),
        column('flag', { kind: 'boolean' }),
        column('ratio', { kind: 'float64' }),
        column('small', { kind: 'int16' }),
      ];
      const f = await parquet(
        'types',
        `SELECT 1::INTEGER AS id, '-12.34'::DECIMAL(38,10) AS amount,
                TIMESTAMPTZ '2024-01-02 03:04:05.123456+00' AS at_utc, TIMESTAMP '1969-12-31 23:59:59.5' AS at_local,
                9007199254740993::BIGINT AS big, '\\x00\\xFFab'::BLOB AS bytes, '{"a":[1,2]}' AS doc,
                DATE '2024-02-29' AS day, '-838:59:59' AS dur, true AS flag, 0.25::DOUBLE AS ratio, (-3)::SMALLINT AS small
         UNION ALL
         SELECT 2, '1234567890123456789012345678.0123456789'::DECIMAL(38,10), TIMESTAMPTZ '2024-06-30 23:00:00+00',
                TIMESTAMP '2024-01-02 03:04:05', 42, ''::BLOB, 'null', DATE '1999-12-31', '00:00:01', false, -1.5, 7`,
      );
      const req: LoadRequest = {
        target: { schema: 'types', name: 'all' },
        columns,
        primaryKey: ['id'],
        cursorColumns: [],
        mode: 'merge',
        files: [f],
        expectedRows: 2,
        onColumnDrop: 'keep',
      };
      expect(await wh.load(req)).toEqual({
        rowsStaged: 2,
        rowsLoaded: 2,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      const rows = await wh.query('SELECT * FROM "types"."all" ORDER BY id');
      expect(rows).toEqual([
        {
          id: 1,
          amount: '-12.3400000000',
          at_utc: '2024-01-02 03:04:05.123456+00',
          at_local: '1969-12-31 23:59:59.500000',
          big: '9007199254740993',
          bytes: Buffer.from([0x00, 0xff, 0x61, 0x62]),
          doc: '{"a":[1,2]}',
          day: '2024-02-29',
          dur: '-838:59:59',
          flag: true,
          ratio: 0.25,
          small: -3,
        },
        {
          id: 2,
          amount: '1234567890123456789012345678.0123456789',
          at_utc: '2024-06-30 23:00:00+00',
          at_local: '2024-01-02 03:04:05',
          big: 42,
          bytes: Buffer.alloc(0),
          doc: 'null',
          day: '1999-12-31',
          dur: '00:00:01',
          flag: false,
          ratio: -1.5,
          small: 7,
        },
      ]);
      const types = await wh.query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'types' AND table_name = 'all' AND column_name IN ('amount', 'at_utc', 'dur')  ORDER BY column_name",
      );
      expect(types).toEqual([
        { column_name: 'amount', data_type: 'DECIMAL(38,10)' },
        { column_name: 'at_utc', data_type: 'TIMESTAMP WITH TIME ZONE' },
        { column_name: 'dur', data_type: 'VARCHAR' },
      ]);
    } finally {
      await wh.close();
    }
  });

  it('converts query results and binds parameters of every supported kind', async () => {
    const wh = await createDuckDbWarehouse({ path: ':memory:' });
    try {
      const [row] = await wh.query(
        `SELECT ?::BIGINT AS neg_big, ?::HUGEINT AS huge, ? AS text, ?::BLOB AS blob, ?::TIMESTAMPTZ AS at, ? IS NULL AS was_null,
                'infinity'::TIMESTAMP AS inf, [1, 2]::INTEGER[] AS list, {'k': 1.5::DECIMAL(4,2)} AS struct,
                MAP {'a': 1} AS map, INTERVAL 90 MINUTE AS span, TIME '12:34:56' AS clock, TIMESTAMP_MS '2024-01-01 00:00:00.123' AS ms`,
        [
          -9007199254740993n,
          170141183460469231731687303715884105727n,
          "it's",
          Buffer.from('hi'),
          new Date('2024-01-02T03:04:05.678Z'),
          null,
        ],
      );
      expect(row).toEqual({
        neg_big: '-9007199254740993',
        huge: '170141183460469231731687303715884105727',
        text: "it's",
        blob: Buffer.from('hi'),
        at: '2024-01-02 03:04:05.678000+00',
        was_null: true,
        inf: 'infinity',
        list: [1, 2],
        struct: { k: '1.50' },
        map: [{ key: 'a', value: 1 }],
        span: '01:30:00',
        clock: '12:34:56',
        ms: '2024-01-01 00:00:00.123',
      });
    } finally {
      await wh.close();
    }
  });
});

describe('DuckDB warehouse: schema changes', () => {
  it('every DDL type the type map produces is spelled in the catalog as WAREHOUSE_TYPES.duckdb says', async () => {
    const types: LogicalType[] = [
      { kind: 'boolean' },
      { kind: 'int16' },
      { kind: 'int32' },
      { kind: 'int64' },
      { kind: 'float32' },
      { kind: 'float64' },
      { kind: 'decimal', precision: 20, scale: 0 },
      { kind: 'decimal', precision: 38, scale: 10 },
      { kind: 'string', maxBytes: 40 },
      { kind: 'json' },
      { kind: 'binary', maxBytes: 16 },
      { kind: 'date' },
      { kind: 'timestamp', utc: false },
      { kind: 'timestamp', utc: true },
      { kind: 'time' },
    ];
    const wh = await createDuckDbWarehouse({ path: dbPath() });
    try {
      const target = { schema: 'spell', name: 'all' };
      const columns = types.map((type, i) => column(`c${i}`, type));
      await wh.load({
        target,
        columns,
        primaryKey: [],
        cursorColumns: [],
        mode: 'append',
        files: [],
        expectedRows: 0,
        onColumnDrop: 'keep',
      });
      const catalog = await catalogColumns(wh, target);
      expect(catalog.map((c) => c.type)).toEqual(types.map((t) => catalogSpelling('duckdb', duckdbType(t))));
      // Loading the same columns again compares equal everywhere: nothing to change.
      const again = await wh.load({
        target,
        columns,
        primaryKey: [],
        cursorColumns: [],
        mode: 'append',
        files: [],
        expectedRows: 0,
        onColumnDrop: 'keep',
      });
      expect(again.schemaChanges).toEqual([]);
    } finally {
      await wh.close();
    }
  });

  it('a load that fails after its ALTERs ran leaves the table exactly as before: the transaction rolls them back', async () => {
    const wh = await createDuckDbWarehouse({ path: dbPath() });
    try {
      const target = { schema: 'rb', name: 't' };
      const first = [
        column('id', INT, false),
        column('amount', { kind: 'decimal', precision: 10, scale: 2 }, false),
        column('n', INT),
        column('legacy', INT, false),
        column('gone', INT),
      ];
      const base = {
        target,
        primaryKey: ['id'],
        cursorColumns: [],
        mode: 'merge',
        onColumnDrop: 'keep',
      } satisfies Partial<LoadRequest>;
      const seed = await parquet(
        'rb-seed',
        "SELECT 1::INTEGER AS id, '12.34'::DECIMAL(10,2) AS amount, 5::INTEGER AS n, 7::INTEGER AS legacy, 9::INTEGER AS gone",
      );
      await wh.load({ ...base, columns: first, files: [seed], expectedRows: 1 });
      const snapshot = async () => ({
        columns: await catalogColumns(wh, target),
        rows: await wh.query('SELECT * FROM "rb"."t" ORDER BY id'),
      });
      const before = await snapshot();
      // Widen amount and n, add email, keep legacy (DROP NOT NULL), all of which run before the insert fails on
      // the NULL key; with onColumnDrop drop, `gone` and `legacy` are dropped instead.
      const next = [
        column('id', INT, false),
        column('amount', { kind: 'decimal', precision: 20, scale: 6 }, false),
        column('n', { kind: 'int64' }),
        column('email', { kind: 'string', maxBytes: 40 }),
      ];
      const bad = await parquet(
        'rb-bad',
        "SELECT NULL::INTEGER AS id, '1'::DECIMAL(20,6) AS amount, 3000000000::BIGINT AS n, 'x' AS email",
      );
      for (const onColumnDrop of ['keep', 'drop'] as const) {
        const err = await wh
          .load({ ...base, onColumnDrop, columns: next, files: [bad], expectedRows: 1 })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WarehouseError);
        expect((err as Error).message).toMatch(/NOT NULL constraint failed/);
        expect(await snapshot()).toEqual(before);
      }
      const good = await parquet(
        'rb-good',
        "SELECT 2::INTEGER AS id, '1'::DECIMAL(20,6) AS amount, 3000000000::BIGINT AS n, 'x' AS email",
      );
      const result = await wh.load({ ...base, columns: next, files: [good], expectedRows: 1 });
      expect(result.schemaChanges).toEqual([
        { column: 'email', change: 'added', to: 'VARCHAR' },
        { column: 'amount', change: 'widened', from: 'DECIMAL(10,2)', to: 'DECIMAL(20,6)' },
        { column: 'n', change: 'widened', from: 'INTEGER', to: 'BIGINT' },
        { column: 'legacy', change: 'kept', from: 'INTEGER NOT NULL', to: 'INTEGER' },
      ]);
      expect(await catalogColumns(wh, target)).toEqual([
        { name: 'id', type: 'INTEGER', notNull: true },
        { name: 'amount', type: 'DECIMAL(20,6)', notNull: true },
        { name: 'n', type: 'BIGINT', notNull: false },
        { name: 'legacy', type: 'INTEGER', notNull: false },
        { name: 'gone', type: 'INTEGER', notNull: false },
        { name: 'email', type: 'VARCHAR', notNull: false },
      ]);
    } finally {
      await wh.close();
    }
  });
});

describe('DuckDB warehouse: errors', () => {
  it('names the problem in validation errors', async () => {
    const wh = await createDuckDbWarehouse({ path: ':memory:' });
    const base: LoadRequest = {
      target: { schema: 's', name: 't' },
      columns: [column('id', INT, false)],
      primaryKey: ['id'],
      cursorColumns: [],
      mode: 'merge',
      files: [],
      expectedRows: 0,
      onColumnDrop: 'keep',
    };
    const cases: [Partial<LoadRequest>, RegExp][] = [
      [{ primaryKey: [] }, /load of s\.t: merge needs a primary key/],
      [{ primaryKey: ['nope'] }, /primary key column nope is not among the loaded columns/],
      [{ cursorColumns: ['ts'] }, /cursor column ts is not among/],
      [{ columns: [column('id', INT), column('ID', INT)] }, /column ID is listed twice/],
      [{ columns: [] }, /no columns given/],
      [{ expectedRows: 1.5 }, /expectedRows must be a non-negative integer, got 1.5/],
      [{ onColumnDrop: undefined as unknown as 'keep' }, /onColumnDrop must be keep or drop, got undefined/],
      [{ onColumnDrop: 'remove' as unknown as 'keep' }, /onColumnDrop must be keep or drop, got "remove"/],
    ];
    try {
      for (const [extra, message] of cases) {
        await expect(wh.load({ ...base, ...extra })).rejects.toThrow(message);
      }
    } finally {
      await wh.close();
    }
  });

  it('checks that every staged key became exactly one inserted row', () => {
    expect(() => checkInserted('s.t', 3, 3, true)).not.toThrow();
    expect(() => checkInserted('s.t', 2, 3, true)).toThrow(CountMismatchError);
    expect(() => checkInserted('s.t', 2, 3, true)).toThrow('load of s.t: inserted 2 rows but staged 3 distinct keys');
    expect(() => checkInserted('s.t', 4, 3, false)).toThrow('inserted 4 rows but staged 3 rows');
  });

  it('wraps DuckDB errors, runs only single read-only statements, and refuses odd parameters', async () => {
    const wh = await createDuckDbWarehouse({ path: ':memory:' });
    try {
      await expect(wh.query('SELEC 1')).rejects.toThrow(/DuckDB failed running a query: .*Parser Error: syntax error/);
      await expect(wh.query('SELECT 1; SELECT 2')).rejects.toThrow('query must be exactly one statement, got 2');
      const write = await wh.query('CREATE TABLE x (a INTEGER)').catch((e: unknown) => e);
      expect(write).toBeInstanceOf(WarehouseError);
      expect((write as Error).message).toMatch(/read-only/);
      await expect(wh.query('SELECT ?', [{ a: 1 }])).rejects.toThrow(
        'query parameter 1 has an unsupported type (object)',
      );
      expect(await wh.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await wh.close();
    }
    await wh.close(); // idempotent
    await expect(wh.query('SELECT 1')).rejects.toThrow(/closed/);
    await expect(wh.count({ schema: 's', name: 't' })).rejects.toBeInstanceOf(WarehouseError);
  });

  it('reports a file another process holds as locked, naming the path', async () => {
    const path = dbPath();
    const holder = await holdInChildProcess(path);
    try {
      const err = await createDuckDbWarehouse({ path }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      expect((err as Error).message).toContain('another process has the warehouse open');
      expect((err as Error).message).toContain(path);
    } finally {
      await release(holder);
    }
    const wh = await createDuckDbWarehouse({ path });
    expect(await wh.count({ schema: 'main', name: 'held' })).toBe(1);
    await wh.close();
  });

  it('wraps a failure to open the file', async () => {
    const path = join(dir, `${unique('not-a-db')}.duckdb`);
    await writeParquetWithDuckDb(path, 'SELECT 1 AS a'); // a Parquet file is not a DuckDB database
    const err = await createDuckDbWarehouse({ path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toContain(`opening warehouse ${path}`);
  });
});

describe('DuckDB warehouse: files and sharing', () => {
  it('creates the directory of the database file', async () => {
    const path = join(dir, unique('nested'), 'a', 'b', 'wh.duckdb');
    const wh = await createDuckDbWarehouse({ path });
    await wh.close();
    expect(existsSync(path)).toBe(true);
  });

  it('opens DuckDB with the memory ceiling: 96 MiB by default, or the target’s memory_limit', async () => {
    const limit = async (memoryLimitBytes?: number) => {
      const wh = await createDuckDbWarehouse({ path: dbPath(), ...(memoryLimitBytes ? { memoryLimitBytes } : {}) });
      try {
        const [row] = await wh.query<{ v: string }>("SELECT current_setting('memory_limit') AS v");
        return row?.v;
      } finally {
        await wh.close();
      }
    };
    expect(await limit()).toBe('96.0 MiB');
    expect(await limit(64 * 1024 * 1024)).toBe('64.0 MiB');
  });

  it('a load that writes more than the checkpoint threshold is in the database file when it commits; a small one waits for the close', async () => {
    const path = dbPath();
    const wal = `${path}.wal`;
    const walBytes = () => (existsSync(wal) ? statSync(wal).size : 0);
    const req = (files: string[], rows: number) => idValueMerge({ schema: 'main', name: 'ckpt' }, files, rows);
    const wh = await createDuckDbWarehouse({ path });
    try {
      await wh.load(req([await parquet('ckpt-first', 'SELECT -1::BIGINT AS id, 0::BIGINT AS v')], 1));
    } finally {
      await wh.close();
    }
    const again = await createDuckDbWarehouse({ path });
    try {
      // 110,000 rows of two BIGINTs into a table that has rows: fewer than a row group (122,880), so DuckDB does not
      // write them to the file as it goes; about 1.8 MB, which its default threshold (16 MiB) would leave in the WAL.
      const rows = 'SELECT range::BIGINT AS id, 0::BIGINT AS v FROM range(110000)';
      await again.load(req([await parquet('ckpt-big', rows)], 110_000));
      // What is left in the WAL is its header and the checkpoint's record, not rows.
      const afterBig = walBytes();
      expect(afterBig).toBeLessThan(4096);
      await again.load(req([await parquet('ckpt-small', 'SELECT 7::BIGINT AS id, 1::BIGINT AS v')], 1));
      expect(walBytes()).toBeGreaterThan(afterBig);
    } finally {
      await again.close();
    }
    expect(walBytes()).toBe(0);
    const reopened = await createDuckDbWarehouse({ path });
    try {
      const [row] = await reopened.query<{ n: unknown; v: unknown }>(
        'SELECT count(*) AS n, sum(v) AS v FROM main.ckpt',
      );
      expect({ n: Number(row?.n), v: Number(row?.v) }).toEqual({ n: 110_001, v: 1 });
    } finally {
      await reopened.close();
    }
  });

  describe('a merge into a large table (its delete needs memory in proportion to the table)', () => {
    const MIB = 1024 * 1024;
    const target = { schema: 'main', name: 'big' };
    const request = (files: string[], rows: number) => idValueMerge(target, files, rows);
    /** A file holding a table of 2M rows, loaded under DuckDB's default ceiling. */
    async function bigTable(): Promise<string> {
      const path = dbPath();
      const wh = await createDuckDbWarehouse({ path });
      try {
        const all = await parquet('big', 'SELECT range::BIGINT AS id, 0::BIGINT AS v FROM range(2000000)');
        await wh.load(request([all], 2_000_000));
      } finally {
        await wh.close();
      }
      return path;
    }
    /** A merge of 1% of the keys, spread over the whole table: its delete touches every vector. */
    async function spreadMerge(wh: Warehouse): Promise<unknown> {
      const spread = await parquet(
        'spread',
        'SELECT range::BIGINT AS id, 1::BIGINT AS v FROM range(2000000) WHERE range % 100 = 7',
      );
      return wh.load(request([spread], 20_000));
    }
    const summary = async (wh: Warehouse) => {
      const [row] = await wh.query<{ n: unknown; changed: unknown }>(
        'SELECT count(*) AS n, sum(v) AS changed FROM main.big',
      );
      return { rows: Number(row?.n), changed: Number(row?.changed) };
    };

    it('under the default ceiling, the load raises it for itself and puts it back', async () => {
      // A 16 MiB ceiling, where this delete alone fails (measured: it needs between 16 and 32 MiB).
      const wh = await createDuckDbWarehouse({ path: await bigTable(), defaultMemoryLimitBytes: 16 * MIB });
      try {
        await spreadMerge(wh);
        expect(await summary(wh)).toEqual({ rows: 2_000_000, changed: 20_000 });
        const [limit] = await wh.query<{ v: string }>("SELECT current_setting('memory_limit') AS v");
        expect(limit?.v).toBe('16.0 MiB');
      } finally {
        await wh.close();
      }
    });

    it('under a memory_limit the user set, it is kept: the load fails saying what it needed, and loads nothing', async () => {
      const wh = await createDuckDbWarehouse({ path: await bigTable(), memoryLimitBytes: 16 * MIB });
      try {
        const err = await spreadMerge(wh).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WarehouseError);
        expect((err as WarehouseError).message).toMatch(
          /loading main\.big: DuckDB ran out of its memory_limit \(16 MiB\); a merge into a table of this size needs about \d+ MiB/,
        );
        expect((err as WarehouseError).suggestion).toMatch(/Raise the target's memory_limit to at least \d+MiB/);
        expect(await summary(wh)).toEqual({ rows: 2_000_000, changed: 0 });
      } finally {
        await wh.close();
      }
    });
  });

  it('shares one instance between warehouses on the same file in one process', async () => {
    const path = dbPath();
    const a = await createDuckDbWarehouse({ path });
    const b = await createDuckDbWarehouse({ path });
    const f = await parquet('share', 'SELECT 1::INTEGER AS id');
    await a.load({
      target: { schema: 'main', name: 'shared' },
      columns: [column('id', INT, false)],
      primaryKey: [],
      cursorColumns: [],
      mode: 'append',
      files: [f],
      expectedRows: 1,
      onColumnDrop: 'keep',
    });
    expect(await b.count({ schema: 'main', name: 'shared' })).toBe(1);
    await a.close();
    expect(await b.count({ schema: 'main', name: 'shared' })).toBe(1);
    await b.close();
    // Fully released: another process can now open it.
    const holder = await holdInChildProcess(path);
    await release(holder);
  });

  it('readers on the other connection see the old or the new table during a replace, never neither', async () => {
    const wh = await createDuckDbWarehouse({ path: dbPath() });
    const target = { schema: 'main', name: 'big' };
    const columns = [column('id', { kind: 'int64' }, false), column('pad', { kind: 'string', maxBytes: 64 })];
    const replace = (files: string[], expectedRows: number): LoadRequest => ({
      target,
      columns,
      primaryKey: ['id'],
      cursorColumns: [],
      mode: 'replace',
      files,
      expectedRows,
      onColumnDrop: 'keep',
    });
    try {
      const small = await parquet('small', 'SELECT range::BIGINT AS id, md5(range::VARCHAR) AS pad FROM range(1000)');
      const large = await parquet('large', 'SELECT range::BIGINT AS id, md5(range::VARCHAR) AS pad FROM range(300000)');
      await wh.load(replace([small], 1000));

      const seen = new Set<number | undefined>();
      let polls = 0;
      let done = false;
      const loading = wh.load(replace([large], 300_000)).finally(() => {
        done = true;
      });
      while (!done) {
        seen.add(await wh.count(target));
        polls += 1;
      }
      expect(await loading).toEqual({
        rowsStaged: 300_000,
        rowsLoaded: 300_000,
        rowsDeleted: 1000,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(polls).toBeGreaterThan(0);
      for (const n of seen) expect([1000, 300_000]).toContain(n);
      expect(seen.has(1000)).toBe(true);
      expect(await wh.count(target)).toBe(300_000);
    } finally {
      await wh.close();
    }
  });
});
