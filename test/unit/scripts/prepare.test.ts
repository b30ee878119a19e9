/**
 * scripts/prepare.mjs, npm's `prepare`: it builds dist/ (tsc, then the CLI's bundle) unless both the bin and the
 * bundle are newer than every source, and a failed build fails the install with the builder's own message. Run
 * here on a scratch package whose tsc and bundler are stand-ins that record each call (the real build takes a
 * minute; what is judged is the decision and the failure).
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { ROOT } from '../../support/cli.js';

let root = '';

/** A stand-in builder: appends its name to build.log, writes `outputs`, or fails when FAIL_<NAME> is set. */
function standIn(name: string, outputs: string[]): string {
  return `const fs = require('node:fs'); const path = require('node:path');
if (process.env.FAIL_${name.toUpperCase()}) { console.error('${name}: error TS2322: the stand-in failed'); process.exit(2); }
fs.appendFileSync(path.join(process.cwd(), 'build.log'), '${name}\\n');
for (const f of ${JSON.stringify(outputs)}) { fs.mkdirSync(path.dirname(f), { recursive: true }); fs.writeFileSync(f, '#!/usr/bin/env node\\n'); }
`;
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Sets a file's times `secondsAgo` in the past, so newer/older is decided by these tests, not by the clock's grain. */
function age(path: string, secondsAgo: number): void {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, t, t);
}

function prepare(env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'prepare.mjs')], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
  let log: string[] = [];
  try {
    log = readFileSync(join(root, 'build.log'), 'utf8').trim().split('\n');
  } catch {
    // nothing built
  }
  rmSync(join(root, 'build.log'), { force: true });
  return { code: r.status, err: r.stderr, log };
}

const BIN = () => join(root, 'dist', 'bin', 'highwater.js');
const BUNDLE = () => join(root, 'dist', 'bin', 'cli', 'bundle', 'main.js');
const SOURCE = () => join(root, 'lambdas', 'engine', 'planner.ts');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hw-prepare-'));
  mkdirSync(join(root, 'scripts'));
  copyFileSync(join(ROOT, 'scripts', 'prepare.mjs'), join(root, 'scripts', 'prepare.mjs'));
  write(join(root, 'package.json'), '{"name":"scratch","type":"module"}\n');
  write(join(root, 'node_modules', 'typescript', 'package.json'), '{"type":"commonjs"}\n');
  write(join(root, 'node_modules', 'typescript', 'bin', 'tsc'), standIn('tsc', [BIN()]));
  write(
    join(root, 'scripts', 'bundle-cli.mjs'),
    standIn('bundle', [BUNDLE()]).replace(/require\(/g, 'process.getBuiltinModule('),
  );
  for (const f of [join(root, 'bin', 'highwater.ts'), join(root, 'lib', 'stack.ts'), SOURCE()]) write(f, '');
  for (const f of [join(root, 'package.json'), join(root, 'scripts', 'bundle-cli.mjs'), SOURCE()]) age(f, 60);
  for (const f of [join(root, 'bin', 'highwater.ts'), join(root, 'lib', 'stack.ts')]) age(f, 60);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('an unbuilt package is built: tsc, then the bundle, and the bin is made executable', () => {
  const r = prepare();
  expect(r.code, r.err).toBe(0);
  expect(r.log).toEqual(['tsc', 'bundle']);
  expect(statSync(BIN()).mode & 0o111).not.toBe(0);
});

test('a build newer than every source is kept; a source edited after it, or a bundle older than it, builds again', () => {
  expect(prepare().log).toEqual(['tsc', 'bundle']);
  const again = prepare();
  expect(again.log).toEqual([]);
  expect(again.err).toContain('prepare: dist/ is up to date');

  // A source newer than the build.
  write(SOURCE(), '// edited\n');
  expect(prepare().log).toEqual(['tsc', 'bundle']);

  // tsc ran alone after the bundle (the bin is new, the bundle older than a source): the bundle is stale.
  age(BUNDLE(), 120);
  expect(prepare().log).toEqual(['tsc', 'bundle']);
});

test("a failed tsc fails prepare with tsc's own message, and the bundle is not built from its output", () => {
  const r = prepare({ FAIL_TSC: '1' });
  expect(r.code).not.toBe(0);
  expect(r.err).toContain('tsc: error TS2322: the stand-in failed');
  expect(r.log).toEqual([]);
});

test("a failed bundle fails prepare with the bundler's message, and the next prepare builds again", () => {
  const r = prepare({ FAIL_BUNDLE: '1' });
  expect(r.code).not.toBe(0);
  expect(r.err).toContain('bundle: error TS2322: the stand-in failed');
  expect(r.log).toEqual(['tsc']);
  expect(prepare().log).toEqual(['tsc', 'bundle']);
});
