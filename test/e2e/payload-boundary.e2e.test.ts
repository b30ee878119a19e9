/**
 * Plan puts a chunk list in the state only while the table execution's largest state stays within Step Functions'
 * payload quota (lambdas/engine/state-budget.ts), whatever `max_inline_chunks` allows. The issue's case: a wide table
 * (40 columns) with a two-part key, whose chunk specs are long. The boundary is found by the same budget Plan uses;
 * a table at the boundary runs inline and every state of its execution stays within 262,144 bytes (the local
 * runner fails it otherwise), close to the quota; two chunks more and the list is staged for the Distributed Map.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PlanOutput } from '../../lambdas/domain/manifests.js';
import { MAX_PAYLOAD_BYTES, payloadBytes } from '../../lambdas/domain/quotas.js';
import { chooseChunkPath, TABLE_STATE_MARGIN_BYTES } from '../../lambdas/engine/state-budget.js';
import { type ExecutionEnd, LocalExecutions } from '../../lambdas/local/orchestration/local-executions.js';
import { localExecutionArn } from '../../lambdas/local/orchestration/local-machine.js';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { createHarness, type Harness } from '../support/harness.js';

/**
 * The second key part is long (InnoDB allows 3,072 bytes of key), so that the payload, not the history, bounds the
 * inline list, and the boundary comes after a few dozen chunks: the test stays lean.
 */
const KEY_CHARS = 3000;
let h: Harness;

beforeAll(async () => {
  h = await createHarness('wide');
});
afterAll(async () => h.cleanup());

async function createWide(name: string, rows: number): Promise<void> {
  const others = Array.from({ length: 38 }, (_, i) => `c${String(i + 1).padStart(2, '0')} INT NULL`).join(',\n    ');
  await h.db.conn.query(`CREATE TABLE ${name} (
    id BIGINT NOT NULL,
    k VARCHAR(${KEY_CHARS}) CHARACTER SET ascii NOT NULL,
    ${others},
    PRIMARY KEY (id, k)
  )`);
  const values = Array.from({ length: rows }, (_, i) => `(${i + 1}, '${`k${i + 1}`.padEnd(KEY_CHARS, 'k')}')`);
  await h.db.conn.query(`INSERT INTO ${name} (id, k) VALUES ${values.join(',')}`);
}

const tableYaml = (name: string) =>
  `  ${h.db.database}.${name}:\n    cdc_strategy: full_sync\n    full_sync_mode: replace\n    chunk_rows: 1`;

test('a 40-column table with a two-part key runs inline up to the payload boundary, and staged beyond it', async () => {
  const a = `${h.db.database}.wide_a`;
  const b = `${h.db.database}.wide_b`;
  await createWide('wide_a', 60);
  await createWide('wide_b', 60);
  h.writePipeline(`${tableYaml('wide_a')}\n${tableYaml('wide_b')}`, { maxInlineChunks: 100_000 });

  // Find the boundary with Plan's own budget, on Plan's own output for wide_a (as the state machine would call it).
  const input = {
    pipeline: 'test',
    table: a,
    options: { maxWorkers: 4, backupOnly: false, redshiftOnly: false, dryRun: false, resync: false },
    adhoc: null,
    execution: localExecutionArn('highwater-table', randomUUID()),
  };
  const rt = await h.runtime();
  let boundary = 0;
  try {
    const probe = await stepHandlers.plan(input, rt);
    expect(probe.stagedChunks, 'the probe must be beyond the boundary').not.toBeNull();
    const staging = await rt.staging(rt.pipeline('test'));
    const all = (await staging.getJson(probe.stagedChunks!.key)) as PlanOutput['chunks'];
    for (let n = 1; n <= all.length; n++) {
      const output = { ...probe, chunks: all.slice(0, n), chunkCount: n, stagedChunks: null };
      if (!chooseChunkPath({ input, output, chunks: n, maxInlineChunks: 100_000 }).inline) break;
      boundary = n;
    }
    await stepHandlers.abort({ run: probe.run, error: { Error: 'probe' } }, rt);
  } finally {
    await rt.close();
  }
  expect(boundary).toBeGreaterThan(20);
  // The boundary is set by bytes, long before the history budget (~1,550 chunks) or max_inline_chunks.
  expect(boundary).toBeLessThan(58);

  // wide_a: exactly the boundary; wide_b (a name as long): two rows more.
  await h.db.conn.query('DELETE FROM wide_a WHERE id > ?', [boundary]);
  await h.db.conn.query('DELETE FROM wide_b WHERE id > ?', [boundary + 2]);
  const plans = new Map<string, PlanOutput>();
  const handlers: StepHandlers = {
    ...stepHandlers,
    async plan(i, r, step) {
      const out = await stepHandlers.plan(i, r, step);
      if (out.run) plans.set(out.run.table, out);
      return out;
    },
  };
  const ends: ExecutionEnd[] = [];
  const executions = new LocalExecutions({ onExecutionEnd: (e) => ends.push(e) });
  const report = await h.sync([a, b], { maxWorkers: 4 }, { handlers, executions });
  expect(report.status, JSON.stringify(report.tables.map((t) => t.error))).toBe('success');
  expect(report.tables.map((t) => [t.table, t.status, t.rowsLoaded])).toEqual([
    [a, 'committed', boundary],
    [b, 'committed', boundary + 2],
  ]);
  expect(plans.get(a)).toMatchObject({ chunkCount: boundary, stagedChunks: null });
  expect(plans.get(a)!.chunks).toHaveLength(boundary);
  expect(plans.get(b)).toMatchObject({ chunkCount: boundary + 2, chunks: [] });
  expect(plans.get(b)!.stagedChunks).not.toBeNull();

  // wide_a's table execution came within a chunk spec or two of what the budget allows, and stayed inside it.
  const tables = ends.filter((e) => e.kind === 'table');
  expect(tables).toHaveLength(2);
  const spec = payloadBytes(plans.get(a)!.chunks[1]);
  const inline = tables.find((e) => e.largestPayload > MAX_PAYLOAD_BYTES / 2)!;
  expect(inline.largestPayload).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES - TABLE_STATE_MARGIN_BYTES);
  expect(inline.largestPayload).toBeGreaterThan(MAX_PAYLOAD_BYTES - TABLE_STATE_MARGIN_BYTES - 4 * spec);
  // wide_b's list never entered a state; its chunks ran as child executions of their own.
  expect(tables.every((e) => e.largestPayload <= MAX_PAYLOAD_BYTES)).toBe(true);
  expect(ends.filter((e) => e.kind === 'map-child')).toHaveLength(boundary + 2);
}, 600_000);
