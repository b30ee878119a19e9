/**
 * One load = one DuckDB transaction: schema and table evolution, staging, count checks and the merge/replace/append
 * all commit together or not at all, so a failed load leaves the target exactly as it was.
 */
import { randomBytes } from 'node:crypto';
import { type DuckDBConnection, LIST, listValue, VARCHAR } from '@duckdb/node-api';
import { planSchemaChanges } from '../../../engine/schema-plan.js';
import { quoteAnsi } from '../../../engine/sql.js';
import { duckdbType } from '../../../engine/type-map.js';
import { CountMismatchError } from '../../../errors.js';
import type { LoadRequest, LoadResult, SchemaChange } from '../../../ports/index.js';
import { checkInserted, tableLabel, validateRequest } from '../../../ports/load-request.js';
import { existingColumns, tableExists } from './catalog.js';
import { toHighwaterError } from './errors.js';
import {
  addColumnSql,
  alterTypeSql,
  createStagingSql,
  createTableSql,
  dedupeSql,
  deleteMatchingSql,
  dropColumnSql,
  dropNotNullSql,
  fillStagingSql,
  insertSql,
  qualifiedTarget,
} from './load-sql.js';

async function scalarCount(conn: DuckDBConnection, sql: string): Promise<number> {
  const reader = await conn.runAndReadAll(sql);
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

/**
 * Brings an existing table to the request's columns, inside the load's transaction (DuckDB runs every ALTER TABLE
 * here transactionally: a failed load rolls them back): widens in place, adds, and keeps (drops NOT NULL) or drops
 * the columns the source dropped. An incompatible type change throws before any of it runs.
 */
async function evolveTable(conn: DuckDBConnection, req: LoadRequest, qualified: string): Promise<SchemaChange[]> {
  const plan = planSchemaChanges(req, await existingColumns(conn, req.target), 'duckdb', (c) => duckdbType(c.type));
  for (const w of plan.widen) await conn.run(alterTypeSql(qualified, w.column));
  for (const column of plan.add) await conn.run(addColumnSql(qualified, column));
  for (const column of plan.relax) await conn.run(dropNotNullSql(qualified, column.name));
  for (const column of plan.drop) await conn.run(dropColumnSql(qualified, column.name));
  return plan.changes;
}

async function loadInTransaction(conn: DuckDBConnection, req: LoadRequest, suffix: string): Promise<LoadResult> {
  const qualified = qualifiedTarget(req.target);
  const stage = `__hw_stage_${suffix}`;
  const dedup = `__hw_dedup_${suffix}`;
  const keyed = req.primaryKey.length > 0;

  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteAnsi(req.target.schema)}`);
  const exists = await tableExists(conn, req.target);
  let schemaChanges: SchemaChange[] = [];
  if (req.mode !== 'replace') {
    if (exists) schemaChanges = await evolveTable(conn, req, qualified);
    else await conn.run(createTableSql(qualified, req.columns));
  }

  await conn.run(createStagingSql(stage, req.columns));
  if (req.files.length > 0) {
    await conn.run(fillStagingSql(stage, req.columns), [listValue(req.files)], [LIST(VARCHAR)]);
  }
  const rowsStaged = await scalarCount(conn, `SELECT count(*) FROM ${quoteAnsi(stage)}`);
  if (rowsStaged !== req.expectedRows) {
    throw new CountMismatchError(
      `load of ${tableLabel(req)}: the files hold ${rowsStaged} rows but the ledger expects ${req.expectedRows}; nothing was loaded`,
    );
  }

  let source = stage;
  if (keyed) {
    await conn.run(dedupeSql(dedup, stage, req.columns, req.primaryKey, req.cursorColumns));
    source = dedup;
  }
  const rowsExpected = keyed ? await scalarCount(conn, `SELECT count(*) FROM ${quoteAnsi(dedup)}`) : rowsStaged;

  let rowsDeleted = 0;
  let rowsLoaded: number;
  if (req.mode === 'replace') {
    // Build the new content beside the old table, then swap; readers see the old or the new table, never neither.
    const fresh = `${req.target.name}__hw_new_${suffix}`;
    const freshQualified = qualifiedTarget({ schema: req.target.schema, name: fresh });
    await conn.run(createTableSql(freshQualified, req.columns));
    rowsLoaded = (await conn.run(insertSql(freshQualified, source, req.columns))).rowsChanged;
    if (exists) {
      rowsDeleted = await scalarCount(conn, `SELECT count(*) FROM ${qualified}`);
      await conn.run(`DROP TABLE ${qualified}`);
    }
    await conn.run(`ALTER TABLE ${freshQualified} RENAME TO ${quoteAnsi(req.target.name)}`);
  } else {
    if (keyed) rowsDeleted = (await conn.run(deleteMatchingSql(qualified, source, req.primaryKey))).rowsChanged;
    rowsLoaded = (await conn.run(insertSql(qualified, source, req.columns))).rowsChanged;
  }
  checkInserted(tableLabel(req), rowsLoaded, rowsExpected, keyed);
  await conn.run(`DROP TABLE IF EXISTS ${quoteAnsi(dedup)}`);
  await conn.run(`DROP TABLE ${quoteAnsi(stage)}`);
  return { rowsStaged, rowsLoaded, rowsDeleted, schemaChanges };
}

export async function runLoad(conn: DuckDBConnection, req: LoadRequest): Promise<LoadResult> {
  validateRequest(req);
  const suffix = randomBytes(6).toString('hex');
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
    throw toHighwaterError(e, `loading ${tableLabel(req)}`);
  }
}
