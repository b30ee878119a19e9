/**
 * The source session on a server whose sql_mode would lex user SQL differently from MySQL's defaults
 * (NO_BACKSLASH_ESCAPES, ANSI_QUOTES through ANSI): the session drops exactly those modes, so a custom_query runs
 * as it was judged. A private server, because sql_mode is set server-wide.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMysqlSource } from '../../lambdas/adapters/mysql/index.js';
import { prepareCustomSql } from '../../lambdas/engine/strategies/sql/user-sql.js';
import type { SourceReader } from '../../lambdas/ports/index.js';
import { type MariaDbInstance, startMariaDb } from '../support/mariadb.js';

let server: MariaDbInstance;
let source: SourceReader;

beforeAll(async () => {
  server = await startMariaDb(['--sql-mode=ANSI,NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES']);
  source = createMysqlSource({ host: server.host, port: server.port, user: server.user, password: server.password });
});
afterAll(async () => {
  await source?.close();
  await server?.stop();
});

test('the session keeps the server’s other modes but not the ones that change how SQL text is lexed', async () => {
  const [row] = await source.query<{ mode: string }>('SELECT @@SESSION.sql_mode AS mode');
  const modes = String(row?.mode).split(',');
  expect(modes).toContain('STRICT_TRANS_TABLES');
  expect(modes).toContain('PIPES_AS_CONCAT');
  for (const m of ['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES', 'ANSI']) expect(modes).not.toContain(m);
});

test('a string with a backslash-escaped quote runs as the judge read it: one string, no statement after it', async () => {
  // Under NO_BACKSLASH_ESCAPES the string would end at \' and the rest would be SQL.
  const judged = prepareCustomSql(String.raw`SELECT 'a\' OR 1=1 -- ' AS x, "q" AS y`, '`t`', 'q');
  const [row] = await source.query<{ x: string; y: string }>(judged.sql);
  expect(row).toEqual({ x: "a' OR 1=1 -- ", y: 'q' });
});
