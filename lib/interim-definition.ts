/**
 * INTERIM state machine definition, used only until lambdas/orchestration/definition.ts (the shared JSONPath ASL
 * that the local runner also executes) is available. It invokes the same five functions in the design's order
 * (Plan → Map(Extract) → Load → Commit, any failure → Abort) but does not shape their inputs; do not rely on it.
 */
export interface DefinitionArns {
  readonly plan: string;
  readonly extract: string;
  readonly load: string;
  readonly commit: string;
  readonly abort: string;
}

function invoke(arn: string, next: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: arn, 'Payload.$': '$' },
    OutputPath: '$.Payload',
    ...extra,
    ...(next ? { Next: next } : { End: true }),
  };
}

export function interimStateMachineDefinition(arns: DefinitionArns): Record<string, unknown> {
  const toAbort = { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Abort' }] };
  return {
    Comment: 'Highwater sync (INTERIM definition: replace with lambdas/orchestration/definition.ts)',
    StartAt: 'Plan',
    States: {
      Plan: invoke(arns.plan, 'ExtractChunks', toAbort),
      ExtractChunks: {
        Type: 'Map',
        ItemsPath: '$.chunks',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'ExtractChunk',
          States: { ExtractChunk: invoke(arns.extract, undefined) },
        },
        ResultPath: '$.chunkResults',
        Next: 'Load',
        ...toAbort,
      },
      Load: invoke(arns.load, 'Commit', toAbort),
      Commit: invoke(arns.commit, undefined, toAbort),
      Abort: invoke(arns.abort, 'Failed'),
      Failed: { Type: 'Fail', Error: 'SyncFailed', Cause: 'the run was aborted; see the Abort state output' },
    },
  };
}
