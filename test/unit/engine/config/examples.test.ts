import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CDC_STRATEGIES } from '../../../../lambdas/domain/config.js';
import { configJsonSchema, getPipeline, loadConfig, modeBanner } from '../../../../lambdas/engine/config/index.js';
import { project, removeProjects } from './fixture.js';

afterAll(removeProjects);

const EXAMPLES = join(import.meta.dirname, '../../../../pipelines');

describe('the example configuration in pipelines/', () => {
  it('loads as a user would copy it to config/: every pipeline resolves, without warnings', async () => {
    const cwd = project();
    cpSync(EXAMPLES, join(cwd, 'config'), { recursive: true });
    const cfg = await loadConfig({ cwd, env: {} });
    expect(cfg.mode).toBe('multi');
    expect(modeBanner(cfg)[0]).toBe('📋 Using default pipeline configuration');
    expect(cfg.warnings).toEqual([]);
    const files = readdirSync(join(EXAMPLES, 'pipelines')).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const name = f.replace(/\.yml$/, '');
      expect(cfg.pipelines).toContain(name);
      const p = getPipeline(cfg, name);
      expect(p.origin).toBe(`config/pipelines/${f}`);
    }
    const sales = getPipeline(cfg, 'sales');
    expect(new Set(sales.tables.map((t) => t.strategy))).toEqual(new Set(CDC_STRATEGIES));
    expect(sales.staging).toMatchObject({ type: 's3', bucket: 'example-highwater-staging' });
    expect(sales.state).toMatchObject({ type: 'dynamodb', table: 'highwater-state' });
    expect(getPipeline(cfg, 'local_dev').target.type).toBe('duckdb');
  });

  it("deployed, uses the stack's bucket, state table and COPY role from the functions' environment", async () => {
    const cwd = project();
    cpSync(EXAMPLES, join(cwd, 'config'), { recursive: true });
    const env = {
      HIGHWATER_STAGING_BUCKET: 'highwater-prod-stagingbucket-1a2b3c',
      HIGHWATER_STATE_TABLE: 'Highwater-prod-StateTable-XYZ',
      HIGHWATER_COPY_ROLE_ARN: 'arn:aws:iam::210987654321:role/Highwater-prod-WarehouseCopyRole-ABC',
    };
    const sales = getPipeline(await loadConfig({ cwd, env }), 'sales');
    expect(sales.staging).toMatchObject({ type: 's3', bucket: env.HIGHWATER_STAGING_BUCKET });
    expect(sales.state).toMatchObject({ type: 'dynamodb', table: env.HIGHWATER_STATE_TABLE });
    expect(sales.target).toMatchObject({ type: 'redshift', iamRoleArn: env.HIGHWATER_COPY_ROLE_ARN });
  });
});

describe('configJsonSchema', () => {
  it('describes both files for editors, generated from the zod schemas', () => {
    const { connections, pipeline } = configJsonSchema();
    const c = connections as { type: string; properties: Record<string, unknown>; additionalProperties: boolean };
    expect(c.type).toBe('object');
    expect(Object.keys(c.properties)).toEqual(expect.arrayContaining(['connections', 's3_configs', 'backup']));
    expect(c.additionalProperties).toBe(false);
    const text = JSON.stringify(pipeline);
    for (const s of CDC_STRATEGIES) expect(text).toContain(`"${s}"`);
    expect(text).toContain('"cdc_timestamp_column"');
    expect(text).toContain('"default_table_config"');
    expect(JSON.parse(JSON.stringify(pipeline))).toEqual(pipeline); // plain JSON, nothing unrepresentable
  });
});
