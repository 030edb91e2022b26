/**
 * Access to the workload stack's Terraform state in S3, with S3 native locking (`use_lockfile`).
 *
 * @see https://developer.hashicorp.com/terraform/language/backend/s3 (permissions, `use_lockfile`)
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html (`s3:prefix`)
 */
import { permissionStatement, PolicyStatement } from '../policy';
import type { ResolvedPipelineContext } from './context';
import { STATE_KMS_ACTIONS, STATE_LOCK_ACTIONS, STATE_READ_ACTIONS, STATE_WRITE_ACTIONS } from './actions';

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
  readonly kmsKeyArn?: string;
}

/** `plan` reads the state; `apply` also writes it. Both take the lock (`terraform plan` locks too). */
export type StateAccess = 'plan' | 'apply';

/**
 * The statements a pipeline role needs on its own state and nothing more: listing only its own key,
 * reading (plan) or reading and writing (apply) the state object, the lock file, and the KMS key.
 *
 * The listing is limited to `s3:prefix` = the key. Terraform's workspace listing (prefix
 * `<workspace_key_prefix>/`, default `env:/`) is therefore refused; the S3 backend's `Workspaces`
 * ignores an AccessDenied there, for the default workspace (read in OpenTofu's copy of the backend;
 * to confirm on Terraform 1.11). Other workspaces are not supported by these roles.
 * @see https://github.com/hashicorp/terraform/blob/v1.11.4/internal/backend/remote-state/s3/backend_state.go
 */
export function statePolicyStatements(state: StateLocation, access: StateAccess): PolicyStatement[] {
  const { bucketArn, key, objectArn, lockArn, kmsKeyArn } = state;
  return [
    permissionStatement({
      sid: 'ListOwnStateKey',
      actions: ['s3:ListBucket'],
      resources: [bucketArn],
      conditions: { StringEquals: { 's3:prefix': key } },
    }),
    access === 'plan'
      ? permissionStatement({ sid: 'ReadOwnState', actions: [...STATE_READ_ACTIONS], resources: [objectArn] })
      : permissionStatement({ sid: 'ReadAndWriteOwnState', actions: [...STATE_WRITE_ACTIONS], resources: [objectArn] }),
    permissionStatement({ sid: 'WriteOwnStateLock', actions: [...STATE_LOCK_ACTIONS], resources: [lockArn] }),
    ...(kmsKeyArn === undefined
      ? []
      : [permissionStatement({ sid: 'UseStateEncryptionKey', actions: [...STATE_KMS_ACTIONS], resources: [kmsKeyArn] })]),
  ];
}

/** The workload stack's state location of a resolved context. */
export function stateLocationOf(context: ResolvedPipelineContext): StateLocation {
  const { stateKey, arns } = context;
  return {
    bucketArn: arns.stateBucket,
    key: stateKey,
    objectArn: arns.stateObject,
    lockArn: arns.stateLock,
    ...(arns.kmsKey === undefined ? {} : { kmsKeyArn: arns.kmsKey }),
  };
}
