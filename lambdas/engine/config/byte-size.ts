/** Byte sizes in YAML: a number of bytes, or `512KB`, `256MiB`, `1GB` (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024). */
import { z } from 'zod';

const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$/i;
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Whole bytes for a size, or undefined when it is not a positive one. */
export function parseByteSize(value: number | string): number | undefined {
  const bytes =
    typeof value === 'number'
      ? value
      : ((m) => (m ? Number(m[1]) * UNIT_BYTES[(m[2] ?? 'b').toLowerCase()]! : undefined))(SIZE_RE.exec(value));
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 1) return undefined;
  return Math.floor(bytes);
}

export const byteSizeSchema = z
  .union([z.number(), z.string()])
  .refine((v) => parseByteSize(v) !== undefined, {
    error: (iss) => `${JSON.stringify(iss.input)} is not a size: write bytes (268435456) or 512KB, 256MiB, 1GB`,
  })
  .transform((v) => parseByteSize(v)!)
  .describe('A size: bytes as a number, or a string like 512KB, 256MiB, 1GB.');
