/** Reads a table's shape from INFORMATION_SCHEMA into the engine's TableSchema (bound parameters only). */
import { z } from 'zod';
import type { SourceColumn, TableSchema } from '../../domain/model.js';
import { ConfigError } from '../../errors.js';

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
    // A name in the configuration (or -t) that the source does not have: a configuration mistake (exit 1).
    throw new ConfigError(`table ${schema}.${table} does not exist or has no columns this user can see`, {
      suggestion: 'Check the schema and table name (-t, or the pipeline YAML) and the source user’s grants.',
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

// ── The result columns of a query (custom_sql: the query's own select list defines the columns) ─────────────────

/** A column definition as the server sends it for a prepared statement (mysql2's FieldPacket). */
const FieldSchema = z.object({
  name: z.string(),
  orgName: z.string().optional().default(''),
  orgTable: z.string().optional().default(''),
  db: z.string().optional().default(''),
  columnType: z.number(),
  columnLength: z.number(),
  decimals: z.number(),
  flags: z.number(),
  characterSet: z.number(),
});
type Field = z.output<typeof FieldSchema>;

const NOT_NULL = 1;
const UNSIGNED = 32;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
const BINARY_CHARSET = 63;

/** Bytes per character of a character set id (utf8mb4 unless known narrower, so lengths never come out short). */
function bytesPerChar(charset: number): number {
  if (charset === 8 || charset === 47 || charset === 48 || charset === 5 || charset === 15) return 1; // latin1
  if (charset === 33 || charset === 83 || (charset >= 192 && charset <= 215)) return 3; // utf8mb3
  return 4;
}

/** A SourceColumn for an expression the server typed itself (no table column behind it). */
function fromField(f: Field, ordinal: number): SourceColumn {
  const unsigned = (f.flags & UNSIGNED) !== 0 ? ' unsigned' : '';
  const binary = f.characterSet === BINARY_CHARSET;
  const chars = Math.max(1, Math.ceil(f.columnLength / bytesPerChar(f.characterSet)));
  const col = (dataType: string, columnType: string, extra: Partial<SourceColumn> = {}): SourceColumn => ({
    name: f.name,
    dataType,
    columnType,
    nullable: (f.flags & NOT_NULL) === 0,
    charMaxLength: null,
    numericPrecision: null,
    numericScale: null,
    ordinal,
    ...extra,
  });
  switch (f.columnType) {
    case 0:
    case 246: {
      const scale = f.decimals;
      const precision = Math.max(1, f.columnLength - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1));
      return col('decimal', `decimal(${precision},${scale})${unsigned}`, {
        numericPrecision: precision,
        numericScale: scale,
      });
    }
    case 1:
      return col('tinyint', `tinyint(${f.columnLength})${unsigned}`);
    case 2:
      return col('smallint', `smallint${unsigned}`);
    case 9:
      return col('mediumint', `mediumint${unsigned}`);
    case 3:
      return col('int', `int${unsigned}`);
    case 8:
      return col('bigint', `bigint${unsigned}`);
    case 4:
      return col('float', 'float');
    case 5:
      return col('double', 'double');
    case 7:
      return col('timestamp', f.decimals > 0 ? `timestamp(${f.decimals})` : 'timestamp');
    case 12:
      return col('datetime', f.decimals > 0 ? `datetime(${f.decimals})` : 'datetime');
    case 10:
    case 14:
      return col('date', 'date');
    case 11:
      return col('time', 'time');
    case 13:
      return col('year', 'year');
    case 16:
      return col('bit', `bit(${f.columnLength})`);
    case 245:
      return col('json', 'json');
    case 6:
      return col('varchar', 'varchar(1)', { charMaxLength: 1 });
    case 249:
    case 250:
    case 251:
    case 252:
      return binary
        ? col('longblob', 'longblob', { charMaxLength: f.columnLength })
        : col('longtext', 'longtext', { charMaxLength: chars });
    case 254:
      if ((f.flags & (ENUM_FLAG | SET_FLAG)) !== 0)
        return col('varchar', `varchar(${chars})`, { charMaxLength: chars });
      return binary
        ? col('binary', `binary(${f.columnLength})`, { charMaxLength: f.columnLength })
        : col('char', `char(${chars})`, { charMaxLength: chars });
    case 15:
    case 253:
    case 247:
    case 248:
      return binary
        ? col('varbinary', `varbinary(${f.columnLength})`, { charMaxLength: f.columnLength })
        : col('varchar', `varchar(${chars})`, { charMaxLength: chars });
    default:
      return col('unknown', `type code ${f.columnType}`);
  }
}

export type PrepareQuery = (sql: string) => Promise<unknown[]>;

/**
 * The result columns of `sql`, in order, named as the query names them. A column that is a table column (the
 * server reports its database, table and original name) takes that column's exact INFORMATION_SCHEMA definition
 * — ENUMs, JSON, TINYINT(1) and unsigned widths as the table declares them; an expression takes the type the server
 * gives it. `prepare` returns the column definitions of a prepared statement without running it.
 */
export async function describeQuery(run: RunQuery, prepare: PrepareQuery, sql: string): Promise<SourceColumn[]> {
  const fields = (await prepare(sql)).map((f) => FieldSchema.parse(f));
  const tables = new Map<string, TableSchema>();
  const out: SourceColumn[] = [];
  for (const [i, f] of fields.entries()) {
    let declared: SourceColumn | undefined;
    if (f.db !== '' && f.orgTable !== '' && f.orgName !== '') {
      const key = `${f.db}.${f.orgTable}`;
      let schema = tables.get(key);
      if (!schema) {
        schema = await describeTable(run, f.db, f.orgTable).catch(() => undefined);
        if (schema) tables.set(key, schema);
      }
      declared = schema?.columns.find((c) => c.name === f.orgName);
    }
    out.push(declared ? { ...declared, name: f.name, ordinal: i + 1 } : fromField(f, i + 1));
  }
  return out;
}
