/**
 * Files that appear whole or not at all: data goes to a temp file beside the target, is fsynced, and is renamed
 * into place only after a clean finish. A crashed writer leaves at most a temp file, which listing ignores.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { describeError, StagingError } from '../../../errors.js';
import { TEMP_MARK } from './keys.js';

function errorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  return typeof e.code === 'string' ? e.code : undefined;
}

export function isMissing(e: unknown): boolean {
  const code = errorCode(e);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Directories this process made (or found) for staged files: a run writes all its chunks into one, so it is made
 * once rather than once per file. A directory deleted meanwhile shows as ENOENT on open and is made again.
 */
const madeDirs = new Set<string>();

async function openTempBeside(target: string): Promise<{ temp: string; handle: FileHandle }> {
  const dir = dirname(target);
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0 || !madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      if (madeDirs.size > 10_000) madeDirs.clear();
      madeDirs.add(dir);
    }
    const temp = join(dir, `${TEMP_MARK}${randomBytes(6).toString('hex')}-${basename(target)}`);
    try {
      return { temp, handle: await open(temp, 'wx') };
    } catch (e) {
      // A concurrent delete may prune the directory between mkdir and open; make it again.
      if (errorCode(e) === 'ENOENT' && attempt < 3) {
        madeDirs.delete(dir);
        continue;
      }
      throw e;
    }
  }
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

/** Makes the rename itself durable; some filesystems cannot fsync a directory, which is not an error there. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    const code = errorCode(e);
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e;
  } finally {
    await handle?.close();
  }
}

async function commit(handle: FileHandle, temp: string, target: string): Promise<void> {
  await handle.sync();
  await handle.close();
  await rename(temp, target);
  await syncDir(dirname(target));
}

/** Writes `data` to `target` atomically (temp + fsync + rename). */
export async function writeFileAtomic(target: string, data: Buffer): Promise<void> {
  const { temp, handle } = await openTempBeside(target);
  let closed = false;
  try {
    await writeAll(handle, data);
    closed = true;
    await commit(handle, temp, target);
  } catch (e) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw e;
  }
}

/**
 * A Writable whose file becomes visible only when the stream finishes cleanly. `outcome` settles after the
 * rename (resolves with the byte count) or after the temp file is removed (rejects with StagingError).
 */
export class AtomicFileWriter extends Writable {
  readonly outcome: Promise<{ bytes: number }>;
  private resolveOutcome: (v: { bytes: number }) => void = () => undefined;
  private rejectOutcome: (e: StagingError) => void = () => undefined;
  private settled = false;
  private handle: FileHandle | undefined;
  private temp: string | undefined;
  private renamed = false;
  private bytes = 0;

  constructor(
    private readonly target: string,
    /** How errors name this object: key and root. */
    private readonly label: string,
  ) {
    super();
    this.outcome = new Promise((resolve, reject) => {
      this.resolveOutcome = resolve;
      this.rejectOutcome = reject;
    });
    // Failures are reported through `outcome` (Staging.finished); these keep them from being unhandled.
    this.outcome.catch(() => undefined);
    this.on('error', () => undefined);
  }

  private fail(action: string, e: unknown): StagingError {
    return e instanceof StagingError
      ? e
      : new StagingError(`local staging: cannot ${action} ${this.label}: ${describeError(e)}`, { cause: e });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    openTempBeside(this.target).then(
      ({ temp, handle }) => {
        this.temp = temp;
        this.handle = handle;
        callback();
      },
      (e: unknown) => callback(this.fail('create', e)),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    writeAll(this.handle!, chunk).then(
      () => {
        this.bytes += chunk.length;
        callback();
      },
      (e: unknown) => callback(this.fail('write', e)),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    const handle = this.handle!;
    this.handle = undefined;
    commit(handle, this.temp!, this.target).then(
      () => {
        this.renamed = true;
        this.settled = true;
        this.resolveOutcome({ bytes: this.bytes });
        callback();
      },
      (e: unknown) => callback(this.fail('finish', e)),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const cleanup = async () => {
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
      if (!this.renamed && this.temp !== undefined) await rm(this.temp, { force: true });
    };
    cleanup()
      .then(
        () => undefined,
        (e: unknown) => this.fail('remove the temp file of', e),
      )
      .then((cleanupError) => {
        if (!this.settled) {
          this.settled = true;
          this.rejectOutcome(
            error !== null
              ? this.fail('write', error)
              : (cleanupError ??
                  new StagingError(`local staging: the write of ${this.label} was abandoned before it finished`)),
          );
        }
        callback(error ?? cleanupError ?? null);
      });
  }
}
