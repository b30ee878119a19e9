/** The progress display's numbers (rate, ETA, durations) and lines, on a hand-moved clock; the terminal renderer on a fake TTY. */
import { PassThrough } from 'node:stream';
import { expect, test } from 'vitest';
import { Output } from '../../../../bin/cli/output.js';
import { progressReporter } from '../../../../bin/cli/progress.js';
import {
  etaMs,
  formatCount,
  formatElapsed,
  formatEta,
  formatRate,
  percentOf,
  rowsPerSecond,
} from '../../../../bin/cli/progress-format.js';
import { eventLine, heartbeatLine, liveText, ProgressModel } from '../../../../bin/cli/progress-model.js';
import type { RunEvent } from '../../../../lambdas/domain/manifests.js';

test('rows per second: rows over elapsed time, unknown until 200 ms have passed', () => {
  expect(rowsPerSecond(800_000, 16_000)).toBe(50_000);
  expect(rowsPerSecond(1, 2000)).toBe(0.5);
  expect(rowsPerSecond(10, 199)).toBeNull();
  expect(rowsPerSecond(10, 0)).toBeNull();
  expect(rowsPerSecond(10, Number.NaN)).toBeNull();
  expect(formatRate(52_345.6)).toBe('52,346 rows/s');
  expect(formatRate(0.5)).toBe('0.5 rows/s');
  expect(formatRate(null)).toBe('– rows/s');
});

test('ETA: the rest at the rate so far; unknown without a total or a rate; zero once the total is reached', () => {
  // 800,000 of 2,000,000 rows in 16 s: 50,000 rows/s, 1,200,000 rows to go → 24 s.
  expect(etaMs(800_000, 2_000_000, 16_000)).toBe(24_000);
  expect(etaMs(800_000, null, 16_000)).toBeNull();
  expect(etaMs(0, 2_000_000, 16_000)).toBeNull();
  expect(etaMs(10, 100, 100)).toBeNull();
  expect(etaMs(2_000_000, 2_000_000, 16_000)).toBe(0);
  // An estimate the run passed (rows changed after the plan) is done, not negative.
  expect(etaMs(2_000_100, 2_000_000, 16_000)).toBe(0);
  expect(formatEta(24_000)).toBe('ETA 24s');
  expect(formatEta(null)).toBe('ETA –');
});

test('durations: tenths below ten seconds, then s, m s, h m, d h', () => {
  expect(formatElapsed(0)).toBe('0.0s');
  expect(formatElapsed(437)).toBe('0.4s');
  expect(formatElapsed(9_999)).toBe('9.9s');
  expect(formatElapsed(42_000)).toBe('42s');
  expect(formatElapsed(185_000)).toBe('3m05s');
  expect(formatElapsed(3_720_000)).toBe('1h02m');
  expect(formatElapsed(183_600_000)).toBe('2d03h');
  expect(formatElapsed(-5)).toBe('0.0s');
  expect(formatCount(1234567.4)).toBe('1,234,567');
  for (const n of [0, 7, 999, 1000, 12_345, 999_999, 1_000_000, 10_000_000_000, -1, -1234, -999_999.6, 2 ** 53 - 1])
    expect(formatCount(n)).toBe(Math.round(n).toLocaleString('en-US'));
  expect(formatCount(-0.4)).toBe('0'); // not toLocaleString's `-0`
  expect(percentOf(800, 2000)).toBe('40%');
  expect(percentOf(1999, 2000)).toBe('99%');
  expect(percentOf(2001, 2000)).toBe('100%');
  expect(percentOf(5, null)).toBeNull();
});

/** A model on a clock the test moves, fed the events of one run. */
function scripted() {
  let t = 1_000_000;
  const model = new ProgressModel(() => t);
  const at = (ms: number) => {
    t = 1_000_000 + ms;
  };
  const apply = (e: RunEvent) => {
    const state = model.apply(e);
    return { state, line: eventLine(e, state, t), live: liveText(state, t) };
  };
  return { model, at, apply, now: () => t };
}

test('a run from plan to commit: phase, rows against the estimate, rate, elapsed and ETA per line', () => {
  const s = scripted();
  const table = 'shop.orders';
  expect(s.apply({ type: 'step-started', table, step: 'plan' }).line).toBe('shop.orders: plan: started');
  s.at(1200);
  const planned = s.apply({
    type: 'planned',
    table,
    runId: 'R1',
    chunks: 20,
    skipped: null,
    rowsEstimate: 2_000_000,
  });
  expect(planned.line).toBe('shop.orders: plan: run R1, 20 chunks, about 2,000,000 rows (1.2s)');
  s.apply({ type: 'step-started', table, step: 'extract' });
  s.at(1200 + 16_000);
  let last = { line: null as string | null, live: '' };
  for (let i = 0; i < 8; i++) {
    last = s.apply({ type: 'chunk-done', table, index: i, rows: 100_000, bytes: 1, done: i + 1, total: 20 });
  }
  expect(last.line).toBe(
    'shop.orders: extract: chunk 7 done (100,000 rows); 8/20 chunks, 800,000/2,000,000 rows 40%  50,000 rows/s  elapsed 16s  ETA 24s',
  );
  expect(last.live).toBe('800,000/2,000,000 rows 40%  50,000 rows/s  elapsed 16s  ETA 24s');

  s.at(1200 + 40_000);
  const loading = s.apply({ type: 'step-started', table, step: 'load' });
  expect(loading.line).toBe('shop.orders: load: started, 800,000 rows extracted in 40s');
  // While the load runs, the live line and the heartbeat show how long it has been running.
  s.at(1200 + 40_000 + 95_000);
  expect(liveText(s.model.get(table)!, s.now())).toBe('800,000 rows extracted, loading  elapsed 1m35s');
  expect(heartbeatLine(s.model.get(table)!, s.now())).toBe('shop.orders: load: running, elapsed 1m35s');
  const loaded = s.apply({ type: 'loaded', table, rowsLoaded: 800_000, rowsStaged: 800_000 });
  expect(loaded.line).toBe('shop.orders: load: 800,000 rows loaded (800,000 staged) in 1m35s');
  expect(s.apply({ type: 'step-started', table, step: 'commit' }).line).toBeNull();
  s.at(1200 + 40_000 + 96_000);
  const done = s.apply({ type: 'committed', table, status: 'committed' });
  expect(done.line).toBe('shop.orders: commit: committed, 2m17s in all');
  expect(done.live).toBe('800,000 rows loaded in 2m17s');
  expect(heartbeatLine(done.state, s.now())).toBeNull();
});

test('no estimate: rows and rate without a total or ETA; nothing to do; a failure ends the table', () => {
  const s = scripted();
  s.apply({ type: 'step-started', table: 'a.b', step: 'plan' });
  s.apply({ type: 'planned', table: 'a.b', runId: 'R', chunks: 1, skipped: null, rowsEstimate: null });
  s.apply({ type: 'step-started', table: 'a.b', step: 'extract' });
  s.at(2000);
  const c = s.apply({ type: 'chunk-done', table: 'a.b', index: 0, rows: 10, bytes: 1, done: 1, total: 1 });
  expect(c.live).toBe('10 rows  5.0 rows/s  elapsed 2.0s  ETA –');
  s.at(3000);
  const failed = s.apply({ type: 'failed', table: 'a.b', error: 'boom' });
  expect(failed.line).toBeNull();
  expect(failed.live).toBe('failed after 3.0s');
  // A later event does not bring a failed table back to life.
  s.apply({ type: 'step-started', table: 'a.b', step: 'load' });
  expect(s.model.get('a.b')?.phase).toBe('failed');

  const skipped = s.apply({
    type: 'planned',
    table: 'c.d',
    runId: null,
    chunks: 0,
    skipped: 'no new rows',
    rowsEstimate: null,
  });
  expect(skipped.line).toBe('c.d: plan: nothing to do (no new rows) (0.0s)');
  expect(skipped.live).toBe('nothing to do (no new rows)');
});

/** A fake terminal: a stream that says it is a TTY, collecting what is written. */
function fakeTty(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString('utf8');
  });
  Object.assign(stream, { isTTY: true, columns: 160, rows: 40 });
  return { stream, text: () => text };
}

test('on a terminal: one live line per table drawn by cli-progress with the phase and bar; problems above it', async () => {
  const tty = fakeTty();
  const out = new Output({ quiet: false, debug: false, json: false }, process.stdout, tty.stream);
  expect(out.isTty).toBe(true);
  const p = progressReporter(out, { stream: tty.stream });
  p.event({ type: 'step-started', table: 'shop.orders', step: 'plan' });
  p.event({ type: 'planned', table: 'shop.orders', runId: 'R', chunks: 2, skipped: null, rowsEstimate: 200 });
  p.event({ type: 'step-started', table: 'shop.orders', step: 'extract' });
  p.event({ type: 'chunk-done', table: 'shop.orders', index: 0, rows: 100, bytes: 1, done: 1, total: 2 });
  p.event({ type: 'retry', table: 'shop.orders', step: 'ExtractChunk', attempt: 1, error: 'ECONNRESET' });
  p.stop();
  p.stop();
  expect(tty.text()).toContain('\u001b[');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape codes of a terminal are what is stripped
  const text = tty.text().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  expect(text).toMatch(/shop\.orders\s+extract\s+\[#{12}\.{12}\] 100\/200 rows 50%/);
  expect(text).toContain('warning: shop.orders: ExtractChunk attempt 1 failed, retrying: ECONNRESET');
});

test('--json shows nothing; piped, every line is plain text', () => {
  const sink = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let text = '';
  sink.on('data', (d: Buffer) => {
    text += d.toString('utf8');
  });
  const json = progressReporter(new Output({ quiet: false, debug: false, json: true }, sink, sink));
  json.event({ type: 'failed', table: 't', error: 'x' });
  json.stop();
  expect(text).toBe('');

  const piped = progressReporter(new Output({ quiet: false, debug: false, json: false }, sink, sink));
  piped.event({ type: 'step-started', table: 't', step: 'plan' });
  piped.event({ type: 'failed', table: 't', error: 'x' });
  piped.stop();
  // A failure is the run report's to name (once), not the progress lines'.
  expect(text).toBe('t: plan: started\n');
});
