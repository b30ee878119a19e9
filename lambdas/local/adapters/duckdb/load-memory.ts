/**
 * DuckDB's memory for one load. A DELETE keeps version information for every vector of 2,048 rows it touches, in
 * buffer-managed memory, until the transaction ends: a merge whose keys are spread over a table touches every
 * vector, so its memory grows with the table, not with the rows loaded. Measured on DuckDB 1.5: a delete of 1% of
 * the keys, spread evenly, failed under 16 MiB at 2M rows and under 32 MiB at 4M, and a 10M-row merge (delete and
 * insert of 100,000 rows) needed 96–104 MiB: about 8–10 bytes per row of the target.
 *
 * So a load into a table that has rows (a merge, deletes at the source, a history table's updates) runs with at
 * least MERGE_BASE_BYTES + MERGE_BYTES_PER_TARGET_ROW × the target's rows. Under the default ceiling the load raises
 * it that far for its own duration; a ceiling the user set (`memory_limit`) is kept, and running out under it says
 * what the merge needed.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { WarehouseError } from '../../../errors.js';
import type { LoadRequest } from '../../../ports/index.js';
import { tableLabel } from '../../../ports/load-request.js';
import { tableExists } from './catalog.js';
import { qualifiedTarget } from './load-sql.js';

export const MERGE_BASE_BYTES = 32 * 1024 * 1024;
/** 8–10 bytes measured, with room for the insert's own buffers beside the delete's. */
export const MERGE_BYTES_PER_TARGET_ROW = 12;

const MIB = 1024 * 1024;

/** The warehouse's ceiling: `raiseForMerges` when it is Highwater's default, not one the user set. */
export interface MemoryCeiling {
  bytes: number;
  raiseForMerges: boolean;
}

/** What a load of `req` into the target as it is now needs of DuckDB's memory (0: no more than any load). */
export async function loadMemoryNeed(conn: DuckDBConnection, req: LoadRequest): Promise<number> {
  // A replace builds a new table beside the old one and deletes nothing in place (unless it keeps history).
  if (req.mode === 'replace' && !req.history) return 0;
  if (!(await tableExists(conn, req.target))) return 0;
  const reader = await conn.runAndReadAll(`SELECT count(*) FROM ${qualifiedTarget(req.target)}`);
  const rows = Number(reader.getRows()[0]?.[0] ?? 0);
  return rows === 0 ? 0 : MERGE_BASE_BYTES + MERGE_BYTES_PER_TARGET_ROW * rows;
}

function setLimitSql(bytes: number): string {
  // SET takes no parameters; the value is an integer computed here, never text from a user or the data.
  return `SET memory_limit = '${Math.max(1, Math.floor(bytes / 1024))}KiB'`;
}

/**
 * Runs `work` with the ceiling raised to `need` when the default ceiling is below it, and puts the ceiling back
 * after. Out of memory under a ceiling the user set, and below what the load needed, becomes an error saying so.
 */
export async function withLoadMemory<T>(
  conn: DuckDBConnection,
  req: LoadRequest,
  ceiling: MemoryCeiling,
  work: () => Promise<T>,
): Promise<T> {
  const need = await loadMemoryNeed(conn, req);
  const raise = ceiling.raiseForMerges && need > ceiling.bytes;
  if (raise) await conn.run(setLimitSql(need));
  try {
    return await work();
  } catch (e) {
    if (!raise && need > ceiling.bytes && /Out of Memory/i.test(String((e as Error)?.message ?? e))) {
      throw new WarehouseError(
        `loading ${tableLabel(req)}: DuckDB ran out of its memory_limit (${Math.round(ceiling.bytes / MIB)} MiB); a merge into a table of this size needs about ${Math.ceil(need / MIB)} MiB. Nothing was loaded`,
        {
          cause: e,
          suggestion: `Raise the target's memory_limit to at least ${Math.ceil(need / MIB)}MiB, or remove it: under the default, a load sizes DuckDB's memory itself.`,
        },
      );
    }
    throw e;
  } finally {
    if (raise) await restoreCeiling(conn, ceiling.bytes);
  }
}

/**
 * Back to the ceiling the warehouse was opened with. The delete's version information stays in memory until a
 * checkpoint writes it out, so DuckDB may refuse to go lower before one. This runs after the load committed (or
 * rolled back): it never throws, and when even a checkpoint does not free enough, the higher ceiling stays, which
 * DuckDB's memory already exceeds anyway.
 */
async function restoreCeiling(conn: DuckDBConnection, bytes: number): Promise<void> {
  try {
    await conn.run(setLimitSql(bytes));
    return;
  } catch {
    // Refused: checkpoint, then try once more.
  }
  try {
    await conn.run('CHECKPOINT');
    await conn.run(setLimitSql(bytes));
  } catch {
    // Kept raised; see above.
  }
}
