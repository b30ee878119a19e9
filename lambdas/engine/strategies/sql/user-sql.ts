/**
 * custom_sql: a user's SELECT with named placeholders. We never splice values into it: placeholders become `?`
 * with bound values. The text is checked to be exactly one read-only SELECT, by a small tokenizer that knows
 * MySQL's strings, quoted identifiers and comments (so a `created_at` column or a ';' inside a string is fine).
 */
import { ConfigError } from '../../../runtime/errors.js';

export const CUSTOM_SQL_PLACEHOLDERS = ['last_timestamp', 'last_id', 'upper_timestamp', 'upper_id', 'limit'] as const;
export type CustomSqlPlaceholder = (typeof CUSTOM_SQL_PLACEHOLDERS)[number];

/** Words that make a statement something other than a plain read. */
const FORBIDDEN = new Set([
  'insert',
  'update',
  'delete',
  'replace',
  'merge',
  'create',
  'drop',
  'alter',
  'truncate',
  'rename',
  'grant',
  'revoke',
  'call',
  'load',
  'handler',
  'set',
  'do',
  'lock',
  'unlock',
  'into',
  'outfile',
  'dumpfile',
  'sleep',
  'benchmark',
  'get_lock',
]);

interface Token {
  kind: 'word' | 'placeholder' | 'brace' | 'other' | 'semicolon';
  text: string;
  start: number;
  end: number;
}

function tokenize(sql: string, where: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const rest = sql.slice(i);
    if (/\s/.test(c)) {
      i++;
    } else if (rest.startsWith('--') || c === '#') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? sql.length : nl + 1;
    } else if (rest.startsWith('/*')) {
      const endIdx = sql.indexOf('*/', i + 2);
      if (endIdx === -1) throw new ConfigError(`${where}: unterminated /* comment in custom_query`);
      // MySQL executes /*! … */ comments: refuse them rather than guess.
      if (rest.startsWith('/*!')) throw new ConfigError(`${where}: executable /*! … */ comments are not allowed`);
      i = endIdx + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '\\' && c !== '`') j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      if (j >= sql.length) throw new ConfigError(`${where}: unterminated ${c} quote in custom_query`);
      out.push({ kind: 'other', text: sql.slice(i, j + 1), start: i, end: j + 1 });
      i = j + 1;
    } else if (c === ':' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const m = /^:([A-Za-z_][A-Za-z0-9_]*)/.exec(rest)!;
      out.push({ kind: 'placeholder', text: m[1]!, start: i, end: i + m[0].length });
      i += m[0].length;
    } else if (c === '{') {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(rest);
      if (!m) throw new ConfigError(`${where}: stray '{' in custom_query`);
      out.push({ kind: 'brace', text: m[1]!, start: i, end: i + m[0].length });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(rest)!;
      out.push({ kind: 'word', text: m[0].toLowerCase(), start: i, end: i + m[0].length });
      i += m[0].length;
    } else if (c === ';') {
      out.push({ kind: 'semicolon', text: ';', start: i, end: i + 1 });
      i++;
    } else if (c === '?') {
      throw new ConfigError(`${where}: use named placeholders (:last_timestamp, …) in custom_query, not '?'`);
    } else {
      out.push({ kind: 'other', text: c, start: i, end: i + 1 });
      i++;
    }
  }
  return out;
}

export interface PreparedCustomSql {
  /** The query with placeholders replaced by `?` and `{table_name}` by the quoted table. */
  sql: string;
  /** Placeholder names in the order of the `?`s. */
  placeholders: CustomSqlPlaceholder[];
}

/**
 * Validates `query` as one read-only SELECT and turns its placeholders into bound parameters. The old tool's
 * `{table_name}`, `{last_timestamp}`, `{last_id}` and `{limit}` are accepted too.
 */
export function prepareCustomSql(query: string, quotedTable: string, where: string): PreparedCustomSql {
  const tokens = tokenize(query, where);
  const semis = tokens.filter((t) => t.kind === 'semicolon');
  const last = tokens[tokens.length - 1];
  if (semis.length > 1 || (semis.length === 1 && last?.kind !== 'semicolon')) {
    throw new ConfigError(`${where}: custom_query must be a single SELECT statement (found more than one statement)`);
  }
  const body = semis.length === 1 ? tokens.slice(0, -1) : tokens;
  const first = body[0];
  if (first?.kind !== 'word' || (first.text !== 'select' && first.text !== 'with')) {
    throw new ConfigError(`${where}: custom_query must start with SELECT (or WITH … SELECT)`);
  }
  for (const [idx, t] of body.entries()) {
    if (t.kind !== 'word') continue;
    const forUpdate = t.text === 'for' && body[idx + 1]?.text === 'update';
    if (FORBIDDEN.has(t.text) || forUpdate) {
      throw new ConfigError(
        `${where}: custom_query must be a read-only SELECT; it contains ${JSON.stringify(t.text.toUpperCase())}`,
      );
    }
  }
  let sql = '';
  let pos = 0;
  const placeholders: CustomSqlPlaceholder[] = [];
  for (const t of body) {
    if (t.kind !== 'placeholder' && t.kind !== 'brace') continue;
    sql += query.slice(pos, t.start);
    pos = t.end;
    if (t.kind === 'brace' && t.text === 'table_name') {
      sql += quotedTable;
      continue;
    }
    if (!(CUSTOM_SQL_PLACEHOLDERS as readonly string[]).includes(t.text)) {
      throw new ConfigError(
        `${where}: unknown placeholder ${t.kind === 'brace' ? `{${t.text}}` : `:${t.text}`} in custom_query; ` +
          `known: ${CUSTOM_SQL_PLACEHOLDERS.map((p) => `:${p}`).join(', ')}, {table_name}`,
      );
    }
    sql += '?';
    placeholders.push(t.text as CustomSqlPlaceholder);
  }
  const end = semis.length === 1 ? semis[0]!.start : query.length;
  sql += query.slice(pos, end);
  return { sql: sql.trim(), placeholders };
}
