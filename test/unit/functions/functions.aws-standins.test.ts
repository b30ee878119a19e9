/**
 * The Lambda entry points in lambdas/functions/, invoked the way the state machine's lambda:invoke tasks invoke
 * them (the event is the step's Payload), against a real configuration: a temp config dir in multi-connection
 * mode, the private MariaDB as the source, and the AWS adapters on their stand-ins (S3 on fauxqs, DynamoDB Local,
 * the Redshift Data API stand-in over PostgreSQL) — a Lambda's runtime has no other adapters.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ZodError } from 'zod';
import type { ChunkResult, CommitOutput, LoadOutput, PlanOutput } from '../../../lambdas/domain/manifests.js';
import { ConfigError } from '../../../lambdas/errors.js';
import { createOrders, insertOrders, T1, T2 } from '../../e2e/fixtures.js';
import { type AwsStandins, startAwsStandins } from '../../support/aws-standins.js';
import { createHarness, type Harness } from '../../support/harness.js';

type Handler = (event: unknown, context?: { getRemainingTimeInMillis(): number }) => Promise<unknown>;
interface Functions {
  plan: Handler;
  extract: Handler;
  load: Handler;
  commit: Handler;
  abort: Handler;
  close: () => Promise<void>;
  parseFunctionEnv: typeof import('../../../lambdas/functions/env.js').parseFunctionEnv;
}

let aws: AwsStandins;
let h: Harness;
let fn: Functions;
let table: string;
const saved = { ...process.env };

/** Everything written to stdout and stderr while `body` runs (Powertools logs and EMF metrics are JSON lines). */
async function captureOutput<T>(body: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const chunks: string[] = [];
  const sink = (c: string | Uint8Array) => {
    chunks.push(typeof c === 'string' ? c : Buffer.from(c).toString('utf8'));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(sink),
    vi.spyOn(process.stderr, 'write').mockImplementation(sink),
  ];
  try {
    const result = await body();
    return { result, lines: parseJsonLines(chunks.join('')) };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

function parseJsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of text.split('\n')) {
    if (!l.trim().startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not a JSON log line
    }
  }
  return out;
}

beforeAll(async () => {
  aws = await startAwsStandins();
  h = await createHarness('fn', aws);
  await createOrders(h);
  table = `${h.db.database}.orders`;
  h.writePipeline(
    `  ${table}:\n    cdc_strategy: hybrid\n    cdc_timestamp_column: updated_at\n    cdc_id_column: id\n    chunk_rows: 3\n    lag: 0`,
  );
  await insertOrders(h, [1, 2, 3, 4, 5, 6, 7], T1);
  // The functions read their environment once, at module scope: set it before the first import.
  process.env.HIGHWATER_CONFIG_DIR = h.configDir;
  process.env.HIGHWATER_HOME = h.home;
  process.env.POWERTOOLS_SERVICE_NAME = 'highwater-test';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'HighwaterTest';
  fn = {
    plan: (await import('../../../lambdas/functions/plan.js')).handler,
    extract: (await import('../../../lambdas/functions/extract.js')).handler,
    load: (await import('../../../lambdas/functions/load.js')).handler,
    commit: (await import('../../../lambdas/functions/commit.js')).handler,
    abort: (await import('../../../lambdas/functions/abort.js')).handler,
    close: (await import('../../../lambdas/runtime/aws.js')).closeContainerRuntime,
    parseFunctionEnv: (await import('../../../lambdas/functions/env.js')).parseFunctionEnv,
  };
});

afterEach(() => vi.restoreAllMocks());

afterAll(async () => {
  await fn?.close();
  process.env = saved;
  await h?.cleanup();
  await aws?.stop();
});

describe('Lambda functions', () => {
  it('run plan → extract → load → commit on a tiny table and return each step output as the Payload', async () => {
    // Prepare / Act: the events the state machine passes, built from the previous steps' outputs.
    const planned = (await fn.plan({ pipeline: 'test', table, options: {} })) as PlanOutput;
    expect(planned.skipped).toBeNull();
    expect(planned.chunks.length).toBe(3);
    const run = planned.run!;
    expect(run.table).toBe(table);

    const extracted = await captureOutput(async () => {
      const out: ChunkResult[] = [];
      for (const chunk of planned.chunks) out.push((await fn.extract({ run, chunk })) as ChunkResult);
      return out;
    });
    const chunks = extracted.result;
    expect(chunks.map((c) => c.rows)).toEqual([3, 3, 1]);
    const chunkMetrics = extracted.lines.filter((l) => 'ChunkRows' in l);
    expect(chunkMetrics.map((m) => [m.table, m.ChunkRows])).toEqual([
      [table, 3],
      [table, 3],
      [table, 1],
    ]);
    expect(extracted.lines.some((l) => l.message === 'ExtractChunk done' && l.service === 'highwater-test')).toBe(true);

    const loaded = (await fn.load({ run, chunks })) as LoadOutput;
    expect(loaded).toMatchObject({ rowsLoaded: 7, files: 3 });

    const committed = await captureOutput(async () => (await fn.commit({ run, load: loaded })) as CommitOutput);
    // Assess: the watermark moved, the warehouse has the rows, and RowsSynced was emitted for the table.
    expect(committed.result).toMatchObject({ status: 'committed', rowsLoaded: 7, watermark: { id: '7' } });
    const synced = committed.lines.find((l) => 'RowsSynced' in l);
    expect(synced).toMatchObject({ table, RowsSynced: 7 });
    const emf = (synced as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] } })._aws;
    expect(emf.CloudWatchMetrics[0]!.Namespace).toBe('HighwaterTest');
    expect(emf.CloudWatchMetrics[0]!.Dimensions[0]).toContain('table');
    expect((await h.warehouseRows('public.orders', 'id')).map((r) => String(r.id))).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
    ]);

    // A second plan finds nothing new: the same runtime is reused across invocations.
    const again = (await fn.plan({ pipeline: 'test', table, options: {} })) as PlanOutput;
    expect(again.run).toBeNull();
    expect(again.skipped).not.toBeNull();
  });

  it('an extract near its Lambda deadline records its part (DynamoDB, S3) and returns the rest; each invocation meters its own rows', async () => {
    await h.db.conn.query("INSERT INTO orders SELECT seq, CONCAT('order ', seq), NULL, ?, 0 FROM seq_8_to_300", [T2]);
    const planned = (await fn.plan({ pipeline: 'test', table, options: {} })) as PlanOutput;
    const run = planned.run!;
    // Lambda's clock, as this test runs it: 200 s pass each time the function asks how much time it has left.
    const context = () => {
      let left = 1_000_000;
      return { getRemainingTimeInMillis: () => (left -= 200_000) };
    };
    // The whole window as one chunk (index 0), so that it is long enough to be cut.
    let chunk: ChunkResult['rest'] = { index: 0, lower: null, upper: null };
    const captured = await captureOutput(async () => {
      const out: ChunkResult[] = [];
      while (chunk !== null) {
        const r = (await fn.extract({ run, chunk }, context())) as ChunkResult;
        out.push(r);
        chunk = r.rest;
      }
      return out;
    });
    const parts = captured.result;
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.at(-1)!.rows).toBe(293);
    const perInvocation = parts.map((p, i) => p.rows - (i === 0 ? 0 : parts[i - 1]!.rows));
    expect(captured.lines.filter((l) => 'ChunkRows' in l).map((m) => m.ChunkRows)).toEqual(perInvocation);

    const rt = await h.runtime();
    try {
      const ledger = (await (await rt.state(rt.pipeline('test'))).getRun(run.runId))!.chunks;
      expect(ledger.map((c) => c.part ?? 0)).toEqual(parts.map((_, i) => i));
      expect(ledger.map((c) => c.rows)).toEqual(perInvocation);
      for (const [i, c] of ledger.entries()) {
        if (i > 0) expect(c.after).toEqual(ledger[i - 1]!.through);
        expect(c.key).toBe(parts[i]!.key);
        expect(c.key.endsWith(i === 0 ? '/chunk-00000.parquet' : `/chunk-00000-p000${i}.parquet`)).toBe(true);
      }
      expect(ledger.at(-1)!.through).toBeUndefined();
    } finally {
      await rt.close();
    }
    // A step with no time left reads nothing: ChunkDeadlineError, by name, which the state machine does not retry.
    const err = await fn
      .extract({ run, chunk: { index: 1, lower: null, upper: null } }, { getRemainingTimeInMillis: () => 0 })
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('ChunkDeadlineError');
    await fn.abort({ run, error: { Error: 'Test', Cause: 'the parts were checked' } });
  });

  it('refuses an event without a table with a ZodError naming the field, logs it and rethrows it as-is', async () => {
    const { lines, result } = await captureOutput(async () =>
      fn.plan({ pipeline: 'test', options: {} }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(result).toBeInstanceOf(ZodError);
    expect((result as ZodError).issues.map((i) => i.path.join('.'))).toContain('table');
    const logged = lines.find((l) => l.message === 'Plan failed');
    expect(logged).toMatchObject({ level: 'ERROR', step: 'Plan', errorName: 'ZodError' });
  });

  it('refuses a bad table name with a ConfigError naming it', async () => {
    const err = await fn.plan({ pipeline: 'test', table: 'no-dot', options: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('"no-dot"');
    expect((err as Error).name).toBe('ConfigError');
  });

  it('refuses an extract event whose chunk is missing, naming chunk', async () => {
    const err = await fn.extract({ run: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZodError);
    expect((err as ZodError).issues.map((i) => i.path[0])).toEqual(expect.arrayContaining(['run', 'chunk']));
  });

  it('the Abort function also takes an execution status change (the reaper): the runs of that execution end failed, their lease released', async () => {
    const execution = 'arn:aws:states:us-east-1:123456789012:execution:highwater-table:dead-1';
    await insertOrders(h, [301], T1.replace('00:00:00', '00:00:01'));
    const planned = (await fn.plan({ pipeline: 'test', table, options: {}, adhoc: null, execution })) as PlanOutput;
    const run = planned.run!;
    const event = {
      version: '0',
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: {
        executionArn: execution,
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:highwater-table',
        name: 'dead-1',
        status: 'TIMED_OUT',
        input: JSON.stringify({ pipeline: 'test', table, options: {}, adhoc: null }),
        inputDetails: { included: true },
      },
    };
    const { result, lines } = await captureOutput(() => fn.abort(event));
    expect(result).toEqual({
      execution,
      status: 'TIMED_OUT',
      reaped: [{ runId: run.runId, table: run.table, failed: true }],
    });
    expect(lines.some((l) => l.message === 'Reap done')).toBe(true);
    const rt = await h.runtime();
    try {
      const state = await rt.state(rt.pipeline('test'));
      expect(await state.getLease(run.tableKey)).toBeUndefined();
      const record = await state.getRun(run.runId);
      expect(record).toMatchObject({ status: 'failed' });
      expect(record!.plan?.execution).toBe(execution);
      expect(record!.error).toContain(`the table execution ${execution} ended TIMED_OUT`);
    } finally {
      await rt.close();
    }
    // The same event again finds nothing left to end.
    expect(await fn.abort(event)).toEqual({ execution, status: 'TIMED_OUT', reaped: [] });
  });

  it('abort with no run reports the error and changes nothing', async () => {
    const out = await fn.abort({ run: null, error: { Error: 'ConnectionError', Cause: 'refused' } });
    expect(out).toEqual({ aborted: false, error: 'ConnectionError: refused' });
  });

  it('parseFunctionEnv applies the Lambda defaults and names a bad variable without its value', () => {
    expect(fn.parseFunctionEnv({})).toMatchObject({
      HIGHWATER_CONFIG_DIR: '/var/task/config',
      HIGHWATER_HOME: '/tmp/highwater',
      POWERTOOLS_SERVICE_NAME: 'highwater',
    });
    const err = (() => {
      try {
        fn.parseFunctionEnv({ POWERTOOLS_LOG_LEVEL: 'LOUD-s3cret' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('POWERTOOLS_LOG_LEVEL');
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('forgets a runtime whose build failed and builds it again on the next invocation', async () => {
    // Prepare: a fresh module instance whose config dir sits next to an unreadable .env (a directory).
    const dir = mkdtempSync(join(tmpdir(), 'hw-fn-'));
    mkdirSync(join(dir, '.env'));
    const env = { ...process.env };
    process.env.HIGHWATER_CONFIG_DIR = join(dir, 'config');
    process.env.HIGHWATER_HOME = join(dir, 'home');
    vi.resetModules();
    try {
      const fresh = await import('../../../lambdas/runtime/aws.js');
      const settings = { configDir: join(dir, 'config'), home: join(dir, 'home') };
      // Act / Assess: the first build fails with a ConfigError naming the file, the second succeeds.
      const err = await fresh.containerRuntime(settings).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('ConfigError');
      expect((err as Error).message).toContain(join(dir, '.env'));
      rmSync(join(dir, '.env'), { recursive: true });
      const rt = await fresh.containerRuntime(settings);
      expect(rt.config.configDir).toBe(join(dir, 'config'));
      expect(await fresh.containerRuntime(settings)).toBe(rt);
      await fresh.closeContainerRuntime();
    } finally {
      process.env = env;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
