/**
 * Main-thread handle on an encode worker: sends decoded batches (buffers transferred, not copied), keeps at most
 * `maxInFlight` batches on the worker side, and hands each Parquet byte chunk to `onBytes` in order.
 *
 * Workers are pooled per process: a worker that wrote its file to the end goes back to the pool for the next file
 * (of any run in this process), so neither a thread nor a wasm instance is started per chunk — that start (0.2–0.3 s
 * from compiled JS, 0.6–1 s under tsx) was most of a small chunk's cost. A worker whose file failed or was
 * abandoned is terminated, never reused.
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

/**
 * Idle workers kept for reuse. Each holds its wasm memory (about 20–40 MB after a large file), so the pool is
 * bounded; a run's extracts are at most `max_workers` at once in a process, and what exceeds this is terminated.
 */
export const MAX_IDLE_WORKERS = 8;

/** The process's encode workers not writing a file now; each is unref'd, so it never keeps the process alive. */
class WorkerPool {
  private readonly idle: Worker[] = [];
  private target: WorkerTarget | undefined;

  acquire(): Worker {
    const w = this.idle.pop() ?? this.spawn();
    w.ref();
    return w;
  }

  /** A worker whose file ended cleanly: kept for the next file, unless the pool is full. */
  release(w: Worker): void {
    if (this.idle.length >= MAX_IDLE_WORKERS) {
      void w.terminate();
      return;
    }
    w.unref();
    this.idle.push(w);
  }

  /** Terminates every idle worker (tests, and a process that wants its memory back). */
  async drain(): Promise<void> {
    const all = this.idle.splice(0);
    await Promise.all(all.map((w) => w.terminate()));
  }

  get idleCount(): number {
    return this.idle.length;
  }

  private spawn(): Worker {
    this.target ??= workerTarget();
    const target = this.target;
    const w = new Worker(target.code, {
      workerData: target.extraData,
      eval: typeof target.code === 'string',
      // The parent's flags are not for the worker (e.g. `--input-type` without `--eval` makes it fail to start).
      execArgv: [],
    });
    // An idle worker that dies leaves the pool; its 'error' must not become an uncaught exception here.
    w.on('error', () => undefined);
    w.on('exit', () => {
      const i = this.idle.indexOf(w);
      if (i !== -1) this.idle.splice(i, 1);
    });
    return w;
  }
}

export const encoderPool = new WorkerPool();

export class Encoder {
  private readonly worker: Worker;
  private inFlight = 0;
  private failure: Error | undefined;
  private waiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private finishedResolve: (() => void) | undefined;
  /** The worker sent the file's last byte: it may write another. */
  private finished = false;
  private closed = false;
  private readonly onMessageBound = (msg: FromWorker) => this.onMessage(msg);
  private readonly onErrorBound = (e: Error) => this.fail(new EncoderError(`Parquet encoder crashed: ${e.message}`));
  private readonly onExitBound = (code: number) => {
    if (!this.closed) this.fail(new EncoderError(`Parquet encoder exited early (code ${code})`));
  };

  constructor(
    init: EncoderInit,
    private readonly onBytes: (chunk: Uint8Array) => void,
    private readonly maxInFlight = 2,
  ) {
    this.worker = encoderPool.acquire();
    this.worker.on('message', this.onMessageBound);
    this.worker.on('error', this.onErrorBound);
    this.worker.on('exit', this.onExitBound);
    this.worker.postMessage({ type: 'open', init } satisfies ToWorker);
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

  /** Gives the worker back to the pool when its file ended cleanly; otherwise terminates it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // an exit from here on is ours
    this.worker.off('message', this.onMessageBound);
    this.worker.off('error', this.onErrorBound);
    this.worker.off('exit', this.onExitBound);
    if (this.finished && !this.failure) encoderPool.release(this.worker);
    else await this.worker.terminate();
  }
}
