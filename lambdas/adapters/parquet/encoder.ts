/**
 * Main-thread handle on the encode worker: sends decoded batches (buffers transferred, not copied), keeps at most
 * `maxInFlight` batches on the worker side, and hands each Parquet byte chunk to `onBytes` in order.
 *
 * Loading the worker: compiled JS (`dist/`) runs `encode-worker.js` next to this file. From TypeScript sources
 * (tsx, vitest) a small eval-mode bootstrap registers tsx's ESM hooks inside the worker and then imports
 * `encode-worker.ts`: a worker inherits neither vitest's transform nor (on Node 20) `--import tsx` hooks.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BatchPayload, EncoderInit, FromWorker, ToWorker } from './protocol.js';

export class EncoderError extends Error {}

/** Worker bootstrap for TypeScript sources: register tsx's ESM hooks inside the worker, then load the entry. */
const TS_BOOTSTRAP = `const { workerData } = require('node:worker_threads');
import(workerData.__tsxApi).then((m) => { m.register(); return import(workerData.__entry); });`;

interface WorkerTarget {
  /** A file to run, or (TypeScript sources) the eval bootstrap. */
  code: URL | string;
  extraData: Record<string, string>;
}

function workerTarget(): WorkerTarget {
  const js = new URL('./encode-worker.js', import.meta.url);
  if (import.meta.url.endsWith('.js') && existsSync(fileURLToPath(js))) return { code: js, extraData: {} };
  // tsx's package exports resolve to the CJS build under require(); its ESM build sits next to it.
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const mjs = cjs.replace(/\.cjs$/, '.mjs');
  return {
    code: TS_BOOTSTRAP,
    extraData: {
      __tsxApi: pathToFileURL(existsSync(mjs) ? mjs : cjs).href,
      __entry: new URL('./encode-worker.ts', import.meta.url).href,
    },
  };
}

function transferables(batch: BatchPayload): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const c of batch.columns) {
    for (const view of [c.values, c.validity, c.offsets]) if (view) seen.add(view.buffer as ArrayBuffer);
  }
  return [...seen];
}

export class Encoder {
  private readonly worker: Worker;
  private inFlight = 0;
  private failure: Error | undefined;
  private waiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private finishedResolve: (() => void) | undefined;
  private finished = false;

  constructor(
    init: EncoderInit,
    private readonly onBytes: (chunk: Uint8Array) => void,
    private readonly maxInFlight = 2,
  ) {
    const target = workerTarget();
    this.worker = new Worker(target.code, {
      workerData: { ...init, ...target.extraData },
      eval: typeof target.code === 'string',
      // The parent's flags are not for the worker (e.g. `--input-type` without `--eval` makes it fail to start).
      execArgv: [],
    });
    this.worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    this.worker.on('error', (e) => this.fail(new EncoderError(`Parquet encoder crashed: ${e.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.finished) this.fail(new EncoderError(`Parquet encoder exited early (code ${code})`));
    });
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'bytes':
        this.onBytes(msg.chunk);
        return;
      case 'ack':
        this.inFlight--;
        this.wakeWaiter();
        return;
      case 'finished':
        this.finished = true;
        this.finishedResolve?.();
        this.wakeWaiter();
        return;
      case 'error':
        this.fail(new EncoderError(`Parquet encoder failed: ${msg.message}`));
        return;
    }
  }

  private wakeWaiter(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.failure);
  }

  private wait(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Sends one batch; resolves when the worker may take another (at most `maxInFlight` outstanding). */
  async send(batch: BatchPayload): Promise<void> {
    while (this.inFlight >= this.maxInFlight && !this.failure) await this.wait();
    if (this.failure) throw this.failure;
    this.inFlight++;
    this.worker.postMessage({ type: 'batch', batch } satisfies ToWorker, transferables(batch));
  }

  /** Ends the file; resolves after the last byte (the footer) went to `onBytes`. */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    const done = new Promise<void>((resolve) => {
      this.finishedResolve = resolve;
    });
    this.worker.postMessage({ type: 'end' } satisfies ToWorker);
    while (!this.finished && !this.failure) await Promise.race([done, this.wait()]);
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.finished = true; // an exit from here on is ours
    await this.worker.terminate();
  }
}
