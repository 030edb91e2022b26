/**
 * Proofs of the pipeline policies (`src/pipeline-roles`): the plan role, the deploy role and the
 * workload boundary are evaluated by an independent engine, `@cloud-copilot/iam-simulate`, identity
 * policy TOGETHER with the permissions boundary, against a small account (`support/pipeline-world.ts`).
 * Every assertion is a decision (ALLOW or DENY), never a policy's shape, except in "policy shape and
 * limits" at the end.
 *
 * The pipeline roles are proved both without a boundary and carrying the workload boundary (when its
 * allowed actions are `*`): the denials must hold on the identity policy alone, and the boundary must
 * not break the pipeline. The sweeps (every write action of IAM, S3, KMS and STS) run on the identity
 * policy alone, the stronger case.
 */
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import {
  AWS_IAM_OPENID_CONNECT_PROVIDER_DATA_CALLS,
  boundaryPolicy,
  CALLS_NOT_GRANTED,
  deployRolePolicy,
  PERMISSION_HOLDERS,
  permissionTableMarkdown,
  PipelinePolicyContext,
  PipelinePolicyContextError,
  pipelinePermissionRows,
  planRolePolicy,
  POLICY_SIZE_LIMITS,
  providerCalls,
  ROLE_ACTIONS_WITH_BOUNDARY_KEY,
  WORKLOAD_ROLE_RESOURCE_CALLS,
} from '../src/pipeline-roles';
import { asList, PolicyDocument, policySize } from '../src/iam/policy';
import {
  buildWorld,
  documentedConditionKeys,
  newRoleArn,
  on,
  onRole,
  resourcesOfType,
  roleOf,
  sessionArn,
  settingBoundary,
  World,
  WorldRole,
  writeActions,
  WriteAction,
} from './support/pipeline-world';
import { adaptPrincipal, adaptRequest, S3_CONTEXT_KEY } from './support/kms-context-adapter';
import { decide as decideWithEngine, DecisionTally, PermissionRequest, SimulatedPrincipal } from './support/simulate-permissions';

jest.setTimeout(120_000);

const tally = new DecisionTally();

/** The engine, with KMS's S3 encryption-context key renamed so that it evaluates it (see the adapter). */
const decide = (principal: SimulatedPrincipal, request: PermissionRequest) =>
  decideWithEngine(adaptPrincipal(principal), adaptRequest(request));

// ---------------------------------------------------------------------------------------------
// Parameter sets
// ---------------------------------------------------------------------------------------------

interface ParameterSet {
  readonly name: string;
  readonly context: PipelinePolicyContext;
}

const PARAMETER_SETS: readonly ParameterSet[] = [
  {
    name: 'the defaults (aws, /bitbucket/, SSE-S3)',
    context: {
      partition: 'aws',
      accountId: '123456789012',
      workspace: 'acme',
      state: { bucket: 'acme-terraform-state', key: 'bitbucket-oidc/123456789012/workload.tfstate' },
    },
  },
  {
    name: 'aws-cn, other paths and boundary name, SSE-KMS',
    context: {
      partition: 'aws-cn',
      accountId: '210987654321',
      workspace: 'acme-cn',
      managedPath: '/platform/workloads/',
      pipelineRolePath: '/ci/',
      boundaryPolicyName: 'workload-ceiling',
      boundaryPolicyPath: '/boundaries/',
      state: {
        bucket: 'acme-cn-terraform-state',
        key: 'tf/210987654321/workload.tfstate',
        kmsKeyArn: 'arn:aws-cn:kms:cn-north-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    },
  },
  {
    name: 'aws-us-gov, a boundary narrowed to S3 and logs, SSE-KMS',
    context: {
      partition: 'aws-us-gov',
      accountId: '000111222333',
      workspace: 'gov_team-2',
      managedPath: '/bb/',
      pipelineRolePath: '/bb-ci/',
      boundaryAllowedActions: ['s3:*', 'logs:*'],
      state: {
        bucket: 'gov.state.bucket',
        key: 'states/workload.tfstate',
        kmsKeyArn: 'arn:aws-us-gov:kms:us-gov-west-1:000111222333:key/abcdef01-2345-4678-9abc-def012345678',
      },
    },
  },
];

/** Whether the pipeline roles can carry the workload boundary without losing what they need. */
function boundaryAdmitsPipeline(context: PipelinePolicyContext): boolean {
  return (context.boundaryAllowedActions ?? ['*']).includes('*');
}

// ---------------------------------------------------------------------------------------------
// Principals and cases
// ---------------------------------------------------------------------------------------------

function pipelinePrincipal(world: World, role: WorldRole, identity: PolicyDocument, boundary: PolicyDocument): SimulatedPrincipal {
  return {
    arn: sessionArn(world, role),
    accountId: world.accountId,
    identityPolicies: [identity],
    ...(role.boundary === undefined ? {} : { boundary }),
  };
}

/** The worst workload: an identity policy allowing everything, capped only by the boundary. */
const ADMINISTRATOR_IDENTITY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Everything', Effect: 'Allow', Action: '*', Resource: '*' }],
};

/**
 * A use of the state key as S3 makes it for one object (SSE-KMS, S3 Bucket Keys off): through S3 in
 * the key's region, with the object's ARN as encryption context.
 */
function throughS3(world: World, action: string, object: string): PermissionRequest {
  const [, partition, , region] = world.kmsKeyArn!.split(':');
  // Each partition's endpoint DNS suffix (the AWS SDKs' partition data).
  const suffix =
    { 'aws-cn': 'amazonaws.com.cn', 'aws-iso': 'c2s.ic.gov', 'aws-iso-b': 'sc2s.sgov.gov', 'aws-eusc': 'amazonaws.eu' }[partition] ??
    'amazonaws.com';
  return on(world, action, world.kmsKeyArn!, { 'kms:ViaService': `s3.${region}.${suffix}`, [S3_CONTEXT_KEY]: object });
}

/** Every read Terraform makes to refresh the workload stack, and the state access of a plan. */
function planNeeds(world: World): PermissionRequest[] {
  const roleReads = ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'];
  return [
    ...world.workloadRoles.flatMap((role) => roleReads.map((action) => onRole(world, action, role))),
    on(world, 'iam:GetOpenIDConnectProvider', world.providerArn),
    on(world, 's3:ListBucket', world.stateBucketArn, { 's3:prefix': world.stateKey }),
    on(world, 's3:GetObject', world.stateObjectArn),
    ...['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].map((action) => on(world, action, world.lockArn)),
    ...(world.kmsKeyArn === undefined
      ? []
      : [
          throughS3(world, 'kms:Decrypt', world.stateObjectArn),
          throughS3(world, 'kms:Decrypt', world.lockArn),
          throughS3(world, 'kms:GenerateDataKey', world.lockArn),
        ]),
  ];
}

/** What an apply of the workload stack needs beyond a plan. */
function applyNeeds(world: World): PermissionRequest[] {
  const changes = [
    'iam:UpdateAssumeRolePolicy',
    'iam:UpdateRole',
    'iam:UpdateRoleDescription',
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:DetachRolePolicy',
    'iam:TagRole',
    'iam:UntagRole',
    'iam:ListInstanceProfilesForRole',
    'iam:DeleteRole',
  ];
  return [
    settingBoundary(world, 'iam:CreateRole', newRoleArn(world, world.managedPath, 'new-runtime'), world.boundaryArn),
    settingBoundary(world, 'iam:CreateRole', newRoleArn(world, `${world.managedPath}nested/deeper/`, 'new-job'), world.boundaryArn),
    ...world.workloadRoles.flatMap((role) => [
      ...changes.map((action) => onRole(world, action, role)),
      // Any managed policy, AdministratorAccess included: the boundary caps it.
      onRole(world, 'iam:AttachRolePolicy', role, { 'iam:PolicyARN': world.administratorAccessArn }),
      settingBoundary(world, 'iam:PutRolePermissionsBoundary', role.arn, world.boundaryArn),
    ]),
    on(world, 's3:PutObject', world.stateObjectArn),
    ...(world.kmsKeyArn === undefined ? [] : [throughS3(world, 'kms:GenerateDataKey', world.stateObjectArn)]),
  ];
}

type NamedCase = readonly [string, PermissionRequest];

/** Requests no pipeline role may make, named as the sentence the test reads. */
function forbiddenToPipeline(world: World): NamedCase[] {
  const [workload] = world.workloadRoles;
  const underPath = newRoleArn(world, world.managedPath, 'sneaky');
  const pipelineRoles: [string, WorldRole][] = [
    ['the deploy role', world.deployRole],
    ['the plan role', world.planRole],
  ];
  return [
    ['iam:CreateRole without the boundary', settingBoundary(world, 'iam:CreateRole', underPath)],
    ['iam:CreateRole with another boundary', settingBoundary(world, 'iam:CreateRole', underPath, world.otherBoundaryArn)],
    [
      'iam:CreateRole outside the managed path, even with the boundary',
      settingBoundary(world, 'iam:CreateRole', newRoleArn(world, '/', 'outside'), world.boundaryArn),
    ],
    [
      'iam:CreateRole under the pipeline role path',
      settingBoundary(world, 'iam:CreateRole', newRoleArn(world, world.pipelineRolePath, 'third'), world.boundaryArn),
    ],
    ['iam:DeleteRolePermissionsBoundary on a workload role', onRole(world, 'iam:DeleteRolePermissionsBoundary', workload)],
    [
      'iam:PutRolePermissionsBoundary with another policy',
      settingBoundary(world, 'iam:PutRolePermissionsBoundary', workload.arn, world.otherBoundaryArn),
    ],
    ['iam:PutRolePolicy on a role under the path that lacks the boundary', onRole(world, 'iam:PutRolePolicy', world.unboundedManagedRole)],
    [
      'iam:AttachRolePolicy on a role under the path that lacks the boundary',
      onRole(world, 'iam:AttachRolePolicy', world.unboundedManagedRole, { 'iam:PolicyARN': world.administratorAccessArn }),
    ],
    [
      'iam:UpdateAssumeRolePolicy on a role under the path that lacks the boundary',
      onRole(world, 'iam:UpdateAssumeRolePolicy', world.unboundedManagedRole),
    ],
    ...['iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion'].map(
      (action): NamedCase => [`${action} on the boundary`, on(world, action, world.boundaryArn)],
    ),
    ...pipelineRoles.flatMap(([name, role]) =>
      [
        'iam:PutRolePolicy',
        'iam:AttachRolePolicy',
        'iam:UpdateAssumeRolePolicy',
        'iam:DeleteRole',
        'iam:DeleteRolePermissionsBoundary',
      ].map((action): NamedCase => [
        `${action} on ${name}`,
        onRole(world, action, role, action === 'iam:AttachRolePolicy' ? { 'iam:PolicyARN': world.administratorAccessArn } : {}),
      ]),
    ),
    ...[
      'iam:DeleteOpenIDConnectProvider',
      'iam:UpdateOpenIDConnectProviderThumbprint',
      'iam:AddClientIDToOpenIDConnectProvider',
      'iam:RemoveClientIDFromOpenIDConnectProvider',
    ].map((action): NamedCase => [`${action} on the workspace provider`, on(world, action, world.providerArn)]),
    ['s3:GetObject on another bucket', on(world, 's3:GetObject', world.otherBucketStateArn)],
    ["s3:GetObject on another account's state key", on(world, 's3:GetObject', world.otherAccountStateArn)],
    ["s3:PutObject on another account's state key", on(world, 's3:PutObject', world.otherAccountStateArn)],
    ['s3:ListBucket beyond its own key', on(world, 's3:ListBucket', world.stateBucketArn, { 's3:prefix': '' })],
    ['s3:DeleteObject on its state', on(world, 's3:DeleteObject', world.stateObjectArn)],
    ['iam:CreateUser', on(world, 'iam:CreateUser', world.userArn)],
    ['iam:CreateAccessKey', on(world, 'iam:CreateAccessKey', world.userArn)],
    ['iam:CreateLoginProfile', on(world, 'iam:CreateLoginProfile', world.userArn)],
    ...[workload, world.deployRole, world.adminRole].flatMap((role): NamedCase[] => [
      [`iam:PassRole of ${role.name}`, onRole(world, 'iam:PassRole', role)],
      [`sts:AssumeRole of ${role.name}`, onRole(world, 'sts:AssumeRole', role)],
    ]),
    ["iam:PutRolePolicy on the administrator's role", onRole(world, 'iam:PutRolePolicy', world.adminRole)],
    ...['iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRole'].map((action): NamedCase => [
      `${action} on a role outside the path, even one carrying the boundary`,
      onRole(world, action, world.boundedOutsideRole),
    ]),
    ...[world.adminRole, world.deployRole, world.boundedOutsideRole].flatMap((role) =>
      ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'].map((action): NamedCase => [
        `${action} of ${role.name}, outside the managed path`,
        onRole(world, action, role),
      ]),
    ),
    [
      'iam:GetOpenIDConnectProvider of another issuer',
      on(world, 'iam:GetOpenIDConnectProvider', world.providerArn.replace(/workspaces\/[^/]+\//, 'workspaces/someone-else/')),
    ],
    ['kms:Decrypt with another key', on(world, 'kms:Decrypt', world.otherKmsKeyArn)],
    ...(world.kmsKeyArn === undefined
      ? []
      : [
          ['kms:Decrypt with the state key, not through S3', on(world, 'kms:Decrypt', world.kmsKeyArn)] as NamedCase,
          [
            "kms:Decrypt with the state key through S3 for another account's state",
            throughS3(world, 'kms:Decrypt', world.otherAccountStateArn),
          ] as NamedCase,
        ]),
  ];
}

/** The escalations a workload role carrying the boundary must not achieve. */
function workloadEscalations(world: World): NamedCase[] {
  const [self, sibling] = world.workloadRoles;
  return [
    ['create a role without the boundary', settingBoundary(world, 'iam:CreateRole', newRoleArn(world, world.managedPath, 'free'))],
    ['create a role outside the path without the boundary', settingBoundary(world, 'iam:CreateRole', newRoleArn(world, '/', 'free'))],
    [
      'create a role with another boundary',
      settingBoundary(world, 'iam:CreateRole', newRoleArn(world, world.managedPath, 'free'), world.otherBoundaryArn),
    ],
    ['remove its own boundary (iam:DeleteRolePermissionsBoundary)', onRole(world, 'iam:DeleteRolePermissionsBoundary', self)],
    ["remove a sibling's boundary", onRole(world, 'iam:DeleteRolePermissionsBoundary', sibling)],
    [
      'replace its own boundary with another policy',
      settingBoundary(world, 'iam:PutRolePermissionsBoundary', self.arn, world.otherBoundaryArn),
    ],
    ...['iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion'].map(
      (action): NamedCase => [`change the boundary (${action})`, on(world, action, world.boundaryArn)],
    ),
    [
      "rewrite a policy attached to an administrator's role (iam:CreatePolicyVersion)",
      on(world, 'iam:CreatePolicyVersion', world.adminPolicyArn),
    ],
    ...[world.planRole, world.deployRole].flatMap((role) => [
      ...['iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRole', 'iam:TagRole'].map(
        (action): NamedCase => [`${action} on the pipeline role ${role.name}`, onRole(world, action, role)],
      ),
      [`pass the pipeline role ${role.name} (iam:PassRole)`, onRole(world, 'iam:PassRole', role)] as NamedCase,
      [`assume the pipeline role ${role.name}`, onRole(world, 'sts:AssumeRole', role)] as NamedCase,
    ]),
    ...[world.adminRole, world.unboundedManagedRole].flatMap((role) =>
      ['iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy'].map((action): NamedCase => [
        `${action} on the unbounded role ${role.name}`,
        onRole(world, action, role, action === 'iam:AttachRolePolicy' ? { 'iam:PolicyARN': world.administratorAccessArn } : {}),
      ]),
    ),
    ...['iam:DeleteOpenIDConnectProvider', 'iam:UpdateOpenIDConnectProviderThumbprint', 'iam:AddClientIDToOpenIDConnectProvider'].map(
      (action): NamedCase => [`change the workspace provider (${action})`, on(world, action, world.providerArn)],
    ),
    ...[
      'iam:CreateUser',
      'iam:CreateAccessKey',
      'iam:CreateLoginProfile',
      'iam:UpdateLoginProfile',
      'iam:AttachUserPolicy',
      'iam:PutUserPolicy',
      'iam:AddUserToGroup',
    ].map((action): NamedCase => [
      `touch users (${action})`,
      on(world, action, action === 'iam:AddUserToGroup' ? world.groupArn : world.userArn),
    ]),
  ];
}

/** What a bounded workload may still do (the boundary is a ceiling, not a wall). */
function workloadOrdinaryWork(world: World): NamedCase[] {
  const [, sibling] = world.workloadRoles;
  return [
    ['read an object of another bucket', on(world, 's3:GetObject', world.otherBucketStateArn)],
    ...((world.context.boundaryAllowedActions ?? ['*']).includes('*')
      ? ([
          [
            'create a role with the boundary',
            settingBoundary(world, 'iam:CreateRole', newRoleArn(world, world.managedPath, 'child'), world.boundaryArn),
          ],
          ['put an inline policy on a sibling that carries the boundary', onRole(world, 'iam:PutRolePolicy', sibling)],
        ] as NamedCase[])
      : []),
  ];
}

async function expectDecision(principal: SimulatedPrincipal, request: PermissionRequest, expected: 'ALLOW' | 'DENY'): Promise<void> {
  const verdict = tally.record(await decide(principal, request));
  expect({ request: request.label, decision: verdict.decision }).toEqual({ request: request.label, decision: expected });
}

/** Decides many requests and returns the ones whose decision differs from `expected`. */
async function mismatches(
  principal: SimulatedPrincipal,
  requests: readonly PermissionRequest[],
  expected: (r: PermissionRequest) => 'ALLOW' | 'DENY',
): Promise<string[]> {
  const wrong: string[] = [];
  for (const request of requests) {
    const verdict = tally.record(await decide(principal, request));
    if (verdict.decision !== expected(request)) wrong.push(`${request.label}: ${verdict.result}, expected ${expected(request)}`);
  }
  return wrong;
}

// ---------------------------------------------------------------------------------------------
// The sweeps: every write action of IAM, S3, KMS and STS on every resource of the world.
// ---------------------------------------------------------------------------------------------

const SWEPT_SERVICES = ['iam', 's3', 'kms', 'sts'];
let writes: WriteAction[] = [];
beforeAll(async () => {
  writes = (await Promise.all(SWEPT_SERVICES.map(writeActions))).flat();
});

function sweepRequests(world: World, resourceFilter: (arn: string) => boolean = () => true): PermissionRequest[] {
  return writes.flatMap(({ action, resourceTypes }) => {
    const service = action.split(':')[0];
    const resources = resourceTypes.length === 0 ? ['*'] : resourceTypes.flatMap((type) => resourcesOfType(world, service, type));
    return [...new Set(resources)].filter(resourceFilter).map((resource) => {
      const role = roleOf(world, resource);
      return role === undefined ? on(world, action, resource) : onRole(world, action, role);
    });
  });
}

/** The deploy role's expected writes, stated from the design, not from `src`. */
function deployMayWrite(world: World, request: PermissionRequest): boolean {
  const roleWrites = [
    'iam:CreateRole',
    'iam:PutRolePermissionsBoundary',
    'iam:UpdateAssumeRolePolicy',
    'iam:UpdateRole',
    'iam:UpdateRoleDescription',
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:AttachRolePolicy',
    'iam:DetachRolePolicy',
    'iam:DeleteRole',
  ];
  const bounded = world.workloadRoles.some((role) => role.arn === request.resource);
  if (bounded && [...roleWrites, 'iam:TagRole', 'iam:UntagRole'].includes(request.action)) return true;
  // Tags carry no boundary key, so tagging is scoped by the path only: the hand-made role can be tagged.
  if (request.resource === world.unboundedManagedRole.arn && ['iam:TagRole', 'iam:UntagRole'].includes(request.action)) return true;
  return stateWrite(world, request, 'apply');
}

/**
 * The state writes a pipeline role may make. The sweep's requests carry no context, so a use of the
 * state key (allowed only through S3, for the role's own objects) is refused there: `planNeeds` and
 * `applyNeeds` allow it with S3's context.
 */
function stateWrite(world: World, request: PermissionRequest, access: 'plan' | 'apply'): boolean {
  const { action, resource } = request;
  if (resource === world.lockArn && ['s3:PutObject', 's3:DeleteObject'].includes(action)) return true;
  return access === 'apply' && resource === world.stateObjectArn && action === 's3:PutObject';
}

// ---------------------------------------------------------------------------------------------
// The proofs, for each parameter set
// ---------------------------------------------------------------------------------------------

describe.each(PARAMETER_SETS)('pipeline permissions with $name', ({ context }) => {
  const plan = planRolePolicy(context);
  const deploy = deployRolePolicy(context);
  const boundary = boundaryPolicy(context);

  const configurations = [
    { carries: false, label: 'without a boundary' },
    ...(boundaryAdmitsPipeline(context) ? [{ carries: true, label: 'carrying the workload boundary' }] : []),
  ];

  describe.each(configurations)('pipeline roles $label', ({ carries }) => {
    const world = buildWorld(context, { pipelineRolesCarryBoundary: carries });
    const planner = pipelinePrincipal(world, world.planRole, plan, boundary);
    const deployer = pipelinePrincipal(world, world.deployRole, deploy, boundary);

    it('allows the plan role every read Terraform makes to refresh the workload stack, and its state and lock', async () => {
      expect(await mismatches(planner, planNeeds(world), () => 'ALLOW')).toEqual([]);
    });

    it('allows the deploy role every read of a plan and every write of an apply', async () => {
      expect(await mismatches(deployer, [...planNeeds(world), ...applyNeeds(world)], () => 'ALLOW')).toEqual([]);
    });

    it.each(forbiddenToPipeline(world))('denies the deploy role %s', async (_name, request) => {
      await expectDecision(deployer, request, 'DENY');
    });

    it.each(forbiddenToPipeline(world))('denies the plan role %s', async (_name, request) => {
      await expectDecision(planner, request, 'DENY');
    });

    it('denies the plan role every write an apply needs', async () => {
      const writesOfApply = applyNeeds(world).filter((r) => r.action !== 'iam:ListInstanceProfilesForRole');
      expect(await mismatches(planner, writesOfApply, () => 'DENY')).toEqual([]);
    });
  });

  describe('sweeping every write action of IAM, S3, KMS and STS (identity policy alone)', () => {
    const world = buildWorld(context, { pipelineRolesCarryBoundary: false });

    it('lets the plan role write nothing except its lock file (and use the state key for it)', async () => {
      const principal = pipelinePrincipal(world, world.planRole, plan, boundary);
      const requests = sweepRequests(world);
      expect(requests.length).toBeGreaterThan(300);
      expect(await mismatches(principal, requests, (r) => (stateWrite(world, r, 'plan') ? 'ALLOW' : 'DENY'))).toEqual([]);
    });

    it('lets the deploy role write only workload roles under the path, its state and its lock', async () => {
      const principal = pipelinePrincipal(world, world.deployRole, deploy, boundary);
      expect(await mismatches(principal, sweepRequests(world), (r) => (deployMayWrite(world, r) ? 'ALLOW' : 'DENY'))).toEqual([]);
    });
  });

  describe('a workload role carrying the boundary, with an identity policy allowing everything', () => {
    const world = buildWorld(context, { pipelineRolesCarryBoundary: false });
    const workload: SimulatedPrincipal = {
      arn: sessionArn(world, world.workloadRoles[0]),
      accountId: world.accountId,
      identityPolicies: [ADMINISTRATOR_IDENTITY],
      boundary,
    };

    it.each(workloadEscalations(world))('cannot %s', async (_name, request) => {
      await expectDecision(workload, request, 'DENY');
    });

    it.each(workloadOrdinaryWork(world))('can still %s', async (_name, request) => {
      await expectDecision(workload, request, 'ALLOW');
    });

    it('cannot write to any bootstrap resource (pipeline roles, OIDC provider, boundary), whatever the action', async () => {
      const bootstrap = new Set([world.planRole.arn, world.deployRole.arn, world.providerArn, world.boundaryArn]);
      // Not decided by the caller's policies in AWS, so an identity-side Deny would mean nothing:
      // sts:TagSession / SetSourceIdentity / SetContext only decorate an AssumeRole call (denied), and
      // AssumeRoleWithWebIdentity / AssumeRoleWithSAML are unauthenticated calls decided by the role's
      // trust policy alone (the pipeline roles trust only the workspace OIDC provider).
      const notIdentityGoverned = new Set([
        'sts:TagSession',
        'sts:SetSourceIdentity',
        'sts:SetContext',
        'sts:AssumeRoleWithWebIdentity',
        'sts:AssumeRoleWithSAML',
      ]);
      const requests = sweepRequests(world, (arn) => bootstrap.has(arn)).filter((r) => !notIdentityGoverned.has(r.action));
      expect(requests.length).toBeGreaterThan(30);
      expect(await mismatches(workload, requests, () => 'DENY')).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Generated contexts
// ---------------------------------------------------------------------------------------------

const segment = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
const generatedContext: fc.Arbitrary<PipelinePolicyContext> = fc
  .record({
    partition: fc.constantFrom('aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-eusc'),
    accountId: fc.stringMatching(/^\d{12}$/),
    workspace: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/),
    managed: fc.array(segment, { minLength: 1, maxLength: 3 }),
    pipeline: fc.array(segment, { minLength: 1, maxLength: 2 }),
    bucket: fc.stringMatching(/^[a-z0-9][a-z0-9-]{2,30}[a-z0-9]$/),
    key: fc.stringMatching(/^[a-z0-9][a-z0-9/_.-]{0,40}[a-z0-9]$/).filter((k) => !k.includes('//')),
    kms: fc.boolean(),
  })
  // The two paths must not contain one another (resolvePipelineContext refuses them).
  .filter(
    ({ managed, pipeline }) =>
      !`/${managed.join('/')}/`.startsWith(`/${pipeline.join('/')}/`) && !`/${pipeline.join('/')}/`.startsWith(`/${managed.join('/')}/`),
  )
  .map(({ partition, accountId, workspace, managed, pipeline, bucket, key, kms }) => ({
    partition,
    accountId,
    workspace,
    managedPath: `/${managed.join('/')}/`,
    pipelineRolePath: `/${pipeline.join('/')}/`,
    state: {
      bucket,
      key,
      ...(kms ? { kmsKeyArn: `arn:${partition}:kms:eu-west-1:${accountId}:key/11111111-2222-4333-8444-555555555555` } : {}),
    },
  }));

describe('generated contexts (fast-check)', () => {
  it('keep the boundary condition, the path scope and the state scope for any partition, account, paths and key', async () => {
    await fc.assert(
      fc.asyncProperty(generatedContext, async (context) => {
        // Identity policies alone: the denials must not depend on the pipeline roles carrying the boundary.
        const world = buildWorld(context, { pipelineRolesCarryBoundary: false });
        const deployer = pipelinePrincipal(world, world.deployRole, deployRolePolicy(context), boundaryPolicy(context));
        const planner = pipelinePrincipal(world, world.planRole, planRolePolicy(context), boundaryPolicy(context));
        const [workload] = world.workloadRoles;
        const allowed = [
          settingBoundary(world, 'iam:CreateRole', newRoleArn(world, world.managedPath, 'x'), world.boundaryArn),
          onRole(world, 'iam:PutRolePolicy', workload),
          on(world, 's3:PutObject', world.stateObjectArn),
        ];
        const denied = [
          settingBoundary(world, 'iam:CreateRole', newRoleArn(world, world.managedPath, 'x')),
          settingBoundary(world, 'iam:CreateRole', newRoleArn(world, world.pipelineRolePath, 'x'), world.boundaryArn),
          onRole(world, 'iam:PutRolePolicy', world.deployRole),
          onRole(world, 'iam:DeleteRolePermissionsBoundary', workload),
          on(world, 'iam:CreatePolicyVersion', world.boundaryArn),
          on(world, 's3:GetObject', world.otherAccountStateArn),
        ];
        const wrong = [
          ...(await mismatches(deployer, allowed, () => 'ALLOW')),
          ...(await mismatches(deployer, denied, () => 'DENY')),
          ...(await mismatches(planner, planNeeds(world), () => 'ALLOW')),
          ...(await mismatches(planner, [on(world, 's3:PutObject', world.stateObjectArn)], () => 'DENY')),
        ];
        expect(wrong).toEqual([]);
      }),
      { numRuns: 12, seed: 20250101 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Policy shape and limits (the only tests that look at the documents rather than decisions)
// ---------------------------------------------------------------------------------------------

function actionsOn(document: PolicyDocument, resource: string, effect: 'Allow' | 'Deny' = 'Allow'): string[] {
  return [
    ...new Set(
      document.Statement.filter((s) => s.Effect === effect && asList(s.Resource).includes(resource)).flatMap((s) => asList(s.Action)),
    ),
  ].sort();
}

describe('policy shape and limits', () => {
  const [defaults, cn] = PARAMETER_SETS;
  const world = buildWorld(defaults.context, { pipelineRolesCarryBoundary: false });
  const workloadRoles = `arn:aws:iam::${world.accountId}:role${world.managedPath}*`;

  it('grants the plan role exactly the provider reads of the workload resource types on workload roles', () => {
    expect(actionsOn(planRolePolicy(defaults.context), workloadRoles)).toEqual(
      providerCalls(WORKLOAD_ROLE_RESOURCE_CALLS, ['read']).sort(),
    );
  });

  it('grants the deploy role every provider call on workload roles except those written down as not granted', () => {
    const expected = providerCalls(WORKLOAD_ROLE_RESOURCE_CALLS, ['read', 'create', 'update', 'delete']).filter(
      (a) => !(a in CALLS_NOT_GRANTED),
    );
    expect(actionsOn(deployRolePolicy(defaults.context), workloadRoles)).toEqual(expected.sort());
  });

  it('reads the OIDC provider only by ARN (no ListOpenIDConnectProviders)', () => {
    const granted = AWS_IAM_OPENID_CONNECT_PROVIDER_DATA_CALLS.read.filter((a) => !(a in CALLS_NOT_GRANTED));
    expect(actionsOn(planRolePolicy(defaults.context), world.providerArn)).toEqual(granted);
  });

  it('conditions on iam:PermissionsBoundary only actions that AWS documents with that key', async () => {
    const conditioned = [deployRolePolicy(defaults.context), boundaryPolicy(defaults.context)]
      .flatMap((d) => d.Statement)
      .filter((s) => JSON.stringify(s.Condition ?? {}).includes('iam:PermissionsBoundary'))
      .flatMap((s) => asList(s.Action));
    for (const action of [...new Set([...conditioned, ...ROLE_ACTIONS_WITH_BOUNDARY_KEY])]) {
      const [service, name] = action.split(':');
      expect({ action, keys: await documentedConditionKeys(service, name) }).toEqual({
        action,
        keys: expect.arrayContaining(['iam:permissionsboundary']),
      });
    }
  });

  it.each(PARAMETER_SETS)('keeps every policy well under the managed-policy quota with $name', ({ context }) => {
    for (const document of [planRolePolicy(context), deployRolePolicy(context), boundaryPolicy(context)]) {
      expect(policySize(document)).toBeLessThan(POLICY_SIZE_LIMITS.managedPolicy * 0.75);
    }
    // Attached inline, plan and deploy fit in one role's 10,240-character inline quota together too.
    expect(policySize(planRolePolicy(context)) + policySize(deployRolePolicy(context))).toBeLessThan(
      POLICY_SIZE_LIMITS.inlinePoliciesPerRole,
    );
  });

  it('refuses, with the size and the quota, a context whose policies would not fit', () => {
    // Each path within IAM's 512 characters, each alone valid: together the deploy policy is too big.
    const long = (letter: string): string => `/${letter.repeat(250)}/${letter.repeat(250)}/`;
    const context = {
      ...defaults.context,
      managedPath: long('m'),
      pipelineRolePath: long('p'),
      state: { ...defaults.context.state, key: 'k'.repeat(1000) },
    };
    expect(() => deployRolePolicy(context)).toThrow(/the deploy role policy is \d+ characters .* at most 6144/);
  });

  it('builds every ARN from the partition: no literal arn:aws: in an aws-cn policy', () => {
    for (const document of [planRolePolicy(cn.context), deployRolePolicy(cn.context), boundaryPolicy(cn.context)]) {
      const arns = JSON.stringify(document).match(/arn:[a-z-]+:/g) ?? [];
      expect(arns.length).toBeGreaterThan(0);
      expect([...new Set(arns)]).toEqual(['arn:aws-cn:']);
    }
  });

  it('gives every statement a unique Sid that reads as a sentence', () => {
    for (const document of [planRolePolicy(defaults.context), deployRolePolicy(defaults.context), boundaryPolicy(defaults.context)]) {
      const sids = document.Statement.map((s) => s.Sid ?? '');
      expect(new Set(sids).size).toBe(sids.length);
      for (const sid of sids) expect(sid).toMatch(/^(Allow|Deny|[A-Z][a-z]+)([A-Z][a-z]*)+$/);
    }
  });

  it('uses neither NotAction nor NotResource', () => {
    for (const document of [planRolePolicy(defaults.context), deployRolePolicy(defaults.context), boundaryPolicy(defaults.context)]) {
      expect(JSON.stringify(document)).not.toMatch(/"Not(Action|Resource|Principal)"/);
    }
  });

  it('renders the table of docs/permissions.md from the same statements as the policies', () => {
    const table = permissionTableMarkdown(defaults.context, { includeBoundary: true });
    const rows = pipelinePermissionRows(defaults.context, { includeBoundary: true });
    const statements = [planRolePolicy(defaults.context), deployRolePolicy(defaults.context), boundaryPolicy(defaults.context)].flatMap(
      (d) => d.Statement,
    );
    expect(rows.map((r) => r.sid)).toEqual(statements.map((s) => s.Sid));
    expect(table.split('\n')).toHaveLength(2 + statements.length);
    for (const [row, statement] of rows.map((r, i) => [r, statements[i]] as const)) {
      expect(row.actions).toEqual(asList(statement.Action));
      expect(table).toContain(`| ${row.holder} | ${row.sid} | ${row.effect} |`);
    }
    expect(new Set(rows.map((r) => r.holder))).toEqual(new Set(Object.values(PERMISSION_HOLDERS)));
  });

  it('reports every problem of an invalid context at once, naming the field and showing an example', () => {
    const bad: PipelinePolicyContext = {
      partition: 'amazon',
      accountId: '1234',
      workspace: 'Acme Corp',
      managedPath: '/bitbucket/',
      pipelineRolePath: '/bitbucket/pipeline/',
      state: { bucket: 'Bad_Bucket', key: 'state/*', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/state' },
    };
    let error: unknown;
    try {
      planRolePolicy(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PipelinePolicyContextError);
    const problems = (error as PipelinePolicyContextError).problems;
    for (const field of ['partition', 'accountId', 'workspace', 'state.bucket', 'state.key', 'state.kmsKeyArn']) {
      expect(problems.filter((p) => p.startsWith(`${field}: `))).toHaveLength(1);
    }
    expect(problems.filter((p) => p.includes('must not contain one another'))).toHaveLength(1);
    expect(problems).toHaveLength(7);
    expect(problems.join('\n')).toMatch(/e\.g\./);
  });

  it('refuses a managed path of / (it would contain the pipeline roles)', () => {
    expect(() => deployRolePolicy({ ...defaults.context, managedPath: '/' })).toThrow(/must not contain one another/);
  });

  it('never imports the test-only engine from the policy builders', () => {
    const folder = path.resolve(__dirname, '../src/pipeline-roles');
    for (const file of readdirSync(folder)) {
      expect(readFileSync(path.join(folder, file), 'utf8')).not.toContain('@cloud-copilot');
    }
  });
});

afterAll(() => {
  process.stdout.write(
    `\npipeline permissions: ${tally.allowed + tally.denied} decisions by iam-simulate, ${tally.allowed} ALLOW and ${tally.denied} DENY\n`,
  );
});
