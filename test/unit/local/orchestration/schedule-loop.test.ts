/** The local scheduler's timing rules on a clock the test moves: every N, a pipeline's cron or rate, overruns, stop. */
import { expect, test } from 'vitest';
import { parseSchedule } from '../../../../lambdas/engine/config/schedule.js';
import {
  everyJob,
  type ScheduledJob,
  scheduleJob,
  scheduleLoop,
  sleepUntil,
} from '../../../../lambdas/local/orchestration/schedule-loop.js';

/** Runs the loop on a fake clock: each run takes `runMs`; stops after `runs` runs. Returns the start times. */
async function simulate(jobs: ScheduledJob[], opts: { start: string; runs: number; runMs: (n: number) => number }) {
  let t = Date.parse(opts.start);
  const now = () => new Date(t);
  const stop = new AbortController();
  const starts: string[] = [];
  const waits: string[] = [];
  const end = await scheduleLoop({
    jobs,
    stop: stop.signal,
    now,
    sleep: async (until) => {
      t = Math.max(t, until.getTime());
    },
    waiting: (job, at) => waits.push(`${job.name}@${at.toISOString()}`),
    run: async (job, n) => {
      starts.push(`${job.name}@${new Date(t).toISOString()}`);
      t += opts.runMs(n);
      if (n >= opts.runs) stop.abort();
    },
  });
  return { starts, waits, end };
}

test('every 5m: at once, then five minutes after each start; an overrun is followed at once', async () => {
  const r = await simulate([everyJob('sales', 300)], {
    start: '2026-03-01T10:00:00.000Z',
    runs: 4,
    runMs: (n) => (n === 2 ? 420_000 : 20_000),
  });
  expect(r.starts).toEqual([
    'sales@2026-03-01T10:00:00.000Z',
    'sales@2026-03-01T10:05:00.000Z',
    // Run 2 took 7 minutes: run 3 starts when it ends, and run 4 five minutes after that.
    'sales@2026-03-01T10:12:00.000Z',
    'sales@2026-03-01T10:17:00.000Z',
  ]);
  expect(r.waits).toEqual(['sales@2026-03-01T10:05:00.000Z', 'sales@2026-03-01T10:17:00.000Z']);
  expect(r.end).toBe('stopped');
});

test("a pipeline's cron runs at its UTC times, a missed time is not made up; a rate runs at once then each period", async () => {
  const cron = scheduleJob('nightly', parseSchedule('cron(0/15 * * * ? *)'));
  const rate = scheduleJob('often', parseSchedule('rate(10 minutes)'));
  const r = await simulate([cron, rate], {
    start: '2026-03-01T10:07:30.000Z',
    runs: 6,
    runMs: (n) => (n === 3 ? 16 * 60_000 : 60_000),
  });
  expect(r.starts).toEqual([
    'often@2026-03-01T10:07:30.000Z',
    'nightly@2026-03-01T10:15:00.000Z',
    'often@2026-03-01T10:17:30.000Z',
    // That run took 16 minutes, past 10:30: nightly's 10:30 is not made up; `often`, overdue, runs at once.
    'often@2026-03-01T10:33:30.000Z',
    'often@2026-03-01T10:43:30.000Z',
    'nightly@2026-03-01T10:45:00.000Z',
  ]);
  expect(r.waits).toContain('nightly@2026-03-01T10:15:00.000Z');
  expect(r.waits).toContain('often@2026-03-01T10:43:30.000Z');
});

test('a cron whose years are past leaves nothing scheduled: the loop ends', async () => {
  const past = scheduleJob('old', parseSchedule('cron(0 0 1 1 ? 2020)'));
  const r = await simulate([past], { start: '2026-03-01T10:00:00.000Z', runs: 1, runMs: () => 0 });
  expect(r).toEqual({ starts: [], waits: [], end: 'nothing-scheduled' });
});

test('stopping ends a wait at once, and no run starts after it', async () => {
  const stop = new AbortController();
  const started: number[] = [];
  const loop = scheduleLoop({
    jobs: [everyJob('p', 3600)],
    stop: stop.signal,
    run: async (_job, n) => {
      started.push(n);
    },
    waiting: () => stop.abort(),
  });
  expect(await loop).toBe('stopped');
  expect(started).toEqual([1]);
  // sleepUntil resolves at once for a past time and for an aborted signal.
  await sleepUntil(new Date(0), new AbortController().signal, () => new Date());
  const aborted = new AbortController();
  aborted.abort();
  await sleepUntil(new Date(Date.now() + 3_600_000), aborted.signal, () => new Date());
});
