import { afterAll, beforeAll, expect, test } from 'vitest';
import { createHarness, type Harness } from '../support/harness.js';
import { pipelineCli } from '../support/pipeline-cli.js';
import { mysqlTableCells, warehouseCells, warehouseColumns } from '../support/warehouse-file.js';

let h: Harness;
const { hw, fq, configure, run, syncOk, watermarkOf } = pipelineCli(() => h);

async function expectInStep(table: string, columns: readonly string[]): Promise<void> {
  const source = await mysqlTableCells(h.db.conn, table, columns);
  expect(source.length).toBeGreaterThan(0);
  expect(await warehouseCells(h.home, table, columns)).toEqual(source);
}

async function typeOf(table: string, column: string): Promise<string | undefined> {
  return (await warehouseColumns(h.home, table)).find((c) => c.name === column)?.type;
}

async function columnNames(table: string): Promise<string[]> {
  return (await warehouseColumns(h.home, table)).map((c) => c.name);
}

beforeAll(async () => {
  h = await createHarness('schemacli');
});
afterAll(async () => h?.cleanup());

test('ADD COLUMN with a DEFAULT: the next sync re-reads the whole table and every row already loaded gets the default', async () => {
  await h.db.conn.query(
    `CREATE TABLE added (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO added VALUES (1,'a','2024-01-01 00:00:00'),(2,'b','2024-01-01 00:00:00'),(3,'c','2024-01-02 00:00:00'),
       (4,'d','2024-01-03 00:00:00'),(5,'e','2024-01-04 00:00:00');`,
  );
  configure('added');
  expect(syncOk('added').table.rowsLoaded).toBe(5);
  expect(await columnNames('added')).toEqual(['id', 'label', 'updated_at']);

  await h.db.conn.query(`ALTER TABLE added ADD COLUMN flag VARCHAR(5) NOT NULL DEFAULT 'x'`);
  const r = syncOk('added');
  expect(r.warnings).toContain(
    'column flag (varchar(5)) is new at the source: this run re-reads the whole table so every row gets it',
  );
  expect(r.table.warnings).toEqual(r.warnings);
  // Nothing changed after the watermark, so only the re-read brings the old rows (with their new value) back.
  expect(r.table).toMatchObject({ status: 'committed', rowsExtracted: 5, rowsLoaded: 5 });
  expect(r.table.schemaChanges).toContainEqual(expect.objectContaining({ column: 'flag', change: 'added' }));
  expect(await typeOf('added', 'flag')).toBe('VARCHAR');
  const cells = await warehouseCells(h.home, 'added', ['id', 'flag']);
  expect(cells).toEqual([1, 2, 3, 4, 5].map((id) => [String(id), 'x']));
  await expectInStep('added', ['id', 'label', 'flag', 'updated_at']);

  // The change is reported once: the next sync compares with the run that brought the column in.
  const again = syncOk('added');
  expect(again.table.status).toBe('skipped');
  expect(again.warnings).toEqual([]);
});

test('ADD COLUMN without a DEFAULT, then values set for old rows without touching updated_at: the backfill brings them', async () => {
  await h.db.conn.query(
    `CREATE TABLE backfill (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO backfill VALUES (1,'a','2024-01-01 00:00:00'),(2,'b','2024-01-01 00:00:00'),(3,'c','2024-01-02 00:00:00'),
       (4,'d','2024-01-03 00:00:00');`,
  );
  configure('backfill');
  expect(syncOk('backfill').table.rowsLoaded).toBe(4);
  const before = watermarkOf('backfill');

  await h.db.conn.query(
    `ALTER TABLE backfill ADD COLUMN note VARCHAR(40) NULL;
     UPDATE backfill SET note = CONCAT('note-', id) WHERE id IN (1, 3, 4);`,
  );
  // The UPDATE left every updated_at as it was: a plain incremental read after the watermark would see no row.
  const [[max]] = (await h.db.conn.query('SELECT CAST(MAX(updated_at) AS CHAR) AS m FROM backfill')) as unknown as [
    { m: string }[],
  ];
  expect(max?.m).toBe('2024-01-03 00:00:00');

  const r = syncOk('backfill');
  expect(r.warnings.join('\n')).toContain('column note (varchar(40)) is new at the source');
  expect(r.table.rowsExtracted).toBe(4);
  expect(await warehouseCells(h.home, 'backfill', ['id', 'note'])).toEqual([
    ['1', 'note-1'],
    ['2', null],
    ['3', 'note-3'],
    ['4', 'note-4'],
  ]);
  await expectInStep('backfill', ['id', 'label', 'updated_at', 'note']);
  expect(watermarkOf('backfill')).toMatchObject({ watermark: (before as { watermark: unknown }).watermark });
});

test('widening VARCHAR(10) → VARCHAR(200): a 150-character value loads, values equal MySQL', async () => {
  await h.db.conn.query(
    `CREATE TABLE wide_text (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO wide_text VALUES (1,'short','2024-01-01 00:00:00'),(2,'ten chars!','2024-01-02 00:00:00');`,
  );
  configure('wide_text');
  syncOk('wide_text');
  expect(await typeOf('wide_text', 'name')).toBe('VARCHAR');

  const long = `${'abcdefghij'.repeat(15)}`;
  expect(long).toHaveLength(150);
  await h.db.conn.query(
    `ALTER TABLE wide_text MODIFY name VARCHAR(200) NOT NULL;
     INSERT INTO wide_text VALUES (3, '${long}', '2024-02-01 00:00:00');`,
  );
  const r = syncOk('wide_text');
  expect(r.warnings).toContain('column name widened from varchar(10) to varchar(200): the warehouse column is widened');
  expect(r.table.rowsExtracted).toBe(1);
  // DuckDB's VARCHAR has no length: the column already takes every value, so its type stays VARCHAR.
  expect(await typeOf('wide_text', 'name')).toBe('VARCHAR');
  await expectInStep('wide_text', ['id', 'name', 'updated_at']);
  expect((await warehouseCells(h.home, 'wide_text', ['name']))[2]).toEqual([long]);
});

test('widening DECIMAL(10,2) → DECIMAL(20,6): old values stay exact, a value with 6 decimals loads exactly', async () => {
  await h.db.conn.query(
    `CREATE TABLE wide_dec (id INT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO wide_dec VALUES (1, 12345678.91, '2024-01-01 00:00:00'), (2, -0.07, '2024-01-02 00:00:00'),
       (3, 0.10, '2024-01-03 00:00:00');`,
  );
  configure('wide_dec');
  syncOk('wide_dec');
  expect(await typeOf('wide_dec', 'amount')).toBe('DECIMAL(10,2)');

  await h.db.conn.query(
    `ALTER TABLE wide_dec MODIFY amount DECIMAL(20,6) NOT NULL;
     INSERT INTO wide_dec VALUES (4, 12345678901234.123456, '2024-02-01 00:00:00');`,
  );
  const r = syncOk('wide_dec');
  expect(r.warnings).toContain(
    'column amount widened from decimal(10,2) to decimal(20,6): the warehouse column is widened',
  );
  expect(r.table.schemaChanges).toContainEqual(
    expect.objectContaining({ column: 'amount', change: 'widened', from: 'DECIMAL(10,2)', to: 'DECIMAL(20,6)' }),
  );
  expect(await typeOf('wide_dec', 'amount')).toBe('DECIMAL(20,6)');
  expect(await warehouseCells(h.home, 'wide_dec', ['id', 'amount'])).toEqual([
    ['1', '12345678.910000'],
    ['2', '-0.070000'],
    ['3', '0.100000'],
    ['4', '12345678901234.123456'],
  ]);
  await expectInStep('wide_dec', ['id', 'amount', 'updated_at']);
});

test('widening INT → BIGINT: a value above 2^31 loads, the warehouse column becomes BIGINT', async () => {
  await h.db.conn.query(
    `CREATE TABLE wide_int (id INT PRIMARY KEY, qty INT NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO wide_int VALUES (1, 2147483647, '2024-01-01 00:00:00'), (2, -2147483648, '2024-01-02 00:00:00');`,
  );
  configure('wide_int');
  syncOk('wide_int');
  expect(await typeOf('wide_int', 'qty')).toBe('INTEGER');

  await h.db.conn.query(
    `ALTER TABLE wide_int MODIFY qty BIGINT NOT NULL;
     INSERT INTO wide_int VALUES (3, 3000000000, '2024-02-01 00:00:00'), (4, 9223372036854775807, '2024-02-02 00:00:00');`,
  );
  const r = syncOk('wide_int');
  expect(r.warnings.join('\n')).toMatch(
    /column qty widened from int(\(11\))? to bigint(\(20\))?: the warehouse column is widened/,
  );
  expect(await typeOf('wide_int', 'qty')).toBe('BIGINT');
  expect(await warehouseCells(h.home, 'wide_int', ['id', 'qty'])).toEqual([
    ['1', '2147483647'],
    ['2', '-2147483648'],
    ['3', '3000000000'],
    ['4', '9223372036854775807'],
  ]);
  await expectInStep('wide_int', ['id', 'qty', 'updated_at']);
});

test('DROP COLUMN (NOT NULL): a warning names it, the warehouse keeps it nullable, rows loaded afterwards have NULL', async () => {
  await h.db.conn.query(
    `CREATE TABLE dropped (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL, code VARCHAR(10) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO dropped VALUES (1,'a','c1','2024-01-01 00:00:00'),(2,'b','c2','2024-01-02 00:00:00'),(3,'c','c3','2024-01-03 00:00:00');`,
  );
  configure('dropped');
  syncOk('dropped');
  expect((await warehouseColumns(h.home, 'dropped')).find((c) => c.name === 'code')).toMatchObject({
    type: 'VARCHAR',
  });

  await h.db.conn.query(
    `ALTER TABLE dropped DROP COLUMN code;
     INSERT INTO dropped VALUES (4,'d','2024-02-01 00:00:00'),(5,'e','2024-02-02 00:00:00');
     UPDATE dropped SET label = 'a2', updated_at = '2024-02-03 00:00:00' WHERE id = 1;`,
  );
  const r = syncOk('dropped');
  expect(r.warnings).toContain(
    'column code was dropped at the source: the warehouse keeps it, NULL for rows loaded from now on (on_column_drop: drop removes it)',
  );
  expect(r.table.rowsExtracted).toBe(3);
  expect(await columnNames('dropped')).toEqual(['id', 'label', 'code', 'updated_at']);
  expect((await warehouseColumns(h.home, 'dropped')).find((c) => c.name === 'code')?.nullable).toBe(true);
  // Rows 2 and 3 were not loaded again and keep their value; 1 (updated), 4 and 5 were loaded after the drop.
  expect(await warehouseCells(h.home, 'dropped', ['id', 'label', 'code'])).toEqual([
    ['1', 'a2', null],
    ['2', 'b', 'c2'],
    ['3', 'c', 'c3'],
    ['4', 'd', null],
    ['5', 'e', null],
  ]);
  await expectInStep('dropped', ['id', 'label', 'updated_at']);
});

test('status shows the warning of the last run (the dropped column)', () => {
  const text = hw('status', '-p', 'test');
  expect(text.code, text.err).toBe(0);
  expect(text.out).toMatch(new RegExp(`${fq('dropped').replace('.', '\\.')}\\s+hybrid\\s+2024-02-03 00:00:00 / 1`));
  expect(text.out).toContain('column code was dropped at the source');
});

test('DROP COLUMN with on_column_drop: drop: the warehouse column is gone', async () => {
  await h.db.conn.query(
    `CREATE TABLE dropped_too (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL, code VARCHAR(10) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO dropped_too VALUES (1,'a','c1','2024-01-01 00:00:00'),(2,'b','c2','2024-01-02 00:00:00');`,
  );
  configure('dropped_too', 'cdc_strategy: hybrid\non_column_drop: drop');
  syncOk('dropped_too');
  expect(await columnNames('dropped_too')).toEqual(['id', 'label', 'code', 'updated_at']);

  await h.db.conn.query(
    `ALTER TABLE dropped_too DROP COLUMN code;
     INSERT INTO dropped_too VALUES (3,'c','2024-02-01 00:00:00');`,
  );
  const r = syncOk('dropped_too');
  expect(r.warnings).toContain(
    'column code was dropped at the source and is dropped from the warehouse (on_column_drop: drop)',
  );
  expect(r.table.schemaChanges).toContainEqual(expect.objectContaining({ column: 'code', change: 'dropped' }));
  expect(await columnNames('dropped_too')).toEqual(['id', 'label', 'updated_at']);
  await expectInStep('dropped_too', ['id', 'label', 'updated_at']);
});

test('RENAME COLUMN a TO b: reported as a likely rename; b is filled for every row, a stays and is NULL from then on', async () => {
  await h.db.conn.query(
    `CREATE TABLE renamed (id INT PRIMARY KEY, a VARCHAR(20) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO renamed VALUES (1,'one','2024-01-01 00:00:00'),(2,'two','2024-01-02 00:00:00'),(3,'three','2024-01-03 00:00:00');`,
  );
  configure('renamed');
  syncOk('renamed');

  await h.db.conn.query('ALTER TABLE renamed RENAME COLUMN a TO b');
  const r = syncOk('renamed');
  expect(r.warnings).toContain(
    'column a is gone and b is new (a rename?): b is filled for every row by re-reading the table; a stays in the warehouse, NULL from now on',
  );
  expect(r.table.rowsExtracted).toBe(3);
  expect(await columnNames('renamed')).toEqual(['id', 'a', 'updated_at', 'b']);
  expect(await warehouseCells(h.home, 'renamed', ['id', 'a', 'b'])).toEqual([
    ['1', null, 'one'],
    ['2', null, 'two'],
    ['3', null, 'three'],
  ]);
  await expectInStep('renamed', ['id', 'b', 'updated_at']);
});

/**
 * A change the warehouse column cannot take in place: sync stops (exit 4) naming it and `highwater resync`, with
 * nothing changed; resync rebuilds the table with the new type; the next sync is incremental again.
 */
async function refusedThenResync(
  table: string,
  column: string,
  alter: string,
  types: { from: string; to: string; warehouseBefore: string; warehouseAfter: string },
): Promise<void> {
  const columns = ['id', column, 'updated_at'];
  syncOk(table);
  const watermark = watermarkOf(table);
  const cells = await warehouseCells(h.home, table, columns);
  const catalog = await warehouseColumns(h.home, table);
  expect(catalog.find((c) => c.name === column)?.type).toBe(types.warehouseBefore);

  await h.db.conn.query(alter);
  const refused = run('sync', table);
  const said = refused.out + refused.err;
  expect(refused.code, said).toBe(4);
  expect(refused.table.status).toBe('failed');
  expect(said).toContain(fq(table));
  expect(said).toContain(`column ${column} changed from ${types.from} to ${types.to}`);
  // Soft, so the checks that follow still run when only the hint is missing.
  expect.soft(said).toContain(`highwater resync -t ${fq(table)}`);
  // Nothing moved: the watermark, the rows and the column types are exactly as before.
  expect(watermarkOf(table)).toEqual(watermark);
  expect(await warehouseCells(h.home, table, columns)).toEqual(cells);
  expect(await warehouseColumns(h.home, table)).toEqual(catalog);

  const rebuilt = run('resync', table);
  expect(rebuilt.table.error, rebuilt.out + rebuilt.err).toBeNull();
  expect(rebuilt.code, rebuilt.out + rebuilt.err).toBe(0);
  expect(rebuilt.table.status).toBe('committed');
  expect(await typeOf(table, column)).toBe(types.warehouseAfter);
  await expectInStep(table, columns);

  const [[count]] = (await h.db.conn.query(`SELECT COUNT(*) AS n FROM \`${table}\``)) as unknown as [{ n: number }[]];
  await h.db.conn.query(
    `INSERT INTO \`${table}\` (id, ${column}, updated_at) VALUES (100, 7, '2024-03-01 00:00:00'), (101, 8, '2024-03-02 00:00:00');
     UPDATE \`${table}\` SET ${column} = 9, updated_at = '2024-03-03 00:00:00' WHERE id = 1;`,
  );
  const next = syncOk(table);
  expect(next.warnings).toEqual([]);
  expect(next.table).toMatchObject({ status: 'committed', rowsExtracted: 3, rowsLoaded: 3 });
  expect(await typeOf(table, column)).toBe(types.warehouseAfter);
  await expectInStep(table, columns);
  expect((await warehouseCells(h.home, table, ['id'])).length).toBe(Number(count?.n) + 2);
}

test('a narrowing DECIMAL(20,6) → DECIMAL(10,2) is refused with exit 4 and nothing changed; resync rebuilds, sync continues', async () => {
  await h.db.conn.query(
    `CREATE TABLE narrowed (id INT PRIMARY KEY, amount DECIMAL(20,6) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO narrowed VALUES (1, 10.5, '2024-01-01 00:00:00'), (2, 99999999.99, '2024-01-02 00:00:00'),
       (3, -3.25, '2024-01-03 00:00:00');`,
  );
  configure('narrowed');
  await refusedThenResync('narrowed', 'amount', 'ALTER TABLE narrowed MODIFY amount DECIMAL(10,2) NOT NULL', {
    from: 'decimal(20,6)',
    to: 'decimal(10,2)',
    warehouseBefore: 'DECIMAL(20,6)',
    warehouseAfter: 'DECIMAL(10,2)',
  });
});

test('an incompatible change VARCHAR → INT is refused with exit 4 and nothing changed; resync rebuilds, sync continues', async () => {
  await h.db.conn.query(
    `CREATE TABLE retyped (id INT PRIMARY KEY, code VARCHAR(10) NOT NULL, updated_at DATETIME NOT NULL);
     INSERT INTO retyped VALUES (1, '1', '2024-01-01 00:00:00'), (2, '22', '2024-01-02 00:00:00'),
       (3, '333', '2024-01-03 00:00:00');`,
  );
  configure('retyped');
  await refusedThenResync('retyped', 'code', 'ALTER TABLE retyped MODIFY code INT NOT NULL', {
    from: 'varchar(10)',
    to: 'int(11)',
    warehouseBefore: 'VARCHAR',
    warehouseAfter: 'INTEGER',
  });
});

test('resync takes no --limit: a usage error (exit 1) from commander, and nothing runs', () => {
  const before = watermarkOf('retyped');
  const r = hw('resync', '-p', 'test', '-t', fq('retyped'), '--limit', '5');
  expect(r.code).toBe(1);
  expect(r.err).toContain("error: unknown option '--limit'");
  expect(r.out).not.toContain('execution');
  expect(watermarkOf('retyped')).toEqual(before);
});
