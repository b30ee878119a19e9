/** Tables written without a schema, as the migration guide's pipelines do: they belong to the source's database. */
import { afterAll, expect, test } from 'vitest';
import { getPipeline, getTableConfig, loadConfig } from '../../../../lambdas/engine/config/index.js';
import { qualifyTableName } from '../../../../lambdas/engine/naming.js';
import { ConfigError } from '../../../../lambdas/errors.js';
import { project, removeProjects, thrown } from './fixture.js';

afterAll(removeProjects);

const CONNECTIONS = `connections:
  sources:
    mysql_default:
      host: db.internal
      database: settlement
      username: reader
  targets:
    lake:
      type: duckdb
      path: lake.duckdb
`;

const PRODUCTION = `pipeline:
  source: mysql_default
  target: lake
tables:
  customers:
    cdc_strategy: "hybrid"
    cdc_timestamp_column: "last_modified"
    cdc_id_column: "customer_id"
  orders:
    cdc_strategy: "timestamp_only"
    cdc_timestamp_column: "order_date"
  other_db.products:
    cdc_strategy: full_sync
`;

async function production() {
  const cwd = project({ 'config/connections.yml': CONNECTIONS, 'config/pipelines/production.yml': PRODUCTION });
  return getPipeline(await loadConfig({ cwd, env: {} }), 'production');
}

test("a bare table name in a pipeline is a table of the source connection's database", async () => {
  const p = await production();
  expect(p.tables.map((t) => [t.name, t.sourceSchema, t.sourceTable, t.targetName])).toEqual([
    ['settlement.customers', 'settlement', 'customers', 'customers'],
    ['settlement.orders', 'settlement', 'orders', 'orders'],
    ['other_db.products', 'other_db', 'products', 'products'],
  ]);
  expect(p.tables[0]).toMatchObject({ strategy: 'hybrid', timestampColumn: 'last_modified', idColumn: 'customer_id' });
});

test('-t customers and -t settlement.customers find the same table (and so the same watermark)', async () => {
  const p = await production();
  expect(getTableConfig(p, 'customers')).toBe(getTableConfig(p, 'settlement.customers'));
  expect(getTableConfig(p, 'orders').strategy).toBe('timestamp_only');
});

test('a bare name that is not an identifier is refused, naming it as written', async () => {
  const p = await production();
  const e = await thrown(() => getTableConfig(p, 'no-dot'));
  expect(e).toBeInstanceOf(ConfigError);
  expect(e.message).toContain('"no-dot"');
  const missing = await thrown(() => getTableConfig(p, 'invoices'));
  expect(missing.message).toContain('table settlement.invoices is not in pipeline production');
});

test('a pipeline with only tables: (as the guide writes them) uses the only source and target', async () => {
  const cwd = project({
    'config/connections.yml': CONNECTIONS,
    'config/pipelines/sales_pipeline.yml': 'tables:\n  customers: {}\n',
  });
  const p = getPipeline(await loadConfig({ cwd, env: {} }), 'sales_pipeline');
  expect([p.source.name, p.target.name, p.tables[0]!.name]).toEqual(['mysql_default', 'lake', 'settlement.customers']);
});

test('a bare name with no database to qualify it is refused, saying what to write', () => {
  expect(() => qualifyTableName('customers', '')).toThrow(
    'table "customers" has no schema, and the source connection names no database',
  );
  expect(qualifyTableName('shop.customers', '')).toBe('shop.customers');
});
