/**
 * The Warehouse contract: one suite every warehouse adapter must pass (DuckDB now, the Redshift stand-in later).
 * An adapter's test file calls `describeWarehouseContract(label, harness)`. Input Parquet files are written by
 * DuckDB from a SELECT, with exact column names and types; a remote harness uploads them and returns their
 * location. Assertions use only portable SQL (quoted identifiers, information_schema, ORDER BY).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogicalType, MappedColumn } from '../../lambdas/domain/model.js';
import { CountMismatchError, WarehouseError } from '../../lambdas/errors.js';
import type { LoadRequest, TargetTable, Warehouse } from '../../lambdas/ports/index.js';

export interface WarehouseHarness {
  /** A warehouse to run one test against (fresh or shared; every test uses its own schema). */
  open(): Promise<Warehouse>;
  /** Writes a Parquet file holding the rows of `select` (DuckDB SQL) and returns the location `load` reads. */
  parquet(name: string, select: string): Promise<string>;
  /** A location `load` can be given where no file exists. */
  missingLocation(name: string): string;
  /**
   * The target's columns in table order as the warehouse's own catalog spells their types (DuckDB
   * `duckdb_columns().data_type`, Redshift `format_type`): the spellings LoadResult.schemaChanges reports.
   */
  columns(wh: Warehouse, target: TargetTable): Promise<CatalogColumnRow[]>;
  /** Called after each test (close clients, remove files). */
  cleanup?(): Promise<void>;
}

export interface CatalogColumnRow {
  name: string;
  type: string;
  notNull: boolean;
}

let writer: Promise<DuckDBInstance> | undefined;

/** Writes `select`'s rows to a local Parquet file with DuckDB's own writer (the types are exactly the SELECT's). */
export async function writeParquetWithDuckDb(path: string, select: string): Promise<void> {
  writer ??= DuckDBInstance.create(':memory:');
  await mkdir(dirname(path), { recursive: true });
  const conn = await (await writer).connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    await conn.run(`COPY (${select}) TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`);
  } finally {
    conn.closeSync();
  }
}

/** A MappedColumn for tests: the source side mirrors the target. */
export function column(target: string, type: LogicalType, nullable = true): MappedColumn {
  return {
    source: {
      name: target,
      dataType: type.kind,
      columnType: type.kind,
      nullable,
      charMaxLength: null,
      numericPrecision: null,
      numericScale: null,
      ordinal: 0,
    },
    target,
    type,
    nullable,
  };
}

const INT: LogicalType = { kind: 'int32' };
const TEXT: LogicalType = { kind: 'string', maxBytes: 256 };
const TS: LogicalType = { kind: 'timestamp', utc: false };

/** The catalog spellings each warehouse must report: written out here, not derived from the code under test. */
const SPELLINGS = {
  duckdb: {
    int: 'INTEGER',
    bigint: 'BIGINT',
    text256: 'VARCHAR',
    varchar10: 'VARCHAR',
    varchar200: 'VARCHAR',
    dec10_2: 'DECIMAL(10,2)',
    dec20_6: 'DECIMAL(20,6)',
    timestamptz: 'TIMESTAMP WITH TIME ZONE',
    timestamp: 'TIMESTAMP',
  },
  redshift: {
    int: 'integer',
    bigint: 'bigint',
    text256: 'character varying(256)',
    varchar10: 'character varying(10)',
    varchar200: 'character varying(200)',
    dec10_2: 'numeric(10,2)',
    dec20_6: 'numeric(20,6)',
    timestamptz: 'timestamp with time zone',
    timestamp: 'timestamp without time zone',
  },
} as const;

function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function qt(t: TargetTable): string {
  return `${q(t.schema)}.${q(t.name)}`;
}

export function describeWarehouseContract(label: string, harness: WarehouseHarness): void {
  describe(`Warehouse contract: ${label}`, () => {
    let wh: Warehouse;
    let schema: string;
    const t = (name: string): TargetTable => ({ schema, name });

    beforeEach(async () => {
      wh = await harness.open();
      schema = `c_${randomBytes(4).toString('hex')}`;
    });
    afterEach(async () => {
      await wh.close();
      await harness.cleanup?.();
    });

    const people = [column('id', INT, false), column('name', TEXT), column('updated_at', TS), column('seq', INT)];
    const peopleRow = (id: number, name: string, ts: string, seq: number) =>
      `SELECT ${id}::INTEGER AS id, '${name}'::VARCHAR AS name, TIMESTAMP '${ts}' AS updated_at, ${seq}::INTEGER AS seq`;

    function request(target: TargetTable, files: string[], expectedRows: number, extra: Partial<LoadRequest> = {}) {
      return {
        target,
        columns: people,
        primaryKey: ['id'],
        cursorColumns: ['updated_at', 'seq'],
        mode: 'merge',
        files,
        expectedRows,
        onColumnDrop: 'keep',
        ...extra,
      } satisfies LoadRequest;
    }

    async function rows(target: TargetTable, cols: string[], orderBy: string[] = ['id']) {
      return wh.query(`SELECT ${cols.map(q).join(', ')} FROM ${qt(target)} ORDER BY ${orderBy.map(q).join(', ')}`);
    }

    async function seedPeople(target: TargetTable): Promise<void> {
      const f = await harness.parquet(
        'seed',
        [
          peopleRow(1, 'a', '2024-01-01 00:00:00', 1),
          peopleRow(2, 'b', '2024-01-01 00:00:00', 1),
          peopleRow(3, 'c', '2024-01-01 00:00:00', 1),
        ].join(' UNION ALL '),
      );
      await wh.load(request(target, [f], 3));
    }

    it('creates the schema and table on the first load', async () => {
      expect(await wh.count(t('people'))).toBeUndefined();
      const f = await harness.parquet(
        'first',
        `${peopleRow(1, 'a', '2024-01-01 00:00:00', 1)} UNION ALL ${peopleRow(2, 'b', '2024-01-01 00:00:00', 1)}`,
      );
      const result = await wh.load(request(t('people'), [f], 2));
      expect(result).toEqual({
        rowsStaged: 2,
        rowsLoaded: 2,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await wh.count(t('people'))).toBe(2);
      expect(await rows(t('people'), ['id', 'name'])).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ]);
      const cols = await wh.query(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position',
        [schema, 'people'],
      );
      expect(cols.map((c) => c.column_name)).toEqual(['id', 'name', 'updated_at', 'seq']);
    });

    it('merges updates and inserts; of duplicate keys across files the newest cursor wins, ties broken by the later cursor column', async () => {
      await seedPeople(t('people'));
      const a = await harness.parquet(
        'a',
        [peopleRow(1, 'a-old', '2024-01-02 00:00:00', 1), peopleRow(2, 'b-new', '2024-01-05 00:00:00', 1)].join(
          ' UNION ALL ',
        ),
      );
      const b = await harness.parquet(
        'b',
        [
          peopleRow(1, 'a-new', '2024-01-02 00:00:00', 2),
          peopleRow(2, 'b-stale', '2024-01-03 00:00:00', 9),
          peopleRow(4, 'd', '2024-01-02 00:00:00', 1),
        ].join(' UNION ALL '),
      );
      const result = await wh.load(request(t('people'), [a, b], 5));
      expect(result).toEqual({
        rowsStaged: 5,
        rowsLoaded: 3,
        rowsDeleted: 2,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await rows(t('people'), ['id', 'name', 'seq'])).toEqual([
        { id: 1, name: 'a-new', seq: 2 },
        { id: 2, name: 'b-new', seq: 1 },
        { id: 3, name: 'c', seq: 1 },
        { id: 4, name: 'd', seq: 1 },
      ]);
    });

    it('merges on a composite key', async () => {
      const cols = [column('tenant', INT, false), column('id', INT, false), column('v', TEXT)];
      const row = (tenant: number, id: number, v: string) =>
        `SELECT ${tenant}::INTEGER AS tenant, ${id}::INTEGER AS id, '${v}' AS v`;
      const base = { columns: cols, primaryKey: ['tenant', 'id'], cursorColumns: [] };
      const f1 = await harness.parquet('c1', [row(1, 1, 'x'), row(2, 1, 'y'), row(1, 2, 'z')].join(' UNION ALL '));
      await wh.load(request(t('multi'), [f1], 3, base));
      const f2 = await harness.parquet('c2', [row(2, 1, 'y2'), row(2, 2, 'w')].join(' UNION ALL '));
      expect(await wh.load(request(t('multi'), [f2], 2, base))).toEqual({
        rowsStaged: 2,
        rowsLoaded: 2,
        rowsDeleted: 1,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await rows(t('multi'), ['tenant', 'id', 'v'], ['tenant', 'id'])).toEqual([
        { tenant: 1, id: 1, v: 'x' },
        { tenant: 1, id: 2, v: 'z' },
        { tenant: 2, id: 1, v: 'y2' },
        { tenant: 2, id: 2, v: 'w' },
      ]);
    });

    it('adds a column the source gained, and still loads requests without a column the target has', async () => {
      await seedPeople(t('people'));
      const withEmail = [...people, column('email', TEXT)];
      const f = await harness.parquet(
        'email',
        `${peopleRow(4, 'd', '2024-01-02 00:00:00', 1)}, 'd@x'::VARCHAR AS email`,
      );
      const added = await wh.load(request(t('people'), [f], 1, { columns: withEmail }));
      expect(added.schemaChanges).toEqual([
        { column: 'email', change: 'added', to: SPELLINGS[wh.capabilities.name].text256 },
      ]);
      const f2 = await harness.parquet('no-email', peopleRow(5, 'e', '2024-01-02 00:00:00', 1));
      expect(await wh.load(request(t('people'), [f2], 1))).toEqual({
        rowsStaged: 1,
        rowsLoaded: 1,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await rows(t('people'), ['id', 'email'])).toEqual([
        { id: 1, email: null },
        { id: 2, email: null },
        { id: 3, email: null },
        { id: 4, email: 'd@x' },
        { id: 5, email: null },
      ]);
    });

    it('refuses a column whose type changed, naming table and column, and changes nothing', async () => {
      await seedPeople(t('people'));
      const changed = people.map((c) => (c.target === 'name' ? column('name', { kind: 'int64' }) : c));
      const f = await harness.parquet(
        'typed',
        "SELECT 9::INTEGER AS id, 7::BIGINT AS name, TIMESTAMP '2024-02-01' AS updated_at, 1::INTEGER AS seq",
      );
      const err = await wh.load(request(t('people'), [f], 1, { columns: changed })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      const spell = SPELLINGS[wh.capabilities.name];
      expect((err as Error).message).toContain(
        `table ${schema}.people column name is ${spell.text256} in the warehouse but the source now maps it to ${spell.bigint}, a different type`,
      );
      expect((err as WarehouseError).suggestion).toContain(`highwater resync -t ${schema}.people`);
      expect(await rows(t('people'), ['id', 'name'])).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
        { id: 3, name: 'c' },
      ]);
    });

    it('replace replaces every row of the same table; its columns evolve as a merge’s would', async () => {
      await seedPeople(t('people'));
      const cols = [column('id', INT, false), column('label', TEXT)];
      const f = await harness.parquet(
        'r',
        "SELECT 10::INTEGER AS id, 'ten' AS label UNION ALL SELECT 11::INTEGER, 'eleven'",
      );
      const result = await wh.load(
        request(t('people'), [f], 2, { mode: 'replace', columns: cols, cursorColumns: [], onColumnDrop: 'drop' }),
      );
      const spell = SPELLINGS[wh.capabilities.name];
      expect(result).toEqual({
        rowsStaged: 2,
        rowsLoaded: 2,
        rowsDeleted: 3,
        rowsDeletedAtSource: 0,
        schemaChanges: [
          { column: 'label', change: 'added', to: spell.text256 },
          { column: 'name', change: 'dropped', from: spell.text256 },
          { column: 'updated_at', change: 'dropped', from: spell.timestamp },
          { column: 'seq', change: 'dropped', from: spell.int },
        ],
      });
      expect(await rows(t('people'), ['id', 'label'])).toEqual([
        { id: 10, label: 'ten' },
        { id: 11, label: 'eleven' },
      ]);
      expect((await harness.columns(wh, t('people'))).map((c) => c.name)).toEqual(['id', 'label']);
      const tables = await wh.query('SELECT table_name FROM information_schema.tables WHERE table_schema = ?', [
        schema,
      ]);
      expect(tables.map((r) => r.table_name)).toEqual(['people']);
      // onColumnDrop keep (the default) keeps a dropped column, NULL in every replaced row.
      const ids = await harness.parquet('ids', 'SELECT 10::INTEGER AS id UNION ALL SELECT 11::INTEGER');
      const kept = await wh.load(
        request(t('people'), [ids], 2, { mode: 'replace', columns: [column('id', INT, false)], cursorColumns: [] }),
      );
      expect(kept.schemaChanges).toEqual([]);
      expect(await rows(t('people'), ['id', 'label'])).toEqual([
        { id: 10, label: null },
        { id: 11, label: null },
      ]);
    });

    it('replace rebuilds a table whose column changes type, from the request’s columns (what resync is for)', async () => {
      await seedPeople(t('people'));
      const cols = [column('id', INT, false), column('name', INT)];
      const f = await harness.parquet('r', 'SELECT 10::INTEGER AS id, 7::INTEGER AS name');
      const result = await wh.load(request(t('people'), [f], 1, { mode: 'replace', columns: cols, cursorColumns: [] }));
      expect(result).toEqual({
        rowsStaged: 1,
        rowsLoaded: 1,
        rowsDeleted: 3,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      const spell = SPELLINGS[wh.capabilities.name];
      expect((await harness.columns(wh, t('people'))).map((c) => [c.name, c.type])).toEqual([
        ['id', spell.int],
        ['name', spell.int],
      ]);
      expect(await rows(t('people'), ['id', 'name'])).toEqual([{ id: 10, name: 7 }]);
    });

    it('stages files written with other columns by their own column list: a column they lack is NULL', async () => {
      await seedPeople(t('people'));
      const withEmail = [...people, column('email', TEXT)];
      const now = await harness.parquet(
        'now',
        `SELECT 4::INTEGER AS id, 'd'::VARCHAR AS name, TIMESTAMP '2024-01-02 00:00:00' AS updated_at, 1::INTEGER AS seq, 'd@x'::VARCHAR AS email`,
      );
      // Written before email existed (a backup-only run), and one written while a since-dropped column existed.
      const before = await harness.parquet('before', peopleRow(2, 'b2', '2024-01-02 00:00:00', 2));
      const legacy = await harness.parquet(
        'legacy',
        `SELECT 5::INTEGER AS id, 'e'::VARCHAR AS name, TIMESTAMP '2024-01-02 00:00:00' AS updated_at, 1::INTEGER AS seq, 'e@x'::VARCHAR AS email, 42::INTEGER AS gone`,
      );
      const result = await wh.load(
        request(t('people'), [now], 3, {
          columns: withEmail,
          fileGroups: [
            { columns: people, files: [before] },
            { columns: [...withEmail, column('gone', INT)], files: [legacy] },
          ],
        }),
      );
      expect(result).toMatchObject({ rowsStaged: 3, rowsLoaded: 3, rowsDeleted: 1 });
      expect(await rows(t('people'), ['id', 'name', 'email'])).toEqual([
        { id: 1, name: 'a', email: null },
        { id: 2, name: 'b2', email: null },
        { id: 3, name: 'c', email: null },
        { id: 4, name: 'd', email: 'd@x' },
        { id: 5, name: 'e', email: 'e@x' },
      ]);
      expect((await harness.columns(wh, t('people'))).map((c) => c.name)).not.toContain('gone');
    });

    it('replace without a key keeps duplicates; replace with a key keeps the newest row per key', async () => {
      const dupes = [peopleRow(1, 'old', '2024-01-01 00:00:00', 1), peopleRow(1, 'new', '2024-01-02 00:00:00', 1)].join(
        ' UNION ALL ',
      );
      const f = await harness.parquet('dupes', dupes);
      expect(await wh.load(request(t('nokey'), [f], 2, { mode: 'replace', primaryKey: [] }))).toEqual({
        rowsStaged: 2,
        rowsLoaded: 2,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await wh.load(request(t('keyed'), [f], 2, { mode: 'replace' }))).toEqual({
        rowsStaged: 2,
        rowsLoaded: 1,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await rows(t('keyed'), ['id', 'name'])).toEqual([{ id: 1, name: 'new' }]);
    });

    it('a failing replace keeps the old table as it was', async () => {
      await seedPeople(t('people'));
      const f = await harness.parquet('r', peopleRow(10, 'x', '2024-01-01 00:00:00', 1));
      await expect(wh.load(request(t('people'), [f], 5, { mode: 'replace' }))).rejects.toBeInstanceOf(
        CountMismatchError,
      );
      await expect(
        wh.load(request(t('people'), [harness.missingLocation('gone')], 1, { mode: 'replace' })),
      ).rejects.toBeInstanceOf(WarehouseError);
      expect(await rows(t('people'), ['id', 'name'])).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
        { id: 3, name: 'c' },
      ]);
      const tables = await wh.query('SELECT table_name FROM information_schema.tables WHERE table_schema = ?', [
        schema,
      ]);
      expect(tables.map((r) => r.table_name)).toEqual(['people']);
    });

    it('append without a key inserts every row, every time', async () => {
      const f = await harness.parquet(
        'ap',
        `${peopleRow(1, 'a', '2024-01-01 00:00:00', 1)} UNION ALL ${peopleRow(1, 'a', '2024-01-01 00:00:00', 1)}`,
      );
      const req = request(t('log'), [f], 2, { mode: 'append', primaryKey: [], cursorColumns: [] });
      expect(await wh.load(req)).toEqual({
        rowsStaged: 2,
        rowsLoaded: 2,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await wh.load(req)).toEqual({
        rowsStaged: 2,
        rowsLoaded: 2,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await wh.count(t('log'))).toBe(4);
    });

    it('append with a key is an upsert, so a re-run changes nothing', async () => {
      const f = await harness.parquet(
        'ak',
        `${peopleRow(1, 'a', '2024-01-01 00:00:00', 1)} UNION ALL ${peopleRow(2, 'b', '2024-01-01 00:00:00', 1)}`,
      );
      const req = request(t('people'), [f], 2, { mode: 'append' });
      expect(await wh.load(req)).toEqual({
        rowsStaged: 2,
        rowsLoaded: 2,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await wh.load(req)).toEqual({
        rowsStaged: 2,
        rowsLoaded: 2,
        rowsDeleted: 2,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await rows(t('people'), ['id', 'name'])).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ]);
    });

    it('a count mismatch names the table and both counts and rolls everything back, DDL included', async () => {
      const f0 = await harness.parquet('first', peopleRow(1, 'a', '2024-01-01 00:00:00', 1));
      const first = await wh.load(request(t('people'), [f0], 2)).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(CountMismatchError);
      expect(await wh.count(t('people'))).toBeUndefined();

      await seedPeople(t('people'));
      const f = await harness.parquet(
        'mm',
        `${peopleRow(1, 'changed', '2024-02-01 00:00:00', 1)}, 'x'::VARCHAR AS email`,
      );
      const err = await wh
        .load(request(t('people'), [f], 7, { columns: [...people, column('email', TEXT)] }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CountMismatchError);
      expect((err as Error).message).toContain(`${schema}.people`);
      expect((err as Error).message).toMatch(/\b1\b.*\b7\b/);
      expect(await rows(t('people'), ['id', 'name'])).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
        { id: 3, name: 'c' },
      ]);
      const cols = await wh.query(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position',
        [schema, 'people'],
      );
      expect(cols.map((c) => c.column_name)).toEqual(['id', 'name', 'updated_at', 'seq']);
    });

    it('a missing Parquet file is a WarehouseError and changes nothing', async () => {
      const missing = harness.missingLocation('nope');
      await expect(wh.load(request(t('people'), [missing], 1))).rejects.toBeInstanceOf(WarehouseError);
      expect(await wh.count(t('people'))).toBeUndefined();
      await seedPeople(t('people'));
      const f = await harness.parquet('ok', peopleRow(1, 'changed', '2024-02-01 00:00:00', 1));
      const err = await wh.load(request(t('people'), [f, missing], 2)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      expect((err as Error).message).toContain(`${schema}.people`);
      expect(await rows(t('people'), ['id', 'name'])).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
        { id: 3, name: 'c' },
      ]);
    });

    it('a NULL in a NOT NULL column fails the load and changes nothing', async () => {
      await seedPeople(t('people'));
      const f = await harness.parquet(
        'nul',
        "SELECT NULL::INTEGER AS id, 'x' AS name, TIMESTAMP '2024-01-01' AS updated_at, 1::INTEGER AS seq",
      );
      const err = await wh
        .load(request(t('people'), [f], 1, { mode: 'append', primaryKey: [] }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      expect((err as Error).message).toContain(`${schema}.people`);
      expect(await wh.count(t('people'))).toBe(3);
    });

    it('quotes reserved-word and digit-leading names', async () => {
      const cols = [column('order', INT, false), column('col_1st', TEXT), column('select', TS)];
      const f = await harness.parquet(
        'rw',
        `SELECT 1::INTEGER AS "order", 'x' AS col_1st, TIMESTAMP '2024-01-01' AS "select" UNION ALL SELECT 1::INTEGER, 'y', TIMESTAMP '2024-01-02'`,
      );
      const target = t('group');
      const req = {
        target,
        columns: cols,
        primaryKey: ['order'],
        cursorColumns: ['select'],
        mode: 'merge',
        files: [f],
        expectedRows: 2,
        onColumnDrop: 'keep',
      } satisfies LoadRequest;
      expect(await wh.load(req)).toEqual({
        rowsStaged: 2,
        rowsLoaded: 1,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await rows(target, ['order', 'col_1st'], ['order'])).toEqual([{ order: 1, col_1st: 'y' }]);
    });

    it('loads an empty file list as zero rows', async () => {
      expect(await wh.load(request(t('people'), [], 0))).toEqual({
        rowsStaged: 0,
        rowsLoaded: 0,
        rowsDeleted: 0,
        rowsDeletedAtSource: 0,
        schemaChanges: [],
      });
      expect(await wh.count(t('people'))).toBe(0);
    });

    it('refuses requests that cannot be carried out, before touching anything', async () => {
      const f = await harness.parquet('v', peopleRow(1, 'a', '2024-01-01 00:00:00', 1));
      const cases: Partial<LoadRequest>[] = [
        { primaryKey: [] },
        { primaryKey: ['nope'] },
        { cursorColumns: ['nope'] },
        { columns: [...people, column('id', INT)] },
        { columns: [] },
        { expectedRows: -1 },
        { onColumnDrop: 'remove' as unknown as 'keep' },
        // Deletes: a key of the wrong arity, a value that is not text, an unknown mode, no primary key, and soft
        // deletes over a source column that has the soft-delete column's name.
        { deletes: { keys: [['1', '2']], mode: 'hard' } },
        { deletes: { keys: [[1 as unknown as string]], mode: 'hard' } },
        { deletes: { keys: [], mode: 'purge' as unknown as 'hard' } },
        { mode: 'append', primaryKey: [], cursorColumns: [], deletes: { keys: [['1']], mode: 'hard' } },
        { columns: [...people, column('_hw_deleted_at', TS)], deletes: { keys: [], mode: 'soft' } },
      ];
      for (const extra of cases) {
        const err = await wh.load(request(t('people'), [f], 1, extra)).catch((e: unknown) => e);
        expect(err, JSON.stringify(extra)).toBeInstanceOf(WarehouseError);
        expect((err as Error).message).toContain(`${schema}.people`);
      }
      expect(await wh.count(t('people'))).toBeUndefined();
    });

    describe('deletes at the source', () => {
      const DELETED_AT = '_hw_deleted_at';
      const hard = (...ids: (number | string)[]) => ({ keys: ids.map((id) => [String(id)]), mode: 'hard' as const });
      const soft = (...ids: (number | string)[]) => ({ keys: ids.map((id) => [String(id)]), mode: 'soft' as const });
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

      async function seedFive(target: TargetTable): Promise<void> {
        const f = await harness.parquet(
          'five',
          ['a', 'b', 'c', 'd', 'e']
            .map((name, i) => peopleRow(i + 1, name, '2024-01-01 00:00:00', 1))
            .join(' UNION ALL '),
        );
        expect((await wh.load(request(target, [f], 5))).rowsLoaded).toBe(5);
      }
      async function marks(target: TargetTable): Promise<Record<number, string | null>> {
        const out: Record<number, string | null> = {};
        for (const r of await rows(target, ['id', DELETED_AT])) out[r.id as number] = r[DELETED_AT] as string | null;
        return out;
      }

      it('hard: removes the deleted keys in the merge’s transaction, next to a changed row', async () => {
        await seedFive(t('people'));
        const f = await harness.parquet('changed', peopleRow(1, 'a2', '2024-01-02 00:00:00', 1));
        expect(await wh.load(request(t('people'), [f], 1, { deletes: hard(2, 4) }))).toEqual({
          rowsStaged: 1,
          rowsLoaded: 1,
          rowsDeleted: 1,
          rowsDeletedAtSource: 2,
          schemaChanges: [],
        });
        expect(await rows(t('people'), ['id', 'name'])).toEqual([
          { id: 1, name: 'a2' },
          { id: 3, name: 'c' },
          { id: 5, name: 'e' },
        ]);
        // Keys that are not there (any more) delete nothing.
        expect((await wh.load(request(t('people'), [], 0, { deletes: hard(2, 99) }))).rowsDeletedAtSource).toBe(0);
        expect(await wh.count(t('people'))).toBe(3);
      });

      it('a key deleted and inserted again at the source ends up present, with the staged values', async () => {
        await seedFive(t('people'));
        const f = await harness.parquet('again', peopleRow(2, 'b-again', '2024-01-03 00:00:00', 1));
        expect(await wh.load(request(t('people'), [f], 1, { deletes: hard(2, 3) }))).toEqual({
          rowsStaged: 1,
          rowsLoaded: 1,
          rowsDeleted: 0,
          rowsDeletedAtSource: 2,
          schemaChanges: [],
        });
        expect(await rows(t('people'), ['id', 'name', 'updated_at'])).toEqual([
          { id: 1, name: 'a', updated_at: '2024-01-01 00:00:00' },
          { id: 2, name: 'b-again', updated_at: '2024-01-03 00:00:00' },
          { id: 4, name: 'd', updated_at: '2024-01-01 00:00:00' },
          { id: 5, name: 'e', updated_at: '2024-01-01 00:00:00' },
        ]);
      });

      it('soft: adds _hw_deleted_at, marks the deleted keys once, and a key staged again is live', async () => {
        await seedFive(t('people'));
        const f = await harness.parquet('soft1', peopleRow(1, 'a2', '2024-01-02 00:00:00', 1));
        expect(await wh.load(request(t('people'), [f], 1, { deletes: soft(2, 4) }))).toEqual({
          rowsStaged: 1,
          rowsLoaded: 1,
          rowsDeleted: 1,
          rowsDeletedAtSource: 2,
          // The column is highwater's own, not a change of the source's columns.
          schemaChanges: [],
        });
        expect((await harness.columns(wh, t('people'))).at(-1)).toEqual({
          name: DELETED_AT,
          type: SPELLINGS[wh.capabilities.name].timestamptz,
          notNull: false,
        });
        expect(await wh.count(t('people'))).toBe(5);
        const first = await marks(t('people'));
        expect(first).toEqual({ 1: null, 2: expect.any(String), 3: null, 4: expect.any(String), 5: null });

        // Marking 2 again leaves its first time, and only 5 counts; a later time is a later load's.
        await sleep(20);
        expect(await wh.load(request(t('people'), [], 0, { deletes: soft(2, 5) }))).toEqual({
          rowsStaged: 0,
          rowsLoaded: 0,
          rowsDeleted: 0,
          rowsDeletedAtSource: 1,
          schemaChanges: [],
        });
        const second = await marks(t('people'));
        expect(second[2]).toBe(first[2]);
        expect(second[4]).toBe(first[4]);
        expect(second[5]).toEqual(expect.any(String));
        expect(second[5]).not.toBe(first[2]);
        expect([second[1], second[3]]).toEqual([null, null]);

        // A load (without deletes) that stages the soft-deleted 4 makes it live again; the others stay marked.
        const back = await harness.parquet('soft3', peopleRow(4, 'd-back', '2024-01-04 00:00:00', 1));
        expect(await wh.load(request(t('people'), [back], 1))).toEqual({
          rowsStaged: 1,
          rowsLoaded: 1,
          rowsDeleted: 1,
          rowsDeletedAtSource: 0,
          schemaChanges: [],
        });
        expect(await marks(t('people'))).toEqual({ ...second, 4: null });
        expect(await rows(t('people'), ['id', 'name'])).toContainEqual({ id: 4, name: 'd-back' });

        // A live key soft-deleted and staged in the same load is marked, then re-inserted by the merge: live.
        const both = await harness.parquet('soft4', peopleRow(1, 'a3', '2024-01-05 00:00:00', 1));
        expect((await wh.load(request(t('people'), [both], 1, { deletes: soft(1) }))).rowsDeletedAtSource).toBe(1);
        expect((await marks(t('people')))[1]).toBeNull();
        expect(await rows(t('people'), ['id', 'name'])).toContainEqual({ id: 1, name: 'a3' });
      });

      it('matches composite and VARCHAR keys exactly (quotes included), and a BIGINT beyond 2^53 exactly', async () => {
        const cols = [column('tenant', TEXT, false), column('id', INT, false), column('v', TEXT)];
        const row = (tenant: string, id: number, v: string) =>
          `SELECT '${tenant.replace(/'/g, "''")}'::VARCHAR AS tenant, ${id}::INTEGER AS id, '${v}'::VARCHAR AS v`;
        const base = { columns: cols, primaryKey: ['tenant', 'id'], cursorColumns: [] };
        const tenants = ["o'brien", 'a"b', 'plain', "x'); DROP TABLE people; --"];
        const f = await harness.parquet(
          'comp',
          tenants.flatMap((tenant) => [row(tenant, 1, 'one'), row(tenant, 2, 'two')]).join(' UNION ALL '),
        );
        await wh.load(request(t('multi'), [f], 8, base));
        const deletes = {
          keys: [
            ["o'brien", '1'],
            ['a"b', '2'],
            ["x'); DROP TABLE people; --", '1'],
            ['plain', '3'], // no such row
            ["O'BRIEN", '2'], // no such row either: text keys compare exactly
          ],
          mode: 'hard' as const,
        };
        expect((await wh.load(request(t('multi'), [], 0, { ...base, deletes }))).rowsDeletedAtSource).toBe(3);
        // Sorted here, not by the warehouse: text collation differs between them.
        const left = (await wh.query(`SELECT ${q('tenant')}, ${q('id')} FROM ${qt(t('multi'))}`))
          .map((r) => `${r.tenant}/${r.id}`)
          .sort();
        expect(left).toEqual(['a"b/1', "o'brien/2", 'plain/1', 'plain/2', "x'); DROP TABLE people; --/2"].sort());

        const big = [column('id', { kind: 'int64' }, false), column('v', TEXT)];
        const bigRow = (id: string) => `SELECT ${id}::BIGINT AS id, 'v' AS v`;
        const ids = ['9007199254740992', '9007199254740993', '9007199254740994'];
        const fb = await harness.parquet('big', ids.map(bigRow).join(' UNION ALL '));
        const bigReq = { columns: big, cursorColumns: [] };
        await wh.load(request(t('big'), [fb], 3, bigReq));
        const result = await wh.load(request(t('big'), [], 0, { ...bigReq, deletes: hard('9007199254740993') }));
        expect(result.rowsDeletedAtSource).toBe(1);
        const bigLeft = await wh.query(
          `SELECT CAST(${q('id')} AS VARCHAR) AS id FROM ${qt(t('big'))} ORDER BY ${q('id')}`,
        );
        expect(bigLeft).toEqual([{ id: '9007199254740992' }, { id: '9007199254740994' }]);
      });

      it('a load with deletes and no files applies them; many keys are batched', async () => {
        await seedFive(t('people'));
        expect(await wh.load(request(t('people'), [], 0, { deletes: hard(1, 3) }))).toEqual({
          rowsStaged: 0,
          rowsLoaded: 0,
          rowsDeleted: 0,
          rowsDeletedAtSource: 2,
          schemaChanges: [],
        });
        expect((await rows(t('people'), ['id'])).map((r) => r.id)).toEqual([2, 4, 5]);
        // 2,300 keys (several statements on both warehouses), two of them present.
        const many = Array.from({ length: 2300 }, (_, i) => 1000 + i);
        const result = await wh.load(request(t('people'), [], 0, { deletes: soft(...many, 4, 5) }));
        expect(result.rowsDeletedAtSource).toBe(2);
        expect(await marks(t('people'))).toEqual({ 2: null, 4: expect.any(String), 5: expect.any(String) });
        // A table the load creates takes deletes too (there is nothing to delete yet).
        expect((await wh.load(request(t('fresh'), [], 0, { deletes: soft(1) }))).rowsDeletedAtSource).toBe(0);
        expect((await harness.columns(wh, t('fresh'))).map((c) => c.name)).toEqual([
          'id',
          'name',
          'updated_at',
          'seq',
          DELETED_AT,
        ]);
      });

      it('onColumnDrop drop does not drop _hw_deleted_at, nor does keep report it; replace keeps the column, unmarked', async () => {
        await seedFive(t('people'));
        await wh.load(request(t('people'), [], 0, { deletes: soft(3) }));
        const mark = (await marks(t('people')))[3];
        expect(mark).toEqual(expect.any(String));
        const withoutSeq = people.filter((c) => c.target !== 'seq');
        const f = await harness.parquet(
          'noseq',
          "SELECT 6::INTEGER AS id, 'f'::VARCHAR AS name, TIMESTAMP '2024-01-02 00:00:00' AS updated_at",
        );
        const dropped = await wh.load(
          request(t('people'), [f], 1, { columns: withoutSeq, cursorColumns: ['updated_at'], onColumnDrop: 'drop' }),
        );
        expect(dropped.schemaChanges).toEqual([
          { column: 'seq', change: 'dropped', from: SPELLINGS[wh.capabilities.name].int },
        ]);
        expect((await harness.columns(wh, t('people'))).map((c) => c.name)).toEqual([
          'id',
          'name',
          'updated_at',
          DELETED_AT,
        ]);
        expect(await marks(t('people'))).toEqual({ 1: null, 2: null, 3: mark, 4: null, 5: null, 6: null });
        const keep = await wh.load(
          request(t('people'), [], 0, { columns: withoutSeq, cursorColumns: ['updated_at'], onColumnDrop: 'keep' }),
        );
        expect(keep.schemaChanges).toEqual([]);

        // Replace ignores the keys but, with soft deletes, swaps in a table that still has the column (all NULL).
        const r = await harness.parquet(
          'rep',
          "SELECT 7::INTEGER AS id, 'g'::VARCHAR AS name, TIMESTAMP '2024-01-02 00:00:00' AS updated_at",
        );
        const replaced = await wh.load(
          request(t('people'), [r], 1, {
            columns: withoutSeq,
            cursorColumns: ['updated_at'],
            mode: 'replace',
            deletes: soft(7),
          }),
        );
        expect(replaced).toEqual({
          rowsStaged: 1,
          rowsLoaded: 1,
          rowsDeleted: 6,
          rowsDeletedAtSource: 0,
          schemaChanges: [],
        });
        expect(await marks(t('people'))).toEqual({ 7: null });
      });
    });

    describe('schema changes', () => {
      const V10: LogicalType = { kind: 'string', maxBytes: 10 };
      const V200: LogicalType = { kind: 'string', maxBytes: 200 };
      const D10_2: LogicalType = { kind: 'decimal', precision: 10, scale: 2 };
      const D20_6: LogicalType = { kind: 'decimal', precision: 20, scale: 6 };
      const BIG: LogicalType = { kind: 'int64' };
      const spell = () => SPELLINGS[wh.capabilities.name];
      const isRedshift = () => wh.capabilities.name === 'redshift';

      /** id INTEGER NOT NULL, code VARCHAR(10), amount DECIMAL(10,2) NOT NULL, n INTEGER, unless overridden. */
      function accounts(over: { code?: LogicalType; amount?: LogicalType; n?: LogicalType } = {}): MappedColumn[] {
        return [
          column('id', INT, false),
          column('code', over.code ?? V10),
          column('amount', over.amount ?? D10_2, false),
          column('n', over.n ?? INT),
        ];
      }
      /** One row; `types` are the DuckDB SQL types the Parquet columns get (they must match the request's). */
      function accountRow(
        id: number,
        code: string,
        amount: string,
        n: string,
        types = { amount: 'DECIMAL(10,2)', n: 'INTEGER' },
      ) {
        return `SELECT ${id}::INTEGER AS id, '${code}'::VARCHAR AS code, '${amount}'::${types.amount} AS amount, ${n}::${types.n} AS n`;
      }
      function accountsRequest(
        target: TargetTable,
        files: string[],
        expectedRows: number,
        columns: MappedColumn[],
        extra: Partial<LoadRequest> = {},
      ) {
        return request(target, files, expectedRows, { columns, cursorColumns: [], ...extra });
      }
      async function seedAccounts(
        target: TargetTable,
        columns = accounts(),
        types = { amount: 'DECIMAL(10,2)', n: 'INTEGER' },
      ) {
        const f = await harness.parquet(
          'acct-seed',
          `${accountRow(1, 'a1', '12345678.91', '2147483647', types)} UNION ALL ${accountRow(2, 'b2', '-0.01', '-5', types)}`,
        );
        expect((await wh.load(accountsRequest(target, [f], 2, columns))).schemaChanges).toEqual([]);
      }
      async function columnOf(target: TargetTable, name: string) {
        return (await harness.columns(wh, target)).find((c) => c.name === name);
      }
      async function snapshot(target: TargetTable) {
        return { rows: await rows(target, ['id', 'code', 'amount', 'n']), columns: await harness.columns(wh, target) };
      }

      it('widens VARCHAR(10) to VARCHAR(200), and a value longer than 10 loads after it', async () => {
        await seedAccounts(t('acct'));
        const long = 'x'.repeat(150);
        const f = await harness.parquet('acct-long', accountRow(3, long, '1.5', '1'));
        const result = await wh.load(accountsRequest(t('acct'), [f], 1, accounts({ code: V200 })));
        // DuckDB's VARCHAR has no length: nothing to widen there.
        expect(result).toEqual({
          rowsStaged: 1,
          rowsLoaded: 1,
          rowsDeleted: 0,
          rowsDeletedAtSource: 0,
          schemaChanges: isRedshift()
            ? [{ column: 'code', change: 'widened', from: spell().varchar10, to: spell().varchar200 }]
            : [],
        });
        expect(await rows(t('acct'), ['id', 'code'])).toEqual([
          { id: 1, code: 'a1' },
          { id: 2, code: 'b2' },
          { id: 3, code: long },
        ]);
        expect(await columnOf(t('acct'), 'code')).toEqual({ name: 'code', type: spell().varchar200, notNull: false });
        // The same request again finds nothing to change.
        const f2 = await harness.parquet('acct-long2', accountRow(4, long, '2.5', '2'));
        expect((await wh.load(accountsRequest(t('acct'), [f2], 1, accounts({ code: V200 })))).schemaChanges).toEqual(
          [],
        );
      });

      it('widens DECIMAL(10,2) to DECIMAL(20,6), keeping every old value exactly', async () => {
        await seedAccounts(t('acct'));
        const types = { amount: 'DECIMAL(20,6)', n: 'INTEGER' };
        const f = await harness.parquet('acct-dec', accountRow(3, 'c3', '12345678901234.123456', '7', types));
        const result = await wh.load(accountsRequest(t('acct'), [f], 1, accounts({ amount: D20_6 })));
        expect(result.schemaChanges).toEqual([
          { column: 'amount', change: 'widened', from: spell().dec10_2, to: spell().dec20_6 },
        ]);
        expect(await rows(t('acct'), ['id', 'amount'])).toEqual([
          { id: 1, amount: '12345678.910000' },
          { id: 2, amount: '-0.010000' },
          { id: 3, amount: '12345678901234.123456' },
        ]);
        // DuckDB widens in place and keeps NOT NULL; Redshift rebuilds the column, which ends nullable (ddl.ts).
        expect(await columnOf(t('acct'), 'amount')).toEqual({
          name: 'amount',
          type: spell().dec20_6,
          notNull: !isRedshift(),
        });
      });

      it('widens INTEGER to BIGINT, and a value above 2^31 loads after it', async () => {
        await seedAccounts(t('acct'));
        const types = { amount: 'DECIMAL(10,2)', n: 'BIGINT' };
        const f = await harness.parquet('acct-big', accountRow(3, 'c3', '1', '3000000000', types));
        const result = await wh.load(accountsRequest(t('acct'), [f], 1, accounts({ n: BIG })));
        expect(result.schemaChanges).toEqual([
          { column: 'n', change: 'widened', from: spell().int, to: spell().bigint },
        ]);
        expect(await rows(t('acct'), ['id', 'n'])).toEqual([
          { id: 1, n: 2147483647 },
          { id: 2, n: -5 },
          { id: 3, n: 3000000000 },
        ]);
        expect((await columnOf(t('acct'), 'n'))?.type).toBe(spell().bigint);
      });

      it('refuses a narrowing or a type change, naming table, column and both types, and changes nothing', async () => {
        const wide = accounts({ amount: D20_6 });
        const wideTypes = { amount: 'DECIMAL(20,6)', n: 'INTEGER' };
        await seedAccounts(t('acct'), wide, wideTypes);
        const before = await snapshot(t('acct'));
        const cases: [MappedColumn[], string, string][] = [
          // DECIMAL(20,6) → DECIMAL(10,2), with widenings of code and n in the same request that must not run either.
          [
            accounts({ code: V200, amount: D10_2, n: BIG }),
            accountRow(3, 'c3', '1', '1', { amount: 'DECIMAL(10,2)', n: 'BIGINT' }),
            `table ${schema}.acct column amount is ${spell().dec20_6} in the warehouse but the source now maps it to ${spell().dec10_2}, a narrowing`,
          ],
          // VARCHAR → INTEGER
          [
            [column('id', INT, false), column('code', INT), column('amount', D20_6, false), column('n', INT)],
            `SELECT 3::INTEGER AS id, 7::INTEGER AS code, '1'::DECIMAL(20,6) AS amount, 1::INTEGER AS n`,
            `table ${schema}.acct column code is ${spell().varchar10} in the warehouse but the source now maps it to ${spell().int}, a different type`,
          ],
        ];
        for (const [columns, select, message] of cases) {
          const f = await harness.parquet('acct-bad', select);
          const err = await wh
            .load(accountsRequest(t('acct'), [f], 1, columns, { sourceTable: 'shop.accounts' }))
            .catch((e: unknown) => e);
          expect(err).toBeInstanceOf(WarehouseError);
          expect((err as Error).message).toContain(message);
          expect((err as Error).message).toContain('nothing was changed');
          expect((err as WarehouseError).suggestion).toContain('highwater resync -t shop.accounts');
          expect(await snapshot(t('acct'))).toEqual(before);
        }
      });

      it('a load that fails after its widenings were planned (count mismatch) changes nothing', async () => {
        await seedAccounts(t('acct'));
        const before = await snapshot(t('acct'));
        const f = await harness.parquet(
          'acct-mm',
          accountRow(3, 'c'.repeat(50), '1', '3000000000', { amount: 'DECIMAL(20,6)', n: 'BIGINT' }),
        );
        const req = accountsRequest(t('acct'), [f], 5, accounts({ code: V200, amount: D20_6, n: BIG }));
        await expect(wh.load(req)).rejects.toBeInstanceOf(CountMismatchError);
        expect(await snapshot(t('acct'))).toEqual(before);
      });

      const withLegacy = [column('id', INT, false), column('name', TEXT), column('legacy', INT, false)];
      const withoutLegacy = [column('id', INT, false), column('name', TEXT)];
      async function seedLegacy(target: TargetTable): Promise<void> {
        const f = await harness.parquet(
          'legacy-seed',
          "SELECT 1::INTEGER AS id, 'a'::VARCHAR AS name, 10::INTEGER AS legacy UNION ALL SELECT 2, 'b', 20",
        );
        await wh.load(request(target, [f], 2, { columns: withLegacy, cursorColumns: [] }));
      }
      const legacyRows = (select: string) => harness.parquet('legacy-next', select);

      it('keep: a dropped NOT NULL column stays, made nullable; later loads succeed, new rows NULL, old rows keep theirs', async () => {
        await seedLegacy(t('legacy'));
        const f = await legacyRows("SELECT 2::INTEGER AS id, 'b2'::VARCHAR AS name UNION ALL SELECT 3, 'c'");
        const keep: Partial<LoadRequest> = { columns: withoutLegacy, cursorColumns: [], onColumnDrop: 'keep' };
        expect(await wh.load(request(t('legacy'), [f], 2, keep))).toEqual({
          rowsStaged: 2,
          rowsLoaded: 2,
          rowsDeleted: 1,
          rowsDeletedAtSource: 0,
          schemaChanges: [{ column: 'legacy', change: 'kept', from: `${spell().int} NOT NULL`, to: spell().int }],
        });
        expect(await columnOf(t('legacy'), 'legacy')).toEqual({ name: 'legacy', type: spell().int, notNull: false });
        // Already nullable: the next load without it changes nothing and reports nothing.
        const f2 = await legacyRows("SELECT 4::INTEGER AS id, 'd'::VARCHAR AS name");
        expect((await wh.load(request(t('legacy'), [f2], 1, keep))).schemaChanges).toEqual([]);
        // Row 1 was never reloaded and keeps its value; row 2 was replaced by the merge, rows 3 and 4 are new.
        expect(await rows(t('legacy'), ['id', 'name', 'legacy'])).toEqual([
          { id: 1, name: 'a', legacy: 10 },
          { id: 2, name: 'b2', legacy: null },
          { id: 3, name: 'c', legacy: null },
          { id: 4, name: 'd', legacy: null },
        ]);
      });

      it('drop: a column the source dropped is dropped by the load', async () => {
        await seedLegacy(t('legacy'));
        const f = await legacyRows("SELECT 3::INTEGER AS id, 'c'::VARCHAR AS name");
        const result = await wh.load(
          request(t('legacy'), [f], 1, { columns: withoutLegacy, cursorColumns: [], onColumnDrop: 'drop' }),
        );
        expect(result).toEqual({
          rowsStaged: 1,
          rowsLoaded: 1,
          rowsDeleted: 0,
          rowsDeletedAtSource: 0,
          schemaChanges: [{ column: 'legacy', change: 'dropped', from: spell().int }],
        });
        expect((await harness.columns(wh, t('legacy'))).map((c) => c.name)).toEqual(['id', 'name']);
        expect(await rows(t('legacy'), ['id', 'name'])).toEqual([
          { id: 1, name: 'a' },
          { id: 2, name: 'b' },
          { id: 3, name: 'c' },
        ]);
      });

      it('reports several changes of one load together, and replace reports none', async () => {
        await seedLegacy(t('legacy'));
        const next = [column('id', { kind: 'int64' }, false), column('name', TEXT), column('email', TEXT)];
        const f = await legacyRows("SELECT 5000000000::BIGINT AS id, 'e'::VARCHAR AS name, 'e@x'::VARCHAR AS email");
        const result = await wh.load(
          request(t('legacy'), [f], 1, { columns: next, cursorColumns: [], onColumnDrop: 'drop' }),
        );
        expect(result.schemaChanges).toEqual([
          { column: 'email', change: 'added', to: spell().text256 },
          { column: 'id', change: 'widened', from: spell().int, to: spell().bigint },
          { column: 'legacy', change: 'dropped', from: spell().int },
        ]);
        expect(await rows(t('legacy'), ['id', 'email'])).toEqual([
          { id: 1, email: null },
          { id: 2, email: null },
          { id: 5000000000, email: 'e@x' },
        ]);
        const replaced = await wh.load(
          request(t('legacy'), [f], 1, { columns: next, cursorColumns: [], mode: 'replace' }),
        );
        expect(replaced.schemaChanges).toEqual([]);
      });
    });
  });
}
