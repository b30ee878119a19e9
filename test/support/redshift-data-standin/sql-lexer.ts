/** A small SQL lexer: enough to rewrite Redshift-only syntax token by token without touching literals. */

export type TokenKind = 'ws' | 'comment' | 'string' | 'ident' | 'word' | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
}

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

/** The next token at the start of `rest`. */
function nextToken(rest: string): Token {
  const c = rest[0] ?? '';
  const ws = /^\s+/.exec(rest);
  if (ws) return { kind: 'ws', text: ws[0] };
  if (rest.startsWith('--')) {
    const nl = rest.indexOf('\n');
    return { kind: 'comment', text: nl === -1 ? rest : rest.slice(0, nl) };
  }
  if (rest.startsWith('/*')) {
    const close = rest.indexOf('*/', 2);
    return { kind: 'comment', text: close === -1 ? rest : rest.slice(0, close + 2) };
  }
  if (c === "'" || c === '"')
    return { kind: c === "'" ? 'string' : 'ident', text: rest.slice(0, quotedEnd(rest, 0, c)) };
  const word = /^[A-Za-z_][A-Za-z0-9_$]*|^[0-9]+(?:\.[0-9]+)?/.exec(rest);
  if (word) return { kind: 'word', text: word[0] };
  return { kind: 'punct', text: rest.startsWith('::') ? '::' : c };
}

export function lex(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const t = nextToken(sql.slice(i));
    out.push(t);
    i += t.text.length;
  }
  return out;
}

export function join(tokens: readonly Token[]): string {
  return tokens.map((t) => t.text).join('');
}

/** The value of an identifier token: a quoted one unquoted, a bare one lower-cased (as PostgreSQL folds it). */
export function identValue(t: Token): string {
  return t.kind === 'ident' ? t.text.slice(1, -1).replace(/""/g, '"') : t.text.toLowerCase();
}

/** The value of a string literal token. */
export function stringValue(t: Token): string {
  return t.text.slice(1, -1).replace(/''/g, "'");
}

export function isWord(t: Token | undefined, word: string): boolean {
  return t?.kind === 'word' && t.text.toLowerCase() === word;
}

/** Tokens without whitespace and comments (for matching shapes). */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
}
