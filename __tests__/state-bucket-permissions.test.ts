/**
 * Proofs of the state bucket's policy (and, with SSE-KMS, its key policy) with an independent IAM
 * engine, `@cloud-copilot/iam-simulate`: each request is decided from the identity policy of the role
 * that makes it (as the bootstrap stack creates it, from the validated configuration), its boundary
 * when it has one, AND the bucket's (or key's) policy in the state account, as AWS decides it across
 * accounts (both must allow) and within the state account (either may allow; an explicit Deny in
 * either wins).
 *
 * AWS sets `aws:PrincipalArn` to the role's ARN, path included, for a role session; the engine cannot
 * derive the path from the session ARN, so every request passes it, as AWS would.
 */
import { PIPELINE_POLICY_NAMES, accountBoundaryPolicy } from '../src/config/pipeline-section';
import { stateStoragePolicies } from '../src/config/state-section';
import { ResolvedAccount, ResolvedConfig, roleArn, StackKind, StateKeyLayout, stateKey } from '../src/config/types';
import { validateConfig } from '../src/config/validate';
import { PolicyDocument, policySize } from '../src/iam/policy';
import { RESOURCE_POLICY_SIZE_LIMITS } from '../src/pipeline-roles';
import { adaptPrincipal, adaptRequest, S3_CONTEXT_KEY } from './support/kms-context-adapter';
import { decide, DecisionTally, PermissionRequest, SimulatedPrincipal } from './support/simulate-permissions';
import { generateConfig } from './support/generate-config';
import { exampleConfig } from './support/synth';

jest.setTimeout(60_000);

const tally = new DecisionTally();

/** The example (SSE-S3, state in production), and three accounts with a created KMS key. */
function kmsConfig(keyLayout?: StateKeyLayout): unknown {
  const config = exampleConfig();
  config.state = {
    ...config.state,
    account: 'tooling',
    keyPrefix: 'tf',
    encryption: 'SSE-KMS',
    noncurrentVersionExpirationDays: 30,
    ...(keyLayout === undefined ? {} : { keyLayout }),
  };
  config.accounts.push({
    name: 'tooling',
    accountId: '777788889999',
    region: 'eu-west-1',
    workloadPath: '/apps/',
    deploymentEnvironment: { uuid: '{2f6e8a1c-4b3d-4e5f-8a7b-9c0d1e2f3a4b}', name: 'Tooling' },
    roles: [],
  });
  return config;
}

/** `count` accounts with pipeline roles, the state in the first one's bucket. */
function manyAccounts(count: number, encryption?: 'SSE-KMS'): ResolvedConfig {
  const config = generateConfig({ roles: 0, accounts: count, pipeline: true });
  const state = config.state as Record<string, unknown>;
  if (encryption !== undefined) state.encryption = encryption;
  return validateConfig(config).config;
}

const CONFIGS: { name: string; config: ResolvedConfig }[] = [
  { name: 'the example (state in production, SSE-S3)', config: validateConfig(exampleConfig()).config },
  { name: 'three accounts (state in tooling, SSE-KMS with a created key)', config: validateConfig(kmsConfig()).config },
  {
    name: 'three accounts with keys by account name (the original layout)',
    config: validateConfig(kmsConfig('account-name')).config,
  },
];

/**
 * Configurations of many accounts. Every account's roles are proven to reach their own state; the
 * refusals are proven for a sample: the state account and the last account are refused every other
 * account's keys, the second and a middle account their neighbours' (the statements are the same for
 * every account, so this is where a mistake in them would show).
 */
const MANY: { name: string; config: ResolvedConfig }[] = [
  { name: '100 accounts (state in the first, SSE-S3)', config: manyAccounts(100) },
  { name: '100 accounts (state in the first, SSE-KMS with a created key)', config: manyAccounts(100, 'SSE-KMS') },
];

// ---------------------------------------------------------------------------------------------
// The world: principals and requests built from the configuration
// ---------------------------------------------------------------------------------------------

interface World {
  readonly config: ResolvedConfig;
  readonly stateAccount: ResolvedAccount;
  readonly bucketArn: string;
  readonly bucketPolicy: PolicyDocument;
  readonly keyPolicy?: PolicyDocument;
  /** A key the bootstrap stack created (its ARN is known after apply; any key ID stands for it). */
  readonly keyArn?: string;
  readonly viaService: string;
}

function worldOf(config: ResolvedConfig): World {
  const stateAccount = config.accounts.find((a) => a.name === config.state.account?.name)!;
  const { bucketPolicy, keyPolicy } = stateStoragePolicies(config);
  const { partition, region, bucket } = config.state;
  return {
    config,
    stateAccount,
    bucketArn: `arn:${partition}:s3:::${bucket}`,
    bucketPolicy,
    ...(keyPolicy === undefined
      ? {}
      : { keyPolicy, keyArn: `arn:${partition}:kms:${region}:${stateAccount.accountId}:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d` }),
    viaService: `s3.${region}.amazonaws.com`,
  };
}

const objectArn = (world: World, account: ResolvedAccount, kind: StackKind) =>
  `${world.bucketArn}/${stateKey(world.config.state, account, kind)}`;
const lockArn = (world: World, account: ResolvedAccount, kind: StackKind) => `${objectArn(world, account, kind)}.tflock`;

/** A role session, with the role's ARN (path included) for `aws:PrincipalArn`. */
interface Session extends SimulatedPrincipal {
  readonly roleArn: string;
}

function session(
  account: ResolvedAccount,
  path: string,
  name: string,
  identityPolicies: PolicyDocument[],
  boundary?: PolicyDocument,
): Session {
  return {
    arn: `arn:${account.partition}:sts::${account.accountId}:assumed-role/${name}/bitbucket-step`,
    accountId: account.accountId,
    roleArn: roleArn(account, { path, name }),
    identityPolicies,
    ...(boundary === undefined ? {} : { boundary }),
  };
}

function pipelineSession(account: ResolvedAccount, which: 'plan' | 'deploy'): Session {
  const role = account.pipelineRoles[which === 'plan' ? 0 : 1];
  return session(account, role.path, role.name, [role.inlinePolicies[PIPELINE_POLICY_NAMES[which]]]);
}

const EVERYTHING: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Everything', Effect: 'Allow', Action: '*', Resource: '*' }],
};

/**
 * A pipeline role whose identity policy an administrator of its account widened to `*`: outside the
 * state account, the bucket's (and the key's) policy alone then stands between it and the state of
 * every other account.
 */
function widenedPipelineSession(account: ResolvedAccount, which: 'plan' | 'deploy'): Session {
  const role = account.pipelineRoles[which === 'plan' ? 0 : 1];
  return session(account, role.path, role.name, [EVERYTHING]);
}

/** What a widened pipeline role of `account` must still never reach: the state of the `others`. */
function otherAccountsState(world: World, who: Session, others: readonly ResolvedAccount[]): Named[] {
  return others.flatMap((other): Named[] => [
    [`read ${other.name}'s state`, s3(world, who, 's3:GetObject', objectArn(world, other, 'workload'))],
    [`write ${other.name}'s state`, s3(world, who, 's3:PutObject', objectArn(world, other, 'workload'))],
    [`take ${other.name}'s lock`, s3(world, who, 's3:PutObject', lockArn(world, other, 'workload'))],
    [
      `list ${other.name}'s state key`,
      s3(world, who, 's3:ListBucket', world.bucketArn, { 's3:prefix': stateKey(world.config.state, other, 'workload') }),
    ],
    ...(world.keyArn === undefined
      ? []
      : [[`decrypt ${other.name}'s state through S3`, kms(world, who, 'kms:Decrypt', objectArn(world, other, 'workload'))] as Named]),
  ]);
}

/** A workload role given `*`, capped by its account's boundary (as the pipeline would create it). */
function workloadSession(world: World, account: ResolvedAccount): Session {
  const { config } = world;
  const boundary = accountBoundaryPolicy({
    ...(config.pipeline === undefined ? {} : { pipeline: config.pipeline }),
    account,
    bootstrap: account,
    workspace: config.workspace,
    state: config.state,
  });
  return session(account, `${account.workloadPath}team/`, 'greedy-app', [EVERYTHING], boundary);
}

/** An administrator's role (`*`, no boundary, outside every managed path). */
const adminSession = (account: ResolvedAccount) => session(account, '/', 'Administrator', [EVERYTHING]);

type Named = readonly [string, PermissionRequest];

/** An S3 request on the state bucket, over TLS unless said otherwise. */
function s3(world: World, who: Session, action: string, resource: string, extra: Record<string, string> = {}): PermissionRequest {
  return {
    action,
    resource,
    resourceAccount: world.stateAccount.accountId,
    resourcePolicy: world.bucketPolicy,
    context: { 'aws:PrincipalArn': who.roleArn, 'aws:PrincipalAccount': who.accountId, 'aws:SecureTransport': 'true', ...extra },
    label: `${action} on ${resource} ${JSON.stringify(extra)}`,
  };
}

/** A KMS request on the created key, as S3 makes it for an object (or, without `object`, a direct call). */
function kms(world: World, who: Session, action: string, object?: string): PermissionRequest {
  return {
    action,
    resource: world.keyArn!,
    resourceAccount: world.stateAccount.accountId,
    resourcePolicy: world.keyPolicy!,
    context: {
      'aws:PrincipalArn': who.roleArn,
      'aws:PrincipalAccount': who.accountId,
      ...(object === undefined ? {} : { 'kms:ViaService': world.viaService, [S3_CONTEXT_KEY]: object }),
    },
    label: `${action} on ${world.keyArn} for ${object ?? '(a direct call)'}`,
  };
}

async function verdict(who: Session, request: PermissionRequest): Promise<'ALLOW' | 'DENY'> {
  return tally.record(await decide(adaptPrincipal(who), adaptRequest(request))).decision;
}

/** What a plan (and, with `deploy`, an apply) of the account's workload stack does in the bucket. */
function stateNeeds(world: World, who: Session, account: ResolvedAccount, which: 'plan' | 'deploy'): Named[] {
  const key = stateKey(world.config.state, account, 'workload');
  const object = objectArn(world, account, 'workload');
  const lock = lockArn(world, account, 'workload');
  return [
    ['list its own state key', s3(world, who, 's3:ListBucket', world.bucketArn, { 's3:prefix': key })],
    ['read its state', s3(world, who, 's3:GetObject', object)],
    ['take its lock (PutObject)', s3(world, who, 's3:PutObject', lock)],
    ['read its lock', s3(world, who, 's3:GetObject', lock)],
    ['release its lock (DeleteObject)', s3(world, who, 's3:DeleteObject', lock)],
    ...(which === 'deploy' ? [['write its state', s3(world, who, 's3:PutObject', object)] as Named] : []),
    ...(world.keyArn === undefined
      ? []
      : [
          ['decrypt its state through S3', kms(world, who, 'kms:Decrypt', object)] as Named,
          ['decrypt its lock through S3', kms(world, who, 'kms:Decrypt', lock)] as Named,
          ['encrypt its lock through S3', kms(world, who, 'kms:GenerateDataKey', lock)] as Named,
          ...(which === 'deploy' ? [['encrypt its state through S3', kms(world, who, 'kms:GenerateDataKey', object)] as Named] : []),
        ]),
  ];
}

/** What a pipeline role must never do in the bucket. */
function stateForbidden(
  world: World,
  who: Session,
  account: ResolvedAccount,
  which: 'plan' | 'deploy',
  others = world.config.accounts.filter((a) => a !== account),
): Named[] {
  const { keyPrefix } = world.config.state;
  const object = objectArn(world, account, 'workload');
  const lock = lockArn(world, account, 'workload');
  return [
    ...(which === 'plan' ? [['write its state (PutObject)', s3(world, who, 's3:PutObject', object)] as Named] : []),
    ['delete its state', s3(world, who, 's3:DeleteObject', object)],
    ['read its state without TLS', s3(world, who, 's3:GetObject', object, { 'aws:SecureTransport': 'false' })],
    ['take its lock without TLS', s3(world, who, 's3:PutObject', lock, { 'aws:SecureTransport': 'false' })],
    ['list the whole bucket', s3(world, who, 's3:ListBucket', world.bucketArn, { 's3:prefix': '' })],
    ['list every state key', s3(world, who, 's3:ListBucket', world.bucketArn, { 's3:prefix': `${keyPrefix}/` })],
    ['read its own bootstrap state', s3(world, who, 's3:GetObject', objectArn(world, account, 'bootstrap'))],
    ['write its own bootstrap state', s3(world, who, 's3:PutObject', objectArn(world, account, 'bootstrap'))],
    ['take its bootstrap lock', s3(world, who, 's3:PutObject', lockArn(world, account, 'bootstrap'))],
    ["read the state account's bootstrap state", s3(world, who, 's3:GetObject', objectArn(world, world.stateAccount, 'bootstrap'))],
    ['change the bucket policy', s3(world, who, 's3:PutBucketPolicy', world.bucketArn)],
    ['delete the bucket', s3(world, who, 's3:DeleteBucket', world.bucketArn)],
    ['suspend versioning', s3(world, who, 's3:PutBucketVersioning', world.bucketArn)],
    ...others.flatMap((other): Named[] => [
      [`read ${other.name}'s state`, s3(world, who, 's3:GetObject', objectArn(world, other, 'workload'))],
      [`write ${other.name}'s state`, s3(world, who, 's3:PutObject', objectArn(world, other, 'workload'))],
      [`take ${other.name}'s lock`, s3(world, who, 's3:PutObject', lockArn(world, other, 'workload'))],
      [`release ${other.name}'s lock`, s3(world, who, 's3:DeleteObject', lockArn(world, other, 'workload'))],
      [
        `list ${other.name}'s state key`,
        s3(world, who, 's3:ListBucket', world.bucketArn, { 's3:prefix': stateKey(world.config.state, other, 'workload') }),
      ],
    ]),
    ...(world.keyArn === undefined
      ? []
      : [
          ["decrypt another account's state through S3", kms(world, who, 'kms:Decrypt', objectArn(world, others[0], 'workload'))] as Named,
          ['decrypt with the key directly (not through S3)', kms(world, who, 'kms:Decrypt')] as Named,
          [
            'encrypt its bootstrap state through S3',
            kms(world, who, 'kms:GenerateDataKey', objectArn(world, account, 'bootstrap')),
          ] as Named,
          ...(which === 'plan'
            ? [['encrypt its state through S3 (plan writes its lock only)', kms(world, who, 'kms:GenerateDataKey', object)] as Named]
            : []),
          ["schedule the key's deletion", kms(world, who, 'kms:ScheduleKeyDeletion')] as Named,
        ]),
  ];
}

// ---------------------------------------------------------------------------------------------
// The proofs
// ---------------------------------------------------------------------------------------------

describe.each(CONFIGS)('the state bucket of $name', ({ config }) => {
  const world = worldOf(config);
  const withPipeline = config.accounts.filter((a) => a.pipelineRoles.length === 2);

  it('is in the state account, and every account has pipeline roles', () => {
    expect(world.stateAccount.name).toBe(config.state.account?.name);
    expect(withPipeline).toHaveLength(config.accounts.length);
  });

  describe.each(
    withPipeline.map((account) => ({
      account,
      label: `${account.name}${account === world.stateAccount ? ' (the state account)' : ' (cross-account)'}`,
    })),
  )('for the pipeline roles of $label', ({ account }) => {
    for (const which of ['plan', 'deploy'] as const) {
      const who = pipelineSession(account, which);

      it.each(stateNeeds(world, who, account, which))(`allows the ${which} role to %s`, async (_name, request) => {
        expect({ request: request.label, decision: await verdict(who, request) }).toEqual({ request: request.label, decision: 'ALLOW' });
      });

      it.each(stateForbidden(world, who, account, which))(`denies the ${which} role to %s`, async (_name, request) => {
        expect({ request: request.label, decision: await verdict(who, request) }).toEqual({ request: request.label, decision: 'DENY' });
      });
    }
  });

  describe.each(withPipeline.filter((account) => account !== world.stateAccount).map((account) => ({ account })))(
    'for the pipeline roles of $account.name widened to "*" by its administrator',
    ({ account }) => {
      for (const which of ['plan', 'deploy'] as const) {
        const who = widenedPipelineSession(account, which);
        const others = config.accounts.filter((a) => a !== account);
        it.each(otherAccountsState(world, who, others))(
          `denies the ${which} role to %s (the bucket's policy alone)`,
          async (_name, request) => {
            expect({ request: request.label, decision: await verdict(who, request) }).toEqual({ request: request.label, decision: 'DENY' });
          },
        );
      }
    },
  );

  describe('for every other principal', () => {
    const anyoneCases = (who: Session): Named[] =>
      config.accounts
        .flatMap((account): Named[] => [
          [`read ${account.name}'s workload state`, s3(world, who, 's3:GetObject', objectArn(world, account, 'workload'))],
          [`write ${account.name}'s workload state`, s3(world, who, 's3:PutObject', objectArn(world, account, 'workload'))],
          [`take ${account.name}'s workload lock`, s3(world, who, 's3:PutObject', lockArn(world, account, 'workload'))],
          [`read ${account.name}'s bootstrap state`, s3(world, who, 's3:GetObject', objectArn(world, account, 'bootstrap'))],
        ])
        .concat([
          ['list the bucket', s3(world, who, 's3:ListBucket', world.bucketArn, { 's3:prefix': '' })],
          ['change the bucket policy', s3(world, who, 's3:PutBucketPolicy', world.bucketArn)],
          ...(world.keyArn === undefined
            ? []
            : [
                ['decrypt a state through S3', kms(world, who, 'kms:Decrypt', objectArn(world, world.stateAccount, 'workload'))] as Named,
                ["schedule the key's deletion", kms(world, who, 'kms:ScheduleKeyDeletion')] as Named,
                ['disable the key', kms(world, who, 'kms:DisableKey')] as Named,
              ]),
        ]);

    const stateWorkload = workloadSession(world, world.stateAccount);
    it.each(anyoneCases(stateWorkload))(
      'denies a workload role of the state account (identity "*", its boundary) to %s',
      async (_name, request) => {
        expect({ request: request.label, decision: await verdict(stateWorkload, request) }).toEqual({
          request: request.label,
          decision: 'DENY',
        });
      },
    );

    const other = config.accounts.find((a) => a !== world.stateAccount)!;
    const otherWorkload = workloadSession(world, other);
    it.each(anyoneCases(otherWorkload))(
      `denies a workload role of ${other.name} (identity "*", its boundary) to %s`,
      async (_name, request) => {
        expect({ request: request.label, decision: await verdict(otherWorkload, request) }).toEqual({
          request: request.label,
          decision: 'DENY',
        });
      },
    );

    const otherAdmin = adminSession(other);
    it.each(anyoneCases(otherAdmin))(
      `denies an administrator of ${other.name} (identity "*": the bucket grants administrators nothing) to %s`,
      async (_name, request) => {
        expect({ request: request.label, decision: await verdict(otherAdmin, request) }).toEqual({
          request: request.label,
          decision: 'DENY',
        });
      },
    );

    const stateAdmin = adminSession(world.stateAccount);
    const adminNeeds: Named[] = config.accounts.flatMap((account): Named[] => [
      [`read ${account.name}'s bootstrap state`, s3(world, stateAdmin, 's3:GetObject', objectArn(world, account, 'bootstrap'))],
      [`write ${account.name}'s bootstrap state`, s3(world, stateAdmin, 's3:PutObject', objectArn(world, account, 'bootstrap'))],
      [`take ${account.name}'s bootstrap lock`, s3(world, stateAdmin, 's3:PutObject', lockArn(world, account, 'bootstrap'))],
    ]);
    it.each(adminNeeds)("allows the state account's administrator (the README's -backend-config=profile) to %s", async (_name, request) => {
      expect({ request: request.label, decision: await verdict(stateAdmin, request) }).toEqual({
        request: request.label,
        decision: 'ALLOW',
      });
    });

    it("denies the state account's administrator any request without TLS", async () => {
      const request = s3(world, stateAdmin, 's3:GetObject', objectArn(world, world.stateAccount, 'bootstrap'), {
        'aws:SecureTransport': 'false',
      });
      expect(await verdict(stateAdmin, request)).toBe('DENY');
    });
  });
});

/** The cases whose decision is not `expected`, named by the account they concern. */
async function wrongDecisions(cases: readonly (readonly [string, Session, Named])[], expected: 'ALLOW' | 'DENY'): Promise<string[]> {
  const wrong: string[] = [];
  for (const [label, who, [name, request]] of cases) {
    const decision = await verdict(who, request);
    if (decision !== expected) wrong.push(`${label}: ${name} (${request.label}) was ${decision}`);
  }
  return wrong;
}

describe.each(MANY)('the state bucket of $name', ({ config }) => {
  const world = worldOf(config);
  const { accounts } = config;
  const last = accounts[accounts.length - 1];
  const middle = accounts[Math.floor(accounts.length / 2)];

  it("fits S3's 20 KB bucket policy quota with one set of statements for every account", () => {
    expect(world.stateAccount).toBe(accounts[0]);
    expect(accounts.every((a) => a.pipelineRoles.length === 2)).toBe(true);
    expect(policySize(world.bucketPolicy)).toBeLessThanOrEqual(RESOURCE_POLICY_SIZE_LIMITS.bucketPolicy);
    expect(world.bucketPolicy.Statement).toHaveLength(6);
  });

  it.each(['plan', 'deploy'] as const)("allows every account's %s role to use its own state key and lock", async (which) => {
    const cases = accounts.flatMap((account) => {
      const who = pipelineSession(account, which);
      return stateNeeds(world, who, account, which).map((c) => [account.name, who, c] as const);
    });
    expect(cases.length).toBeGreaterThanOrEqual(accounts.length * 5);
    expect(await wrongDecisions(cases, 'ALLOW')).toEqual([]);
  });

  describe.each([
    { account: accounts[0], label: `${accounts[0].name} (the state account), against every other account`, others: undefined },
    { account: last, label: `${last.name} (cross-account), against every other account`, others: undefined },
    { account: accounts[1], label: `${accounts[1].name}, against its neighbours`, others: [accounts[0], accounts[2]] },
    {
      account: middle,
      label: `${middle.name}, against its neighbours`,
      others: [accounts[accounts.indexOf(middle) - 1], accounts[accounts.indexOf(middle) + 1]],
    },
  ])('for the pipeline roles of $label', ({ account, others }) => {
    it.each(['plan', 'deploy'] as const)(
      "denies the %s role every other account's state and lock, and what no pipeline role may do",
      async (which) => {
        const who = pipelineSession(account, which);
        const cases = stateForbidden(world, who, account, which, others).map((c) => [account.name, who, c] as const);
        expect(await wrongDecisions(cases, 'DENY')).toEqual([]);
      },
    );
  });

  it.each(['plan', 'deploy'] as const)(
    'denies the %s roles of the last and a middle account, widened to "*" by their administrators, every other account\'s state',
    async (which) => {
      const cases = [last, middle].flatMap((account) => {
        const who = widenedPipelineSession(account, which);
        return otherAccountsState(
          world,
          who,
          accounts.filter((a) => a !== account),
        ).map((c) => [account.name, who, c] as const);
      });
      expect(await wrongDecisions(cases, 'DENY')).toEqual([]);
    },
  );

  it('denies workload roles (identity "*", their boundary) and other accounts\' administrators every state', async () => {
    const cases = [accounts[0], accounts[1], middle, last].flatMap((owner) =>
      [workloadSession(world, accounts[0]), workloadSession(world, last), adminSession(last)].flatMap((who) =>
        (['workload', 'bootstrap'] as const).flatMap((kind) => [
          [owner.name, who, [`read ${owner.name}'s ${kind} state`, s3(world, who, 's3:GetObject', objectArn(world, owner, kind))]] as const,
          [
            owner.name,
            who,
            [`write ${owner.name}'s ${kind} state`, s3(world, who, 's3:PutObject', objectArn(world, owner, kind))],
          ] as const,
        ]),
      ),
    );
    expect(await wrongDecisions(cases, 'DENY')).toEqual([]);
  });
});

describe('the engine and KMS encryption-context keys', () => {
  const world = worldOf(CONFIGS[1].config);
  const [account] = CONFIGS[1].config.accounts;
  const who = pipelineSession(account, 'plan');

  it('ignores kms:EncryptionContext:aws:s3:arn unless the adapter renames it (why the adapter exists)', async () => {
    const request = kms(world, who, 'kms:Decrypt', objectArn(world, account, 'workload'));
    await expect(decide(who, request)).rejects.toThrow(/engine ignored kms:EncryptionContext:aws:s3:arn/);
    expect(await verdict(who, request)).toBe('ALLOW');
  });
});

afterAll(() => {
  process.stdout.write(
    `\nstate bucket permissions: ${tally.allowed + tally.denied} decisions by iam-simulate, ${tally.allowed} ALLOW and ${tally.denied} DENY\n`,
  );
});
