/**
 * What `highwater status` reports, gathered without writing anything: for each table of a pipeline the
 * watermark, the last run (and the warnings of the last planned one), how far the source is ahead of the
 * watermark, and when the schedule fires next. A local state file that does not exist yet is not created.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { VerificationRecord } from '../../domain/manifests.js';
import {
  describeSchedule,
  getTableConfig,
  type LoadedConfig,
  nextFireTime,
  type PipelineConfig,
  parseSchedule,
  type TableConfig,
} from '../../engine/config/index.js';
import { computeLag, type Lag, lagCursor } from '../../engine/config/lag.js';
import { parseTableKey, pipelineTableParts, tableKey } from '../../engine/naming.js';
import { qualifiedMysql, quoteMysql } from '../../engine/sql.js';
import { ConfigError, ConnectionError, HighwaterError } from '../../errors.js';
import type { RunRecord, SourceReader, StateStore, WatermarkRecord } from '../../ports/index.js';
import type { Runtime } from '../../ports/runtime.js';

const MaxRow = z.object({ m: z.union([z.string(), z.number(), z.bigint(), z.null()]) });

export interface TableStatus {
  table: string;
  strategy: string;
  watermark: WatermarkRecord['watermark'] | null;
  watermarkUpdatedAt: string | null;
  lastRun: { runId: string; status: string; at: string; rows: number } | null;
  lag: Lag | { state: 'source-unreachable' | 'unknown'; text: string };
  /** Rows with a NULL cursor the last planned run read again (null: unknown, or the cursor cannot be NULL). */
  nullCursorRows: number | null;
  /** The last planned run's warnings: schema changes, a held watermark, NULL cursors, a missing grant. */
  warnings: string[];
  /** The last `highwater verify` of the table (null: never verified, or staging unreadable). */
  verification: VerificationRecord | null;
}

export interface PipelineStatus {
  pipeline: string;
  source: string;
  target: string;
  file: string;
  schedule: { expression: string; description: string; next: string | null; note?: string } | null;
  /** What could not be read: no state yet, the state store or the source unreachable. */
  notes: string[];
  /** False when the state store could not be read: watermarks and runs are unknown, not absent. */
  stateRead: boolean;
  tables: TableStatus[];
}

async function verificationOf(rt: Runtime, p: PipelineConfig, key: string): Promise<VerificationRecord | null> {
  try {
    const [last] = await (await rt.state(p)).listVerifications(key, 1);
    return last ?? null;
  } catch (e) {
    if (e instanceof HighwaterError) return null;
    throw e;
  }
}

/** The tables to report: the pipeline's listed tables, plus any the state knows for it (on-the-fly default tables). */
function tablesOf(p: PipelineConfig, watermarks: WatermarkRecord[]): TableConfig[] {
  const out = new Map<string, TableConfig>();
  for (const t of p.tables) out.set(t.name.toLowerCase(), t);
  for (const w of watermarks) {
    const k = parseTableKey(w.tableKey);
    if (k.pipeline !== p.name || k.source !== p.source.name || k.target !== p.target.name) continue;
    if (out.has(k.table.toLowerCase())) continue;
    try {
      out.set(k.table.toLowerCase(), getTableConfig(p, k.table));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e; // a table no longer in the pipeline: not reported
    }
  }
  return [...out.values()];
}

function stateExists(cfg: LoadedConfig, p: PipelineConfig): boolean {
  return p.state.type !== 'local' || existsSync(resolve(cfg.home, p.state.path));
}

async function sourceMax(src: SourceReader, t: TableConfig): Promise<string | null> {
  const cursor = lagCursor(t);
  if (!cursor) return null;
  const sql = `SELECT MAX(${quoteMysql(cursor.column)}) AS m FROM ${qualifiedMysql(t.sourceSchema, t.sourceTable)}`;
  const [row] = await src.query(sql);
  const m = MaxRow.parse(row ?? { m: null }).m;
  return m === null ? null : String(m);
}

export async function pipelineStatus(rt: Runtime, p: PipelineConfig, now: Date): Promise<PipelineStatus> {
  const status: PipelineStatus = {
    pipeline: p.name,
    source: p.source.name,
    target: p.target.name,
    file: p.origin,
    schedule: null,
    notes: [],
    stateRead: true,
    tables: [],
  };
  let state: StateStore | undefined;
  let watermarks: WatermarkRecord[] = [];
  if (!stateExists(rt.config, p)) {
    status.notes.push('no state yet (nothing has been synced)');
  } else {
    try {
      state = await rt.state(p);
      watermarks = await state.listWatermarks();
    } catch (e) {
      if (!(e instanceof HighwaterError)) throw e;
      status.notes.push(`state store unreachable: ${rt.redact(e.message)}`);
      status.stateRead = false;
      state = undefined;
    }
  }
  const tables = tablesOf(p, state ? watermarks : []);
  let lastStart: Date | undefined;

  // One source connection for the whole pipeline, opened only if there is something to compare.
  let source: SourceReader | undefined;
  let unreachable: string | undefined;
  const openSource = async (): Promise<SourceReader | undefined> => {
    if (source || unreachable !== undefined) return source;
    try {
      const s = await rt.openSource(p);
      source = s;
      await s.query('SELECT 1 AS ok');
    } catch (e) {
      if (!(e instanceof ConnectionError || e instanceof ConfigError)) throw e;
      unreachable = rt.redact(e.message);
      await source?.close().catch(() => undefined);
      source = undefined;
    }
    return source;
  };

  try {
    for (const t of tables) {
      const key = tableKey(pipelineTableParts(p, t.name));
      const wm = watermarks.find((w) => w.tableKey === key);
      let runs: RunRecord[] = [];
      if (state) runs = await state.listRuns(key);
      const last = runs[runs.length - 1];
      const started = last ? new Date(last.startedAt) : undefined;
      if (started && (!lastStart || started > lastStart)) lastStart = started;
      const ts: TableStatus = {
        table: t.name,
        strategy: t.strategy,
        watermark: wm?.watermark ?? null,
        watermarkUpdatedAt: wm?.updatedAt ?? null,
        lastRun: last
          ? {
              runId: last.runId,
              status: last.status,
              at: last.finishedAt ?? last.updatedAt,
              rows: last.rowsLoaded ?? last.rowsExtracted,
            }
          : null,
        lag: { state: 'unknown', text: '-' },
        nullCursorRows: null,
        warnings: [],
        verification: await verificationOf(rt, p, key),
      };
      const planned = [...runs].reverse().find((r) => r.plan !== null);
      if (planned?.plan) {
        ts.nullCursorRows = planned.plan.nullCursorRows;
        ts.warnings = planned.plan.warnings;
      }
      if (!lagCursor(t)) {
        ts.lag = computeLag(t, wm?.watermark, null);
      } else {
        const src = await openSource();
        if (!src) {
          ts.lag = { state: 'source-unreachable', text: 'source unreachable' };
        } else {
          try {
            const max = await sourceMax(src, t);
            ts.lag = status.stateRead
              ? computeLag(t, wm?.watermark, max)
              : { state: 'unknown', text: `watermark unknown (source max ${max ?? 'none: empty table'})` };
          } catch (e) {
            if (!(e instanceof HighwaterError)) throw e;
            ts.lag = { state: 'unknown', text: `unknown: ${rt.redact(e.message)}` };
          }
        }
      }
      status.tables.push(ts);
    }
  } finally {
    await source?.close();
  }
  if (unreachable !== undefined) status.notes.push(`source ${p.source.name} unreachable: ${unreachable}`);

  if (p.schedule !== undefined) {
    try {
      const s = parseSchedule(p.schedule);
      const next = nextFireTime(s, now, lastStart);
      status.schedule = {
        expression: s.expression,
        description: describeSchedule(s),
        next: next?.toISOString() ?? null,
      };
      if (s.kind === 'rate') {
        status.schedule.note = next
          ? 'estimated from the last run (a rate counts from when the schedule was created)'
          : 'no run yet to count from';
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      status.schedule = { expression: p.schedule, description: 'invalid', next: null, note: e.message };
    }
  }
  return status;
}
