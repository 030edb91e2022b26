/**
 * Remote state in S3: encrypted, versioned by the bucket's own settings, and locked with S3's native
 * lock file (Terraform >= 1.10), so no DynamoDB table is needed.
 */
import { S3Backend, TerraformStack } from 'cdktf';

/** The Terraform version that introduced S3 native locking (`use_lockfile`). */
export const MIN_TERRAFORM_VERSION = '1.10';

/** Where a stack keeps its state. */
export interface S3StateProps {
  /** Bucket holding the state (versioning and encryption enabled on it). */
  readonly bucket: string;
  /** Region of the bucket. */
  readonly region: string;
  /** Object key of this stack's state, e.g. `bitbucket-oidc/production.tfstate`. */
  readonly key: string;
}

/**
 * Configures the stack's S3 backend with `encrypt = true` and `use_lockfile = true`, and requires
 * Terraform >= 1.10. cdktf 0.21's `S3BackendConfig` lacks `useLockfile`, hence the override.
 * The lock needs s3:GetObject, s3:PutObject and s3:DeleteObject on `<key>.tflock`.
 */
export function configureS3State(stack: TerraformStack, props: S3StateProps): S3Backend {
  const { bucket, region, key } = props;
  const backend = new S3Backend(stack, { bucket, region, key, encrypt: true });
  stack.addOverride('terraform.backend.s3.use_lockfile', true);
  stack.addOverride('terraform.required_version', `>= ${MIN_TERRAFORM_VERSION}`);
  return backend;
}
