/**
 * The S3 Staging: keys are object keys in one bucket, as given (the naming module already puts the configured
 * prefix at the front of every key). Writes stream as multipart uploads (upload-writer.ts), listings paginate to
 * the end in S3's order, deletes go in batches of 1,000 and fail on any per-key error S3 reports.
 */

import { PassThrough, Readable, type Writable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { ConfigError, describeError, StagingError } from '../../errors.js';
import type { StagedObject, Staging } from '../../ports/index.js';
import { s3ErrorName, toHighwaterError } from './errors.js';
import { checkKey, checkPrefix } from './keys.js';
import { S3UploadWriter } from './upload-writer.js';

const MiB = 1024 * 1024;
/** S3's smallest part (all but the last) and largest part. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
export const DEFAULT_PART_SIZE = 8 * MiB;
export const DEFAULT_QUEUE_SIZE = 2;
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface S3StagingOptions {
  bucket: string;
  /** The root every key starts with (the pipeline's `s3.prefix`, ending in `/`, or empty). */
  prefix?: string;
  /** Defaults to us-east-1; ignored when `client` is given. */
  region?: string;
  /** An S3-compatible endpoint (path-style addressing is then used); ignored when `client` is given. */
  endpoint?: string;
  /** A ready client; otherwise one is made with the default credential provider chain. */
  client?: S3Client;
  /** Multipart part size (5 MiB to 5 GiB); default 8 MiB. */
  partSizeBytes?: number;
  /** Parts in flight per object; memory per open stream is about (queueSize + 1) × partSizeBytes. Default 2. */
  queueSize?: number;
}

function checkOptions(opts: S3StagingOptions): { partSize: number; queueSize: number } {
  if (typeof opts.bucket !== 'string' || !BUCKET_NAME.test(opts.bucket)) {
    throw new ConfigError(
      `S3 staging: bucket ${JSON.stringify(opts.bucket)} is not a valid S3 bucket name (3–63 characters: a-z, 0-9, ".", "-")`,
    );
  }
  const partSize = opts.partSizeBytes ?? DEFAULT_PART_SIZE;
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
    throw new ConfigError(`S3 staging: partSizeBytes ${partSize} must be a whole number from 5 MiB to 5 GiB`);
  }
  const queueSize = opts.queueSize ?? DEFAULT_QUEUE_SIZE;
  if (!Number.isInteger(queueSize) || queueSize < 1) {
    throw new ConfigError(`S3 staging: queueSize ${queueSize} must be a whole number of at least 1`);
  }
  return { partSize, queueSize };
}

export function createS3Staging(opts: S3StagingOptions): Staging {
  const { partSize, queueSize } = checkOptions(opts);
  const bucket = opts.bucket;
  const client =
    opts.client ??
    new S3Client({
      region: opts.region ?? 'us-east-1',
      endpoint: opts.endpoint,
      forcePathStyle: opts.endpoint !== undefined,
    });
  const where = (key: string): string => `s3://${bucket}/${key}`;

  async function getObject(key: string): Promise<Readable | undefined> {
    let body: unknown;
    try {
      body = (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body;
    } catch (e) {
      if (s3ErrorName(e) === 'NoSuchKey') return undefined;
      throw toHighwaterError('read', where(key), e);
    }
    if (!(body instanceof Readable))
      throw new StagingError(`S3 staging: ${where(key)} came back without a body stream`);
    return body;
  }

  return {
    prefix: opts.prefix ?? '',
    createWriteStream(key: string): Writable {
      return new S3UploadWriter({ client, bucket, key: checkKey(key), partSize, queueSize });
    },

    async finished(stream: Writable): Promise<{ bytes: number }> {
      if (!(stream instanceof S3UploadWriter)) {
        throw new StagingError('S3 staging: finished() was given a stream that createWriteStream did not create');
      }
      return stream.outcome;
    },

    async putJson(key: string, value: unknown): Promise<void> {
      checkKey(key);
      const text = JSON.stringify(value);
      if (text === undefined) throw new StagingError(`S3 staging: ${where(key)}: value is not JSON-serialisable`);
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: 'application/json' }),
        );
      } catch (e) {
        throw toHighwaterError('write', where(key), e);
      }
    },

    async getJson(key: string): Promise<unknown | undefined> {
      const body = await getObject(checkKey(key));
      if (body === undefined) return undefined;
      const parts: Buffer[] = [];
      try {
        for await (const part of body) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(String(part)));
      } catch (e) {
        throw toHighwaterError('read', where(key), e);
      }
      try {
        return JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
      } catch (e) {
        throw new StagingError(`S3 staging: ${where(key)} is not valid JSON: ${describeError(e)}`, { cause: e });
      }
    },

    async openRead(key: string): Promise<Readable> {
      const body = await getObject(checkKey(key));
      if (body === undefined) throw new StagingError(`S3 staging: ${where(key)} does not exist`);
      // Errors mid-read (connection reset) surface as StagingError naming the object, like every other failure.
      const out = new PassThrough();
      body.on('error', (e: unknown) => out.destroy(toHighwaterError('read', where(key), e)));
      out.on('close', () => body.destroy());
      body.pipe(out);
      return out;
    },

    async *list(prefix: string): AsyncGenerator<StagedObject> {
      checkPrefix(prefix);
      try {
        const pages = paginateListObjectsV2(
          { client },
          { Bucket: bucket, ...(prefix === '' ? {} : { Prefix: prefix }) },
        );
        for await (const page of pages) {
          for (const o of page.Contents ?? []) {
            if (o.Key === undefined) continue;
            yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
          }
        }
      } catch (e) {
        throw toHighwaterError('list', where(prefix), e);
      }
    },

    async delete(keys: readonly string[]): Promise<void> {
      // Refuse the whole batch before touching anything if one key is bad.
      const unique = [...new Set(keys.map(checkKey))];
      for (let i = 0; i < unique.length; i += DELETE_BATCH) {
        const batch = unique.slice(i, i + DELETE_BATCH);
        const label = `${batch.length} object(s) from s3://${bucket}/ (${batch[0]}${batch.length > 1 ? ', …' : ''})`;
        let errors: { Key?: string; Code?: string; Message?: string }[];
        try {
          const out = await client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          );
          errors = out.Errors ?? [];
        } catch (e) {
          throw toHighwaterError('delete', label, e);
        }
        // DeleteObjects answers 200 even when some keys failed; those are listed in Errors.
        if (errors.length > 0) {
          const shown = errors
            .slice(0, 5)
            .map((x) => `${where(x.Key ?? '?')}: ${x.Code ?? 'Error'}: ${x.Message ?? ''}`)
            .join('; ');
          throw new StagingError(
            `S3 staging: cannot delete ${errors.length} of ${label}: ${shown}${errors.length > 5 ? '; …' : ''}`,
          );
        }
      }
    },

    locate(key: string): string {
      return where(checkKey(key));
    },
  };
}
