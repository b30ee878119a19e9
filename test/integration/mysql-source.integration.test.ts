import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMysqlSource, MysqlSessionPool } from '../../lambdas/adapters/mysql/index.js';
import { ConfigError, ConnectionError, DataError } from '../../lambdas/errors.js';
import type { SourceReader } from '../../lambdas/ports/index.js';
import { freePort } from '../support/free-port.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

let db: TestDatabase;
let source: SourceReader;

beforeAll(async () => {
  db = await createTestDatabase('src');
  await db.conn.query(`
    CREATE TABLE orders (
      id BIGINT NOT NULL PRIMARY KEY,
      amount DECIMAL(15,4) NOT NULL,
      note VARCHAR(50) NULL,
      created_at DATETIME(6) NOT NULL,
      big BIGINT UNSIGNED NOT NULL,
      doc JSON NULL
    );
    INSERT INTO orders VALUES
      (1, 10.5000, 'first', '2024-01-01 00:00:01.123456', 18446744073709551615, '{"a":1}'),
      (2, -3.2500, NULL, '2024-02-29 23:59:59.000000', 1, NULL),
      (3, 0.0001, 'third 😀', '1999-12-31 12:00:00.5', 9007199254740993, '[1,2]');
    CREATE TABLE composite (b INT NOT NULL, a VARCHAR(10) NOT NULL, v TEXT, PRIMARY KEY (b, a));
    CREATE TABLE nokey (x INT, y INT);
    CREATE TABLE reversed (first_col INT NOT NULL, second_col INT NOT NULL, PRIMARY KEY (second_col, first_col));`);
  source = createMysqlSource({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
  });
});

afterAll(async () => {
  await source?.close();
  await db?.drop();
});

describe('describeTable', () => {
  test('columns in order with types, nullability and the primary key', async () => {
    const t = await source.describeTable(db.database, 'orders');
    expect(t).toMatchObject({ schema: db.database, table: 'orders', primaryKey: ['id'] });
    expect(t.columns.map((c) => [c.name, c.dataType, c.nullable, c.ordinal])).toEqual([
      ['id', 'bigint', false, 1],
      ['amount', 'decimal', false, 2],
      ['note', 'varchar', true, 3],
      ['created_at', 'datetime', false, 4],
      ['big', 'bigint', false, 5],
      ['doc', 'json', true, 6], // MariaDB stores it as LONGTEXT + json_valid check
    ]);
    const amount = t.columns[1]!;
    expect([amount.numericPrecision, amount.numericScale, amount.columnType]).toEqual([15, 4, 'decimal(15,4)']);
    expect(t.columns[2]!.charMaxLength).toBe(50);
    expect(t.columns[4]!.columnType).toBe('bigint(20) unsigned');
  });

  test('a composite primary key comes back in key order, not column order', async () => {
    expect((await source.describeTable(db.database, 'composite')).primaryKey).toEqual(['b', 'a']);
    expect((await source.describeTable(db.database, 'reversed')).primaryKey).toEqual(['second_col', 'first_col']);
  });

  test('a table without a primary key has an empty key', async () => {
    const t = await source.describeTable(db.database, 'nokey');
    expect(t.primaryKey).toEqual([]);
    expect(t.columns.map((c) => c.name)).toEqual(['x', 'y']);
  });

  test('a missing table is a ConfigError (a name the configuration gives) naming schema.table', async () => {
    await expect(source.describeTable(db.database, 'nope')).rejects.toThrow(ConfigError);
    await expect(source.describeTable(db.database, 'nope')).rejects.toThrow(`${db.database}.nope does not exist`);
  });
});

describe('query', () => {
  test('plain objects with exact DECIMAL, BIGINT and DATETIME strings, in a UTC session', async () => {
    const rows = await source.query<Record<string, unknown>>(
      'SELECT id, amount, big, created_at, @@session.time_zone AS tz FROM orders WHERE id >= ? ORDER BY id',
      [1],
    );
    expect(rows[0]).toEqual({
      id: '1',
      amount: '10.5000',
      big: '18446744073709551615',
      created_at: '2024-01-01 00:00:01.123456',
      tz: '+00:00',
    });
    expect(rows[2]!.big).toBe('9007199254740993');
  });

  test('a SQL error is a DataError carrying MySQL’s message', async () => {
    const err = await source.query('SELECT no_such_column FROM orders').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain("Unknown column 'no_such_column'");
    expect((err as Error).message).toContain('ER_BAD_FIELD_ERROR');
  });
});

describe('stream', () => {
  test('raw text-protocol bytes per row in SELECT-list order, with bound parameters', async () => {
    const rows: (Buffer | null)[][] = [];
    for await (const r of source.stream(
      'SELECT id, amount, note, created_at, big FROM orders WHERE id > ? ORDER BY id',
      [1],
    )) {
      rows.push(r);
    }
    expect(rows.map((r) => r.map((v) => (v === null ? null : v.toString('utf8'))))).toEqual([
      ['2', '-3.2500', null, '2024-02-29 23:59:59.000000', '1'],
      ['3', '0.0001', 'third 😀', '1999-12-31 12:00:00.500000', '9007199254740993'],
    ]);
    expect(Buffer.isBuffer(rows[0]![0])).toBe(true);
  });

  test('200k rows arrive complete and in order', async () => {
    let expected = 1;
    for await (const [seq] of source.stream('SELECT seq FROM seq_1_to_200000 WHERE seq >= ? ORDER BY seq', [1])) {
      if (Number(seq!.toString()) !== expected) throw new Error(`row ${expected} out of order: ${seq}`);
      expected++;
    }
    expect(expected - 1).toBe(200_000);
  });

  test('breaking out early closes the streaming session on the server', async () => {
    let id = '';
    let seen = 0;
    for await (const [conn] of source.stream('SELECT CONNECTION_ID(), seq FROM seq_1_to_1000000')) {
      id = conn!.toString();
      if (++seen === 10) break;
    }
    expect(seen).toBe(10);
    const stillThere = async () =>
      Number(
        (
          await source.query<{ n: string }>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?', [
            id,
          ])
        )[0]!.n,
      );
    const deadline = Date.now() + 5000;
    while ((await stillThere()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await stillThere()).toBe(0);
    // The source is still usable afterwards.
    expect((await source.query<{ one: number }>('SELECT 1 AS one'))[0]!.one).toBe(1);
  });

  test('a SQL error in a stream rejects the iteration with a DataError carrying MySQL’s message', async () => {
    const run = async () => {
      for await (const _ of source.stream('SELECT * FROM missing_table')) {
        /* no rows expected */
      }
    };
    await expect(run()).rejects.toThrow(DataError);
    await expect(run()).rejects.toThrow(/missing_table' doesn't exist/);
  });

  test('a connection killed mid-stream rejects the iteration with a ConnectionError', async () => {
    const run = async () => {
      let n = 0;
      for await (const [conn] of source.stream('SELECT CONNECTION_ID(), seq FROM seq_1_to_5000000')) {
        if (++n === 1) await db.conn.query(`KILL ${Number(conn!.toString())}`);
      }
      return n;
    };
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).transient).toBe(true);
    expect((err as Error).message).toContain(`${db.host}:${db.port}`);
  });
});

describe('a session pool shared by sources (what a runtime keeps per source)', () => {
  async function connectionIdOf(s: SourceReader, sql = 'SELECT CONNECTION_ID()'): Promise<string> {
    let id = '';
    for await (const [conn] of s.stream(sql)) id = conn!.toString();
    return id;
  }
  const opts = () => ({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });

  test('a stream read to the end leaves its session for the next source’s stream; an abandoned one does not', async () => {
    const pool = new MysqlSessionPool();
    const a = createMysqlSource({ ...opts(), pool });
    const first = await connectionIdOf(a);
    await a.close();
    expect(pool.size).toBe(1);
    const b = createMysqlSource({ ...opts(), pool });
    expect(await connectionIdOf(b)).toBe(first);
    expect(pool.size).toBe(1);
    // Abandoned early: the session is dropped, never reused with a result half read.
    for await (const _ of b.stream('SELECT seq FROM seq_1_to_100000')) break;
    expect(pool.size).toBe(0);
    await b.close();
    await pool.close();
  });

  test('a session idle for maxIdleMs is closed instead of reused; close() ends the idle ones', async () => {
    let now = 0;
    const pool = new MysqlSessionPool(8, 1000, () => now);
    const s = createMysqlSource({ ...opts(), pool });
    const first = await connectionIdOf(s);
    now = 999;
    expect(await connectionIdOf(s)).toBe(first);
    now = 1999;
    const second = await connectionIdOf(s);
    expect(second).not.toBe(first);
    await s.close();
    await pool.close();
    expect(pool.size).toBe(0);
    const open = async (id: string) => {
      const [rows] = await db.conn.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
      return Number((rows as { n: number }[])[0]!.n);
    };
    const deadline = Date.now() + 5000;
    while ((await open(second)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await open(second)).toBe(0);
  });
});

describe('connection failures', () => {
  test('refused credentials are not retried, and the message names the connection and where it is set, once', async () => {
    const bad = createMysqlSource({
      host: db.host,
      port: db.port,
      user: 'nobody_here',
      password: 'wr0ng-Secret',
      label: {
        name: 'source shop',
        settings: {
          host: 'connections.sources.shop.host',
          port: 'connections.sources.shop.port',
          user: 'connections.sources.shop.username',
          password: 'connections.sources.shop.password',
          database: 'connections.sources.shop.database',
          file: 'config/connections.yml',
        },
      },
    });
    const err = await bad.query('SELECT 1').catch((e: unknown) => e);
    await bad.close();
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).transient).toBe(false);
    const text = `${(err as ConnectionError).message}\n${(err as ConnectionError).suggestion}`;
    expect(text).toContain('source shop');
    expect(text).toContain('access denied');
    expect(text).toContain(
      'connections.sources.shop.username and connections.sources.shop.password in config/connections.yml',
    );
    expect(text.match(/config\/connections\.yml/g)).toHaveLength(1);
    expect(text).not.toContain('wr0ng-Secret');
  });

  test('an unknown database is a ConfigError naming where the name is set', async () => {
    const bad = createMysqlSource({
      host: db.host,
      port: db.port,
      user: db.user,
      password: db.password,
      database: 'no_such_db_here',
      label: {
        name: 'source default',
        settings: {
          host: 'MYSQL_HOST',
          port: 'MYSQL_PORT',
          user: 'MYSQL_USER',
          password: 'MYSQL_PASSWORD',
          database: 'MYSQL_DATABASE',
        },
      },
    });
    const err = await bad.query('SELECT 1').catch((e: unknown) => e);
    await bad.close();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).suggestion).toContain('MYSQL_DATABASE');
  });

  test('an unreachable port is a ConnectionError with host:port and without the password', async () => {
    const port = await freePort();
    const bad = createMysqlSource({
      host: '127.0.0.1',
      port,
      user: 'root',
      password: 'sw0rdfish-Secret',
      connectTimeoutMs: 2000,
    });
    const err = await bad.query('SELECT 1').catch((e: unknown) => e);
    await bad.close();
    expect(err).toBeInstanceOf(ConnectionError);
    // Not retried: the same address refuses again (a session lost midway is retried, above).
    expect((err as ConnectionError).transient).toBe(false);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect((err as Error).message).not.toContain('sw0rdfish-Secret');
  });

  test('a wrong password is a ConnectionError that does not echo the password', async () => {
    const bad = createMysqlSource({ host: db.host, port: db.port, user: db.user, password: 'sw0rdfish-Secret' });
    const err = await bad.describeTable(db.database, 'orders').catch((e: unknown) => e);
    await bad.close();
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain('Access denied');
    expect((err as Error).message).not.toContain('sw0rdfish-Secret');
  });

  test('a stream failing to connect rejects the iteration with a ConnectionError', async () => {
    const port = await freePort();
    const bad = createMysqlSource({ host: '127.0.0.1', port, user: 'root' });
    const run = async () => {
      for await (const _ of bad.stream('SELECT 1')) {
        /* nothing */
      }
    };
    await expect(run()).rejects.toThrow(ConnectionError);
    await bad.close();
  });
});

describe('a handed-in transport (what the SSH tunnel passes)', () => {
  test('a single Duplex carries one shared session for queries and streams', async () => {
    const sock = connect(db.port, db.host);
    const tunnelled = createMysqlSource({ host: 'bastion-forward', port: 3306, user: db.user, stream: sock });
    try {
      const ids = await tunnelled.query<{ id: string }>('SELECT CONNECTION_ID() AS id');
      const streamed: string[] = [];
      for await (const [v] of tunnelled.stream('SELECT CONNECTION_ID()')) streamed.push(v!.toString());
      expect(streamed).toEqual([String(ids[0]!.id)]);
      const rows = await tunnelled.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${db.database}\`.orders`);
      expect(Number(rows[0]!.n)).toBe(3);
    } finally {
      await tunnelled.close();
    }
  });

  test('a stream factory gives the streaming query its own session', async () => {
    const tunnelled = createMysqlSource({
      host: 'bastion-forward',
      port: 3306,
      user: db.user,
      stream: () => connect(db.port, db.host),
    });
    try {
      const ids = await tunnelled.query<{ id: string }>('SELECT CONNECTION_ID() AS id');
      const streamed: string[] = [];
      for await (const [v] of tunnelled.stream('SELECT CONNECTION_ID()')) streamed.push(v!.toString());
      expect(streamed).toHaveLength(1);
      expect(streamed[0]).not.toBe(String(ids[0]!.id));
    } finally {
      await tunnelled.close();
    }
  });
});
