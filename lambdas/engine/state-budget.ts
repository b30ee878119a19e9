/**
 * Plan's choice between the two chunk paths of a table's execution (lambdas/orchestration/definition.ts), by what
 * Step Functions would hold, not by a count alone:
 *
 * - inline: the chunk list travels in the state (`$.plan.chunks`) and an inline Map runs it; every iteration's
 *   events go into the table execution's history. Taken only when the largest state carrying the list fits the
 *   payload quota with room to spare, and the history's worst case (every step retried to the end) fits 25,000.
 * - staged: the list goes to staging and a Distributed Map reads it (ItemReader); each chunk is a child execution
 *   with a history of its own, and the state carries only a key.
 *
 * Both numbers come from lambdas/domain/quotas.ts; test/unit/local/orchestration/quota-checks.test.ts checks the
 * event counts against the definition as the local runner counts it.
 */
import {
  EXECUTION_EVENTS,
  HISTORY_EVENTS,
  MAX_HISTORY_EVENTS,
  MAX_PAYLOAD_BYTES,
  payloadBytes,
} from '../domain/quotas.js';
import { ConfigError } from '../errors.js';

/**
 * What a table execution's state gains beside Plan's output while the chunk list is still in it: the Catch output
 * of a failed step (`$.error`, whose Cause Step Functions caps at 32,768 characters), Abort's result, the fixed
 * fields of the state. Generous on purpose: the estimate must never be the reason a run fails.
 */
export const TABLE_STATE_MARGIN_BYTES = 48 * 1024;

/**
 * The worst-case history of a table execution without its chunks: every state once, every Task retried to the end
 * (Plan, Load, Commit, Verify, Abort), the Map's own events. Counted on the definition by
 * test/unit/local/orchestration/quota-checks.test.ts, which fails if the definition outgrows it.
 */
export const TABLE_FIXED_EVENTS_WORST = 200;

/** The retries of each Task in the deployed definition (Retry MaxAttempts). */
export const DEPLOYED_RETRIES = 3;

/**
 * History events of one chunk in an inline Map, every attempt failing but the last: MapIteration…, its Task, and
 * the loop's Choice and closing Pass (definition.ts chunkProcessorStates). A chunk continued in parts (an extract
 * that neared its deadline) adds a Task, a Choice and a Pass per part, which this does not count: parts are the
 * exception (chunks are sized to take a third of the step), and a run that passes the history quota fails there,
 * locally as on AWS, never silently.
 */
export function inlineChunkEventsWorst(retries: number): number {
  const t = HISTORY_EVENTS['lambda-task'];
  const simple = HISTORY_EVENTS.simple;
  return (
    EXECUTION_EVENTS.started +
    EXECUTION_EVENTS.ended +
    t.entered +
    t.exited +
    retries * (t.failed + t.retried) +
    2 * (simple.entered + simple.exited)
  );
}

/** The JSON of a Map result whose iterations each return their chunk index: `[0,1,…,n-1]`. */
export function indexResultBytes(chunks: number): number {
  let digits = 0;
  for (let i = 0; i < chunks; i++) digits += String(i).length;
  return 2 + digits + Math.max(0, chunks - 1);
}

export interface ChunkPathInput {
  /** Plan's input as Step Functions handed it (the state carries it as `$.input`). */
  input: unknown;
  /** Plan's output with the chunk list inline. */
  output: unknown;
  /** How many chunks. */
  chunks: number;
  /** `processing.max_inline_chunks`: a count the user may lower further. */
  maxInlineChunks: number;
  retries?: number;
}

export interface ChunkPath {
  inline: boolean;
  /** Why, for the docs and tests: the measure that decided. */
  stateBytes: number;
  historyEvents: number;
}

/** Inline when the count, the state's bytes and the history's worst case all fit; else staged. */
export function chooseChunkPath(p: ChunkPathInput): ChunkPath {
  const stateBytes =
    payloadBytes(p.input) + payloadBytes(p.output) + indexResultBytes(p.chunks) + TABLE_STATE_MARGIN_BYTES;
  const historyEvents = TABLE_FIXED_EVENTS_WORST + p.chunks * inlineChunkEventsWorst(p.retries ?? DEPLOYED_RETRIES);
  const inline =
    p.chunks <= p.maxInlineChunks && stateBytes <= MAX_PAYLOAD_BYTES && historyEvents <= MAX_HISTORY_EVENTS;
  return { inline, stateBytes, historyEvents };
}

/**
 * The run context travels in every chunk's input and in Load's: with the state's fixed part and a chunk spec it
 * must fit one payload. A table too wide for that is refused by Plan, naming it, before anything is extracted.
 */
export function checkRunContextFits(table: string, input: unknown, run: unknown): void {
  const bytes = payloadBytes(input) + payloadBytes(run) + TABLE_STATE_MARGIN_BYTES;
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new ConfigError(
      `${table}: its run context (${payloadBytes(run)} bytes of JSON, mostly the column list) does not fit a Step Functions state payload of ${MAX_PAYLOAD_BYTES} bytes with the rest of the state`,
      { suggestion: 'Sync fewer columns of this table (a custom_sql select list), or split it.' },
    );
  }
}

/**
 * A staged chunk list is read by a Distributed Map whose result (each child returns its chunk index) comes back
 * into the table execution's state; beyond what fits, Plan refuses the run instead of letting it fail at the end.
 */
export function checkStagedChunksFit(table: string, chunks: number, stateBytes: number): void {
  const bytes = stateBytes + indexResultBytes(chunks) + TABLE_STATE_MARGIN_BYTES;
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new ConfigError(
      `${table}: ${chunks} chunks are more than one run's Distributed Map can report back within a ${MAX_PAYLOAD_BYTES}-byte state`,
      { suggestion: 'Raise chunk_rows, or use --max-chunks to sync the table over several runs.' },
    );
  }
}
