// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the YAML fixtures hold literal ${VAR} references
import { afterAll, describe, expect, it } from 'vitest';
import {
  adhocPipeline,
  getPipeline,
  getTableConfig,
  loadConfig,
  parseDuration,
} from '../../../../lambdas/engine/config/index.js';
import { ConfigError } from '../../../../lambdas/errors.js';
import { posOf, project, removeProjects, TWO_CONNECTIONS, thrown } from './fixture.js';

afterAll(removeProjects);

const CONNECTIONS = `connections:
  sources:
    shop:
      host: \${SHOP_HOST:-mysql.example.com}
      port: \${SHOP_PORT}
      database: shop
      username: \${SHOP_USER}
      password: \${SHOP_PASSWORD}
      description: Shop replica
      ssh_tunnel:
        enabled: true
        host: bastion
        username: ec2-user
        private_key: \${BASTION_KEY}
        local_port: 0
    billing:
      host: billing-db
      password: { secret: arn:aws:secretsmanager:us-east-1:1:secret:billing, key: password }
      ssh_tunnel:
        enabled: false
    legacy:
      host: legacy-db
      password: literal-pw
  targets:
    local:
      type: duckdb
      path: data/wh.duckdb
    rs:
      type: redshift
      workgroup: analytics
      database: dw
      schema: shop
      region: us-east-1
    old_rs:
      host: redshift.example.com
      database: dw
      username: loader
      password: \${REDSHIFT_PASSWORD}
      schema: public
      ssh_tunnel:
        enabled: true
        host: b2
s3_configs:
  s3_qa:
    bucket_name: qa-bucket
    region: us-west-2
    incremental_path: incremental/
    access_key_id: \${AWS_ACCESS_KEY_ID}
backup:
  batch_size: 5000
  max_workers: 3
  target_rows_per_chunk: 7000
  memory_limit_mb: 6144
`;

const SALES = `pipeline:
  name: sales
  source: shop
  target: rs
  s3_config: s3_qa
  processing:
    max_workers: 6
    timeout_minutes: 30
    chunk_bytes: 64MiB
    read_rows_per_second: 5000
  default_table_config:
    cdc_strategy: timestamp_only
    lag: 30s
    processing:
      batch_size: 1111
      chunk_rows: 2222
  cdc_settings:
    default_strategy: hybrid
tables:
  shop.orders:
    cdc_timestamp_column: modified_at
    processing:
      chunk_rows: 3333
  shop.events:
    cdc_strategy: id_only
    processing:
      chunk_bytes: 1GB
      chunk_seconds: 2m
    timestamp_format: auto
    lookback: 2h
    primary_key: event_id
    sortkey: [created_at, event_id]
    watermark_settings:
      webhook: \${NOT_SET_ANYWHERE}
  shop.countries:
    cdc_strategy: full_sync
    full_sync_mode: append
    target_name: Dim_Countries
    lag: 90
    diststyle: all
  shop.bare:
`;

const ENV = { SHOP_PORT: '3310', SHOP_USER: 'reader' };

async function load(files: Record<string, string>, env: Record<string, string> = ENV) {
  const cwd = project(files);
  return { cwd, cfg: await loadConfig({ cwd, env }) };
}

describe('connections.yml', () => {
  it('resolves sources with defaults, interpolation and secret references', async () => {
    const { cfg } = await load({ 'config/connections.yml': CONNECTIONS });
    expect(cfg.mode).toBe('multi');
    expect(cfg.sources.shop).toEqual({
      name: 'shop',
      host: 'mysql.example.com', // ${SHOP_HOST:-…} default
      port: 3310, // ${SHOP_PORT} from the env, then checked as a port
      database: 'shop',
      username: 'reader',
      password: { kind: 'env', name: 'SHOP_PASSWORD' }, // unset: stays a reference, fails only when used
      description: 'Shop replica',
      settings: {
        host: 'connections.sources.shop.host',
        port: 'connections.sources.shop.port',
        user: 'connections.sources.shop.username',
        password: 'connections.sources.shop.password',
        database: 'connections.sources.shop.database',
        file: 'config/connections.yml',
      },
      sshTunnel: {
        host: 'bastion',
        port: 22,
        username: 'ec2-user',
        privateKey: { kind: 'env', name: 'BASTION_KEY' },
        connectTimeoutSeconds: 10,
        keepaliveSeconds: 30,
        acceptUnpinnedHostKey: false,
      },
    });
    expect(cfg.sources.billing).toEqual({
      name: 'billing',
      host: 'billing-db',
      port: 3306,
      database: '',
      username: '',
      settings: {
        host: 'connections.sources.billing.host',
        port: 'connections.sources.billing.port',
        user: 'connections.sources.billing.username',
        password: 'connections.sources.billing.password',
        database: 'connections.sources.billing.database',
        file: 'config/connections.yml',
      },
      password: {
        kind: 'secretsmanager',
        secretId: 'arn:aws:secretsmanager:us-east-1:1:secret:billing',
        key: 'password',
      },
    });
    expect(cfg.sources.legacy?.password).toEqual({ kind: 'literal', value: 'literal-pw' });
  });

  it('a set environment variable overrides a ${VAR:-default}', async () => {
    const { cfg } = await load({ 'config/connections.yml': CONNECTIONS }, { ...ENV, SHOP_HOST: 'other-host' });
    expect(cfg.sources.shop?.host).toBe('other-host');
  });

  it('resolves DuckDB, Redshift Data API and legacy Redshift targets', async () => {
    const { cwd, cfg } = await load({ 'config/connections.yml': CONNECTIONS });
    expect(cfg.targets.local).toEqual({
      type: 'duckdb',
      name: 'local',
      path: `${cwd}/.highwater/data/wh.duckdb`,
      schema: 'public',
    });
    expect(cfg.targets.rs).toEqual({
      type: 'redshift',
      name: 'rs',
      schema: 'shop',
      database: 'dw',
      workgroup: 'analytics',
      region: 'us-east-1',
    });
    expect(cfg.targets.old_rs).toEqual({
      type: 'redshift',
      name: 'old_rs',
      schema: 'public',
      database: 'dw',
      host: 'redshift.example.com',
      port: 5439,
      username: 'loader',
      password: { kind: 'env', name: 'REDSHIFT_PASSWORD' },
    });
  });

  it('collects warnings (file:line) for accepted keys that have no effect, and does not fail on them', async () => {
    const { cfg } = await load({ 'config/connections.yml': CONNECTIONS, 'config/pipelines/sales.yml': SALES });
    const at = (text: string, key: string) => posOf(text, key);
    expect(cfg.warnings).toEqual(
      expect.arrayContaining([
        `config/connections.yml:${at(CONNECTIONS, 'ssh_tunnel:\n        enabled: true\n        host: b2')}: connections.targets.old_rs.ssh_tunnel is accepted but has no effect`,
        `config/connections.yml:${at(CONNECTIONS, 'access_key_id')}: s3_configs.s3_qa.access_key_id is accepted but has no effect`,
        `config/connections.yml:${at(CONNECTIONS, 'memory_limit_mb')}: backup.memory_limit_mb is accepted but has no effect`,
        `config/pipelines/sales.yml:${at(SALES, 'cdc_settings')}: pipeline.cdc_settings is accepted but has no effect`,
        `config/pipelines/sales.yml:${at(SALES, 'watermark_settings')}: tables.shop.events.watermark_settings is accepted but has no effect`,
      ]),
    );
    expect(cfg.warnings.some((w) => w.includes('local_port'))).toBe(false);
  });
});

describe('pipelines/NAME.yml', () => {
  it('resolves a pipeline: connections, S3 staging from s3_config, processing over backup defaults', async () => {
    const { cwd, cfg } = await load({ 'config/connections.yml': CONNECTIONS, 'config/pipelines/sales.yml': SALES });
    expect(cfg.pipelines).toEqual(['default', 'sales']);
    const p = getPipeline(cfg, 'sales');
    expect(p.source.name).toBe('shop');
    expect(p.target.name).toBe('rs');
    expect(p.staging).toEqual({ type: 's3', bucket: 'qa-bucket', prefix: 'incremental/', region: 'us-west-2' });
    expect(p.state).toEqual({ type: 'local', path: `${cwd}/.highwater/state.sqlite` });
    // max_workers from the pipeline, batch/chunk from backup:, lease from timeout_minutes.
    expect(p.processing).toEqual({
      maxWorkers: 6,
      batchSize: 5000,
      chunkRows: 7000,
      chunkBytes: 64 * 1024 * 1024,
      chunkSeconds: 300,
      readRowsPerSecond: 5000,
      leaseSeconds: 1800,
      maxInlineChunks: 1000,
    });
    expect(p.origin).toBe('config/pipelines/sales.yml');
    expect(p.tables.map((t) => t.name)).toEqual(['shop.orders', 'shop.events', 'shop.countries', 'shop.bare']);
  });

  it('deep-merges default_table_config under every table', async () => {
    const { cfg } = await load({ 'config/connections.yml': CONNECTIONS, 'config/pipelines/sales.yml': SALES });
    const p = getPipeline(cfg, 'sales');
    expect(getTableConfig(p, 'shop.orders')).toEqual({
      name: 'shop.orders',
      sourceSchema: 'shop',
      sourceTable: 'orders',
      strategy: 'timestamp_only', // from the defaults
      timestampColumn: 'modified_at', // the table's own
      idColumn: 'id',
      targetName: 'orders',
      fullSyncMode: 'replace',
      timestampFormat: 'datetime',
      lagSeconds: 30, // "30s" from the defaults
      lookbackSeconds: 0,
      clockSkewSeconds: 15,
      onColumnDrop: 'keep',
      oversize: 'error',
      chunkRows: 3333, // the table's processing.chunk_rows wins…
      chunkBytes: 64 * 1024 * 1024, // the pipeline's sizing, under every table…
      chunkSeconds: 300,
      readRowsPerSecond: 5000,
      deleteDetection: false,
      deleteDetectionEverySeconds: null,
      verifyEvery: null,
      history: null,
      batchSize: 1111, // …while the defaults' processing.batch_size survives the nested merge
      dependsOn: [],
    });
    const events = getTableConfig(p, 'shop.events');
    expect(events.strategy).toBe('id_only');
    expect(events.timestampFormat).toBe('datetime'); // the old "auto"
    expect(events.lookbackSeconds).toBe(7200);
    // …unless the table sizes its own chunks.
    expect([events.chunkBytes, events.chunkSeconds, events.readRowsPerSecond]).toEqual([1e9, 120, 5000]);
    expect(events.primaryKey).toEqual(['event_id']);
    expect(events.sortkey).toEqual(['created_at', 'event_id']);
    const countries = getTableConfig(p, 'shop.countries');
    expect([countries.strategy, countries.fullSyncMode, countries.targetName]).toEqual([
      'full_sync',
      'append',
      'dim_countries',
    ]);
    expect(countries.lagSeconds).toBe(90);
    expect(countries.diststyle).toBe('ALL');
    const bare = getTableConfig(p, 'shop.bare'); // `shop.bare:` with no body: defaults only
    expect([bare.strategy, bare.chunkRows, bare.batchSize]).toEqual(['timestamp_only', 2222, 1111]);
  });

  it('finds a listed table case-insensitively', async () => {
    const { cfg } = await load({ 'config/connections.yml': CONNECTIONS, 'config/pipelines/sales.yml': SALES });
    expect(getTableConfig(getPipeline(cfg, 'sales'), 'SHOP.Orders').name).toBe('shop.orders');
  });

  it('the default pipeline exists without a file: default-named or first connections, local staging', async () => {
    const { cwd, cfg } = await load({ 'config/connections.yml': TWO_CONNECTIONS });
    const p = getPipeline(cfg, 'default');
    expect([p.source.name, p.target.name]).toEqual(['shop', 'wh']);
    expect(p.target).toEqual({ type: 'duckdb', name: 'wh', path: `${cwd}/.highwater/wh.duckdb`, schema: 'public' });
    expect(p.staging).toEqual({ type: 'local', root: `${cwd}/.highwater/staging` });
    expect(p.processing).toEqual({
      maxWorkers: 4,
      batchSize: 65536,
      chunkRows: null,
      chunkBytes: 268435456,
      chunkSeconds: 300,
      readRowsPerSecond: 20000,
      leaseSeconds: 3600,
      maxInlineChunks: 1000,
    });
    expect(getTableConfig(p, 'shop.anything').strategy).toBe('hybrid');
    const withDefault = `${TWO_CONNECTIONS}    default:\n      type: duckdb\n`;
    const second = await load({ 'config/connections.yml': withDefault });
    expect(getPipeline(second.cfg, 'default').target.name).toBe('default');
    expect(getPipeline(second.cfg, 'default').target).toMatchObject({
      path: `${second.cwd}/.highwater/warehouse.duckdb`,
    });
  });

  it('the implicit default pipeline into Redshift stages in the default (or only) s3_config', async () => {
    const text = CONNECTIONS.replace(/ {4}local:\n.*\n.*\n/, '').replace('    rs:', '    default:');
    const { cfg } = await load({ 'config/connections.yml': text });
    expect(getPipeline(cfg, 'default').staging).toEqual({
      type: 's3',
      bucket: 'qa-bucket',
      prefix: 'incremental/',
      region: 'us-west-2',
    });
    const noS3 = text.replace(/s3_configs:\n(.*\n){5}/, '');
    const e = await thrown(async () => getPipeline((await load({ 'config/connections.yml': noS3 })).cfg, 'default'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain(
      'the default pipeline loads into Redshift target default but config/connections.yml has no s3_configs',
    );
  });

  it('a pipelines/default.yml registers unlisted tables on the fly with its default_table_config', async () => {
    const dflt =
      'pipeline:\n  source: shop\n  target: wh\n  default_table_config:\n    cdc_strategy: id_only\n    cdc_id_column: seq\ntables: {}\n';
    const { cfg } = await load({ 'config/connections.yml': TWO_CONNECTIONS, 'config/pipelines/default.yml': dflt });
    const t = getTableConfig(getPipeline(cfg, 'default'), 'shop.new_table');
    expect([t.strategy, t.idColumn, t.name]).toEqual(['id_only', 'seq', 'shop.new_table']);
  });

  it('s3 bucket, dynamodb state, schedule, a relative local state path', async () => {
    const text = `pipeline:
  source: shop
  target: wh
  s3: { bucket: b, prefix: p/, region: eu-west-1, endpoint: http://localhost:4566 }
  state: { type: dynamodb, table: hw-state, region: eu-west-1, endpoint: http://localhost:8000 }
  schedule: rate(15 minutes)
  description: d
tables: {}
`;
    const local = 'pipeline:\n  source: shop\n  target: wh\n  state: { type: local, path: st/x.sqlite }\n';
    const { cwd, cfg } = await load({
      'config/connections.yml': TWO_CONNECTIONS,
      'config/pipelines/aws.yml': text,
      'config/pipelines/loc.yml': local,
    });
    const p = getPipeline(cfg, 'aws');
    expect(p.staging).toEqual({
      type: 's3',
      bucket: 'b',
      prefix: 'p/',
      region: 'eu-west-1',
      endpoint: 'http://localhost:4566',
    });
    expect(p.state).toEqual({
      type: 'dynamodb',
      table: 'hw-state',
      region: 'eu-west-1',
      endpoint: 'http://localhost:8000',
    });
    expect(p.schedule).toBe('rate(15 minutes)');
    expect(p.description).toBe('d');
    expect(getPipeline(cfg, 'loc').state).toEqual({ type: 'local', path: `${cwd}/.highwater/st/x.sqlite` });
  });

  it('a pipeline.name different from the file name is a warning; the file name wins', async () => {
    const text = 'pipeline:\n  name: us_dw_hybrid_cdc_v1.2\n  source: shop\n  target: wh\n';
    const { cfg } = await load({ 'config/connections.yml': TWO_CONNECTIONS, 'config/pipelines/hybrid.yml': text });
    expect(getPipeline(cfg, 'hybrid').name).toBe('hybrid');
    expect(cfg.warnings).toContain(
      `config/pipelines/hybrid.yml:2:9: pipeline.name "us_dw_hybrid_cdc_v1.2" differs from the file name; the pipeline is called hybrid`,
    );
  });

  it('a broken pipeline file fails only that pipeline', async () => {
    const { cfg } = await load({
      'config/connections.yml': TWO_CONNECTIONS,
      'config/pipelines/broken.yml': 'pipeline: [\n',
      'config/pipelines/ok.yml': 'pipeline: { source: shop, target: wh }\n',
    });
    expect(cfg.pipelines).toEqual(['default', 'broken', 'ok']);
    expect(getPipeline(cfg, 'ok').name).toBe('ok');
    expect((await thrown(() => getPipeline(cfg, 'broken'))).message).toMatch(
      /^config\/pipelines\/broken\.yml:\d+:\d+: malformed YAML/,
    );
  });

  it('adhocPipeline between named connections', async () => {
    const { cfg } = await load({ 'config/connections.yml': TWO_CONNECTIONS });
    const p = adhocPipeline(cfg, 'shop', 'wh');
    expect(p.name).toBe('adhoc_shop_to_wh');
    expect(p.origin).toBe('sync connections --source shop --target wh');
    expect(getTableConfig(p, 'shop.orders').strategy).toBe('hybrid');
  });

  it('adhocPipeline into Redshift needs the default pipeline to stage in S3', async () => {
    const { cfg } = await load({ 'config/connections.yml': CONNECTIONS });
    const e = await thrown(() => adhocPipeline(cfg, 'shop', 'rs'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('target rs is Redshift, which loads from S3, but the default pipeline stages locally');
  });
});

describe('durations', () => {
  it('parses seconds and 30s/5m/2h/1d', () => {
    expect([90, '45', '30s', '5m', '2h', '1d', '1.5h'].map((v) => parseDuration(v))).toEqual([
      90, 45, 30, 300, 7200, 86400, 5400,
    ]);
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
  });
});
