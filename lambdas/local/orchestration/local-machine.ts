/**
 * The deployed state machine definition, made runnable on this machine by aws-local-stepfunctions: placeholder
 * function ARNs (every Task is served by an in-process handler), no task timeout, and the one state the library
 * cannot run (a Distributed Map's ItemReader) translated. local-runner.ts runs it.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { type ChunkSpec, ChunkSpecSchema, RunContextSchema } from '../../domain/manifests.js';
import { DataError } from '../../errors.js';
import { type DefinitionArns, stateMachineDefinition } from '../../orchestration/definition.js';
import type { Runtime } from '../../ports/runtime.js';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22) for task timeouts; Node 20 lacks it.
const PromiseCtor = Promise as unknown as { withResolvers?: () => unknown };
PromiseCtor.withResolvers ??= () => {
  let resolve: unknown;
  let reject: unknown;
  const promise = new Promise((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
};

/** Placeholder function ARNs: locally every Task is served by an in-process handler. */
export const LOCAL_ARNS: DefinitionArns = {
  plan: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-plan',
  extract: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-extract',
  load: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-load',
  commit: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-commit',
  abort: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-abort',
  verify: 'arn:aws:lambda:us-east-1:123456789012:function:highwater-verify',
};

/** A local run must never time a task out and retry it while the first attempt still runs in this process. */
const LOCAL_TASK_TIMEOUT_SECONDS = 86_400;

const machines = new Map<number, StateMachine>();

type AslStates = Record<string, Record<string, unknown>>;

/**
 * The one local translation of the definition: aws-local-stepfunctions 3.0.0 has no ItemReader (nor distributed
 * child executions), so a Map that reads its items from S3 becomes a Task that reads the same staged JSON array
 * through the Staging port (served by `readStagedChunks`) into `$.plan.chunks`, followed by the same Map, inline,
 * over those items. Everything else runs as deployed.
 */
export function localDefinition(asl: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(asl);
  const rewrite = (states: AslStates): void => {
    for (const [name, state] of Object.entries(states)) {
      const processor = state.ItemProcessor as { States?: AslStates; ProcessorConfig?: unknown } | undefined;
      if (processor?.States) rewrite(processor.States);
      const reader = state.ItemReader as { Parameters?: Record<string, unknown> } | undefined;
      if (state.Type !== 'Map' || !reader) continue;
      const { ItemReader: _reader, ...map } = state;
      const itemsState = `${name}Items`;
      states[name] = {
        Type: 'Task',
        Resource: 'arn:aws:states:::s3:getObject',
        Parameters: { ...reader.Parameters, 'run.$': '$.plan.run' },
        ResultPath: '$.plan.chunks',
        Catch: state.Catch,
        Next: itemsState,
      };
      states[itemsState] = {
        ...map,
        ItemsPath: '$.plan.chunks',
        ItemProcessor: { ...processor, ProcessorConfig: { Mode: 'INLINE' } },
      };
    }
  };
  rewrite((copy as { States: AslStates }).States);
  return copy;
}

const ReadStagedChunksInput = z.object({ Key: z.string(), run: RunContextSchema });

/** Serves the rewritten ItemReader: the staged plan, checked to be what Plan wrote (a JSON array of chunk specs). */
export async function readStagedChunks(rt: Runtime, input: unknown): Promise<ChunkSpec[]> {
  const { Key, run } = ReadStagedChunksInput.parse(input);
  const staging = await rt.staging(rt.pipeline(run.pipeline, run.adhoc));
  const items = await staging.getJson(Key);
  if (items === undefined) throw new DataError(`${run.table} run ${run.runId}: the staged plan ${Key} is missing`);
  const parsed = z.array(ChunkSpecSchema).safeParse(items);
  if (!parsed.success) {
    throw new DataError(
      `${run.table} run ${run.runId}: the staged plan ${Key} is not a chunk list: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/** One validated state machine per retry budget, built once per process. */
export function localStateMachine(retryMaxAttempts: number): StateMachine {
  let m = machines.get(retryMaxAttempts);
  if (!m) {
    const asl = localDefinition(
      stateMachineDefinition(LOCAL_ARNS, { retryMaxAttempts, taskTimeoutSeconds: LOCAL_TASK_TIMEOUT_SECONDS }),
    );
    m = new StateMachine(asl as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    machines.set(retryMaxAttempts, m);
  }
  return m;
}
