/**
 * Access to the workload stack's Terraform state in S3, with S3 native locking (`use_lockfile`).
 *
 * @see https://developer.hashicorp.com/terraform/language/backend/s3 (permissions, `use_lockfile`)
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html (`s3:prefix`)
 */
import { Conditions, permissionStatement, PolicyStatement } from '../iam/policy';
import type { ResolvedPipelineContext } from './policy-context';
import {
  STATE_KMS_DECRYPT_ACTIONS,
  STATE_KMS_ENCRYPT_ACTIONS,
  STATE_LIST_ACTIONS,
  STATE_LOCK_ACTIONS,
  STATE_READ_ACTIONS,
  STATE_WRITE_ACTIONS,
} from './pipeline-actions';

/** One stack's state location, as ARNs. */
export interface StateLocation {
  /** `arn:<p>:s3:::<bucket>` */
  readonly bucketArn: string;
  /** The state object key (the `s3:prefix` value of a listing). */
  readonly key: string;
  /** `arn:<p>:s3:::<bucket>/<key>` */
  readonly objectArn: string;
  /** `arn:<p>:s3:::<bucket>/<key>.tflock` */
  readonly lockArn: string;
  /** @default - the bucket uses SSE-S3; no KMS permission */
  readonly kms?: StateKmsKey;
}

/** The SSE-KMS key of the state bucket, as the pipeline roles may use it. */
export interface StateKmsKey {
  /** The key's ARN, or `arn:<p>:kms:<region>:<account>:key/*` for a key created at bootstrap. */
  readonly keyArn: string;
  /** `kms:ViaService` of S3 in the key's region, e.g. `s3.eu-west-1.amazonaws.com`. */
  readonly viaService: string;
}

/** The condition key S3 sets to the object's ARN when it asks KMS for a key (S3 Bucket Keys off). */
export const S3_ENCRYPTION_CONTEXT_KEY = 'kms:EncryptionContext:aws:s3:arn';

/**
 * The conditions under which a pipeline role may use the state key: only S3 may call KMS for it
 * (`kms:ViaService`), and only for the given objects (`kms:EncryptionContext:aws:s3:arn`, which S3
 * sets to the object's ARN while S3 Bucket Keys are off; with Bucket Keys on it is the bucket's ARN
 * and these conditions refuse every use).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context
 */
export function stateKeyUseConditions(viaService: string, objectArns: readonly string[]): Conditions {
  return { StringEquals: { 'kms:ViaService': viaService, [S3_ENCRYPTION_CONTEXT_KEY]: [...objectArns] } };
}

/** `plan` reads the state; `apply` also writes it. Both take the lock (`terraform plan` locks too). */
export type StateAccess = 'plan' | 'apply';

/**
 * The statements a pipeline role needs on its own state and nothing more: listing only its own key,
 * reading (plan) or reading and writing (apply) the state object, the lock file, and the KMS key
 * (see `stateKeyStatements`). A bucket of another account must grant the same in its bucket policy
 * (`stateBucketPolicy`), and a KMS key of another account in its key policy (`stateKeyPolicy`).
 *
 * The listing is limited to `s3:prefix` = the key. Terraform's workspace listing (prefix
 * `<workspace_key_prefix>/`, default `env:/`) is therefore refused; the S3 backend's `Workspaces`
 * ignores an AccessDenied there, for the default workspace (read in OpenTofu's copy of the backend;
 * to confirm on Terraform 1.11). Other workspaces are not supported by these roles.
 * @see https://github.com/hashicorp/terraform/blob/v1.11.4/internal/backend/remote-state/s3/backend_state.go
 */
export function statePolicyStatements(state: StateLocation, access: StateAccess): PolicyStatement[] {
  const { bucketArn, key, objectArn, lockArn, kms } = state;
  return [
    permissionStatement({
      sid: 'ListOwnStateKey',
      actions: [...STATE_LIST_ACTIONS],
      resources: [bucketArn],
      conditions: { StringEquals: { 's3:prefix': key } },
    }),
    access === 'plan'
      ? permissionStatement({ sid: 'ReadOwnState', actions: [...STATE_READ_ACTIONS], resources: [objectArn] })
      : permissionStatement({ sid: 'ReadAndWriteOwnState', actions: [...STATE_WRITE_ACTIONS], resources: [objectArn] }),
    permissionStatement({ sid: 'WriteOwnStateLock', actions: [...STATE_LOCK_ACTIONS], resources: [lockArn] }),
    ...(kms === undefined ? [] : stateKeyStatements(state, kms, access)),
  ];
}

/**
 * Use of the state bucket's SSE-KMS key, through S3 only and for the role's own objects only: decrypt
 * its state and lock file (GetObject); encrypt its lock file (plan) or its state and lock file (apply).
 */
export function stateKeyStatements(state: StateLocation, kms: StateKmsKey, access: StateAccess): PolicyStatement[] {
  const { objectArn, lockArn } = state;
  return [
    permissionStatement({
      sid: 'DecryptOwnStateWithStateKey',
      actions: [...STATE_KMS_DECRYPT_ACTIONS],
      resources: [kms.keyArn],
      conditions: stateKeyUseConditions(kms.viaService, [objectArn, lockArn]),
    }),
    access === 'plan'
      ? permissionStatement({
          sid: 'EncryptOwnStateLockWithStateKey',
          actions: [...STATE_KMS_ENCRYPT_ACTIONS],
          resources: [kms.keyArn],
          conditions: stateKeyUseConditions(kms.viaService, [lockArn]),
        })
      : permissionStatement({
          sid: 'EncryptOwnStateAndLockWithStateKey',
          actions: [...STATE_KMS_ENCRYPT_ACTIONS],
          resources: [kms.keyArn],
          conditions: stateKeyUseConditions(kms.viaService, [objectArn, lockArn]),
        }),
  ];
}

/** The workload stack's state location of a resolved context. */
export function stateLocationOf(context: ResolvedPipelineContext): StateLocation {
  const { stateKey, arns, kmsViaService } = context;
  return {
    bucketArn: arns.stateBucket,
    key: stateKey,
    objectArn: arns.stateObject,
    lockArn: arns.stateLock,
    ...(arns.kmsKey === undefined || kmsViaService === undefined ? {} : { kms: { keyArn: arns.kmsKey, viaService: kmsViaService } }),
  };
}
