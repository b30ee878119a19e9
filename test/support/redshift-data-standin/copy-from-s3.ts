/**
 * COPY … FROM '<manifest>' FORMAT AS PARQUET MANIFEST, done the long way: read the manifest and every Parquet file
 * it lists from the S3 stand-in, decode with DuckDB, and INSERT the rows through the statement's own PostgreSQL
 * session (so the COPY is part of its transaction). Like Redshift, Parquet columns map to the column list by
 * position, and the COPY fails if a file's column count or a column's type does not fit.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DuckDBInstance } from '@duckdb/node-api';
import type pg from 'pg';
import { z } from 'zod';
import { type CopyCommand, RedshiftSqlError } from './translate.js';

const ManifestSchema = z.object({
  entries: z.array(
    z.object({
      url: z.string(),
      mandatory: z.boolean().optional(),
      meta: z.object({ content_length: z.number().int().nonnegative() }).optional(),
    }),
  ),
});

function parseS3Url(url: string): { Bucket: string; Key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m?.[1] || !m[2]) throw new RedshiftSqlError(`${url} is not an s3:// URL`);
  return { Bucket: m[1], Key: m[2] };
}

function isNotFound(e: unknown): boolean {
  return e instanceof Error && (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.name === 'NoSuchBucket');
}

async function getObject(s3: S3Client, url: string): Promise<Uint8Array | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand(parseS3Url(url)));
    return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Parquet (as DuckDB reads it) → PostgreSQL/Redshift column type families that COPY accepts. */
function compatible(parquetType: string, columnType: string): boolean {
  const p = parquetType.toUpperCase();
  const c = columnType.toLowerCase();
  const isInt = /^(smallint|integer|bigint)$/.test(c);
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(p)) return isInt || c.startsWith('numeric');
  if (p.startsWith('DECIMAL')) return c.startsWith('numeric');
  if (p === 'FLOAT' || p === 'DOUBLE') return c === 'real' || c === 'double precision';
  if (p === 'VARCHAR' || p === 'JSON') return /^(character varying|character|text)\b/.test(c);
  if (p === 'BLOB') return c === 'varbyte' || c === 'bytea';
  if (p === 'BOOLEAN') return c === 'boolean';
  if (p === 'DATE') return c === 'date';
  if (p.startsWith('TIMESTAMP')) return c.startsWith('timestamp');
  return false;
}

/** The DuckDB expression that prints a value the way PostgreSQL reads it back exactly. */
function textExpression(name: string, parquetType: string): string {
  const q = `"${name.replace(/"/g, '""')}"`;
  if (parquetType.toUpperCase() === 'BLOB') return `'\\x' || hex(${q})`;
  return `CAST(${q} AS VARCHAR)`;
}

async function targetColumns(client: pg.Client, copy: CopyCommand): Promise<string[]> {
  const res = await client.query<{ attname: string; type: string }>(
    `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [copy.tableSql],
  );
  if (res.rows.length === 0) throw new RedshiftSqlError(`relation ${copy.tableSql} does not exist`);
  const types = new Map(res.rows.map((r) => [r.attname, r.type]));
  return copy.columns.map((c) => {
    const t = types.get(c.name);
    if (t === undefined) throw new RedshiftSqlError(`column "${c.name}" of relation ${copy.tableSql} does not exist`);
    return t;
  });
}

async function insertRows(client: pg.Client, copy: CopyCommand, rows: (string | null)[][]): Promise<void> {
  const width = copy.columns.length;
  const perStatement = Math.max(1, Math.min(1000, Math.floor(60_000 / width)));
  const cols = copy.columns.map((c) => c.sql).join(', ');
  for (let start = 0; start < rows.length; start += perStatement) {
    const slice = rows.slice(start, start + perStatement);
    const tuples = slice.map((_, r) => `(${copy.columns.map((_c, i) => `$${r * width + i + 1}`).join(', ')})`);
    await client.query(`INSERT INTO ${copy.tableSql} (${cols}) VALUES ${tuples.join(', ')}`, slice.flat());
  }
}

/** Loads every file the manifest lists; returns the row count (the session's pg_last_copy_count()). */
export async function copyFromS3(
  client: pg.Client,
  copy: CopyCommand,
  s3: S3Client,
  duckdb: DuckDBInstance,
): Promise<number> {
  const columnTypes = await targetColumns(client, copy);
  const manifestBytes = await getObject(s3, copy.manifest);
  if (manifestBytes === undefined) {
    throw new RedshiftSqlError(
      `Problem reading manifest file - S3ServiceException:The specified key does not exist.,Status 404,Error NoSuchKey (${copy.manifest})`,
    );
  }
  const parsed = ManifestSchema.safeParse(JSON.parse(Buffer.from(manifestBytes).toString('utf8')));
  if (!parsed.success)
    throw new RedshiftSqlError(`Manifest file ${copy.manifest} is not valid: ${parsed.error.message}`);

  const dir = await mkdtemp(join(tmpdir(), 'hw-standin-copy-'));
  const conn = await duckdb.connect();
  let total = 0;
  try {
    await conn.run("SET TimeZone = 'UTC'");
    for (const [n, entry] of parsed.data.entries.entries()) {
      if (entry.meta === undefined) {
        throw new RedshiftSqlError(`manifest entry ${entry.url}: meta.content_length is required for columnar formats`);
      }
      const bytes = await getObject(s3, entry.url);
      if (bytes === undefined) {
        if (entry.mandatory === false) continue;
        throw new RedshiftSqlError(`S3 object listed as mandatory in the manifest does not exist: ${entry.url}`);
      }
      if (bytes.length !== entry.meta.content_length) {
        throw new RedshiftSqlError(
          `manifest entry ${entry.url}: content_length ${entry.meta.content_length} does not match the object's ${bytes.length} bytes`,
        );
      }
      const path = join(dir, `${n}.parquet`);
      await writeFile(path, bytes);
      const source = `read_parquet('${path.replace(/'/g, "''")}')`;
      let schema: [string, string][];
      try {
        schema = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`))
          .getRows()
          .map((r) => [String(r[0]), String(r[1])]);
      } catch (e) {
        throw new RedshiftSqlError(
          `File ${entry.url} is not a valid Parquet file: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      if (schema.length !== copy.columns.length) {
        throw new RedshiftSqlError(
          `Spectrum Scan Error: ${entry.url} has ${schema.length} columns but the COPY column list names ${copy.columns.length}`,
        );
      }
      schema.forEach(([name, type], i) => {
        const target = columnTypes[i] ?? '';
        if (!compatible(type, target)) {
          throw new RedshiftSqlError(
            `Spectrum Scan Error: incompatible Parquet schema for column '${copy.columns[i]?.name}' in ${entry.url}: column '${name}' has type ${type}, the table column is ${target}`,
          );
        }
      });
      const select = schema.map(([name, type]) => textExpression(name, type)).join(', ');
      const rows = (await conn.runAndReadAll(`SELECT ${select} FROM ${source}`))
        .getRows()
        .map((r) => r.map((v) => (v === null ? null : String(v))));
      await insertRows(client, copy, rows);
      total += rows.length;
    }
  } finally {
    conn.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
  return total;
}
