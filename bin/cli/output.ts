/**
 * The only place the CLI writes: data to stdout (so `--json` pipes cleanly), messages to stderr.
 * Colour only on a terminal and never with NO_COLOR.
 */
import { type Align, textTable } from './text-table.js';

export interface OutputOptions {
  quiet: boolean;
  debug: boolean;
  json: boolean;
}

/** Whether this process already wrote its one JSON document to stdout (a failure after it is told as text). */
let jsonDocumentWritten = false;
export function jsonWritten(): boolean {
  return jsonDocumentWritten;
}

export class Output {
  readonly isTty: boolean;
  private readonly color: boolean;

  constructor(
    readonly opts: OutputOptions,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    this.isTty = Boolean(stderr.isTTY);
    this.color = this.isTty && !process.env.NO_COLOR;
  }

  /** A line of result data (suppressed in --json mode: JSON goes through json()). */
  data(line = ''): void {
    if (!this.opts.json) this.stdout.write(`${line}\n`);
  }

  json(value: unknown): void {
    jsonDocumentWritten = true;
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  info(line: string): void {
    if (!this.opts.quiet) this.stderr.write(`${line}\n`);
  }

  /** Mode banners go to stdout, where the old tool printed them and users' scripts grep for them. */
  banner(lines: string[]): void {
    if (this.opts.quiet || this.opts.json) return;
    for (const l of lines) this.stdout.write(`${l}\n`);
  }

  warn(line: string): void {
    this.stderr.write(`${this.paint('33', 'warning:')} ${line}\n`);
  }

  error(line: string): void {
    this.stderr.write(`${this.paint('31', 'error:')} ${line}\n`);
  }

  debug(line: string): void {
    if (this.opts.debug) this.stderr.write(`${this.paint('2', `debug: ${line}`)}\n`);
  }

  paint(code: string, s: string): string {
    return this.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }
}

/** A number as tables print it: digits with separators, a decimal part, a unit (12,345 · 1.5 MB · 3.2 s · 40%). */
const NUMERIC = /^[-+]?\d[\d,_]*(\.\d+)?( ?(B|kB|KB|KiB|MB|MiB|GB|GiB|TB|ms|s|min|h|d|%|rows\/s|rows))?$/;

/**
 * Columns for tables of text (text-table.ts: display widths, two spaces apart), a column of numbers right-aligned
 * (its header too), the rest left-aligned. The first row is the header when `header` is true.
 */
export function table(rows: string[][], header = false): string[] {
  const numeric: boolean[] = [];
  for (const [r, row] of rows.entries()) {
    if (header && r === 0) continue;
    for (const [i, c] of row.entries()) {
      if (c !== '' && c !== '-') numeric[i] = (numeric[i] ?? true) && NUMERIC.test(c);
    }
  }
  const width = Math.max(0, ...rows.map((r) => r.length));
  return textTable(
    rows,
    Array.from({ length: width }, (_, i): Align => (numeric[i] ? 'right' : 'left')),
  );
}
