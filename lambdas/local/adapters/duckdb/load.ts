/**
 * One load = one DuckDB transaction: schema and table evolution, staging, count checks and the merge/replace/append
 * all commit together or not at all, so a failed load leaves the target exactly as it was.
 */
import { randomBytes } from 'node:crypto';
import { type DuckDBConnection, type DuckDBType, type DuckDBValue, LIST, listValue, VARCHAR } from '@duckdb/node-api';
import type { MappedColumn } from '../../../domain/model.js';
import { type CatalogColumn, planSchemaChanges, type SchemaPlan } from '../../../engine/schema-plan.js';
import { quoteAnsi } from '../../../engine/sql.js';
import { duckdbType } from '../../../engine/type-map.js';
import { CountMismatchError, WarehouseError } from '../../../errors.js';
import type { LoadDeletes, LoadRequest, LoadResult, SchemaChange } from '../../../ports/index.js';
import {
  checkInserted,
  deletesToApply,
  SOFT_DELETE_COLUMN,
  stagingColumns,
  tableLabel,
  validateRequest,
} from '../../../ports/load-request.js';
import { existingColumns, tableExists } from './catalog.js';
import { toHighwaterError } from './errors.js';
import { ensureHistoryColumns, loadHistory, refusePlainLoad } from './history.js';
import { type MemoryCeiling, withLoadMemory } from './load-memory.js';
import {
  addColumnSql,
  addSoftDeleteColumnSql,
  alterTypeSql,
  createStagingSql,
  createTableSql,
  type Dedupe,
  deleteMatchingSql,
  distinctKeysSql,
  dropColumnSql,
  dropNotNullSql,
  emptyRelationSql,
  filesRelationSql,
  filesRowCountSql,
  fillStagingSql,
  hasRowsSql,
  insertKeysSql,
  insertSql,
  keysTableSql,
  qualifiedTarget,
  softDeleteSql,
} from './load-sql.js';

/**
 * Deleted keys per INSERT into the keys' temp table. Each key is one parenthesised row of `?` parameters, so a
 * statement binds 500 × (key columns) values: small enough for DuckDB to prepare quickly, large enough that
 * 100,000 deleted keys take 200 statements. There is no upper bound on the keys of one load: DuckDB's transaction
 * holds them all (in the temp table), so they are never split across transactions.
 */
export const DELETE_KEYS_PER_STATEMENT = 500;

async function scalarCount(conn: DuckDBConnection, sql: string): Promise<number> {
  const reader = await conn.runAndReadAll(sql);
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

/**
 * Brings an existing table to the request's columns, inside the load's transaction (DuckDB runs every ALTER TABLE
 * here transactionally: a failed load rolls them back): widens in place, adds, and keeps (drops NOT NULL) or drops
 * the columns the source dropped. An incompatible type change throws before any of it runs.
 */
async function evolveTable(
  conn: DuckDBConnection,
  req: LoadRequest,
  qualified: string,
  existing: ReadonlyMap<string, CatalogColumn>,
): Promise<SchemaChange[]> {
  return applySchemaPlan(
    conn,
    qualified,
    planSchemaChanges(req, existing, 'duckdb', (c) => duckdbType(c.type)),
  );
}

async function applySchemaPlan(conn: DuckDBConnection, qualified: string, plan: SchemaPlan): Promise<SchemaChange[]> {
  for (const w of plan.widen) await conn.run(alterTypeSql(qualified, w.column));
  for (const column of plan.add) await conn.run(addColumnSql(qualified, column));
  for (const column of plan.relax) await conn.run(dropNotNullSql(qualified, column.name));
  for (const column of plan.drop) await conn.run(dropColumnSql(qualified, column.name));
  return plan.changes;
}

/**
 * The new table a replace builds, as DDL. Replace keeps the table's columns as a merge would evolve them (the same
 * shape Redshift's replace in place leaves): a copy of the existing table's columns, then the schema plan applied to
 * it. Only when the table cannot take the request (a narrowing or another type change: what resync is for) is the
 * new table built from the request's columns alone.
 */
async function buildReplacement(
  conn: DuckDBConnection,
  req: LoadRequest,
  freshQualified: string,
  existing: ReadonlyMap<string, CatalogColumn> | undefined,
): Promise<SchemaChange[]> {
  let plan: SchemaPlan | undefined;
  if (existing) {
    try {
      plan = planSchemaChanges(req, existing, 'duckdb', (c) => duckdbType(c.type));
    } catch (e) {
      if (!(e instanceof WarehouseError)) throw e;
    }
  }
  if (!existing || !plan) {
    await conn.run(createTableSql(freshQualified, req.columns));
    return [];
  }
  const defs = [...existing.values()].map((c) => `${quoteAnsi(c.name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}`);
  await conn.run(`CREATE TABLE ${freshQualified} (${defs.join(', ')})`);
  return applySchemaPlan(conn, freshQualified, plan);
}

/** The request's primary-key columns, in key order (validateRequest has checked that each is among the columns). */
function keyColumns(req: LoadRequest): MappedColumn[] {
  return req.primaryKey.map((name) => {
    const c = req.columns.find((col) => col.target.toLowerCase() === name.toLowerCase());
    if (!c) throw new Error(`primary key column ${name} is not among the loaded columns`);
    return c;
  });
}

/**
 * Applies the deletes at the source, in the load's transaction and before the merge touches the target: the keys go
 * into a temp table (bound parameters, DELETE_KEYS_PER_STATEMENT keys a statement), then one DELETE (hard) or one
 * UPDATE of `_hw_deleted_at` (soft) matches the target against it. Returns the rows removed or newly marked.
 */
async function applyDeletes(
  conn: DuckDBConnection,
  req: LoadRequest,
  deletes: LoadDeletes,
  qualified: string,
  keysName: string,
): Promise<number> {
  if (deletes.keys.length === 0) return 0;
  await stageDeletedKeys(conn, req, deletes, keysName);
  const sql =
    deletes.mode === 'hard'
      ? deleteMatchingSql(qualified, quoteAnsi(keysName), req.primaryKey)
      : softDeleteSql(qualified, keysName, req.primaryKey);
  const changed = (await conn.run(sql)).rowsChanged;
  await conn.run(`DROP TABLE ${quoteAnsi(keysName)}`);
  return changed;
}

/** The deleted keys into the temp table `keysName`, every one of them (a hand-off count). */
async function stageDeletedKeys(
  conn: DuckDBConnection,
  req: LoadRequest,
  deletes: LoadDeletes,
  keysName: string,
): Promise<void> {
  const keys = keyColumns(req);
  await conn.run(keysTableSql(keysName, keys));
  let staged = 0;
  for (let at = 0; at < deletes.keys.length; at += DELETE_KEYS_PER_STATEMENT) {
    const batch = deletes.keys.slice(at, at + DELETE_KEYS_PER_STATEMENT);
    const values = batch.flat();
    staged += (
      await conn.run(
        insertKeysSql(keysName, keys, batch.length),
        values,
        values.map(() => VARCHAR),
      )
    ).rowsChanged;
  }
  if (staged !== deletes.keys.length) {
    throw new CountMismatchError(
      `load of ${tableLabel(req)}: staged ${staged} of ${deletes.keys.length} deleted keys; nothing was loaded`,
    );
  }
}

/**
 * Where the load reads its rows from. One column list (every load but a --redshift-only load of runs with
 * different columns): the Parquet files themselves, read by each statement that needs them — no staging copy, so
 * the rows are materialised once, in the target. Several column lists: a staging table holding their union.
 */
interface StagedRows {
  /** SQL text of the relation: a quoted temp table, or filesRelationSql's subquery over `$1`. */
  relation: string;
  /** The statement parameters `relation` needs (the file list), bound to every statement that reads it. */
  values: DuckDBValue[];
  types: DuckDBType[];
  rows: number;
  drop(): Promise<void>;
}

async function stageRows(conn: DuckDBConnection, req: LoadRequest, stage: string): Promise<StagedRows> {
  if (!req.fileGroups?.length) {
    if (req.files.length === 0)
      return { relation: emptyRelationSql(req.columns), values: [], types: [], rows: 0, drop: async () => {} };
    const values = [listValue(req.files)];
    const types = [LIST(VARCHAR)];
    const counted = await conn.runAndReadAll(filesRowCountSql(), values, types);
    const rows = Number(counted.getRows()[0]?.[0] ?? 0);
    return { relation: filesRelationSql(req.columns), values, types, rows, drop: async () => {} };
  }
  await conn.run(createStagingSql(stage, stagingColumns(req)));
  // Each group of files with its own columns (LoadRequest.fileGroups): a column a group lacks stays NULL.
  for (const g of [{ columns: req.columns, files: req.files }, ...req.fileGroups]) {
    if (g.files.length > 0) await conn.run(fillStagingSql(stage, g.columns), [listValue(g.files)], [LIST(VARCHAR)]);
  }
  return {
    relation: quoteAnsi(stage),
    values: [],
    types: [],
    rows: await scalarCount(conn, `SELECT count(*) FROM ${quoteAnsi(stage)}`),
    drop: async () => {
      await conn.run(`DROP TABLE ${quoteAnsi(stage)}`);
    },
  };
}

async function loadInTransaction(conn: DuckDBConnection, req: LoadRequest, suffix: string): Promise<LoadResult> {
  const qualified = qualifiedTarget(req.target);
  const stage = `__hw_stage_${suffix}`;
  const keysName = `__hw_deleted_keys_${suffix}`;
  const keyed = req.primaryKey.length > 0;
  const deletes = deletesToApply(req);

  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteAnsi(req.target.schema)}`);
  const exists = await tableExists(conn, req.target);
  let schemaChanges: SchemaChange[] = [];
  // A history table is never replaced: its full_sync compares with the current versions (history.ts).
  if (req.mode !== 'replace' || req.history) {
    const existing = exists ? await existingColumns(conn, req.target) : new Map<string, CatalogColumn>();
    refusePlainLoad(req, existing);
    if (exists) schemaChanges = await evolveTable(conn, req, qualified, existing);
    else await conn.run(createTableSql(qualified, req.columns));
    if (req.history) await ensureHistoryColumns(conn, req, req.history, qualified, exists ? existing : undefined);
    // Soft deletes need their column; it is highwater's own, so it is not a schema change of the source's.
    else if (deletes?.mode === 'soft' && !existing.has(SOFT_DELETE_COLUMN))
      await conn.run(addSoftDeleteColumnSql(qualified));
  }

  const staged = await stageRows(conn, req, stage);
  const run = (sql: string) => conn.run(sql, staged.values, staged.types);
  const rowsStaged = staged.rows;
  if (rowsStaged !== req.expectedRows) {
    throw new CountMismatchError(
      `load of ${tableLabel(req)}: the files hold ${rowsStaged} rows but the ledger expects ${req.expectedRows}; nothing was loaded`,
    );
  }

  // A key read twice in one run (a row updated while the run read it, a retried part) keeps its newest row; the
  // window that picks it is paid only when the key-only count says there is such a key.
  let rowsExpected = rowsStaged;
  let dedupe: Dedupe | undefined;
  if (keyed && rowsStaged > 0) {
    const reader = await conn.runAndReadAll(
      distinctKeysSql(staged.relation, req.primaryKey),
      staged.values,
      staged.types,
    );
    rowsExpected = Number(reader.getRows()[0]?.[0] ?? 0);
    if (rowsExpected !== rowsStaged) dedupe = { primaryKey: req.primaryKey, cursorColumns: req.cursorColumns };
  }
  if (req.history) {
    const stageKeys = async (d: LoadDeletes) => {
      await stageDeletedKeys(conn, req, d, keysName);
      return keysName;
    };
    const counts = await loadHistory(conn, req, req.history, qualified, { ...staged, dedupe }, suffix, stageKeys);
    await staged.drop();
    return { rowsStaged, ...counts, schemaChanges };
  }

  // Before the merge's delete+insert, so a key deleted and inserted again at the source ends up present (and, soft,
  // live: the merge re-inserts it with a NULL _hw_deleted_at).
  const rowsDeletedAtSource = deletes ? await applyDeletes(conn, req, deletes, qualified, keysName) : 0;

  let rowsDeleted = 0;
  let rowsLoaded: number;
  if (req.mode === 'replace') {
    // Build the new content beside the old table, then swap; readers see the old or the new table, never neither.
    // (Not DELETE + INSERT in place as on Redshift: a DuckDB reader on another connection can see both the old and
    // the new rows while such a transaction commits. DuckDB has no grants, and its views bind by name at query
    // time, so a view on the table works on the swapped-in one.)
    if (exists) refusePlainLoad(req, await existingColumns(conn, req.target));
    const fresh = `${req.target.name}__hw_new_${suffix}`;
    const freshQualified = qualifiedTarget({ schema: req.target.schema, name: fresh });
    schemaChanges = await buildReplacement(
      conn,
      req,
      freshQualified,
      exists ? await existingColumns(conn, req.target) : undefined,
    );
    // Replace ignores the deleted keys (its content is the source's whole table), but a soft-deleting table keeps
    // its _hw_deleted_at column across the swap, NULL everywhere.
    const freshColumns = await existingColumns(conn, { schema: req.target.schema, name: fresh });
    if (req.deletes?.mode === 'soft' && !freshColumns.has(SOFT_DELETE_COLUMN))
      await conn.run(addSoftDeleteColumnSql(freshQualified));
    rowsLoaded =
      rowsStaged === 0 ? 0 : (await run(insertSql(freshQualified, staged.relation, req.columns, dedupe))).rowsChanged;
    if (exists) {
      rowsDeleted = await scalarCount(conn, `SELECT count(*) FROM ${qualified}`);
      await conn.run(`DROP TABLE ${qualified}`);
    }
    await conn.run(`ALTER TABLE ${freshQualified} RENAME TO ${quoteAnsi(req.target.name)}`);
  } else {
    // An empty target (a first load) has nothing to delete: the key join is skipped.
    const targetHasRows = exists && (await scalarCount(conn, hasRowsSql(qualified))) > 0;
    if (keyed && targetHasRows && rowsStaged > 0)
      rowsDeleted = (await run(deleteMatchingSql(qualified, staged.relation, req.primaryKey))).rowsChanged;
    rowsLoaded =
      rowsStaged === 0 ? 0 : (await run(insertSql(qualified, staged.relation, req.columns, dedupe))).rowsChanged;
  }
  checkInserted(tableLabel(req), rowsLoaded, rowsExpected, keyed);
  await staged.drop();
  return { rowsStaged, rowsLoaded, rowsDeleted, rowsDeletedAtSource, schemaChanges };
}

/** One load in one transaction, with DuckDB's memory sized for it first (load-memory.ts). */
export async function runLoad(conn: DuckDBConnection, req: LoadRequest, ceiling: MemoryCeiling): Promise<LoadResult> {
  validateRequest(req);
  const suffix = randomBytes(6).toString('hex');
  const inTransaction = async (): Promise<LoadResult> => {
    await conn.run('BEGIN TRANSACTION');
    try {
      const result = await loadInTransaction(conn, req, suffix);
      await conn.run('COMMIT');
      return result;
    } catch (e) {
      try {
        await conn.run('ROLLBACK');
      } catch {
        // A failed COMMIT already ended the transaction; the original error is the one worth reporting.
      }
      // Wrapped once, below, after withLoadMemory has read DuckDB's own message.
      throw e;
    }
  };
  // The rows' order in the target means nothing (a key is one row; dedupe orders by cursor), so DuckDB need not keep
  // the files' order: it can stream the files into the target instead of buffering them to keep that order.
  await conn.run('SET preserve_insertion_order = false');
  try {
    return await withLoadMemory(conn, req, ceiling, inTransaction);
  } catch (e) {
    throw toHighwaterError(e, `loading ${tableLabel(req)}`);
  } finally {
    await conn.run('RESET preserve_insertion_order');
  }
}
