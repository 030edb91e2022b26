/**
 * The inputs every pipeline policy is built from, validated once and resolved into the ARNs the
 * statement builders use. Nothing in this folder types `arn:aws`: every ARN comes from
 * {@link ResolvedPipelineContext} and so from the partition and account given here.
 */
import { Token } from 'cdktf';
import { BITBUCKET_RULES, bitbucketIssuer, oidcProviderArn } from '../bitbucket/protocol';
import { NO_WILDCARDS, quote, RULES, ValueRule, valuesCheck } from '../iam/rules';

/** Where the workload stack keeps its Terraform state. */
export interface PipelineStateContext {
  /**
   * The state bucket (one per organisation or account; versioned and encrypted).
   * @example 'acme-terraform-state'
   */
  readonly bucket: string;
  /**
   * The object key of the WORKLOAD stack's state, the one the pipeline plans and applies. The lock
   * file is `<key>.tflock` (S3 native locking, `use_lockfile = true`).
   * @example 'bitbucket-oidc/123456789012/workload.tfstate'
   * @see https://developer.hashicorp.com/terraform/language/backend/s3
   */
  readonly key: string;
  /**
   * ARN of the existing KMS key the bucket encrypts objects with (SSE-KMS, S3 Bucket Keys off). Omit
   * for SSE-S3. Exclusive with `createdKmsKey`.
   * @default - no KMS permissions are granted
   * @example 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
   */
  readonly kmsKeyArn?: string;
  /**
   * The bucket encrypts with a KMS key that the state account's bootstrap stack creates, whose ARN is
   * unknown before that apply: every key of that account in the bucket's region is matched
   * (`arn:<p>:kms:<region>:<account>:key/*`), and, as for `kmsKeyArn`, only through S3 and only for
   * this stack's own objects. Exclusive with `kmsKeyArn`.
   * @default - no created key
   * @example { accountId: '444455556666', region: 'eu-west-1' }
   */
  readonly createdKmsKey?: { readonly accountId: string; readonly region: string };
}

/** Everything the plan role, the deploy role and the permissions boundary are built from. */
export interface PipelinePolicyContext {
  /**
   * The account's AWS partition (`partitionOfRegion(region)` gives it).
   * @example 'aws-cn'
   * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
   */
  readonly partition: string;
  /** 12-digit ID of the account the policies live in. @example '123456789012' */
  readonly accountId: string;
  /**
   * Bitbucket workspace slug; the workspace OIDC provider's ARN is derived from it
   * (`oidcProviderArn` in `src/bitbucket/protocol.ts`).
   * @example 'acme'
   */
  readonly workspace: string;
  /**
   * IAM path of the workload roles the pipeline manages. Must not contain, or be contained in,
   * `pipelineRolePath`, so that the deploy role can never reach its own role.
   * @default '/bitbucket/'
   */
  readonly managedPath?: string;
  /**
   * IAM path of the pipeline's own roles (plan and deploy), created by the bootstrap stack.
   * @default '/bitbucket-pipeline/'
   */
  readonly pipelineRolePath?: string;
  /**
   * Name of the customer-managed policy used as every workload role's permissions boundary.
   * @default 'bitbucket-workload-boundary'
   */
  readonly boundaryPolicyName?: string;
  /** IAM path of the boundary policy. @default '/' */
  readonly boundaryPolicyPath?: string;
  /**
   * What workload roles may ever be granted: the boundary's Allow. Narrow it to the services the
   * workloads use; the boundary's denials apply whatever it says.
   * @default ['*']
   * @example ['s3:*', 'logs:*', 'sqs:*']
   */
  readonly boundaryAllowedActions?: string[];
  /** Where the workload stack's state lives. */
  readonly state: PipelineStateContext;
}

/** The defaults of the optional fields, named once. */
export const PIPELINE_POLICY_DEFAULTS = {
  managedPath: '/bitbucket/',
  pipelineRolePath: '/bitbucket-pipeline/',
  boundaryPolicyName: 'bitbucket-workload-boundary',
  boundaryPolicyPath: '/',
  boundaryAllowedActions: ['*'],
} as const;

/** The suffix Terraform's S3 backend appends to the state key for its lock file (`use_lockfile`). */
export const LOCK_FILE_SUFFIX = '.tflock';

/** Every ARN the builders need, computed once from the context. */
export interface PipelineArns {
  /** `arn:<p>:iam::<acct>:role<managedPath>*`: every workload role. */
  readonly workloadRoles: string;
  /** `arn:<p>:iam::<acct>:role<pipelineRolePath>*`: the plan and deploy roles. */
  readonly pipelineRoles: string;
  /** `arn:<p>:iam::<acct>:policy<boundaryPolicyPath><boundaryPolicyName>` */
  readonly boundaryPolicy: string;
  /** `arn:<p>:iam::<acct>:policy/*`: every customer-managed policy of the account. */
  readonly customerManagedPolicies: string;
  /** `arn:<p>:iam::<acct>:oidc-provider/api.bitbucket.org/2.0/workspaces/<ws>/pipelines-config/identity/oidc` */
  readonly oidcProvider: string;
  /** `arn:<p>:s3:::<bucket>` */
  readonly stateBucket: string;
  /** `arn:<p>:s3:::<bucket>/<key>` */
  readonly stateObject: string;
  /** `arn:<p>:s3:::<bucket>/<key>.tflock` */
  readonly stateLock: string;
  /**
   * The KMS key, when the bucket uses SSE-KMS: `kmsKeyArn`, or for a created key
   * `arn:<p>:kms:<region>:<stateAccount>:key/*`.
   */
  readonly kmsKey?: string;
}

/** A validated context with its defaults applied and its ARNs computed. */
export interface ResolvedPipelineContext {
  readonly partition: string;
  readonly accountId: string;
  readonly managedPath: string;
  readonly pipelineRolePath: string;
  readonly stateKey: string;
  readonly lockKey: string;
  readonly boundaryAllowedActions: readonly string[];
  readonly arns: PipelineArns;
  /**
   * `kms:ViaService` of S3 in the KMS key's region (`s3.<region>.amazonaws.com`), when the bucket uses
   * SSE-KMS: the pipeline roles may use the key only through S3.
   */
  readonly kmsViaService?: string;
}

/** Thrown when a context breaks a rule; lists every problem, not only the first. */
export class PipelinePolicyContextError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid pipeline policy context:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PipelinePolicyContextError';
  }
}

const RULE_PARTITION: ValueRule = {
  test: (value) => /^aws(-[a-z]+)*$/.test(value),
  rule: 'be an AWS partition: aws, aws-cn, aws-us-gov, aws-iso, ...',
  example: 'aws',
};

const RULE_STATE_KEY: ValueRule = {
  // The lock key adds `.tflock`; S3 keys are at most 1024 bytes.
  test: (value) => value.length >= 1 && Buffer.byteLength(value) <= 1024 - LOCK_FILE_SUFFIX.length && !value.startsWith('/'),
  rule: `be 1-${1024 - LOCK_FILE_SUFFIX.length} bytes, not starting with /`,
  example: 'bitbucket-oidc/123456789012/workload.tfstate',
};

function kmsKeyRule(partition: string): ValueRule {
  return {
    // KMS authorizes against the key ARN, never the alias ARN, so an alias here would match nothing.
    test: (value) => new RegExp(`^arn:${partition.replace(/-/g, '\\-')}:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]+$`).test(value),
    rule: `be a KMS key ARN (not an alias) in partition ${partition}`,
    example: `arn:${partition}:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  };
}

/**
 * The DNS suffix of a partition's service endpoints, which `kms:ViaService` names
 * (`<service>.<region>.<suffix>`), from the AWS SDKs' partition data; any other partition gets
 * `amazonaws.com`. A wrong suffix fails closed: the pipeline roles then cannot use the key.
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
 */
const ENDPOINT_SUFFIX: Readonly<Record<string, string>> = {
  'aws-cn': 'amazonaws.com.cn',
  'aws-iso': 'c2s.ic.gov',
  'aws-iso-b': 'sc2s.sgov.gov',
  'aws-eusc': 'amazonaws.eu',
};

/** `kms:ViaService` for S3 in a region: `s3.<region>.amazonaws.com` (or the partition's suffix). */
export function s3ViaService(partition: string, region: string): string {
  return `s3.${region}.${ENDPOINT_SUFFIX[partition] ?? 'amazonaws.com'}`;
}

/**
 * The pipeline policies' value check, skipped for an unresolved token (a value Terraform only knows at
 * apply time, such as a bucket created in the same stack): the builders are public and take tokens.
 */
export const checkResolved = valuesCheck(Token.isUnresolved);
const check = checkResolved;

/** Validates the context and computes its ARNs; throws {@link PipelinePolicyContextError} listing every problem. */
export function resolvePipelineContext(context: PipelinePolicyContext): ResolvedPipelineContext {
  const {
    partition,
    accountId,
    workspace,
    state,
    managedPath = PIPELINE_POLICY_DEFAULTS.managedPath,
    pipelineRolePath = PIPELINE_POLICY_DEFAULTS.pipelineRolePath,
    boundaryPolicyName = PIPELINE_POLICY_DEFAULTS.boundaryPolicyName,
    boundaryPolicyPath = PIPELINE_POLICY_DEFAULTS.boundaryPolicyPath,
    boundaryAllowedActions = [...PIPELINE_POLICY_DEFAULTS.boundaryAllowedActions],
  } = context;
  const { bucket, key, kmsKeyArn, createdKmsKey } = state;

  const problems = [
    ...check('partition', partition, RULE_PARTITION),
    ...check('accountId', accountId, RULES.accountId),
    ...check('workspace', workspace, BITBUCKET_RULES.workspace),
    ...check('managedPath', managedPath, RULES.rolePath, NO_WILDCARDS),
    ...check('pipelineRolePath', pipelineRolePath, RULES.rolePath, NO_WILDCARDS),
    ...check('boundaryPolicyName', boundaryPolicyName, RULES.policyName),
    ...check('boundaryPolicyPath', boundaryPolicyPath, RULES.rolePath, NO_WILDCARDS),
    ...check('state.bucket', bucket, RULES.bucket),
    ...check('state.key', key, RULE_STATE_KEY, NO_WILDCARDS),
    ...(kmsKeyArn === undefined ? [] : check('state.kmsKeyArn', kmsKeyArn, kmsKeyRule(partition))),
    ...(createdKmsKey === undefined
      ? []
      : [
          ...check('state.createdKmsKey.accountId', createdKmsKey.accountId, RULES.accountId),
          ...check('state.createdKmsKey.region', createdKmsKey.region, RULES.region),
        ]),
    ...(kmsKeyArn !== undefined && createdKmsKey !== undefined
      ? ['state: kmsKeyArn and createdKmsKey must not both be set (the bucket has one default key), e.g. only kmsKeyArn']
      : []),
    ...(boundaryAllowedActions.length === 0 ? ['boundaryAllowedActions: [] must list at least one action, e.g. ["*"]'] : []),
    ...boundaryAllowedActions.flatMap((action, i) => check(`boundaryAllowedActions[${i}]`, action, RULES.action)),
  ];
  // `role/bitbucket/*` matches `role/bitbucket/pipeline/deploy`: one path inside the other would let
  // the deploy role manage itself (or deny the workload roles along with the pipeline roles).
  if (
    ![managedPath, pipelineRolePath].some((p) => Token.isUnresolved(p)) &&
    (managedPath.startsWith(pipelineRolePath) || pipelineRolePath.startsWith(managedPath))
  ) {
    problems.push(
      `managedPath ${quote(managedPath)} and pipelineRolePath ${quote(pipelineRolePath)} must not contain one another ` +
        `(the deploy role could then change its own role), e.g. "${PIPELINE_POLICY_DEFAULTS.managedPath}" and "${PIPELINE_POLICY_DEFAULTS.pipelineRolePath}"`,
    );
  }
  if (problems.length > 0) throw new PipelinePolicyContextError(problems);

  const iam = (resource: string): string => `arn:${partition}:iam::${accountId}:${resource}`;
  const s3 = (resource: string): string => `arn:${partition}:s3:::${resource}`;
  const lockKey = `${key}${LOCK_FILE_SUFFIX}`;
  // The key's region is in its ARN (a created key is in the bucket's region, like any key S3 uses).
  const kmsKey =
    kmsKeyArn ??
    (createdKmsKey === undefined ? undefined : `arn:${partition}:kms:${createdKmsKey.region}:${createdKmsKey.accountId}:key/*`);
  const kmsRegion = createdKmsKey?.region ?? kmsKeyArn?.split(':')[3];
  return {
    partition,
    accountId,
    managedPath,
    pipelineRolePath,
    stateKey: key,
    lockKey,
    boundaryAllowedActions: [...boundaryAllowedActions],
    arns: {
      workloadRoles: iam(`role${managedPath}*`),
      pipelineRoles: iam(`role${pipelineRolePath}*`),
      boundaryPolicy: iam(`policy${boundaryPolicyPath}${boundaryPolicyName}`),
      customerManagedPolicies: iam('policy/*'),
      oidcProvider: oidcProviderArn(partition, accountId, bitbucketIssuer(workspace)),
      stateBucket: s3(bucket),
      stateObject: s3(`${bucket}/${key}`),
      stateLock: s3(`${bucket}/${lockKey}`),
      ...(kmsKey === undefined ? {} : { kmsKey }),
    },
    ...(kmsRegion === undefined ? {} : { kmsViaService: s3ViaService(partition, kmsRegion) }),
  };
}
