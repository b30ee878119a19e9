/**
 * The only place the CLI writes: data to stdout (so `--json` pipes cleanly), messages to stderr.
 * Colour only on a terminal and never with NO_COLOR.
 */
export interface OutputOptions {
  quiet: boolean;
  debug: boolean;
  json: boolean;
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

  /** Rewrites the current stderr line (terminal progress only). */
  status(line: string): void {
    if (this.isTty && !this.opts.quiet) this.stderr.write(`\r\x1b[2K${line}`);
  }

  endStatus(): void {
    if (this.isTty && !this.opts.quiet) this.stderr.write('\r\x1b[2K');
  }

  paint(code: string, s: string): string {
    return this.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }
}

/** Left-aligned columns for tables of text. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  }
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
