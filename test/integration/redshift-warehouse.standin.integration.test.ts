/**
 * The Redshift warehouse through the real @aws-sdk/client-redshift-data client, against the Data API stand-in
 * (test/support/redshift-data-standin: PostgreSQL underneath, fauxqs for S3). Not real Redshift: what PostgreSQL
 * cannot tell apart from Redshift (SUPER semantics, DISTKEY effects) is checked on the SQL the stand-in recorded.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedshiftWarehouse, type RedshiftWarehouseOptions } from '../../lambdas/adapters/redshift/index.js';
import type { LogicalType } from '../../lambdas/domain/model.js';
import { ConfigError, CountMismatchError, WarehouseError } from '../../lambdas/errors.js';
import type { LoadRequest, TargetTable, Warehouse } from '../../lambdas/ports/index.js';
import {
  type CatalogColumnRow,
  column,
  describeWarehouseContract,
  writeParquetWithDuckDb,
} from '../contract/warehouse.contract.js';
import { FAUXQS_CREDENTIALS, type FauxqsInstance, startFauxqs } from '../support/fauxqs.js';
import { type PostgresInstance, startPostgres } from '../support/postgres.js';
import { type RedshiftDataStandin, startRedshiftDataStandin } from '../support/redshift-data-standin/index.js';

const BUCKET = 'hw-redshift-standin';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/highwater-copy';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hw-redshift-AbCdEf';
/** The stand-in accepts any credentials; these are obviously not real ones. */
const DATA_API_CREDENTIALS = { accessKeyId: 'HWDATAAPIKEY', secretAccessKey: 'hw-data-api-secret-not-real' };

let pgServer: PostgresInstance;
let s3: FauxqsInstance;
let standin: RedshiftDataStandin;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hw-redshift-'));
  [pgServer, s3] = await Promise.all([startPostgres(), startFauxqs()]);
  await s3.createBucket(BUCKET);
  // Two rows a page, so every multi-row result exercises NextToken paging.
  standin = await startRedshiftDataStandin({ connectionString: pgServer.connectionString, s3: s3.client, pageSize: 2 });
});

afterAll(async () => {
  await standin?.stop();
  await s3?.stop();
  await pgServer?.stop();
  await rm(dir, { recursive: true, force: true });
});

const unique = (name: string) => `${randomBytes(4).toString('hex')}-${name}`;

function dataClient(): RedshiftDataClient {
  return new RedshiftDataClient({ endpoint: standin.endpoint, region: 'us-east-1', credentials: DATA_API_CREDENTIALS });
}

function openRaw(extra: Partial<RedshiftWarehouseOptions> = {}): Warehouse {
  return createRedshiftWarehouse({
    database: 'postgres',
    workgroupName: 'hw-test',
    secretArn: SECRET_ARN,
    iamRoleArn: ROLE_ARN,
    client: dataClient(),
    pollIntervalMs: 5,
    ...extra,
  });
}

async function putObject(key: string, body: Buffer | string): Promise<string> {
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return `s3://${BUCKET}/${key}`;
}

async function sizeOf(url: string): Promise<number> {
  const key = url.slice(`s3://${BUCKET}/`.length);
  try {
    return (await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength ?? 0;
  } catch {
    return 0; // a missing file: COPY must fail on it, not the harness
  }
}

/** The manifest the Load handler writes: every file, mandatory, with its size (COPY needs it for Parquet). */
async function writeManifest(files: readonly string[]): Promise<string> {
  const entries = await Promise.all(
    files.map(async (url) => ({ url, mandatory: true, meta: { content_length: await sizeOf(url) } })),
  );
  return putObject(`manifests/${unique('manifest')}.json`, JSON.stringify({ entries }));
}

/** The adapter never writes to S3; like the Load handler, the harness writes each load's manifest. */
function withManifests(wh: Warehouse): Warehouse {
  return {
    capabilities: wh.capabilities,
    describeDdl: (request) => wh.describeDdl(request),
    count: (target) => wh.count(target),
    query: <T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => wh.query<T>(sql, params),
    close: () => wh.close(),
    load: async (request, session) =>
      wh.load(
        {
          ...request,
          manifest: await writeManifest(request.files),
          ...(request.fileGroups
            ? {
                fileGroups: await Promise.all(
                  request.fileGroups.map(async (g) => ({ ...g, manifest: await writeManifest(g.files) })),
                ),
              }
            : {}),
        },
        session,
      ),
  };
}

async function parquet(name: string, select: string): Promise<string> {
  const path = join(dir, `${unique(name)}.parquet`);
  await writeParquetWithDuckDb(path, select);
  return putObject(`files/${unique(name)}.parquet`, await readFile(path));
}

/** The target's columns as format_type spells them (what catalog.ts reads), in table order. */
async function catalogColumns(wh: Warehouse, target: TargetTable): Promise<CatalogColumnRow[]> {
  const rows = await wh.query<{ name: string; type: string; not_null: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [target.schema, target.name],
  );
  return rows.map((r) => ({ name: r.name, type: r.type, notNull: r.not_null }));
}

describeWarehouseContract('redshift (Data API stand-in over PostgreSQL)', {
  open: async () => withManifests(openRaw()),
  parquet,
  missingLocation: (name) => `s3://${BUCKET}/missing/${name}.parquet`,
  columns: catalogColumns,
});

const INT: LogicalType = { kind: 'int32' };
const TEXT: LogicalType = { kind: 'string', maxBytes: 64 };
const TS: LogicalType = { kind: 'timestamp', utc: false };
const JSON_TYPE: LogicalType = { kind: 'json' };

const schemaName = () => `r_${randomBytes(4).toString('hex')}`;

function request(
  schema: string,
  name: string,
  files: string[],
  expectedRows: number,
  extra: Partial<LoadRequest> = {},
) {
  return {
    target: { schema, name },
    columns: [column('id', INT, false), column('name', TEXT), column('updated_at', TS)],
    primaryKey: ['id'],
    cursorColumns: ['updated_at'],
    mode: 'merge',
    files,
    expectedRows,
    onColumnDrop: 'keep',
    ...extra,
  } satisfies LoadRequest;
}

const personRow = (id: number | null, name: string) =>
  `SELECT ${id === null ? 'NULL' : id}::INTEGER AS id, '${name}'::VARCHAR AS name, TIMESTAMP '2024-01-01 00:00:00' AS updated_at`;

async function tablesIn(wh: Warehouse, schema: string): Promise<string[]> {
  const rows = await wh.query<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name',
    [schema],
  );
  return rows.map((r) => r.table_name);
}

/** Polls the stand-in with the raw SDK until the statement has ended. */
async function settled(client: RedshiftDataClient, id: string) {
  for (;;) {
    const d = await client.send(new DescribeStatementCommand({ Id: id }));
    if (d.Status !== 'SUBMITTED' && d.Status !== 'STARTED' && d.Status !== 'PICKED') return d;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Redshift warehouse: DDL', () => {
  it('creates the table with DISTSTYLE KEY, DISTKEY and COMPOUND SORTKEY, and replace keeps them', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const f = await parquet('dist', personRow(1, 'a'));
    const attrs = { distkey: 'id', sortkey: ['updated_at', 'id'] };
    expect(await wh.load(request(schema, 'orders', [f], 1, attrs))).toEqual({
      rowsStaged: 1,
      rowsLoaded: 1,
      rowsDeleted: 0,
      rowsDeletedAtSource: 0,
      schemaChanges: [],
    });
    const create = standin.sqlLog.find((s) => s.startsWith(`CREATE TABLE "${schema}"."orders" (`));
    expect(create).toBe(
      `CREATE TABLE "${schema}"."orders" (\n  "id" INTEGER NOT NULL,\n  "name" VARCHAR(64),\n  "updated_at" TIMESTAMP\n)\nDISTSTYLE KEY DISTKEY ("id") COMPOUND SORTKEY ("updated_at", "id")`,
    );
    const sent = standin.sqlLog.length;
    expect(await wh.load(request(schema, 'orders', [f], 1, { ...attrs, mode: 'replace' }))).toEqual({
      rowsStaged: 1,
      rowsLoaded: 1,
      rowsDeleted: 1,
      rowsDeletedAtSource: 0,
      schemaChanges: [],
    });
    // Replace keeps the table (and so its attributes): every row deleted and the new ones inserted, one batch.
    const replaced = standin.sqlLog.slice(sent);
    expect(replaced.filter((s) => s.startsWith('CREATE TABLE') && s.includes('"orders"'))).toEqual([]);
    expect(replaced).toContain(`DELETE FROM "${schema}"."orders"`);
    expect(await tablesIn(wh, schema)).toEqual(['orders']);
    await wh.close();
  });

  it('replace keeps the table’s grants, owner and the views on it; a rebuild for a type change cannot', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const reader = `hw_reader_${randomBytes(3).toString('hex')}`;
    await wh.load(request(schema, 'orders', [await parquet('g1', personRow(1, 'a'))], 1));
    const raw = new pg.Client({ connectionString: pgServer.connectionString });
    await raw.connect();
    try {
      await raw.query(`CREATE ROLE ${reader}`);
      await raw.query(`GRANT USAGE ON SCHEMA ${schema} TO ${reader}`);
      await raw.query(`GRANT SELECT ON ${schema}.orders TO ${reader}`);
      await raw.query(`CREATE VIEW ${schema}.order_names AS SELECT id, name FROM ${schema}.orders`);
      const owner = async () =>
        (await raw.query(`SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'orders'`, [schema]))
          .rows[0]?.tableowner;
      const before = await owner();
      const two = await parquet('g2', `${personRow(2, 'b')} UNION ALL ${personRow(3, 'c')}`);
      expect(await wh.load(request(schema, 'orders', [two], 2, { mode: 'replace' }))).toMatchObject({
        rowsLoaded: 2,
        rowsDeleted: 1,
      });
      const granted = await raw.query(`SELECT has_table_privilege($1, $2, 'SELECT') AS ok`, [
        reader,
        `${schema}.orders`,
      ]);
      expect(granted.rows[0]?.ok).toBe(true);
      expect(await owner()).toBe(before);
      expect((await raw.query(`SELECT id, name FROM ${schema}.order_names ORDER BY id`)).rows).toEqual([
        { id: 2, name: 'b' },
        { id: 3, name: 'c' },
      ]);
      // A replace the table cannot take in place (name becomes an integer) must rebuild it: the view blocks the
      // DROP, and the load fails with nothing changed (docs/type-map.md, "Replace").
      const retyped = await parquet('g3', 'SELECT 4::INTEGER AS id, 5::INTEGER AS name');
      const err = await wh
        .load(
          request(schema, 'orders', [retyped], 1, {
            mode: 'replace',
            columns: [column('id', INT, false), column('name', INT)],
            cursorColumns: [],
          }),
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      expect((err as Error).message).toMatch(/DROP TABLE "[^"]+"\."orders".*depend/);
      expect((await raw.query(`SELECT count(*)::int AS n FROM ${schema}.order_names`)).rows[0]?.n).toBe(2);
    } finally {
      await raw.query(`DROP VIEW IF EXISTS ${schema}.order_names`).catch(() => undefined);
      await raw.query(`DROP OWNED BY ${reader}`).catch(() => undefined);
      await raw.query(`DROP ROLE IF EXISTS ${reader}`).catch(() => undefined);
      await raw.end();
      await wh.close();
    }
  });

  it('describes DDL with a single SORTKEY, DISTSTYLE ALL/EVEN, SUPER or VARCHAR JSON', async () => {
    const wh = openRaw();
    const target = { schema: 'shop', name: 'order' };
    const columns = [column('id', INT, false), column('doc', JSON_TYPE)];
    expect(wh.describeDdl({ target, columns, primaryKey: ['id'], sortkey: ['id'], diststyle: 'all' })).toBe(
      'CREATE TABLE "shop"."order" (\n  "id" INTEGER NOT NULL,\n  "doc" SUPER\n)\nDISTSTYLE ALL SORTKEY ("id")',
    );
    expect(wh.describeDdl({ target, columns, primaryKey: [], diststyle: 'even' })).toBe(
      'CREATE TABLE "shop"."order" (\n  "id" INTEGER NOT NULL,\n  "doc" SUPER\n)\nDISTSTYLE EVEN',
    );
    const varchar = openRaw({ jsonAs: 'varchar' });
    expect(varchar.describeDdl({ target, columns, primaryKey: [] })).toBe(
      'CREATE TABLE "shop"."order" (\n  "id" INTEGER NOT NULL,\n  "doc" VARCHAR(65535)\n)',
    );
    expect(wh.capabilities).toMatchObject({ name: 'redshift', maxIdentifierLength: 127 });
    expect(wh.capabilities.columnType(column('doc', JSON_TYPE))).toBe('SUPER');
    expect(varchar.capabilities.columnType(column('doc', JSON_TYPE))).toBe('VARCHAR(65535)');
    expect(wh.capabilities.columnType(column('b', { kind: 'binary', maxBytes: 16 }))).toBe('VARBYTE(16)');
    await wh.close();
    await varchar.close();
  });

  it('refuses unknown distkey/sortkey columns and bad diststyles before running anything', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const f = await parquet('bad-dist', personRow(1, 'a'));
    const cases: [Partial<LoadRequest>, RegExp][] = [
      [{ distkey: 'nope' }, /distkey\/sortkey column nope is not among the loaded columns/],
      [{ sortkey: ['a', 'b'] }, /distkey\/sortkey columns a, b are not among the loaded columns/],
      [{ diststyle: 'random' }, /diststyle random is not one of AUTO, EVEN, KEY, ALL/],
      [{ distkey: 'id', diststyle: 'EVEN' }, /distkey id needs diststyle KEY, not EVEN/],
      [{ diststyle: 'key' }, /diststyle KEY needs a distkey/],
    ];
    const before = standin.sqlLog.length;
    for (const [extra, message] of cases) {
      const err = await wh.load(request(schema, 'orders', [f], 1, extra)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain(`${schema}.orders`);
      expect(() => wh.describeDdl(request(schema, 'orders', [f], 1, extra))).toThrow(message);
    }
    expect(standin.sqlLog.length).toBe(before);
    await wh.close();
  });

  it('refuses names beyond 127 bytes, and a manifest that is missing or not a plain s3:// URI', async () => {
    const wh = openRaw();
    const schema = schemaName();
    const f = await parquet('long', personRow(1, 'a'));
    const long = await wh
      .load({ ...request(schema, 'x'.repeat(110), [f], 1), manifest: await writeManifest([f]) })
      .catch((e: unknown) => e);
    expect(long).toBeInstanceOf(WarehouseError);
    expect((long as Error).message).toMatch(
      /staging table name x+__hw_stage_\w+ is longer than Redshift's 127-byte identifier limit/,
    );
    await expect(wh.load(request(schema, 't', [f], 1))).rejects.toThrow(
      `load of ${schema}.t: Redshift COPY needs a manifest of the 1 files`,
    );
    for (const manifest of [
      "s3://hw-redshift-standin/m.json' IAM_ROLE 'x",
      'https://example.com/m.json',
      's3://b/k\\x',
    ]) {
      const err = await wh.load({ ...request(schema, 't', [f], 1), manifest }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      expect((err as Error).message).toContain('is not an s3://bucket/key URI');
    }
    expect(await wh.count({ schema, name: 't' })).toBeUndefined();
    await wh.close();
  });
});

describe('Redshift warehouse: how schema changes are applied', () => {
  const D10_2: LogicalType = { kind: 'decimal', precision: 10, scale: 2 };
  const D20_6: LogicalType = { kind: 'decimal', precision: 20, scale: 6 };
  const named = (maxBytes: number) => column('name', { kind: 'string', maxBytes });

  /** The SQL of every request after `from`: [operation, sql] pairs, one per statement of a batch. */
  function sentSince(from: number): [string, string][] {
    return standin.requests.slice(from).flatMap((r): [string, string][] => {
      if (r.operation === 'ExecuteStatement') return [['execute', String(r.body.Sql)]];
      if (r.operation === 'BatchExecuteStatement') return (r.body.Sqls as string[]).map((sql) => ['batch', sql]);
      return [];
    });
  }
  /** Nothing but catalog reads ran. */
  const onlyReads = (from: number) => sentSince(from).every(([, sql]) => /^\s*SELECT\b/i.test(sql));

  it('keeps a wider VARCHAR; widens a narrower one with ALTER COLUMN TYPE on its own, between the two batches', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    await wh.load(request(schema, 'p', [await parquet('w1', personRow(1, 'a'))], 1));
    const columns = (maxBytes: number) => [column('id', INT, false), named(maxBytes), column('updated_at', TS)];
    const f = await parquet('w2', personRow(2, 'b'));
    expect(await wh.load(request(schema, 'p', [f], 1, { columns: columns(16) }))).toMatchObject({
      rowsLoaded: 1,
      schemaChanges: [],
    });
    const from = standin.requests.length;
    const long = 'x'.repeat(200); // more than VARCHAR(64) holds
    const f3 = await parquet('w3', personRow(3, long));
    expect(await wh.load(request(schema, 'p', [f3], 1, { columns: columns(256) }))).toMatchObject({
      rowsLoaded: 1,
      schemaChanges: [
        { column: 'name', change: 'widened', from: 'character varying(64)', to: 'character varying(256)' },
      ],
    });
    const sent = sentSince(from);
    const alter = `ALTER TABLE "${schema}"."p" ALTER COLUMN "name" TYPE VARCHAR(256)`;
    const at = sent.findIndex(([op, sql]) => op === 'execute' && sql === alter);
    expect(at).toBeGreaterThan(sent.findIndex(([op, sql]) => op === 'batch' && sql.startsWith('COPY ')));
    expect(at).toBeLessThan(
      sent.findIndex(([op, sql]) => op === 'batch' && sql.startsWith(`DELETE FROM "${schema}"."p"`)),
    );
    expect(sent.filter(([op, sql]) => op === 'batch' && sql.includes('ALTER COLUMN'))).toEqual([]);
    expect(await wh.query(`SELECT name FROM "${schema}"."p" WHERE id = 3`)).toEqual([{ name: long }]);
    await wh.close();
  });

  it('rebuilds other widenings and kept NOT NULL columns inside the apply batch: add, copy, drop, rename', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const first = [column('id', INT, false), column('amount', D10_2, false), column('legacy', INT, false), named(64)];
    const seed = await parquet(
      'rb1',
      "SELECT 1::INTEGER AS id, '12.34'::DECIMAL(10,2) AS amount, 7::INTEGER AS legacy, 'a' AS name",
    );
    await wh.load(request(schema, 't', [seed], 1, { columns: first, cursorColumns: [] }));
    const from = standin.requests.length;
    const next = [column('id', INT, false), column('amount', D20_6, false), named(64)];
    const f = await parquet('rb2', "SELECT 2::INTEGER AS id, '0.000001'::DECIMAL(20,6) AS amount, 'b' AS name");
    const result = await wh.load(request(schema, 't', [f], 1, { columns: next, cursorColumns: [] }));
    expect(result.schemaChanges).toEqual([
      { column: 'amount', change: 'widened', from: 'numeric(10,2)', to: 'numeric(20,6)' },
      { column: 'legacy', change: 'kept', from: 'integer NOT NULL', to: 'integer' },
    ]);
    const t = `"${schema}"."t"`;
    const batch = sentSince(from)
      .filter(([op]) => op === 'batch')
      .map(([, sql]) => sql);
    const applied = batch.slice(batch.findIndex((sql) => sql.startsWith(`ALTER TABLE ${t}`)));
    expect(applied.slice(0, 8)).toEqual([
      `ALTER TABLE ${t} ADD COLUMN "__hw_tmp_0" DECIMAL(20,6)`,
      `UPDATE ${t} SET "__hw_tmp_0" = "amount"`,
      `ALTER TABLE ${t} DROP COLUMN "amount"`,
      `ALTER TABLE ${t} RENAME COLUMN "__hw_tmp_0" TO "amount"`,
      `ALTER TABLE ${t} ADD COLUMN "__hw_tmp_1" integer`,
      `UPDATE ${t} SET "__hw_tmp_1" = "legacy"`,
      `ALTER TABLE ${t} DROP COLUMN "legacy"`,
      `ALTER TABLE ${t} RENAME COLUMN "__hw_tmp_1" TO "legacy"`,
    ]);
    expect(applied[8]).toMatch(/^DELETE FROM /);
    expect(sentSince(from).filter(([op, sql]) => op === 'execute' && sql.startsWith('ALTER'))).toEqual([]);
    expect(await wh.query(`SELECT id, amount, legacy, name FROM ${t} ORDER BY id`)).toEqual([
      { id: 1, amount: '12.340000', legacy: 7, name: 'a' },
      { id: 2, amount: '0.000001', legacy: null, name: 'b' },
    ]);
    await wh.close();
  });

  it('a failed apply batch rolls back the rebuilds and keeps the data; only the VARCHAR widened ahead of it stays wider', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const first = [column('id', INT, false), column('amount', D10_2, false), named(64)];
    const seed = await parquet('fb1', "SELECT 1::INTEGER AS id, '12.34'::DECIMAL(10,2) AS amount, 'a' AS name");
    await wh.load(request(schema, 't', [seed], 1, { columns: first, cursorColumns: [] }));
    const next = [column('id', INT, false), column('amount', D20_6, false), named(256)];
    // A NULL key passes COPY into the stage (no constraints there) and fails the INSERT into the NOT NULL target.
    const bad = await parquet('fb2', "SELECT NULL::INTEGER AS id, '1'::DECIMAL(20,6) AS amount, 'b' AS name");
    const err = await wh
      .load(request(schema, 't', [bad], 1, { columns: next, cursorColumns: [], mode: 'append', primaryKey: [] }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(/null value in column "id"/);
    expect(await catalogColumns(wh, { schema, name: 't' })).toEqual([
      { name: 'id', type: 'integer', notNull: true },
      { name: 'amount', type: 'numeric(10,2)', notNull: true },
      { name: 'name', type: 'character varying(256)', notNull: false },
    ]);
    expect(await wh.query(`SELECT id, amount, name FROM "${schema}"."t"`)).toEqual([
      { id: 1, amount: '12.34', name: 'a' },
    ]);
    const good = await parquet('fb3', "SELECT 2::INTEGER AS id, '1'::DECIMAL(20,6) AS amount, 'b' AS name");
    expect(
      (await wh.load(request(schema, 't', [good], 1, { columns: next, cursorColumns: [] }))).schemaChanges,
    ).toEqual([{ column: 'amount', change: 'widened', from: 'numeric(10,2)', to: 'numeric(20,6)' }]);
    await wh.close();
  });

  it('refuses to rebuild a DISTKEY or SORTKEY column, before anything runs; a VARCHAR sort key widens in place', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const cols = (amount: LogicalType, id: LogicalType, name: number) => [
      column('id', id, false),
      column('amount', amount),
      named(name),
    ];
    const keys = { distkey: 'id', sortkey: ['amount', 'name'], cursorColumns: [] };
    const seed = await parquet('dk1', "SELECT 1::INTEGER AS id, '1.5'::DECIMAL(10,2) AS amount, 'a' AS name");
    await wh.load(request(schema, 'k', [seed], 1, { columns: cols(D10_2, INT, 64), ...keys }));
    for (const [columns, message] of [
      [cols(D20_6, INT, 64), `column amount (numeric(10,2) → numeric(20,6)) is the DISTKEY or a SORTKEY`],
      [cols(D10_2, { kind: 'int64' }, 64), `column id (integer → bigint) is the DISTKEY or a SORTKEY`],
    ] as const) {
      const from = standin.requests.length;
      const err = await wh.load(request(schema, 'k', [seed], 1, { columns: [...columns], ...keys })).catch((e) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      expect((err as Error).message).toContain(`table ${schema}.k ${message}`);
      expect((err as WarehouseError).suggestion).toContain(`highwater resync -t ${schema}.k`);
      expect(onlyReads(from)).toBe(true);
    }
    const f = await parquet('dk2', "SELECT 2::INTEGER AS id, '1.5'::DECIMAL(10,2) AS amount, 'b' AS name");
    expect(
      (await wh.load(request(schema, 'k', [f], 1, { columns: cols(D10_2, INT, 128), ...keys }))).schemaChanges,
    ).toEqual([{ column: 'name', change: 'widened', from: 'character varying(64)', to: 'character varying(128)' }]);
    await wh.close();
  });

  it('refuses schema changes that need more statements than one batch takes, before anything runs', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const names = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const cols = (type: LogicalType) => [column('id', INT, false), ...names.map((n) => column(n, type))];
    const row = (type: string) => `SELECT 1::INTEGER AS id, ${names.map((n) => `1::${type} AS ${n}`).join(', ')}`;
    await wh.load(
      request(schema, 'wide', [await parquet('b1', row('INTEGER'))], 1, { columns: cols(INT), cursorColumns: [] }),
    );
    const from = standin.requests.length;
    const f = await parquet('b2', row('BIGINT'));
    const err = await wh
      .load(request(schema, 'wide', [f], 1, { columns: cols({ kind: 'int64' }), cursorColumns: [] }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toBe(
      `load of ${schema}.wide: its schema changes need 43 statements in one Data API batch, which takes at most 40; nothing was changed`,
    );
    expect(onlyReads(from)).toBe(true);
    await wh.close();
  });
});

describe('Redshift warehouse: deletes at the source', () => {
  /** [operation, sql, parameter values] of every statement sent after `from`, one per statement of a batch. */
  function sentSince(from: number): [string, string, string[]][] {
    return standin.requests.slice(from).flatMap((r): [string, string, string[]][] => {
      if (r.operation === 'ExecuteStatement') {
        const params = (r.body.Parameters as { value: string }[] | undefined) ?? [];
        return [['execute', String(r.body.Sql), params.map((p) => p.value)]];
      }
      if (r.operation === 'BatchExecuteStatement') return (r.body.Sqls as string[]).map((sql) => ['batch', sql, []]);
      return [];
    });
  }

  it('sends every deleted key as a Data API parameter, never in SQL text, and applies them in the merge’s batch', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const columns = [column('code', TEXT, false), column('id', { kind: 'int64' }, false), column('name', TEXT)];
    const base = { columns, primaryKey: ['code', 'id'], cursorColumns: [] };
    const seed = await parquet(
      'del-seed',
      `SELECT 'q''uote-7f3a' AS code, 9007199254740993::BIGINT AS id, 'a' AS name
       UNION ALL SELECT 'q''uote-7f3a', 9007199254740992, 'a-neighbour'
       UNION ALL SELECT '', 5, 'empty' UNION ALL SELECT 'zz-q9', 6, 'b'`,
    );
    await wh.load(request(schema, 'd', [seed], 4, base));
    const target = `"${schema}"."d"`;

    const from = standin.requests.length;
    const logFrom = standin.sqlLog.length;
    const f = await parquet('del-next', `SELECT 'zz-q9' AS code, 6::BIGINT AS id, 'b2' AS name`);
    const keys = [
      ["q'uote-7f3a", '9007199254740993'],
      ['', '5'],
    ];
    expect(await wh.load(request(schema, 'd', [f], 1, { ...base, deletes: { keys, mode: 'soft' } }))).toEqual({
      rowsStaged: 1,
      rowsLoaded: 1,
      rowsDeleted: 1,
      rowsDeletedAtSource: 2,
      schemaChanges: [],
    });
    const sent = sentSince(from);
    // No key value in any SQL text, quoted or not (the empty string, which the Data API cannot carry, is the fixed
    // literal '' as for queries).
    for (const [, sql] of sent) {
      for (const value of ['uote-7f3a', '9007199254740993']) expect(sql).not.toContain(value);
    }
    const logged = standin.sqlLog.slice(logFrom);
    expect(logged.filter((sql) => /uote-7f3a|9007199254740993/.test(sql))).toEqual([]);
    expect(logged.filter((sql) => sql.includes('_keys" ("code", "id") VALUES (CAST(:p1 AS '))).toHaveLength(1);
    const inserts = sent.filter(([, sql]) => sql.startsWith(`INSERT INTO "${schema}"."d__hw_stage_`));
    expect(inserts).toEqual([
      [
        'execute',
        expect.stringMatching(
          /^INSERT INTO "[^"]+"\."d__hw_stage_[0-9a-z]{12}_keys" \("code", "id"\) VALUES \(CAST\(:p1 AS VARCHAR\(65535\)\), CAST\(:p2 AS BIGINT\)\), \(CAST\('' AS VARCHAR\(65535\)\), CAST\(:p4 AS BIGINT\)\)$/,
        ),
        ["q'uote-7f3a", '9007199254740993', '5'],
      ],
    ]);
    // The mark runs in the apply batch, after the column is added and before the merge's delete+insert.
    const batch = sent.filter(([op]) => op === 'batch').map(([, sql]) => sql);
    const at = (prefix: string) => batch.findIndex((sql) => sql.startsWith(prefix));
    expect(at(`ALTER TABLE ${target} ADD COLUMN "_hw_deleted_at" TIMESTAMPTZ`)).toBeGreaterThan(-1);
    expect(at(`UPDATE ${target} SET "_hw_deleted_at" = GETDATE() FROM (SELECT DISTINCT "code", "id" FROM`)).toBe(
      at(`ALTER TABLE ${target} ADD COLUMN "_hw_deleted_at"`) + 1,
    );
    expect(at(`DELETE FROM ${target} USING "${schema}"."d__hw_stage_`)).toBe(at(`UPDATE ${target}`) + 1);
    expect(batch.at(-1)).toMatch(/^DROP TABLE "[^"]+"\."d__hw_stage_[0-9a-z]{12}_keys"$/);
    const marked = await wh.query<{ id: string; marked: boolean }>(
      `SELECT CAST(id AS VARCHAR) AS id, "_hw_deleted_at" IS NOT NULL AS marked FROM ${target} ORDER BY id`,
    );
    expect(marked).toEqual([
      { id: '5', marked: true },
      { id: '6', marked: false },
      { id: '9007199254740992', marked: false },
      { id: '9007199254740993', marked: true },
    ]);

    // Hard: DELETE … USING the keys' table, in the apply batch before the merge's own delete; nothing left behind.
    const from2 = standin.requests.length;
    const hard = await wh.load(
      request(schema, 'd', [], 0, { ...base, deletes: { keys: [['zz-q9', '6']], mode: 'hard' } }),
    );
    expect(hard.rowsDeletedAtSource).toBe(1);
    const batch2 = sentSince(from2)
      .filter(([op]) => op === 'batch')
      .map(([, sql]) => sql);
    const deletes = batch2.filter((sql) => sql.startsWith(`DELETE FROM ${target} USING`));
    expect(deletes).toHaveLength(2);
    expect(deletes[0]).toMatch(/__hw_stage_[0-9a-z]{12}_keys" WHERE /);
    expect(await tablesIn(wh, schema)).toEqual(['d']);
    await wh.close();
  });

  it('a key that cannot be cast fails the load with the statement named, and leaves nothing behind', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    await wh.load(request(schema, 'p', [await parquet('cast-seed', personRow(1, 'a'))], 1));
    const err = await wh
      .load(request(schema, 'p', [], 0, { deletes: { keys: [['1'], ['not-a-number']], mode: 'hard' } }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toContain(`Redshift failed loading ${schema}.p`);
    expect(await wh.count({ schema, name: 'p' })).toBe(1);
    expect(await tablesIn(wh, schema)).toEqual(['p']);
    await wh.close();
  });
});

describe('Redshift warehouse: types', () => {
  it('stages JSON as text and JSON_PARSEs it into SUPER; it comes back as JSON text', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const columns = [column('id', INT, false), column('doc', JSON_TYPE)];
    const f = await parquet(
      'json',
      `SELECT 1::INTEGER AS id, '{"a":[1,2],"b":"x"}'::VARCHAR AS doc UNION ALL SELECT 2, '[true,null]' UNION ALL SELECT 3, NULL`,
    );
    const req = { ...request(schema, 'docs', [f], 3), columns, cursorColumns: [] };
    expect(await wh.load(req)).toEqual({
      rowsStaged: 3,
      rowsLoaded: 3,
      rowsDeleted: 0,
      rowsDeletedAtSource: 0,
      schemaChanges: [],
    });
    const rows = await wh.query<{ id: number; doc: string | null }>(
      `SELECT id, doc FROM "${schema}"."docs" ORDER BY id`,
    );
    expect(rows.map((r) => [r.id, r.doc === null ? null : JSON.parse(r.doc)])).toEqual([
      [1, { a: [1, 2], b: 'x' }],
      [2, [true, null]],
      [3, null],
    ]);
    const [type] = await wh.query(
      `SELECT format_type(a.atttypid, a.atttypmod) AS t FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = to_regclass(?) AND a.attname = 'doc'`,
      [`"${schema}"."docs"`],
    );
    expect(type).toEqual({ t: 'super' });
    const ours = standin.sqlLog.filter((s) => s.includes(`"${schema}"."docs`));
    expect(ours.find((s) => s.startsWith(`CREATE TABLE "${schema}"."docs__hw_stage_`))).toMatch(
      /"doc" VARCHAR\(65535\)\)$/,
    );
    expect(ours.find((s) => s.startsWith(`INSERT INTO "${schema}"."docs"`))).toContain('JSON_PARSE("doc")');
    // A second load compares SUPER with SUPER and merges.
    expect(await wh.load(req)).toEqual({
      rowsStaged: 3,
      rowsLoaded: 3,
      rowsDeleted: 3,
      rowsDeletedAtSource: 0,
      schemaChanges: [],
    });
    await wh.close();
  });

  it('with jsonAs varchar keeps the JSON text as it is', async () => {
    const wh = withManifests(openRaw({ jsonAs: 'varchar' }));
    const schema = schemaName();
    const f = await parquet('jsonv', `SELECT 1::INTEGER AS id, '{"a": 1}'::VARCHAR AS doc`);
    const req = {
      ...request(schema, 'docs', [f], 1),
      columns: [column('id', INT, false), column('doc', JSON_TYPE)],
      cursorColumns: [],
    };
    await wh.load(req);
    expect(await wh.query(`SELECT doc FROM "${schema}"."docs"`)).toEqual([{ doc: '{"a": 1}' }]);
    expect(standin.sqlLog.find((s) => s.startsWith(`INSERT INTO "${schema}"."docs"`))).not.toContain('JSON_PARSE');
    await wh.close();
  });

  it('invalid JSON fails the load with Redshift’s message, naming the statement, and changes nothing', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const f = await parquet('badjson', `SELECT 1::INTEGER AS id, 'not json'::VARCHAR AS doc`);
    const req = {
      ...request(schema, 'docs', [f], 1),
      columns: [column('id', INT, false), column('doc', JSON_TYPE)],
      cursorColumns: [],
    };
    const err = await wh.load(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^Redshift failed loading ${schema}\\.docs: statement 3 of 4 \\(INSERT INTO "${schema}"\\."docs" .*\\) failed: ERROR: invalid input syntax for type json`,
      ),
    );
    expect(await wh.count(req.target)).toBeUndefined();
    expect(await tablesIn(wh, schema)).toEqual([]);
    await wh.close();
  });

  it('round-trips the other logical types as the Data API returns them', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const columns = [
      column('id', INT, false),
      column('amount', { kind: 'decimal', precision: 38, scale: 10 }),
      column('at_utc', { kind: 'timestamp', utc: true }),
      column('at_local', TS),
      column('big', { kind: 'int64' }),
      column('bytes', { kind: 'binary', maxBytes: 8 }),
      column('day', { kind: 'date' }),
      column('dur', { kind: 'time' }),
      column('flag', { kind: 'boolean' }),
      column('ratio', { kind: 'float64' }),
      column('small', { kind: 'int16' }),
    ];
    const f = await parquet(
      'types',
      `SELECT 1::INTEGER AS id, '-12.34'::DECIMAL(38,10) AS amount, TIMESTAMPTZ '2024-01-02 03:04:05.123456+00' AS at_utc,
              TIMESTAMP '1969-12-31 23:59:59.5' AS at_local, 9007199254740993::BIGINT AS big, '\\x00\\xFFab'::BLOB AS bytes,
              DATE '2024-02-29' AS day, '-838:59:59' AS dur, true AS flag, 0.25::DOUBLE AS ratio, (-3)::SMALLINT AS small`,
    );
    await wh.load({ ...request(schema, 'all', [f], 1), columns, cursorColumns: [] });
    const [row] = await wh.query(`SELECT *, big::VARCHAR(20) AS big_text FROM "${schema}"."all"`);
    expect(row).toEqual({
      id: 1,
      amount: '-12.3400000000',
      at_utc: '2024-01-02 03:04:05.123456+00',
      at_local: '1969-12-31 23:59:59.5',
      // longValue is a JSON number: past 2^53 the Data API itself rounds; cast to text for exact values.
      big: 9007199254740992,
      big_text: '9007199254740993',
      bytes: '00ff6162',
      day: '2024-02-29',
      dur: '-838:59:59',
      flag: true,
      ratio: 0.25,
      small: -3,
    });
    await wh.close();
  });
});

describe('Redshift warehouse: statements, parameters and errors', () => {
  it('cancels a load batch that runs past statementTimeoutMs; the stand-in aborts and rolls it back', async () => {
    const wh = withManifests(openRaw({ statementTimeoutMs: 400 }));
    const schema = schemaName();
    const f = await parquet('hang', personRow(1, 'a'));
    standin.hangWhen((sql) => sql.startsWith('COPY '));
    const started = Date.now();
    let err: unknown;
    try {
      err = await wh.load(request(schema, 'slow', [f], 1)).catch((e: unknown) => e);
    } finally {
      standin.hangWhen(undefined);
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^Redshift failed loading ${schema}\\.slow: a batch of 4 statements did not finish within the statement timeout of 400 ms; statement [0-9a-f-]+ was cancelled and rolled back: nothing of it committed$`,
      ),
    );
    const cancel = standin.requests.filter((r) => r.operation === 'CancelStatement').at(-1);
    const id = String(cancel?.body.Id);
    expect((err as Error).message).toContain(id);
    const d = await settled(dataClient(), id);
    expect(d.Status).toBe('ABORTED');
    expect(d.SubStatements?.map((s) => s.Status)).toEqual(['FINISHED', 'FINISHED', 'ABORTED', 'ABORTED']);
    expect(d.Error).toBe("ERROR: Query cancelled on user's request");
    // The batch's transaction rolled back: not even the schema it created is left.
    expect(await wh.query('SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = ?', [schema])).toEqual([]);
    await wh.close();
  });

  it('cancels a query past the timeout, naming the statement', async () => {
    const wh = openRaw({ statementTimeoutMs: 200 });
    standin.hangWhen((sql) => sql.includes('hang_here'));
    try {
      await expect(wh.query('SELECT 1 AS hang_here')).rejects.toThrow(
        /^Redshift failed running a query: SELECT 1 AS hang_here did not finish within the statement timeout of 200 ms; statement [0-9a-f-]+ was cancelled and rolled back: nothing of it committed$/,
      );
    } finally {
      standin.hangWhen(undefined);
    }
    await wh.close();
  });

  it('errors carry Redshift’s message and the failing statement', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    const q = await wh.query('SELECT * FROM "nowhere"."nothing"').catch((e: unknown) => e);
    expect(q).toBeInstanceOf(WarehouseError);
    expect((q as Error).message).toBe(
      'Redshift failed running a query: SELECT * FROM "nowhere"."nothing" failed: ERROR: relation "nowhere.nothing" does not exist',
    );
    await wh.load(request(schema, 'people', [await parquet('e1', personRow(1, 'a'))], 1));
    const err = await wh
      .load(request(schema, 'people', [await parquet('e2', personRow(null, 'x'))], 1))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^Redshift failed loading ${schema}\\.people: statement 2 of 3 \\(INSERT INTO "${schema}"\\."people" \\("id", "name", "updated_at"\\) SELECT .*\\) failed: ERROR: null value in column "id" of relation "people" violates not-null constraint`,
      ),
    );
    expect(await tablesIn(wh, schema)).toEqual(['people']);
    await wh.close();
  });

  it('turns ? into named parameters; NULL and the empty string become literals; ? in literals and comments stays', async () => {
    const wh = openRaw();
    const sql =
      "SELECT ? AS a, ?::INTEGER + 1 AS b, ? AS c, ? IS NULL AS d, '?' AS e, ?::TIMESTAMPTZ AS f, ? AS g /* ? */";
    const rows = await wh.query(sql, ['x', 41, '', null, new Date('2024-01-02T03:04:05Z'), true]);
    expect(rows).toEqual([{ a: 'x', b: 42, c: '', d: true, e: '?', f: '2024-01-02 03:04:05+00', g: 'true' }]);
    const sent = standin.requests.filter((r) => r.operation === 'ExecuteStatement').at(-1)?.body;
    expect(sent?.Sql).toBe(
      "SELECT :p1 AS a, :p2::INTEGER + 1 AS b, '' AS c, NULL IS NULL AS d, '?' AS e, :p5::TIMESTAMPTZ AS f, :p6 AS g /* ? */",
    );
    expect(sent?.Parameters).toEqual([
      { name: 'p1', value: 'x' },
      { name: 'p2', value: '41' },
      { name: 'p5', value: '2024-01-02T03:04:05.000Z' },
      { name: 'p6', value: 'true' },
    ]);
    await wh.close();
  });

  it('refuses what it cannot run as one read, before sending anything', async () => {
    const wh = openRaw();
    const before = standin.sqlLog.length;
    await expect(wh.query('SELECT 1; SELECT 2')).rejects.toThrow('query must be exactly one statement');
    await expect(wh.query('DELETE FROM x')).rejects.toThrow(
      'query must be a read-only SELECT (or WITH … SELECT), got DELETE',
    );
    await expect(wh.query('SELECT ?', [{ a: 1 }])).rejects.toThrow(
      'query parameter 1 has an unsupported type (object)',
    );
    await expect(wh.query('SELECT ?', [Buffer.from('x')])).rejects.toThrow('unsupported type (binary)');
    await expect(wh.query('SELECT ?', [Number.NaN])).rejects.toThrow('query parameter 1 is not a finite number (NaN)');
    await expect(wh.query('SELECT ?, ?', [1])).rejects.toThrow(
      'query has 2 ? placeholders but 1 parameters were given',
    );
    expect(standin.sqlLog.length).toBe(before);
    expect(await wh.query("SELECT 'a;b' AS s; ")).toEqual([{ s: 'a;b' }]);
    await wh.close();
  });

  it('reads every page of a result (NextToken)', async () => {
    const wh = openRaw();
    const pages = () => standin.requests.filter((r) => r.operation === 'GetStatementResult').length;
    const before = pages();
    const rows = await wh.query(
      'SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 ORDER BY n',
    );
    expect(rows.map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
    expect(pages() - before).toBe(3);
    await wh.close();
  });

  it('connects to a cluster with dbUser through the endpoint option, COPYs with IAM_ROLE default, and closes', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', DATA_API_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', DATA_API_CREDENTIALS.secretAccessKey);
    try {
      const raw = createRedshiftWarehouse({
        database: 'postgres',
        clusterIdentifier: 'hw-cluster',
        dbUser: 'loader',
        iamRoleArn: 'default',
        endpoint: standin.endpoint,
        region: 'us-east-1',
        pollIntervalMs: 5,
      });
      const wh = withManifests(raw);
      const schema = schemaName();
      expect(await wh.load(request(schema, 'c', [await parquet('cl', personRow(1, 'a'))], 1))).toMatchObject({
        rowsLoaded: 1,
      });
      const sent = standin.requests.filter((r) => r.operation === 'BatchExecuteStatement').at(-1)?.body;
      expect(sent).toMatchObject({ ClusterIdentifier: 'hw-cluster', DbUser: 'loader', Database: 'postgres' });
      expect(sent).not.toHaveProperty('WorkgroupName');
      expect(sent).not.toHaveProperty('SecretArn');
      expect(standin.sqlLog.find((s) => s.startsWith(`COPY "${schema}"`))).toMatch(
        / IAM_ROLE default FORMAT AS PARQUET MANIFEST$/,
      );
      await raw.close();
      await raw.close(); // idempotent
      await expect(raw.query('SELECT 1')).rejects.toThrow('cannot run a query: the Redshift warehouse is closed');
      await expect(raw.count({ schema, name: 'c' })).rejects.toBeInstanceOf(WarehouseError);
      await expect(raw.load(request(schema, 'c', [], 0))).rejects.toThrow(/cannot load .*closed/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('reports a Data API call that fails (nothing listening) as a WarehouseError with the SDK’s message', async () => {
    const dead = createRedshiftWarehouse({
      database: 'postgres',
      workgroupName: 'w',
      iamRoleArn: ROLE_ARN,
      client: new RedshiftDataClient({
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        credentials: DATA_API_CREDENTIALS,
        maxAttempts: 1,
      }),
    });
    const err = await dead.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(/^Redshift failed running a query: Redshift Data API \w+: .*ECONNREFUSED/);
    await dead.close();
  });

  it('checks its options', () => {
    const base: RedshiftWarehouseOptions = { database: 'dev', workgroupName: 'w', iamRoleArn: ROLE_ARN };
    const cases: [Partial<RedshiftWarehouseOptions>, RegExp][] = [
      [{ database: '' }, /database is required/],
      [{ clusterIdentifier: 'c' }, /exactly one of workgroupName \(Serverless\) or clusterIdentifier/],
      [{ workgroupName: undefined }, /exactly one of workgroupName/],
      [{ dbUser: 'u' }, /dbUser applies to provisioned clusters only/],
      [{ workgroupName: undefined, clusterIdentifier: 'c' }, /a cluster needs exactly one of secretArn or dbUser/],
      [
        { workgroupName: undefined, clusterIdentifier: 'c', dbUser: 'u', secretArn: SECRET_ARN },
        /exactly one of secretArn or dbUser/,
      ],
      [{ iamRoleArn: "arn:aws:iam::123456789012:role/x' CREDENTIALS 'y" }, /is not an IAM role ARN/],
      [{ iamRoleArn: 'arn:aws:iam::12345:role/x' }, /is not an IAM role ARN/],
      [{ pollIntervalMs: 0 }, /pollIntervalMs must be a positive integer, got 0/],
      [{ statementTimeoutMs: 1.5 }, /statementTimeoutMs must be a positive integer, got 1.5/],
      [{ jsonAs: 'text' as 'varchar' }, /jsonAs must be super or varchar, got "text"/],
    ];
    for (const [extra, message] of cases) {
      const make = () => createRedshiftWarehouse({ ...base, ...extra });
      expect(make, JSON.stringify(extra)).toThrow(ConfigError);
      expect(make).toThrow(message);
    }
    expect(() =>
      createRedshiftWarehouse({ ...base, iamRoleArn: 'arn:aws-cn:iam::123456789012:role/path/to/role-1' }).close(),
    ).not.toThrow();
  });
});

describe('Redshift Data API stand-in', () => {
  const connection = { Database: 'postgres', WorkgroupName: 'hw-test' };

  it('runs statements asynchronously: SUBMITTED, then FINISHED with HasResultSet, ResultRows and typed records', async () => {
    const slow = await startRedshiftDataStandin({
      connectionString: pgServer.connectionString,
      s3: s3.client,
      startDelayMs: 300,
    });
    const client = new RedshiftDataClient({
      endpoint: slow.endpoint,
      region: 'us-east-1',
      credentials: DATA_API_CREDENTIALS,
    });
    try {
      const { Id } = await client.send(
        new ExecuteStatementCommand({
          ...connection,
          Sql: "SELECT 1 AS i, 2.5::float8 AS d, true AS b, NULL::int AS n, 'x' AS s, :v AS v",
          Parameters: [{ name: 'v', value: 'bound' }],
        }),
      );
      expect((await client.send(new DescribeStatementCommand({ Id }))).Status).toBe('SUBMITTED');
      const d = await settled(client, String(Id));
      expect(d).toMatchObject({
        Status: 'FINISHED',
        HasResultSet: true,
        ResultRows: 1,
        QueryParameters: [{ name: 'v', value: 'bound' }],
      });
      const r = await client.send(new GetStatementResultCommand({ Id }));
      expect(r.Records).toEqual([
        [
          { longValue: 1 },
          { doubleValue: 2.5 },
          { booleanValue: true },
          { isNull: true },
          { stringValue: 'x' },
          { stringValue: 'bound' },
        ],
      ]);
      expect(r.ColumnMetadata?.map((c) => [c.name, c.typeName])).toEqual([
        ['i', 'int4'],
        ['d', 'float8'],
        ['b', 'bool'],
        ['n', 'int4'],
        ['s', 'text'],
        ['v', 'text'],
      ]);
    } finally {
      client.destroy();
      await slow.stop();
    }
  });

  it('answers unknown ids, early result requests and late cancels as the service does', async () => {
    const client = dataClient();
    await expect(client.send(new DescribeStatementCommand({ Id: 'no-such-id' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      ResourceId: 'no-such-id',
    });
    await expect(client.send(new GetStatementResultCommand({ Id: 'no-such-id:1' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    const { Id } = await client.send(
      new ExecuteStatementCommand({ ...connection, Sql: 'CREATE TEMP TABLE t (a int)' }),
    );
    await expect(client.send(new GetStatementResultCommand({ Id }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    expect((await settled(client, String(Id))).Status).toBe('FINISHED');
    await expect(client.send(new GetStatementResultCommand({ Id }))).rejects.toThrow(/Query does not have result/);
    await expect(client.send(new CancelStatementCommand({ Id }))).rejects.toThrow(/already in FINISHED state/);
    await expect(
      client.send(
        new ExecuteStatementCommand({ ...connection, Sql: 'SELECT :v', Parameters: [{ name: 'v', value: '' }] }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      client.send(
        new ExecuteStatementCommand({
          Database: 'postgres',
          WorkgroupName: 'w',
          ClusterIdentifier: 'c',
          Sql: 'SELECT 1',
        }),
      ),
    ).rejects.toThrow(/Either ClusterIdentifier or WorkgroupName/);
    await expect(
      client.send(
        new BatchExecuteStatementCommand({ ...connection, Sqls: Array.from({ length: 41 }, () => 'SELECT 1') }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    client.destroy();
  });

  it('runs a batch as one transaction and names the failing sub-statement; one ExecuteStatement runs one statement', async () => {
    const client = dataClient();
    const schema = schemaName();
    const { Id } = await client.send(
      new BatchExecuteStatementCommand({
        ...connection,
        Sqls: [
          `CREATE SCHEMA "${schema}"`,
          `CREATE TABLE "${schema}".t (a int)`,
          'SELECT nope FROM nowhere',
          'SELECT 1',
        ],
      }),
    );
    const d = await settled(client, String(Id));
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toBe('ERROR: relation "nowhere" does not exist');
    expect(d.SubStatements?.map((s) => [s.Id, s.Status])).toEqual([
      [`${Id}:1`, 'FINISHED'],
      [`${Id}:2`, 'FINISHED'],
      [`${Id}:3`, 'FAILED'],
      [`${Id}:4`, 'ABORTED'],
    ]);
    expect(d.SubStatements?.[2]?.Error).toBe('ERROR: relation "nowhere" does not exist');
    const check = await client.send(
      new ExecuteStatementCommand({
        ...connection,
        Sql: 'SELECT COUNT(*) AS n FROM pg_namespace WHERE nspname = :s',
        Parameters: [{ name: 's', value: schema }],
      }),
    );
    await settled(client, String(check.Id));
    expect((await client.send(new GetStatementResultCommand({ Id: check.Id }))).Records).toEqual([[{ longValue: 0 }]]);

    const two = await client.send(new ExecuteStatementCommand({ ...connection, Sql: 'SELECT 1; SELECT 2' }));
    expect(await settled(client, String(two.Id))).toMatchObject({
      Status: 'FAILED',
      Error: expect.stringMatching(/one statement per SQL string/),
    });
    const unbound = await client.send(new ExecuteStatementCommand({ ...connection, Sql: 'SELECT :missing' }));
    expect(await settled(client, String(unbound.Id))).toMatchObject({
      Error: 'ERROR: no value for parameter :missing',
    });
    client.destroy();
  });

  it('refuses ALTER COLUMN TYPE inside a batch, to anything but VARCHAR, and ALTER COLUMN … DROP NOT NULL, as Redshift does', async () => {
    const client = dataClient();
    const schema = schemaName();
    const run = async (sql: string) => {
      const { Id } = await client.send(new ExecuteStatementCommand({ ...connection, Sql: sql }));
      return settled(client, String(Id));
    };
    const t = `"${schema}".t`;
    expect((await run(`CREATE SCHEMA "${schema}"`)).Status).toBe('FINISHED');
    expect((await run(`CREATE TABLE ${t} (v VARCHAR(10), n INTEGER NOT NULL)`)).Status).toBe('FINISHED');
    const { Id } = await client.send(
      new BatchExecuteStatementCommand({ ...connection, Sqls: [`ALTER TABLE ${t} ALTER COLUMN v TYPE VARCHAR(20)`] }),
    );
    expect(await settled(client, String(Id))).toMatchObject({
      Status: 'FAILED',
      Error: 'ERROR: ALTER TABLE ALTER COLUMN cannot run inside a transaction block',
    });
    expect(await run(`ALTER TABLE ${t} ALTER COLUMN v TYPE VARCHAR(20)`)).toMatchObject({ Status: 'FINISHED' });
    expect(await run(`ALTER TABLE ${t} ALTER COLUMN n TYPE BIGINT`)).toMatchObject({
      Status: 'FAILED',
      Error: 'ERROR: ALTER TABLE ALTER COLUMN TYPE changes only the size of a VARCHAR column, not to BIGINT',
    });
    for (const clause of ['DROP NOT NULL', 'SET NOT NULL', 'SET DEFAULT 0']) {
      expect(await run(`ALTER TABLE ${t} ALTER COLUMN n ${clause}`)).toMatchObject({
        Status: 'FAILED',
        Error: expect.stringMatching(/^ERROR: ALTER TABLE ALTER COLUMN takes only TYPE or ENCODE on Redshift/),
      });
    }
    const check = await client.send(
      new ExecuteStatementCommand({
        ...connection,
        Sql: `SELECT format_type(atttypid, atttypmod) AS t, attnotnull AS nn FROM pg_attribute WHERE attrelid = '${t}'::regclass AND attnum > 0 ORDER BY attnum`,
      }),
    );
    await settled(client, String(check.Id));
    expect((await client.send(new GetStatementResultCommand({ Id: check.Id }))).Records).toEqual([
      [{ stringValue: 'character varying(20)' }, { booleanValue: false }],
      [{ stringValue: 'integer' }, { booleanValue: true }],
    ]);
    client.destroy();
  });

  it('translates VARBYTE, GETDATE and table attributes; leaves everything else to PostgreSQL', async () => {
    const client = dataClient();
    const schema = schemaName();
    const { Id } = await client.send(
      new BatchExecuteStatementCommand({
        ...connection,
        Sqls: [
          `CREATE SCHEMA "${schema}"`,
          `CREATE TABLE "${schema}".t (b VARBYTE(8), "diststyle" int) DISTSTYLE EVEN INTERLEAVED SORTKEY ("diststyle")`,
          `INSERT INTO "${schema}".t VALUES ('\\x00ff'::bytea, 1)`,
          `SELECT b, GETDATE() IS NOT NULL AS now_ok FROM "${schema}".t`,
        ],
      }),
    );
    const d = await settled(client, String(Id));
    expect(d.SubStatements?.map((s) => s.Status)).toEqual(['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED']);
    const r = await client.send(new GetStatementResultCommand({ Id: `${Id}:4` }));
    expect(r.Records).toEqual([[{ stringValue: '00ff' }, { booleanValue: true }]]);
    expect(r.ColumnMetadata?.[0]?.typeName).toBe('varbyte');
    const unknown = await client.send(
      new ExecuteStatementCommand({ ...connection, Sql: 'SELECT 1 FROM t DISTSTYLE EVEN' }),
    );
    expect((await settled(client, String(unknown.Id))).Error).toMatch(/^ERROR: syntax error at or near "EVEN"/);
    client.destroy();
  });

  it('COPY reads the manifest and Parquet from S3, counts with pg_last_copy_count(), and fails as Redshift would', async () => {
    const client = dataClient();
    const schema = schemaName();
    const f = await parquet('copy', `${personRow(1, 'a')} UNION ALL ${personRow(2, 'b')}`);
    const manifest = await writeManifest([f]);
    const copy = (table: string, cols: string, from = manifest) =>
      `COPY "${schema}".${table} (${cols}) FROM '${from}' IAM_ROLE '${ROLE_ARN}' FORMAT AS PARQUET MANIFEST`;
    const run = async (Sqls: string[]) => {
      const out = await client.send(new BatchExecuteStatementCommand({ ...connection, Sqls }));
      return { id: String(out.Id), d: await settled(client, String(out.Id)) };
    };
    const ok = await run([
      `CREATE SCHEMA "${schema}"`,
      `CREATE TABLE "${schema}".t (id INTEGER, name VARCHAR(10), updated_at TIMESTAMP)`,
      copy('t', 'id, name, updated_at'),
      'SELECT pg_last_copy_count() AS n',
    ]);
    expect(ok.d.Status).toBe('FINISHED');
    expect(ok.d.SubStatements?.[2]?.ResultRows).toBe(2);
    expect((await client.send(new GetStatementResultCommand({ Id: `${ok.id}:4` }))).Records).toEqual([
      [{ longValue: 2 }],
    ]);

    const noLength = await writeManifest([f]).then(async () =>
      putObject(`manifests/${unique('nolen')}.json`, JSON.stringify({ entries: [{ url: f, mandatory: true }] })),
    );
    const failures: [string[], RegExp][] = [
      [
        [`COPY "${schema}".t FROM '${f}' ACCESS_KEY_ID 'AKIA' SECRET_ACCESS_KEY 'x' FORMAT AS PARQUET`],
        /the stand-in understands only COPY <table> \(<columns>\)/,
      ],
      [
        [`CREATE TABLE "${schema}".one (id INTEGER)`, copy('one', 'id')],
        /has 3 columns but the COPY column list names 1/,
      ],
      [
        [
          `CREATE TABLE "${schema}".d (id DATE, name VARCHAR(10), updated_at TIMESTAMP)`,
          copy('d', 'id, name, updated_at'),
        ],
        /incompatible Parquet schema for column 'id' in .*: column 'id' has type INTEGER, the table column is date/,
      ],
      [[copy('t', 'id, name, updated_at', noLength)], /meta\.content_length is required for columnar formats/],
      [
        [copy('t', 'id, name, updated_at', `s3://${BUCKET}/manifests/none.json`)],
        /^ERROR: Problem reading manifest file/,
      ],
      [[copy('t', 'id, nope, updated_at')], /column "nope" of relation "\w+"\.t does not exist/],
    ];
    for (const [sqls, message] of failures) {
      const { d } = await run(sqls);
      expect(d.Status, sqls.join('; ')).toBe('FAILED');
      expect(d.Error).toMatch(message);
    }
    const count = await client.send(
      new ExecuteStatementCommand({ ...connection, Sql: `SELECT COUNT(*) AS n FROM "${schema}".t` }),
    );
    await settled(client, String(count.Id));
    expect((await client.send(new GetStatementResultCommand({ Id: count.Id }))).Records).toEqual([[{ longValue: 2 }]]);
    client.destroy();
  });
});

describe('Redshift warehouse: an insert that lands fewer rows than staged keys', () => {
  it('fails the load with CountMismatchError after the batch (committed: the re-run merge repairs it)', async () => {
    const wh = withManifests(openRaw());
    const schema = schemaName();
    await wh.load(request(schema, 'people', [await parquet('t1', personRow(2, 'b'))], 1));
    // Redshift has no triggers; here one makes the INSERT drop odd ids, so the insert count disagrees for real.
    const admin = new pg.Client({ connectionString: pgServer.connectionString });
    await admin.connect();
    try {
      await admin.query(`CREATE FUNCTION "${schema}".skip_odd() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN IF NEW.id % 2 = 1 THEN RETURN NULL; END IF; RETURN NEW; END $$`);
      await admin.query(
        `CREATE TRIGGER skip_odd BEFORE INSERT ON "${schema}".people FOR EACH ROW EXECUTE FUNCTION "${schema}".skip_odd()`,
      );
    } finally {
      await admin.end();
    }
    const f = await parquet('t2', `${personRow(3, 'c')} UNION ALL ${personRow(4, 'd')}`);
    const err = await wh.load(request(schema, 'people', [f], 2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CountMismatchError);
    expect((err as Error).message).toContain(`load of ${schema}.people: inserted 1 rows but staged 2 distinct keys`);
    expect(await wh.count({ schema, name: 'people' })).toBe(2);
    await wh.close();
  });
});

/** A hand-written fake Data API that answers each call from a script, to drive what the real service rarely does. */
async function scriptedDataApi(
  answer: (operation: string, body: Record<string, unknown>) => { status?: number; body: Record<string, unknown> },
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').replace('RedshiftData.', '');
      const out = answer(op, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      res.writeHead(out.status ?? 200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('Redshift warehouse against a scripted fake Data API (hand-written, not the stand-in)', () => {
  const openOn = (endpoint: string, extra: Partial<RedshiftWarehouseOptions> = {}) =>
    createRedshiftWarehouse({
      database: 'dev',
      workgroupName: 'w',
      iamRoleArn: ROLE_ARN,
      client: new RedshiftDataClient({
        endpoint,
        region: 'us-east-1',
        credentials: DATA_API_CREDENTIALS,
        maxAttempts: 1,
      }),
      pollIntervalMs: 5,
      ...extra,
    });
  const finished = (id: string, extra: Record<string, unknown> = {}) => ({
    body: { Id: id, Status: 'FINISHED', HasResultSet: true, ...extra },
  });

  it('a missing statement id, an abort without a message, and a failed cancel are WarehouseErrors that say so', async () => {
    let mode: 'no-id' | 'aborted' | 'stuck' = 'no-id';
    const fake = await scriptedDataApi((op) => {
      if (op === 'ExecuteStatement') return { body: mode === 'no-id' ? {} : { Id: 's1' } };
      if (op === 'DescribeStatement') return { body: { Id: 's1', Status: mode === 'aborted' ? 'ABORTED' : 'STARTED' } };
      return {
        status: 400,
        body: { __type: 'ValidationException', Message: 'Could not cancel a query that is already in FINISHED state.' },
      };
    });
    const wh = openOn(fake.endpoint, { statementTimeoutMs: 50, cancelMarginMs: 50 });
    try {
      await expect(wh.query('SELECT 1')).rejects.toThrow(
        'Redshift failed running a query: the Data API returned no statement id',
      );
      mode = 'aborted';
      await expect(wh.query('SELECT 1')).rejects.toThrow('SELECT 1 failed: statement aborted without an error message');
      mode = 'stuck';
      await expect(wh.query('SELECT 1')).rejects.toThrow(
        /did not finish within the statement timeout of 50 ms; statement s1 was cancelled but had not ended when the wait had to stop, so it may still commit/,
      );
    } finally {
      await wh.close();
      await fake.stop();
    }
  });

  it('refuses counts that are not counts, and a batch that reports no row count', async () => {
    let counts: unknown[] = [{ stringValue: 'many' }, { longValue: 1 }];
    const fake = await scriptedDataApi((op, body) => {
      const id = String(body.Id ?? '');
      if (op === 'ExecuteStatement') return { body: { Id: 'exists' } };
      if (op === 'BatchExecuteStatement')
        return { body: { Id: (body.Sqls as string[])[0]?.startsWith('CREATE SCHEMA') ? 'stage' : 'apply' } };
      if (op === 'DescribeStatement')
        return id === 'apply' ? finished(id, { SubStatements: [{ Id: 'apply:1', Status: 'FINISHED' }] }) : finished(id);
      if (op === 'GetStatementResult')
        return { body: { Records: id === 'stage:3' ? [counts] : [], ColumnMetadata: [] } };
      return { status: 400, body: { __type: 'ValidationException', Message: 'unexpected' } };
    });
    const wh = openOn(fake.endpoint);
    const req = { ...request('s', 't', [], 1), mode: 'append' as const, primaryKey: [], cursorColumns: [] };
    try {
      await expect(wh.load(req)).rejects.toThrow(
        'Redshift failed loading s.t: expected a row count for staged rows, got "many"',
      );
      counts = [{ longValue: 1 }, { longValue: 1 }];
      await expect(wh.load(req)).rejects.toThrow('the Data API reported no row count for the insert (statement 2)');
    } finally {
      await wh.close();
      await fake.stop();
    }
  });
});

// Runs last (tests in a file run in order): looks at every SQL text the stand-in received from this file.
describe('Redshift warehouse: no credentials in SQL', () => {
  it('never puts credentials into SQL; COPY names only the manifest and the role, and every call carries the connection', () => {
    const secrets = [
      FAUXQS_CREDENTIALS.accessKeyId,
      FAUXQS_CREDENTIALS.secretAccessKey,
      DATA_API_CREDENTIALS.accessKeyId,
      DATA_API_CREDENTIALS.secretAccessKey,
    ];
    const adapterSql = standin.requests
      .filter(
        (r) =>
          (r.operation === 'ExecuteStatement' || r.operation === 'BatchExecuteStatement') &&
          r.body.SecretArn === SECRET_ARN,
      )
      .flatMap((r) => (Array.isArray(r.body.Sqls) ? r.body.Sqls.map(String) : [String(r.body.Sql)]));
    expect(adapterSql.length).toBeGreaterThan(100);
    for (const sql of adapterSql) {
      expect(sql).not.toMatch(/ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|CREDENTIALS|aws_access_key|aws_secret/i);
      for (const secret of secrets) expect(sql).not.toContain(secret);
    }
    const copies = adapterSql.filter((s) => s.startsWith('COPY '));
    expect(copies.length).toBeGreaterThan(10);
    for (const copy of copies) {
      expect(copy).toMatch(
        /^COPY "[^"]+"\."[^"]+__hw_stage_[0-9a-z]{12}" \("[^)]+"\) FROM 's3:\/\/hw-redshift-standin\/manifests\/[0-9a-f]{8}-manifest\.json' IAM_ROLE 'arn:aws:iam::123456789012:role\/highwater-copy' FORMAT AS PARQUET MANIFEST$/,
      );
    }
    for (const r of standin.requests.filter((x) => x.body.SecretArn === SECRET_ARN)) {
      expect(r.body).toMatchObject({ Database: 'postgres', WorkgroupName: 'hw-test' });
    }
  });
});
