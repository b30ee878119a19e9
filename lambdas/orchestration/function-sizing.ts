/**
 * Each step function's timeout and memory: one place, read by the CDK stack (lib/highwater-stack.ts) for the
 * functions it deploys, by the definition for each Task's TimeoutSeconds, and by the local runner for the deadline
 * it gives a handler (lambdas/ports/step-context.ts). So a handler locally sees the deadline it would have on AWS.
 */
import { LAMBDA_MAX_TIMEOUT_SECONDS } from '../domain/quotas.js';

export type FunctionName = 'plan' | 'extract' | 'load' | 'commit' | 'abort' | 'verify';

export interface FunctionSizing {
  /** The function's timeout (Lambda's own ceiling is LAMBDA_MAX_TIMEOUT_SECONDS). */
  timeoutSeconds: number;
  memorySize: number;
  /** Bundle the Parquet encode worker (only extract writes Parquet). */
  parquetWorker?: boolean;
}

export const FUNCTION_SIZING: Readonly<Record<FunctionName, FunctionSizing>> = {
  plan: { timeoutSeconds: 300, memorySize: 512 },
  // One vCPU at 1769 MB: encoding Parquet is CPU-bound.
  extract: { timeoutSeconds: LAMBDA_MAX_TIMEOUT_SECONDS, memorySize: 1769, parquetWorker: true },
  load: { timeoutSeconds: LAMBDA_MAX_TIMEOUT_SECONDS, memorySize: 512 },
  commit: { timeoutSeconds: 60, memorySize: 256 },
  // Abort also serves the reaper (an execution that failed, timed out or was stopped): a handful of ledger writes.
  abort: { timeoutSeconds: 60, memorySize: 256 },
  // Lambda's own ceiling: a verification that needs longer fails its step (reported), never the committed run.
  verify: { timeoutSeconds: LAMBDA_MAX_TIMEOUT_SECONDS, memorySize: 1024 },
};
