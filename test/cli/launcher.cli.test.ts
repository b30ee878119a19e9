/**
 * bin/highwater, the command's launcher: it finds itself through npm's links, starts Node.js once with the flags
 * bin/cli/node-flags.ts lists, and leaves the young generation alone where the user's NODE_OPTIONS sets it. The
 * built entry run any other way re-executes itself for the same flags, so one start here is one the launcher saved.
 */
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI_NODE_FLAGS } from '../../bin/cli/node-flags.js';
import { HIGHWATER, NODE, ROOT, spawnAsync } from '../support/cli.js';

const LAUNCHER = join(ROOT, 'bin', 'highwater');
let dir = '';
let stubPath = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-launcher-'));
  // A `node` that prints the arguments it was given, one a line, instead of running anything.
  const stubBin = join(dir, 'stub-bin');
  mkdirSync(stubBin);
  writeFileSync(join(stubBin, 'node'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
  chmodSync(join(stubBin, 'node'), 0o755);
  stubPath = `${stubBin}:/usr/bin:/bin`;
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The arguments the launcher handed to `node`, with the script's path made canonical (from `cwd`, as node would). */
async function launchedWith(command: string, args: string[], env: Record<string, string> = {}, cwd = dir) {
  const r = await spawnAsync(command, args, { cwd, env: { PATH: stubPath, ...env } });
  expect(r.code, r.err).toBe(0);
  expect(r.err).toBe('');
  const argv = r.out.split('\n').slice(0, -1);
  const script = argv.findIndex((a) => a.endsWith('highwater.js'));
  expect(script, r.out).toBeGreaterThanOrEqual(0);
  return {
    flags: argv.slice(0, script),
    script: realpathSync(resolve(cwd, argv[script] ?? '')),
    rest: argv.slice(script + 1),
  };
}

test('the launcher is an executable shell script', () => {
  expect(readFileSync(LAUNCHER, 'utf8').startsWith('#!/bin/sh\n')).toBe(true);
  expect(statSync(LAUNCHER).mode & 0o111).not.toBe(0);
});

test('it starts node with the CLI flags, the built entry, and every argument as given', async () => {
  const r = await launchedWith(LAUNCHER, ['sync', '-t', 'shop.orders', 'a b', '', '$HOME']);
  expect(r.flags).toEqual([...CLI_NODE_FLAGS]);
  expect(r.script).toBe(realpathSync(HIGHWATER));
  expect(r.rest).toEqual(['sync', '-t', 'shop.orders', 'a b', '', '$HOME']);
});

test('it finds the built entry through absolute and relative links, and when sh runs it by a bare name', async () => {
  // npm's links: node_modules/.bin/highwater -> ../highwater/bin/highwater; a global prefix links the package.
  const links = join(dir, 'links', 'bin');
  mkdirSync(links, { recursive: true });
  symlinkSync(LAUNCHER, join(dir, 'links', 'absolute'));
  symlinkSync('../absolute', join(links, 'relative'));
  for (const command of [join(dir, 'links', 'absolute'), join(links, 'relative')]) {
    const r = await launchedWith(command, ['--help']);
    expect(r.script, command).toBe(realpathSync(HIGHWATER));
    expect(r.flags).toEqual([...CLI_NODE_FLAGS]);
  }
  const bare = await launchedWith('sh', ['highwater', '--help'], {}, dirname(LAUNCHER));
  expect(bare.script).toBe(realpathSync(HIGHWATER));
});

test('without a build, or without node on PATH, it says which and exits non-zero, starting nothing', async () => {
  // A copy of the package with no dist/ beside its bin/.
  const pkg = join(dir, 'unbuilt');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  copyFileSync(LAUNCHER, join(pkg, 'bin', 'highwater'));
  chmodSync(join(pkg, 'bin', 'highwater'), 0o755);
  const unbuilt = await spawnAsync(join(pkg, 'bin', 'highwater'), ['--version'], { cwd: dir, env: { PATH: stubPath } });
  expect(unbuilt.code).toBe(1);
  expect(unbuilt.out).toBe('');
  expect(unbuilt.err.trim().split('\n')).toEqual([
    `highwater: ${join(pkg, 'bin')}/../dist/bin/highwater.js is missing: build it with npm run build (npm ci and npm install build it)`,
  ]);
  // PATH holds no node (an empty folder; sh itself is named by its path).
  const empty = join(dir, 'empty-path');
  mkdirSync(empty);
  const nodeless = await spawnAsync('/bin/sh', [LAUNCHER, '--version'], { cwd: dir, env: { PATH: empty } });
  expect(nodeless.code).toBe(127);
  expect(nodeless.out).toBe('');
  expect(nodeless.err).toMatch(/^highwater: no node on PATH: install Node\.js 22\.12 or newer[^\n]*\n$/);
});

test("the user's NODE_OPTIONS setting of the young generation wins", async () => {
  const own = await launchedWith(LAUNCHER, ['--help'], { NODE_OPTIONS: '--max-semi-space-size=32' });
  expect(own.flags).toEqual([]);
  const other = await launchedWith(LAUNCHER, ['--help'], { NODE_OPTIONS: '--enable-source-maps' });
  expect(other.flags).toEqual([...CLI_NODE_FLAGS]);
});

test('through the launcher a command starts Node.js once; the built entry alone starts it twice', async () => {
  // Every Node.js start in the process appends its pid and flags to the log, through NODE_OPTIONS' --import.
  const log = join(dir, 'starts.log');
  const preload = join(dir, 'log-start.mjs');
  writeFileSync(
    preload,
    `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, JSON.stringify([process.pid, process.execArgv]) + '\\n');\n`,
  );
  const env = { PATH: `${dirname(NODE)}:/usr/bin:/bin`, NODE_OPTIONS: `--import=${preload}` };
  const starts = async (command: string, args: string[]) => {
    rmSync(log, { force: true });
    const r = await spawnAsync(command, args, { cwd: dir, env });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Usage: highwater');
    return readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as [number, string[]]);
  };
  const launched = await starts(LAUNCHER, ['--help']);
  expect(launched).toHaveLength(1);
  for (const flag of CLI_NODE_FLAGS) expect(launched[0]?.[1]).toContain(flag);
  // The control: without the launcher the same command re-executes itself under the same pid (where Node.js has
  // process.execve, ≥ 23.11, as the Node 24 the tests run on does).
  const direct = await starts(NODE, [HIGHWATER, '--help']);
  expect(typeof (process as unknown as { execve?: unknown }).execve).toBe('function');
  expect(direct).toHaveLength(2);
  expect(direct[1]?.[0]).toBe(direct[0]?.[0]);
  for (const flag of CLI_NODE_FLAGS) expect(direct[1]?.[1]).toContain(flag);
});
