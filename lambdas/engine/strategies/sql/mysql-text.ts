/**
 * A MySQL/MariaDB-faithful normaliser for user SQL (custom_query, additional_where). It lexes the text the way the
 * server's lexer does, only as far as needed to find strings, quoted identifiers, comments and placeholders, and
 * writes a normalised text in which nothing is ambiguous:
 *
 * - `'…'` and `"…"` strings (backslash escapes, doubled quotes) and `` `…` `` identifiers are copied as they are;
 * - comments are removed: `#` and `-- ` to the end of the line (`--` is a comment only when followed by whitespace,
 *   a control character or the end of the input, as in MySQL; otherwise it is two minus signs, written `- -` so
 *   that nothing downstream can read a comment there) and `/* … *\/`;
 * - executable comments `/*! … *\/`, `/*!NNNNN … *\/`, `/*M! … *\/` and `/*M!NNNNNN … *\/` are unwrapped, whatever
 *   their version: the server runs their content, so it becomes plain SQL that is judged (and sent) as such;
 * - named placeholders `:name` and the old tool's `{name}` become `?`, recorded in order; `{table_name}` becomes the
 *   quoted table. A literal `?` is refused, so every `?` of the result is one of ours.
 *
 * The normalised text is what gets parsed and what is sent to the server: the server runs exactly what was judged.
 * This module knows nothing of config errors; it throws MysqlTextError, whose message starts with the subject.
 */

export class MysqlTextError extends Error {
  /** Offset in the input the problem is about. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'MysqlTextError';
    this.offset = offset;
  }
}

export interface MysqlTextOptions {
  /** What the text is, starting every message: `custom_query`, `additional_where`. */
  subject: string;
  /** Names accepted as `:name` and `{name}`, each becoming a `?`. Absent or empty: placeholders are refused. */
  placeholders?: readonly string[];
  /** What `{table_name}` becomes (an already quoted name). Absent: `{table_name}` is refused. */
  tableName?: string;
}

export interface LineColumn {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface NormalisedMysql {
  /** The normalised text, without leading or trailing whitespace. */
  text: string;
  /** The placeholder names, in the order of the `?`s of `text`. */
  placeholders: string[];
  /** Offsets in `text` of the `;`s outside strings and identifiers. */
  semicolons: number[];
  /** Where in the input the character at `offset` of `text` came from (the end of `text` maps to the input's end). */
  position(offset: number): LineColumn;
}

/** MySQL's `my_isspace || my_iscntrl` for the byte after `--` (a NUL stands for the end of the query). */
function endsDashDash(input: string, i: number): boolean {
  if (i >= input.length) return true;
  const code = input.charCodeAt(i);
  return code <= 0x20 || code === 0x7f;
}

const SPACE = /[ \t\n\r\f\v]/;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const BRACE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/y;

/** 1-based line and column of `offset` in `input`. */
export function lineColumn(input: string, offset: number): LineColumn {
  const before = input.slice(0, Math.max(0, Math.min(offset, input.length)));
  const lastNl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: before.length - lastNl };
}

export function normaliseMysql(input: string, options: MysqlTextOptions): NormalisedMysql {
  const { subject } = options;
  const allowed = new Set(options.placeholders ?? []);
  const out: string[] = [];
  /** For each character of `out`, the input offset it came from. */
  const origin: number[] = [];
  const placeholders: string[] = [];
  const semicolons: number[] = [];
  const at = (offset: number): string => {
    const { line, column } = lineColumn(input, offset);
    return `line ${line}, column ${column}`;
  };
  const fail = (message: string, offset: number): never => {
    throw new MysqlTextError(`${subject} ${message} (${at(offset)})`, offset);
  };
  const emit = (text: string, from: number): void => {
    for (let k = 0; k < text.length; k++) {
      out.push(text[k]!);
      origin.push(from);
    }
  };
  /** A token boundary where a comment or marker was: one space, unless there is whitespace already. */
  const gap = (from: number): void => {
    if (out.length > 0 && !SPACE.test(out[out.length - 1]!)) emit(' ', from);
  };
  const copy = (start: number, end: number): void => {
    for (let k = start; k < end; k++) {
      out.push(input[k]!);
      origin.push(k);
    }
  };
  const placeholderList = (): string => {
    const known = [...allowed].map((p) => `:${p}`);
    if (options.tableName !== undefined) known.push('{table_name}');
    return known.join(', ');
  };
  const placeholder = (name: string, written: string, offset: number): void => {
    if (allowed.size === 0 && options.tableName === undefined)
      fail(`cannot use placeholders (found ${written})`, offset);
    if (!allowed.has(name)) fail(`uses the unknown placeholder ${written}; known: ${placeholderList()}`, offset);
    // Keep every `?` a token of its own: `??` means something else to the driver.
    if (out[out.length - 1] === '?') emit(' ', offset);
    emit('?', offset);
    placeholders.push(name);
  };

  /** Input offset of the `/*!` we are inside, or -1. */
  let executable = -1;
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    const next = input[i + 1];
    if (c === "'" || c === '"' || c === '`') {
      const start = i;
      let j = i + 1;
      for (;;) {
        if (j >= input.length) {
          const what = c === '`' ? '` identifier' : `${c} string`;
          fail(`has an unterminated ${what}`, start);
        }
        const ch = input[j]!;
        if (ch === '\\' && c !== '`') j += 2;
        else if (ch === c && input[j + 1] === c) j += 2;
        else if (ch === c) break;
        else j++;
      }
      const q = input.indexOf('?', start);
      if (q !== -1 && q < j) {
        fail(
          "contains a literal '?', which would be taken for a bound parameter; write CHAR(63) for a question mark",
          q,
        );
      }
      copy(start, j + 1);
      i = j + 1;
    } else if (c === '#' || (c === '-' && next === '-' && endsDashDash(input, i + 2))) {
      if (executable !== -1) fail('has a comment inside an executable /*! … */ comment; remove one of them', i);
      const nl = input.indexOf('\n', i);
      i = nl === -1 ? input.length : nl; // the newline itself stays, as whitespace
    } else if (c === '-') {
      // Not a comment: two minus signs stay two tokens, `- -`, whatever reads the text next.
      emit(next === '-' ? '- ' : '-', i);
      i++;
    } else if (c === '/' && next === '*') {
      if (executable !== -1) fail('has a comment inside an executable /*! … */ comment; remove one of them', i);
      const bang = input[i + 2] === '!' ? i + 2 : input[i + 2] === 'M' && input[i + 3] === '!' ? i + 3 : -1;
      if (bang !== -1) {
        // Which server runs the content depends on the marker and version (MySQL runs /*!NNNNN up to its own
        // version and ignores /*M!; MariaDB runs /*M! and /*!, but skips /*!50700 … /*!99999): unwrap it
        // whatever they are, so the content is judged, and sent, as plain SQL that every server runs.
        let j = bang + 1;
        if (/^[0-9]{5}/.test(input.slice(j, j + 5))) j += /[0-9]/.test(input[j + 5] ?? '') ? 6 : 5;
        gap(i);
        executable = i;
        i = j;
      } else {
        const end = input.indexOf('*/', i + 2);
        if (end === -1) fail('has an unterminated /* comment', i);
        // One space (or the comment's line breaks) in its place, so tokens around it stay apart.
        const breaks = input.slice(i, end).replace(/[^\n]/g, '');
        if (breaks === '') gap(i);
        else emit(breaks, i);
        i = end + 2;
      }
    } else if (c === '*' && next === '/' && executable !== -1) {
      gap(i);
      executable = -1;
      i += 2;
    } else if (c === ':' && /[A-Za-z_]/.test(next ?? '')) {
      NAME.lastIndex = i + 1;
      const name = NAME.exec(input)![0];
      placeholder(name, `:${name}`, i);
      i += 1 + name.length;
    } else if (c === '{') {
      BRACE.lastIndex = i;
      const m = BRACE.exec(input);
      if (!m) fail("has a stray '{'", i);
      const name = m![1]!;
      if (name === 'table_name' && options.tableName !== undefined) emit(options.tableName, i);
      else placeholder(name, `{${name}}`, i);
      i += m![0].length;
    } else if (c === '?') {
      if (allowed.size === 0) fail("cannot use placeholders (found '?')", i);
      const names = [...allowed].map((p) => `:${p}`).join(', ');
      fail(`contains a literal '?'; use the named placeholders (${names}) instead`, i);
    } else {
      if (c === ';') semicolons.push(out.length);
      emit(c, i);
      i++;
    }
  }
  if (executable !== -1) fail('has an unterminated executable /*! comment', executable);

  let start = 0;
  let end = out.length;
  while (start < end && SPACE.test(out[start]!)) start++;
  while (end > start && SPACE.test(out[end - 1]!)) end--;
  const kept = origin.slice(start, end);
  return {
    text: out.slice(start, end).join(''),
    placeholders,
    semicolons: semicolons.filter((s) => s >= start && s < end).map((s) => s - start),
    position: (offset) => lineColumn(input, offset >= 0 && offset < kept.length ? kept[offset]! : input.length),
  };
}
