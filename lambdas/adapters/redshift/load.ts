/**
 * One Redshift load in two Data API batches (each batch is one transaction):
 *
 *   A. stage:  CREATE SCHEMA IF NOT EXISTS; CREATE TABLE <stage>; COPY <stage> FROM manifest; SELECT counts
 *   -- the staged row count is checked against expectedRows here; a mismatch drops the stage and stops --
 *   -- VARCHAR widenings, one statement each: ALTER TABLE … ALTER COLUMN … TYPE VARCHAR(n) (not allowed in a batch) --
 *   -- with deletes: the deleted keys into <stage>_keys (created by batch A), parameterized INSERTs, one
 *      ExecuteStatement each (a batch takes no parameters); they touch only that table --
 *   B. apply:  CREATE TABLE, or evolve it (column rebuilds for other widenings and for kept NOT NULL columns,
 *              ADD COLUMN, DROP COLUMN); [deletes: ADD COLUMN _hw_deleted_at if soft and missing;
 *              DELETE … USING <keys> (hard) or UPDATE … SET _hw_deleted_at (soft)]; DELETE … USING <stage>;
 *              INSERT deduped rows; DROP <stage> [; DROP <keys>]
 *              (replace: the same evolution, DELETE FROM t instead of the keyed delete: the table, its grants, owner
 *              and views stay; only a replace the table cannot take in place — a narrowing or another type change —
 *              builds a new table and swaps it in: CREATE <new>; INSERT; DROP <old>; RENAME <new>)
 *
 * A batch cannot branch on a result, so the count check sits between the batches. Batch A touches only its own
 * staging table (and creates the schema), so a mismatch, a missing file or a refused type change leaves the target
 * exactly as it was; batch B commits target DDL and data together or not at all. The VARCHAR widenings alone
 * commit on their own, just before batch B: a wider VARCHAR keeps every value, so a failed batch B leaves the
 * table's data as it was, with those columns wider (ddl.ts cites the documentation for each of these limits).
 *
 * Redshift runs a statement on after the Lambda that submitted it is gone, so a load runs once
 * (docs/decisions/0006-load-runs-once.md): every wait ends before the step's deadline, cancelling the statement and
 * watching it end; each submitted statement that matters (the stage batch, a widening, the apply batch) is recorded
 * in the ledger (LoadJournal) before the wait; and a load first settles what earlier attempts recorded (resume.ts):
 * a finished apply of the same run is this load's result, anything still running is waited for or cancelled.
 */
import { newRunId, stagingTableName } from '../../engine/naming.js';
import { type CatalogColumn, planSchemaChanges, resyncSuggestion, type SchemaPlan } from '../../engine/schema-plan.js';
import { CountMismatchError, describeError, HighwaterError, WarehouseError } from '../../errors.js';
import { IS_CURRENT_COLUMN } from '../../ports/history.js';
import type {
  LoadJournal,
  LoadRequest,
  LoadResult,
  LoadSession,
  LoadStatement,
  SchemaChange,
  TargetTable,
} from '../../ports/index.js';
import { deletesToApply, SOFT_DELETE_COLUMN, stagingColumns, validateRequest } from '../../ports/load-request.js';
import { NO_DEADLINE } from '../../ports/step-context.js';
import { existingColumns, tableExists } from './catalog.js';
import { type DataApi, type Finished, MAX_BATCH_STATEMENTS, type OnSubmitted } from './data-api.js';
import {
  addColumnSql,
  columnType,
  createTableSql,
  dropColumnSql,
  type JsonAs,
  rebuildColumnName,
  rebuildColumnSqls,
  tableAttributes,
  tableLabel,
  widenVarcharSql,
} from './ddl.js';
import { appendHistory, type HistoryPositions, newestVersionCheck, refusePlainLoad } from './history.js';
import { newestVersionSql } from './history-sql.js';
import {
  addSoftDeleteColumnSql,
  copySql,
  countSql,
  createKeysTableSql,
  createSchemaSql,
  createStagingSql,
  deleteAllSql,
  deleteMatchingSql,
  dropSql,
  insertSql,
  type KeyColumn,
  keyColumnType,
  keyInsertStatements,
  renameSql,
  softDeleteSql,
  stagedCountsSql,
} from './load-sql.js';
import { type ApplyDetail, resultOfApply, settleEarlier } from './resume.js';
import { countAt } from './values.js';

export interface LoadSettings {
  iamRoleSql: string;
  jsonAs: JsonAs;
}

interface Plan {
  /** Statements that may not run in a transaction block, each run on its own before `sqls`. */
  outside: string[];
  sqls: string[];
  /** Positions (0-based) of the statements whose counts make the result. */
  deleteAt?: number;
  deleteAtSourceAt?: number;
  insertAt: number;
  oldCountAt?: number;
  schemaChanges: SchemaChange[];
  history?: HistoryPositions;
}

/** The existing table's changes (refusing incompatible types), checked against what Redshift can do. */
function plannedSchema(req: LoadRequest, existing: ReadonlyMap<string, CatalogColumn>, jsonAs: JsonAs): SchemaPlan {
  const plan = planSchemaChanges(req, existing, 'redshift', (c) => columnType(c, jsonAs));
  const keys = new Set([...(req.distkey ? [req.distkey] : []), ...(req.sortkey ?? [])].map((k) => k.toLowerCase()));
  const pinned = plan.widen.filter((w) => w.to.family !== 'varchar' && keys.has(w.column.target.toLowerCase()));
  if (pinned.length > 0) {
    const list = pinned.map((w) => `${w.column.target} (${w.existing.type} → ${w.to.spelling})`).join(', ');
    const many = pinned.length > 1;
    throw new WarehouseError(
      `table ${tableLabel(req.target)} column${many ? 's' : ''} ${list} ${many ? 'are' : 'is'} the DISTKEY or a SORTKEY, ` +
        'which Redshift cannot widen in place or rebuild (no ADD or DROP COLUMN of a key column); nothing was changed',
      { suggestion: resyncSuggestion(req) },
    );
  }
  return plan;
}

/**
 * The schema plan for an existing table; for replace, undefined when the table cannot take the request in place
 * (it is rebuilt by swap: swapPlan). Merge, append and a history table refuse such a change (plannedSchema's
 * WarehouseError).
 */
function plannedOrRebuild(
  req: LoadRequest,
  existing: ReadonlyMap<string, CatalogColumn>,
  jsonAs: JsonAs,
): SchemaPlan | undefined {
  // A history table is never rebuilt (the rebuild would lose its versions): its refusal stands, resync or not.
  if (req.mode !== 'replace' || req.history) return plannedSchema(req, existing, jsonAs);
  try {
    return plannedSchema(req, existing, jsonAs);
  } catch (e) {
    if (e instanceof WarehouseError) return undefined;
    throw e;
  }
}

/** The schema statements of batch B and the VARCHAR widenings that run before it. */
function evolveSqls(target: TargetTable, schema: SchemaPlan, jsonAs: JsonAs): { outside: string[]; sqls: string[] } {
  const outside: string[] = [];
  const sqls: string[] = [];
  let rebuilds = 0;
  for (const w of schema.widen) {
    if (w.to.family === 'varchar') outside.push(widenVarcharSql(target, w.column, jsonAs));
    else
      sqls.push(
        ...rebuildColumnSqls(target, w.column.target, columnType(w.column, jsonAs), rebuildColumnName(rebuilds++)),
      );
  }
  for (const column of schema.add) sqls.push(addColumnSql(target, column, jsonAs));
  // Redshift has no ALTER COLUMN … DROP NOT NULL: a kept NOT NULL column is rebuilt as itself, nullable.
  for (const c of schema.relax) sqls.push(...rebuildColumnSqls(target, c.name, c.type, rebuildColumnName(rebuilds++)));
  for (const c of schema.drop) sqls.push(dropColumnSql(target, c.name));
  return { outside, sqls };
}

/** What batch B does for the request's deletes at the source. */
interface DeleteStep {
  mode: 'hard' | 'soft';
  /** The deleted keys' table; absent when there are no keys (soft then only makes sure the column is there). */
  keys?: TargetTable;
  /** Soft: the target lacks _hw_deleted_at (or is created by this batch). */
  addColumn: boolean;
}

/**
 * Replace of an existing table whose columns the request cannot take in place (a narrowing or another type change,
 * the reason `highwater resync` exists): the new content is built beside it and swapped in. This rebuild loses the
 * old table's grants and owner, and a view on the table blocks its DROP (docs/type-map.md, "Replace").
 */
function swapPlan(req: LoadRequest, stage: TargetTable, fresh: TargetTable, settings: LoadSettings): Plan {
  const sqls: string[] = [createTableSql(fresh, req, settings.jsonAs)];
  // Replace ignores the deleted keys (its content is the source's whole table), but a soft-deleting table keeps
  // its _hw_deleted_at column across the swap, NULL everywhere.
  if (req.deletes?.mode === 'soft') sqls.push(addSoftDeleteColumnSql(fresh));
  const insertAt =
    sqls.push(insertSql(fresh, stage, req.columns, req.primaryKey, req.cursorColumns, settings.jsonAs)) - 1;
  const oldCountAt = sqls.push(countSql(req.target)) - 1;
  sqls.push(dropSql(req.target), renameSql(fresh, req.target.name), dropSql(stage));
  return { outside: [], sqls, insertAt, schemaChanges: [], oldCountAt };
}

/**
 * The apply batch. The target is changed in place whatever the mode: created, or evolved as the schema plan says;
 * then merge deletes the staged keys, replace deletes every row, append deletes nothing; then the deduped rows
 * are inserted. Replace in place keeps the table itself, so its grants, owner and dependent views stay.
 */
function applyPlan(
  req: LoadRequest,
  stage: TargetTable,
  exists: boolean,
  schema: SchemaPlan | undefined,
  settings: LoadSettings,
  deleteStep: DeleteStep | undefined,
  hasHistoryColumns = false,
): Plan {
  const { jsonAs } = settings;
  const keyed = req.primaryKey.length > 0;
  const sqls: string[] = [];
  let outside: string[] = [];
  if (exists && schema) {
    const evolve = evolveSqls(req.target, schema, jsonAs);
    outside = evolve.outside;
    sqls.push(...evolve.sqls);
  } else sqls.push(createTableSql(req.target, req, jsonAs));
  if (req.history) {
    const table = { exists, hasColumns: hasHistoryColumns };
    const h = appendHistory(sqls, req, req.history, stage, deleteStep?.keys, table, jsonAs);
    sqls.push(dropSql(stage));
    if (deleteStep?.keys) sqls.push(dropSql(deleteStep.keys));
    return { outside, sqls, insertAt: h.insertAt, history: h.history, schemaChanges: schema?.changes ?? [] };
  }
  // The deletes at the source come before the merge's delete+insert, so a key deleted and inserted again at the
  // source ends up present (and, soft, live: the merge re-inserts it with a NULL _hw_deleted_at).
  if (deleteStep?.addColumn) sqls.push(addSoftDeleteColumnSql(req.target));
  let deleteAtSourceAt: number | undefined;
  if (deleteStep?.keys) {
    const sql =
      deleteStep.mode === 'hard'
        ? deleteMatchingSql(req.target, deleteStep.keys, req.primaryKey)
        : softDeleteSql(req.target, deleteStep.keys, req.primaryKey);
    deleteAtSourceAt = sqls.push(sql) - 1;
  }
  let deleteAt: number | undefined;
  if (req.mode === 'replace') {
    if (exists) deleteAt = sqls.push(deleteAllSql(req.target)) - 1;
  } else if (keyed) deleteAt = sqls.push(deleteMatchingSql(req.target, stage, req.primaryKey)) - 1;
  const insertAt = sqls.push(insertSql(req.target, stage, req.columns, req.primaryKey, req.cursorColumns, jsonAs)) - 1;
  sqls.push(dropSql(stage));
  if (deleteStep?.keys) sqls.push(dropSql(deleteStep.keys));
  return {
    outside,
    sqls,
    insertAt,
    schemaChanges: schema?.changes ?? [],
    ...(deleteAt === undefined ? {} : { deleteAt }),
    ...(deleteAtSourceAt === undefined ? {} : { deleteAtSourceAt }),
  };
}

/** The request's primary-key columns, in key order, as the deleted keys' table holds them. */
function keyColumns(req: LoadRequest, jsonAs: JsonAs): KeyColumn[] {
  return req.primaryKey.map((name) => {
    const c = req.columns.find((col) => col.target.toLowerCase() === name.toLowerCase());
    if (!c) throw new WarehouseError(`load of ${tableLabel(req.target)}: primary key column ${name} is not loaded`);
    return { name: c.target, type: keyColumnType(c, jsonAs) };
  });
}

/**
 * Fills the deleted keys' table, one parameterized INSERT per ExecuteStatement (load-sql.ts sizes them against the
 * Data API's limits). These run outside the load's transaction but write only that table, which nothing else reads;
 * the target changes in batch B alone. So the keys never need to ride in the transaction, and there is no limit on
 * their number from it: batch B matches any number of them with one statement, and one load's keys are never split
 * across transactions. Every key must land (a hand-off count, like the staged rows).
 */
async function stageDeletedKeys(
  api: DataApi,
  context: string,
  req: LoadRequest,
  keys: TargetTable,
  columns: readonly KeyColumn[],
  rows: readonly (readonly string[])[],
): Promise<void> {
  const table = tableLabel(req.target);
  let staged = 0;
  for (const statement of keyInsertStatements(keys, columns, rows, table)) {
    const done = await api.execute(context, statement.sql, statement.parameters);
    staged += done.description.ResultRows ?? 0;
  }
  if (staged !== rows.length) {
    throw new CountMismatchError(
      `load of ${table}: staged ${staged} of ${rows.length} deleted keys; nothing was loaded`,
    );
  }
}

/** The ledger hook for one statement of this load (nothing when the load has no journal). */
function recorder(
  journal: LoadJournal | undefined,
  phase: LoadStatement['phase'],
  detail?: Record<string, unknown>,
): OnSubmitted | undefined {
  if (!journal) return undefined;
  return (id) =>
    journal.record({
      id,
      runId: journal.runId,
      phase,
      submittedAt: new Date().toISOString(),
      ...(detail ? { detail } : {}),
    });
}

export async function runRedshiftLoad(
  dataApi: DataApi,
  req: LoadRequest,
  settings: LoadSettings,
  session?: LoadSession,
): Promise<LoadResult> {
  validateRequest(req);
  const table = tableLabel(req.target);
  const context = `Redshift failed loading ${table}`;
  tableAttributes(req); // distkey/sortkey/diststyle problems surface before anything runs
  for (const group of [{ files: req.files, manifest: req.manifest }, ...(req.fileGroups ?? [])]) {
    if (group.files.length > 0 && !group.manifest) {
      throw new WarehouseError(`load of ${table}: Redshift COPY needs a manifest of the ${group.files.length} files`);
    }
  }
  // A DataApi of its own: its `unsettled` set is this load's alone.
  const api = dataApi.withStep(session?.step ?? NO_DEADLINE);
  const journal = session?.journal;
  const runId = newRunId();
  const stage: TargetTable = { schema: req.target.schema, name: stagingTableName(req.target.name, runId) };
  const fresh: TargetTable = { schema: req.target.schema, name: `${req.target.name}__hw_new_${runId.slice(-8)}` };
  const keyed = req.primaryKey.length > 0;
  const deletes = deletesToApply(req);
  const keysTable: TargetTable | undefined =
    deletes && deletes.keys.length > 0 ? { schema: req.target.schema, name: `${stage.name}_keys` } : undefined;
  let stageExists = false;
  try {
    if (journal) {
      const done = await settleEarlier(api, context, journal, req);
      if (done) return done;
    }
    const exists = await tableExists(api, context, req.target);
    const existing = exists ? await existingColumns(api, context, req.target) : undefined;
    const schema = existing ? plannedOrRebuild(req, existing, settings.jsonAs) : undefined;
    refusePlainLoad(req, existing);
    // Replace (deletes ignored) needs the soft-delete column when the table is soft-deleting; merge adds it with keys.
    const deleteMode = deletes?.mode ?? (req.mode === 'replace' ? req.deletes?.mode : undefined);
    const deleteStep: DeleteStep | undefined = deleteMode && {
      mode: deleteMode,
      ...(keysTable ? { keys: keysTable } : {}),
      addColumn: deleteMode === 'soft' && !req.history && !existing?.has(SOFT_DELETE_COLUMN),
    };
    const keyCols = keysTable ? keyColumns(req, settings.jsonAs) : [];
    // Built before anything runs so DDL problems (names, dist/sort keys, too many statements) change nothing.
    let plan =
      exists && !schema
        ? swapPlan(req, stage, fresh, settings)
        : applyPlan(req, stage, exists, schema, settings, deleteStep, existing?.has(IS_CURRENT_COLUMN));
    // A replace whose in-place evolution does not fit one batch rebuilds the table instead (never a history table).
    if (plan.sqls.length > MAX_BATCH_STATEMENTS && req.mode === 'replace' && !req.history)
      plan = swapPlan(req, stage, fresh, settings);
    if (plan.sqls.length > MAX_BATCH_STATEMENTS) {
      throw new WarehouseError(
        `load of ${table}: its schema changes${deleteStep ? ' and deletes' : ''} need ${plan.sqls.length} statements in one Data API batch, which takes at most ${MAX_BATCH_STATEMENTS}; nothing was changed`,
        { suggestion: resyncSuggestion(req) },
      );
    }

    const stageSqls = [
      createSchemaSql(req.target.schema),
      createStagingSql(stage, stagingColumns(req), settings.jsonAs),
    ];
    if (keysTable) stageSqls.push(createKeysTableSql(keysTable, keyCols));
    // COPY maps Parquet columns to the column list by position: each group of files with its own columns.
    for (const g of [{ columns: req.columns, files: req.files, manifest: req.manifest }, ...(req.fileGroups ?? [])]) {
      if (g.files.length > 0 && g.manifest)
        stageSqls.push(copySql(stage, g.columns, g.manifest, settings.iamRoleSql, table));
    }
    // A history table's newest version, checked before anything changes (the counts stay the batch's last result).
    // A plain table turned into a history table has no versions yet (its rows are adopted by the apply batch).
    const newestAt =
      req.history && existing?.has(IS_CURRENT_COLUMN)
        ? stageSqls.push(newestVersionSql(req.target, req.history.validFrom))
        : 0;
    stageSqls.push(stagedCountsSql(stage, req.primaryKey));
    const tables = { stage: stage.name, ...(keysTable ? { keys: keysTable.name } : {}) };
    const staged = await api.batch(context, stageSqls, recorder(journal, 'stage', tables));
    stageExists = true;
    const counts = await api.results(context, `${staged.id}:${stageSqls.length}`);
    const rowsStaged = countAt(counts, 0, 'staged rows', context);
    const keysStaged = countAt(counts, 1, 'staged keys', context);
    if (rowsStaged !== req.expectedRows) {
      throw new CountMismatchError(
        `load of ${table}: the files hold ${rowsStaged} rows but the ledger expects ${req.expectedRows}; nothing was loaded`,
      );
    }

    if (newestAt > 0 && req.history) {
      newestVersionCheck(await api.results(context, `${staged.id}:${newestAt}`), req, req.history.validFrom, context);
    }
    if (keysTable && deletes) await stageDeletedKeys(api, context, req, keysTable, keyCols, deletes.keys);
    for (const sql of plan.outside) await api.execute(context, sql, [], recorder(journal, 'widen'));
    const detail: ApplyDetail = {
      ...tables,
      rowsStaged,
      keysStaged,
      keyed,
      insertAt: plan.insertAt,
      schemaChanges: plan.schemaChanges,
      ...(plan.deleteAt === undefined ? {} : { deleteAt: plan.deleteAt }),
      ...(plan.oldCountAt === undefined ? {} : { oldCountAt: plan.oldCountAt }),
      ...(plan.deleteAtSourceAt === undefined ? {} : { deleteAtSourceAt: plan.deleteAtSourceAt }),
      ...(plan.history ? { history: plan.history } : {}),
    };
    let applied: Finished;
    try {
      applied = await api.batch(context, plan.sqls, recorder(journal, 'apply', detail));
    } catch (e) {
      // A batch that failed or was cancelled and rolled back leaves the stage (dropped below); one still running
      // keeps it, and either drops it as it commits or leaves it for the next load of the table to drop.
      if (api.unsettled.size > 0) stageExists = false;
      throw e;
    }
    stageExists = false; // dropped by the batch's last statements (with the deleted keys' table)
    return await resultOfApply(api, context, table, applied.id, applied.description, detail);
  } catch (e) {
    if (api.unsettled.size > 0) journal?.markUnsettled();
    if (e instanceof HighwaterError) throw e;
    throw new WarehouseError(`${context}: ${describeError(e)}`, { cause: e });
  } finally {
    if (stageExists) {
      // Best effort: a stage left behind by a failed apply holds only this run's copy of the files (and keys).
      await api.execute(context, dropSql(stage, true)).catch(() => undefined);
      if (keysTable) await api.execute(context, dropSql(keysTable, true)).catch(() => undefined);
    }
  }
}
