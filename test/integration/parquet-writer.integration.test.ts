/**
 * MariaDB table with every MySQL type → createMysqlSource().stream → writeParquet → a file, read back with DuckDB
 * and compared value by value with the source.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMysqlSource } from '../../lambdas/adapters/mysql/index.js';
import { encoderPool } from '../../lambdas/adapters/parquet/encoder.js';
import { writeParquet } from '../../lambdas/adapters/parquet/index.js';
import type { MappedColumn } from '../../lambdas/domain/model.js';
import { mapColumn, mapColumns, selectExpression } from '../../lambdas/engine/type-map.js';
import { DataError, StagingError } from '../../lambdas/errors.js';
import type { SourceReader } from '../../lambdas/ports/index.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
let source: SourceReader;
let dir: string;
let duck: Awaited<ReturnType<DuckDBInstance['connect']>>;

const EVERY_TYPE = `
CREATE TABLE every_type (
  id INT NOT NULL PRIMARY KEY,
  b1 TINYINT(1) NULL, ti TINYINT NULL, tiu TINYINT UNSIGNED NULL,
  si SMALLINT NULL, siu SMALLINT UNSIGNED NULL, mi MEDIUMINT NULL, miu MEDIUMINT UNSIGNED NULL,
  i INT NULL, iu INT UNSIGNED NULL, bi BIGINT NULL, biu BIGINT UNSIGNED NULL,
  d38 DECIMAL(38,10) NULL, d15 DECIMAL(15,4) NULL, f FLOAT NULL, dbl DOUBLE NULL,
  bit1 BIT(1) NULL, bit12 BIT(12) NULL,
  dt DATE NULL, dtm DATETIME NULL, dtm6 DATETIME(6) NULL,
  ts TIMESTAMP NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  tm TIME(6) NULL, yr YEAR NULL,
  ch CHAR(10) NULL, vc VARCHAR(100) NULL, tx TEXT NULL, mtx MEDIUMTEXT NULL,
  en ENUM('small','medium','large') NULL, st SET('a','b','c') NULL, js JSON NULL,
  bl BLOB NULL, vb VARBINARY(20) NULL, bn BINARY(4) NULL,
  \`order\` INT NULL, \`select\` VARCHAR(10) NULL, \`1st_col\` INT NULL, MixedCase INT NULL,
  dnn DATETIME NOT NULL
)`;

const COLS =
  'id,b1,ti,tiu,si,siu,mi,miu,i,iu,bi,biu,d38,d15,f,dbl,bit1,bit12,dt,dtm,dtm6,ts,ts6,tm,yr,ch,vc,tx,mtx,en,st,js,bl,vb,bn,`order`,`select`,`1st_col`,MixedCase,dnn';

const ROWS = [
  // 1: minimum values
  `(1, 0, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
    '-9999999999999999999999999999.9999999999', '-99999999999.9999', -1.5, -1.7976931348623157e308,
    b'0', b'0', '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000000',
    '1970-01-01 00:00:01', '1970-01-01 00:00:01.000001', '-838:59:59.000000', 1901,
    '', '', '', '', 'small', '', '{}', '', '', x'00000000', -1, '', 0, -5, '1000-01-01 00:00:00')`,
  // 2: maximum values, 4-byte UTF-8
  `(2, 1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807,
    18446744073709551615, '9999999999999999999999999999.9999999999', '99999999999.9999', 3.25, 1.7976931348623157e308,
    b'1', b'111111111111', '9999-12-31', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999999',
    '2038-01-19 03:14:07', '2038-01-19 03:14:07.999999', '838:59:59.000000', 2155,
    'abcdefghij', 'emoji 😀 and 漢字 and ü', 'text with 🚀 rocket', REPEAT('m', 70000), 'large', 'a,b,c',
    '{"k":[1,2,{"x":"ü😀"}],"n":null}', x'00ff10807f', x'deadbeef00', x'deadbeef', 2147483647, 'x', 1, 2,
    '9999-12-31 23:59:59')`,
  // 3: NULL everywhere it is allowed (the NOT NULL datetime holds a zero date)
  `(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, '0000-00-00 00:00:00')`,
  // 4: zero dates
  `(4, 1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, '-0.0000000001', '-0.0001', 0.1, 0.1, b'1', b'101',
    '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00',
    '0000-00-00 00:00:00.000000', '00:00:00.5', 0, 'a', 'b', 'c', 'd', 'medium', 'b', '[]', x'01', x'02',
    x'03040506', 3, 'sel', 3, 4, '0000-00-00 00:00:00')`,
  // 5: zero month / zero day, pre-1970 and fractional values
  `(5, 0, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, '12345678901234567890.0123456789', '-12345.6789', -0.25, 2.5e-300,
    b'0', b'100000000000', '2024-00-15', '2024-05-00 10:00:00', '1969-12-31 23:59:59.999999',
    '2024-02-29 12:34:56', '1999-12-31 23:59:59.5', '-00:00:01.250000', 1999, ' padded', 'trailing  ',
    'multi\nline', 'tab\tsep', NULL, 'a,c', '"just a string"', x'', x'', x'00000000', 0, 'ä', 10, 11,
    '1969-07-20 20:17:40')`,
];

beforeAll(async () => {
  db = await createTestDatabase('pq');
  await db.conn.query("SET SESSION sql_mode = '', time_zone = '+00:00'");
  await db.conn.query(EVERY_TYPE);
  await db.conn.query(`INSERT INTO every_type (${COLS}) VALUES ${ROWS.join(',\n')}`);
  source = createMysqlSource({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
  });
  dir = await mkdtemp(join(tmpdir(), 'hw-pq-'));
  duck = await (await DuckDBInstance.create(':memory:')).connect();
});

afterAll(async () => {
  await source?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function extract(
  table: string,
  file: string,
  opts: { rowGroupRows?: number; where?: string; packed?: boolean } = {},
) {
  const schema = await source.describeTable(db.database, table);
  const columns = mapColumns(`${db.database}.${table}`, schema.columns);
  const sql = `SELECT ${columns.map(selectExpression).join(', ')} FROM \`${table}\` ${opts.where ?? ''} ORDER BY 1`;
  // The extract reads packed rows (one object per row); the array form is what other readers get.
  const rows = opts.packed ? source.streamPacked!(sql) : source.stream(sql);
  const result = await writeParquet(rows, columns, createWriteStream(file), {
    ...(opts.rowGroupRows === undefined ? {} : { rowGroupRows: opts.rowGroupRows }),
  });
  return { columns, result };
}

async function duckRows(sql: string, file: string): Promise<Record<string, unknown>[]> {
  const r = await duck.runAndReadAll(sql.replaceAll('$FILE', `'${file.replaceAll("'", "''")}'`));
  return r.getRowObjectsJson() as Record<string, unknown>[];
}

async function mysqlRows(sql: string): Promise<Record<string, unknown>[]> {
  const [rows] = await db.conn.query(sql);
  return rows as Record<string, unknown>[];
}

type Kind = 'text' | 'int' | 'float32' | 'float64' | 'date';
interface Check {
  /** Target (Parquet) column name. */
  target: string;
  mysql: string;
  duck: string;
  kind: Kind;
}

const FMT_MYSQL = "'%Y-%m-%d %H:%i:%s.%f'";
const FMT_DUCK = "'%Y-%m-%d %H:%M:%S.%f'";
const asText = (c: string): Check => ({
  target: c,
  mysql: `CAST(\`${c}\` AS CHAR)`,
  duck: `"${c}"::VARCHAR`,
  kind: 'text',
});
const CHECKS: Check[] = [
  { target: 'b1', mysql: "IF(b1 IS NULL, NULL, IF(b1 <> 0, 'true', 'false'))", duck: 'b1::VARCHAR', kind: 'text' },
  ...['ti', 'tiu', 'si', 'siu', 'mi', 'miu', 'i', 'iu', 'bi', 'biu', 'd38', 'd15'].map(asText),
  { target: 'yr', mysql: 'CAST(yr AS CHAR)', duck: 'yr::VARCHAR', kind: 'int' },
  { target: 'f', mysql: 'CAST(f AS CHAR)', duck: 'f::DOUBLE', kind: 'float32' },
  { target: 'dbl', mysql: 'CAST(dbl AS CHAR)', duck: 'dbl', kind: 'float64' },
  {
    target: 'bit1',
    mysql: "IF(bit1 IS NULL, NULL, IF(bit1 + 0 = 1, 'true', 'false'))",
    duck: 'bit1::VARCHAR',
    kind: 'text',
  },
  { target: 'bit12', mysql: 'CAST(bit12 + 0 AS CHAR)', duck: 'bit12::VARCHAR', kind: 'text' },
  { target: 'dt', mysql: 'CAST(dt AS CHAR)', duck: 'dt::VARCHAR', kind: 'date' },
  ...['dtm', 'dtm6', 'dnn'].map(
    (c): Check => ({ target: c, mysql: `CAST(${c} AS CHAR)`, duck: `strftime(${c}, ${FMT_DUCK})`, kind: 'date' }),
  ),
  ...['ts', 'ts6'].map(
    (c): Check => ({
      target: c,
      mysql: `IF(${c} = 0, NULL, DATE_FORMAT(${c}, ${FMT_MYSQL}))`,
      duck: `strftime(make_timestamp(epoch_us(${c})), ${FMT_DUCK})`,
      kind: 'text',
    }),
  ),
  ...['tm', 'ch', 'vc', 'tx', 'mtx', 'en', 'st', 'js', 'order', 'select'].map(asText),
  ...['bl', 'vb', 'bn'].map((c): Check => ({ target: c, mysql: `HEX(${c})`, duck: `hex(${c})`, kind: 'text' })),
  { target: 'col_1st_col', mysql: 'CAST(`1st_col` AS CHAR)', duck: 'col_1st_col::VARCHAR', kind: 'text' },
  { target: 'mixedcase', mysql: 'CAST(MixedCase AS CHAR)', duck: 'mixedcase::VARCHAR', kind: 'text' },
];

/** What the Parquet value must be, from MySQL's text. Zero dates and zero month/day become NULL. */
function expected(kind: Kind, v: unknown): unknown {
  if (v === null) return null;
  const s = String(v);
  switch (kind) {
    case 'text':
      return s;
    case 'int':
      return String(Number(s)); // YEAR 0000 is the number 0
    case 'float32':
      return Math.fround(Number(s));
    case 'float64':
      return Number(s);
    case 'date': {
      if (/^\d{4}-00-|^\d{4}-\d\d-00/.test(s)) return null;
      // Format like DuckDB's strftime with %f (always 6 fraction digits) for DATETIME columns.
      if (s.length === 10) return s;
      const [whole, frac = ''] = s.split('.');
      return `${whole}.${frac.padEnd(6, '0')}`;
    }
  }
}

describe.each([
  ['one Buffer per value', false],
  ['packed rows', true],
] as const)('every MySQL type, value by value (%s)', (_form, packed) => {
  let file: string;
  let columns: MappedColumn[];

  beforeAll(async () => {
    file = join(dir, `every-type-${packed ? 'packed' : 'values'}.parquet`);
    const out = await extract('every_type', file, { packed });
    columns = out.columns;
    expect(out.result.rows).toBe(ROWS.length);
    expect(out.result.bytes).toBe((await stat(file)).size);
  });

  test('the Parquet columns are the target names, in order', async () => {
    const names = (await duckRows("SELECT name FROM parquet_schema($FILE) WHERE name <> 'arrow_schema'", file)).map(
      (r) => r.name,
    );
    expect(names).toEqual(columns.map((c) => c.target));
    expect(names).toContain('order');
    expect(names).toContain('col_1st_col');
  });

  test.each(CHECKS.map((c) => [c.target, c] as const))('%s', async (_name, check) => {
    const src = await mysqlRows(`SELECT id, ${check.mysql} AS v FROM every_type ORDER BY id`);
    const got = await duckRows(`SELECT id, ${check.duck} AS v FROM read_parquet($FILE) ORDER BY id`, file);
    expect(got.map((r) => [Number(r.id), r.v])).toEqual(src.map((r) => [Number(r.id), expected(check.kind, r.v)]));
  });

  test('spot checks of exact values', async () => {
    const got = await duckRows(
      `SELECT id, d38::VARCHAR d38, biu::VARCHAR biu, bi::VARCHAR bi, strftime(dtm6, ${FMT_DUCK}) dtm6,
        epoch_us(ts6)::VARCHAR ts6, vc, hex(bl) bl, dnn FROM read_parquet($FILE) ORDER BY id`,
      file,
    );
    expect(got[0]).toMatchObject({ d38: '-9999999999999999999999999999.9999999999', bi: '-9223372036854775808' });
    expect(got[1]).toMatchObject({
      d38: '9999999999999999999999999999.9999999999',
      biu: '18446744073709551615',
      bi: '9223372036854775807',
      dtm6: '9999-12-31 23:59:59.999999',
      ts6: '2147483647999999',
      vc: 'emoji 😀 and 漢字 and ü',
      bl: '00FF10807F',
    });
    expect(got[2]).toMatchObject({ d38: null, vc: null, dnn: null });
    expect(got[3]).toMatchObject({ d38: '-0.0000000001', dtm6: null, ts6: null });
    expect(got[4]).toMatchObject({ dtm6: '1969-12-31 23:59:59.999999', ts6: '946684799500000' });
  });

  test('Parquet schema: exact decimals, timestamp UTC flags, repetition', async () => {
    const schema = await duckRows(
      `SELECT name, type, logical_type, converted_type, repetition_type, precision, scale FROM parquet_schema($FILE)`,
      file,
    );
    const by = new Map(schema.map((r) => [r.name, r]));
    expect(by.get('d38')).toMatchObject({ type: 'FIXED_LEN_BYTE_ARRAY', precision: '38', scale: '10' });
    expect(by.get('d15')).toMatchObject({ type: 'INT64', precision: '15', scale: '4' });
    expect(by.get('biu')).toMatchObject({ type: 'FIXED_LEN_BYTE_ARRAY', precision: '20', scale: '0' });
    expect(String(by.get('dtm6')!.logical_type)).toContain('isAdjustedToUTC=0');
    expect(String(by.get('dtm6')!.logical_type)).toContain('MICROS');
    expect(String(by.get('ts6')!.logical_type)).toContain('isAdjustedToUTC=1');
    expect(by.get('id')!.repetition_type).toBe('REQUIRED');
    expect(by.get('dnn')!.repetition_type).toBe('OPTIONAL'); // zero dates → NULL even in NOT NULL columns
    expect(by.get('b1')).toMatchObject({ type: 'BOOLEAN', repetition_type: 'OPTIONAL' });
    expect(by.get('ti')).toMatchObject({ type: 'INT32', converted_type: 'INT_16' });
    expect(by.get('iu')!.type).toBe('INT64');
    expect(by.get('dt')!.logical_type).toContain('DateType');
    expect(by.get('js')!.logical_type).toContain('StringType');
    expect(by.get('bl')).toMatchObject({ type: 'BYTE_ARRAY', logical_type: null });
    const meta = await duckRows(
      'SELECT DISTINCT compression FROM parquet_metadata($FILE) UNION ALL SELECT format_version::VARCHAR FROM parquet_file_metadata($FILE)',
      file,
    );
    expect(meta.map((r) => r.compression)).toEqual(['SNAPPY', '1']);
  });
});

describe('row groups, empty results and errors', () => {
  beforeAll(async () => {
    await db.conn.query(`
      CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, label VARCHAR(40) NOT NULL, amt DECIMAL(15,4) NOT NULL);
      INSERT INTO big SELECT seq, CONCAT('row ', seq), (seq * 7919 % 100000000) / 10000 * IF(seq % 3 = 0, -1, 1)
        FROM seq_1_to_150000;
      CREATE TABLE strict_t (id INT NOT NULL PRIMARY KEY, v INT NOT NULL);
      INSERT INTO strict_t VALUES (1, 10), (2, 20), (3, 30);`);
  });

  test('150k rows with rowGroupRows 50k make ONE file with 3 row groups and exact sums', async () => {
    const file = join(dir, 'big.parquet');
    const { result } = await extract('big', file, { rowGroupRows: 50_000 });
    expect(result.rows).toBe(150_000);
    const groups = await duckRows(
      'SELECT row_group_id, any_value(row_group_num_rows)::INTEGER n FROM parquet_metadata($FILE) GROUP BY 1 ORDER BY 1',
      file,
    );
    expect(groups).toEqual([
      { row_group_id: '0', n: 50_000 },
      { row_group_id: '1', n: 50_000 },
      { row_group_id: '2', n: 50_000 },
    ]);
    const [got] = await duckRows(
      'SELECT count(*)::INTEGER n, sum(amt)::VARCHAR s, sum(id)::VARCHAR ids, max(label) l FROM read_parquet($FILE)',
      file,
    );
    const [want] = await mysqlRows('SELECT CAST(SUM(amt) AS CHAR) s, CAST(SUM(id) AS CHAR) ids, MAX(label) l FROM big');
    expect(got).toEqual({ n: 150_000, s: want!.s, ids: want!.ids, l: want!.l });
  });

  test('an empty result is a valid file with the schema and no rows', async () => {
    const file = join(dir, 'empty.parquet');
    const { result } = await extract('big', file, { where: 'WHERE id < 0' });
    expect(result.rows).toBe(0);
    expect(await duckRows('SELECT count(*)::INTEGER n FROM read_parquet($FILE)', file)).toEqual([{ n: 0 }]);
    const names = await duckRows("SELECT name FROM parquet_schema($FILE) WHERE name IN ('id', 'amt')", file);
    expect(names).toHaveLength(2);
  });

  async function failWith(sql: string, packed = false): Promise<{ err: unknown; out: Writable }> {
    const schema = await source.describeTable(db.database, 'strict_t');
    const columns = mapColumns('strict_t', schema.columns);
    const out = createWriteStream(join(dir, 'fail.parquet'));
    out.on('error', () => {}); // destroyed with the error on purpose
    const rows = packed ? source.streamPacked!(sql) : source.stream(sql);
    const err = await writeParquet(rows, columns, out).catch((e: unknown) => e);
    return { err, out };
  }

  test('packed rows: a NULL in a NOT NULL column and a row of the wrong width are DataErrors naming the row', async () => {
    const nul = await failWith('SELECT id, IF(id = 3, NULL, v) FROM strict_t ORDER BY id', true);
    expect(nul.err).toBeInstanceOf(DataError);
    expect((nul.err as Error).message).toBe('column v (→ v), row 3: NULL in a column the source declares NOT NULL');
    expect(nul.out.destroyed).toBe(true);
    const narrow = await failWith('SELECT id FROM strict_t ORDER BY id', true);
    expect(narrow.err).toBeInstanceOf(DataError);
    expect((narrow.err as Error).message).toBe('row 1 of the result is malformed: the row has 1 values, not 2');
  });

  test('NULL in a NOT NULL column is a DataError naming the column and the row', async () => {
    const { err, out } = await failWith('SELECT id, IF(id = 3, NULL, v) FROM strict_t ORDER BY id');
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe('column v (→ v), row 3: NULL in a column the source declares NOT NULL');
    expect(out.destroyed).toBe(true);
  });

  test('an unparsable number is a DataError naming the column and the row', async () => {
    const { err } = await failWith("SELECT id, IF(id = 2, 'abc', v) FROM strict_t ORDER BY id");
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/^column v \(→ v\), row 2: not an integer in range: abc$/);
  });

  test.each([
    ['date', 'date', "'2023-02-30'", 'not a valid DATE: 2023-02-30'],
    ['datetime', 'datetime', "'2023-01-01 25:00:00'", 'not a valid DATETIME/TIMESTAMP: 2023-01-01 25:00:00'],
    ['decimal', 'decimal(5,2)', "'1.234'", 'not a DECIMAL(5,2): 1.234'],
    ['decimal', 'decimal(5,2)', "'1234567890123456789.00'", 'value exceeds DECIMAL(5,2): 1234567890123456789.00'],
    ['bit', 'bit(64)', "x'8000000000000000'", 'BIT value ≥ 2^63 does not fit a signed 64-bit integer'],
    ['double', 'double', "'abc'", 'not a number: abc'],
    ['tinyint', 'tinyint(1)', "'yes'", 'not a boolean: yes'],
    ['bigint', 'bigint(20)', "'99999999999999999999'", 'not a 64-bit integer: 99999999999999999999'],
    ['smallint', 'smallint(6)', "'40000'", 'not an integer in range: 40000'],
  ])('%s %s value %s is a DataError: %s', async (dataType, columnType, value, message) => {
    const precision = /\((\d+),(\d+)\)/.exec(columnType);
    const column = mapColumn({
      name: 'V',
      dataType,
      columnType,
      nullable: true,
      charMaxLength: null,
      numericPrecision: precision ? Number(precision[1]) : null,
      numericScale: precision ? Number(precision[2]) : null,
      ordinal: 1,
    });
    const out = createWriteStream(join(dir, 'bad-value.parquet'));
    out.on('error', () => {});
    const err = await writeParquet(source.stream(`SELECT ${value} UNION ALL SELECT ${value}`), [column], out).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(`column V (→ v), row 1: ${message}`);
  });

  test('a row with the wrong number of values is a DataError', async () => {
    const { err } = await failWith('SELECT id FROM strict_t ORDER BY id');
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain('row 1 has 1 values for 2 Parquet columns');
  });

  test('a failing output stream is a StagingError and stops reading the source', async () => {
    const schema = await source.describeTable(db.database, 'big');
    const columns = mapColumns('big', schema.columns);
    let read = 0;
    async function* counted() {
      for await (const r of source.stream('SELECT id, label, amt FROM big ORDER BY id')) {
        read++;
        yield r;
      }
    }
    const out = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('disk full'));
      },
    });
    out.on('error', () => {});
    const err = await writeParquet(counted(), columns, out, { rowGroupRows: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StagingError);
    expect((err as Error).message).toContain('disk full');
    expect(read).toBeLessThan(150_000);
  });

  test('one encode worker writes file after file (other schemas too); a failed file’s worker is never reused', async () => {
    await encoderPool.drain();
    const big = mapColumns('big', (await source.describeTable(db.database, 'big')).columns);
    const strict = mapColumns('strict_t', (await source.describeTable(db.database, 'strict_t')).columns);
    const first = join(dir, 'pool-1.parquet');
    const second = join(dir, 'pool-2.parquet');
    await writeParquet(source.stream('SELECT id, label, amt FROM big WHERE id <= 5000'), big, createWriteStream(first));
    expect(encoderPool.idleCount).toBe(1);
    await writeParquet(source.stream('SELECT id, v FROM strict_t'), strict, createWriteStream(second));
    expect(encoderPool.idleCount).toBe(1);
    expect(await duckRows('SELECT count(*)::INTEGER n, sum(id)::INTEGER s FROM read_parquet($FILE)', first)).toEqual([
      { n: 5000, s: 12_502_500 },
    ]);
    expect(await duckRows('SELECT id, v FROM read_parquet($FILE) ORDER BY id', second)).toEqual([
      { id: 1, v: 10 },
      { id: 2, v: 20 },
      { id: 3, v: 30 },
    ]);
    const failing = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('disk full'));
      },
    });
    failing.on('error', () => {});
    await expect(writeParquet(source.stream('SELECT id, label, amt FROM big'), big, failing)).rejects.toThrow(
      StagingError,
    );
    expect(encoderPool.idleCount).toBe(0);
  });

  test('a column Parquet cannot encode fails with a DataError from the encoder', async () => {
    const schema = await source.describeTable(db.database, 'strict_t');
    const [id, v] = mapColumns('strict_t', schema.columns) as [MappedColumn, MappedColumn];
    const tooWide: MappedColumn = { ...v, type: { kind: 'decimal', precision: 50, scale: 0 } };
    const out = createWriteStream(join(dir, 'wide.parquet'));
    out.on('error', () => {});
    const err = await writeParquet(source.stream('SELECT id, v FROM strict_t'), [id, tooWide], out).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataError);
    // arrow-rs refuses precision 50 (a panic inside wasm): the worker's failure surfaces as a DataError.
    expect((err as Error).message).toMatch(/^Parquet encoder (failed|crashed)/);
  });
});
