/**
 * The policies of the Terraform state storage that the state account's bootstrap stack creates: the
 * bucket policy, and the key policy of the KMS key it may create. Both grant each account's plan and
 * deploy roles exactly what their identity policies grant them on the state (`statePolicyStatements`):
 * their own account's workload state key and lock file, cross-account; nothing else is granted.
 *
 * - With the state keys laid out by account ID (`sharedStateKey`), one set of statements serves every
 *   account: the accounts are listed once per statement as principals, the roles are matched by path
 *   and name (`arn:<p>:iam::*:role/<path><name>`, the account being fixed by the principal), and the
 *   object is `<prefix>/${aws:PrincipalAccount}/workload.tfstate`, which AWS resolves to the caller's
 *   own account ID: a role of one account can name no other account's key. The policy grows by one
 *   account ID per statement (about 33 characters each), not by four statements per account. A tag
 *   on the roles (`${aws:PrincipalTag/...}`) would serve too, but its value is whatever an
 *   administrator of the caller's account writes on the role, so one account's administrators could
 *   reach another's state; the account ID comes from AWS alone.
 * - With keys laid out by account name, each account gets its own four statements (about a dozen
 *   accounts fit in S3's 20 KB).
 *
 * - Cross-account principals are accounts (`arn:<p>:iam::<account>:root`), narrowed to the pipeline
 *   roles by `aws:PrincipalArn`: S3 and KMS refuse a policy whose principal names a role that does not
 *   exist yet ("Invalid principal"), and the pipeline roles of the other accounts are created after
 *   the bucket (their bootstrap stacks keep their state in it).
 * - Administrators get no grant: they use the state account's own credentials for the S3 backend
 *   (`terraform init -backend-config=profile=...`), where the account's IAM policies decide.
 * - Every request without TLS is refused.
 * - Every role under a workload path (of any account) is refused everything, explicitly. In the state
 *   account an identity policy alone reaches a bucket of the same account, and workload roles carry
 *   a boundary that allows `*` by default: without this denial a workload role given `s3:*` could
 *   read or rewrite every account's state, or change the bucket's policy. In other accounts it
 *   changes nothing (they get no grant) and costs one statement.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
import { Conditions, policyDocument, PolicyDocument, policySizeProblem, Principal, PolicyStatement } from '../iam/policy';
import { NO_WILDCARDS, quote, RULES, ValueRule } from '../iam/rules';
import { STATE_KMS_ACTIONS, STATE_LIST_ACTIONS, STATE_LOCK_ACTIONS, STATE_READ_ACTIONS } from './pipeline-actions';
import { checkResolved, LOCK_FILE_SUFFIX, PipelinePolicyContextError, s3ViaService } from './policy-context';
import { stateKeyUseConditions } from './state-access';

/** An account whose pipeline roles keep their workload stack's state in the bucket. */
export interface StateBucketAccount {
  /** 12-digit account ID. @example '111122223333' */
  readonly accountId: string;
  /** The plan role's ARN (it need not exist yet). */
  readonly planRoleArn: string;
  /** The deploy role's ARN (it need not exist yet). */
  readonly deployRoleArn: string;
  /** The object key of the account's workload state. @example 'bitbucket-oidc/staging/workload.tfstate' */
  readonly stateKey: string;
}

/** What the state bucket's policy is built from. */
export interface StateBucketPolicyInput {
  /** The bucket's partition. @example 'aws' */
  readonly partition: string;
  /** @example 'acme-terraform-state' */
  readonly bucket: string;
  /** Every account with pipeline roles; none without a `pipeline` section. */
  readonly accounts: readonly StateBucketAccount[];
  /** The workload paths of every account, whose roles are refused everything. @example ['/bitbucket/'] */
  readonly workloadPaths: readonly string[];
  /**
   * Every account's workload state key, with `${aws:PrincipalAccount}` in place of its account ID,
   * when the keys are laid out by account ID: each account's `stateKey` must be this key with its ID.
   * @default - keys laid out otherwise: four statements per account
   * @example 'bitbucket-oidc/${aws:PrincipalAccount}/workload.tfstate'
   */
  readonly sharedStateKey?: string;
}

/** The policy variable AWS resolves to the caller's account ID. */
export const PRINCIPAL_ACCOUNT_VARIABLE = '${aws:PrincipalAccount}';

/** What the key policy of a KMS key created for the bucket is built from. */
export interface StateKeyPolicyInput extends StateBucketPolicyInput {
  /** The account that owns the bucket and the key. */
  readonly stateAccountId: string;
  /** The bucket's (and so the key's) region. @example 'eu-west-1' */
  readonly region: string;
}

/** S3's bucket policy quota and KMS's key policy quota, in characters. */
export const RESOURCE_POLICY_SIZE_LIMITS = { bucketPolicy: 20_480, keyPolicy: 32_768 } as const;

/** `s3:*`: what the denials cover. */
const ALL_S3_ACTIONS = ['s3:*'];
const ALL_KMS_ACTIONS = ['kms:*'];

interface ResourceStatementOptions {
  readonly sid: string;
  readonly effect?: 'Allow' | 'Deny';
  readonly principal: Principal;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Conditions;
}

/** A statement of a resource policy: like a permission statement, with the principal it applies to. */
function resourceStatement(options: ResourceStatementOptions): PolicyStatement {
  const { sid, effect = 'Allow', principal, actions, resources, conditions } = options;
  const one = (values: readonly string[]) => (values.length === 1 ? values[0] : [...values]);
  return {
    Sid: sid,
    Effect: effect,
    Principal: principal,
    Action: one(actions),
    Resource: one(resources),
    ...(conditions === undefined ? {} : { Condition: conditions }),
  };
}

/** The bucket and its objects, as the Resource of a bucket policy statement. */
function bucketResources(partition: string, bucket: string): string[] {
  return [`arn:${partition}:s3:::${bucket}`, `arn:${partition}:s3:::${bucket}/*`];
}

/** Every principal (`{"AWS": "*"}`), for the denials. */
const EVERYONE: Principal = { AWS: '*' };

/** The account as a principal: any principal of it, narrowed by a condition on `aws:PrincipalArn`. */
function accountPrincipal(partition: string, accountId: string): Principal {
  return { AWS: `arn:${partition}:iam::${accountId}:root` };
}

/** Several accounts as principals (one statement lists each account once). */
function accountsPrincipal(partition: string, accountIds: readonly string[]): Principal {
  const roots = accountIds.map((id) => `arn:${partition}:iam::${id}:root`);
  return { AWS: roots.length === 1 ? roots[0] : roots };
}

/** A role's ARN with `*` for its account: the same role (path and name) in any account the principal admits. */
function inAnyAccount(roleArn: string): string {
  return roleArn.replace(/^(arn:[^:]+:iam::)\d{12}:/, '$1*:');
}

/** `arn:<p>:iam::*:role<path>*` for each workload path: the roles the storage refuses. */
export function workloadRolePatterns(partition: string, workloadPaths: readonly string[]): string[] {
  return [...new Set(workloadPaths)].map((path) => `arn:${partition}:iam::*:role${path}*`);
}

/** Refuses every S3 request on the bucket and its objects made without TLS. */
export function denyInsecureTransportStatement(partition: string, bucket: string): PolicyStatement {
  return resourceStatement({
    sid: 'DenyInsecureTransport',
    effect: 'Deny',
    principal: EVERYONE,
    actions: ALL_S3_ACTIONS,
    resources: bucketResources(partition, bucket),
    conditions: { Bool: { 'aws:SecureTransport': 'false' } },
  });
}

/** Refuses `actions` on `resources` to every role under a workload path (of any account). */
function denyWorkloadRoles(
  partition: string,
  workloadPaths: readonly string[],
  actions: readonly string[],
  resources: readonly string[],
): PolicyStatement {
  return resourceStatement({
    sid: 'DenyWorkloadRoles',
    effect: 'Deny',
    principal: EVERYONE,
    actions,
    resources,
    conditions: { ArnLike: { 'aws:PrincipalArn': workloadRolePatterns(partition, workloadPaths) } },
  });
}

/** Refuses every S3 request on the bucket and its objects by a role under a workload path. */
export function denyWorkloadRolesStatement(partition: string, bucket: string, workloadPaths: readonly string[]): PolicyStatement {
  return denyWorkloadRoles(partition, workloadPaths, ALL_S3_ACTIONS, bucketResources(partition, bucket));
}

/**
 * What the plan and deploy roles of one account may do in the bucket, the same as their identity
 * policies (`statePolicyStatements`): list their own key (`s3:prefix`), read their state, take, read
 * and release their lock file; and the deploy role alone writes its state.
 */
export function pipelineStateAccessStatements(partition: string, bucket: string, account: StateBucketAccount): PolicyStatement[] {
  const { accountId, planRoleArn, deployRoleArn, stateKey } = account;
  const principal = accountPrincipal(partition, accountId);
  const bothRoles: Conditions = { ArnEquals: { 'aws:PrincipalArn': [planRoleArn, deployRoleArn] } };
  const object = `arn:${partition}:s3:::${bucket}/${stateKey}`;
  return [
    resourceStatement({
      sid: `PipelineRolesOf${accountId}ListTheirStateKey`,
      principal,
      actions: STATE_LIST_ACTIONS,
      resources: [`arn:${partition}:s3:::${bucket}`],
      conditions: { ...bothRoles, StringEquals: { 's3:prefix': stateKey } },
    }),
    resourceStatement({
      sid: `PipelineRolesOf${accountId}ReadTheirState`,
      principal,
      actions: STATE_READ_ACTIONS,
      resources: [object],
      conditions: bothRoles,
    }),
    resourceStatement({
      sid: `PipelineRolesOf${accountId}LockTheirState`,
      principal,
      actions: STATE_LOCK_ACTIONS,
      resources: [`${object}${LOCK_FILE_SUFFIX}`],
      conditions: bothRoles,
    }),
    resourceStatement({
      sid: `DeployRoleOf${accountId}WritesItsState`,
      principal,
      actions: ['s3:PutObject'],
      resources: [object],
      conditions: { ArnEquals: { 'aws:PrincipalArn': deployRoleArn } },
    }),
  ];
}

/**
 * Accounts whose pipeline roles have the same paths and names, so that one set of statements, with
 * the role ARNs matched in any of the listed accounts, grants each of them exactly its own roles.
 */
interface AccountGroup {
  /** `''` for the first group, `Group2`, `Group3`... for the others (statement IDs are unique). */
  readonly suffix: string;
  readonly accountIds: string[];
  readonly planRoles: string;
  readonly deployRoles: string;
}

/** The accounts grouped by the paths and names of their pipeline roles, in the order of their first account. */
function accountGroups(accounts: readonly StateBucketAccount[]): AccountGroup[] {
  const groups = new Map<string, AccountGroup>();
  for (const account of accounts) {
    const planRoles = inAnyAccount(account.planRoleArn);
    const deployRoles = inAnyAccount(account.deployRoleArn);
    const key = `${planRoles} ${deployRoles}`;
    const group = groups.get(key) ?? { suffix: groups.size === 0 ? '' : `Group${groups.size + 1}`, accountIds: [], planRoles, deployRoles };
    group.accountIds.push(account.accountId);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * What the plan and deploy roles of a group of accounts may do in the bucket, each on its own
 * account's keys only (`${aws:PrincipalAccount}` in `sharedStateKey`): the same four grants as
 * `pipelineStateAccessStatements`, with the accounts listed once per statement.
 */
export function sharedStateAccessStatements(
  partition: string,
  bucket: string,
  accounts: readonly StateBucketAccount[],
  sharedStateKey: string,
): PolicyStatement[] {
  const object = `arn:${partition}:s3:::${bucket}/${sharedStateKey}`;
  return accountGroups(accounts).flatMap(({ suffix, accountIds, planRoles, deployRoles }) => {
    const principal = accountsPrincipal(partition, accountIds);
    const bothRoles: Conditions = { ArnLike: { 'aws:PrincipalArn': [planRoles, deployRoles] } };
    return [
      resourceStatement({
        sid: `PipelineRolesListTheirStateKey${suffix}`,
        principal,
        actions: STATE_LIST_ACTIONS,
        resources: [`arn:${partition}:s3:::${bucket}`],
        conditions: { ...bothRoles, StringEquals: { 's3:prefix': sharedStateKey } },
      }),
      resourceStatement({
        sid: `PipelineRolesReadTheirState${suffix}`,
        principal,
        actions: STATE_READ_ACTIONS,
        resources: [object],
        conditions: bothRoles,
      }),
      resourceStatement({
        sid: `PipelineRolesLockTheirState${suffix}`,
        principal,
        actions: STATE_LOCK_ACTIONS,
        resources: [`${object}${LOCK_FILE_SUFFIX}`],
        conditions: bothRoles,
      }),
      resourceStatement({
        sid: `DeployRolesWriteTheirState${suffix}`,
        principal,
        actions: ['s3:PutObject'],
        resources: [object],
        conditions: { ArnLike: { 'aws:PrincipalArn': deployRoles } },
      }),
    ];
  });
}

/**
 * The state bucket's policy. Throws `PipelinePolicyContextError` for an invalid input, and when the
 * policy exceeds S3's 20 KB quota (with `sharedStateKey`, about 140 accounts whose pipeline roles
 * share their names; without, about 12 accounts).
 */
export function stateBucketPolicy(input: StateBucketPolicyInput): PolicyDocument {
  const { partition, bucket, accounts, workloadPaths, sharedStateKey } = checkInput(input);
  return fits(
    'the state bucket policy',
    RESOURCE_POLICY_SIZE_LIMITS.bucketPolicy,
    policyDocument(
      denyInsecureTransportStatement(partition, bucket),
      ...(workloadPaths.length === 0 ? [] : [denyWorkloadRolesStatement(partition, bucket, workloadPaths)]),
      ...(sharedStateKey === undefined
        ? accounts.flatMap((account) => pipelineStateAccessStatements(partition, bucket, account))
        : accounts.length === 0
          ? []
          : sharedStateAccessStatements(partition, bucket, accounts, sharedStateKey)),
    ),
    sharedStateKey !== undefined,
  );
}

/**
 * The key policy of a KMS key created for the bucket (SSE-KMS):
 *
 * - the state account's IAM policies decide for its own principals (AWS's default key policy
 *   statement; without it nobody could manage the key);
 * - roles under a workload path are refused every KMS action (in the state account they could
 *   otherwise disable or schedule the deletion of the key, and with it every state);
 * - each account's plan and deploy roles may decrypt and encrypt with it through S3 only, for their own
 *   state object and lock file only (their identity policies narrow it further: the plan role
 *   encrypts its lock file only).
 */
export function stateKeyPolicy(input: StateKeyPolicyInput): PolicyDocument {
  const { partition, bucket, accounts, workloadPaths, stateAccountId, region, sharedStateKey } = checkInput(input) as StateKeyPolicyInput;
  const viaService = s3ViaService(partition, region);
  const keyUse = (sid: string, principal: Principal, roles: string[], arnOperator: 'ArnEquals' | 'ArnLike', key: string) => {
    const object = `arn:${partition}:s3:::${bucket}/${key}`;
    return resourceStatement({
      sid,
      principal,
      actions: STATE_KMS_ACTIONS,
      resources: ['*'],
      conditions: {
        [arnOperator]: { 'aws:PrincipalArn': roles },
        ...stateKeyUseConditions(viaService, [object, `${object}${LOCK_FILE_SUFFIX}`]),
      },
    });
  };
  return fits(
    'the state key policy',
    RESOURCE_POLICY_SIZE_LIMITS.keyPolicy,
    policyDocument(
      resourceStatement({
        sid: 'EnableStateAccountIamPolicies',
        principal: accountPrincipal(partition, stateAccountId),
        actions: ALL_KMS_ACTIONS,
        resources: ['*'],
      }),
      ...(workloadPaths.length === 0 ? [] : [denyWorkloadRoles(partition, workloadPaths, ALL_KMS_ACTIONS, ['*'])]),
      ...(sharedStateKey === undefined
        ? accounts.map((account) =>
            keyUse(
              `PipelineRolesOf${account.accountId}UseKeyForTheirState`,
              accountPrincipal(partition, account.accountId),
              [account.planRoleArn, account.deployRoleArn],
              'ArnEquals',
              account.stateKey,
            ),
          )
        : accountGroups(accounts).map(({ suffix, accountIds, planRoles, deployRoles }) =>
            keyUse(
              `PipelineRolesUseKeyForTheirState${suffix}`,
              accountsPrincipal(partition, accountIds),
              [planRoles, deployRoles],
              'ArnLike',
              sharedStateKey,
            ),
          )),
    ),
    sharedStateKey !== undefined,
  );
}

const STATE_KEY: ValueRule = { ...NO_WILDCARDS, example: 'bitbucket-oidc/staging/workload.tfstate' };

const SHARED_STATE_KEY: ValueRule = {
  test: (value) => value.split(PRINCIPAL_ACCOUNT_VARIABLE).length === 2 && NO_WILDCARDS.test(value.replace(PRINCIPAL_ACCOUNT_VARIABLE, '')),
  rule: `hold ${PRINCIPAL_ACCOUNT_VARIABLE} once, where each account's ID goes, and no wildcard`,
  example: `bitbucket-oidc/${PRINCIPAL_ACCOUNT_VARIABLE}/workload.tfstate`,
};

const ROLE_ARN: ValueRule = {
  test: (value) => /^arn:aws[a-z-]*:iam::\d{12}:role\/([\x21-\x7E]*\/)?[A-Za-z0-9+=,.@_-]{1,64}$/.test(value) && NO_WILDCARDS.test(value),
  rule: 'be the ARN of one role, without wildcards',
  example: 'arn:aws:iam::111122223333:role/bitbucket-pipeline/bitbucket-plan',
};

/** Validates an input (every problem at once); unresolved tokens are not checked. */
function checkInput<T extends StateBucketPolicyInput>(input: T): T {
  const check = checkResolved;
  const key = input as Partial<StateKeyPolicyInput>;
  const problems = [
    ...check('bucket', input.bucket, RULES.bucket),
    ...input.accounts.flatMap((account, i) => [
      ...check(`accounts[${i}].accountId`, account.accountId, RULES.accountId),
      ...check(`accounts[${i}].planRoleArn`, account.planRoleArn, ROLE_ARN),
      ...check(`accounts[${i}].deployRoleArn`, account.deployRoleArn, ROLE_ARN),
      ...check(`accounts[${i}].stateKey`, account.stateKey, STATE_KEY),
    ]),
    ...input.workloadPaths.flatMap((path, i) => check(`workloadPaths[${i}]`, path, RULES.rolePath, NO_WILDCARDS)),
    ...(key.stateAccountId === undefined ? [] : check('stateAccountId', key.stateAccountId, RULES.accountId)),
    ...(key.region === undefined ? [] : check('region', key.region, RULES.region)),
    ...(input.sharedStateKey === undefined ? [] : check('sharedStateKey', input.sharedStateKey, SHARED_STATE_KEY)),
    ...(input.sharedStateKey === undefined || !SHARED_STATE_KEY.test(input.sharedStateKey)
      ? []
      : input.accounts.flatMap((account, i) => {
          const expected = input.sharedStateKey!.replace(PRINCIPAL_ACCOUNT_VARIABLE, account.accountId);
          return account.stateKey === expected
            ? []
            : [
                `accounts[${i}].stateKey: ${quote(account.stateKey)} must be sharedStateKey with the account's ID, ${quote(expected)}: the bucket policy grants each account that key only`,
              ];
        })),
  ];
  if (problems.length > 0) throw new PipelinePolicyContextError(problems);
  return input;
}

function fits(name: string, limit: number, document: PolicyDocument, shared: boolean): PolicyDocument {
  const problem = policySizeProblem(
    name,
    document,
    limit,
    shared
      ? `: it grants ${document.Statement.length} statements; keep the state of fewer accounts in one bucket, e.g. one bucket per group of accounts, or give every account's pipeline roles the same names`
      : `: it grants ${document.Statement.length} statements; lay the state keys out by account ID ("state.keyLayout": "account-id", one set of statements for every account), or keep the state of fewer accounts in one bucket`,
  );
  if (problem !== undefined) throw new PipelinePolicyContextError([problem]);
  return document;
}
