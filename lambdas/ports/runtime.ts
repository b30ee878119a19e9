/**
 * What a handler or command works with for one invocation: the configuration, and the ports opened for a pipeline
 * (the source, staging, state, the warehouse, Parquet, this host's processes, secrets). Built by
 * lambdas/runtime/create.ts from an adapter set chosen by where it runs; handlers never construct an adapter.
 */
import type { LoadedConfig, PipelineConfig, SecretRef } from '../domain/config.js';
import type { LeaseOwner, ParquetWriter, Processes, SourceReader, Staging, StateStore, Warehouse } from './index.js';

export interface Runtime {
  readonly config: LoadedConfig;
  /**
   * The process recorded as the holder of the leases Plan takes: this process when it drives whole runs (the CLI,
   * the local runner), so a later run on this host can take over a lease whose process died; null in a Lambda,
   * whose process plans a run but does not run it.
   */
  readonly leaseOwner: LeaseOwner | null;
  readonly processes: Processes;
  pipeline(name: string, adhoc?: { source: string; target: string }): PipelineConfig;
  /** A new source connection; the caller closes it. */
  openSource(p: PipelineConfig): Promise<SourceReader>;
  staging(p: PipelineConfig): Promise<Staging>;
  state(p: PipelineConfig): Promise<StateStore>;
  warehouse(p: PipelineConfig): Promise<Warehouse>;
  /** The Parquet writer (loaded when the first chunk is written). */
  parquet(): Promise<ParquetWriter>;
  resolveSecret(ref: SecretRef | undefined, what: string): Promise<string | undefined>;
  /** `text` with every secret this runtime resolved replaced by `***` (for errors, logs and reports). */
  redact(text: string): string;
  close(): Promise<void>;
}
