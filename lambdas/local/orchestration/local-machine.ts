/**
 * The deployed state machines (definition.ts: the sync state machine and the table state machine), made runnable
 * on this machine by aws-local-stepfunctions: placeholder ARNs (every Task is served by an in-process handler) and
 * two translations, each of something the library cannot run as deployed:
 *
 * - a Distributed Map (ItemReader, child executions) becomes a Task of the same name, which the runner serves by
 *   reading the staged items and running the Map's ItemProcessor once per item as an execution of its own
 *   (distributed-map.ts), as Step Functions does;
 * - a Lambda Task's TimeoutSeconds becomes the table execution's: the runner enforces the deployed TimeoutSeconds
 *   itself, from the moment the handler starts, because a timed-out handler cannot be killed in this process and
 *   its retry must wait for it (local-runner.ts).
 *
 * Everything else runs as deployed; test/unit/orchestration/definition.test.ts checks that nothing else changes.
 * The quotas Step Functions enforces are checked on every run (quota-checks.ts).
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { type ChunkSpec, ChunkSpecSchema, RunContextSchema } from '../../domain/manifests.js';
import type { StateKind } from '../../domain/quotas.js';
import { DataError } from '../../errors.js';
import {
  type DefinitionArns,
  type DefinitionOptions,
  START_EXECUTION_SYNC,
  syncStateMachineDefinition,
  TABLE_TIMEOUT_SECONDS,
  tableStateMachineDefinition,
} from '../../orchestration/definition.js';
import type { Runtime } from '../../ports/runtime.js';
import { installQuotaChecks, stateKinds } from './quota-checks.js';

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

installQuotaChecks();

const LOCAL_ACCOUNT = 'arn:aws:lambda:us-east-1:123456789012';

/** Placeholder function ARNs: locally every Task is served by an in-process handler. */
export const LOCAL_ARNS: DefinitionArns = {
  plan: `${LOCAL_ACCOUNT}:function:highwater-plan`,
  extract: `${LOCAL_ACCOUNT}:function:highwater-extract`,
  load: `${LOCAL_ACCOUNT}:function:highwater-load`,
  commit: `${LOCAL_ACCOUNT}:function:highwater-commit`,
  abort: `${LOCAL_ACCOUNT}:function:highwater-abort`,
  verify: `${LOCAL_ACCOUNT}:function:highwater-verify`,
};

const STATES_PREFIX = 'arn:aws:states:us-east-1:123456789012';
export const LOCAL_SYNC_STATE_MACHINE = 'highwater-sync';
export const LOCAL_TABLE_STATE_MACHINE = 'highwater-table';
export const LOCAL_TABLE_STATE_MACHINE_ARN = `${STATES_PREFIX}:stateMachine:${LOCAL_TABLE_STATE_MACHINE}`;

/** An execution's ARN as Step Functions forms it (`$$.Execution.Id`). */
export function localExecutionArn(stateMachine: string, name: string): string {
  return `${STATES_PREFIX}:execution:${stateMachine}:${name}`;
}
export function localStateMachineArn(stateMachine: string): string {
  return `${STATES_PREFIX}:stateMachine:${stateMachine}`;
}

type AslStates = Record<string, Record<string, unknown>>;

/** What the runner needs of a deployed Distributed Map to emulate it. */
export interface DistributedMapSpec {
  name: string;
  itemSelector: Record<string, unknown>;
  /** The ItemProcessor as a state machine of its own: each item runs as its own execution. */
  processor: StateMachine;
  /** Its states' kinds, for the child executions' history counts. */
  kinds: Map<string, StateKind>;
}

/** Lambda Tasks locally: TimeoutSeconds the table execution's, the deployed one enforced by the runner. */
function localTasks(states: AslStates, timeouts: Map<string, number>, backstop: number): void {
  for (const [name, state] of Object.entries(states)) {
    const processor = state.ItemProcessor as { States?: AslStates } | undefined;
    if (processor?.States) localTasks(processor.States, timeouts, backstop);
    if (state.Type === 'Task' && state.Resource !== START_EXECUTION_SYNC && typeof state.TimeoutSeconds === 'number') {
      timeouts.set(name, state.TimeoutSeconds);
      state.TimeoutSeconds = backstop;
    }
  }
}

export interface LocalDefinition {
  definition: Record<string, unknown>;
  /** The deployed TimeoutSeconds of each Lambda Task, by state name. */
  taskTimeouts: Map<string, number>;
  /** The Distributed Maps it had, by state name, now served as Tasks. */
  distributedMaps: Map<string, { itemSelector: Record<string, unknown>; itemProcessor: Record<string, unknown> }>;
}

/**
 * The two translations (see the module comment), on a copy. A Distributed Map becomes a Task whose parameters are
 * what its emulation needs: the ItemReader's parameters, the concurrency, the run, and the state's input (for the
 * ItemSelector); its Catch, ResultPath and Next stay.
 */
export function localDefinition(
  asl: Record<string, unknown>,
  backstopSeconds = TABLE_TIMEOUT_SECONDS,
): LocalDefinition {
  const definition = structuredClone(asl);
  const taskTimeouts = new Map<string, number>();
  const distributedMaps: LocalDefinition['distributedMaps'] = new Map();
  const states = (definition as { States: AslStates }).States;
  localTasks(states, taskTimeouts, backstopSeconds);
  for (const [name, state] of Object.entries(states)) {
    const reader = state.ItemReader as { Parameters?: Record<string, unknown> } | undefined;
    if (state.Type !== 'Map' || !reader) continue;
    const { ItemReader: _r, ItemProcessor, ItemSelector, MaxConcurrencyPath, ...rest } = state;
    distributedMaps.set(name, {
      itemSelector: ItemSelector as Record<string, unknown>,
      itemProcessor: ItemProcessor as Record<string, unknown>,
    });
    const { Type: _t, ItemsPath: _i, MaxConcurrency: _m, ...kept } = rest;
    states[name] = {
      Type: 'Task',
      Resource: START_EXECUTION_SYNC,
      Parameters: {
        reader: reader.Parameters,
        'run.$': '$.plan.run',
        'maxConcurrency.$': MaxConcurrencyPath,
        'input.$': '$',
      },
      TimeoutSeconds: backstopSeconds,
      ...kept,
    };
  }
  return { definition, taskTimeouts, distributedMaps };
}

const ReadStagedChunksInput = z.object({ Key: z.string(), run: RunContextSchema });

/** Reads the staged plan a Distributed Map iterates, checked to be what Plan wrote (a JSON array of chunk specs). */
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

/** Both state machines, ready to run here, with what the runner enforces beside the library. */
export interface LocalMachines {
  sync: StateMachine;
  table: StateMachine;
  syncKinds: Map<string, StateKind>;
  tableKinds: Map<string, StateKind>;
  /** The deployed TimeoutSeconds of every Lambda Task state. */
  taskTimeouts: Map<string, number>;
  distributedMaps: Map<string, DistributedMapSpec>;
}

export type LocalMachineOptions = Pick<
  DefinitionOptions,
  'retryMaxAttempts' | 'taskTimeoutSeconds' | 'tableTimeoutSeconds' | 'syncTimeoutSeconds' | 'defaultMaxConcurrency'
>;

const machines = new Map<string, LocalMachines>();

/**
 * Runs skip the library's validation: the definitions are Highwater's own, validated (ARNs and paths) by the
 * definition tests through `validate`; validating on every CLI run compiled JSON schemas for about half a second.
 */
function machine(definition: Record<string, unknown>, validate: boolean): StateMachine {
  return new StateMachine(definition as unknown as StateMachineDefinition, {
    validationOptions: validate ? { checkArn: true, checkPaths: true } : { noValidate: true },
  });
}

/** The local state machines for these options, built once per process (`validate`: checked by the library first). */
export function localMachines(opts: LocalMachineOptions = {}, validate = false): LocalMachines {
  const key = JSON.stringify({ opts, validate });
  let m = machines.get(key);
  if (m) return m;
  const backstop = opts.tableTimeoutSeconds ?? TABLE_TIMEOUT_SECONDS;
  const deployedTable = tableStateMachineDefinition(LOCAL_ARNS, opts);
  const deployedSync = syncStateMachineDefinition(LOCAL_TABLE_STATE_MACHINE_ARN, opts);
  const table = localDefinition(deployedTable, backstop);
  const distributedMaps = new Map<string, DistributedMapSpec>();
  for (const [name, d] of table.distributedMaps) {
    const { ProcessorConfig: _p, ...processor } = d.itemProcessor;
    distributedMaps.set(name, {
      name,
      itemSelector: d.itemSelector,
      processor: machine(processor, false),
      kinds: stateKinds(processor),
    });
  }
  m = {
    sync: machine(deployedSync, validate),
    table: machine(table.definition, validate),
    syncKinds: stateKinds(deployedSync),
    tableKinds: stateKinds(deployedTable),
    taskTimeouts: table.taskTimeouts,
    distributedMaps,
  };
  machines.set(key, m);
  return m;
}
