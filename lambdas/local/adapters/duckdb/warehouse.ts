/**
 * The DuckDB Warehouse: one file, a writer connection for loads and a reader connection for count/query, so reads
 * run beside a load and see the last committed state (old table or new, never a half-loaded one).
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { blobValue, timestampTZValue } from '@duckdb/node-api';
import type { MappedColumn } from '../../../domain/model.js';
import { duckdbType } from '../../../engine/type-map.js';
import { WarehouseError } from '../../../errors.js';
import type { LoadRequest, LoadResult, TargetTable, Warehouse, WarehouseCapabilities } from '../../../ports/index.js';
import { tableExists } from './catalog.js';
import { toHighwaterError } from './errors.js';
import { acquireInstance, type InstanceLease } from './instance-registry.js';
import { runLoad } from './load.js';
import type { MemoryCeiling } from './load-memory.js';
import { createTableSql, qualifiedTarget } from './load-sql.js';
import { Serial } from './serial.js';
import { toJsRow } from './values.js';

/** DuckDB has no practical identifier limit; this keeps names portable to Redshift's 127 bytes. */
const MAX_IDENTIFIER_LENGTH = 127;

export const duckDbCapabilities: WarehouseCapabilities = {
  name: 'duckdb',
  maxIdentifierLength: MAX_IDENTIFIER_LENGTH,
  columnType: (column: MappedColumn) => duckdbType(column.type),
};

export function describeDuckDbDdl(request: Pick<LoadRequest, 'target' | 'columns'>): string {
  return createTableSql(qualifiedTarget(request.target), request.columns);
}

function toParam(value: unknown, index: number): DuckDBValue {
  if (value === null || value === undefined) return null;
  if (
    typeof value === 'boolean' ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'string'
  ) {
    return value;
  }
  if (value instanceof Uint8Array) return blobValue(value);
  if (value instanceof Date) return timestampTZValue(BigInt(value.getTime()) * 1000n);
  throw new WarehouseError(`query parameter ${index + 1} has an unsupported type (${typeof value})`);
}

async function openConnection(lease: InstanceLease): Promise<DuckDBConnection> {
  const conn = await lease.instance.connect();
  // Casts between TIMESTAMP and TIMESTAMPTZ use the session zone; pin it so results never depend on the host.
  await conn.run("SET TimeZone = 'UTC'");
  return conn;
}

class DuckDbWarehouse implements Warehouse {
  readonly capabilities = duckDbCapabilities;
  private readonly writes = new Serial();
  private readonly reads = new Serial();
  private closed = false;

  constructor(
    private readonly lease: InstanceLease,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly ceiling: MemoryCeiling,
  ) {}

  private ensureOpen(action: string): void {
    if (this.closed) throw new WarehouseError(`cannot ${action}: the DuckDB warehouse ${this.lease.path} is closed`);
  }

  async load(request: LoadRequest): Promise<LoadResult> {
    this.ensureOpen(`load ${request.target.schema}.${request.target.name}`);
    return this.writes.run(() => runLoad(this.writer, request, this.ceiling));
  }

  describeDdl(request: Pick<LoadRequest, 'target' | 'columns' | 'primaryKey'>): string {
    return describeDuckDbDdl(request);
  }

  async count(target: TargetTable): Promise<number | undefined> {
    this.ensureOpen(`count ${target.schema}.${target.name}`);
    return this.reads.run(() =>
      this.readOnly(`counting ${target.schema}.${target.name}`, async (conn) => {
        if (!(await tableExists(conn, target))) return undefined;
        const reader = await conn.runAndReadAll(`SELECT count(*) FROM ${qualifiedTarget(target)}`);
        return Number(reader.getRows()[0]?.[0] ?? 0);
      }),
    );
  }

  async query<T extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.ensureOpen('run a query');
    const values = params.map(toParam);
    return this.reads.run(() =>
      this.readOnly('running a query', async (conn) => {
        const statements = await conn.extractStatements(sql);
        if (statements.count !== 1) {
          throw new WarehouseError(`query must be exactly one statement, got ${statements.count}`);
        }
        const reader = await conn.runAndReadAll(sql, values);
        // The row shape is the caller's claim about its own SELECT, as with any SQL driver.
        return reader.getRowObjects().map((row) => toJsRow(row) as T);
      }),
    );
  }

  /** A read-only transaction: one consistent snapshot, and any write attempt fails. */
  private async readOnly<T>(context: string, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    try {
      await this.reader.run('BEGIN TRANSACTION READ ONLY');
      try {
        return await work(this.reader);
      } finally {
        await this.reader.run('ROLLBACK');
      }
    } catch (e) {
      throw toHighwaterError(e, context);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let running work finish before the connections go away.
    await Promise.allSettled([this.writes.run(async () => undefined), this.reads.run(async () => undefined)]);
    this.writer.closeSync();
    this.reader.closeSync();
    this.lease.release();
  }
}

export async function openDuckDbWarehouse(path: string, ceiling: MemoryCeiling): Promise<Warehouse> {
  const lease = await acquireInstance(path, ceiling.bytes);
  try {
    const writer = await openConnection(lease);
    const reader = await openConnection(lease);
    return new DuckDbWarehouse(lease, writer, reader, ceiling);
  } catch (e) {
    lease.release();
    throw toHighwaterError(e, `opening warehouse ${lease.path}`);
  }
}
