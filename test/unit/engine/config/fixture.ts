/** Temp project folders for the config tests (never the repo's own config/). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const made: string[] = [];

/** A temp working directory holding `files` (paths relative to it). */
export function project(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'hw-config-'));
  made.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

export function removeProjects(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** `line:col` (1-based) where `needle` starts in `text`: expected positions follow the fixture, not a guess. */
export function posOf(text: string, needle: string): string {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`fixture does not contain ${needle}`);
  const before = text.slice(0, i).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

/** Runs `fn` and returns what it threw (failing the test if it did not throw). */
export async function thrown(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** Two named connections: enough for multi-connection mode. */
export const TWO_CONNECTIONS = `connections:
  sources:
    shop:
      host: mysql.example.com
      database: shop
      username: reader
      password: \${SHOP_PW}
  targets:
    wh:
      type: duckdb
`;
