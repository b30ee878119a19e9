/**
 * full_sync: every row, every run, in primary-key chunks. `replace` (default) replaces every row of the table in one
 * warehouse transaction, so deletes are carried; `append` upserts every row by key.
 */
import { NO_CURSOR_DEFAULTS } from './defaults.js';
import { and } from './sql/fragment.js';
import { additionalWhere } from './sql/reads.js';
import type { Strategy } from './strategy.js';

export const fullSync: Strategy = {
  name: 'full_sync',
  advancesWatermark: false,
  readsCustomQuery: false,
  defaults: NO_CURSOR_DEFAULTS,
  shownKeys: new Set(['fullSyncMode']),
  mode: (t) => (t.fullSyncMode === 'replace' ? 'replace' : 'append'),
  requiredColumns: () => [],
  configProblems: () => [],
  roles: () => ({ ts: undefined, id: undefined }),
  sourceProblems: () => [],
  window: (ctx) => and([additionalWhere(ctx)]),
  cursorWindow: (ctx) => and([additionalWhere(ctx)]),
  bounds: async () => ({ kind: 'whole-table' }),
  lagCursor: () => undefined,
  describe: (t) =>
    t.fullSyncMode === 'replace'
      ? 'every row, replacing the target table in one transaction'
      : 'every row, upserted by primary key (rows deleted at the source stay)',
};
