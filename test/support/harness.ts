/**
 * An end-to-end sync set-up for tests: a fresh MySQL database on the private MariaDB, a config directory in
 * multi-connection mode pointing at it, a Highwater home with a DuckDB warehouse, and helpers to run syncs and
 * compare the warehouse with the source row for row.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../lambdas/engine/config/index.js';
import { type LocalRunOptions, type RunReport, runLocal } from '../../lambdas/orchestration/local-runner.js';
import { createRuntime, type Runtime } from '../../lambdas/runtime/runtime.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

export interface Harness {
  db: TestDatabase;
  dir: string;
  configDir: string;
  home: string;
  /** Writes config/pipelines/test.yml with this `tables:` body (YAML, indented by two spaces per level). */
  writePipeline(tablesYaml: string, extra?: string): void;
  /** Opens a runtime on the current config; close it (or use sync(), which does). */
  runtime(): Promise<Runtime>;
  sync(tables: string[], options?: Record<string, unknown>, runOpts?: LocalRunOptions): Promise<RunReport>;
  warehouseRows(table: string, orderBy: string): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

export async function createHarness(prefix = 'e2e'): Promise<Harness> {
  const db = await createTestDatabase(prefix);
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
  targets:
    local:
      type: duckdb
      path: warehouse.duckdb
      schema: public
`,
  );
  const h: Harness = {
    db,
    dir,
    configDir,
    home,
    writePipeline(tablesYaml, extra = '') {
      writeFileSync(
        join(configDir, 'pipelines', 'test.yml'),
        `pipeline:
  name: test
  source: mysql_test
  target: local
  processing:
    max_workers: 2
    lease_seconds: 60
${extra}
tables:
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
        return await w.query(`SELECT * FROM ${table} ORDER BY ${orderBy}`);
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
