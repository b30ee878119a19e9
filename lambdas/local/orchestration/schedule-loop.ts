/**
 * Local scheduling (`highwater run --every 5m`, `highwater daemon`): waits for the next due job, runs it, and again,
 * until stopped. One job runs at a time; a run that outlasts its interval is followed by the next one at once (a
 * missed cron time is not made up), as a single-worker scheduler does. The clock and the wait are injected, so the
 * timing rules are tested without waiting; the CLI wires signals to `stop`.
 */
import { nextFireTime, type ParsedSchedule } from '../../engine/config/schedule.js';

export interface ScheduledJob {
  /** The pipeline (or anything naming the job in lines and errors). */
  name: string;
  /** When the job is due next, given the clock and when it last started (undefined: never in this loop). */
  nextAt(now: Date, lastStart: Date | undefined): Date | undefined;
}

/** Every `seconds` from the loop's start: at once, then `seconds` after each start (at once when a run overran). */
export function everyJob(name: string, seconds: number): ScheduledJob {
  return {
    name,
    nextAt: (now, last) =>
      last === undefined ? now : new Date(Math.max(now.getTime(), last.getTime() + seconds * 1000)),
  };
}

/**
 * A pipeline's `schedule:` with the evaluator `status` and the deployed EventBridge schedules use: a cron at its next
 * UTC time; a rate at once, then a rate after each start.
 */
export function scheduleJob(name: string, schedule: ParsedSchedule): ScheduledJob {
  if (schedule.kind === 'rate') return everyJob(name, schedule.seconds);
  return { name, nextAt: (now) => nextFireTime(schedule, new Date(now.getTime() - 1)) };
}

export interface LoopOptions {
  jobs: readonly ScheduledJob[];
  /** Runs one job to its end (errors are the caller's to report: a failed run does not stop the loop). */
  run(job: ScheduledJob, sequence: number): Promise<void>;
  /** Said before each wait: which job is next and when. */
  waiting?(job: ScheduledJob, at: Date): void;
  /** Aborted to stop: a wait ends at once, and no run starts after it. */
  stop: AbortSignal;
  now?: () => Date;
  /** Resolves at `until` or when `stop` aborts, whichever is first. */
  sleep?: (until: Date, stop: AbortSignal, now: () => Date) => Promise<void>;
}

/** Waits until `until` (in steps, so a suspended machine's clock jump is noticed), or until stopped. */
export function sleepUntil(until: Date, stop: AbortSignal, now: () => Date): Promise<void> {
  return new Promise((done) => {
    if (stop.aborted) return done();
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', finish);
      done();
    };
    const tick = () => {
      const left = until.getTime() - now().getTime();
      if (left <= 0) return finish();
      timer = setTimeout(tick, Math.min(left, 60_000));
    };
    stop.addEventListener('abort', finish, { once: true });
    tick();
  });
}

/** Why the loop ended. */
export type LoopEnd = 'stopped' | 'nothing-scheduled';

export async function scheduleLoop(opts: LoopOptions): Promise<LoopEnd> {
  const now = opts.now ?? (() => new Date());
  const sleep = opts.sleep ?? sleepUntil;
  const lastStart = new Map<string, Date>();
  let sequence = 0;
  while (!opts.stop.aborted) {
    const at = now();
    const due = opts.jobs
      .map((job) => ({ job, next: job.nextAt(at, lastStart.get(job.name)) }))
      .filter((d): d is { job: ScheduledJob; next: Date } => d.next !== undefined)
      .sort((a, b) => a.next.getTime() - b.next.getTime())[0];
    if (!due) return 'nothing-scheduled';
    if (due.next.getTime() > at.getTime()) {
      opts.waiting?.(due.job, due.next);
      await sleep(due.next, opts.stop, now);
      if (opts.stop.aborted) break;
    }
    lastStart.set(due.job.name, now());
    sequence += 1;
    await opts.run(due.job, sequence);
  }
  return 'stopped';
}
