/**
 * Installing as the ecosystem does: after `npm ci` the package's own bin is built (npm's `prepare`), so
 * `npx highwater` works in the checkout and any directory below it, and `npm install -g .` puts `highwater` on the
 * PATH (here under a private --prefix, not the machine's).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ROOT, spawnAsync } from '../support/cli.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let prefix = '';

beforeAll(() => {
  // What `npm ci` ran; a no-op when dist/ is newer than the sources.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'prepare.mjs')], { cwd: ROOT, stdio: 'ignore' });
  prefix = mkdtempSync(join(tmpdir(), 'hw-global-'));
});
afterAll(() => {
  if (prefix) rmSync(prefix, { recursive: true, force: true });
});

test('the built bin is a program: a shebang and the executable bit', () => {
  const bin = join(ROOT, 'dist', 'bin', 'highwater.js');
  expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  expect(statSync(bin).mode & 0o111).not.toBe(0);
});

test('npx highwater works in the checkout and in a directory below it', async () => {
  for (const cwd of [ROOT, join(ROOT, 'docs')]) {
    const r = await spawnAsync('npx', ['highwater', '--version'], { cwd });
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe(VERSION);
  }
});

test('npm install -g . gives a highwater command', async () => {
  const install = await spawnAsync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '.'], {
    cwd: ROOT,
  });
  expect(install.code, install.err).toBe(0);
  const r = await spawnAsync(join(prefix, 'bin', 'highwater'), ['--version'], { cwd: prefix });
  expect(r.code, r.err).toBe(0);
  expect(r.out.trim()).toBe(VERSION);
});
