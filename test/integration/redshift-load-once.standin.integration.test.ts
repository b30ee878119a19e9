/**
 * A Redshift load runs once (docs/decisions/0006-load-runs-once.md), on the Data API stand-in over PostgreSQL:
 * every wait ends before the step's deadline with a cancel; a cancel that loses the race with the commit counts as
 * done; each statement is in the journal before the load waits for it; and a later load settles what an earlier
 * one left: this run's finished apply is its result, anything else still running is cancelled first. The journal
 * here is a plain in-memory LoadJournal (the port; the state stores' side is the contract suite's).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedshiftWarehouse, type RedshiftWarehouseOptions } from '../../lambdas/adapters/redshift/index.js';
import type { LogicalType } from '../../lambdas/domain/model.js';
import { WarehouseError } from '../../lambdas/errors.js';
import { aslErrorName } from '../../lambdas/orchestration/definition.js';
import type { LoadJournal, LoadRequest, LoadStatement, Warehouse } from '../../lambdas/ports/index.js';
import { deadlineIn } from '../../lambdas/ports/step-context.js';
import { column, writeParquetWithDuckDb } from '../contract/warehouse.contract.js';
import { type FauxqsInstance, startFauxqs } from '../support/fauxqs.js';
import { type PostgresInstance, startPostgres } from '../support/postgres.js';
import { type RedshiftDataStandin, startRedshiftDataStandin } from '../support/redshift-data-standin/index.js';

const BUCKET = 'hw-load-once';
const CREDENTIALS = { accessKeyId: 'HWLOADONCE', secretAccessKey: 'hw-load-once-not-real' };
const INT: LogicalType = { kind: 'int32' };
const TEXT: LogicalType = { kind: 'string', maxBytes: 64 };

let pgServer: PostgresInstance;
let s3: FauxqsInstance;
let standin: RedshiftDataStandin;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hw-load-once-'));
  [pgServer, s3] = await Promise.all([startPostgres(), startFauxqs()]);
  await s3.createBucket(BUCKET);
  standin = await startRedshiftDataStandin({ connectionString: pgServer.connectionString, s3: s3.client });
});

afterAll(async () => {
  await standin?.stop();
  await s3?.stop();
  await pgServer?.stop();
  await rm(dir, { recursive: true, force: true });
});

const hex = () => randomBytes(4).toString('hex');
const client = () =>
  new RedshiftDataClient({ endpoint: standin.endpoint, region: 'us-east-1', credentials: CREDENTIALS });

function open(extra: Partial<RedshiftWarehouseOptions> = {}): Warehouse {
  return createRedshiftWarehouse({
    database: 'postgres',
    workgroupName: 'hw-test',
    secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hw-AbCdEf',
    iamRoleArn: 'arn:aws:iam::123456789012:role/hw-copy',
    client: client(),
    pollIntervalMs: 5,
    cancelMarginMs: 300,
    ...extra,
  });
}

async function put(key: string, body: Buffer | string): Promise<string> {
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return `s3://${BUCKET}/${key}`;
}

/** One Parquet file of `ids`, uploaded, and a manifest of it: a LoadRequest for `schema.orders`. */
async function requestFor(schema: string, ids: number[]): Promise<LoadRequest> {
  const path = join(dir, `${hex()}.parquet`);
  const rows = ids.map((i) => `SELECT ${i}::INTEGER AS id, 'n${i}'::VARCHAR AS name`).join(' UNION ALL ');
  await writeParquetWithDuckDb(path, rows);
  const file = await put(`files/${hex()}.parquet`, await readFile(path));
  const size = (
    await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: file.slice(`s3://${BUCKET}/`.length) }))
  ).ContentLength;
  const manifest = await put(
    `manifests/${hex()}.json`,
    JSON.stringify({ entries: [{ url: file, mandatory: true, meta: { content_length: size } }] }),
  );
  return {
    target: { schema, name: 'orders' },
    columns: [column('id', INT, false), column('name', TEXT)],
    primaryKey: ['id'],
    cursorColumns: [],
    mode: 'merge',
    files: [file],
    manifest,
    expectedRows: ids.length,
    onColumnDrop: 'keep',
  };
}

/** An in-memory journal that also checks each statement is recorded before anyone asks the Data API about it. */
function journal(runId: string, earlier: LoadStatement[] = []) {
  const recorded: LoadStatement[] = [];
  let unsettled = false;
  const j: LoadJournal & { recorded: LoadStatement[]; unsettled: () => boolean } = {
    runId,
    earlier,
    recorded,
    unsettled: () => unsettled,
    async record(statement) {
      const described = standin.requests.some((r) => r.operation === 'DescribeStatement' && r.body.Id === statement.id);
      expect(described, `statement ${statement.id} was described before it was recorded`).toBe(false);
      recorded.push(statement);
    },
    markUnsettled() {
      unsettled = true;
    },
  };
  return j;
}

/**
 * A step whose deadline is far off until the apply batch is recorded, then `ms` away: the stage batch always has
 * time, and the deadline falls on the apply batch whatever the machine's speed.
 */
function deadlineAtApply(j: { recorded: LoadStatement[] }, ms: number) {
  let end: number | undefined;
  return {
    remainingMs: () => {
      if (end === undefined && j.recorded.some((s) => s.phase === 'apply')) end = Date.now() + ms;
      return end === undefined ? 60_000 : Math.max(0, end - Date.now());
    },
  };
}

async function rowsOf(wh: Warehouse, schema: string): Promise<number[]> {
  return (await wh.query<{ id: number }>(`SELECT id FROM ${schema}.orders ORDER BY id`)).map((r) => r.id);
}

const applyCount = (schema: string) =>
  standin.sqlLog.filter((sql) => sql.startsWith(`INSERT INTO "${schema}"."orders"`)).length;

describe('a Redshift load within its step deadline', () => {
  it('cancels the apply batch before the deadline; it rolls back, the error says so, nothing is left running', async () => {
    const wh = open();
    const schema = `lo_${hex()}`;
    await wh.load(await requestFor(schema, [1])); // the table exists with one row
    const j = journal('run-2');
    standin.hangWhen((sql) => sql.startsWith(`INSERT INTO "${schema}"."orders"`));
    let err: unknown;
    try {
      err = await wh
        .load(await requestFor(schema, [1, 2]), { step: deadlineAtApply(j, 700), journal: j })
        .catch((e) => e);
    } finally {
      standin.hangWhen(undefined);
    }
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(
      /a batch of \d+ statements did not finish within the \d+ ms this invocation had for it \(its deadline less 300 ms for cancelling\); statement [0-9a-f-]+ was cancelled and rolled back: nothing of it committed/,
    );
    expect((err as WarehouseError).transient).toBe(false);
    expect(j.recorded.map((s) => s.phase)).toEqual(['stage', 'apply']);
    expect(j.recorded[1]?.detail).toMatchObject({ rowsStaged: 2, keysStaged: 2, keyed: true });
    const apply = await client().send(new DescribeStatementCommand({ Id: j.recorded[1]!.id }));
    expect(apply.Status).toBe('ABORTED');
    expect(j.unsettled()).toBe(false);
    expect(await rowsOf(wh, schema)).toEqual([1]);
    await wh.close();
  });

  it('counts an apply that commits while its cancel is on the way as done', async () => {
    const wh = open({ cancelMarginMs: 3000 });
    const schema = `lo_${hex()}`;
    const j = journal('run-1');
    // The apply batch's commit takes 2 s, and the deadline falls inside it: the cancel cannot stop the commit.
    standin.slowCommitWhen((sqls) => sqls.some((sql) => sql.startsWith(`INSERT INTO "${schema}"."orders"`)), 2000);
    try {
      const step = deadlineAtApply(j, 3300); // cancelled 300 ms into the commit, watched for up to 2.7 s more
      const result = await wh.load(await requestFor(schema, [1, 2, 3]), { step, journal: j });
      expect(result).toMatchObject({ rowsStaged: 3, rowsLoaded: 3 });
    } finally {
      standin.slowCommitWhen(undefined);
    }
    const cancels = standin.requests.filter((r) => r.operation === 'CancelStatement').map((r) => r.body.Id);
    expect(cancels).toContain(j.recorded.find((s) => s.phase === 'apply')?.id);
    expect(await rowsOf(wh, schema)).toEqual([1, 2, 3]);
    await wh.close();
  });

  it('refuses to submit with less time left than a cancel needs, as a transient error', async () => {
    const wh = open({ cancelMarginMs: 60_000 });
    const schema = `lo_${hex()}`;
    const before = standin.sqlLog.length;
    const err = await wh.load(await requestFor(schema, [1]), { step: deadlineIn(30_000) }).catch((e) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(/was not submitted: this invocation has \d+ ms left, within the 60000 ms/);
    expect(aslErrorName(err)).toBe('Highwater.Transient');
    // Only the catalog read ran before the first submission was refused? No: nothing at all was submitted.
    expect(standin.sqlLog.length).toBe(before);
    await wh.close();
  });
});

describe('a Redshift load that an earlier attempt began', () => {
  it('returns the result of this run’s finished apply without running anything again', async () => {
    const wh = open();
    const schema = `lo_${hex()}`;
    const req = await requestFor(schema, [1, 2]);
    const first = journal('run-1');
    const result = await wh.load(req, { step: deadlineIn(60_000), journal: first });
    const sent = standin.sqlLog.length;
    const retry = journal('run-1', first.recorded);
    expect(await wh.load(req, { step: deadlineIn(60_000), journal: retry })).toEqual(result);
    expect(standin.sqlLog.length).toBe(sent);
    expect(retry.recorded).toEqual([]);
    await wh.close();
  });

  it('waits for this run’s apply that a vanished invocation left running, and takes its result', async () => {
    const wh = open();
    const schema = `lo_${hex()}`;
    const req = await requestFor(schema, [1, 2, 3]);
    // The first attempt "dies" right after recording its apply batch: its promise never settles, like a Lambda
    // ended from outside, while the batch goes on committing slowly in the warehouse.
    let revive: () => void = () => undefined;
    const frozen = new Promise<void>((resolve) => {
      revive = resolve;
    });
    const first = journal('run-1');
    const dying: LoadJournal = {
      ...first,
      async record(statement) {
        await first.record(statement);
        if (statement.phase === 'apply') await frozen;
      },
    };
    standin.slowCommitWhen((sqls) => sqls.some((sql) => sql.startsWith(`INSERT INTO "${schema}"."orders"`)), 800);
    try {
      const abandoned = wh.load(req, { step: deadlineIn(60_000), journal: dying });
      while (!first.recorded.some((s) => s.phase === 'apply')) await new Promise((r) => setTimeout(r, 10));
      const retry = journal('run-1', first.recorded);
      const result = await wh.load(req, { step: deadlineIn(60_000), journal: retry });
      expect(result).toMatchObject({ rowsStaged: 3, rowsLoaded: 3, rowsDeleted: 0 });
      expect(retry.recorded).toEqual([]);
      expect(applyCount(schema)).toBe(1);
      revive();
      await abandoned;
    } finally {
      standin.slowCommitWhen(undefined);
    }
    expect(await rowsOf(wh, schema)).toEqual([1, 2, 3]);
    await wh.close();
  });

  it('cancels another run’s statement still running, drops the staging tables it left, then loads', async () => {
    const wh = open();
    const schema = `lo_${hex()}`;
    await wh.load(await requestFor(schema, [1]));
    // An earlier run's apply that hangs in the warehouse (its Lambda gone), and the stage it left.
    const stage = `orders__hw_stage_${hex()}`;
    const raw = client();
    await raw.send(
      new BatchExecuteStatementCommand({
        Database: 'postgres',
        WorkgroupName: 'hw-test',
        Sqls: [`CREATE TABLE "${schema}"."${stage}" (id INTEGER)`],
      }),
    );
    standin.hangWhen((sql) => sql.includes('hang_old_run'));
    const old = await raw.send(
      new BatchExecuteStatementCommand({
        Database: 'postgres',
        WorkgroupName: 'hw-test',
        Sqls: [`INSERT INTO "${schema}"."orders" (id, name) SELECT 99, 'hang_old_run'`],
      }),
    );
    const earlier: LoadStatement[] = [
      {
        id: 'ffffffff-0000-4000-8000-000000000000',
        runId: 'run-0',
        phase: 'stage',
        submittedAt: new Date().toISOString(),
      },
      { id: old.Id!, runId: 'run-0', phase: 'apply', submittedAt: new Date().toISOString() },
      {
        id: 'ffffffff-0000-4000-8000-000000000001',
        runId: 'run-0',
        phase: 'stage',
        submittedAt: new Date().toISOString(),
        detail: { stage },
      },
    ];
    try {
      const j = journal('run-1', earlier);
      const result = await wh.load(await requestFor(schema, [1, 2]), { step: deadlineIn(60_000), journal: j });
      expect(result).toMatchObject({ rowsLoaded: 2, rowsDeleted: 1 });
    } finally {
      standin.hangWhen(undefined);
    }
    expect((await raw.send(new DescribeStatementCommand({ Id: old.Id! }))).Status).toBe('ABORTED');
    expect(await rowsOf(wh, schema)).toEqual([1, 2]);
    const left = await wh.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name',
      [schema],
    );
    expect(left.map((t) => t.table_name)).toEqual(['orders']);
    await wh.close();
  });
});

describe('Data API limits', () => {
  it('refuses a statement over 100 KB before sending anything, naming it', async () => {
    const wh = open();
    const before = standin.requests.length;
    const wide = `SELECT ${Array.from({ length: 12_000 }, (_, i) => `${i} AS c${i}`).join(', ')}`;
    const err = await wh.query(wide).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(
      /^Redshift failed running a query: SELECT 0 AS c0, .*… is \d+ bytes, more than the Data API's 102400-byte statement limit; nothing was sent$/,
    );
    expect(standin.requests.length).toBe(before);
    await wh.close();
  });
});

describe('Data API throttling', () => {
  it('a throttled poll is polled again; a throttled submission beyond the SDK’s retries is a transient error', async () => {
    const wh = open();
    const schema = `lo_${hex()}`;
    // More refusals than the SDK's own three attempts: the wait itself must carry on.
    standin.throttle('DescribeStatement', 5);
    expect(await wh.load(await requestFor(schema, [1]))).toMatchObject({ rowsLoaded: 1 });
    standin.throttle('BatchExecuteStatement', 10);
    const err = await wh.load(await requestFor(schema, [2])).catch((e) => e);
    standin.throttle('BatchExecuteStatement', 0);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toContain('Redshift Data API ThrottlingException: Rate exceeded');
    expect((err as WarehouseError).transient).toBe(true);
    expect(aslErrorName(err)).toBe('Highwater.Transient');
    await wh.close();
  });
});

describe('the Data API stand-in', () => {
  it('runs a request once per ClientToken: a repeat returns the first statement (idempotency, 8 hours)', async () => {
    const raw = client();
    const target = { Database: 'postgres', WorkgroupName: 'hw-test' };
    const token = `tok-${hex()}`;
    const before = standin.sqlLog.length;
    const a = await raw.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT 1', ClientToken: token }));
    const b = await raw.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT 1', ClientToken: token }));
    const c = await raw.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT 1', ClientToken: `${token}-2` }));
    expect(b.Id).toBe(a.Id);
    expect(c.Id).not.toBe(a.Id);
    expect(standin.sqlLog.length - before).toBe(2);
    const batch = { ...target, Sqls: ['SELECT 2'], ClientToken: `${token}-b` };
    const x = await raw.send(new BatchExecuteStatementCommand(batch));
    expect((await raw.send(new BatchExecuteStatementCommand(batch))).Id).toBe(x.Id);
  });
});
