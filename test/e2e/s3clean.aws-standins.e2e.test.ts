/**
 * s3clean against the AWS adapters on stand-ins: staged files in S3 (fauxqs) and the run ledger in DynamoDB
 * Local. The engine is driven directly through a runtime, and the CLI is spawned on the same config dir.
 */
import { spawnSync } from 'node:child_process';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { getTableConfig } from '../../lambdas/engine/config/index.js';
import {
  applyCleanup,
  type CleanupScope,
  FORCED_ERROR,
  listStagedFiles,
  planCleanup,
} from '../../lambdas/local/engine/cleanup.js';
import type { Runtime } from '../../lambdas/local/runtime.js';
import { type AwsStandins, startAwsStandins } from '../support/aws-standins.js';
import { CLI_ARGS, NODE } from '../support/cli.js';
import { createHarness, type Harness } from '../support/harness.js';

let aws: AwsStandins;
let h: Harness;
let t: string;

beforeAll(async () => {
  aws = await startAwsStandins();
  h = await createHarness('s3c_aws', aws);
  t = `${h.db.database}.items`;
  await h.db.conn.query(
    `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20), updated_at DATETIME NOT NULL);
     INSERT INTO items VALUES (1,'a','2024-01-01 00:00:00'),(2,'b','2024-01-01 00:00:00'),(3,'c','2024-01-02 00:00:00'),
       (4,'d','2024-01-03 00:00:00')`,
  );
  h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 2\n    lag: 0`);
});
afterAll(async () => {
  await h?.cleanup();
  await aws?.stop();
});

function hw(...args: string[]) {
  const r = spawnSync(NODE, [...CLI_ARGS, '--config-dir', h.configDir, '--home', h.home, ...args], {
    cwd: h.dir,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function scopeOf(rt: Runtime): Promise<CleanupScope> {
  const p = rt.pipeline('test');
  const staging = await rt.staging(p);
  const tc = getTableConfig(p, t);
  return {
    staging,
    state: await rt.state(p),
    rootPrefix: staging.prefix,
    parts: { pipeline: p.name, source: p.source.name, table: tc.name, target: p.target.name },
    leaseSeconds: 60,
  };
}

async function bucketKeys(): Promise<string[]> {
  const rt = await h.runtime();
  try {
    const p = rt.pipeline('test');
    if (p.staging.type !== 's3') throw new Error('expected S3 staging');
    const out = await aws.s3.client.send(new ListObjectsV2Command({ Bucket: p.staging.bucket }));
    return (out.Contents ?? []).map((o) => o.Key ?? '');
  } finally {
    await rt.close();
  }
}

test('staged S3 files of a --backup-only run stay without --force; --force deletes them and fails the run in DynamoDB', async () => {
  const b = await h.sync([t], { backupOnly: true });
  expect(b.tables[0]?.status, b.tables[0]?.error ?? '').toBe('staged');

  const rt = await h.runtime();
  try {
    const scope = await scopeOf(rt);
    const listing = await listStagedFiles(scope);
    expect(listing.prefix.startsWith('hw/test/')).toBe(true);
    expect(listing.files.length).toBeGreaterThanOrEqual(2);
    expect(listing.files.every((f) => !f.safe && f.runStatus === 'staged')).toBe(true);
    const runId = listing.files[0]!.runId!;

    const kept = hw('s3clean', 'clean', '-p', 'test', '-t', t);
    expect(kept.code, kept.err).toBe(0);
    expect(kept.err).toContain('not safe to delete');
    expect(await bucketKeys()).toEqual(expect.arrayContaining(listing.files.map((f) => f.key)));

    const plan = planCleanup(listing, { force: true });
    expect(plan.forced).toHaveLength(listing.files.length);
    await applyCleanup(scope, plan);
    const keys = await bucketKeys();
    for (const f of listing.files) expect(keys).not.toContain(f.key);
    const run = await scope.state.getRun(runId);
    expect(run).toMatchObject({ status: 'failed', error: FORCED_ERROR });
    expect(run?.cleanedAt).not.toBeNull();
    expect(await scope.state.getLease(listing.tableKey)).toBeUndefined();
  } finally {
    await rt.close();
  }

  const ro = await h.sync([t], { redshiftOnly: true });
  expect(ro.tables[0]?.status).toBe('skipped');
});

test('after a committed sync the spawned CLI lists the S3 files as safe and cleans them, manifest included', async () => {
  const s = await h.sync([t]);
  expect(s.tables[0]?.error ?? null).toBeNull();
  expect(s.tables[0]?.rowsLoaded).toBe(4);

  const l = hw('s3clean', 'list', '-p', 'test', '-t', t, '--json');
  expect(l.code, l.err).toBe(0);
  const listing = JSON.parse(l.out) as { files: { key: string; kind: string; safe: boolean; runId: string }[] };
  expect(listing.files.every((f) => f.safe)).toBe(true);
  expect(listing.files.map((f) => f.kind)).toContain('manifest');
  const runId = listing.files[0]!.runId;

  const dry = hw('s3clean', 'clean', '-p', 'test', '-t', t, '--older-than', '0s', '--dry-run');
  expect(dry.code, dry.err).toBe(0);
  expect(await bucketKeys()).toEqual(expect.arrayContaining(listing.files.map((f) => f.key)));

  const c = hw('s3clean', 'clean', '-p', 'test', '-t', t, '--older-than', '0s');
  expect(c.code, c.err).toBe(0);
  expect(c.out).toContain(`deleted ${listing.files.length} file(s)`);
  expect(c.out).toContain(`run ${runId}: committed → cleaned`);
  const prefix = listing.files[0]!.key.slice(0, listing.files[0]!.key.indexOf('run='));
  expect((await bucketKeys()).filter((k) => k.startsWith(prefix))).toEqual([]);

  const rt = await h.runtime();
  try {
    const run = await (await rt.state(rt.pipeline('test'))).getRun(runId);
    expect(run?.status).toBe('cleaned');
    expect(run?.cleanedAt).not.toBeNull();
  } finally {
    await rt.close();
  }
});
