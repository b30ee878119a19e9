import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface StagingBucketProps {
  /** Staged Parquet files and manifests are deleted this many days after they were written. */
  readonly stagedFileExpiryDays: number;
  /**
   * Delete the bucket (and its objects) with the stack. Staged files are transient, but a mistaken `cdk destroy`
   * must not take a run's files with it while a load is in flight.
   * @default false (RETAIN)
   */
  readonly removeOnDestroy?: boolean;
}

/** The S3 bucket the extract Lambdas stage Parquet in and Redshift COPYs from. */
export class StagingBucket extends Construct {
  public readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: StagingBucketProps) {
    super(scope, id);
    const destroy = props.removeOnDestroy ?? false;
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: destroy,
      lifecycleRules: [
        { id: 'expire-staged-files', expiration: Duration.days(props.stagedFileExpiryDays) },
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }

  /** What the staging adapter does: multipart uploads, reads, listings by prefix, cleanup. */
  /**
   * `objectActions` on the bucket's objects (what the step calls: test/stack/iam-behaviour.aws-standins.test.ts),
   * and `s3:ListBucket`, without which S3 answers a missing object with 403 instead of 404
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"): a missing staged file must
   * read as missing.
   */
  grantStagingAccess(grantee: IGrantable, objectActions: readonly string[]): void {
    const p = grantee.grantPrincipal;
    p.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...objectActions], resources: [this.bucket.arnForObjects('*')] }),
    );
    p.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
  }

  /** What Redshift COPY needs: the manifest and the files it lists. */
  grantCopyRead(grantee: IGrantable): void {
    this.grantObjects(grantee, ['s3:GetObject']);
  }

  private grantObjects(grantee: IGrantable, objectActions: string[]): void {
    const p = grantee.grantPrincipal;
    // Object keys are per run and chunk (lambdas/engine/naming.ts), so objects are granted as `bucket/*`.
    p.addToPrincipalPolicy(
      new PolicyStatement({ actions: objectActions, resources: [this.bucket.arnForObjects('*')] }),
    );
    p.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [this.bucket.bucketArn] }),
    );
  }
}
