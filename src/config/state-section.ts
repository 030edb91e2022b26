/**
 * The `state` section: where every stack keeps its Terraform state, and, with `state.account`, the
 * bucket that account's bootstrap stack creates and manages (its encryption, how long replaced state
 * versions are kept, and the bucket and key policies that give each account's pipeline roles their
 * own state keys).
 */
import { partitionOfRegion } from '../bitbucket/protocol';
import {
  PipelinePolicyContextError,
  PipelineStateContext,
  PRINCIPAL_ACCOUNT_VARIABLE,
  StateBucketAccount,
  stateBucketPolicy,
  StateBucketPolicyInput,
  stateKeyPolicy,
} from '../pipeline-roles';
import { PolicyDocument } from '../iam/policy';
import { join, quote as show, RULES, ValueRule } from '../iam/rules';
import type { Checker, JsonObject } from './checker';
import { FIELDS } from './fields';
import {
  ResolvedAccount,
  ResolvedPipeline,
  ResolvedState,
  ResolvedStateEncryption,
  roleArn,
  STATE_KEY_LAYOUTS,
  StateKeyLayout,
  stateKey,
} from './types';

/** The defaults of the `state` section, named once. */
export const STATE_DEFAULTS = {
  keyPrefix: 'bitbucket-oidc',
  keyLayout: STATE_KEY_LAYOUTS[0],
  encryption: 'SSE-S3',
  noncurrentVersionExpirationDays: 90,
} as const;

/** `state.noncurrentVersionExpirationDays`: at least a day, at most ten years. */
export const NONCURRENT_VERSION_DAYS = { min: 1, max: 3650 } as const;

const KEY_LAYOUT_RULE: ValueRule = {
  test: (value) => (STATE_KEY_LAYOUTS as readonly string[]).includes(value),
  rule: `be ${STATE_KEY_LAYOUTS.map((l) => JSON.stringify(l)).join(' or ')}: what names each account's folder of state keys`,
  example: STATE_DEFAULTS.keyLayout,
};

/** The two named encryption settings. */
export const STATE_ENCRYPTION_NAMES = ['SSE-S3', 'SSE-KMS'] as const;

const EXAMPLE_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

/** An existing key of the bucket's partition and region (S3 uses only a key of the bucket's region). */
function kmsKeyArnRule(partition: string, region: string): ValueRule {
  const p = partition.replace(/-/g, '\\-');
  return {
    test: (value) => new RegExp(`^arn:${p}:kms:${region}:\\d{12}:key/[A-Za-z0-9-]+$`).test(value),
    rule: `be the ARN of a KMS key (not an alias) in the bucket's region ${region}: S3 encrypts only with a key of its own region`,
    example: `arn:${partition}:kms:${region}:123456789012:key/${EXAMPLE_KEY_ID}`,
  };
}

/** The raw `accounts` entries, read before they are validated: name, ID and region when they are strings. */
function rawAccounts(accounts: unknown): { name?: string; accountId?: string; region?: string }[] {
  if (!Array.isArray(accounts)) return [];
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return accounts.map((item) => {
    const object = (typeof item === 'object' && item !== null ? item : {}) as JsonObject;
    return { name: text(object.name), accountId: text(object.accountId), region: text(object.region) };
  });
}

/**
 * Reads the `state` section. `accounts` is the raw `accounts` list: `state.account` must name one of
 * them, and the state account's ID is needed before the accounts are read (the pipeline roles of every
 * account may use a KMS key it creates).
 */
export function readState(check: Checker, value: unknown, accounts: unknown): ResolvedState | undefined {
  if (value === undefined) return undefined;
  const object = check.fields('state', value, FIELDS.state);
  if (object === undefined) return undefined;
  const bucket = object.bucket === undefined ? undefined : check.string('state.bucket', object.bucket, RULES.bucket);
  const region = object.region === undefined ? undefined : check.string('state.region', object.region, RULES.region);
  const keyPrefix = check.optionalString('state.keyPrefix', object.keyPrefix, RULES.keyPrefix) ?? STATE_DEFAULTS.keyPrefix;
  const keyLayout = (check.optionalString('state.keyLayout', object.keyLayout, KEY_LAYOUT_RULE) ??
    STATE_DEFAULTS.keyLayout) as StateKeyLayout;
  const partition = partitionOfRegion(region ?? 'us-east-1');

  const named = check.optionalString('state.account', object.account, RULES.accountName);
  let account: ResolvedState['account'];
  if (named !== undefined) {
    const known = rawAccounts(accounts);
    const entry = known.find((a) => a.name === named);
    const names = known.flatMap((a) => (a.name === undefined ? [] : [JSON.stringify(a.name)]));
    if (entry === undefined) {
      check.fail(
        'state.account',
        `${show(named)} must be the name of one of the accounts (${names.join(', ') || 'none is named'}): the account whose bootstrap stack creates the bucket, e.g. ${names[0] ?? '"production"'}`,
      );
    } else {
      if (
        entry.region !== undefined &&
        RULES.region.test(entry.region) &&
        region !== undefined &&
        partitionOfRegion(entry.region) !== partition
      ) {
        check.fail(
          'state.region',
          `${show(region)} is in partition ${partition}, and the state account ${show(named)} is in ${partitionOfRegion(entry.region)} (${entry.region}): a bucket lives in its account's partition, e.g. ${JSON.stringify(entry.region)}`,
        );
      }
      if (entry.accountId !== undefined && RULES.accountId.test(entry.accountId)) account = { name: named, accountId: entry.accountId };
    }
  }

  const encryption = readEncryption(check, object.encryption, { partition, region, managed: object.account !== undefined });
  const days = check.integer(
    'state.noncurrentVersionExpirationDays',
    object.noncurrentVersionExpirationDays,
    NONCURRENT_VERSION_DAYS.min,
    NONCURRENT_VERSION_DAYS.max,
    STATE_DEFAULTS.noncurrentVersionExpirationDays,
    'days',
  );
  if (object.noncurrentVersionExpirationDays !== undefined && object.account === undefined) {
    check.fail(
      'state.noncurrentVersionExpirationDays',
      `${show(object.noncurrentVersionExpirationDays)} is used only with "state.account": name the account whose bootstrap stack creates the bucket, e.g. "account": "production" (a bucket managed elsewhere keeps its own lifecycle rules)`,
    );
  }
  if (bucket === undefined || region === undefined || encryption === undefined) return undefined;
  return {
    bucket,
    region,
    keyPrefix,
    keyLayout,
    partition,
    ...(account === undefined ? {} : { account }),
    encryption,
    noncurrentVersionExpirationDays: days,
  };
}

function readEncryption(
  check: Checker,
  value: unknown,
  where: { partition: string; region: string | undefined; managed: boolean },
): ResolvedStateEncryption | undefined {
  const path = 'state.encryption';
  if (value === undefined || value === 'SSE-S3') return { type: 'SSE-S3' };
  if (value === 'SSE-KMS') {
    if (!where.managed) {
      return check.fail(
        path,
        '"SSE-KMS" creates a KMS key in the state account\'s bootstrap stack, so it needs "state.account", e.g. "account": "production"; for a bucket managed elsewhere give its key instead: {"kmsKeyArn": "arn:aws:kms:..."}',
      );
    }
    return { type: 'SSE-KMS', key: 'created' };
  }
  const example = `{"kmsKeyArn": "arn:${where.partition}:kms:${where.region ?? 'eu-west-1'}:123456789012:key/${EXAMPLE_KEY_ID}"}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return check.fail(
      path,
      `${show(value)} must be ${STATE_ENCRYPTION_NAMES.map((n) => JSON.stringify(n)).join(', ')} or {"kmsKeyArn": "<ARN of an existing key>"}, e.g. "SSE-KMS" or ${example}`,
    );
  }
  const object = check.fields(path, value, FIELDS.stateKmsKey);
  if (object === undefined || object.kmsKeyArn === undefined) return undefined;
  if (where.region === undefined) {
    // state.region is wrong (reported): only the type of the ARN can be checked.
    check.string(join(path, 'kmsKeyArn'), object.kmsKeyArn);
    return undefined;
  }
  const rule = kmsKeyArnRule(where.partition, where.region);
  const arn = check.string(join(path, 'kmsKeyArn'), object.kmsKeyArn, rule);
  return arn === undefined ? undefined : { type: 'SSE-KMS', key: 'existing', kmsKeyArn: arn };
}

/**
 * Checks the state section against the accounts read: the pipeline roles of every account reach the
 * bucket (one partition), and the bucket and key policies fit their quotas.
 */
export function checkStateAgainstAccounts(
  check: Checker,
  state: ResolvedState,
  accounts: readonly ResolvedAccount[],
  pipeline: ResolvedPipeline | undefined,
): void {
  if (pipeline !== undefined) {
    for (const account of accounts.filter((a) => a.partition !== state.partition)) {
      check.fail(
        'state.region',
        `${show(state.region)} is in partition ${state.partition}, and the pipeline roles of account ${show(account.name)} (${account.region}) are in ${account.partition}: ` +
          'a role cannot reach a bucket of another partition; keep these accounts in a configuration (and bucket) of their own',
      );
    }
  }
  if (state.account === undefined || check.problems.length > 0) return;
  try {
    stateStoragePolicies({ state, accounts });
  } catch (error) {
    if (!(error instanceof PipelinePolicyContextError)) throw error;
    for (const problem of error.problems) check.fail('state.account', problem);
  }
}

/** What the synth tells the user about the state section. */
export function stateWarnings(
  state: ResolvedState,
  accounts: readonly ResolvedAccount[],
  pipeline: ResolvedPipeline | undefined,
): string[] {
  if (state.account !== undefined) return [];
  const others =
    pipeline !== undefined && accounts.length > 1
      ? ' The pipeline roles of every account read and write their state there: unless the bucket is in the account of each, its bucket policy must grant them their own state keys (see docs/pipeline.md, "A bucket managed elsewhere").'
      : '';
  return [
    `state.account is not set, so the state bucket ${show(state.bucket)} is managed outside this project: it must exist, versioned, encrypted and closed to the public, before the first "terraform init".${others} Name the account whose bootstrap stack should create and manage it, e.g. "state": {"account": "${accounts[0]?.name ?? 'production'}", ...}.`,
  ];
}

/** Where one account's pipeline roles find their workload state, and how it is encrypted. */
export function pipelineStateContext(
  state: ResolvedState,
  account: { readonly name: string; readonly accountId: string },
): PipelineStateContext {
  const { encryption } = state;
  const kms =
    encryption.type === 'SSE-S3'
      ? {}
      : encryption.key === 'existing'
        ? { kmsKeyArn: encryption.kmsKeyArn }
        : state.account === undefined
          ? {}
          : { createdKmsKey: { accountId: state.account.accountId, region: state.region } };
  return { bucket: state.bucket, key: stateKey(state, account, 'workload'), ...kms };
}

/** The accounts whose plan and deploy roles keep their workload state in the bucket, for its policies. */
export function stateBucketAccounts(
  state: Pick<ResolvedState, 'keyPrefix' | 'keyLayout'>,
  accounts: readonly ResolvedAccount[],
): StateBucketAccount[] {
  return accounts.flatMap((account) => {
    const [plan, deploy] = account.pipelineRoles;
    if (plan === undefined || deploy === undefined) return [];
    return [
      {
        accountId: account.accountId,
        planRoleArn: roleArn(account, plan),
        deployRoleArn: roleArn(account, deploy),
        stateKey: stateKey(state, account, 'workload'),
      },
    ];
  });
}

/** The bucket policy, and the key policy when the state account's bootstrap stack creates the key. */
export function stateStoragePolicies(config: { readonly state: ResolvedState; readonly accounts: readonly ResolvedAccount[] }): {
  bucketPolicy: PolicyDocument;
  keyPolicy?: PolicyDocument;
} {
  const { state, accounts } = config;
  const input: StateBucketPolicyInput = {
    partition: state.partition,
    bucket: state.bucket,
    accounts: stateBucketAccounts(state, accounts),
    workloadPaths: accounts.map((account) => account.workloadPath),
    // Keys by account ID: every account's key is this one with its ID, which AWS gives the policy.
    ...(state.keyLayout === 'account-id'
      ? { sharedStateKey: stateKey(state, { name: '', accountId: PRINCIPAL_ACCOUNT_VARIABLE }, 'workload') }
      : {}),
  };
  const createsKey = state.encryption.type === 'SSE-KMS' && state.encryption.key === 'created' && state.account !== undefined;
  return {
    bucketPolicy: stateBucketPolicy(input),
    ...(createsKey ? { keyPolicy: stateKeyPolicy({ ...input, stateAccountId: state.account!.accountId, region: state.region }) } : {}),
  };
}
