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

export const durationSchema = z
  .union([z.number(), z.string()])
  .refine((v) => parseDuration(v) !== undefined, {
    error: (iss) => `${JSON.stringify(iss.input)} is not a duration: write seconds (90) or 30s, 5m, 2h, 1d`,
  })
  .transform((v) => parseDuration(v)!)
  .describe('A duration: seconds as a number, or a string like 30s, 5m, 2h, 1d.');
