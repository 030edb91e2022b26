/**
 * Remote state in S3: encrypted, versioned by the bucket's own settings, and locked with S3's native
 * lock file (Terraform >= 1.10), so no DynamoDB table is needed.
 */
import { S3Backend, TerraformStack } from 'cdktf';

/** The Terraform version that introduced S3 native locking (`use_lockfile`). */
export const MIN_TERRAFORM_VERSION = '1.10';

/**
 * How S3 encrypts the state and lock objects the backend writes.
 *
 * With `encrypt = true` and no `kms_key_id`, Terraform's S3 backend asks for SSE-S3 on every write
 * (`x-amz-server-side-encryption: AES256`), whatever the bucket's default encryption is: on a bucket
 * whose default is SSE-KMS, the state would then not be encrypted with the bucket's key.
 */
export type StateObjectEncryption =
  /** SSE-S3: `encrypt = true`. */
  | { readonly type: 'SSE-S3' }
  /** SSE-KMS with a key known at synth: `encrypt = true` and `kms_key_id`. */
  | { readonly type: 'SSE-KMS'; readonly kmsKeyArn: string }
  /**
   * The bucket's default encryption: no encryption header (`encrypt = false`), so S3 encrypts with the
   * bucket's default, SSE-KMS with the key the state account's bootstrap creates, whose ARN no stack
   * knows at synth.
   */
  | { readonly type: 'bucket-default' };

/** Where a stack keeps its state. */
export interface S3StateProps {
  /** Bucket holding the state (versioning and encryption enabled on it). */
  readonly bucket: string;
  /** Region of the bucket. */
  readonly region: string;
  /** Object key of this stack's state, e.g. `bitbucket-oidc/production.tfstate`. */
  readonly key: string;
  /** @default { type: 'SSE-S3' } */
  readonly encryption?: StateObjectEncryption;
}

/**
 * Configures the stack's S3 backend with its encryption (see {@link StateObjectEncryption}) and
 * `use_lockfile = true`, and requires Terraform >= 1.10. cdktf 0.21's `S3BackendConfig` lacks
 * `useLockfile`, hence the override. The lock needs s3:GetObject, s3:PutObject and s3:DeleteObject
 * on `<key>.tflock`.
 */
export function configureS3State(stack: TerraformStack, props: S3StateProps): S3Backend {
  const { bucket, region, key, encryption = { type: 'SSE-S3' } } = props;
  const backend = new S3Backend(stack, {
    bucket,
    region,
    key,
    encrypt: encryption.type !== 'bucket-default',
    ...(encryption.type === 'SSE-KMS' ? { kmsKeyId: encryption.kmsKeyArn } : {}),
  });
  stack.addOverride('terraform.backend.s3.use_lockfile', true);
  stack.addOverride('terraform.required_version', `>= ${MIN_TERRAFORM_VERSION}`);
  return backend;
}
