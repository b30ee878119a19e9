/** Translates mysql2 errors into Highwater errors: lost/refused connections are transient, SQL errors are not. */
import { ConnectionError, DataError, type HighwaterError, SourceStatementError } from '../../errors.js';

/** Error codes that mean "the server could not be reached or the session died", whatever `fatal` says. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_WRITE_INTERRUPTED',
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
  return f.fatal === true || (typeof f.code === 'string' && CONNECTION_CODES.has(f.code));
}

/**
 * @param where `host:port` of the server, for the message.
 * @param what what we were doing, e.g. `query` or `describe shop.orders`.
 */
export function toHighwaterError(e: unknown, where: string, what: string, password?: string): HighwaterError {
  if (e instanceof ConnectionError || e instanceof DataError) return e;
  const f = fields(e);
  const code = typeof f.code === 'string' ? f.code : 'UNKNOWN';
  const text = typeof f.sqlMessage === 'string' ? f.sqlMessage : typeof f.message === 'string' ? f.message : String(e);
  const detail = redact(`${code}${typeof f.errno === 'number' ? ` (${f.errno})` : ''}: ${text}`, password);
  if (isConnectionFailure(e)) {
    return new ConnectionError(`MySQL at ${where}: ${what} failed, connection unavailable: ${detail}`, {
      suggestion:
        'Check that the server (or SSH tunnel) is reachable and the credentials are right; retrying may help.',
    });
  }
  return new SourceStatementError(`MySQL at ${where}: ${what} failed: ${detail}`, code);
}
