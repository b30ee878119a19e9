/**
 * orchestration/report.ts on its own: the state machine's table outcomes become the report a local run prints
 * (with what its process saw) and a remote run prints (without), with exit codes from the error classes.
 */
import { describe, expect, it } from 'vitest';
import { TableOutcomeSchema } from '../../../lambdas/domain/manifests.js';
import { ExitCode, StagingError, WarehouseError } from '../../../lambdas/errors.js';
import {
  causeMessage,
  childExecutionError,
  exitCodeOfTables,
  failedExecutionOutcome,
  runResultOf,
  summaryTables,
  tableReport,
} from '../../../lambdas/orchestration/report.js';

const wm = { ts: '2026-12-01 10:00:00', id: '7' };
const failedOutcome = TableOutcomeSchema.parse({
  table: 'shop.orders',
  status: 'failed',
  run: { runId: 'r1', from: wm, columns: [] },
  error: { Error: 'WarehouseError', Cause: JSON.stringify({ errorType: 'WarehouseError', errorMessage: 'COPY x' }) },
  abortError: null,
});

describe('tableReport', () => {
  it("prefers the process's own error when it is the one Catch recorded: its message, code and suggestion", () => {
    const thrown = new WarehouseError('COPY into public.orders failed: password hunter2', {
      suggestion: 'check hunter2',
    });
    const seen = {
      bytes: 10,
      durationMs: 1200,
      failure: { name: 'WarehouseError', message: 'COPY into public.orders failed: password ***', original: thrown },
    };
    const r = tableReport(failedOutcome, seen, (t) => t.replaceAll('hunter2', '***'));
    expect(r).toMatchObject({
      status: 'failed',
      runId: 'r1',
      error: 'COPY into public.orders failed: password ***',
      suggestion: 'check ***',
      exitCode: ExitCode.warehouse,
      watermarkBefore: wm,
      bytes: 0,
      durationMs: 1200,
    });
  });

  it('falls back to the recorded error when the process saw a different one, and to its class by name', () => {
    const seen = {
      bytes: 0,
      durationMs: 5,
      failure: { name: 'StagingError', message: 'other', original: new StagingError('other') },
    };
    const r = tableReport(failedOutcome, seen);
    expect(r.error).toBe('WarehouseError: COPY x');
    expect(r.exitCode).toBe(ExitCode.warehouse);
    expect(r.suggestion).toBeNull();
  });

  it('names a failed Abort next to the error, and a name that is no Highwater class is a data error', () => {
    const o = TableOutcomeSchema.parse({
      table: 't',
      status: 'failed',
      run: null,
      error: { Error: 'States.TaskFailed', Cause: 'boom' },
      abortError: { Error: 'Error', Cause: 'state store gone' },
    });
    const r = tableReport(o, null);
    expect(r.error).toBe('States.TaskFailed: boom (and Abort failed: state store gone)');
    expect(r.exitCode).toBe(ExitCode.data);
    expect(r.bytes).toBeNull();
    expect(r.durationMs).toBeNull();
  });

  it('reports a staged backup-only run with its chunk count as files, and a skipped table with its reason', () => {
    const staged = TableOutcomeSchema.parse({
      table: 't',
      status: 'staged',
      runId: 'r2',
      watermarkBefore: wm,
      watermarkAfter: wm,
      rowsExtracted: 5,
      rowsLoaded: 0,
      chunks: 3,
      load: null,
      warnings: ['a warning'],
    });
    expect(tableReport(staged, null)).toMatchObject({ status: 'staged', files: 3, warnings: ['a warning'] });
    const skipped = TableOutcomeSchema.parse({ table: 't', status: 'skipped', skipped: 'no new rows' });
    expect(tableReport(skipped, null)).toMatchObject({ status: 'skipped', runId: null, skipped: 'no new rows' });
  });
});

describe('a verification after the commit', () => {
  const committed = {
    table: 't',
    status: 'committed',
    runId: 'r3',
    watermarkBefore: wm,
    watermarkAfter: wm,
    rowsExtracted: 1,
    rowsLoaded: 1,
    chunks: 1,
    load: null,
  };
  it('that failed is a warning on a committed table, with its error, never a failure', () => {
    const o = TableOutcomeSchema.parse({
      ...committed,
      verifyError: { Error: 'States.Timeout', Cause: 'Task timed out after 900 seconds' },
    });
    const r = tableReport(o, null);
    expect(r).toMatchObject({ status: 'committed', exitCode: ExitCode.ok, verification: null });
    expect(r.warnings).toEqual(['verification failed: States.Timeout: Task timed out after 900 seconds']);
  });

  it('that found differences names them and the repair command', () => {
    const verification = {
      table: 't',
      at: '2026-12-04T10:00:00.000Z',
      equal: false,
      rows: { source: 5, warehouse: 5 },
      missing: 0,
      extra: 1,
      changed: 2,
      pending: 0,
      durationMs: 10,
      afterRepair: false,
    };
    const r = tableReport(TableOutcomeSchema.parse({ ...committed, verification }), null);
    expect(r.verification).toEqual(verification);
    expect(r.warnings[0]).toMatch(
      /differs from the source \(0 missing, 1 extra, 2 changed\): `highwater verify -t t --repair`/,
    );
  });
});

describe('run result and exit code', () => {
  const t = (status: 'committed' | 'failed', exitCode: number) => ({ status, exitCode });
  it('is success, partial or failed, with the first failed table deciding the code when all failed', () => {
    expect(runResultOf([t('committed', 0)])).toBe('success');
    expect(exitCodeOfTables([t('committed', 0), t('failed', 6)])).toBe(ExitCode.partial);
    expect(exitCodeOfTables([t('failed', 5), t('failed', 6)])).toBe(ExitCode.staging);
    expect(exitCodeOfTables([t('failed', 0)])).toBe(ExitCode.data);
  });
});

describe('summaryTables', () => {
  it("reads the sync execution's per-table summaries (Done or Summarize output, value or JSON), and nothing else", () => {
    const tables = [{ table: 't', status: 'skipped', execution: 'arn:aws:states:x:1:execution:t:1', error: null }];
    expect(summaryTables({ tables })).toHaveLength(1);
    expect(summaryTables(JSON.stringify({ tables, report: '[]' }))).toHaveLength(1);
    expect(summaryTables(JSON.stringify(tables))).toHaveLength(1);
    expect(summaryTables('not json')).toBeNull();
    expect(summaryTables([{ aborted: true }])).toBeNull();
  });

  it("unwraps a failed table execution's own error from the startExecution.sync failure, and its outcome", () => {
    const wrapped = {
      Error: 'States.TaskFailed',
      Cause: JSON.stringify({
        ExecutionArn: 'a',
        Status: 'FAILED',
        Error: 'States.DataLimitExceeded',
        Cause: 'too big',
      }),
    };
    expect(childExecutionError(wrapped)).toEqual({ Error: 'States.DataLimitExceeded', Cause: 'too big' });
    expect(
      childExecutionError({
        Error: 'States.TaskFailed',
        Cause: JSON.stringify({ ExecutionArn: 'a', Status: 'TIMED_OUT' }),
      }),
    ).toEqual({ Error: 'ExecutionTIMED_OUT', Cause: 'the table execution ended TIMED_OUT' });
    expect(childExecutionError({ Error: 'ConfigError', Cause: 'x' })).toEqual({ Error: 'ConfigError', Cause: 'x' });
    const o = failedExecutionOutcome(
      { table: 't', status: 'failed', execution: null, error: wrapped },
      { runId: 'r1' },
    );
    expect(tableReport(o, null)).toMatchObject({
      table: 't',
      status: 'failed',
      runId: 'r1',
      error: 'States.DataLimitExceeded: too big',
      exitCode: ExitCode.data,
    });
  });

  it("takes a Lambda error's message from its JSON Cause, and any other Cause as it is", () => {
    expect(causeMessage(JSON.stringify({ errorType: 'X', errorMessage: 'm' }))).toBe('m');
    expect(causeMessage('plain')).toBe('plain');
    expect(causeMessage('')).toBeNull();
  });
});
