/**
 * The S3 bucket that holds every stack's Terraform state: versioned (a bad apply can be rolled back),
 * encrypted by default, closed to the public and to ACLs, replaced versions expired after a while,
 * never destroyed by Terraform (`prevent_destroy`), and a bucket policy given by the caller (see
 * `stateBucketPolicy` in `src/pipeline-roles/`). With SSE-KMS it encrypts with a key the caller
 * names, or with a key it creates (rotation on, the caller's key policy, `prevent_destroy` too).
 *
 * @see https://developer.hashicorp.com/terraform/language/backend/s3 (versioning recommended)
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
 */
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { Construct } from 'constructs';
import { PolicyDocument } from '../iam/policy';
import { renderPolicy } from './role';

/** The bucket's default encryption. */
export type StateBucketEncryption =
  /** S3's own keys (AES256). */
  | { readonly type: 'SSE-S3' }
  /** An existing KMS key of the bucket's region, by ARN. */
  | { readonly type: 'SSE-KMS'; readonly kmsKeyArn: string }
  /** A KMS key this construct creates, with this key policy. */
  | { readonly type: 'SSE-KMS'; readonly keyPolicy: PolicyDocument };

/** Props of `StateBucket`. */
export interface StateBucketProps {
  /** The bucket's name. @example 'acme-terraform-state' */
  readonly bucket: string;
  /**
   * Region of the bucket (and of a key it creates), set on every resource (the AWS provider 6.x
   * `region` argument), so the bucket may be in another region than the stack's provider.
   * @default - the provider's region
   * @example 'eu-west-1'
   */
  readonly region?: string;
  readonly encryption: StateBucketEncryption;
  /** Days after which a replaced (noncurrent) version of an object is deleted. @example 90 */
  readonly noncurrentVersionExpirationDays: number;
  /** Days after which an unfinished multipart upload is aborted. @default 7 */
  readonly abortIncompleteMultipartUploadDays?: number;
  /** The bucket policy (a document without tokens). */
  readonly policy: PolicyDocument;
}

/** Name of the lifecycle rule, named once (tests and people look for it). */
export const STATE_LIFECYCLE_RULE_ID = 'expire-replaced-state-versions';

/** The state bucket and its settings. */
export class StateBucket extends Construct {
  readonly bucket: S3Bucket;
  /** The key the bucket encrypts with, when this construct creates it. */
  readonly kmsKey?: KmsKey;
  /** `arn:<p>:s3:::<bucket>` (known after apply). */
  readonly arn: string;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    const { bucket: name, region, encryption, noncurrentVersionExpirationDays, abortIncompleteMultipartUploadDays = 7, policy } = props;
    const inRegion = region === undefined ? {} : { region };

    this.bucket = new S3Bucket(this, 'bucket', {
      ...inRegion,
      bucket: name,
      // Emptying the bucket is never Terraform's job: it holds every account's state.
      forceDestroy: false,
      lifecycle: { preventDestroy: true },
    });
    this.arn = this.bucket.arn;
    const bucket = this.bucket.id;

    const versioning = new S3BucketVersioningA(this, 'versioning', {
      ...inRegion,
      bucket,
      versioningConfiguration: { status: 'Enabled' },
    });

    let sse: { sseAlgorithm: string; kmsMasterKeyId?: string };
    if (encryption.type === 'SSE-S3') {
      sse = { sseAlgorithm: 'AES256' };
    } else if ('kmsKeyArn' in encryption) {
      sse = { sseAlgorithm: 'aws:kms', kmsMasterKeyId: encryption.kmsKeyArn };
    } else {
      this.kmsKey = new KmsKey(this, 'key', {
        ...inRegion,
        description: `Encrypts the Terraform state in s3://${name}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: renderPolicy(encryption.keyPolicy),
        lifecycle: { preventDestroy: true },
      });
      sse = { sseAlgorithm: 'aws:kms', kmsMasterKeyId: this.kmsKey.arn };
    }
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      ...inRegion,
      bucket,
      rule: [
        {
          applyServerSideEncryptionByDefault: sse,
          // Off: with S3 Bucket Keys the KMS encryption context is the bucket's ARN, not the object's, and
          // the pipeline roles' KMS grants are scoped to their own objects' ARNs.
          bucketKeyEnabled: false,
        },
      ],
    });

    const publicAccessBlock = new S3BucketPublicAccessBlock(this, 'public-access-block', {
      ...inRegion,
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });

    new S3BucketOwnershipControls(this, 'ownership', {
      ...inRegion,
      bucket,
      // ACLs disabled: the bucket owner owns every object, and only policies grant access.
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });

    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      ...inRegion,
      bucket,
      rule: [
        {
          id: STATE_LIFECYCLE_RULE_ID,
          status: 'Enabled',
          filter: [{ prefix: '' }],
          noncurrentVersionExpiration: [{ noncurrentDays: noncurrentVersionExpirationDays }],
          // Each unlock deletes the lock file, leaving a delete marker; once its versions have expired the
          // marker is removed too.
          expiration: [{ expiredObjectDeleteMarker: true }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: abortIncompleteMultipartUploadDays }],
        },
      ],
      // As the provider's documentation advises for a versioned bucket: versioning first.
      dependsOn: [versioning],
    });

    new S3BucketPolicy(this, 'policy', {
      ...inRegion,
      bucket,
      policy: renderPolicy(policy),
      // The policy is not public, but S3 evaluates it against the block when it is put.
      dependsOn: [publicAccessBlock],
    });
  }
}
