/**
 * Judging user SQL: custom_sql's `custom_query` (one read-only SELECT with named placeholders) and any table's
 * `additional_where` (one WHERE condition). Both are first normalised the way MySQL/MariaDB lex them
 * (mysql-text.ts), then parsed with node-sql-parser and judged on the parse tree; the normalised text is what is
 * parsed and what is sent, so the server runs exactly what was judged. See docs/decisions/0002-judging-user-sql.md.
 */
import { createRequire } from 'node:module';
import { ConfigError } from '../../../errors.js';
import { type LineColumn, MysqlTextError, type NormalisedMysql, normaliseMysql } from './mysql-text.js';

export const CUSTOM_SQL_PLACEHOLDERS = ['last_timestamp', 'last_id', 'upper_timestamp', 'upper_id', 'limit'] as const;
export type CustomSqlPlaceholder = (typeof CUSTOM_SQL_PLACEHOLDERS)[number];

/**
 * Functions that change state or stall the server, refused wherever they are called. Matched against function
 * nodes of the parse tree only, never against words of the text (so `REPLACE(…)` or a `sleep_count` column pass).
 */
export const DENIED_FUNCTIONS: ReadonlySet<string> = new Set([
  'SLEEP',
  'BENCHMARK',
  'GET_LOCK',
  'RELEASE_LOCK',
  'RELEASE_ALL_LOCKS',
  'IS_USED_LOCK',
  'IS_FREE_LOCK',
  'LOAD_FILE',
  'MASTER_POS_WAIT',
  'SOURCE_POS_WAIT',
  'MASTER_GTID_WAIT',
  'WAIT_FOR_EXECUTED_GTID_SET',
  'WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS',
  'SQL_THREAD_WAIT_AFTER_GTIDS',
  'NEXTVAL',
  'SETVAL',
  'LASTVAL',
]);

export interface PreparedCustomSql {
  /** The normalised query: placeholders are `?`, `{table_name}` is the quoted table, comments are gone. */
  sql: string;
  /** Placeholder names in the order of the `?`s. */
  placeholders: CustomSqlPlaceholder[];
}

type Node = Record<string, unknown>;

interface ParseFailure {
  message: string;
  /** Offset in the parsed text, when the parser gave one. */
  offset: number | undefined;
}

type ParserBuild = typeof import('node-sql-parser/build/mysql.js');
type Parsers = readonly { database: 'mysql' | 'mariadb'; parser: InstanceType<ParserBuild['Parser']> }[];
let parsersMade: Parsers | undefined;

// The grammars (CommonJS builds, ~270 KB each) are loaded and made on first use: most commands never judge user SQL,
// and loading them was ~30 ms of every command's start.
const requireHere = createRequire(import.meta.url);

function parsers(): Parsers {
  if (!parsersMade) {
    const mysql = requireHere('node-sql-parser/build/mysql.js') as ParserBuild;
    const mariadb = requireHere('node-sql-parser/build/mariadb.js') as ParserBuild;
    parsersMade = [
      { database: 'mysql', parser: new mysql.Parser() },
      { database: 'mariadb', parser: new mariadb.Parser() },
    ];
  }
  return parsersMade;
}

/** Parses with the MySQL grammar, then MariaDB's; the statements, or the failure that got furthest. */
function parse(text: string): unknown[] | ParseFailure {
  let best: ParseFailure | undefined;
  for (const { database, parser } of parsers()) {
    try {
      const ast = parser.astify(text, { database });
      return Array.isArray(ast) ? ast : [ast];
    } catch (e) {
      const location = (e as { location?: { start?: { offset?: unknown } } }).location?.start?.offset;
      const failure = {
        message: e instanceof Error ? e.message : String(e),
        offset: typeof location === 'number' ? location : undefined,
      };
      if (best === undefined || (failure.offset ?? -1) > (best.offset ?? -1)) best = failure;
    }
  }
  return best!;
}

/** The parser's message with its list of expected tokens cut short (it can list a hundred). */
function shortParserMessage(message: string): string {
  const m = /^Expected (.*) but (.*) found\.$/s.exec(message);
  if (!m || m[1]!.length <= 100) return message;
  const cut = m[1]!.lastIndexOf(', ', 100);
  return `Expected ${m[1]!.slice(0, cut === -1 ? 100 : cut)}, … but ${m[2]} found.`;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return true;
  if (Array.isArray(v)) return v.every(isEmpty);
  if (typeof v === 'object') return Object.values(v as Node).every(isEmpty);
  return false;
}

function isNode(v: unknown): v is Node {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isNode(v) && typeof v.value === 'string') return v.value;
  return undefined;
}

/** `SLEEP` for `{ type: 'function', name: { name: [{ value: 'sleep' }] } }` and an aggregate's `name: 'COUNT'`. */
function functionName(node: Node): string | undefined {
  const name = node.name;
  if (typeof name === 'string') return name.toUpperCase();
  if (isNode(name)) {
    const parts = Array.isArray(name.name) ? name.name : [name.name];
    const last = text(parts[parts.length - 1]) ?? text(name);
    return last?.toUpperCase();
  }
  return undefined;
}

function describeInto(into: Node): string {
  const keyword = typeof into.keyword === 'string' ? into.keyword.toUpperCase() : '';
  if (keyword === 'OUTFILE' || keyword === 'DUMPFILE') return `INTO ${keyword}`;
  const first = Array.isArray(into.expr) ? into.expr[0] : into.expr;
  if (isNode(first) && typeof first.name === 'string') return `INTO ${String(first.prefix ?? '')}${first.name}`;
  return 'INTO';
}

/**
 * The first reason the tree is not a plain read, from a walk of every object and array in it (so no clause or
 * node type can be missed): a denied function call, INTO, a locking read, a variable assignment, or a set
 * operation with something other than a SELECT.
 */
function readOnlyProblem(tree: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (v: unknown): string | undefined => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return undefined;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const item of v) {
        const p = visit(item);
        if (p) return p;
      }
      return undefined;
    }
    const node = v as Node;
    const type = typeof node.type === 'string' ? node.type.toLowerCase() : '';
    if (type === 'function' || type.endsWith('_func') || type === 'function_call') {
      const name = functionName(node);
      if (name !== undefined && DENIED_FUNCTIONS.has(name)) return `it calls ${name}()`;
    }
    if (type === 'assign') {
      const left = isNode(node.left) ? `${String(node.left.prefix ?? '')}${String(node.left.name ?? '')}` : '';
      return `it assigns a variable (${left || '…'} ${String(node.symbol ?? ':=')} …)`;
    }
    if (type === 'into') return `it writes ${describeInto(node)}`;
    if ('into' in node && !isEmpty(node.into)) {
      return `it writes ${isNode(node.into) ? describeInto(node.into) : 'INTO'}`;
    }
    if ('locking_read' in node && !isEmpty(node.locking_read)) {
      const lock = typeof node.locking_read === 'string' ? node.locking_read : 'FOR UPDATE';
      return `it locks the rows it reads (${lock.toUpperCase()})`;
    }
    if (isNode(node._next) && node._next.type !== 'select') {
      return `it combines a SELECT with a ${String(node._next.type).toUpperCase()} statement`;
    }
    for (const value of Object.values(node)) {
      const p = visit(value);
      if (p) return p;
    }
    return undefined;
  };
  return visit(tree);
}

interface Judged {
  fail(message: string): ConfigError;
}

/** Normalises `input`, turning the normaliser's complaints into ConfigErrors at `where`. */
function normalise(
  input: string,
  where: string,
  options: Parameters<typeof normaliseMysql>[1],
): NormalisedMysql & Judged {
  const fail = (message: string) => new ConfigError(`${where}: ${message}`);
  try {
    return { ...normaliseMysql(input, options), fail };
  } catch (e) {
    if (e instanceof MysqlTextError) throw fail(e.message);
    throw e;
  }
}

/** `custom_query does not parse as MySQL or MariaDB SQL (line 1, column 26): Expected … but ")" found.` */
function parseFailure(what: string, failure: ParseFailure, position: (offset: number) => LineColumn): string {
  let at = '';
  if (failure.offset !== undefined) {
    const { line, column } = position(failure.offset);
    at = ` (line ${line}, column ${column})`;
  }
  return `${what}${at}: ${shortParserMessage(failure.message)}`;
}

/**
 * Normalises `query` and checks it is exactly one read-only SELECT (WITH … SELECT and UNION/INTERSECT/EXCEPT of
 * SELECTs are fine). Its placeholders become `?`s: `:last_timestamp`, `:last_id`, `:upper_timestamp`, `:upper_id`,
 * `:limit`, the old tool's `{last_timestamp}` etc., and `{table_name}` becomes `quotedTable`. `where` starts every
 * error message (e.g. `shop.orders`).
 */
export function prepareCustomSql(query: string, quotedTable: string, where: string): PreparedCustomSql {
  const subject = 'custom_query';
  const n = normalise(query, where, { subject, placeholders: CUSTOM_SQL_PLACEHOLDERS, tableName: quotedTable });
  let sql = n.text;
  // One trailing `;` is harmless; the query is wrapped in a derived table, so it must not stay.
  if (n.semicolons.length > 0 && n.semicolons[n.semicolons.length - 1] === sql.length - 1) {
    sql = sql.slice(0, -1).trimEnd();
    n.semicolons.pop();
  }
  if (n.semicolons.length > 0) {
    const { line, column } = n.position(n.semicolons[0]!);
    throw n.fail(
      `${subject} must be a single SELECT statement (found more than one statement: ';' at line ${line}, column ${column})`,
    );
  }
  if (sql === '') throw n.fail(`${subject} is empty`);
  const parsed = parse(sql);
  if (!Array.isArray(parsed)) {
    throw n.fail(parseFailure(`${subject} does not parse as MySQL or MariaDB SQL`, parsed, n.position));
  }
  if (parsed.length !== 1) {
    throw n.fail(`${subject} must be a single SELECT statement (found ${parsed.length} statements)`);
  }
  const ast = parsed[0];
  const type = isNode(ast) && typeof ast.type === 'string' ? ast.type : 'unknown';
  if (type !== 'select') {
    throw n.fail(`${subject} must start with SELECT (or WITH … SELECT); this is a ${type.toUpperCase()} statement`);
  }
  const problem = readOnlyProblem(ast);
  if (problem) throw n.fail(`${subject} must be one read-only SELECT: ${problem}`);
  return { sql, placeholders: n.placeholders as CustomSqlPlaceholder[] };
}

const WHERE_PREFIX = 'SELECT 1 FROM t WHERE ';

const CLAUSES: Record<string, string> = {
  with: 'WITH',
  options: 'SELECT options',
  distinct: 'DISTINCT',
  into: 'INTO',
  groupby: 'GROUP BY',
  having: 'HAVING',
  orderby: 'ORDER BY',
  limit: 'LIMIT',
  locking_read: 'a locking clause',
  window: 'WINDOW',
  qualify: 'QUALIFY',
  _next: 'a UNION/INTERSECT/EXCEPT',
  set_op: 'a UNION/INTERSECT/EXCEPT',
};

/** Whether `from` is exactly our `t`: no join, alias, index hint or partition. */
function isOurTable(from: unknown): boolean {
  if (!Array.isArray(from) || from.length !== 1 || !isNode(from[0])) return false;
  const { table, ...rest } = from[0];
  return table === 't' && isEmpty(rest);
}

/**
 * Normalises `text` (no placeholders allowed) and checks it is one WHERE condition: `SELECT 1 FROM t WHERE <it>`
 * must parse to a single SELECT with nothing beyond FROM t and that WHERE, calling no denied function. Returns the
 * normalised condition; the caller wraps it in parentheses. `where` starts every error message.
 */
export function prepareAdditionalWhere(text: string, where: string): string {
  const subject = 'additional_where';
  const n = normalise(text, where, { subject });
  if (n.text === '') throw n.fail(`${subject} is empty`);
  if (n.semicolons.length > 0) {
    const { line, column } = n.position(n.semicolons[0]!);
    throw n.fail(`${subject} must be one condition, without ';' (found at line ${line}, column ${column})`);
  }
  const parsed = parse(WHERE_PREFIX + n.text);
  if (!Array.isArray(parsed)) {
    const offset = parsed.offset === undefined ? undefined : Math.max(0, parsed.offset - WHERE_PREFIX.length);
    const what = `${subject} does not parse as a MySQL or MariaDB WHERE condition`;
    throw n.fail(parseFailure(what, { ...parsed, offset }, n.position));
  }
  const ast = parsed.length === 1 ? parsed[0] : undefined;
  if (!isNode(ast) || ast.type !== 'select' || !isOurTable(ast.from) || isEmpty(ast.where)) {
    throw n.fail(`${subject} must be one condition for a WHERE clause`);
  }
  for (const [key, value] of Object.entries(ast)) {
    if (key === 'type' || key === 'columns' || key === 'from' || key === 'where') continue;
    if (!isEmpty(value)) {
      const setOp = (key === '_next' || key === 'set_op') && typeof ast.set_op === 'string';
      const lock = key === 'locking_read' && typeof value === 'string' ? value.toUpperCase() : undefined;
      const clause = setOp ? String(ast.set_op).toUpperCase() : (lock ?? CLAUSES[key] ?? key);
      throw n.fail(`${subject} must be one condition for a WHERE clause: it adds ${clause} after it`);
    }
  }
  const problem = readOnlyProblem(ast);
  if (problem) throw n.fail(`${subject} must be a read-only condition: ${problem}`);
  return n.text;
}
