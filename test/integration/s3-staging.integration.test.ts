/**
 * The S3 Staging against a real S3 protocol server (fauxqs, test/support/fauxqs.ts): the Staging contract suite
 * unchanged, then multipart streaming, aborts, pagination, batch deletes and failures. Requests are observed (and,
 * where a test says so in its name, one reply is altered) by a middleware on the test's own S3 client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  type DeleteObjectsCommandOutput,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createS3Staging } from '../../lambdas/adapters/s3-staging/index.js';
import { ConfigError, StagingError } from '../../lambdas/errors.js';
import type { Staging } from '../../lambdas/ports/index.js';
import { describeStagingContract, listAll, readAll, writeObject } from '../contract/staging.contract.js';
import { FAUXQS_CREDENTIALS, type FauxqsInstance, startFauxqs } from '../support/fauxqs.js';
import { freePort } from '../support/free-port.js';

const MiB = 1024 * 1024;
const ENV_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;
const savedEnv = new Map<string, string | undefined>();

let fauxqs: FauxqsInstance;
let bucketCount = 0;

beforeAll(async () => {
  // The adapter's own client takes credentials from the default provider chain: the environment, here.
  for (const k of ENV_KEYS) savedEnv.set(k, process.env[k]);
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_ACCESS_KEY_ID = FAUXQS_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = FAUXQS_CREDENTIALS.secretAccessKey;
  fauxqs = await startFauxqs();
});

afterAll(async () => {
  await fauxqs?.stop();
  for (const [k, v] of savedEnv) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

async function freshBucket(server: FauxqsInstance = fauxqs): Promise<string> {
  const name = `hw-test-${++bucketCount}`;
  await server.createBucket(name);
  return name;
}

describeStagingContract('s3 (fauxqs)', async () => {
  const bucket = await freshBucket();
  return {
    staging: createS3Staging({ bucket, endpoint: fauxqs.endpoint }),
    async cleanup() {
      // The bucket is left behind: fauxqs keeps it in memory until the server stops.
    },
  };
});

interface Call {
  command: string;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
}

interface Recorder {
  client: S3Client;
  calls: Call[];
  names(): string[];
  /** Bytes of UploadPart requests S3 has acknowledged so far. */
  storedPartBytes(): number;
}

/**
 * A client that records every completed command. `hook` runs before a command is sent (it may wait) and may
 * change its output afterwards.
 */
function recorder(
  server: FauxqsInstance,
  hook: { before?: (command: string) => Promise<void>; after?: (command: string, output: unknown) => void } = {},
): Recorder {
  const client = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: FAUXQS_CREDENTIALS,
  });
  const calls: Call[] = [];
  let stored = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      await hook.before?.(command);
      const result = await next(args);
      hook.after?.(command, result.output);
      const input = args.input as Record<string, unknown>;
      if (command === 'UploadPartCommand' && Buffer.isBuffer(input.Body)) stored += input.Body.length;
      calls.push({ command, input, output: result.output as unknown as Record<string, unknown> });
      return result;
    },
    { step: 'initialize', name: 'hwRecorder' },
  );
  return {
    client,
    calls,
    names: () => calls.map((c) => c.command),
    storedPartBytes: () => stored,
  };
}

function writeChunk(stream: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => stream.write(chunk, (e) => (e ? reject(e) : resolve())));
}

async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function uploadIdOf(rec: Recorder): string | undefined {
  const created = rec.calls.find((c) => c.command === 'CreateMultipartUploadCommand');
  return typeof created?.output.UploadId === 'string' ? created.output.UploadId : undefined;
}

async function expectNoSuchUpload(client: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  // fauxqs has no ListMultipartUploads (GET ?uploads answers as a plain listing), so ask about the upload itself:
  // aborting it again succeeds only if it still exists.
  const err = await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((err as { name?: string } | undefined)?.name).toBe('NoSuchUpload');
}

describe('s3 staging on fauxqs', () => {
  test('multipart: 20 MiB streamed in 64 KiB chunks arrives intact in 4 parts, never more than 3 parts buffered', async () => {
    const bucket = await freshBucket();
    const rec = recorder(fauxqs);
    const partSize = 5 * MiB;
    const queueSize = 2;
    const staging = createS3Staging({ bucket, client: rec.client, partSizeBytes: partSize, queueSize });
    const key = 'p/t/run=1/chunk-00000.parquet';
    const stream = staging.createWriteStream(key);
    const md5 = createHash('md5');
    const total = 20 * MiB;
    let accepted = 0;
    let peakBuffered = 0;
    for (let offset = 0; offset < total; offset += 64 * 1024) {
      const chunk = randomBytes(64 * 1024);
      md5.update(chunk);
      const ok = stream.write(chunk);
      accepted += chunk.length;
      peakBuffered = Math.max(peakBuffered, accepted - rec.storedPartBytes());
      if (!ok) await once(stream, 'drain');
    }
    stream.end();
    expect(await staging.finished(stream)).toEqual({ bytes: total });

    // Bytes handed to the stream but not yet stored by S3: parts in flight plus the one being filled.
    expect(peakBuffered).toBeGreaterThan(partSize);
    expect(peakBuffered).toBeLessThanOrEqual((queueSize + 1) * partSize + MiB);

    const parts = rec.calls.filter((c) => c.command === 'UploadPartCommand');
    expect(parts.map((c) => (c.input.Body as Buffer).length)).toEqual([partSize, partSize, partSize, partSize]);
    expect(rec.names().filter((n) => n !== 'UploadPartCommand')).toEqual([
      'CreateMultipartUploadCommand',
      'CompleteMultipartUploadCommand',
    ]);
    const head = await rec.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ETag).toMatch(/-4"$/);
    expect(head.ContentLength).toBe(total);
    const read = await readAll(await staging.openRead(key));
    expect(createHash('md5').update(read).digest('hex')).toBe(md5.digest('hex'));
  });

  test('an object smaller than one part goes up in a single PutObject', async () => {
    const bucket = await freshBucket();
    const rec = recorder(fauxqs);
    const staging = createS3Staging({ bucket, client: rec.client });
    expect(await writeObject(staging, 'p/small.bin', Buffer.alloc(1000, 1))).toBe(1000);
    expect(rec.names()).toEqual(['PutObjectCommand']);
  });

  test('a write stream destroyed mid-upload leaves no object and no multipart upload', async () => {
    const bucket = await freshBucket();
    const rec = recorder(fauxqs);
    const staging = createS3Staging({ bucket, client: rec.client, partSizeBytes: 5 * MiB });
    const key = 'p/run=1/chunk-00003.parquet';
    const stream = staging.createWriteStream(key);
    for (let i = 0; i < 11; i++) await writeChunk(stream, randomBytes(MiB));
    const uploadId = await waitFor('CreateMultipartUpload', () => uploadIdOf(rec));
    await waitFor('an uploaded part', () => (rec.storedPartBytes() > 0 ? true : undefined));

    stream.destroy(new Error('producer crashed'));
    const err = await staging.finished(stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StagingError);
    expect((err as StagingError).message).toBe(`S3 staging: cannot write s3://${bucket}/${key}: producer crashed`);
    expect(rec.names()).toContain('AbortMultipartUploadCommand');
    expect(rec.names()).not.toContain('CompleteMultipartUploadCommand');
    expect(await listAll(staging, '')).toEqual([]);
    await expect(staging.openRead(key)).rejects.toThrow(`S3 staging: s3://${bucket}/${key} does not exist`);
    await expectNoSuchUpload(fauxqs.client, bucket, key, uploadId);
  });

  test('destroying a stream after it finished keeps the object', async () => {
    const bucket = await freshBucket();
    const staging = createS3Staging({ bucket, client: fauxqs.client });
    const stream = staging.createWriteStream('p/kept.bin');
    await pipeline(Readable.from([Buffer.from('kept')]), stream);
    stream.destroy(new Error('too late'));
    expect(await staging.finished(stream)).toEqual({ bytes: 4 });
    expect((await readAll(await staging.openRead('p/kept.bin'))).toString()).toBe('kept');
  });

  test('a stream destroyed while S3 completes its upload reports the stored object', async () => {
    const bucket = await freshBucket();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let putStarted = false;
    const rec = recorder(fauxqs, {
      before: async (command) => {
        if (command !== 'PutObjectCommand') return;
        putStarted = true;
        await gate;
      },
    });
    const staging = createS3Staging({ bucket, client: rec.client });
    const stream = staging.createWriteStream('p/racing.bin');
    stream.end(Buffer.from('all of it'));
    await waitFor('PutObject', () => (putStarted ? true : undefined));
    stream.destroy(new Error('late cancel'));
    release();
    expect(await staging.finished(stream)).toEqual({ bytes: 9 });
    expect((await readAll(await staging.openRead('p/racing.bin'))).toString()).toBe('all of it');
  });

  test('1,050 objects: listed over two ListObjectsV2 pages, deleted in two DeleteObjects batches', async () => {
    const bucket = await freshBucket();
    const rec = recorder(fauxqs);
    const staging = createS3Staging({ bucket, client: rec.client });
    const keys = Array.from({ length: 1_050 }, (_, i) => `big/run=1/chunk-${String(i).padStart(5, '0')}.parquet`);
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(keys.slice(i, i + 50).map((k) => staging.putJson(k, i)));
    await staging.putJson('other/keep.json', 1);

    rec.calls.length = 0;
    expect((await listAll(staging, 'big/')).map((o) => o.key)).toEqual(keys);
    expect(rec.names()).toEqual(['ListObjectsV2Command', 'ListObjectsV2Command']);

    rec.calls.length = 0;
    await staging.delete([...keys, keys[0]!]); // a repeated key is sent once
    const batches = rec.calls.filter((c) => c.command === 'DeleteObjectsCommand');
    expect(batches.map((c) => (c.input.Delete as { Objects: unknown[] }).Objects.length)).toEqual([1000, 50]);
    expect((await listAll(staging, '')).map((o) => o.key)).toEqual(['other/keep.json']);
  });

  test('prefixes are exact: orders/ does not match orders_old/, orders-x/ or ordersz', async () => {
    const bucket = await freshBucket();
    const staging = createS3Staging({ bucket, client: fauxqs.client });
    for (const k of ['orders_old/a', 'orders/a', 'orders-x/a', 'ordersz', 'orders/b/c'])
      await writeObject(staging, k, k);
    expect((await listAll(staging, 'orders/')).map((o) => o.key)).toEqual(['orders/a', 'orders/b/c']);
    expect((await listAll(staging, 'orders_old/')).map((o) => o.key)).toEqual(['orders_old/a']);
    expect((await listAll(staging, 'orders/b/')).map((o) => [o.key, o.size])).toEqual([['orders/b/c', 10]]);
  });

  test('locate gives s3://bucket/key and refuses bad keys', async () => {
    const staging = createS3Staging({ bucket: 'hw-locate', client: fauxqs.client });
    expect(staging.locate('p/t/run=1/chunk-00000.parquet')).toBe('s3://hw-locate/p/t/run=1/chunk-00000.parquet');
    expect(() => staging.locate('a/../b')).toThrow(StagingError);
    expect(() => staging.locate(`p/${'x'.repeat(1023)}`)).toThrow(/longer than S3's 1024 bytes/);
    expect(() => staging.locate('p/a\nb')).toThrow(/control character/);
    expect(() => staging.locate('p/\ud800x')).toThrow(/not valid Unicode/);
    await expect(staging.putJson(`p/${'é'.repeat(600)}`, 1)).rejects.toThrow(StagingError);
  });

  test('options are checked: bucket name, part size, queue size', () => {
    expect(() => createS3Staging({ bucket: 'Bad_Bucket' })).toThrow(ConfigError);
    expect(() => createS3Staging({ bucket: 's3://hw-x' })).toThrow(/not a valid S3 bucket name/);
    expect(() => createS3Staging({ bucket: 'hw-x', partSizeBytes: MiB })).toThrow(/partSizeBytes 1048576/);
    expect(() => createS3Staging({ bucket: 'hw-x', queueSize: 0 })).toThrow(/queueSize 0/);
    expect(() => createS3Staging({ bucket: 'hw-x', queueSize: 1.5 })).toThrow(ConfigError);
  });

  test('getJson of an object that is not JSON throws StagingError naming it', async () => {
    const bucket = await freshBucket();
    const staging = createS3Staging({ bucket, client: fauxqs.client });
    await writeObject(staging, 'p/bad.json', '{not json');
    await expect(staging.getJson('p/bad.json')).rejects.toThrow(
      `S3 staging: s3://${bucket}/p/bad.json is not valid JSON`,
    );
  });

  test('a missing bucket fails writes, reads, listings and deletes with StagingError naming the object', async () => {
    const staging = createS3Staging({ bucket: 'hw-no-such-bucket', client: fauxqs.client, partSizeBytes: 5 * MiB });
    const small = staging.createWriteStream('p/x.bin');
    small.end(Buffer.from('x'));
    const err = await staging.finished(small).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StagingError);
    expect((err as StagingError).message).toMatch(
      /^S3 staging: cannot write s3:\/\/hw-no-such-bucket\/p\/x\.bin: NoSuchBucket/,
    );
    expect((err as StagingError).suggestion).toMatch(/bucket name/);

    // A large write fails at CreateMultipartUpload: the producer is stopped rather than left waiting for a drain.
    const big = staging.createWriteStream('p/big.bin');
    async function* endless() {
      for (;;) yield randomBytes(MiB);
    }
    await expect(pipeline(Readable.from(endless()), big)).rejects.toThrow(/NoSuchBucket/);
    await expect(staging.finished(big)).rejects.toThrow(/cannot write s3:\/\/hw-no-such-bucket\/p\/big\.bin/);

    await expect(staging.putJson('p/x.json', 1)).rejects.toThrow(/cannot write s3:\/\/hw-no-such-bucket\/p\/x\.json/);
    await expect(staging.getJson('p/x.json')).rejects.toThrow(/cannot read s3:\/\/hw-no-such-bucket\/p\/x\.json/);
    await expect(listAll(staging, 'p/')).rejects.toThrow(/cannot list s3:\/\/hw-no-such-bucket\/p\/: NoSuchBucket/);
  });

  test('per-key Errors in a DeleteObjects reply become StagingError naming the keys (reply altered by client middleware)', async () => {
    const bucket = await freshBucket();
    const rec = recorder(fauxqs, {
      after: (command, output) => {
        if (command !== 'DeleteObjectsCommand') return;
        (output as DeleteObjectsCommandOutput).Errors = [
          { Key: 'd/b', Code: 'AccessDenied', Message: 'Access Denied' },
        ];
      },
    });
    const staging = createS3Staging({ bucket, client: rec.client });
    await writeObject(staging, 'd/a', 'a');
    await expect(staging.delete(['d/a', 'd/b'])).rejects.toThrow(
      `S3 staging: cannot delete 1 of 2 object(s) from s3://${bucket}/ (d/a, …): s3://${bucket}/d/b: AccessDenied: Access Denied`,
    );
  });

  test('a delete that cannot reach S3 throws StagingError', async () => {
    const staging = createS3Staging({
      bucket: 'hw-unreachable',
      endpoint: `http://127.0.0.1:${await freePort()}`,
    });
    await expect(staging.delete(['d/a'])).rejects.toThrow(
      /cannot delete 1 object\(s\) from s3:\/\/hw-unreachable\/ \(d\/a\)/,
    );
  });

  test('an unreachable endpoint gives a transient StagingError that carries no secret', async () => {
    const staging = createS3Staging({ bucket: 'hw-unreachable', endpoint: `http://127.0.0.1:${await freePort()}` });
    const failures: unknown[] = [];
    failures.push(await staging.putJson('p/x.json', { a: 1 }).catch((e: unknown) => e));
    failures.push(await staging.openRead('p/x.bin').catch((e: unknown) => e));
    failures.push(await listAll(staging, 'p/').catch((e: unknown) => e));
    const stream = staging.createWriteStream('p/y.bin');
    stream.end(Buffer.from('data'));
    failures.push(await staging.finished(stream).catch((e: unknown) => e));

    const where = [
      's3://hw-unreachable/p/x.json',
      's3://hw-unreachable/p/x.bin',
      's3://hw-unreachable/p/',
      's3://hw-unreachable/p/y.bin',
    ];
    for (const [i, err] of failures.entries()) {
      expect(err).toBeInstanceOf(StagingError);
      const e = err as StagingError;
      expect(e.transient).toBe(true);
      expect(e.message).toContain(where[i]);
      expect(e.message).toContain('ECONNREFUSED');
      const text = `${e.message} ${JSON.stringify(e.toJSON())} ${e.suggestion}`;
      expect(text).not.toContain(FAUXQS_CREDENTIALS.secretAccessKey);
      expect(text).not.toContain(FAUXQS_CREDENTIALS.accessKeyId);
    }
  });
});

describe('s3 staging when the server goes away (a private fauxqs per test)', () => {
  let server: FauxqsInstance | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  async function privateStaging(): Promise<{ staging: Staging; bucket: string; rec: Recorder }> {
    await server?.stop();
    server = await startFauxqs();
    const bucket = await freshBucket(server);
    const rec = recorder(server);
    return { staging: createS3Staging({ bucket, client: rec.client, partSizeBytes: 5 * MiB }), bucket, rec };
  }

  test('a read cut off mid-object fails with StagingError naming the object', async () => {
    const { staging, bucket } = await privateStaging();
    const key = 'p/big.parquet';
    const stream = staging.createWriteStream(key);
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < 32; i++) yield randomBytes(MiB);
        })(),
      ),
      stream,
    );
    await staging.finished(stream);

    const read = await staging.openRead(key);
    const iterator = read[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await server!.stop();
    const err = await (async () => {
      for (;;) if ((await iterator.next()).done) return undefined;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StagingError);
    expect((err as StagingError).message).toMatch(
      new RegExp(`^S3 staging: cannot read s3://${bucket}/p/big\\.parquet: `),
    );
  });

  test('when the abort itself cannot reach S3, the error says the multipart upload may remain', async () => {
    const { staging, bucket, rec } = await privateStaging();
    const key = 'p/orphan.parquet';
    const stream = staging.createWriteStream(key);
    for (let i = 0; i < 11; i++) await writeChunk(stream, randomBytes(MiB));
    const uploadId = await waitFor('CreateMultipartUpload', () => uploadIdOf(rec));
    await waitFor('two uploaded parts', () => (rec.storedPartBytes() >= 10 * MiB ? true : undefined));
    await server!.stop();

    stream.destroy(new Error('producer crashed'));
    const err = await staging.finished(stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StagingError);
    expect((err as StagingError).message).toMatch(
      new RegExp(
        `^S3 staging: cannot write s3://${bucket}/${key}: producer crashed; its multipart upload ${uploadId} could not be aborted either: .*ECONNREFUSED`,
      ),
    );
    expect((err as StagingError).suggestion).toMatch(/AbortIncompleteMultipartUpload/);
  });
});
