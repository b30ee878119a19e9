/** The progress model as text lines: the same lines on a terminal (redrawn in place) and in a log (printed once). */
import type { ProgressModel, TableProgress } from './history.js';

const BAR = 24;

function chunkBar(t: TableProgress): string {
  const total = Math.max(t.chunksPlanned ?? 0, t.chunks.length);
  if (total === 0) return '';
  // One cell per chunk while they fit; beyond that the bar shows the done fraction.
  if (total <= BAR) {
    const cells = Array.from({ length: total }, (_, i) => {
      const c = t.chunks.find((x) => x.index === i);
      return !c ? '.' : c.status === 'done' ? '#' : c.status === 'retrying' ? '!' : '>';
    });
    return `[${cells.join('')}]`;
  }
  const done = t.chunks.filter((c) => c.status === 'done').length;
  const filled = Math.round((done / total) * BAR);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
}

function tableLine(t: TableProgress): string {
  const parts = [t.table, t.phase];
  const total = Math.max(t.chunksPlanned ?? 0, t.chunks.length);
  if (total > 0) {
    const done = t.chunks.filter((c) => c.status === 'done').length;
    parts.push(`${chunkBar(t)} ${done}/${total} chunks`);
  }
  if (t.rowsExtracted > 0 || t.phase === 'extracting') parts.push(`${t.rowsExtracted.toLocaleString('en-US')} rows`);
  if (t.rowsLoaded !== null) parts.push(`${t.rowsLoaded.toLocaleString('en-US')} loaded`);
  if (t.failedAttempts > 0) parts.push(`${t.failedAttempts} failed attempt${t.failedAttempts === 1 ? '' : 's'}`);
  if (t.skipped) parts.push(`(${t.skipped})`);
  return parts.join('  ');
}

export function renderProgress(model: ProgressModel): string[] {
  const lines = [`execution ${model.status}${model.error ? `: ${model.error}` : ''}`];
  for (const t of model.tables) {
    lines.push(tableLine(t));
    // Chunks in flight or retrying, one line each: what a person watching wants to see move.
    for (const c of t.chunks) {
      if (c.status === 'done') continue;
      lines.push(`  chunk ${c.index} ${c.status}${c.attempts > 1 ? ` (attempt ${c.attempts})` : ''}`);
    }
    if (t.error) lines.push(`  ${t.phase === 'failed' ? 'error' : 'last error'}: ${t.error}`);
  }
  return lines;
}
