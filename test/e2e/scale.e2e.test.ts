/**
 * Production scale, locally, within every Step Functions quota: a pipeline of several tables, each planned into more
 * than 5,000 chunks, runs end to end. Rows are tiny and `chunk_rows` is 1, so a modest table makes that many chunks.
 * Each table's chunk list is too long for its execution's history inline, so Plan stages it and a Distributed Map
 * runs each chunk as a child execution; the local runner counts every execution's history and measures every
 * payload as Step Functions would, and fails the run where AWS would.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES } from '../../lambdas/domain/quotas.js';
import { type ExecutionEnd, LocalExecutions } from '../../lambdas/local/orchestration/local-executions.js';
import { createHarness, type Harness } from '../support/harness.js';

const TABLES = 3;
const ROWS = 5_100;
let h: Harness;

beforeAll(async () => {
  h = await createHarness('scale');
  for (let t = 0; t < TABLES; t++) {
    await h.db.conn.query(`CREATE TABLE t${t} (id BIGINT NOT NULL PRIMARY KEY, v TINYINT NOT NULL)`);
    for (let from = 1; from <= ROWS; from += 1000) {
      const ids = Array.from(
        { length: Math.min(1000, ROWS - from + 1) },
        (_, i) => `(${from + i}, ${(from + i) % 100})`,
      );
      await h.db.conn.query(`INSERT INTO t${t} (id, v) VALUES ${ids.join(',')}`);
    }
  }
  const yaml = Array.from(
    { length: TABLES },
    (_, t) => `  ${h.db.database}.t${t}:\n    cdc_strategy: full_sync\n    full_sync_mode: replace\n    chunk_rows: 1`,
  );
  h.writePipeline(yaml.join('\n'), { maxInlineChunks: 100_000 });
});
afterAll(async () => h?.cleanup());

test(`${TABLES} tables of ${ROWS} chunks each run end to end within the payload and history quotas`, async () => {
  const ends: Pick<ExecutionEnd, 'kind' | 'status' | 'historyEvents' | 'largestPayload'>[] = [];
  const executions = new LocalExecutions({
    onExecutionEnd: ({ kind, status, historyEvents, largestPayload }) =>
      ends.push({ kind, status, historyEvents, largestPayload }),
  });
  const tables = Array.from({ length: TABLES }, (_, t) => `${h.db.database}.t${t}`);
  const started = Date.now();
  const report = await h.sync(tables, { maxWorkers: 16 }, { executions });
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `scale: ${TABLES * ROWS} chunks in ${seconds.toFixed(1)} s (${((TABLES * ROWS) / seconds).toFixed(1)} chunks/s)`,
  );

  expect(report.status, JSON.stringify(report.tables.map((t) => t.error))).toBe('success');
  expect(report.tables.map((t) => [t.status, t.rowsLoaded, t.files])).toEqual(
    tables.map(() => ['committed', ROWS, ROWS]),
  );
  // Every execution stayed within the quotas; each chunk ran as a child execution of its own, so a table
  // execution's history is a few dozen events whatever its size, and the sync execution's a few per table.
  expect(ends.every((e) => e.status === 'SUCCEEDED')).toBe(true);
  expect(Math.max(...ends.map((e) => e.historyEvents))).toBeLessThanOrEqual(MAX_HISTORY_EVENTS);
  expect(Math.max(...ends.map((e) => e.largestPayload))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  const of = (kind: ExecutionEnd['kind']) => ends.filter((e) => e.kind === kind);
  expect(of('map-child')).toHaveLength(TABLES * ROWS);
  expect(of('table')).toHaveLength(TABLES);
  for (const e of of('table')) expect(e.historyEvents).toBeLessThan(100);
  expect(of('sync')).toHaveLength(1);
  for (const t of tables) {
    const rows = await h.warehouseRows(`public.${t.split('.')[1]}`, 'id');
    expect(rows.length).toBe(ROWS);
  }
}, 3_600_000);
