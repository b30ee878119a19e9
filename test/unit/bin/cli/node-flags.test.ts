/**
 * When the command replaces itself to run under its V8 flags (bin/cli/node-flags.ts): only when a flag is missing
 * from the command line, and never over the user's own NODE_OPTIONS setting of the young generation.
 */
import { expect, test } from 'vitest';
import { CLI_NODE_FLAGS, needsNodeFlags } from '../../../../bin/cli/node-flags.js';

test('a process started without the flags is re-executed; one started with them is not', () => {
  expect(needsNodeFlags([], {})).toBe(true);
  expect(needsNodeFlags(['--import', 'tsx'], {})).toBe(true);
  expect(needsNodeFlags([...CLI_NODE_FLAGS], {})).toBe(false);
  expect(needsNodeFlags(['--cpu-prof', ...CLI_NODE_FLAGS], {})).toBe(false);
});

test("the user's NODE_OPTIONS setting of the semi-space wins", () => {
  expect(needsNodeFlags([], { NODE_OPTIONS: '--max-semi-space-size=32' })).toBe(false);
  expect(needsNodeFlags([], { NODE_OPTIONS: '--enable-source-maps' })).toBe(true);
});
