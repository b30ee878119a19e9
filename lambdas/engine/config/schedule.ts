/**
 * A pipeline's `schedule:` as EventBridge Scheduler reads it — `cron(min hour day-of-month month day-of-week year)`
 * or `rate(N unit)` — and when it fires next. The deployed schedules run in UTC (lib/constructs/schedules.ts), so
 * every time here is UTC. A rate has no fixed phase (it counts from when the schedule was created), so its next
 * time can only be estimated from the last run.
 */
import { ConfigError } from '../../errors.js';

export type ParsedSchedule =
  | { kind: 'cron'; expression: string; matches: CronMatcher }
  | { kind: 'rate'; expression: string; seconds: number };

export interface CronMatcher {
  minutes: number[];
  hours: number[];
  months: ReadonlySet<number>;
  years: ReadonlySet<number>;
  /** Whether this UTC day matches the day-of-month / day-of-week fields. */
  day(year: number, month: number, dom: number): boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const YEAR_MIN = 1970;
const YEAR_MAX = 2199;

function bad(expr: string, message: string): ConfigError {
  return new ConfigError(`schedule ${JSON.stringify(expr)}: ${message}`, {
    suggestion:
      'Write cron(Minutes Hours Day-of-month Month Day-of-week Year), e.g. cron(0/15 * * * ? *), or rate(15 minutes).',
  });
}

function value(raw: string, names: readonly string[] | undefined, base: number, field: string, expr: string): number {
  const upper = raw.toUpperCase();
  const named = names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + base;
  if (!/^\d+$/.test(raw)) throw bad(expr, `${field}: ${JSON.stringify(raw)} is not a number`);
  return Number(raw);
}

/** A list/range/step field (`*`, `5`, `1-5`, `0/15`, `1-30/5`, `MON-FRI`, `a,b,c`) → the sorted values. */
function field(
  raw: string,
  name: string,
  min: number,
  max: number,
  expr: string,
  names?: readonly string[],
  base = min,
): number[] {
  const out = new Set<number>();
  for (const part of raw.split(',')) {
    const [range = '', stepRaw] = part.split('/');
    const step = stepRaw === undefined ? 1 : value(stepRaw, undefined, 0, name, expr);
    if (step < 1) throw bad(expr, `${name}: step must be at least 1`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = min;
      hi = max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      lo = value(a, names, base, name, expr);
      hi = value(b, names, base, name, expr);
    } else {
      lo = value(range, names, base, name, expr);
      hi = stepRaw === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw bad(expr, `${name}: ${JSON.stringify(part)} is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekday(year: number, month: number, dom: number): number {
  return new Date(Date.UTC(year, month - 1, dom)).getUTCDay() + 1; // EventBridge: 1 = SUN … 7 = SAT
}

/** `nW`: the weekday nearest to day n, never crossing into another month. */
function nearestWeekday(year: number, month: number, n: number): number {
  const last = daysInMonth(year, month);
  const d = Math.min(n, last);
  const wd = weekday(year, month, d);
  if (wd === 7) return d === 1 ? d + 2 : d - 1;
  if (wd === 1) return d === last ? d - 2 : d + 1;
  return d;
}

function domMatcher(raw: string, expr: string): (y: number, m: number, d: number) => boolean {
  const up = raw.toUpperCase();
  if (up === 'L') return (y, m, d) => d === daysInMonth(y, m);
  if (up === 'LW') {
    return (y, m, d) => {
      const last = daysInMonth(y, m);
      const wd = weekday(y, m, last);
      return d === (wd === 7 ? last - 1 : wd === 1 ? last - 2 : last);
    };
  }
  const w = /^(\d+)W$/.exec(up);
  if (w) {
    const n = Number(w[1]);
    if (n < 1 || n > 31) throw bad(expr, `day-of-month: ${raw} is outside 1-31`);
    return (y, m, d) => d === nearestWeekday(y, m, n);
  }
  const days = new Set(field(raw, 'day-of-month', 1, 31, expr));
  return (_y, _m, d) => days.has(d);
}

function dowMatcher(raw: string, expr: string): (y: number, m: number, d: number) => boolean {
  const up = raw.toUpperCase();
  const hash = /^([A-Z]{3}|\d)#(\d)$/.exec(up);
  if (hash) {
    const wd = value(hash[1]!, DAYS, 1, 'day-of-week', expr);
    const nth = Number(hash[2]);
    if (wd < 1 || wd > 7 || nth < 1 || nth > 5) throw bad(expr, `day-of-week: ${raw} is not DAY#1-5`);
    return (y, m, d) => weekday(y, m, d) === wd && Math.ceil(d / 7) === nth;
  }
  const lastOf = /^([A-Z]{3}|\d)?L$/.exec(up);
  if (lastOf) {
    const wd = lastOf[1] === undefined ? 7 : value(lastOf[1], DAYS, 1, 'day-of-week', expr);
    if (wd < 1 || wd > 7) throw bad(expr, `day-of-week: ${raw} is outside 1-7`);
    return (y, m, d) => weekday(y, m, d) === wd && d + 7 > daysInMonth(y, m);
  }
  const days = new Set(field(raw, 'day-of-week', 1, 7, expr, DAYS, 1));
  return (y, m, d) => days.has(weekday(y, m, d));
}

function parseCron(body: string, expr: string): CronMatcher {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) throw bad(expr, `cron needs 6 fields (it has ${parts.length})`);
  const [min, hour, dom, month, dow, year] = parts as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw bad(expr, 'exactly one of day-of-month and day-of-week must be "?"');
  }
  const dayOk = dom === '?' ? dowMatcher(dow, expr) : domMatcher(dom, expr);
  return {
    minutes: field(min, 'minutes', 0, 59, expr),
    hours: field(hour, 'hours', 0, 23, expr),
    months: new Set(field(month, 'month', 1, 12, expr, MONTHS, 1)),
    years: new Set(field(year, 'year', YEAR_MIN, YEAR_MAX, expr)),
    day: dayOk,
  };
}

const RATE_UNITS: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };

/** Parses an EventBridge schedule expression; a ConfigError names what is wrong. */
export function parseSchedule(expression: string): ParsedSchedule {
  const expr = expression.trim();
  const cron = /^cron\((.*)\)$/i.exec(expr);
  if (cron) return { kind: 'cron', expression: expr, matches: parseCron(cron[1]!, expr) };
  const rate = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/i.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2]!.toLowerCase();
    const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit;
    const seconds = RATE_UNITS[singular];
    if (seconds === undefined) throw bad(expr, `unknown rate unit ${JSON.stringify(unit)}; use minutes, hours or days`);
    if (n < 1) throw bad(expr, 'a rate must be at least 1');
    // EventBridge refuses "1 minutes" and "5 minute".
    if ((n === 1) !== (unit === singular)) {
      throw bad(expr, `write rate(${n} ${n === 1 ? singular : `${singular}s`})`);
    }
    return { kind: 'rate', expression: expr, seconds: n * seconds };
  }
  throw bad(expr, 'is not cron(…) or rate(…)');
}

/**
 * The first fire time strictly after `after`. For a cron that is exact (UTC); for a rate it is an estimate from
 * `lastRun` (the start of the last scheduled run), undefined without one. Undefined too when a cron never fires
 * again (its years are past).
 */
export function nextFireTime(s: ParsedSchedule, after: Date, lastRun?: Date): Date | undefined {
  if (s.kind === 'rate') {
    if (!lastRun) return undefined;
    const step = s.seconds * 1000;
    const k = Math.max(1, Math.floor((after.getTime() - lastRun.getTime()) / step) + 1);
    return new Date(lastRun.getTime() + k * step);
  }
  const m = s.matches;
  const start = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  const lastYear = Math.max(...m.years);
  for (; day.getUTCFullYear() <= lastYear; day.setUTCDate(day.getUTCDate() + 1)) {
    const y = day.getUTCFullYear();
    const mo = day.getUTCMonth() + 1;
    if (!m.years.has(y)) {
      day.setUTCFullYear(y + 1, 0, 0); // jump to Dec 31 of this year; the loop adds the day
      continue;
    }
    if (!m.months.has(mo)) {
      day.setUTCDate(daysInMonth(y, mo)); // the last day of the month; the loop adds one
      continue;
    }
    const d = day.getUTCDate();
    if (!m.day(y, mo, d)) continue;
    const sameDay = day.getTime() === Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
    for (const h of m.hours) {
      if (sameDay && h < start.getUTCHours()) continue;
      for (const min of m.minutes) {
        const t = Date.UTC(y, mo - 1, d, h, min);
        if (t >= start.getTime()) return new Date(t);
      }
    }
  }
  return undefined;
}

/** `every 15 minutes` for a rate, the expression itself for a cron. */
export function describeSchedule(s: ParsedSchedule): string {
  if (s.kind === 'cron') return `${s.expression} (UTC)`;
  const units: [number, string][] = [
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [sec, name] of units) {
    if (s.seconds % sec === 0) {
      const n = s.seconds / sec;
      return `every ${n === 1 ? name : `${n} ${name}s`}`;
    }
  }
  return `every ${s.seconds} seconds`;
}
