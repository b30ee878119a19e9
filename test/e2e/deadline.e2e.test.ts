/**
 * Chunks sized to finish: an extract step that nears its deadline stops at a key boundary, records the part it
 * wrote and hands the rest of its range back, and the state machine runs the rest as the chunk's next part — on
 * the inline Map and on the Distributed Map — until the table has arrived whole. Real MariaDB tables, the local
 * state machine, local staging, SQLite and DuckDB.
 *
 * The deadline is a StepContext from deadlineIn() on a clock that moves 100 s each time it is read, so where a
 * step stops depends on how often it looks (every DEADLINE_CHECK_ROWS rows), never on how fast this machine is.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { RunEvent } from '../../lambdas/domain/manifests.js';
import type { ChunkRecord } from '../../lambdas/domain/records.js';
import { type StepHandlers, stepHandlers } from '../../lambdas/local/orchestration/step-handlers.js';
import { deadlineIn, type StepContext } from '../../lambdas/ports/step-context.js';
import { createHarness, type Harness } from '../support/harness.js';
import { createOrders, expectInStep, T1, T2 } from './fixtures.js';

/** 1,000 s of step time on a clock that advances 100 s per reading: a step reads a few hundred rows. */
function tickingDeadline(): StepContext {
  let t = 0;
  return deadlineIn(1_000_000, () => {
    t += 100_000;
    return t;
  });
}

function handlersWith(step: () => StepContext): StepHandlers {
  return { ...stepHandlers, extract: (input, rt) => stepHandlers.extract(input, rt, step()) };
}

/** The ledger's records of a run, grouped by planned chunk. */
async function ledgerChunks(h: Harness, runId: string): Promise<Map<number, ChunkRecord[]>> {
  const rt = await h.runtime();
  try {
    const run = await (await rt.state(rt.pipeline('test'))).getRun(runId);
    const byIndex = new Map<number, ChunkRecord[]>();
    for (const c of run?.chunks ?? []) byIndex.set(c.index, [...(byIndex.get(c.index) ?? []), c]);
    return byIndex;
  } finally {
    await rt.close();
  }
}

/** Every row of both sides, as sorted text: the warehouse holds exactly the source's rows. */
async function expectSameRows(h: Harness, table: string, columns: string[]): Promise<void> {
  const list = columns.join(', ');
  const [source] = await h.db.conn.query(`SELECT ${list} FROM ${table} ORDER BY ${list}`);
  const warehouse = await h.warehouseRows(`public.${table}`, list);
  const text = (rows: Record<string, unknown>[]) => rows.map((r) => columns.map((c) => String(r[c])).join('|'));
  const expected = text(source as Record<string, unknown>[]);
  expect(expected.length).toBeGreaterThan(0);
  expect(text(warehouse)).toEqual(expected);
}

describe('an extract that nears its deadline hands the rest of its chunk back', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness('deadline');
  });
  afterEach(async () => h.cleanup());

  test('inline Map, composite key: the table arrives whole; the ledger holds contiguous parts', async () => {
    const t = `${h.db.database}.events`;
    await h.db.conn.query(`CREATE TABLE events (
      tenant VARCHAR(8) NOT NULL,
      seq INT NOT NULL,
      payload VARCHAR(40) NOT NULL,
      PRIMARY KEY (tenant, seq)
    )`);
    // 2,700 rows over three tenants: key ranges and stops fall inside and across tenants.
    await h.db.conn.query(
      `INSERT INTO events SELECT ELT(1 + seq % 3, 'acme', 'bolt', 'core'), seq, CONCAT('event ', seq)
       FROM seq_1_to_2700`,
    );
    h.writePipeline(`  ${t}:\n    cdc_strategy: full_sync\n    chunk_rows: 1000`);
    const events: RunEvent[] = [];
    const report = await h.sync([t], {}, { handlers: handlersWith(tickingDeadline), onEvent: (e) => events.push(e) });
    const r = report.tables[0]!;
    expect(report.status, JSON.stringify(report)).toBe('success');
    expect(r).toMatchObject({ status: 'committed', rowsExtracted: 2700, rowsLoaded: 2700 });

    const chunks = await ledgerChunks(h, r.runId!);
    expect([...chunks.keys()].sort()).toEqual([0, 1, 2]);
    for (const [index, parts] of chunks) {
      // Each planned chunk was read in more than one step, its parts one after another.
      expect(parts.length, `chunk ${index}`).toBeGreaterThan(1);
      expect(parts.map((p) => p.part ?? 0)).toEqual(parts.map((_, i) => i));
      for (const [i, p] of parts.entries()) {
        if (i > 0) expect(p.after).toEqual(parts[i - 1]!.through);
        expect(p.through === undefined).toBe(i === parts.length - 1);
        if (p.through) expect(p.through).toHaveLength(2);
      }
    }
    const records = [...chunks.values()].flat();
    expect(records.reduce((n, c) => n + c.rows, 0)).toBe(2700);
    expect(r.files).toBe(records.length);
    // Progress counts planned chunks, not parts.
    expect(events.filter((e) => e.type === 'chunk-done').map((e) => e.type === 'chunk-done' && e.total)).toEqual([
      3, 3, 3,
    ]);
    await expectSameRows(h, 'events', ['tenant', 'seq', 'payload']);
  });

  test('Distributed Map, hybrid window: parts across two runs keep the window exact', async () => {
    const t = `${h.db.database}.orders`;
    await createOrders(h);
    const insert = (from: number, to: number, ts: string) =>
      h.db.conn.query(
        `INSERT INTO orders SELECT seq, CONCAT('order ', seq), seq + 0.25, ?, UNIX_TIMESTAMP(?)
         FROM seq_${from}_to_${to}`,
        [ts, ts],
      );
    await insert(1, 1200, T1);
    h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 500\n    lag: 0`, { maxInlineChunks: 2 });
    const handlers = handlersWith(tickingDeadline);
    const first = await h.sync([t], {}, { handlers });
    expect(first.status, JSON.stringify(first)).toBe('success');
    expect(first.tables[0]).toMatchObject({ rowsLoaded: 1200 });
    const chunks = await ledgerChunks(h, first.tables[0]!.runId!);
    expect(chunks.size).toBe(3);
    expect([...chunks.values()].some((parts) => parts.length > 1)).toBe(true);
    expect(first.tables[0]!.files).toBe([...chunks.values()].flat().length);
    expect(await h.watermark(t)).toEqual({ ts: T1, id: '1200' });

    // Changed rows spread over the key space and new rows, read by the next run in parts again.
    await h.db.conn.query(
      "UPDATE orders SET name = CONCAT('changed ', id), updated_at = ?, updated_unix = UNIX_TIMESTAMP(?) WHERE id % 7 = 0",
      [T2, T2],
    );
    await insert(1201, 1500, T2);
    const second = await h.sync([t], {}, { handlers });
    expect(second.status, JSON.stringify(second)).toBe('success');
    expect(second.tables[0]).toMatchObject({ rowsExtracted: 171 + 300 });
    expect(await h.watermark(t)).toEqual({ ts: T2, id: '1500' });
    await expectInStep(h);
  });

  test('a step with no time left reads nothing and fails the run with ChunkDeadlineError, never retried', async () => {
    const t = `${h.db.database}.orders`;
    await createOrders(h);
    await h.db.conn.query("INSERT INTO orders SELECT seq, CONCAT('order ', seq), NULL, ?, 0 FROM seq_1_to_20", [T1]);
    h.writePipeline(`  ${t}:\n    cdc_strategy: hybrid\n    chunk_rows: 10\n    lag: 0`);
    const events: RunEvent[] = [];
    const report = await h.sync(
      [t],
      {},
      { handlers: handlersWith(() => deadlineIn(0)), onEvent: (e) => events.push(e) },
    );
    const r = report.tables[0]!;
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/chunk \d .*within its 0 ms safety margin, before reading any row/);
    expect(r.exitCode).toBe(4);
    expect(events.filter((e) => e.type === 'retry')).toEqual([]);
    expect(await h.watermark(t)).toBeUndefined();
  });

  test('a range that cannot be cut at a key (no primary key) fails clearly at its deadline', async () => {
    const t = `${h.db.database}.log_lines`;
    await h.db.conn.query('CREATE TABLE log_lines (line VARCHAR(40) NOT NULL)');
    await h.db.conn.query("INSERT INTO log_lines SELECT CONCAT('line ', seq) FROM seq_1_to_1000");
    h.writePipeline(`  ${t}:\n    cdc_strategy: full_sync`);
    const report = await h.sync([t], {}, { handlers: handlersWith(tickingDeadline) });
    const r = report.tables[0]!;
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(
      /chunk 0 .*deadline came after \d+ rows, and a table without a primary key cannot be continued/,
    );
    expect(r.exitCode).toBe(4);
  });
});
