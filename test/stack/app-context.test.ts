import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/engine/config/index.js';
import { ConfigError } from '../../lambdas/errors.js';
import { readAppContext } from '../../lib/app-context.js';
import { secretArn } from '../../lib/constructs/warehouse-access.js';
import { deployedPipelines } from '../../lib/deployed-pipelines.js';
import { cdkJsonContext, projectRoot } from './build-app.js';

const env = { account: '123456789012', region: 'eu-west-1' };
const reader =
  (ctx: Record<string, unknown>) =>
  (key: string): unknown =>
    ctx[key];

describe('readAppContext', () => {
  it('reads every environment of cdk.json, with defaults', () => {
    const ctx = readAppContext(reader(cdkJsonContext()));
    expect(ctx.environments.map((e) => e.name)).toEqual(['dev', 'prod']);
    expect(ctx.configDir).toBe('pipelines');
    expect(ctx.removeDataOnDestroy).toBe(false);
    expect(ctx.environments[1]?.settings).toMatchObject({
      vpcId: 'vpc-0123456789abcdef0',
      alarmEmail: 'data-oncall@example.com',
    });
    expect(readAppContext(reader({ environments: { x: env } })).environments[0]?.settings.stagedFileExpiryDays).toBe(7);
  });

  it('selects one environment with env=NAME and takes -c string flags', () => {
    const ctx = readAppContext(
      reader({ ...cdkJsonContext(), env: 'prod', removeDataOnDestroy: 'true', configDir: 'cfg' }),
    );
    expect(ctx.environments.map((e) => e.name)).toEqual(['prod']);
    expect(ctx.removeDataOnDestroy).toBe(true);
    expect(ctx.configDir).toBe('cfg');
  });

  it('names the environment and key of a bad setting', () => {
    expect(() => readAppContext(reader({ environments: { prod: { ...env, stagedFileExpiryDays: 0 } } }))).toThrow(
      /context\.environments\.prod\.stagedFileExpiryDays/,
    );
    expect(() => readAppContext(reader({ environments: { prod: { ...env, acount: '1' } } }))).toThrow(ConfigError);
    expect(() => readAppContext(reader({ environments: { prod: { ...env, subnetIds: ['subnet-1'] } } }))).toThrow(
      /need vpcId/,
    );
    expect(() => readAppContext(reader({ environments: { prod: { ...env, vpcId: 'vpc-1' } } }))).toThrow(
      /vpcId needs subnetIds/,
    );
    expect(() => readAppContext(reader({ environments: { prod: { ...env, account: 'abc' } } }))).toThrow(/12 digits/);
  });

  it('rejects a missing environments map, an unknown env and a bad flag', () => {
    expect(() => readAppContext(reader({}))).toThrow(/context\.environments must map/);
    expect(() => readAppContext(reader({ environments: { dev: env }, env: 'prod' }))).toThrow(
      /env="prod" is not in cdk\.json context\.environments \(dev\)/,
    );
    expect(() => readAppContext(reader({ environments: { dev: env }, removeDataOnDestroy: 'yes' }))).toThrow(
      /removeDataOnDestroy must be true or false/,
    );
    expect(() => readAppContext(reader({ environments: { dev: env }, configDir: '' }))).toThrow(/configDir/);
  });
});

describe('deployedPipelines', () => {
  it('collects schedules, secrets and Redshift workgroups from the example pipelines', async () => {
    const d = deployedPipelines(await loadConfig({ cwd: projectRoot, configDir: join(projectRoot, 'pipelines') }));
    expect(d.pipelines.map((p) => p.name).sort()).toEqual(['default', 'local_dev', 'sales']);
    expect(d.secretIds).toEqual(['highwater/shop-staging']);
    expect(d.redshiftWorkgroups).toEqual(['analytics']);
    expect(d.redshiftClusters).toEqual([]);
    expect(d.schedules).toEqual([
      {
        pipeline: 'sales',
        expression: 'cron(0/15 * * * ? *)',
        tables: ['shop.orders', 'shop.order_events', 'shop.audit_log', 'shop.countries', 'shop.customers'],
        // The pipeline's processing.max_workers, which the state machine cannot read from the YAML.
        options: { maxWorkers: 8 },
      },
    ]);
  });

  it('rejects a schedule that is not cron(…) or rate(…), naming the pipeline file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hw-cdk-'));
    await writeFile(
      join(dir, 'connections.yml'),
      [
        'connections:',
        '  sources:',
        '    src: { host: db.example.com, database: shop, username: u, password: { secret: hw/src } }',
        '  targets:',
        '    wh: { type: redshift, cluster_identifier: dw1, database: dw, schema: s, db_user: loader, secret_arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hw/wh-AbCdEf" }',
        's3_configs:',
        '  s3: { bucket_name: staging-bucket, region: eu-west-1 }',
      ].join('\n'),
    );
    await mkdir(join(dir, 'pipelines'));
    const pipeline = (schedule: string) =>
      `pipeline:\n  source: src\n  target: wh\n  s3_config: s3\n  schedule: "${schedule}"\ntables:\n  shop.a: {}\n`;
    await writeFile(join(dir, 'pipelines', 'p.yml'), pipeline('every 5 minutes'));
    await expect(loadConfig({ cwd: dir, configDir: dir }).then((cfg) => deployedPipelines(cfg))).rejects.toThrow(
      /pipeline p \(.*p\.yml\): schedule "every 5 minutes" is not cron\(…\) or rate\(…\)/,
    );

    await writeFile(join(dir, 'pipelines', 'p.yml'), pipeline('rate(1 hour)'));
    const d = deployedPipelines(await loadConfig({ cwd: dir, configDir: dir }));
    // No max_workers anywhere: the default.
    expect(d.schedules).toEqual([
      { pipeline: 'p', expression: 'rate(1 hour)', tables: ['shop.a'], options: { maxWorkers: 4 } },
    ]);
    expect(d.secretIds).toEqual(['arn:aws:secretsmanager:eu-west-1:123456789012:secret:hw/wh-AbCdEf', 'hw/src']);
    expect(d.redshiftClusters).toEqual([{ cluster: 'dw1', database: 'dw', dbUser: 'loader' }]);
  });
});

describe('secretArn', () => {
  it('keeps an ARN and turns a name into an ARN matching the random suffix', () => {
    const stack = new Stack(new App(), 'S', { env });
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf';
    expect(secretArn(stack, arn)).toBe(arn);
    expect(stack.resolve(secretArn(stack, 'highwater/db'))).toEqual({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-west-1:123456789012:secret:highwater/db-??????'],
      ],
    });
  });
});
