/**
 * A Distributed Map, served locally (local-machine.ts turns the deployed Map into a Task of the same name): its
 * ItemReader's items are read through the Staging port; each item, after the Map's ItemSelector, runs the Map's
 * ItemProcessor as a child execution of its own (own ARN, own history, own payload checks), at most
 * `maxConcurrency` at once; the results come back in item order, as the Map's result. As on AWS with no tolerated
 * failures, the first child that fails stops new children from starting, and the Map fails with
 * `States.ExceedToleratedFailureThreshold` once the running ones have ended.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */
import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { DISTRIBUTED_MAP_MAX_CONCURRENCY } from '../../domain/quotas.js';
import type { ExecutionEnd } from './local-executions.js';
import type { DistributedMapSpec } from './local-machine.js';

/** The parameters local-machine.ts gives the Task that stands for the Map. */
export const DistributedMapTaskInput = z.object({
  reader: z.object({ Bucket: z.string().nullable().optional(), Key: z.string() }),
  run: z.unknown(),
  maxConcurrency: z.number().int().nonnegative(),
  input: z.unknown(),
});

/** What a Map Run failure looks like to the state's Catch. */
export class MapRunFailedError extends Error {
  constructor(cause: string) {
    super(cause);
    this.name = 'States.ExceedToleratedFailureThreshold';
  }
}

export interface DistributedMapDeps {
  /** The ItemReader's items (the reader's Key, and the run it belongs to, for messages). */
  readItems(reader: { Key: string }, run: unknown): Promise<unknown[]>;
  /** Runs the ItemProcessor on one item as the child execution `arn`. */
  runChild(spec: DistributedMapSpec, arn: string, input: unknown): Promise<ExecutionEnd>;
  /** The ARN of the Map Run's child executions (Step Functions names them `<state machine>/<map run>:<id>`). */
  childArn(spec: DistributedMapSpec, id: string): string;
}

const selectors = new WeakMap<DistributedMapSpec, StateMachine>();

/** The ItemSelector applied as Step Functions applies it: over the Map's input, with `$$.Map.Item`. */
async function select(spec: DistributedMapSpec, input: unknown, index: number, value: unknown): Promise<unknown> {
  let m = selectors.get(spec);
  if (!m) {
    const definition = {
      StartAt: 'ItemSelector',
      States: { ItemSelector: { Type: 'Pass', Parameters: spec.itemSelector, End: true } },
    };
    m = new StateMachine(definition as unknown as StateMachineDefinition, { validationOptions: { noValidate: true } });
    selectors.set(spec, m);
  }
  return m.run(input as never, { context: { Map: { Item: { Index: index, Value: value } } } }).result;
}

export async function runDistributedMap(
  spec: DistributedMapSpec,
  taskInput: unknown,
  deps: DistributedMapDeps,
): Promise<unknown[]> {
  const p = DistributedMapTaskInput.parse(taskInput);
  const items = await deps.readItems(p.reader, p.run);
  const limit = p.maxConcurrency === 0 ? DISTRIBUTED_MAP_MAX_CONCURRENCY : p.maxConcurrency;
  const results: unknown[] = new Array(items.length);
  let next = 0;
  let failure: ExecutionEnd | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      const input = await select(spec, p.input, i, items[i]);
      const end = await deps.runChild(spec, deps.childArn(spec, randomUUID()), input);
      if (end.status === 'SUCCEEDED') results[i] = end.output;
      else failure ??= end;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) {
    const f: ExecutionEnd = failure;
    throw new MapRunFailedError(
      `The specified tolerated failure threshold was exceeded: child execution ${f.arn} ended ${f.status} (${f.error?.Error}: ${f.error?.Cause})`,
    );
  }
  return results;
}
