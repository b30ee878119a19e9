/**
 * A damaged local state file as a user meets it: `sync`, `sync --dry-run` and `watermark get` on a home whose
 * state.sqlite is empty (0 bytes) or garbage fail naming the file and what to do, and create or overwrite nothing.
 * Only a missing file is a fresh start.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { runCli } from '../support/cli.js';
import { createHarness, type Harness } from '../support/harness.js';

let h: Harness;
let items: string;
let statePath: string;

function hw(...args: string[]) {
  return runCli(['--config-dir', h.configDir, '--home', h.home, ...args], { cwd: h.dir });
}

/** Every file under the home, with its bytes. */
function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(h.home, { recursive: true, encoding: 'utf8' })) {
    try {
      out[f] = readFileSync(join(h.home, f)).toString('base64');
    } catch {
      out[f] = '(directory)';
    }
  }
  return out;
}

beforeAll(async () => {
  h = await createHarness('statefile');
  items = `${h.db.database}.items`;
  await h.db.conn.query(
    `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20)); INSERT INTO items VALUES (1, 'a'), (2, 'b')`,
  );
  h.writePipeline(`  ${items}:\n    cdc_strategy: id_only`);
  statePath = join(h.home, 'state.sqlite');
});
afterAll(async () => h?.cleanup());
beforeEach(() => {
  rmSync(h.home, { recursive: true, force: true });
  mkdirSync(h.home, { recursive: true });
});

test.each([
  ['an empty (0-byte)', '', 'is empty (0 bytes)'],
  ['a garbage', 'not a database at all, just text. '.repeat(200), 'cannot be opened: file is not a database'],
])(
  '%s state file: sync and watermark get fail naming it, and nothing is created or overwritten',
  (_label, content, what) => {
    writeFileSync(statePath, content);
    const before = snapshot();
    const expected = `state file ${statePath} ${what}; it holds the watermarks, leases and run history, so it is not taken for a fresh start: restore it from a backup, or point --home (HIGHWATER_HOME) or the pipeline's state.path elsewhere`;

    const sync = hw('sync', '-p', 'test', '-t', items);
    expect(sync.code, sync.err).toBe(1);
    expect(sync.out + sync.err).toContain(expected);

    const dry = hw('sync', '-p', 'test', '-t', items, '--dry-run');
    expect(dry.code, dry.err).toBe(1);
    expect(dry.err).toContain(expected);

    const get = hw('watermark', 'get', '-p', 'test', '-t', items);
    expect(get.code).toBe(1);
    expect(get.err).toContain(`error: ${expected}`);
    expect(get.err).toContain('To start afresh on purpose, move the file away');

    expect(snapshot()).toEqual(before);
  },
);

test('a missing state file is a fresh start: the sync creates it and commits', () => {
  const sync = hw('sync', '-p', 'test', '-t', items);
  expect(sync.code, sync.err).toBe(0);
  const get = hw('watermark', 'get', '-p', 'test', '-t', items, '--json');
  expect(get.code, get.err).toBe(0);
  expect(JSON.parse(get.out).watermark.watermark).toEqual({ ts: null, id: '2' });
});
