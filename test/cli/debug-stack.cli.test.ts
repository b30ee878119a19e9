/**
 * An unexpected error (a bug, not a HighwaterError) is one `error:` line; with --debug its stack follows, and through
 * the bundle's source maps it names the TypeScript sources, not the bundle's chunk files. The failure is injected by
 * a preload that makes fs.readdirSync throw for one folder, which `status` lists as the home's disk use.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from '../support/cli.js';

let dir = '';
let env: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-debug-stack-'));
  const home = join(dir, 'hw-inject');
  mkdirSync(home);
  const preload = join(dir, 'inject.mjs');
  writeFileSync(
    preload,
    `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const readdirSync = fs.readdirSync;
fs.readdirSync = (path, ...rest) => {
  if (String(path).endsWith('hw-inject')) throw new Error('injected failure');
  return readdirSync(path, ...rest);
};
syncBuiltinESMExports();
`,
  );
  env = { HIGHWATER_HOME: home, NODE_OPTIONS: `--import=${pathToFileURL(preload).href}` };
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('without --debug an unexpected error is one line and exit 4, with no stack', () => {
  const r = runCli(['status'], { cwd: dir, env });
  expect(r.code).toBe(4);
  expect(r.err).toBe('error: injected failure\n');
});

test('with --debug its stack names the TypeScript sources through the source maps', () => {
  const r = runCli(['--debug', 'status'], { cwd: dir, env });
  expect(r.code).toBe(4);
  expect(r.err.match(/^error: injected failure$/gm)).toHaveLength(1);
  const frames = r.err.split('\n').filter((l) => l.startsWith('    at '));
  expect(frames.some((f) => f.includes('lambdas/local/engine/disk-use.ts:'))).toBe(true);
  expect(frames.some((f) => f.includes('bin/cli/commands/status.ts:'))).toBe(true);
  expect(frames.filter((f) => f.includes('/bundle/'))).toEqual([]);
});
