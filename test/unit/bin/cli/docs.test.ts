/** docs/cli.md is the command tree's own help, and every command a user runs shows an example in its --help. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { helpText, renderCliDocs, walkCommands } from '../../../../bin/cli/docs.js';
import { createProgram } from '../../../../bin/cli/program.js';

test('docs/cli.md is exactly what the command definitions render (run `npm run docs:cli` after changing a command)', () => {
  const committed = readFileSync(join(import.meta.dirname, '../../../../docs/cli.md'), 'utf8');
  expect(committed).toBe(renderCliDocs(createProgram()));
});

test('every command that runs something has --help with at least one example', () => {
  // Leaves, and `sync`, which runs tables itself besides grouping `sync pipeline|connections`.
  const leaves = walkCommands(createProgram()).filter(
    (c) => c.command.commands.length === 0 || c.name === 'highwater sync',
  );
  expect(leaves.length).toBeGreaterThanOrEqual(26);
  const without = leaves.filter((c) => !/Examples?:/.test(helpText(c.command))).map((c) => c.name);
  expect(without).toEqual([]);
});

test('every command of the migration guide exists', () => {
  const names = new Set(walkCommands(createProgram()).map((c) => c.name));
  for (const n of [
    'sync',
    'sync pipeline',
    'sync connections',
    'watermark get',
    'watermark set',
    'watermark reset',
    'watermark list',
    'watermark-count validate-counts',
    's3clean list',
    's3clean clean',
    'connections list',
    'connections test',
    'connections health',
    'connections info',
    'config setup',
    'config status',
    'config list-pipelines',
    'config show-pipeline',
    'config validate-pipeline',
    'config reset',
    'version',
    'features',
    'status',
  ])
    expect(names, n).toContain(`highwater ${n}`);
});
