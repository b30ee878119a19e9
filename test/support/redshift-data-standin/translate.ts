/**
 * Redshift SQL → PostgreSQL, for exactly the constructs in README.md's table and nothing more: anything else reaches
 * PostgreSQL unchanged and fails there as it would on Redshift if it is not valid in both.
 */
import { identValue, isWord, join, lex, significant, stringValue, type Token } from './sql-lexer.js';

/** A statement Redshift would refuse; the message becomes the statement's Error. */
export class RedshiftSqlError extends Error {}

export interface CopyCommand {
  kind: 'copy';
  /** The target as written (quoted identifiers kept), ready to splice into PostgreSQL SQL. */
  tableSql: string;
  columns: { name: string; sql: string }[];
  manifest: string;
  iamRole: string;
}

export interface PlainCommand {
  kind: 'sql';
  text: string;
  values: string[];
}

export interface SessionState {
  /** pg_last_copy_count(): rows the session's last COPY loaded, -1 before any. */
  lastCopyCount: number;
  /** A BatchExecuteStatement: its statements run in one transaction block. */
  inTransactionBlock: boolean;
}

const COPY_FORM =
  "COPY <table> (<columns>) FROM 's3://…manifest' IAM_ROLE '<role arn>' | default FORMAT AS PARQUET MANIFEST";

function expectWord(sig: Token[], i: number, word: string): number {
  if (!isWord(sig[i], word)) {
    throw new RedshiftSqlError(`the stand-in understands only ${COPY_FORM} (expected ${word.toUpperCase()})`);
  }
  return i + 1;
}

function parseCopy(sig: Token[]): CopyCommand {
  let i = 1;
  const nameParts: Token[] = [];
  while (sig[i] && (sig[i]?.kind === 'ident' || sig[i]?.kind === 'word') && !isWord(sig[i], 'from')) {
    nameParts.push(sig[i] as Token);
    i += 1;
    if (sig[i]?.text === '.') i += 1;
    else break;
  }
  if (nameParts.length === 0 || sig[i]?.text !== '(') {
    throw new RedshiftSqlError(`the stand-in understands only ${COPY_FORM} (a column list is required)`);
  }
  const tableSql = nameParts.map((t) => t.text).join('.');
  i += 1;
  const columns: CopyCommand['columns'] = [];
  while (sig[i] && sig[i]?.text !== ')') {
    const t = sig[i] as Token;
    if (t.kind !== 'ident' && t.kind !== 'word') throw new RedshiftSqlError(`bad COPY column list near ${t.text}`);
    columns.push({ name: identValue(t), sql: t.text });
    i += 1;
    if (sig[i]?.text === ',') i += 1;
  }
  i += 1;
  i = expectWord(sig, i, 'from');
  const source = sig[i];
  if (source?.kind !== 'string') throw new RedshiftSqlError(`the stand-in understands only ${COPY_FORM}`);
  i = expectWord(sig, i + 1, 'iam_role');
  const role = sig[i];
  let iamRole: string;
  if (role?.kind === 'string') iamRole = stringValue(role);
  else if (isWord(role, 'default')) iamRole = 'default';
  else throw new RedshiftSqlError(`the stand-in understands only ${COPY_FORM} (IAM_ROLE needs a role)`);
  i = expectWord(sig, i + 1, 'format');
  i = expectWord(sig, i, 'as');
  i = expectWord(sig, i, 'parquet');
  i = expectWord(sig, i, 'manifest');
  if (i < sig.length)
    throw new RedshiftSqlError(`the stand-in understands only ${COPY_FORM} (unexpected ${sig[i]?.text})`);
  return { kind: 'copy', tableSql, columns, manifest: stringValue(source), iamRole };
}

/** Words that follow ALTER in ALTER TABLE clauses other than ALTER [COLUMN] <column> … */
const TABLE_LEVEL_ALTERS = new Set(['distkey', 'diststyle', 'sortkey', 'compound', 'encode', 'autorefresh']);

/**
 * Refuses the ALTER TABLE … ALTER [COLUMN] forms Redshift refuses
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_TABLE.html), which PostgreSQL would run: ALTER COLUMN
 * takes only TYPE — "A clause that changes the size of a column defined as a VARCHAR data type", and "You can't
 * alter columns within a transaction block (BEGIN ... END)" — and ENCODE; no SET/DROP NOT NULL, no DEFAULT.
 */
function checkAlterColumn(sig: Token[], session: SessionState): void {
  if (!isWord(sig[0], 'alter') || !isWord(sig[1], 'table')) return;
  let i = 2;
  while (sig[i + 1]?.text === '.') i += 2;
  i += 1; // past the table name
  if (!isWord(sig[i], 'alter')) return;
  i += 1;
  const explicit = isWord(sig[i], 'column');
  if (explicit) i += 1;
  else if (sig[i]?.kind === 'word' && TABLE_LEVEL_ALTERS.has((sig[i] as Token).text.toLowerCase())) return;
  const action = sig[i + 1];
  const isType = isWord(action, 'type') || (isWord(action, 'set') && isWord(sig[i + 2], 'data'));
  if (isWord(action, 'encode')) return;
  if (!isType) {
    throw new RedshiftSqlError(
      `ALTER TABLE ALTER COLUMN takes only TYPE or ENCODE on Redshift, not ${significantText(sig.slice(i + 1, i + 3))}`,
    );
  }
  if (session.inTransactionBlock)
    throw new RedshiftSqlError('ALTER TABLE ALTER COLUMN cannot run inside a transaction block');
  const typeAt = isWord(action, 'type') ? i + 2 : i + 4;
  const varchar =
    isWord(sig[typeAt], 'varchar') || (isWord(sig[typeAt], 'character') && isWord(sig[typeAt + 1], 'varying'));
  if (!varchar) {
    throw new RedshiftSqlError(
      `ALTER TABLE ALTER COLUMN TYPE changes only the size of a VARCHAR column, not to ${significantText(sig.slice(typeAt))}`,
    );
  }
}

function significantText(tokens: Token[]): string {
  return tokens.map((t) => t.text).join(' ');
}

/** Index of the `)` matching the `(` at `open`. */
function closing(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]?.text === '(') depth += 1;
    if (tokens[i]?.text === ')') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return tokens.length - 1;
}

/** Drops DISTSTYLE x, DISTKEY (c), [COMPOUND|INTERLEAVED] SORTKEY (c, …) after CREATE TABLE's column list. */
function stripTableAttributes(tokens: Token[]): Token[] {
  const sig = significant(tokens);
  const isCreate =
    isWord(sig[0], 'create') &&
    (isWord(sig[1], 'table') || ((isWord(sig[1], 'temp') || isWord(sig[1], 'temporary')) && isWord(sig[2], 'table')));
  if (!isCreate) return tokens;
  const open = tokens.findIndex((t) => t.text === '(');
  if (open === -1) return tokens;
  const close = closing(tokens, open);
  const tail = tokens.slice(close + 1);
  const kept: Token[] = [];
  let i = 0;
  const next = (from: number): number => {
    let j = from;
    while (j < tail.length && (tail[j]?.kind === 'ws' || tail[j]?.kind === 'comment')) j += 1;
    return j;
  };
  for (;;) {
    const start = next(i);
    const t = tail[start];
    let end = -1;
    if (isWord(t, 'diststyle')) end = next(start + 1) + 1;
    else if (isWord(t, 'distkey') || isWord(t, 'sortkey')) end = closing(tail, next(start + 1)) + 1;
    else if ((isWord(t, 'compound') || isWord(t, 'interleaved')) && isWord(tail[next(start + 1)], 'sortkey')) {
      end = closing(tail, next(next(start + 1) + 1)) + 1;
    }
    if (end === -1) break;
    i = end;
  }
  kept.push(...tail.slice(i));
  return [...tokens.slice(0, close + 1), ...kept];
}

/** Rewrites `VARBYTE(n)` → `varbyte` (a domain: domains take no length), `pg_last_copy_count()`, `:name` → `$n`. */
function rewrite(tokens: Token[], params: ReadonlyMap<string, string>, session: SessionState): PlainCommand {
  const out: Token[] = [];
  const values: string[] = [];
  const numbers = new Map<string, number>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const sig = significant(tokens.slice(i + 1, i + 6));
    if (isWord(t, 'varbyte') && sig[0]?.text === '(' && sig[2]?.text === ')') {
      out.push({ kind: 'word', text: 'varbyte' });
      i = tokens.indexOf(sig[2], i);
      continue;
    }
    if (isWord(t, 'pg_last_copy_count') && sig[0]?.text === '(' && sig[1]?.text === ')') {
      out.push({ kind: 'word', text: String(session.lastCopyCount) });
      i = tokens.indexOf(sig[1], i);
      continue;
    }
    const name = tokens[i + 1];
    if (t.kind === 'punct' && t.text === ':' && name?.kind === 'word' && /^[A-Za-z_]/.test(name.text)) {
      const value = params.get(name.text);
      if (value === undefined) throw new RedshiftSqlError(`no value for parameter :${name.text}`);
      let n = numbers.get(name.text);
      if (n === undefined) {
        values.push(value);
        n = values.length;
        numbers.set(name.text, n);
      }
      out.push({ kind: 'word', text: `$${n}` });
      i += 1;
      continue;
    }
    out.push(t);
  }
  return { kind: 'sql', text: join(out), values };
}

export function translate(
  sql: string,
  params: ReadonlyMap<string, string>,
  session: SessionState,
): CopyCommand | PlainCommand {
  let tokens = lex(sql);
  const sig = significant(tokens);
  const semicolon = sig.findIndex((t) => t.text === ';');
  if (semicolon !== -1 && semicolon < sig.length - 1) {
    throw new RedshiftSqlError('the Data API runs one statement per SQL string; use BatchExecuteStatement for several');
  }
  if (semicolon !== -1) tokens = tokens.slice(0, tokens.lastIndexOf(sig[semicolon] as Token));
  if (isWord(sig[0], 'copy')) return parseCopy(significant(tokens));
  checkAlterColumn(sig, session);
  return rewrite(stripTableAttributes(tokens), params, session);
}
