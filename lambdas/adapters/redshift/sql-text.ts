/**
 * The port's `?` placeholders → the Data API's named parameters (`:p1`, `:p2`, …). Only `?` in SQL code counts;
 * string literals, quoted identifiers and comments are copied untouched.
 */
import type { SqlParameter } from '@aws-sdk/client-redshift-data';
import { WarehouseError } from '../../errors.js';

interface Piece {
  code: boolean;
  text: string;
}

/** Finds where a quoted run starting at `i` (with `quote` doubled inside) ends; unterminated runs end at the end. */
function quotedEnd(sql: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] === quote) j += 2;
      else return j + 1;
    } else j += 1;
  }
  return sql.length;
}

export function splitSql(sql: string): Piece[] {
  const pieces: Piece[] = [];
  let code = '';
  let i = 0;
  const flush = () => {
    if (code) pieces.push({ code: true, text: code });
    code = '';
  };
  while (i < sql.length) {
    const c = sql[i];
    let end = -1;
    if (c === "'" || c === '"') end = quotedEnd(sql, i, c);
    else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      end = nl === -1 ? sql.length : nl;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      end = close === -1 ? sql.length : close + 2;
    }
    if (end === -1) {
      code += c;
      i += 1;
    } else {
      flush();
      pieces.push({ code: false, text: sql.slice(i, end) });
      i = end;
    }
  }
  flush();
  return pieces;
}

/** A port parameter as the Data API takes it, or the SQL literal to inline where the API has no way to send it. */
function toDataApiValue(value: unknown, index: number): { value: string } | { literal: string } {
  if (value === null || value === undefined) return { literal: 'NULL' };
  // The Data API refuses an empty parameter value (minimum length 1); the empty string is a fixed literal.
  if (value === '') return { literal: "''" };
  if (typeof value === 'string') return { value };
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new WarehouseError(`query parameter ${index + 1} is not a finite number (${value})`);
    }
    return { value: String(value) };
  }
  if (typeof value === 'boolean') return { value: value ? 'true' : 'false' };
  if (value instanceof Date) return { value: value.toISOString() };
  throw new WarehouseError(
    `query parameter ${index + 1} has an unsupported type (${value instanceof Uint8Array ? 'binary' : typeof value}); the Data API takes text, numbers, booleans, dates and null`,
  );
}

export interface BoundSql {
  sql: string;
  parameters: SqlParameter[];
}

/** Replaces each `?` in code with `:pN` (or a fixed literal for NULL / ''); the count must match `params`. */
export function bindPositional(sql: string, params: readonly unknown[]): BoundSql {
  const parameters: SqlParameter[] = [];
  let n = 0;
  const out = splitSql(sql)
    .map((piece) => {
      if (!piece.code) return piece.text;
      return piece.text.replace(/\?/g, () => {
        const index = n;
        n += 1;
        if (index >= params.length) return '?';
        const v = toDataApiValue(params[index], index);
        if ('literal' in v) return v.literal;
        const name = `p${index + 1}`;
        parameters.push({ name, value: v.value });
        return `:${name}`;
      });
    })
    .join('');
  if (n !== params.length) {
    throw new WarehouseError(`query has ${n} ? placeholders but ${params.length} parameters were given`);
  }
  return { sql: out, parameters };
}

/** The query port runs one read statement: SELECT or WITH, nothing after a `;`. */
export function assertSingleRead(sql: string): void {
  const code = splitSql(sql)
    .filter((p) => p.code)
    .map((p) => p.text)
    .join(' ');
  const body = code.trim().replace(/;\s*$/, '');
  if (body.includes(';')) throw new WarehouseError('query must be exactly one statement');
  const first = /^\s*\(*\s*([A-Za-z]+)/.exec(body)?.[1]?.toUpperCase();
  if (first !== 'SELECT' && first !== 'WITH') {
    throw new WarehouseError(`query must be a read-only SELECT (or WITH … SELECT), got ${first ?? 'nothing'}`);
  }
}
