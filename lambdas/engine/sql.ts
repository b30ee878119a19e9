/** Identifier quoting for the two SQL dialects we speak. Values never go through here: they are bound parameters. */

/** MySQL: backticks, with a backtick inside doubled. */
export function quoteMysql(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains NUL');
  return `\`${name.replace(/`/g, '``')}\``;
}

/** ANSI (DuckDB, PostgreSQL, Redshift): double quotes, with a double quote inside doubled. */
export function quoteAnsi(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains NUL');
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualifiedAnsi(schema: string, name: string): string {
  return `${quoteAnsi(schema)}.${quoteAnsi(name)}`;
}

export function qualifiedMysql(schema: string, name: string): string {
  return `${quoteMysql(schema)}.${quoteMysql(name)}`;
}
