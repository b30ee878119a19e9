/**
 * Translates mysql2 errors into Highwater errors. A lost session is transient (a retry may succeed); what a retry
 * cannot fix is not: refused credentials, an unknown database, a host that did not answer its connect timeout, a
 * missing table or column, bad SQL. Each message names the connection and where it is configured, once.
 */
import type { SourceSettingNames } from '../../domain/config.js';
import { ConfigError, ConnectionError, DataError, type HighwaterError, SourceStatementError } from '../../errors.js';

/** A session that died once established: worth retrying. */
const LOST_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_WRITE_INTERRUPTED',
  'EAI_AGAIN',
]);
/** The server was not reached within one connect timeout, or cannot be: retrying the same address waits again. */
const UNREACHABLE_CODES = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'ECONNREFUSED']);
const ACCESS_DENIED_CODES = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
]);

interface MysqlLikeError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
  sqlMessage?: unknown;
  message?: unknown;
}

function fields(e: unknown): MysqlLikeError {
  return typeof e === 'object' && e !== null ? (e as MysqlLikeError) : {};
}

/** Removes the password from a message, in case some layer ever echoes it. */
export function redact(message: string, password: string | undefined): string {
  return password && password.length > 0 ? message.split(password).join('***') : message;
}

export function isConnectionFailure(e: unknown): boolean {
  const f = fields(e);
  const code = typeof f.code === 'string' ? f.code : '';
  return f.fatal === true || LOST_CODES.has(code) || UNREACHABLE_CODES.has(code) || ACCESS_DENIED_CODES.has(code);
}

/** The connection a source adapter reaches, for messages: its name and the keys or variables that configure it. */
export interface SourceLabel {
  /** `source shop`, or `the source` when unnamed. */
  name: string;
  /** The YAML key or environment variable of each setting, with its file (domain/config.ts SourceSettingNames). */
  settings: SourceSettingNames;
}

export const UNNAMED_SOURCE: SourceLabel = {
  name: 'the source',
  settings: { host: 'host', port: 'port', user: 'user', password: 'password', database: 'database' },
};

function keys(label: SourceLabel, ...which: (keyof Omit<SourceSettingNames, 'file'>)[]): string {
  const names = which.map((k) => label.settings[k]).join(' and ');
  return label.settings.file ? `${names} in ${label.settings.file}` : names;
}

/**
 * @param where `host:port` of the server, for the message.
 * @param what what we were doing, e.g. `query` or `describe shop.orders`.
 */
export function toHighwaterError(
  e: unknown,
  where: string,
  what: string,
  password?: string,
  label: SourceLabel = UNNAMED_SOURCE,
): HighwaterError {
  if (e instanceof ConnectionError || e instanceof DataError || e instanceof ConfigError) return e;
  const f = fields(e);
  const code = typeof f.code === 'string' ? f.code : 'UNKNOWN';
  const text = typeof f.sqlMessage === 'string' ? f.sqlMessage : typeof f.message === 'string' ? f.message : String(e);
  const detail = redact(`${code}${typeof f.errno === 'number' ? ` (${f.errno})` : ''}: ${text}`, password);
  const at = `${label.name} (MySQL at ${where})`;
  if (ACCESS_DENIED_CODES.has(code)) {
    return new ConnectionError(`${at}: access denied: ${detail}`, {
      transient: false,
      suggestion: `Check ${keys(label, 'user', 'password')}; a retry with the same ones is refused again.`,
    });
  }
  if (code === 'ER_BAD_DB_ERROR') {
    return new ConfigError(`${at}: ${what} failed: ${detail}`, {
      suggestion: `Check ${keys(label, 'database')}.`,
    });
  }
  if (UNREACHABLE_CODES.has(code)) {
    return new ConnectionError(`${at}: ${what} failed, the server cannot be reached: ${detail}`, {
      transient: false,
      suggestion: `Check ${keys(label, 'host', 'port')}, and that the server (or SSH tunnel) accepts connections from here.`,
    });
  }
  if (isConnectionFailure(e)) {
    return new ConnectionError(`${at}: ${what} failed, connection lost: ${detail}`, {
      suggestion: 'The server closed the session; retrying may help.',
    });
  }
  return new SourceStatementError(`${at}: ${what} failed: ${detail}`, code);
}
