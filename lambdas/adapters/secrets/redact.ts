/** Removes secret values from text bound for logs and error messages. */

/** Shorter values are too likely to occur by chance ("1", "true") and would mangle messages without protecting much. */
const MIN_LENGTH = 4;

/** Replaces every occurrence of every value (length ≥ 4) with `***`; longer values first, so overlaps go whole. */
export function redact(text: string, secrets: Iterable<string>): string {
  const values = [...new Set(secrets)].filter((s) => s.length >= MIN_LENGTH).sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of values) out = out.split(v).join('***');
  return out;
}
