/** Turns run events into a live line on a terminal, or plain log lines when output is piped. */
import type { RunEvent } from '../../lambdas/domain/manifests.js';
import type { Output } from './output.js';

export function progressReporter(out: Output): (e: RunEvent) => void {
  const rows = new Map<string, number>();
  return (e) => {
    switch (e.type) {
      case 'planned':
        if (e.runId === null) out.info(`${e.table}: nothing to do (${e.skipped})`);
        else out.info(`${e.table}: run ${e.runId}, ${e.chunks} chunk${e.chunks === 1 ? '' : 's'}`);
        break;
      case 'chunk-done': {
        const total = (rows.get(e.table) ?? 0) + e.rows;
        rows.set(e.table, total);
        if (out.isTty) {
          const width = 24;
          const filled = Math.round((e.done / Math.max(1, e.total)) * width);
          out.status(
            `${e.table} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total} chunks, ${total.toLocaleString('en-US')} rows`,
          );
        } else {
          out.info(`${e.table}: chunk ${e.index} done (${e.rows} rows); ${e.done}/${e.total} chunks, ${total} rows`);
        }
        break;
      }
      case 'retry':
        out.endStatus();
        out.warn(`${e.table}: ${e.step} attempt ${e.attempt} failed, retrying: ${e.error}`);
        break;
      case 'loaded':
        out.endStatus();
        out.info(`${e.table}: loaded ${e.rowsLoaded} rows (${e.rowsStaged} staged)`);
        break;
      case 'committed':
        out.info(`${e.table}: ${e.status === 'staged' ? 'staged (watermark unchanged until loaded)' : 'committed'}`);
        break;
      case 'failed':
        // The run report names the failure (once, with its suggestion); here the live line just ends.
        out.endStatus();
        break;
    }
  };
}
