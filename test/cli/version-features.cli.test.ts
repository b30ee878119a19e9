/** `highwater version` and `highwater features` as a user runs them, in both configuration modes. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CDC_STRATEGIES } from '../../lambdas/domain/config.js';

import { CLI_ARGS, NODE, ROOT } from '../support/cli.js';

const PKG_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let single: string;
let multi: string;

function hw(cwd: string, env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(NODE, [...CLI_ARGS, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  single = mkdtempSync(join(tmpdir(), 'hw-ver-single-'));
  multi = mkdtempSync(join(tmpdir(), 'hw-ver-multi-'));
  mkdirSync(join(multi, 'config'));
  writeFileSync(
    join(multi, 'config', 'connections.yml'),
    'connections:\n  sources:\n    mysql_a:\n      host: 127.0.0.1\n  targets:\n    wh:\n      type: duckdb\n',
  );
});
afterAll(() => {
  rmSync(single, { recursive: true, force: true });
  rmSync(multi, { recursive: true, force: true });
});

test('version prints the build, node, platform and the mode; --json has the same facts', () => {
  const r = hw(single, {}, 'version');
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain(`highwater ${PKG_VERSION}`);
  expect(r.out).toContain(`node      ${process.version}`);
  expect(r.out).toContain(`platform  ${process.platform} ${process.arch}`);
  expect(r.out).toContain('mode      single-connection (v1.0.0 compatibility)');

  const j = hw(multi, {}, 'version', '--json');
  expect(j.code).toBe(0);
  expect(JSON.parse(j.out)).toMatchObject({
    name: 'highwater',
    version: PKG_VERSION,
    node: process.version,
    platform: process.platform,
    config: { mode: 'multi', configDir: join(multi, 'config') },
  });
  // The global flags still work.
  expect(hw(single, {}, '--version').out.trim()).toBe(PKG_VERSION);
  expect(JSON.parse(hw(single, {}, '--json', 'version').out).config.mode).toBe('single');
});

test('version still answers when the configuration cannot be loaded, and says why', () => {
  const r = hw(single, { HIGHWATER_MULTI_SCHEMA: 'true' }, 'version', '--json');
  expect(r.code).toBe(0);
  const v = JSON.parse(r.out) as { config: { mode: string | null; reason: string } };
  expect(v.config.mode).toBeNull();
  expect(v.config.reason).toContain('HIGHWATER_MULTI_SCHEMA=true forces multi-connection mode');
});

test('features lists the five executed strategies, the adapters per port, both modes and the mode in effect', () => {
  const r = hw(multi, {}, 'features');
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain('current mode: multi-connection (v1.1.0)');
  expect(r.out).toContain('CDC strategies (all five are executed)');
  for (const s of CDC_STRATEGIES) expect(r.out).toMatch(new RegExp(`^  ${s}\\s+\\S`, 'm'));
  expect(r.out).toMatch(/staging\s+local\s+local/);
  expect(r.out).toMatch(/s3\s+aws\s+multi/);
  expect(r.out).toMatch(/dynamodb\s+aws/);
  expect(r.out).toMatch(/warehouse\s+duckdb\s+local/);
  expect(r.out).toMatch(/redshift\s+aws/);
  expect(r.out).toContain('multi-connection mode (v1.1.0)  ← in effect');
  expect(r.out).toContain('--state-machine-arn');
  expect(r.out).toMatch(/commands\s+.*connections.*features.*version/);

  const j = hw(single, {}, 'features', '--json');
  expect(j.code).toBe(0);
  const f = JSON.parse(j.out) as {
    version: string;
    currentMode: string;
    cdcStrategies: { name: string; executed: boolean }[];
    staging: { name: string; adapter: string; modes: string[] }[];
    state: { name: string }[];
    warehouse: { name: string; modes: string[] }[];
    modes: { mode: string }[];
    commands: string[];
  };
  expect(f.version).toBe(PKG_VERSION);
  expect(f.currentMode).toBe('single');
  expect(f.cdcStrategies).toEqual(CDC_STRATEGIES.map((name) => expect.objectContaining({ name, executed: true })));
  expect(f.staging.map((s) => s.name)).toEqual(['local', 's3']);
  expect(f.state.map((s) => s.name)).toEqual(['local', 'dynamodb']);
  expect(f.warehouse.find((w) => w.name === 'redshift')?.modes).toEqual(['multi']);
  expect(f.modes.map((m) => m.mode)).toEqual(['single', 'multi']);
  expect(f.commands).toEqual(expect.arrayContaining(['connections', 'features', 'sync', 'version', 'watermark']));
});

test('every new command has help with an example', () => {
  for (const args of [
    ['version'],
    ['features'],
    ['connections', 'list'],
    ['connections', 'test'],
    ['connections', 'health'],
    ['connections', 'info'],
  ]) {
    const r = hw(single, {}, ...args, '--help');
    expect(r.code, args.join(' ')).toBe(0);
    expect(r.out, args.join(' ')).toMatch(/Examples?:\n {2}highwater /);
  }
});
