/**
 * validate-pipeline's checks without a source (schedule, custom SQL) and against a described table (columns, types
 * per strategy, primary key), status's lag arithmetic, and show-pipeline's masking. Pipelines come from real YAML.
 */
import { afterAll, describe, expect, test } from 'vitest';
import type { SourceColumn, TableSchema } from '../../../../lambdas/domain/model.js';
import { getPipeline, loadConfig, type PipelineConfig } from '../../../../lambdas/engine/config/index.js';
import { computeLag, formatDuration, mysqlDatetimeMs } from '../../../../lambdas/engine/config/lag.js';
import {
  formatProblem,
  liveTableProblems,
  staticPipelineProblems,
} from '../../../../lambdas/engine/config/pipeline-checks.js';
import { MASK, pipelineView } from '../../../../lambdas/engine/config/pipeline-view.js';
import { project, removeProjects, TWO_CONNECTIONS } from './fixture.js';

afterAll(removeProjects);

/** `${NAME}` as written in YAML. */
const ref = (name: string) => `\${${name}}`;

async function pipeline(yml: string, connections = TWO_CONNECTIONS): Promise<PipelineConfig> {
  const cwd = project({ 'config/connections.yml': connections, 'config/pipelines/p.yml': yml });
  return getPipeline(await loadConfig({ cwd, env: { SHOP_PW: 'x' } }), 'p');
}

function col(name: string, dataType: string, columnType = dataType): SourceColumn {
  return {
    name,
    dataType,
    columnType,
    nullable: false,
    charMaxLength: null,
    numericPrecision: null,
    numericScale: null,
    ordinal: 1,
  };
}

const ORDERS: TableSchema = {
  schema: 'shop',
  table: 'orders',
  columns: [
    col('id', 'int'),
    col('code', 'varchar', 'varchar(10)'),
    col('updated_at', 'datetime'),
    col('epoch', 'bigint'),
    col('note', 'varchar', 'varchar(50)'),
  ],
  primaryKey: ['id'],
};

const HEAD = 'pipeline:\n  source: shop\n  target: wh\ntables:\n  shop.orders:\n';

describe('liveTableProblems', () => {
  test('a hybrid table whose columns exist with the right types has no problems', async () => {
    const p = await pipeline(`${HEAD}    cdc_strategy: hybrid\n`);
    expect(liveTableProblems(p, p.tables[0]!, ORDERS)).toEqual([]);
  });

  test('a missing timestamp column names pipeline, table and column, and lists the columns that exist', async () => {
    const p = await pipeline(`${HEAD}    cdc_timestamp_column: modified_at\n`);
    const [problem, ...rest] = liveTableProblems(p, p.tables[0]!, ORDERS);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ severity: 'error', pipeline: 'p', table: 'shop.orders', column: 'modified_at' });
    expect(formatProblem(problem!)).toMatch(
      /^error: pipeline p, table shop\.orders, column modified_at: cdc_timestamp_column "modified_at" does not exist.*id, code, updated_at/,
    );
  });

  test('timestamp types must fit the strategy and timestamp_format', async () => {
    const notTs = await pipeline(`${HEAD}    cdc_strategy: timestamp_only\n    cdc_timestamp_column: note\n`);
    expect(liveTableProblems(notTs, notTs.tables[0]!, ORDERS)[0]?.message).toMatch(
      /note is varchar\(50\); timestamp_only needs a DATE\/DATETIME\/TIMESTAMP column/,
    );
    const unixOk = await pipeline(
      `${HEAD}    cdc_strategy: timestamp_only\n    cdc_timestamp_column: epoch\n    timestamp_format: unix\n`,
    );
    expect(liveTableProblems(unixOk, unixOk.tables[0]!, ORDERS)).toEqual([]);
    const unixBad = await pipeline(
      `${HEAD}    cdc_strategy: timestamp_only\n    cdc_timestamp_column: updated_at\n    timestamp_format: unix\n`,
    );
    expect(liveTableProblems(unixBad, unixBad.tables[0]!, ORDERS)[0]?.message).toMatch(/unix needs an integer/);
  });

  test('id_only needs an integer id; hybrid only warns about a non-integer tie-breaker', async () => {
    const idOnly = await pipeline(`${HEAD}    cdc_strategy: id_only\n    cdc_id_column: code\n`);
    expect(liveTableProblems(idOnly, idOnly.tables[0]!, ORDERS)).toEqual([
      expect.objectContaining({ severity: 'error', column: 'code', message: expect.stringMatching(/integer/) }),
    ]);
    const hybrid = await pipeline(`${HEAD}    cdc_id_column: code\n`);
    expect(liveTableProblems(hybrid, hybrid.tables[0]!, ORDERS)).toEqual([
      expect.objectContaining({ severity: 'warning', column: 'code' }),
    ]);
  });

  test('a primary key is required unless full_sync replace; a configured one must exist', async () => {
    const noPk: TableSchema = { ...ORDERS, primaryKey: [] };
    const merge = await pipeline(HEAD);
    expect(liveTableProblems(merge, merge.tables[0]!, noPk)[0]?.message).toMatch(/has no primary key/);
    const replace = await pipeline(`${HEAD}    cdc_strategy: full_sync\n`);
    expect(liveTableProblems(replace, replace.tables[0]!, noPk)).toEqual([]);
    const declared = await pipeline(`${HEAD}    primary_key: [id, nope]\n`);
    expect(liveTableProblems(declared, declared.tables[0]!, noPk)).toEqual([
      expect.objectContaining({ column: 'nope', message: expect.stringMatching(/primary_key column "nope"/) }),
    ]);
  });

  test('distkey and sortkey columns must exist', async () => {
    const p = await pipeline(`${HEAD}    distkey: customer_id\n    sortkey: [updated_at, gone]\n`);
    expect(liveTableProblems(p, p.tables[0]!, ORDERS).map((x) => x.column)).toEqual(['customer_id', 'gone']);
  });
});

describe('staticPipelineProblems', () => {
  test('a schedule that is not a valid EventBridge expression is an error naming the file', async () => {
    const p = await pipeline('pipeline:\n  source: shop\n  target: wh\n  schedule: cron(0 * * * *)\ntables: {}\n');
    expect(staticPipelineProblems(p)).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/config\/pipelines\/p\.yml: pipeline\.schedule: .*6 fields/),
      }),
    ]);
    const ok = await pipeline('pipeline:\n  source: shop\n  target: wh\n  schedule: rate(5 minutes)\ntables: {}\n');
    expect(staticPipelineProblems(ok)).toEqual([]);
  });

  test('custom_query and additional_where are judged on their parse tree, naming the file and table', async () => {
    const p = await pipeline(`${HEAD}    additional_where: "status = 'paid' -- note"\n`);
    expect(staticPipelineProblems(p)).toEqual([]);
    // The loader already refuses these; a config built some other way is still checked.
    const t = p.tables[0]!;
    t.additionalWhere = '1=0) OR (1=1';
    p.tables.push({ ...t, name: 'shop.custom', strategy: 'custom_sql', customQuery: 'SELECT 1--sleep(2)' });
    delete p.tables[1]!.additionalWhere;
    expect(staticPipelineProblems(p)).toEqual([
      expect.objectContaining({
        severity: 'error',
        table: 'shop.orders',
        message: expect.stringMatching(
          /^config\/pipelines\/p\.yml: shop\.orders: additional_where does not parse as a MySQL or MariaDB WHERE condition \(line 1, column 4\)/,
        ),
      }),
      expect.objectContaining({
        severity: 'error',
        table: 'shop.custom',
        message: 'config/pipelines/p.yml: shop.custom: custom_query must be one read-only SELECT: it calls SLEEP()',
      }),
    ]);
  });
});

describe('lag', () => {
  test('timestamps, unix seconds and ids', async () => {
    const hybrid = (await pipeline(HEAD)).tables[0]!;
    expect(computeLag(hybrid, { ts: '2024-01-01 00:00:00', id: '3' }, '2024-01-01 02:30:00')).toMatchObject({
      state: 'behind',
      seconds: 9000,
      text: '2h 30m behind (source max 2024-01-01 02:30:00)',
    });
    expect(computeLag(hybrid, { ts: '2024-01-01 00:00:00.5', id: '3' }, '2024-01-01 00:00:00').state).toBe(
      'up-to-date',
    );
    expect(computeLag(hybrid, undefined, '2024-01-01 00:00:00').state).toBe('never-synced');
    expect(computeLag(hybrid, undefined, null).state).toBe('source-empty');
    const ids = (await pipeline(`${HEAD}    cdc_strategy: id_only\n`)).tables[0]!;
    expect(computeLag(ids, { ts: null, id: '9007199254740993' }, '9007199254741000')).toMatchObject({ ids: '7' });
    const unix = (await pipeline(`${HEAD}    cdc_strategy: timestamp_only\n    timestamp_format: unix\n`)).tables[0]!;
    expect(computeLag(unix, { ts: '100', id: '1' }, '160')).toMatchObject({
      seconds: 60,
      text: expect.stringMatching(/^1m behind/),
    });
    const full = (await pipeline(`${HEAD}    cdc_strategy: full_sync\n`)).tables[0]!;
    expect(computeLag(full, undefined, null).state).toBe('not-applicable');
  });

  test('helpers', () => {
    expect(mysqlDatetimeMs('2024-01-02')).toBe(Date.UTC(2024, 0, 2));
    expect(mysqlDatetimeMs('not a date')).toBeUndefined();
    expect(formatDuration(59)).toBe('59s');
    expect(formatDuration(3 * 86_400 + 7200 + 60)).toBe('3d 2h');
  });
});

describe('pipelineView', () => {
  test('masks a literal password and shows references as written', async () => {
    const literal = TWO_CONNECTIONS.replace(`password: ${ref('SHOP_PW')}`, 'password: Sup3r-Literal');
    const p = await pipeline(HEAD, literal);
    const view = JSON.stringify(pipelineView(p));
    expect(view).not.toContain('Sup3r-Literal');
    expect(view).toContain(`"password":"${MASK}"`);
    expect(JSON.stringify(pipelineView(await pipeline(HEAD)))).toContain(`"password":"${ref('SHOP_PW')}"`);
  });
});
