/** The files `config setup` writes: from the examples, prefilled from the single-connection environment. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  getPipeline,
  getTableConfig,
  loadConfig,
  type PipelineConfig,
} from '../../../../lambdas/engine/config/index.js';
import { planSetup, type SetupExamples } from '../../../../lambdas/engine/config/setup.js';
import { tableKey } from '../../../../lambdas/engine/naming.js';
import { project, removeProjects } from './fixture.js';

afterAll(removeProjects);

/** `${NAME}` as written in YAML. */
const ref = (name: string) => `\${${name}}`;

const EXAMPLES = join(import.meta.dirname, '../../../../pipelines');
function examples(): SetupExamples {
  const pipelines: Record<string, string> = {};
  for (const f of readdirSync(join(EXAMPLES, 'pipelines')).filter((n) => n.endsWith('.yml'))) {
    pipelines[f] = readFileSync(join(EXAMPLES, 'pipelines', f), 'utf8');
  }
  return { connections: readFileSync(join(EXAMPLES, 'connections.yml'), 'utf8'), pipelines };
}

function write(plan: ReturnType<typeof planSetup>, cwd = project()): string {
  for (const f of plan.files) {
    mkdirSync(dirname(join(cwd, 'config', f.path)), { recursive: true });
    writeFileSync(join(cwd, 'config', f.path), f.content);
  }
  return cwd;
}

const keyOf = (p: PipelineConfig) =>
  tableKey({ pipeline: p.name, source: p.source.name, table: 'shop.orders', target: p.target.name });

describe('planSetup', () => {
  test('without MYSQL_HOST: the examples as they are, each with a yaml-language-server line', async () => {
    const plan = planSetup(examples(), {});
    expect(plan.prefilledFrom).toBeUndefined();
    const yml = plan.files.filter((f) => !f.generated);
    expect(yml.map((f) => f.path)).toEqual([
      'connections.yml',
      'pipelines/default.yml',
      'pipelines/local_dev.yml',
      'pipelines/sales.yml',
    ]);
    expect(yml[0]!.content.split('\n')[0]).toBe('# yaml-language-server: $schema=./connections.schema.json');
    expect(yml[1]!.content.split('\n')[0]).toBe('# yaml-language-server: $schema=../pipeline.schema.json');
    const cfg = await loadConfig({ cwd: write(plan), env: {} });
    expect(cfg.mode).toBe('multi');
    expect(cfg.warnings).toEqual([]);
  });

  test('with MYSQL_*: a default source and target, the password as a reference, and the same state keys', async () => {
    const env = {
      MYSQL_HOST: 'db.internal',
      MYSQL_PORT: '3307',
      MYSQL_USER: 'reader',
      MYSQL_PASSWORD: 'n0t-in-any-file',
      MYSQL_DATABASE: 'shop',
    };
    const plan = planSetup(examples(), env);
    expect(plan.prefilledFrom).toContain('MYSQL_HOST');
    for (const f of plan.files) expect(f.content).not.toContain('n0t-in-any-file');
    const connections = plan.files.find((f) => f.path === 'connections.yml')!.content;
    expect(connections).toContain(`password: ${ref('MYSQL_PASSWORD')}`);
    // Only what works here: no example connection, no comment left from one.
    expect(connections).not.toContain('A MySQL read replica');
    expect(connections).not.toContain('s3_configs');

    const cwd = project();
    const single = await loadConfig({ cwd, env });
    const multi = await loadConfig({ cwd: write(plan, cwd), env });
    expect(multi.mode).toBe('multi');
    const before = getPipeline(single, 'default');
    const after = getPipeline(multi, 'default');
    expect(after.source).toMatchObject({ name: 'default', host: 'db.internal', port: 3307, username: 'reader' });
    expect(after.source.password).toEqual({ kind: 'env', name: 'MYSQL_PASSWORD' });
    expect(after.target).toMatchObject({ type: 'duckdb', name: 'default', schema: 'public' });
    // Same pipeline, source and target names: the watermarks written in single mode are found after setup.
    expect(keyOf(after)).toBe(keyOf(before));
    expect(after.state).toEqual(before.state);
    expect(after.target).toMatchObject({ path: (before.target as { path: string }).path });
    // The same behaviour: a table registered on the fly gets the settings it got in single-connection mode.
    const { name: _n, ...was } = getTableConfig(before, 'shop.orders');
    const { name: _m, ...is } = getTableConfig(after, 'shop.orders');
    expect(is).toEqual(was);
    expect(after.processing).toEqual(before.processing);
  });

  test('an SSH bastion in the environment becomes the default source tunnel', async () => {
    const env = {
      MYSQL_HOST: 'db.internal',
      SSH_BASTION_HOST: 'bastion.example.com',
      SSH_BASTION_USER: 'ec2-user',
      SSH_BASTION_KEY_PATH: '/keys/b.pem',
    };
    const cfg = await loadConfig({ cwd: write(planSetup(examples(), env)), env });
    expect(getPipeline(cfg, 'default').source.sshTunnel).toMatchObject({
      host: 'bastion.example.com',
      username: 'ec2-user',
      privateKeyPath: '/keys/b.pem',
    });
  });
});
