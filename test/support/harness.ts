/**
 * An end-to-end sync set-up for tests: a fresh MySQL database on the private MariaDB, a config directory in
 * multi-connection mode pointing at it, a Highwater home with a DuckDB warehouse, and helpers to run syncs and
 * compare the warehouse with the source row for row.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../lambdas/domain/manifests.js';
import { loadConfig } from '../../lambdas/engine/config/index.js';
import { type LocalRunOptions, runLocal } from '../../lambdas/local/orchestration/local-runner.js';
import { createRuntime, type Runtime } from '../../lambdas/local/runtime.js';
import type { AwsStandins } from './aws-standins.js';
import { createTestDatabase, type ServerAddress, type TestDatabase } from './test-db.js';

export interface Harness {
  db: TestDatabase;
  dir: string;
  configDir: string;
  home: string;
  /** The warehouse schema the test pipeline loads into (`public` in DuckDB, a fresh one on the Redshift stand-in). */
  warehouseSchema: string;
  /** The state key of a table in the test pipeline. */
  stateKey(table: string): string;
  /** The committed watermark of a table in the test pipeline (undefined when none). */
  watermark(table: string): Promise<{ ts: string | null; id: string | null } | undefined>;
  /** Writes config/pipelines/test.yml with this `tables:` body (YAML, indented by two spaces per level). */
  writePipeline(
    tablesYaml: string,
    opts?: { leaseSeconds?: number; maxInlineChunks?: number; keepStagedFiles?: string; schedule?: string },
  ): void;
  /** Adds `key: value` (YAML) to the source connection in config/connections.yml, e.g. time_zone. */
  setSourceOption(key: string, value: string): void;
  /** Opens a runtime on the current config; close it (or use sync(), which does). */
  runtime(): Promise<Runtime>;
  sync(tables: string[], options?: Record<string, unknown>, runOpts?: LocalRunOptions): Promise<RunReport>;
  warehouseRows(table: string, orderBy: string): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

/**
 * `aws`: stage in S3, keep state in DynamoDB and load Redshift through the Data API — all on the stand-ins
 * (fauxqs, DynamoDB Local, the Data API stand-in over PostgreSQL) — instead of disk, SQLite and DuckDB.
 */
export interface HarnessTunnel {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
  /** Absent: the bastion is not pinned. */
  hostKeySha256?: string;
  acceptUnpinnedHostKey?: boolean;
}

export async function createHarness(
  prefix = 'e2e',
  aws?: AwsStandins,
  tunnel?: HarnessTunnel,
  server?: ServerAddress,
): Promise<Harness> {
  const db = await createTestDatabase(prefix, server);
  const fresh = aws ? await aws.fresh() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hw-e2e-'));
  const configDir = join(dir, 'config');
  const home = join(dir, 'home');
  mkdirSync(join(configDir, 'pipelines'), { recursive: true });
  writeFileSync(
    join(configDir, 'connections.yml'),
    `connections:
  sources:
    mysql_test:
      host: ${db.host}
      port: ${db.port}
      database: ${db.database}
      username: ${db.user}
      password: "${db.password}"
${
  tunnel
    ? `      ssh_tunnel:
        enabled: true
        host: ${tunnel.host}
        port: ${tunnel.port}
        username: ${tunnel.username}
        private_key_path: ${tunnel.privateKeyPath}${tunnel.hostKeySha256 ? `\n        host_key_sha256: "${tunnel.hostKeySha256}"` : ''}${tunnel.acceptUnpinnedHostKey ? '\n        accept_unpinned_host_key: true' : ''}
        connect_timeout: 5
        keepalive: 1`
    : ''
}
  targets:
${
  aws && fresh
    ? `    warehouse:
      type: redshift
      workgroup: hw-test
      database: postgres
      schema: ${fresh.schema}
      secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:hw-test
      iam_role_arn: arn:aws:iam::123456789012:role/hw-copy
      region: us-east-1
      endpoint: ${aws.redshift.endpoint}`
    : `    warehouse:
      type: duckdb
      path: warehouse.duckdb
      schema: public`
}
`,
  );
  const h: Harness = {
    db,
    dir,
    configDir,
    home,
    warehouseSchema: fresh?.schema ?? 'public',
    stateKey(table) {
      return `test/mysql_test/${table}/warehouse`;
    },
    async watermark(table) {
      const rt = await h.runtime();
      try {
        return (await (await rt.state(rt.pipeline('test'))).getWatermark(h.stateKey(table)))?.watermark;
      } finally {
        await rt.close();
      }
    },
    setSourceOption(key, value) {
      const file = join(configDir, 'connections.yml');
      const text = readFileSync(file, 'utf8').replace(/^( {6}password: .*)$/m, `$1\n      ${key}: ${value}`);
      writeFileSync(file, text);
    },
    writePipeline(tablesYaml, opts = {}) {
      const awsBlocks =
        aws && fresh
          ? `  s3:
    bucket: ${fresh.bucket}
    prefix: hw
    region: us-east-1
    endpoint: ${aws.s3.endpoint}
  state:
    type: dynamodb
    table: ${fresh.stateTable}
    region: us-east-1
    endpoint: ${aws.dynamo.endpoint}
`
          : '';
      writeFileSync(
        join(configDir, 'pipelines', 'test.yml'),
        `pipeline:
  name: test
  source: mysql_test
  target: warehouse
${awsBlocks}  processing:
    max_workers: 2
    lease_seconds: ${opts.leaseSeconds ?? 60}
${opts.maxInlineChunks === undefined ? '' : `    max_inline_chunks: ${opts.maxInlineChunks}\n`}${
  opts.keepStagedFiles === undefined ? '' : `    keep_staged_files: ${opts.keepStagedFiles}\n`
}${opts.schedule === undefined ? '' : `  schedule: ${opts.schedule}\n`}tables:
${tablesYaml}
`,
      );
    },
    async runtime() {
      const config = await loadConfig({ cwd: dir, configDir, home, env: {} });
      return createRuntime(config);
    },
    async sync(tables, options = {}, runOpts = {}) {
      const rt = await h.runtime();
      try {
        return await runLocal(rt, { pipeline: 'test', tables, options }, { backoffMs: 1, ...runOpts });
      } finally {
        await rt.close();
      }
    },
    async warehouseRows(table, orderBy) {
      const rt = await h.runtime();
      try {
        const w = await rt.warehouse(rt.pipeline('test'));
        const name = aws && fresh ? table.replace(/^public\./, `${fresh.schema}.`) : table;
        return await w.query(`SELECT * FROM ${name} ORDER BY ${orderBy}`);
      } finally {
        await rt.close();
      }
    },
    async cleanup() {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
