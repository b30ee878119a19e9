/**
 * The Redshift Warehouse over the Data API. Stateless between calls: every statement or batch is its own Data API
 * session, so loads and reads may run side by side and a reader sees committed state only.
 */
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { MappedColumn } from '../../domain/model.js';
import { WarehouseError } from '../../errors.js';
import type {
  LoadRequest,
  LoadResult,
  LoadSession,
  TargetTable,
  Warehouse,
  WarehouseCapabilities,
} from '../../ports/index.js';
import { tableExists } from './catalog.js';
import { DataApi } from './data-api.js';
import { columnType, createTableSql, MAX_IDENTIFIER_BYTES, tableLabel } from './ddl.js';
import { runRedshiftLoad } from './load.js';
import { countSql } from './load-sql.js';
import { type RedshiftWarehouseOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { assertSingleRead, bindPositional } from './sql-text.js';
import { countAt, toObjects } from './values.js';

class RedshiftWarehouse implements Warehouse {
  readonly capabilities: WarehouseCapabilities;
  private readonly api: DataApi;
  private closed = false;

  constructor(
    private readonly client: RedshiftDataClient,
    private readonly ownsClient: boolean,
    private readonly opts: ResolvedOptions,
  ) {
    this.api = new DataApi(client, opts);
    this.capabilities = {
      name: 'redshift',
      maxIdentifierLength: MAX_IDENTIFIER_BYTES,
      columnType: (column: MappedColumn) => columnType(column, opts.jsonAs),
    };
  }

  private ensureOpen(action: string): void {
    if (this.closed) throw new WarehouseError(`cannot ${action}: the Redshift warehouse is closed`);
  }

  async load(request: LoadRequest, session?: LoadSession): Promise<LoadResult> {
    this.ensureOpen(`load ${tableLabel(request.target)}`);
    const settings = { iamRoleSql: this.opts.iamRoleSql, jsonAs: this.opts.jsonAs };
    return runRedshiftLoad(this.api, request, settings, session);
  }

  describeDdl(
    request: Pick<LoadRequest, 'target' | 'columns' | 'primaryKey' | 'distkey' | 'sortkey' | 'diststyle'>,
  ): string {
    return createTableSql(request.target, request, this.opts.jsonAs);
  }

  async count(target: TargetTable): Promise<number | undefined> {
    this.ensureOpen(`count ${tableLabel(target)}`);
    const context = `Redshift failed counting ${tableLabel(target)}`;
    if (!(await tableExists(this.api, context, target))) return undefined;
    return countAt(await this.api.select(context, countSql(target)), 0, 'the table', context);
  }

  async query<T extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.ensureOpen('run a query');
    assertSingleRead(sql);
    const bound = bindPositional(sql, params);
    const result = await this.api.select('Redshift failed running a query', bound.sql, bound.parameters);
    // The row shape is the caller's claim about its own SELECT, as with any SQL driver.
    return toObjects(result) as T[];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }
}

export function createRedshiftWarehouse(opts: RedshiftWarehouseOptions): Warehouse {
  const resolved = resolveOptions(opts);
  const client =
    opts.client ??
    new RedshiftDataClient({
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    });
  return new RedshiftWarehouse(client, opts.client === undefined, resolved);
}
