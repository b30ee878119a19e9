/** Durations in YAML: a number of seconds, or `30s` / `5m` / `2h` / `1d`. */
import { z } from 'zod';

const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds for a duration, or undefined when it is not one. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_SECONDS[m[2] ?? 's']!;
}

const RUNS_RE = /^\s*(\d+)\s*runs?\s*$/i;

/** `verify_every`: a duration (`6h`), or a number of runs (`10 runs`). */
export const everySchema = z
  .union([z.number(), z.string()])
  .refine(
    (v) =>
      (typeof v === 'string' && RUNS_RE.test(v) && Number(RUNS_RE.exec(v)![1]) > 0) || parseDuration(v) !== undefined,
    {
      error: (iss) => `${JSON.stringify(iss.input)} is neither a duration (30m, 6h, 1d) nor a number of runs (10 runs)`,
    },
  )
  .transform((v): { runs: number } | { seconds: number } =>
    typeof v === 'string' && RUNS_RE.test(v) ? { runs: Number(RUNS_RE.exec(v)![1]) } : { seconds: parseDuration(v)! },
  )
  .describe('How often: a duration (30m, 6h, 1d), or a number of runs (10 runs).');

export const durationSchema = z
  .union([z.number(), z.string()])
  .refine((v) => parseDuration(v) !== undefined, {
    error: (iss) => `${JSON.stringify(iss.input)} is not a duration: write seconds (90) or 30s, 5m, 2h, 1d`,
  })
  .transform((v) => parseDuration(v)!)
  .describe('A duration: seconds as a number, or a string like 30s, 5m, 2h, 1d.');
