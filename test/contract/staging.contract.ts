/**
 * The Staging contract: one suite every adapter (local directory, S3) must pass.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { StagingError } from '../../lambdas/errors.js';
import type { StagedObject, Staging } from '../../lambdas/ports/index.js';

export interface StagingFixture {
  staging: Staging;
  cleanup(): Promise<void>;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(String(part)));
  return Buffer.concat(parts);
}

export async function listAll(staging: Staging, prefix: string): Promise<StagedObject[]> {
  const out: StagedObject[] = [];
  for await (const o of staging.list(prefix)) out.push(o);
  return out;
}

export async function writeObject(staging: Staging, key: string, data: string | Buffer): Promise<number> {
  const stream = staging.createWriteStream(key);
  await pipeline(Readable.from([Buffer.from(data)]), stream);
  return (await staging.finished(stream)).bytes;
}

/** Keys no adapter may accept: they escape the root, are ambiguous, or are not keys at all. */
export const BAD_KEYS = ['../x', 'a/../../x', 'a/..', './a', '/etc/passwd', 'a\\b', 'a//b', 'a/', ''];

export function describeStagingContract(name: string, factory: () => Promise<StagingFixture>): void {
  describe(`Staging contract: ${name}`, () => {
    let fixture: StagingFixture;
    let staging: Staging;

    beforeEach(async () => {
      fixture = await factory();
      staging = fixture.staging;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    test('a streamed object is readable, listed with its size and located by key after finish', async () => {
      const data = Buffer.alloc(300_000, 7);
      const bytes = await writeObject(staging, 'p/t/run=1/chunk-00000.parquet', data);
      expect(bytes).toBe(300_000);
      expect((await readAll(await staging.openRead('p/t/run=1/chunk-00000.parquet'))).equals(data)).toBe(true);
      const listed = await listAll(staging, 'p/');
      expect(listed.map((o) => [o.key, o.size])).toEqual([['p/t/run=1/chunk-00000.parquet', 300_000]]);
      expect(listed[0]!.lastModified).toBeInstanceOf(Date);
      expect(Math.abs(listed[0]!.lastModified.getTime() - Date.now())).toBeLessThan(5 * 60_000);
      expect(staging.locate('p/t/run=1/chunk-00000.parquet').endsWith('p/t/run=1/chunk-00000.parquet')).toBe(true);
    });

    test('an object is invisible until its stream finishes', async () => {
      const stream = staging.createWriteStream('p/pending.bin');
      await new Promise<void>((resolve, reject) =>
        stream.write(Buffer.from('half'), (e) => (e ? reject(e) : resolve())),
      );
      expect(await listAll(staging, '')).toEqual([]);
      await expect(staging.openRead('p/pending.bin')).rejects.toThrow(StagingError);
      stream.end(Buffer.from('-done'));
      expect(await staging.finished(stream)).toEqual({ bytes: 9 });
      expect((await readAll(await staging.openRead('p/pending.bin'))).toString()).toBe('half-done');
    });

    test('writing a key again replaces the object', async () => {
      await writeObject(staging, 'p/x.bin', 'first version, longer');
      await writeObject(staging, 'p/x.bin', 'second');
      expect((await readAll(await staging.openRead('p/x.bin'))).toString()).toBe('second');
      expect((await listAll(staging, 'p/')).map((o) => o.size)).toEqual([6]);
    });

    test('a destroyed write stream leaves no object and finished() rejects with StagingError', async () => {
      const stream = staging.createWriteStream('p/broken.bin');
      await new Promise<void>((resolve, reject) =>
        stream.write(Buffer.alloc(1000), (e) => (e ? reject(e) : resolve())),
      );
      stream.destroy();
      await expect(staging.finished(stream)).rejects.toThrow(StagingError);
      expect(await listAll(staging, '')).toEqual([]);
      await expect(staging.openRead('p/broken.bin')).rejects.toThrow(StagingError);
    });

    test('a write stream whose source fails leaves no object', async () => {
      const stream = staging.createWriteStream('p/failed.bin');
      async function* failing() {
        yield Buffer.from('some rows');
        throw new Error('source connection reset');
      }
      await expect(pipeline(Readable.from(failing()), stream)).rejects.toThrow('source connection reset');
      const err = await staging.finished(stream).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StagingError);
      expect((err as StagingError).message).toContain('p/failed.bin');
      expect(await listAll(staging, '')).toEqual([]);
    });

    test('finished() refuses a stream it did not create', async () => {
      const { PassThrough } = await import('node:stream');
      await expect(staging.finished(new PassThrough())).rejects.toThrow(StagingError);
    });

    test('putJson and getJson round-trip; a missing object is undefined', async () => {
      const value = { entries: [{ url: 'a', mandatory: true }], n: 1.5, s: 'ü✓', nil: null };
      await staging.putJson('p/run=1/manifest.json', value);
      expect(await staging.getJson('p/run=1/manifest.json')).toEqual(value);
      await staging.putJson('p/run=1/manifest.json', [1, 2]);
      expect(await staging.getJson('p/run=1/manifest.json')).toEqual([1, 2]);
      expect(await staging.getJson('p/run=1/missing.json')).toBeUndefined();
      expect((await listAll(staging, 'p/')).map((o) => o.key)).toEqual(['p/run=1/manifest.json']);
    });

    test('putJson refuses a value that is not JSON', async () => {
      await expect(staging.putJson('p/x.json', undefined)).rejects.toThrow(StagingError);
      expect(await listAll(staging, '')).toEqual([]);
    });

    test('openRead of a missing object throws StagingError', async () => {
      await expect(staging.openRead('p/none.parquet')).rejects.toThrow(StagingError);
    });

    test('list matches the exact prefix and returns keys in order', async () => {
      const keys = ['orders_old/x', 'orders/b/c', 'orders-x/y', 'ordersz', 'orders/a', 'orders/b-c', 'orders/b/a'];
      for (const k of keys) await writeObject(staging, k, k);
      expect((await listAll(staging, 'orders/')).map((o) => o.key)).toEqual([
        'orders/a',
        'orders/b-c',
        'orders/b/a',
        'orders/b/c',
      ]);
      expect((await listAll(staging, 'orders/b/')).map((o) => o.key)).toEqual(['orders/b/a', 'orders/b/c']);
      expect((await listAll(staging, '')).map((o) => o.key)).toEqual([...keys].sort());
      expect(await listAll(staging, 'nothing/')).toEqual([]);
    });

    test('a prefix must end with "/"', async () => {
      await writeObject(staging, 'orders/a', 'x');
      await expect(listAll(staging, 'orders')).rejects.toThrow(StagingError);
    });

    test('list returns every object when there are more than 1,000', async () => {
      const n = 1_050;
      const keys = Array.from({ length: n }, (_, i) => `big/run=1/chunk-${String(i).padStart(5, '0')}.parquet`);
      for (let i = 0; i < n; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => staging.putJson(k, i)));
      const listed = await listAll(staging, 'big/');
      expect(listed).toHaveLength(n);
      expect(listed.map((o) => o.key)).toEqual(keys);
    });

    test('delete removes the given objects, ignores missing ones and keeps the rest', async () => {
      for (const k of ['d/run=1/a', 'd/run=1/b', 'd/run=2/a', 'e/a']) await writeObject(staging, k, k);
      await staging.delete(['d/run=1/a', 'd/run=1/b', 'd/run=9/missing']);
      expect((await listAll(staging, '')).map((o) => o.key)).toEqual(['d/run=2/a', 'e/a']);
      await staging.delete([]);
      await staging.delete(['d/run=2/a', 'e/a']);
      expect(await listAll(staging, '')).toEqual([]);
    });

    test.each(BAD_KEYS)('the key %j is refused by every method', async (key) => {
      expect(() => staging.createWriteStream(key)).toThrow(StagingError);
      expect(() => staging.locate(key)).toThrow(StagingError);
      await expect(staging.putJson(key, {})).rejects.toThrow(StagingError);
      await expect(staging.getJson(key)).rejects.toThrow(StagingError);
      await expect(staging.openRead(key)).rejects.toThrow(StagingError);
      await expect(staging.delete([key])).rejects.toThrow(StagingError);
    });

    test.each(['../', 'a/../', '/abs/', 'a//'])('the prefix %j is refused', async (prefix) => {
      await expect(listAll(staging, prefix)).rejects.toThrow(StagingError);
    });

    test('a batch delete with one bad key deletes nothing', async () => {
      await writeObject(staging, 'keep/a', 'a');
      await expect(staging.delete(['keep/a', '../escape'])).rejects.toThrow(StagingError);
      expect((await listAll(staging, '')).map((o) => o.key)).toEqual(['keep/a']);
    });
  });
}
