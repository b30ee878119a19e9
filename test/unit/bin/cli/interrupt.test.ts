/**
 * The signal handlers of a local sync (bin/cli/interrupt.ts) on their own: what they print, the exit codes, a
 * second signal during the cleanup, and a cleanup that fails. (test/cli/interrupt.cli.test.ts sends real signals
 * to a real CLI; here the handlers are driven with process.emit so the test process survives.)
 */
import { afterEach, expect, test } from 'vitest';
import { abortRunsOnSignal, interruptLines } from '../../../../bin/cli/interrupt.js';
import type { RunContext } from '../../../../lambdas/domain/manifests.js';
import { HeldRuns } from '../../../../lambdas/local/orchestration/held-runs.js';
import type { Runtime } from '../../../../lambdas/local/runtime.js';

let uninstall: (() => void) | undefined;
afterEach(() => uninstall?.());

function install(held: Pick<HeldRuns, 'interrupt'>) {
  const lines: string[] = [];
  const exits: number[] = [];
  let exited!: () => void;
  const done = new Promise<void>((r) => (exited = r));
  uninstall = abortRunsOnSignal({
    held: held as HeldRuns,
    write: (l) => lines.push(l),
    exit: (c) => {
      exits.push(c);
      exited();
    },
  });
  return { lines, exits, done };
}

test('the lines: one per run, naming the table and run; a run that could not be ended says what to do', () => {
  expect(
    interruptLines('SIGINT', [
      { table: 'shop.orders', runId: 'r-1', aborted: true, error: null },
      { table: 'shop.items', runId: 'r-2', aborted: false, error: 'state store unreachable' },
    ]),
  ).toEqual([
    'interrupted (SIGINT): shop.orders run r-1 marked failed, lease released; the next sync reads its window again',
    'interrupted (SIGINT): shop.items run r-2 could not be marked failed (state store unreachable); its lease stays until it expires or `highwater lease release -t shop.items`',
  ]);
  expect(interruptLines('SIGTERM', [])).toEqual([
    'interrupted (SIGTERM): no run was left to end (runs that finished stay as they are)',
  ]);
});

test('SIGTERM aborts the held runs, prints, and exits 143', async () => {
  const held = new HeldRuns();
  const aborted: string[] = [];
  held.hold({ runId: 'r-1', table: 'shop.orders' } as RunContext, {} as Runtime, async (input) => {
    aborted.push(JSON.stringify(input));
    return { aborted: true, error: '' };
  });
  const { lines, exits, done } = install(held);
  process.emit('SIGTERM');
  await done;
  expect(exits).toEqual([143]);
  expect(aborted).toEqual([
    JSON.stringify({ run: { runId: 'r-1', table: 'shop.orders' }, error: { Error: 'interrupted by SIGTERM' } }),
  ]);
  expect(lines).toEqual([
    'interrupted (SIGTERM): shop.orders run r-1 marked failed, lease released; the next sync reads its window again',
  ]);
});

test('a second signal while the cleanup runs exits at once with the second signal’s code', async () => {
  const held = new HeldRuns();
  held.hold({ runId: 'r-1', table: 'shop.orders' } as RunContext, {} as Runtime, () => new Promise(() => undefined));
  const { lines, exits, done } = install(held);
  process.emit('SIGINT');
  await new Promise((r) => setTimeout(r, 50));
  expect(exits).toEqual([]);
  process.emit('SIGINT');
  await done;
  expect(exits).toEqual([130]);
  expect(lines).toEqual([]);
});

test('a cleanup that fails is reported, and the process still exits', async () => {
  const { lines, exits, done } = install({
    interrupt: async () => {
      throw new Error('boom');
    },
  });
  process.emit('SIGINT');
  await done;
  expect(exits).toEqual([130]);
  expect(lines).toEqual(['interrupted (SIGINT): cleaning up failed: boom']);
});

test('once removed, the handlers no longer listen', () => {
  const before = process.listenerCount('SIGINT');
  const remove = abortRunsOnSignal({ held: new HeldRuns(), write: () => undefined, exit: () => undefined });
  expect(process.listenerCount('SIGINT')).toBe(before + 1);
  expect(process.listenerCount('SIGTERM')).toBeGreaterThan(0);
  remove();
  expect(process.listenerCount('SIGINT')).toBe(before);
});
