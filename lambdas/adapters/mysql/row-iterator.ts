/**
 * An async iterator over a mysql2 row stream that hands out buffered rows without async-generator machinery:
 * `next()` returns an already-resolved promise while the Readable has rows and waits only when it is empty.
 * Two async-generator layers cost ~1.3 s per million rows, as much as decoding the rows. `readSync()` lets a
 * consumer that knows it (the Parquet writer) skip even the one promise per row.
 */
import type { Readable } from 'node:stream';

export interface RowSource {
  /** Starts the query (opening a session if needed) and returns its row stream. */
  start(): Promise<Readable>;
  /** Called once: `completed` is false when the consumer stopped early or an error ended the stream. */
  done(completed: boolean): void;
  mapError(e: unknown): Error;
}

const DONE: IteratorResult<never> = { done: true, value: undefined };

export class RowIterator<T> implements AsyncIterableIterator<T> {
  private readable: Readable | undefined;
  private starting: Promise<Readable> | undefined;
  private failure: Error | undefined;
  private ended = false;
  private finished = false;
  private wake: (() => void) | undefined;

  constructor(private readonly source: RowSource) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    const row = this.readSync();
    return row !== null ? Promise.resolve({ done: false, value: row }) : this.slowNext();
  }

  /** A row that is already buffered, or null (then call next()). See SyncRowReader in the Parquet writer. */
  readSync(): T | null {
    const r = this.readable;
    return r === undefined || this.finished ? null : (r.read() as T | null);
  }

  private async slowNext(): Promise<IteratorResult<T>> {
    if (this.finished) return DONE;
    try {
      this.readable ??= await this.start();
    } catch (e) {
      this.finish(false);
      throw this.source.mapError(e);
    }
    for (;;) {
      const row = this.readable.read() as T | null;
      if (row !== null) return { done: false, value: row };
      if (this.failure) {
        this.finish(false);
        throw this.source.mapError(this.failure);
      }
      if (this.ended) {
        this.finish(true);
        return DONE;
      }
      if (this.finished) return DONE;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** The consumer stopped early (`break`, or an error in its loop body). */
  async return(): Promise<IteratorResult<T>> {
    this.finish(this.ended);
    return DONE;
  }

  private start(): Promise<Readable> {
    this.starting ??= this.source.start().then((r) => {
      const signal = () => {
        const w = this.wake;
        this.wake = undefined;
        w?.();
      };
      r.on('readable', signal);
      r.on('end', () => {
        this.ended = true;
        signal();
      });
      r.on('error', (e: Error) => {
        this.failure ??= e;
        signal();
      });
      return r;
    });
    return this.starting;
  }

  private finish(completed: boolean): void {
    if (this.finished) return;
    this.finished = true;
    if (!completed && this.readable && !this.ended) this.readable.destroy();
    this.source.done(completed);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
