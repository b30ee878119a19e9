// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the YAML fixtures hold literal ${VAR} references
import { afterAll, describe, expect, it } from 'vitest';
import { getPipeline, getTableConfig, loadConfig } from '../../../../lambdas/engine/config/index.js';
import { ConfigError } from '../../../../lambdas/errors.js';
import { posOf, project, removeProjects, TWO_CONNECTIONS, thrown } from './fixture.js';

afterAll(removeProjects);

/** Loads a config whose pipelines/p.yml is `text` and returns what getPipeline('p') threw. */
async function pipelineError(text: string, connections = TWO_CONNECTIONS, env: Record<string, string> = {}) {
  const cwd = project({ 'config/connections.yml': connections, 'config/pipelines/p.yml': text });
  const cfg = await loadConfig({ cwd, env });
  const e = await thrown(() => getPipeline(cfg, 'p'));
  expect(e).toBeInstanceOf(ConfigError);
  return e.message;
}

/** What loading a forced multi-mode config with this connections.yml threw. */
async function connectionsError(text: string, env: Record<string, string> = {}) {
  const cwd = project({ 'config/connections.yml': text });
  const e = await thrown(() => loadConfig({ cwd, env: { HIGHWATER_MULTI_SCHEMA: 'true', ...env } }));
  expect(e).toBeInstanceOf(ConfigError);
  return e.message;
}

const HEAD = 'pipeline:\n  source: shop\n  target: wh\ntables:\n';
const at = (text: string, needle: string) => `config/pipelines/p.yml:${posOf(text, needle)}`;

describe('pipeline file errors name file:line:column and the key path', () => {
  it('malformed YAML', async () => {
    const text = `${HEAD}  shop.orders:\n    cdc_strategy: hybrid\n   bad_indent: x\n`;
    expect(await pipelineError(text)).toMatch(/^config\/pipelines\/p\.yml:7:\d+: malformed YAML: /);
  });

  it('unknown cdc_strategy lists the five', async () => {
    const text = `${HEAD}  shop.orders:\n    cdc_strategy: hybird\n`;
    expect(await pipelineError(text)).toBe(
      `${at(text, 'hybird')}: tables.shop.orders.cdc_strategy: unknown strategy "hybird"; expected one of hybrid, timestamp_only, id_only, full_sync, custom_sql`,
    );
  });

  it('unknown key (pointing at the key itself)', async () => {
    const text = `${HEAD}  shop.orders:\n    cdc_stratgy: hybrid\n`;
    expect(await pipelineError(text)).toBe(
      `${at(text, 'cdc_stratgy')}: tables.shop.orders.cdc_stratgy: unknown key "cdc_stratgy" in tables.shop.orders`,
    );
    const top = 'pipeline:\n  source: shop\n  target: wh\n  sorce: x\n';
    expect(await pipelineError(top)).toBe(`${at(top, 'sorce')}: pipeline.sorce: unknown key "sorce" in pipeline`);
  });

  it('an injection attempt in a table name', async () => {
    const text = `${HEAD}  "shop.orders; DROP TABLE x":\n    cdc_strategy: hybrid\n`;
    const msg = await pipelineError(text);
    expect(msg).toContain(
      `${at(text, '"shop.orders; DROP')}: tables.shop.orders; DROP TABLE x: table "shop.orders; DROP TABLE x" is not schema.table`,
    );
  });

  it('a table name that is neither schema.table nor a bare identifier', async () => {
    const text = `${HEAD}  dw-parcel-detail: {}\n`;
    expect(await pipelineError(text)).toContain(
      `${at(text, 'dw-parcel')}: tables.dw-parcel-detail: table "dw-parcel-detail" is not a table name`,
    );
    const dotted = `${HEAD}  shop.dw-parcel: {}\n`;
    expect(await pipelineError(dotted)).toContain(
      `${at(dotted, 'shop.dw-parcel')}: tables.shop.dw-parcel: table "shop.dw-parcel" is not schema.table`,
    );
  });

  it('full_sync_mode paginate → use replace', async () => {
    const text = `${HEAD}  shop.orders:\n    cdc_strategy: full_sync\n    full_sync_mode: paginate\n`;
    expect(await pipelineError(text)).toBe(
      `${at(text, 'paginate')}: tables.shop.orders.full_sync_mode: full_sync_mode "paginate" is not supported (the old tool never finished it); use replace`,
    );
  });

  it('max_workers above what an inline Map runs at once (40), in a pipeline and in connections.yml backup:', async () => {
    const text =
      'pipeline:\n  source: shop\n  target: wh\n  processing:\n    max_workers: 64\ntables:\n  shop.orders: {}\n';
    expect(await pipelineError(text)).toBe(
      `${at(text, '64')}: pipeline.processing.max_workers: must be at most 40: a Step Functions inline Map runs at most 40 chunks at once (see docs/limits.md)`,
    );
    const connections = `${TWO_CONNECTIONS}backup:\n  max_workers: 41\n`;
    expect(await connectionsError(connections)).toBe(
      `config/connections.yml:${posOf(connections, '41')}: backup.max_workers: must be at most 40: a Step Functions inline Map runs at most 40 chunks at once (see docs/limits.md)`,
    );
    const ok =
      'pipeline:\n  source: shop\n  target: wh\n  processing:\n    max_workers: 40\ntables:\n  shop.orders: {}\n';
    const cfg = await loadConfig({
      cwd: project({ 'config/connections.yml': TWO_CONNECTIONS, 'config/pipelines/p.yml': ok }),
      env: {},
    });
    expect(getPipeline(cfg, 'p').processing.maxWorkers).toBe(40);
  });

  it('custom_sql without custom_query, and custom_query without custom_sql', async () => {
    const a = `${HEAD}  shop.orders:\n    cdc_strategy: custom_sql\n`;
    expect(await pipelineError(a)).toBe(
      `${at(a, 'custom_sql')}: tables.shop.orders.cdc_strategy: cdc_strategy custom_sql needs custom_query (the SELECT to run)`,
    );
    const b = `${HEAD}  shop.orders:\n    custom_query: SELECT * FROM {table_name} LIMIT :limit\n`;
    expect(await pipelineError(b)).toBe(
      `${at(b, 'SELECT')}: tables.shop.orders.custom_query: custom_query is only used with cdc_strategy: custom_sql (this table uses hybrid)`,
    );
  });

  it('a custom_query that is not one read-only SELECT is refused at load, with its line', async () => {
    const text = `${HEAD}  shop.orders:\n    cdc_strategy: custom_sql\n    custom_query: DELETE FROM shop.orders\n`;
    expect(await pipelineError(text)).toBe(
      `${at(text, 'DELETE')}: tables.shop.orders.custom_query: custom_query must start with SELECT (or WITH … SELECT); this is a DELETE statement`,
    );
  });

  it('an additional_where that is not one read-only condition is refused at load, with its line', async () => {
    const text = `${HEAD}  shop.orders:\n    additional_where: "1=0) OR (1=1"\n`;
    expect(await pipelineError(text)).toMatch(
      new RegExp(
        `^${at(text, '"1=0')}: tables\\.shop\\.orders\\.additional_where: additional_where does not parse as a MySQL or MariaDB WHERE condition \\(line 1, column 4\\): .* but "\\)" found\\.$`,
      ),
    );
    const sleepy = `${HEAD}  shop.orders:\n    additional_where: status = SLEEP(1)\n`;
    expect(await pipelineError(sleepy)).toBe(
      `${at(sleepy, 'status')}: tables.shop.orders.additional_where: additional_where must be a read-only condition: it calls SLEEP()`,
    );
  });

  it('a missing ${VAR} without default names the variable, file, line and key', async () => {
    const text = 'pipeline:\n  source: shop\n  target: wh\n  s3:\n    bucket: ${STAGING_BUCKET}\n';
    expect(await pipelineError(text)).toBe(
      `${at(text, '${STAGING')}: pipeline.s3.bucket: environment variable STAGING_BUCKET is not set (write \${STAGING_BUCKET:-default} to give a default)`,
    );
    const cwd = project({ 'config/connections.yml': TWO_CONNECTIONS, 'config/pipelines/p.yml': text });
    const cfg = await loadConfig({ cwd, env: { STAGING_BUCKET: 'bkt' } });
    expect(getPipeline(cfg, 'p').staging).toEqual({ type: 's3', bucket: 'bkt', prefix: '' });
  });

  it('bad values: duration, integer, column, target_name, diststyle KEY without distkey', async () => {
    const cases: [string, string, string][] = [
      [
        '    lag: 5 minutes\n',
        '5 minutes',
        'tables.shop.orders.lag: "5 minutes" is not a duration: write seconds (90) or 30s, 5m, 2h, 1d',
      ],
      ['    chunk_rows: 0\n', '0', 'tables.shop.orders.chunk_rows: must be at least 1'],
      ['    chunk_rows: lots\n', 'lots', 'tables.shop.orders.chunk_rows: expected an integer, got "lots"'],
      [
        '    processing:\n      chunk_bytes: 12 parsecs\n',
        '12 parsecs',
        'tables.shop.orders.processing.chunk_bytes: "12 parsecs" is not a size: write bytes (268435456) or 512KB, 256MiB, 1GB',
      ],
      [
        '    processing:\n      chunk_seconds: 0\n',
        '0',
        'tables.shop.orders.processing.chunk_seconds: chunk_seconds must be more than 0',
      ],
      [
        '    cdc_timestamp_column: "updated_at`; --"\n',
        '"updated_at',
        'tables.shop.orders.cdc_timestamp_column: column "updated_at`; --" may only use letters, digits, _ and $ (1–64)',
      ],
      [
        '    target_name: dws.orders\n',
        'dws.orders',
        'tables.shop.orders.target_name: target_name "dws.orders" must be a bare table name; the schema comes from the target connection',
      ],
      ['    diststyle: KEY\n', 'KEY', 'tables.shop.orders.diststyle: diststyle KEY needs distkey'],
      [
        '    timestamp_format: epoch\n',
        'epoch',
        'tables.shop.orders.timestamp_format: unknown timestamp_format "epoch"; expected datetime or unix',
      ],
    ];
    for (const [line, needle, message] of cases) {
      const text = `${HEAD}  shop.orders:\n${line}`;
      expect(await pipelineError(text)).toBe(`${at(text, needle)}: ${message}`);
    }
  });

  it('references: unknown source connection, unknown s3_config, missing source, Redshift without S3', async () => {
    const a = 'pipeline:\n  source: shopp\n  target: wh\n';
    expect(await pipelineError(a)).toBe(
      `${at(a, 'shopp')}: pipeline.source: unknown source connection "shopp"; config/connections.yml defines: shop`,
    );
    const b = 'pipeline:\n  source: shop\n  target: wh\n  s3_config: nope\n';
    expect(await pipelineError(b)).toBe(
      `${at(b, 'nope')}: pipeline.s3_config: unknown s3_config "nope"; config/connections.yml s3_configs: (none)`,
    );
    const c = 'pipeline:\n  target: wh\n';
    // A missing source is an error only when it is ambiguous (two sources, none called default); the key missing
    // points at the block it belongs in.
    const twoSources = TWO_CONNECTIONS.replace(
      '  targets:',
      '    shop2:\n      host: mysql2.example.com\n      database: shop\n      username: reader\n  targets:',
    );
    expect(await pipelineError(c, twoSources)).toBe(
      `${at(c, 'target')}: pipeline.source: is required (a source connection name: one of shop, shop2), or name one connection "default"`,
    );
    const rs = `${TWO_CONNECTIONS}    rs:\n      type: redshift\n      workgroup: w\n      database: dw\n`;
    const d = 'pipeline:\n  source: shop\n  target: rs\n';
    expect(await pipelineError(d, rs)).toBe(
      `${at(d, 'rs')}: pipeline.target: target rs is Redshift, which loads from S3: give pipeline.s3.bucket or pipeline.s3_config`,
    );
    const e = 'pipeline:\n  source: shop\n  target: wh\n  s3:\n    prefix: x/\n';
    expect(await pipelineError(e)).toContain('pipeline.s3: has no bucket');
  });

  it('dynamodb state without table; a table reading another source; two tables into one target', async () => {
    const a = 'pipeline:\n  source: shop\n  target: wh\n  state:\n    type: dynamodb\n';
    expect(await pipelineError(a)).toBe(`${at(a, 'dynamodb')}: pipeline.state.type: state type dynamodb needs table`);
    const b = `${HEAD}  shop.orders:\n    connection: other_db\n`;
    expect(await pipelineError(b)).toContain(
      `${at(b, 'other_db')}: tables.shop.orders.connection: a table cannot use another source`,
    );
    const c = `${HEAD}  shop.orders: {}\n  archive.orders: {}\n`;
    expect(await pipelineError(c)).toBe(
      `${at(c, 'archive.orders')}: tables.archive.orders: archive.orders and shop.orders both load into target table orders`,
    );
  });

  it('a pipeline file name that is not a valid pipeline name', async () => {
    const cwd = project({
      'config/connections.yml': TWO_CONNECTIONS,
      'config/pipelines/us.dw v1.yml': 'pipeline: {}\n',
    });
    const cfg = await loadConfig({ cwd, env: {} });
    const e = await thrown(() => getPipeline(cfg, 'us.dw v1'));
    expect(e.message).toBe(
      'config/pipelines/us.dw v1.yml: pipeline name "us.dw v1" may only use letters, digits, _ and - (1–64) (the file name is the pipeline name)',
    );
  });
});

describe('lookup errors', () => {
  it('unknown pipeline names the available ones', async () => {
    const cwd = project({
      'config/connections.yml': TWO_CONNECTIONS,
      'config/pipelines/sales.yml': 'pipeline: { source: shop, target: wh }\n',
    });
    const cfg = await loadConfig({ cwd, env: {} });
    const e = await thrown(() => getPipeline(cfg, 'slaes'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('unknown pipeline "slaes"; available: default, sales');
  });

  it('a table not listed in a named pipeline names the pipeline file and its tables', async () => {
    const text = `${HEAD}  shop.orders: {}\n  shop.items: {}\n`;
    const cwd = project({ 'config/connections.yml': TWO_CONNECTIONS, 'config/pipelines/sales.yml': text });
    const p = getPipeline(await loadConfig({ cwd, env: {} }), 'sales');
    const e = await thrown(() => getTableConfig(p, 'shop.customers'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe(
      'table shop.customers is not in pipeline sales (config/pipelines/sales.yml); its tables: shop.orders, shop.items',
    );
  });
});

describe('connections.yml errors (forced multi mode makes them hard errors)', () => {
  it('unknown key in a source', async () => {
    const text = TWO_CONNECTIONS.replace('      database: shop\n', '      databse: shop\n');
    expect(await connectionsError(text)).toBe(
      `config/connections.yml:${posOf(text, 'databse')}: connections.sources.shop.databse: unknown key "databse" in connections.sources.shop`,
    );
  });

  it('a time_zone that is neither an offset nor a zone name', async () => {
    const text = TWO_CONNECTIONS.replace(
      '      database: shop\n',
      '      database: shop\n      time_zone: Mars/Olympus\n',
    );
    const message = await connectionsError(text);
    expect(message).toMatch(/^config\/connections\.yml:\d+:\d+: connections\.sources\.shop\.time_zone: /);
    expect(message).toContain('time_zone "Mars/Olympus" is neither an offset like +08:00 nor a time zone name');
  });

  it('a DuckDB memory_limit that is not a size, and a Redshift copy_slices that is not a positive integer', async () => {
    const duck = TWO_CONNECTIONS.replace('      type: duckdb\n', '      type: duckdb\n      memory_limit: lots\n');
    const duckMessage = await connectionsError(duck);
    expect(duckMessage).toMatch(/^config\/connections\.yml:\d+:\d+: connections\.targets\.wh\.memory_limit: /);
    expect(duckMessage).toContain('"lots" is not a size');
    const red = TWO_CONNECTIONS.replace(
      '    wh:\n      type: duckdb\n',
      '    wh:\n      type: redshift\n      database: dev\n      workgroup: wg\n      copy_slices: 0\n',
    );
    expect(await connectionsError(red)).toMatch(
      /^config\/connections\.yml:\d+:\d+: connections\.targets\.wh\.copy_slices: /,
    );
  });

  it('a missing ${VAR} outside a secret field', async () => {
    const text = TWO_CONNECTIONS.replace('host: mysql.example.com', 'host: ${DB_HOST}');
    expect(await connectionsError(text)).toBe(
      `config/connections.yml:${posOf(text, '${DB_HOST}')}: connections.sources.shop.host: environment variable DB_HOST is not set (write \${DB_HOST:-default} to give a default)`,
    );
  });

  it('a missing variable inside a mixed secret string', async () => {
    const text = TWO_CONNECTIONS.replace('password: ${SHOP_PW}', 'password: pre-${PW_PART}');
    expect(await connectionsError(text)).toBe(
      `config/connections.yml:${posOf(text, 'pre-')}: connections.sources.shop.password: environment variable PW_PART is not set`,
    );
  });

  it('bad connection name, bad port, unknown target type, ssh without host, redshift without workgroup', async () => {
    const cases: [string, string, string][] = [
      [
        TWO_CONNECTIONS.replace('    shop:', '    "shop prod":'),
        '"shop prod"',
        'connections.sources.shop prod: source connection name "shop prod" may only use letters, digits, _ and - (1–64)',
      ],
      [
        TWO_CONNECTIONS.replace('      database: shop', '      port: 99999\n      database: shop'),
        '99999',
        'connections.sources.shop.port: must be at most 65535',
      ],
      [
        TWO_CONNECTIONS.replace('type: duckdb', 'type: snowflake'),
        'snowflake',
        'connections.targets.wh.type: unknown target type "snowflake"; expected duckdb or redshift',
      ],
      [
        `${TWO_CONNECTIONS.replace('  targets:', '      ssh_tunnel:\n        enabled: true\n        username: u\n  targets:')}`,
        'true',
        'connections.sources.shop.ssh_tunnel.enabled: ssh_tunnel is enabled but has no host',
      ],
      [
        `${TWO_CONNECTIONS}    rs:\n      type: redshift\n      database: dw\n`,
        'rs:',
        'connections.targets.rs: a redshift target needs exactly one of workgroup (Serverless) or cluster_identifier',
      ],
      [
        `${TWO_CONNECTIONS}    rs:\n      type: redshift\n      workgroup: w\n`,
        'type: redshift',
        'connections.targets.rs.database: a redshift target needs database',
      ],
      [
        `${TWO_CONNECTIONS}    rs:\n      type: redshift\n      workgroup: w\n      database: dw\n      schema: "a b"\n`,
        '"a b"',
        'connections.targets.rs.schema: column "a b" may only use letters, digits, _ and $ (1–64)',
      ],
    ];
    for (const [text, needle, message] of cases) {
      expect(await connectionsError(text)).toBe(`config/connections.yml:${posOf(text, needle)}: ${message}`);
    }
  });

  it('several problems are reported together', async () => {
    const text = TWO_CONNECTIONS.replace('      database: shop\n', '      databse: shop\n      port: x\n');
    const lines = (await connectionsError(text)).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => l.endsWith('unknown key "databse" in connections.sources.shop'))).toBe(true);
    expect(lines.some((l) => l.endsWith('connections.sources.shop.port: expected an integer, got "x"'))).toBe(true);
  });
});
