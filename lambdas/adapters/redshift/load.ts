/**
 * One Redshift load in two Data API batches (each batch is one transaction):
 *
 *   A. stage:  CREATE SCHEMA IF NOT EXISTS; CREATE TABLE <stage>; COPY <stage> FROM manifest; SELECT counts
 *   -- the staged row count is checked against expectedRows here; a mismatch drops the stage and stops --
 *   B. apply:  CREATE TABLE / ADD COLUMN; DELETE … USING <stage>; INSERT deduped rows; DROP <stage>
 *              (replace: CREATE <new>; INSERT; DROP <old>; RENAME <new>; DROP <stage>)
 *
 * A batch cannot branch on a result, so the count check sits between the batches. Batch A touches only its own
 * staging table (and creates the schema), so a mismatch, a missing file or a refused type change leaves the target
 * exactly as it was; batch B commits target DDL and data together or not at all.
 */
import type { SubStatementData } from '@aws-sdk/client-redshift-data';
import { newRunId, stagingTableName } from '../../engine/naming.js';
import type { LoadRequest, LoadResult, TargetTable } from '../../ports/index.js';
import { checkInserted, validateRequest } from '../../ports/load-request.js';
import { CountMismatchError, describeError, HighwaterError, WarehouseError } from '../../runtime/errors.js';
import { existingColumns, tableExists } from './catalog.js';
import type { DataApi } from './data-api.js';
import {
  addColumnSql,
  columnType,
  createTableSql,
  type JsonAs,
  tableAttributes,
  tableLabel,
  typeConflict,
} from './ddl.js';
import {
  copySql,
  countSql,
  createSchemaSql,
  createStagingSql,
  deleteMatchingSql,
  dropSql,
  insertSql,
  renameSql,
  stagedCountsSql,
} from './load-sql.js';
import { countAt } from './values.js';

export interface LoadSettings {
  iamRoleSql: string;
  jsonAs: JsonAs;
}

interface Plan {
  sqls: string[];
  /** Positions (0-based) of the statements whose counts make the result. */
  deleteAt?: number;
  insertAt: number;
  oldCountAt?: number;
}

function subRows(subs: readonly SubStatementData[], index: number | undefined, what: string, context: string): number {
  if (index === undefined) return 0;
  const n = subs[index]?.ResultRows;
  if (n === undefined || !Number.isSafeInteger(n) || n < 0) {
    throw new WarehouseError(`${context}: the Data API reported no row count for the ${what} (statement ${index + 1})`);
  }
  return n;
}

/** Refuses a column whose warehouse type cannot take what the source now sends; returns the columns to add. */
async function plannedColumns(
  api: DataApi,
  context: string,
  req: LoadRequest,
  jsonAs: JsonAs,
): Promise<LoadRequest['columns']> {
  const existing = await existingColumns(api, context, req.target);
  const missing: LoadRequest['columns'] = [];
  for (const column of req.columns) {
    const have = existing.get(column.target.toLowerCase());
    if (have === undefined) {
      missing.push(column);
      continue;
    }
    const conflict = typeConflict(have, columnType(column, jsonAs));
    if (conflict) {
      throw new WarehouseError(
        `table ${tableLabel(req.target)} column ${column.target} is ${conflict}; refusing to change it silently`,
        {
          suggestion:
            'Alter the column by hand (ALTER TABLE … ALTER COLUMN … TYPE runs only outside a transaction) or run a full_sync replace, then retry.',
        },
      );
    }
  }
  return missing;
}

function applyPlan(
  req: LoadRequest,
  stage: TargetTable,
  fresh: TargetTable,
  exists: boolean,
  toAdd: LoadRequest['columns'],
  settings: LoadSettings,
): Plan {
  const { jsonAs } = settings;
  const keyed = req.primaryKey.length > 0;
  const insert = (into: TargetTable) => insertSql(into, stage, req.columns, req.primaryKey, req.cursorColumns, jsonAs);
  const sqls: string[] = [];
  if (req.mode === 'replace') {
    sqls.push(createTableSql(fresh, req, jsonAs));
    const insertAt = sqls.push(insert(fresh)) - 1;
    let oldCountAt: number | undefined;
    if (exists) {
      oldCountAt = sqls.push(countSql(req.target)) - 1;
      sqls.push(dropSql(req.target));
    }
    sqls.push(renameSql(fresh, req.target.name), dropSql(stage));
    return { sqls, insertAt, ...(oldCountAt === undefined ? {} : { oldCountAt }) };
  }
  if (exists) for (const column of toAdd) sqls.push(addColumnSql(req.target, column, jsonAs));
  else sqls.push(createTableSql(req.target, req, jsonAs));
  const deleteAt = keyed ? sqls.push(deleteMatchingSql(req.target, stage, req.primaryKey)) - 1 : undefined;
  const insertAt = sqls.push(insert(req.target)) - 1;
  sqls.push(dropSql(stage));
  return { sqls, insertAt, ...(deleteAt === undefined ? {} : { deleteAt }) };
}

export async function runRedshiftLoad(api: DataApi, req: LoadRequest, settings: LoadSettings): Promise<LoadResult> {
  validateRequest(req);
  const table = tableLabel(req.target);
  const context = `Redshift failed loading ${table}`;
  tableAttributes(req); // distkey/sortkey/diststyle problems surface before anything runs
  if (req.files.length > 0 && !req.manifest) {
    throw new WarehouseError(`load of ${table}: Redshift COPY needs a manifest of the ${req.files.length} files`);
  }
  const runId = newRunId();
  const stage: TargetTable = { schema: req.target.schema, name: stagingTableName(req.target.name, runId) };
  const fresh: TargetTable = { schema: req.target.schema, name: `${req.target.name}__hw_new_${runId.slice(-8)}` };
  const keyed = req.primaryKey.length > 0;
  let stageExists = false;
  try {
    const exists = await tableExists(api, context, req.target);
    const toAdd = exists && req.mode !== 'replace' ? await plannedColumns(api, context, req, settings.jsonAs) : [];
    // Built before anything runs so DDL problems (names, dist/sort keys) change nothing.
    const plan = applyPlan(req, stage, fresh, exists, toAdd, settings);

    const stageSqls = [createSchemaSql(req.target.schema), createStagingSql(stage, req.columns, settings.jsonAs)];
    if (req.files.length > 0 && req.manifest) {
      stageSqls.push(copySql(stage, req.columns, req.manifest, settings.iamRoleSql, table));
    }
    stageSqls.push(stagedCountsSql(stage, req.primaryKey));
    const staged = await api.batch(context, stageSqls);
    stageExists = true;
    const counts = await api.results(context, `${staged.id}:${stageSqls.length}`);
    const rowsStaged = countAt(counts, 0, 'staged rows', context);
    const keysStaged = countAt(counts, 1, 'staged keys', context);
    if (rowsStaged !== req.expectedRows) {
      throw new CountMismatchError(
        `load of ${table}: the files hold ${rowsStaged} rows but the ledger expects ${req.expectedRows}; nothing was loaded`,
      );
    }

    const applied = await api.batch(context, plan.sqls);
    stageExists = false; // dropped by the batch's last statement
    const subs = applied.description.SubStatements ?? [];
    const rowsLoaded = subRows(subs, plan.insertAt, 'insert', context);
    const rowsDeleted =
      plan.oldCountAt === undefined
        ? subRows(subs, plan.deleteAt, 'delete', context)
        : countAt(await api.results(context, `${applied.id}:${plan.oldCountAt + 1}`), 0, 'old table rows', context);
    // Committed already: a disagreement here fails the run (the watermark stays) and the re-run's merge repairs it.
    checkInserted(table, rowsLoaded, keyed ? keysStaged : rowsStaged, keyed);
    return { rowsStaged, rowsLoaded, rowsDeleted };
  } catch (e) {
    if (e instanceof HighwaterError) throw e;
    throw new WarehouseError(`${context}: ${describeError(e)}`, { cause: e });
  } finally {
    if (stageExists) {
      // Best effort: a stage left behind by a failed apply holds only this run's copy of the files.
      await api.execute(context, dropSql(stage, true)).catch(() => undefined);
    }
  }
}
