/**
 * The warehouse file opened for looking only (`highwater query`): DuckDB's READ_ONLY access mode, so no statement
 * can change the file, with external access off (no file read or written outside it, no ATTACH, no extension
 * installed) and the configuration locked so a query cannot switch either back on. Results are streamed and cut
 * at a row limit, so a query of a billion rows reads no more than it shows.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ConfigError, describeError, WarehouseError } from '../../../errors.js';
import { isLockError, lockedError } from './errors.js';
import { type JsValue, toJsValue } from './values.js';

export interface ReadOnlyResult {
  columns: { name: string; type: string }[];
  rows: JsValue[][];
  /** More rows followed the last one returned. */
  truncated: boolean;
}

export interface ReadOnlyWarehouse {
  /** Runs one statement; at most `maxRows` rows come back. */
  query(sql: string, maxRows: number): Promise<ReadOnlyResult>;
  close(): void;
}

/** DuckDB's classes of errors in the statement itself (what the user wrote), rather than in the engine. */
const STATEMENT_ERRORS =
  /^(Parser|Binder|Catalog|Invalid Input|Permission|Conversion|Not implemented|Out of Range|Constraint) Error/;

/**
 * The statement's DuckDB error as it said it (`Parser Error: syntax error at or near "SELEC"`): a mistake in the
 * statement is the user's input (ConfigError, exit 1); anything else is the warehouse's (WarehouseError, exit 6).
 */
function queryError(e: unknown): ConfigError | WarehouseError {
  const text = describeError(e)
    .replace(/^Error: /, '')
    .replace(/^Failed to extract statements: /, '');
  const readOnly = /read-only mode/.test(text);
  const external = /file system operations are disabled|the configuration has been locked/.test(text);
  const suggestion = readOnly
    ? 'highwater query only reads: the warehouse is opened read-only, so statements that change it are refused.'
    : external
      ? 'highwater query reads the warehouse file only: files, other databases, extensions and settings are off limits.'
      : undefined;
  const Kind = STATEMENT_ERRORS.test(text) ? ConfigError : WarehouseError;
  return new Kind(`query failed: ${text}`, { cause: e, suggestion });
}

export async function openReadOnlyWarehouse(rawPath: string): Promise<ReadOnlyWarehouse> {
  const path = resolve(rawPath);
  // Opening a missing file read-only fails with DuckDB's own words; say what it means here.
  if (!existsSync(path)) {
    throw new ConfigError(`warehouse ${path} does not exist yet: nothing has been loaded into it`, {
      suggestion: 'Run `highwater sync -t schema.table` first, or point --home at the home that holds it.',
    });
  }
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, {
      access_mode: 'READ_ONLY',
      enable_external_access: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
  } catch (e) {
    if (isLockError(e)) throw lockedError(path, e);
    throw new WarehouseError(`cannot open warehouse ${path} read-only: ${describeError(e)}`, { cause: e });
  }
  let conn: DuckDBConnection;
  try {
    conn = await instance.connect();
    // Casts between timestamps with and without a zone use UTC, as everywhere in highwater, whatever the host's
    // zone; then the configuration is locked, so no statement can change a setting (external access, once off,
    // cannot be turned on again anyway).
    await conn.run("SET TimeZone = 'UTC'");
    await conn.run('SET lock_configuration = true');
  } catch (e) {
    instance.closeSync();
    throw new WarehouseError(`cannot open warehouse ${path} read-only: ${describeError(e)}`, { cause: e });
  }
  return {
    async query(sql, maxRows) {
      let statements: number;
      try {
        statements = (await conn.extractStatements(sql)).count;
      } catch (e) {
        throw queryError(e);
      }
      if (statements !== 1) {
        throw new ConfigError(`query must be exactly one SQL statement, got ${statements}`, {
          suggestion: 'Run one statement at a time: highwater query "SELECT …"',
        });
      }
      try {
        const result = await conn.stream(sql);
        const names = result.columnNames();
        const types = result.columnTypes().map(String);
        const rows: JsValue[][] = [];
        let truncated = false;
        for (;;) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) break;
          for (const row of chunk.getRows()) {
            if (rows.length >= maxRows) {
              truncated = true;
              break;
            }
            rows.push(row.map(toJsValue));
          }
          if (truncated) break;
        }
        return { columns: names.map((name, i) => ({ name, type: types[i] ?? '' })), rows, truncated };
      } catch (e) {
        throw queryError(e);
      }
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
