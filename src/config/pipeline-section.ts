/**
 * The bootstrap side of the configuration: the pipeline that runs this project (`pipeline`), and per
 * account the deployment environment that applies it, the workload roles' path and the permissions
 * boundary. From them come the pipeline's plan and deploy roles, whose permissions are generated
 * (`src/pipeline-roles/`), never configured.
 */
import { BitbucketIssuer } from '../bitbucket/protocol';
import { roleTrustPolicy } from '../bitbucket/trust-policy';
import { PolicyDocument } from '../iam/policy';
import {
  boundaryPolicy,
  deployRolePolicy,
  PIPELINE_POLICY_DEFAULTS,
  PipelinePolicyContext,
  planRolePolicy,
  resolvePipelineContext,
} from '../pipeline-roles';
import { join, LIMITS, quote as show, RULES, ValueRule } from '../iam/rules';
import { Checker } from './checker';
import { FIELDS } from './fields';
import { NamedEnvironment, NameSource, readEnvironmentRef, readRepositoryRef } from './names';
import { pipelineStateContext } from './state-section';
import { ResolvedBoundary, ResolvedPipeline, ResolvedRepository, ResolvedRole, ResolvedState } from './types';

/** Defaults of the pipeline section, named once. */
export const PIPELINE_DEFAULTS = {
  planRoleName: 'bitbucket-plan',
  deployRoleName: 'bitbucket-deploy',
  rolePath: PIPELINE_POLICY_DEFAULTS.pipelineRolePath,
  workloadPath: PIPELINE_POLICY_DEFAULTS.managedPath,
  boundaryName: PIPELINE_POLICY_DEFAULTS.boundaryPolicyName,
} as const;

/** Names of the generated inline policies of the pipeline roles. */
export const PIPELINE_POLICY_NAMES = { plan: 'terraform-plan', deploy: 'terraform-deploy' } as const;

const EXAMPLE_ENVIRONMENT = '{"name": "Production"}';

/** Reads the `pipeline` section; its repository by name or UUID. */
export function readPipeline(check: Checker, value: unknown, names: NameSource): ResolvedPipeline | undefined {
  if (value === undefined) return undefined;
  const object = check.fields('pipeline', value, FIELDS.pipeline);
  if (object === undefined) return undefined;
  const repositoryObject =
    object.repository === undefined ? undefined : check.fields('pipeline.repository', object.repository, FIELDS.pipelineRepository);
  const ref = repositoryObject === undefined ? undefined : readRepositoryRef(check, 'pipeline.repository', repositoryObject);
  const repository = ref === undefined ? undefined : names.repository(check, 'pipeline.repository', ref);
  const planRoleName = check.optionalString('pipeline.planRoleName', object.planRoleName, RULES.roleName) ?? PIPELINE_DEFAULTS.planRoleName;
  const deployRoleName =
    check.optionalString('pipeline.deployRoleName', object.deployRoleName, RULES.roleName) ?? PIPELINE_DEFAULTS.deployRoleName;
  if (planRoleName.toLowerCase() === deployRoleName.toLowerCase()) {
    check.fail(
      'pipeline.deployRoleName',
      `${show(deployRoleName)} is also the plan role's name; the two pipeline roles need different names`,
    );
  }
  const rolePath = check.optionalString('pipeline.rolePath', object.rolePath, RULES.rolePath) ?? PIPELINE_DEFAULTS.rolePath;
  if (repository === undefined) return undefined;
  return { repository: { ...repository, environments: [] }, planRoleName, deployRoleName, rolePath };
}

/** The pieces of an account the bootstrap side needs. */
export interface AccountBootstrap {
  readonly workloadPath: string;
  readonly boundary: ResolvedBoundary;
  readonly deploymentEnvironment?: NamedEnvironment;
}

const BOUNDARY_ARN: ValueRule = {
  test: (value) => /^arn:aws[a-z-]*:iam::\d{12}:policy(\/[\x21-\x7E]*)?\/[A-Za-z0-9+=,.@_-]{1,128}$/.test(value),
  rule: 'be the ARN of a customer-managed policy of this account',
  example: 'arn:aws:iam::123456789012:policy/platform-boundary',
};

/** Reads an account's `deploymentEnvironment`, `workloadPath` and `permissionsBoundary`. */
export function readAccountBootstrap(
  check: Checker,
  path: string,
  object: Record<string, unknown>,
  account: { partition: string; accountId?: string },
  pipeline: ResolvedPipeline | undefined,
  names: NameSource,
  pipelineGiven: boolean,
): AccountBootstrap | undefined {
  const before = check.problems.length;
  const workloadPath =
    check.optionalString(join(path, 'workloadPath'), object.workloadPath, RULES.rolePath) ?? PIPELINE_DEFAULTS.workloadPath;
  if (workloadPath === '/') {
    check.fail(
      join(path, 'workloadPath'),
      '"/" must be a path of its own, e.g. "/bitbucket/": the deploy role may change every role under it',
    );
  }
  if (pipeline !== undefined && (workloadPath.startsWith(pipeline.rolePath) || pipeline.rolePath.startsWith(workloadPath))) {
    check.fail(
      join(path, 'workloadPath'),
      `${show(workloadPath)} must not contain, or lie inside, the pipeline roles' path ${show(pipeline.rolePath)}: the deploy role would then manage its own role`,
    );
  }

  let deploymentEnvironment: NamedEnvironment | undefined;
  if (object.deploymentEnvironment !== undefined) {
    const at = join(path, 'deploymentEnvironment');
    const ref = readEnvironmentRef(check, at, object.deploymentEnvironment);
    // An environment of the pipeline's repository: its deployment steps apply the account.
    if (ref !== undefined && pipeline !== undefined) deploymentEnvironment = names.environment(check, at, pipeline.repository, ref);
    if (!pipelineGiven) {
      check.fail(
        join(path, 'deploymentEnvironment'),
        'is used only with a "pipeline" section, which names the repository whose deployment steps apply the account',
      );
    }
  } else if (pipeline !== undefined) {
    check.fail(
      join(path, 'deploymentEnvironment'),
      `is required with "pipeline": the deployment environment whose steps may apply this account, e.g. ${EXAMPLE_ENVIRONMENT}`,
    );
  }

  const boundary = readBoundary(check, join(path, 'permissionsBoundary'), object.permissionsBoundary, account);
  if (boundary === undefined || check.problems.length > before) return undefined;
  return { workloadPath, boundary, ...(deploymentEnvironment === undefined ? {} : { deploymentEnvironment }) };
}

function readBoundary(
  check: Checker,
  path: string,
  value: unknown,
  account: { partition: string; accountId?: string },
): ResolvedBoundary | undefined {
  const arnOf = (name: string, policyPath: string) =>
    `arn:${account.partition}:iam::${account.accountId ?? '000000000000'}:policy${policyPath}${name}`;
  if (value === undefined) {
    return {
      arn: arnOf(PIPELINE_DEFAULTS.boundaryName, '/'),
      create: true,
      name: PIPELINE_DEFAULTS.boundaryName,
      path: '/',
      allowedActions: ['*'],
    };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'arn' in value) {
    const object = check.fields(path, value, FIELDS.boundaryExisting);
    const arn = object === undefined ? undefined : check.string(join(path, 'arn'), object.arn, BOUNDARY_ARN);
    if (arn === undefined) return undefined;
    const [, partition, accountId, policyPath, name] = /^arn:([^:]+):iam::(\d{12}):policy(\/(?:.*\/)?)([^/]+)$/.exec(arn) ?? [];
    if (partition !== account.partition || (account.accountId !== undefined && accountId !== account.accountId)) {
      return check.fail(
        join(path, 'arn'),
        `${show(arn)} must be a policy of this account, i.e. start with "arn:${account.partition}:iam::${account.accountId}:policy/"`,
      );
    }
    return { arn, create: false, name, path: policyPath, allowedActions: [] };
  }
  const object = check.fields(path, value, FIELDS.boundaryCreated);
  if (object === undefined) return undefined;
  const name = check.optionalString(join(path, 'name'), object.name, RULES.policyName) ?? PIPELINE_DEFAULTS.boundaryName;
  const allowedActions =
    object.allowedActions === undefined
      ? ['*']
      : check.strings(join(path, 'allowedActions'), object.allowedActions, RULES.action, { what: 'actions', min: 1 });
  return { arn: arnOf(name, '/'), create: true, name, path: '/', allowedActions };
}

/** What an account's pipeline policies and boundary are built from. */
export interface PolicyContextInput {
  readonly pipeline?: ResolvedPipeline;
  readonly account: { readonly name: string; readonly accountId: string; readonly partition: string };
  readonly bootstrap: AccountBootstrap;
  readonly workspace: string;
  readonly state: ResolvedState;
}

/** Everything the pipeline roles of one account are built from. */
export interface PipelineRolesInput extends PolicyContextInput {
  readonly pipeline: ResolvedPipeline;
  readonly account: PolicyContextInput['account'] & { readonly providerArn: string };
  readonly issuer: BitbucketIssuer;
  readonly audiences: string[];
}

/** The policy context of an account: its ARNs, paths, boundary and workload state. */
export function policyContext(input: PolicyContextInput): PipelinePolicyContext {
  const { pipeline, account, bootstrap, workspace, state } = input;
  return {
    partition: account.partition,
    accountId: account.accountId,
    workspace,
    managedPath: bootstrap.workloadPath,
    pipelineRolePath: pipeline?.rolePath ?? PIPELINE_DEFAULTS.rolePath,
    boundaryPolicyName: bootstrap.boundary.name,
    boundaryPolicyPath: bootstrap.boundary.path,
    ...(bootstrap.boundary.create ? { boundaryAllowedActions: bootstrap.boundary.allowedActions } : {}),
    state: pipelineStateContext(state, account),
  };
}

/** The boundary policy document the bootstrap stack creates for an account. */
export function accountBoundaryPolicy(input: PolicyContextInput): PolicyDocument {
  return boundaryPolicy(policyContext(input));
}

/**
 * The pipeline's plan role (any step of the pipeline's repository: pull requests included, so it
 * only reads) and deploy role (deployment steps of the account's environment only), with their
 * generated inline policies. Throws `PipelinePolicyContextError` for an inconsistent context.
 */
export function pipelineRoles(input: PipelineRolesInput): ResolvedRole[] {
  const { pipeline, bootstrap, issuer, audiences, account } = input;
  const context = policyContext(input);
  resolvePipelineContext(context);
  const environment = bootstrap.deploymentEnvironment!;
  const role = (
    name: string,
    repository: ResolvedRepository,
    policyName: string,
    policy: PolicyDocument,
    description: string,
  ): ResolvedRole => ({
    name,
    repositories: [repository],
    allowAllRepositories: false,
    audiences,
    sourceIpCidrs: [],
    managedPolicyArns: [],
    inlinePolicies: { [policyName]: policy },
    maxSessionDurationSeconds: LIMITS.minSessionDuration,
    path: pipeline.rolePath,
    description,
    tags: {},
    suppressions: [],
    // One repository, or one of its environments: far below any quota.
    trustPolicy: roleTrustPolicy({ providerArn: account.providerArn, issuer, audiences, repositories: [repository] }).document,
  });
  const { repository } = pipeline;
  const label = repository.name ?? repository.uuid;
  return [
    role(
      pipeline.planRoleName,
      repository,
      PIPELINE_POLICY_NAMES.plan,
      planRolePolicy(context),
      `Plans the workload stack of ${account.name} from any step of ${label}: reads only`,
    ),
    role(
      pipeline.deployRoleName,
      {
        ...repository,
        environments: [environment.uuid],
        ...(environment.name === undefined ? {} : { environmentNames: { [environment.uuid]: environment.name } }),
      },
      PIPELINE_POLICY_NAMES.deploy,
      deployRolePolicy(context),
      `Applies the workload stack of ${account.name} from deployment steps of ${environment.name ?? environment.uuid} in ${label}`,
    ),
  ];
}
