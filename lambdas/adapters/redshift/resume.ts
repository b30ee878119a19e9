/**
 * What a Redshift load does before it submits anything, and how its result is read from its apply batch. Earlier
 * attempts of a load may have left statements running in Redshift (an invocation ended from outside, a retried
 * step whose first invocation still ran): each recorded one is seen to its end first, so two loads of a table
 * never overlap. This run's own apply batch is waited for, since it may be about to commit; anything else is
 * cancelled. If this run's newest apply FINISHED, it committed: its result is this load's result, and nothing runs
 * again. See docs/decisions/0006-load-runs-once.md.
 */
import type { DescribeStatementResponse, SubStatementData } from '@aws-sdk/client-redshift-data';
import { z } from 'zod';
import { SchemaChangeSchema } from '../../domain/model.js';
import { WarehouseError } from '../../errors.js';
import type { LoadJournal, LoadRequest, LoadResult } from '../../ports/index.js';
import { checkInserted } from '../../ports/load-request.js';
import type { DataApi } from './data-api.js';
import { tableLabel } from './ddl.js';
import { dropSql } from './load-sql.js';
import { countAt } from './values.js';

const count = z.number().int().nonnegative();
const position = z.number().int().nonnegative();

/** The stage batch's record: the tables it created (dropped by the apply batch, or by a later load if it failed). */
const StageDetailSchema = z.object({ stage: z.string().min(1), keys: z.string().min(1).optional() });

/** The apply batch's record: everything its result is made of besides the batch's own row counts. */
export const ApplyDetailSchema = StageDetailSchema.extend({
  rowsStaged: count,
  keysStaged: count,
  keyed: z.boolean(),
  /** Positions (0-based) in the batch of the statements whose counts make the result. */
  insertAt: position,
  deleteAt: position.optional(),
  oldCountAt: position.optional(),
  deleteAtSourceAt: position.optional(),
  schemaChanges: z.array(SchemaChangeSchema),
  /** A history load: the statements closing versions of deleted (or unread) keys, and of changed keys. */
  history: z.object({ closedAtSource: z.array(position), closedChanged: position }).optional(),
});
export type ApplyDetail = z.infer<typeof ApplyDetailSchema>;

function subRows(subs: readonly SubStatementData[], index: number | undefined, what: string, context: string): number {
  if (index === undefined) return 0;
  const n = subs[index]?.ResultRows;
  if (n === undefined || !Number.isSafeInteger(n) || n < 0) {
    throw new WarehouseError(`${context}: the Data API reported no row count for the ${what} (statement ${index + 1})`);
  }
  return n;
}

/** The load's result from its finished apply batch (`id`) and what was recorded before it ran. */
export async function resultOfApply(
  api: DataApi,
  context: string,
  table: string,
  id: string,
  description: DescribeStatementResponse,
  detail: ApplyDetail,
): Promise<LoadResult> {
  const subs = description.SubStatements ?? [];
  const rowsLoaded = subRows(subs, detail.insertAt, 'insert', context);
  if (detail.history) {
    // Versions opened, closed by a change, closed by a delete; the batch checked the versions itself.
    const closed = detail.history.closedAtSource.map((at) => subRows(subs, at, 'closed versions', context));
    return {
      rowsStaged: detail.rowsStaged,
      rowsLoaded,
      rowsDeleted: subRows(subs, detail.history.closedChanged, 'closed versions', context),
      rowsDeletedAtSource: closed.reduce((a, b) => a + b, 0),
      schemaChanges: detail.schemaChanges,
    };
  }
  const rowsDeleted =
    detail.oldCountAt === undefined
      ? subRows(subs, detail.deleteAt, 'delete', context)
      : countAt(await api.results(context, `${id}:${detail.oldCountAt + 1}`), 0, 'old table rows', context);
  // Committed already: a disagreement here fails the run (the watermark stays) and the re-run's merge repairs it.
  checkInserted(table, rowsLoaded, detail.keyed ? detail.keysStaged : detail.rowsStaged, detail.keyed);
  const rowsDeletedAtSource = subRows(subs, detail.deleteAtSourceAt, 'deletes at the source', context);
  return {
    rowsStaged: detail.rowsStaged,
    rowsLoaded,
    rowsDeleted,
    rowsDeletedAtSource,
    schemaChanges: detail.schemaChanges,
  };
}

/**
 * Settles every statement earlier attempts recorded; returns this run's committed result if its apply finished,
 * else undefined (after dropping the staging tables earlier attempts left), and the load goes on afresh.
 */
export async function settleEarlier(
  api: DataApi,
  context: string,
  journal: LoadJournal,
  req: LoadRequest,
): Promise<LoadResult | undefined> {
  const ours = (s: LoadJournal['earlier'][number]) => s.phase === 'apply' && s.runId === journal.runId;
  const final = new Map<string, DescribeStatementResponse | undefined>();
  for (const s of journal.earlier) {
    final.set(s.id, ours(s) ? await api.settle(context, s.id) : await api.cancelAndSettle(context, s.id));
  }
  if (api.unsettled.size > 0) {
    throw new WarehouseError(
      `${context}: statement ${[...api.unsettled].join(', ')} of an earlier load of this table was cancelled but has not ended; nothing was submitted`,
      { transient: true, suggestion: 'A retried step looks again; Redshift ends a cancelled statement shortly.' },
    );
  }
  const apply = journal.earlier.findLast(ours);
  const done = apply ? final.get(apply.id) : undefined;
  if (apply && done?.Status === 'FINISHED') {
    const detail = ApplyDetailSchema.safeParse(apply.detail);
    if (!detail.success) {
      throw new WarehouseError(
        `${context}: the ledger's record of apply batch ${apply.id} is malformed: ${z.prettifyError(detail.error)}`,
      );
    }
    return resultOfApply(api, context, tableLabel(req.target), apply.id, done, detail.data);
  }
  for (const s of journal.earlier) {
    const tables = s.phase === 'stage' ? StageDetailSchema.safeParse(s.detail) : undefined;
    if (!tables?.success) continue;
    for (const name of [tables.data.stage, tables.data.keys]) {
      if (!name) continue;
      // Best effort: a staging table holds only a copy of staged files; a later load drops what this one cannot.
      await api.execute(context, dropSql({ schema: req.target.schema, name }, true)).catch(() => undefined);
    }
  }
  return undefined;
}
