/** Reads a table's shape from INFORMATION_SCHEMA into the engine's TableSchema (bound parameters only). */
import { z } from 'zod';
import type { SourceColumn, TableSchema } from '../../engine/model.js';
import { DataError } from '../../runtime/errors.js';

export type RunQuery = <T extends Record<string, unknown>>(sql: string, params: readonly unknown[]) => Promise<T[]>;

const nullableNumber = z.union([z.number(), z.string(), z.null()]).transform((v) => (v === null ? null : Number(v)));

const ColumnRow = z.object({
  name: z.string(),
  dataType: z.string(),
  columnType: z.string(),
  isNullable: z.string(),
  charMaxLength: nullableNumber,
  numericPrecision: nullableNumber,
  numericScale: nullableNumber,
  ordinal: z.union([z.number(), z.string()]).transform(Number),
});

const NameRow = z.object({ name: z.string() });
const CheckRow = z.object({ clause: z.string() });

const COLUMNS_SQL = `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType,
  IS_NULLABLE AS isNullable, CHARACTER_MAXIMUM_LENGTH AS charMaxLength, NUMERIC_PRECISION AS numericPrecision,
  NUMERIC_SCALE AS numericScale, ORDINAL_POSITION AS ordinal
FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`;

const PK_SQL = `SELECT COLUMN_NAME AS name FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`;

// MariaDB stores JSON as LONGTEXT plus an automatic CHECK (json_valid(`col`)); MySQL's table lacks TABLE_NAME.
const CHECKS_SQL = `SELECT CHECK_CLAUSE AS clause FROM INFORMATION_SCHEMA.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`;

const JSON_CHECK_RE = /^json_valid\(`((?:[^`]|``)+)`\)$/i;

async function mariaDbJsonColumns(run: RunQuery, schema: string, table: string): Promise<Set<string>> {
  let rows: Record<string, unknown>[];
  try {
    rows = await run(CHECKS_SQL, [schema, table]);
  } catch {
    return new Set(); // MySQL (no TABLE_NAME column) or a server without CHECK_CONSTRAINTS: JSON is native there.
  }
  const names = new Set<string>();
  for (const r of rows) {
    const m = JSON_CHECK_RE.exec(CheckRow.parse(r).clause.trim());
    if (m) names.add(m[1]!.replace(/``/g, '`'));
  }
  return names;
}

export async function describeTable(run: RunQuery, schema: string, table: string): Promise<TableSchema> {
  const rows = (await run(COLUMNS_SQL, [schema, table])).map((r) => ColumnRow.parse(r));
  if (rows.length === 0) {
    throw new DataError(`table ${schema}.${table} does not exist or has no columns this user can see`, {
      suggestion: 'Check the schema and table name and the source user’s grants.',
    });
  }
  const json = rows.some((r) => r.dataType.toLowerCase() === 'longtext')
    ? await mariaDbJsonColumns(run, schema, table)
    : new Set<string>();
  const columns: SourceColumn[] = rows.map((r) => {
    const isJson = json.has(r.name);
    return {
      name: r.name,
      dataType: isJson ? 'json' : r.dataType.toLowerCase(),
      columnType: isJson ? 'json' : r.columnType.toLowerCase(),
      nullable: r.isNullable.toUpperCase() === 'YES',
      charMaxLength: r.charMaxLength,
      numericPrecision: r.numericPrecision,
      numericScale: r.numericScale,
      ordinal: r.ordinal,
    };
  });
  const primaryKey = (await run(PK_SQL, [schema, table])).map((r) => NameRow.parse(r).name);
  return { schema, table, columns, primaryKey };
}
