/**
 * The MySQL/MariaDB source: a lazy session for small queries, and raw text-protocol streaming for extraction.
 * Uses mysql2's callback API because only it exposes `query().stream()` (see reference/test-stack.md §5).
 */
import type { Duplex } from 'node:stream';
import mysql from 'mysql2';
import type { TableSchema } from '../../domain/model.js';
import { ConnectionError } from '../../errors.js';
import type { RawRow, SourceReader } from '../../ports/index.js';
import type { PackedRow } from '../../ports/packed-row.js';
import { describeQuery, describeTable } from './describe.js';
import { type SourceLabel, toHighwaterError } from './errors.js';
import { emitPackedRows } from './packed-rows.js';
import { RowIterator } from './row-iterator.js';

export interface MysqlSourceOptions {
  host: string;
  port: number;
  user: string;
  password?: string;
  database?: string;
  connectTimeoutMs?: number;
  /**
   * A ready transport (e.g. an SSH-forwarded channel) instead of a TCP connection. A single Duplex carries one
   * session, so every call shares it; a factory gives each stream its own session like a TCP connection does.
   */
  stream?: Duplex | (() => Duplex);
  /** Which connection this is and where it is configured, for messages (errors.ts SourceLabel). */
  label?: SourceLabel;
  /**
   * Where a stream's session goes when its result was read to the end, and where the next stream looks first: a
   * runtime keeps one per source so consecutive chunks do not each connect, authenticate and set up a session.
   * Not used with a single shared transport.
   */
  pool?: MysqlSessionPool;
}

/** Rows buffered by the mysql2 Readable before the socket is paused. */
const STREAM_HIGH_WATER_MARK = 1000;
const SESSION_SQL = "SET NAMES utf8mb4, time_zone = '+00:00'";
/**
 * User SQL (custom_query, additional_where) is judged on text lexed as MySQL's defaults lex it: backslash escapes
 * in strings, double quotes as strings. A server whose sql_mode says otherwise (NO_BACKSLASH_ESCAPES, ANSI_QUOTES,
 * ANSI) would read the same text differently, so the session drops just those modes.
 */
const SQL_MODE_SQL = `SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(REPLACE(REPLACE(CONCAT(',', @@SESSION.sql_mode, ','),
  ',NO_BACKSLASH_ESCAPES,', ','), ',ANSI_QUOTES,', ','), ',ANSI,', ','))`;

interface Session {
  conn: mysql.Connection;
  /** False once the connection errored or was closed; a new session is opened next time. */
  alive: boolean;
}

/** The socket under a mysql2 connection, when it is one (a tunnel channel has no ref/unref). */
function socketOf(conn: mysql.Connection): { ref?: () => void; unref?: () => void } | undefined {
  return (conn as unknown as { stream?: { ref?: () => void; unref?: () => void } }).stream;
}

/**
 * Idle stream sessions of one source, kept for the next stream. A session is given back only after its result
 * was read to the end (nothing pending on the wire, the session settings as opened); one idle for longer than
 * `maxIdleMs` is closed instead of reused (a server, a NAT or a frozen Lambda may have dropped it meanwhile), and
 * idle sockets do not keep the process alive.
 */
export class MysqlSessionPool {
  private readonly idle: { session: Session; since: number }[] = [];

  constructor(
    private readonly maxIdle = 8,
    private readonly maxIdleMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** @internal An alive session idle for less than maxIdleMs, or undefined. */
  take(): Session | undefined {
    for (;;) {
      const entry = this.idle.pop();
      if (entry === undefined) return undefined;
      if (entry.session.alive && this.now() - entry.since < this.maxIdleMs) {
        socketOf(entry.session.conn)?.ref?.();
        return entry.session;
      }
      entry.session.alive = false;
      entry.session.conn.destroy();
    }
  }

  /** @internal A session whose result was read to the end. */
  give(session: Session): void {
    if (!session.alive || this.idle.length >= this.maxIdle) {
      session.alive = false;
      session.conn.end();
      return;
    }
    socketOf(session.conn)?.unref?.();
    this.idle.push({ session, since: this.now() });
  }

  get size(): number {
    return this.idle.length;
  }

  /** Closes every idle session. */
  async close(): Promise<void> {
    const all = this.idle.splice(0);
    await Promise.all(
      all.map(({ session }) => {
        session.alive = false;
        return session.conn
          .promise()
          .end()
          .catch(() => session.conn.destroy());
      }),
    );
  }
}

export function createMysqlSource(opts: MysqlSourceOptions): SourceReader {
  const where = `${opts.host}:${opts.port}`;
  const sharedTransport = opts.stream !== undefined && typeof opts.stream !== 'function';
  let transportUsed = false;
  let shared: Promise<Session> | undefined;
  const dedicated = new Set<Session>();
  let closed = false;

  const fail = (e: unknown, what: string) => toHighwaterError(e, where, what, opts.password, opts.label);

  async function open(): Promise<Session> {
    if (closed) throw new ConnectionError(`MySQL at ${where}: the source was closed`);
    if (sharedTransport && transportUsed) {
      throw new ConnectionError(`MySQL at ${where}: the tunnel stream was already used by a session that ended`, {
        suggestion: 'Open a new tunnel (or pass a stream factory) for a new session.',
      });
    }
    transportUsed = true;
    const conn = mysql.createConnection({
      host: opts.host,
      port: opts.port,
      user: opts.user,
      password: opts.password ?? '',
      ...(opts.database === undefined ? {} : { database: opts.database }),
      ...(opts.stream === undefined ? {} : { stream: opts.stream }),
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      charset: 'utf8mb4',
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      decimalNumbers: false,
      multipleStatements: false,
    });
    const session: Session = { conn, alive: true };
    // A fatal error on an idle connection is emitted, not thrown; mark the session dead instead of crashing.
    conn.on('error', () => {
      session.alive = false;
    });
    conn.on('end', () => {
      session.alive = false;
    });
    try {
      await conn.promise().query(SESSION_SQL);
      await conn.promise().query(SQL_MODE_SQL);
    } catch (e) {
      session.alive = false;
      conn.destroy();
      throw fail(e, 'connect');
    }
    return session;
  }

  async function sharedSession(): Promise<Session> {
    if (shared) {
      const s = await shared.catch(() => undefined);
      if (s?.alive) return s;
    }
    shared = open();
    return shared;
  }

  async function runQuery<T extends Record<string, unknown>>(sql: string, params: readonly unknown[]): Promise<T[]> {
    const s = await sharedSession();
    try {
      const [rows] = await s.conn.promise().query(sql, params as unknown[]);
      return Array.isArray(rows) ? (rows as T[]) : [];
    } catch (e) {
      throw fail(e, 'query');
    }
  }

  /** The column definitions of a prepared statement; the statement is closed at once and never executed. */
  async function prepareColumns(sql: string): Promise<unknown[]> {
    const s = await sharedSession();
    try {
      const statement = await s.conn.promise().prepare(sql);
      try {
        // mysql2/promise wraps the statement; the column definitions live on the inner one.
        const inner = (statement as unknown as { statement?: { columns?: unknown[] } }).statement;
        return [...(inner?.columns ?? [])];
      } finally {
        await statement.close();
      }
    } catch (e) {
      throw fail(e, 'describing the query');
    }
  }

  /** A query's rows, streamed: one Buffer per value, or (`packed`) each row as its packet holds it. */
  function rows<T>(sql: string, params: readonly unknown[], packed: boolean): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: () => {
        let session: Session | undefined;
        let onConnError: ((e: Error) => void) | undefined;
        return new RowIterator<T>({
          async start() {
            // Its own session unless a single transport must be shared, so query() stays usable meanwhile.
            session = sharedTransport ? await sharedSession() : (opts.pool?.take() ?? (await open()));
            if (!sharedTransport) dedicated.add(session);
            const query = session.conn.query({ sql, values: params as unknown[], rowsAsArray: true, typeCast: false });
            if (packed) emitPackedRows(query);
            const readable = query.stream({ highWaterMark: STREAM_HIGH_WATER_MARK });
            // mysql2 reports a lost connection to the connection, not to a query without a callback: pass it on.
            onConnError = (e: Error) => readable.destroy(e);
            session.conn.on('error', onConnError);
            return readable;
          },
          done(completed) {
            if (session === undefined) return;
            if (onConnError) session.conn.off('error', onConnError);
            if (sharedTransport) return; // a shared session drains the rest of the result itself
            dedicated.delete(session);
            if (completed && opts.pool && !closed) {
              opts.pool.give(session);
              return;
            }
            session.alive = false;
            // Abandoned early: destroy rather than let mysql2 read the rest of a possibly huge result.
            if (completed) session.conn.end();
            else session.conn.destroy();
          },
          mapError: (e) => fail(e, 'streaming query'),
        });
      },
    };
  }

  function stream(sql: string, params: readonly unknown[] = []): AsyncIterable<RawRow> {
    return rows<RawRow>(sql, params, false);
  }

  function streamPacked(sql: string, params: readonly unknown[] = []): AsyncIterable<PackedRow> {
    return rows<PackedRow>(sql, params, true);
  }

  return {
    describeTable(schema: string, table: string): Promise<TableSchema> {
      return describeTable(runQuery, schema, table);
    },
    describeQuery(sql: string) {
      return describeQuery(runQuery, prepareColumns, sql);
    },
    query: runQuery,
    stream,
    streamPacked,
    async close(): Promise<void> {
      closed = true;
      for (const s of dedicated) s.conn.destroy();
      dedicated.clear();
      const s = await shared?.catch(() => undefined);
      shared = undefined;
      if (s?.alive) {
        s.alive = false;
        await s.conn
          .promise()
          .end()
          .catch(() => s.conn.destroy());
      }
    },
  };
}
