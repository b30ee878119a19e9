/** After a local run (sync, run --every, daemon): the staged files of committed runs go, one line per table. */
import type { Runtime } from '../../lambdas/local/runtime.js';
import type { Output } from './output.js';
import { formatBytes } from './text-table.js';

/**
 * Local staging stays bounded: the files of committed runs go once `processing.keep_staged_files` has passed (see
 * lambdas/local/engine/staging-retention.ts). One line per table that lost files; a failure is a warning only.
 */
export async function pruneStaging(
  out: Output,
  runtime: Runtime,
  pipeline: string,
  adhoc: { source: string; target: string } | undefined,
  tables: readonly string[],
): Promise<void> {
  const { pruneAfterRun } = await import('../../lambdas/local/engine/staging-retention.js');
  for (const r of await pruneAfterRun(runtime, pipeline, adhoc, tables)) {
    if ('error' in r) out.warn(`${r.table}: staged files of committed runs not removed: ${r.error}`);
    else if (r.files > 0 && !out.opts.json) {
      out.info(
        `${r.table}: staging: removed ${r.files} file${r.files === 1 ? '' : 's'} (${formatBytes(r.bytes)}) of ${r.runs.length} committed run${r.runs.length === 1 ? '' : 's'}`,
      );
    }
  }
}
