/**
 * A Writable whose bytes go to S3 as they are produced: a PassThrough feeds a lib-storage Upload, which sends
 * `partSize` parts, `queueSize` at a time (one PutObject when everything fits in one part). Writes wait while the
 * parts are in flight, so at most about (queueSize + 1) × partSize bytes are held whatever the object's size.
 * S3 shows the object only when the upload completes; a destroyed stream aborts the multipart upload instead.
 */

import { PassThrough, Writable } from 'node:stream';
import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { describeError, StagingError } from '../../errors.js';
import { describeS3Error, s3ErrorName, toHighwaterError } from './errors.js';

export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  partSize: number;
  queueSize: number;
}

export class S3UploadWriter extends Writable {
  /** Settles once the object is stored (resolves with its size) or the upload is abandoned and cleaned up. */
  readonly outcome: Promise<{ bytes: number }>;
  private resolveOutcome: (v: { bytes: number }) => void = () => undefined;
  private rejectOutcome: (e: StagingError) => void = () => undefined;
  private readonly location: string;
  private readonly body = new PassThrough();
  private readonly upload: Upload;
  /** Settles when the Upload does: after CompleteMultipartUpload, or after its own AbortMultipartUpload. */
  private readonly uploaded: Promise<void>;
  private completed = false;
  private bytes = 0;

  constructor(private readonly target: UploadTarget) {
    super();
    this.location = `s3://${target.bucket}/${target.key}`;
    this.outcome = new Promise((resolve, reject) => {
      this.resolveOutcome = resolve;
      this.rejectOutcome = reject;
    });
    // Failures are reported through `outcome` (Staging.finished); these keep them from being unhandled.
    this.outcome.catch(() => undefined);
    this.on('error', () => undefined);
    this.body.on('error', () => undefined);

    this.upload = new Upload({
      client: target.client,
      params: { Bucket: target.bucket, Key: target.key, Body: this.body },
      partSize: target.partSize,
      queueSize: target.queueSize,
      leavePartsOnError: false,
    });
    this.uploaded = this.upload.done().then(
      () => {
        this.completed = true;
      },
      (e: unknown) => {
        throw toHighwaterError('write', this.location, e);
      },
    );
    // An upload that fails on its own (S3 refused a part, the network is gone) ends the stream at once, so the
    // producer stops instead of waiting for a drain that will never come. After end(), _final reports it.
    this.uploaded.catch((e: StagingError) => {
      if (!this.writableEnded && !this.destroyed) this.destroy(e);
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    if (this.body.write(chunk)) {
      callback();
      return;
    }
    // Backpressure: the Upload reads the body only while it has a free slot for the next part.
    const settle = (error?: Error): void => {
      this.body.off('drain', onDrain);
      this.body.off('close', onClose);
      callback(error);
    };
    const onDrain = (): void => settle();
    const onClose = (): void =>
      settle(this.body.errored ?? new StagingError(`S3 staging: the upload of ${this.location} was stopped`));
    this.body.once('drain', onDrain);
    this.body.once('close', onClose);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.body.end();
    this.uploaded.then(
      () => {
        this.resolveOutcome({ bytes: this.bytes });
        callback();
      },
      (e: StagingError) => callback(e),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.completed) {
      this.resolveOutcome({ bytes: this.bytes });
      callback(error);
      return;
    }
    const reason = error ?? new Error('the write stream was destroyed before it finished');
    // The Upload reads the body: an errored body makes it stop, abort its multipart upload and reject. Waiting for
    // that (rather than Upload.abort(), which settles done() at once while parts may still be in flight) means
    // finished() rejects only after no part of this object is left in S3.
    this.body.destroy(reason);
    this.uploaded
      .then(
        () => undefined,
        () => this.abortLeftover(),
      )
      .then((leftover) => {
        if (this.completed) {
          // The upload had already been sent complete when the stream was destroyed: the object is stored.
          this.resolveOutcome({ bytes: this.bytes });
        } else {
          this.rejectOutcome(this.failure(reason, leftover));
        }
        callback(error);
      });
  }

  private failure(reason: Error, leftover: string | undefined): StagingError {
    if (reason instanceof StagingError && leftover === undefined) return reason;
    const base =
      reason instanceof StagingError
        ? reason.message
        : `S3 staging: cannot write ${this.location}: ${describeError(reason)}`;
    return new StagingError(leftover === undefined ? base : `${base}; ${leftover}`, {
      cause: reason,
      suggestion:
        leftover !== undefined
          ? 'A bucket lifecycle rule with AbortIncompleteMultipartUpload removes the parts left behind.'
          : reason instanceof StagingError
            ? reason.suggestion
            : undefined,
    });
  }

  /**
   * A second AbortMultipartUpload, in case the Upload's own one failed or never ran. Returns a note for the error
   * message when parts may remain (a lifecycle rule for incomplete multipart uploads then removes them).
   */
  private async abortLeftover(): Promise<string | undefined> {
    const uploadId = this.upload.uploadId;
    if (uploadId === undefined) return undefined;
    try {
      await this.target.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: uploadId }),
      );
      return undefined;
    } catch (e) {
      if (s3ErrorName(e) === 'NoSuchUpload') return undefined; // already aborted by the Upload itself
      return `its multipart upload ${uploadId} could not be aborted either: ${describeS3Error(e)}`;
    }
  }
}
