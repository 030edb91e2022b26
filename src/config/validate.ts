/**
 * Validates a configuration read from JSON and resolves it: every problem is collected (field path,
 * value, rule, example) and reported in one error, so a user fixes a config in one round trip and
 * nothing reaches Terraform or AWS until it is right.
 */
import { readFileSync } from 'fs';
import { isAbsolute, resolve as resolvePath } from 'path';
import {
  BITBUCKET_RULES,
  BitbucketIssuer,
  bitbucketIssuer,
  oidcProviderArn,
  parseWorkspace,
  partitionOfRegion,
  workspaceAudience,
} from '../bitbucket/protocol';
import { roleTrustPolicy } from '../bitbucket/trust-policy';
import { inlinePoliciesSizeProblem, readPolicyDocument } from '../iam/grammar';
import { PolicyDocument } from '../iam/policy';
import { join, LIMITS, quote as show, RULES, violation } from '../iam/rules';
import { Checker, ConfigProblem, JsonObject } from './checker';
import { FIELDS } from './fields';
import { reportFindings } from './findings';
import { parseJson } from './json';
import { unknownField } from './suggestions';
import { AccountBootstrap, pipelineRoles, PipelineRolesInput, readAccountBootstrap, readPipeline } from './pipeline-section';
import { LockNames, NameSource, readEnvironmentRef, readRepositoryRef } from './names';
import { checkStateAgainstAccounts, readState, stateWarnings } from './state-section';
import { ResolvedAccount, ResolvedConfig, ResolvedPipeline, ResolvedRepository, ResolvedRole, ResolvedState } from './types';

export type { ConfigProblem } from './checker';

/** A configuration that cannot be used, with every problem found. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${count} in ${source}:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** A valid configuration, and what the user should know about it. */
export interface ValidationResult {
  readonly config: ResolvedConfig;
  readonly warnings: string[];
}

/** Bitbucket's own limits on custom audiences (it issues no token beyond them). */
const BITBUCKET_CUSTOM_AUDIENCES = 10;
const BITBUCKET_AUDIENCE_LENGTH = 150;

/** Fields that were replaced, with what replaced them. */
const RETIRED_ROLE_FIELDS: Record<string, string> = {
  permissionsBoundaryArn:
    'every workload role carries its account\'s permissions boundary; set accounts[].permissionsBoundary (a name and allowed actions, or {"arn": ...} for an existing policy)',
};

/**
 * Validates and resolves a parsed configuration. Throws a `ConfigError` listing every problem.
 *
 * @param input the parsed JSON
 * @param source where it came from, for the error message
 * @param baseDir the folder that policy file paths are relative to (the configuration file's)
 * @param names where names get their UUIDs: the lock file's names (`loadConfig` reads it), or by
 *   default none, so that only UUIDs resolve
 */
export function validateConfig(
  input: unknown,
  source = 'the configuration',
  baseDir = process.cwd(),
  names: NameSource = new LockNames(undefined),
): ValidationResult {
  const check = new Checker();
  // `$schema` names config/schema.json for editors.
  const top = check.fields('', input, FIELDS.top, ['$schema']);
  if (top === undefined) throw new ConfigError(source, check.problems);

  const { workspace, workspaceUuid } = readWorkspace(check, top, names);
  const { audiences, extraAudiences } = readAudiences(check, top, workspaceUuid);
  const thumbprints = check.strings('thumbprints', top.thumbprints, RULES.thumbprint, {
    what: 'thumbprints',
    max: LIMITS.thumbprints,
    normalise: (t) => t.toLowerCase(),
  });
  const trustPolicyMaxSize = check.integer(
    'trustPolicyMaxSize',
    top.trustPolicyMaxSize,
    LIMITS.trustPolicySize,
    LIMITS.trustPolicySizeMax,
    LIMITS.trustPolicySize,
    'characters',
  );
  const tags = check.tags('tags', top.tags);
  const state = readState(check, top.state, top.accounts);
  const pipeline = readPipeline(check, top.pipeline, names);
  const issuer = workspace === undefined ? undefined : bitbucketIssuer(workspace);
  const accounts = readAccounts(check, top.accounts, {
    workspace,
    issuer,
    audiences,
    trustPolicyMaxSize,
    baseDir,
    pipeline,
    pipelineGiven: top.pipeline !== undefined,
    state,
    names,
  });

  if (state !== undefined) checkStateAgainstAccounts(check, state, accounts, pipeline);
  if (check.problems.length === 0) reportFindings(check, accounts);
  if (check.problems.length > 0 || workspace === undefined || workspaceUuid === undefined || issuer === undefined || state === undefined) {
    throw new ConfigError(source, check.problems);
  }
  check.warnings.push(...stateWarnings(state, accounts, pipeline));
  if (pipeline === undefined) {
    check.warnings.push(
      'there is no "pipeline" section, so no plan or deploy role is created: apply the workload stacks by hand, or name the pipeline\'s repository to have its roles made',
    );
  }
  return {
    config: {
      workspace,
      workspaceUuid,
      issuer,
      audiences,
      extraAudiences,
      thumbprints,
      trustPolicyMaxSize,
      tags,
      state,
      accounts,
      ...(pipeline === undefined ? {} : { pipeline }),
    },
    warnings: check.warnings,
  };
}

/** Reads `workspace` (the slug, or the issuer URL Bitbucket shows) and `workspaceUuid` (or the lock's). */
function readWorkspace(check: Checker, top: JsonObject, names: NameSource): { workspace?: string; workspaceUuid?: string } {
  const workspaceText = top.workspace === undefined ? undefined : check.string('workspace', top.workspace);
  const workspace = workspaceText === undefined ? undefined : parseWorkspace(workspaceText);
  if (workspaceText !== undefined && workspace === undefined) {
    check.fail('workspace', violation(workspaceText, BITBUCKET_RULES.workspace));
  }
  const invalid = check.problems.length;
  const configured = top.workspaceUuid === undefined ? undefined : check.uuid('workspaceUuid', top.workspaceUuid);
  const workspaceUuid = check.problems.length > invalid ? undefined : names.workspaceUuid(check, workspace, configured);
  return { ...(workspace === undefined ? {} : { workspace }), ...(workspaceUuid === undefined ? {} : { workspaceUuid }) };
}

/** The provider's client IDs: the workspace audience first, then the custom `audiences`, within Bitbucket's and IAM's limits. */
function readAudiences(
  check: Checker,
  top: JsonObject,
  workspaceUuid: string | undefined,
): { audiences: string[]; extraAudiences: string[] } {
  const defaultAudience = workspaceUuid === undefined ? undefined : workspaceAudience(workspaceUuid);
  const extraAudiences = check.strings('audiences', top.audiences, RULES.audience, { what: 'audiences' });
  extraAudiences.forEach((audience, i) => {
    if (audience === defaultAudience)
      check.fail(join('audiences', i), `${show(audience)} is the workspace audience, which is always accepted: remove it`);
    if (audience.length > BITBUCKET_AUDIENCE_LENGTH) {
      check.warnings.push(
        `audiences[${i}] is ${audience.length} characters; Bitbucket's custom audiences are at most ${BITBUCKET_AUDIENCE_LENGTH}`,
      );
    }
  });
  if (extraAudiences.length > BITBUCKET_CUSTOM_AUDIENCES) {
    check.warnings.push(
      `audiences lists ${extraAudiences.length} custom audiences; Bitbucket allows at most ${BITBUCKET_CUSTOM_AUDIENCES}`,
    );
  }
  const audiences = defaultAudience === undefined ? [] : [defaultAudience, ...extraAudiences.filter((a) => a !== defaultAudience)];
  if (audiences.length > LIMITS.clientIds) {
    check.fail(
      'audiences',
      `${audiences.length} client IDs (the workspace audience and ${extraAudiences.length} custom ones) must be at most ${LIMITS.clientIds}, IAM's limit per OIDC provider`,
    );
  }
  return { audiences, extraAudiences };
}

/** What every account is read with: the workspace-wide settings, each undefined when it is invalid. */
interface AccountsContext {
  readonly workspace: string | undefined;
  readonly issuer: BitbucketIssuer | undefined;
  readonly audiences: string[];
  readonly trustPolicyMaxSize: number;
  readonly baseDir: string;
  readonly pipeline: ResolvedPipeline | undefined;
  /** Whether the configuration has a `pipeline` section, valid or not. */
  readonly pipelineGiven: boolean;
  readonly state: ResolvedState | undefined;
  readonly names: NameSource;
}

/** Reads `accounts`: at least one, names and account IDs unique; an account with any problem is left out. */
function readAccounts(check: Checker, value: unknown, context: AccountsContext): ResolvedAccount[] {
  const accounts: ResolvedAccount[] = [];
  const seenNames = new Map<string, number>();
  const seenIds = new Map<string, number>();
  const seenEnvironments = new Map<string, number>();
  (check.list('accounts', value, { min: 1, what: 'accounts' }) ?? []).forEach((item, a) => {
    const path = join('accounts', a);
    const object = check.fields(path, item, FIELDS.account);
    if (object === undefined) return;
    const name = object.name === undefined ? undefined : check.string(join(path, 'name'), object.name, RULES.accountName);
    if (name !== undefined) {
      if (seenNames.has(name))
        check.fail(
          join(path, 'name'),
          `${show(name)} is also the name of accounts[${seenNames.get(name)}]; account names must be unique (each names a stack)`,
        );
      else seenNames.set(name, a);
    }
    const accountId = object.accountId === undefined ? undefined : check.string(join(path, 'accountId'), object.accountId, RULES.accountId);
    if (accountId !== undefined) {
      if (seenIds.has(accountId)) {
        check.fail(
          join(path, 'accountId'),
          `${show(accountId)} is also the account of accounts[${seenIds.get(accountId)}]; list each account once (two stacks would both manage its one provider)`,
        );
      } else seenIds.set(accountId, a);
    }
    const account = readAccount(check, path, object, { ...context, name, accountId });
    if (account === undefined) return;
    const environment = account.deploymentEnvironment?.uuid;
    if (environment !== undefined && seenEnvironments.has(environment)) {
      check.fail(
        join(path, 'deploymentEnvironment'),
        `is also the deployment environment of accounts[${seenEnvironments.get(environment)}]; each account needs its own (a deployment step applies the one account named like its environment, and the other account's deploy role would trust steps that never apply it)`,
      );
      return;
    }
    if (environment !== undefined) seenEnvironments.set(environment, a);
    accounts.push(account);
  });
  return accounts;
}

/** One account's name and ID, as `readAccounts` read them. */
interface AccountContext extends AccountsContext {
  readonly name: string | undefined;
  readonly accountId: string | undefined;
}

/** Reads the rest of one account: region, tags, provider, bootstrap settings, roles; adds the pipeline's roles. */
function readAccount(check: Checker, path: string, object: JsonObject, context: AccountContext): ResolvedAccount | undefined {
  const { name, accountId, issuer, pipeline } = context;
  const region = object.region === undefined ? undefined : check.string(join(path, 'region'), object.region, RULES.region);
  const partition = partitionOfRegion(region ?? 'us-east-1');
  const accountTags = check.tags(join(path, 'tags'), object.tags);
  const { providerArn, reuseProvider } = readProviderArn(check, path, object, { partition, accountId, issuer });
  const bootstrap = readAccountBootstrap(
    check,
    path,
    object,
    { partition, ...(accountId === undefined ? {} : { accountId }) },
    pipeline,
    context.names,
    context.pipelineGiven,
  );
  const roles = readRoles(check, path, object, { ...context, providerArn, ...(bootstrap === undefined ? {} : { bootstrap }) });

  if (name === undefined || accountId === undefined || region === undefined || providerArn === undefined || bootstrap === undefined) {
    return undefined;
  }
  const account = { name, accountId, partition, providerArn };
  const generated = generatedPipelineRoles(check, path, roles, { ...context, account, bootstrap });
  return {
    name,
    accountId,
    region,
    partition,
    providerArn,
    reuseProvider,
    tags: accountTags,
    workloadPath: bootstrap.workloadPath,
    boundary: bootstrap.boundary,
    ...(bootstrap.deploymentEnvironment === undefined ? {} : { deploymentEnvironment: bootstrap.deploymentEnvironment }),
    pipelineRoles: generated,
    roles,
  };
}

/** The account's provider: the one AWS names after the issuer, or `existingProviderArn`, which must be that one. */
function readProviderArn(
  check: Checker,
  path: string,
  object: JsonObject,
  account: { partition: string; accountId: string | undefined; issuer: BitbucketIssuer | undefined },
): { providerArn: string | undefined; reuseProvider: boolean } {
  const { partition, accountId, issuer } = account;
  const expected = issuer !== undefined && accountId !== undefined ? oidcProviderArn(partition, accountId, issuer) : undefined;
  const existing = check.optionalString(join(path, 'existingProviderArn'), object.existingProviderArn, RULES.oidcProviderArn);
  if (existing === undefined) return { providerArn: expected, reuseProvider: false };
  if (expected === undefined) return { providerArn: undefined, reuseProvider: true };
  if (existing !== expected) {
    check.fail(
      join(path, 'existingProviderArn'),
      `${show(existing)} must be the provider of issuer ${issuer!.url} in account ${accountId}, i.e. ${JSON.stringify(expected)} (AWS names the provider after its issuer; a provider of another workspace or account cannot validate this workspace's tokens)`,
    );
  }
  return { providerArn: existing, reuseProvider: true };
}

/** Reads an account's `roles`: required without a `pipeline` section; names unique in the account, as IAM ignores case. */
function readRoles(
  check: Checker,
  path: string,
  object: JsonObject,
  context: AccountContext & Omit<RoleContext, 'issuer' | 'audiences'>,
): ResolvedRole[] {
  const { pipeline } = context;
  if (pipeline === undefined && object.roles === undefined) {
    check.fail(
      join(path, 'roles'),
      'is required: without a "pipeline" section an account needs at least one role, e.g. [{"name": "bitbucket-deploy", "repositories": [...]}]',
    );
  }
  const rolesPath = join(path, 'roles');
  const minRoles = pipeline === undefined ? 1 : 0;
  const roleItems = object.roles === undefined ? [] : (check.list(rolesPath, object.roles, { min: minRoles, what: 'roles' }) ?? []);
  const roles: ResolvedRole[] = [];
  const roleNames = new Map<string, number>();
  roleItems.forEach((roleItem, r) => {
    const role = readRole(check, join(rolesPath, r), roleItem, context);
    if (role === undefined) return;
    const key = role.name.toLowerCase();
    if (roleNames.has(key)) {
      check.fail(
        join(join(rolesPath, r), 'name'),
        `${show(role.name)} is also the name of roles[${roleNames.get(key)}]; role names must be unique in an account (IAM ignores case)`,
      );
    } else roleNames.set(key, r);
    roles.push(role);
  });
  return roles;
}

/**
 * The pipeline's plan and deploy roles of an account (none without a `pipeline` section); their names
 * must differ from the account's own roles.
 */
function generatedPipelineRoles(
  check: Checker,
  path: string,
  roles: readonly ResolvedRole[],
  context: AccountsContext & { account: PipelineRolesInput['account']; bootstrap: AccountBootstrap },
): ResolvedRole[] {
  const { pipeline, workspace, issuer, audiences, state, account, bootstrap } = context;
  if (pipeline === undefined || workspace === undefined || issuer === undefined || state === undefined) return [];
  const generated = pipelineRoles({ pipeline, account, bootstrap, workspace, issuer, audiences, state });
  for (const role of generated) {
    const clash = roles.find((r) => r.name.toLowerCase() === role.name.toLowerCase());
    if (clash === undefined) continue;
    const which = role === generated[0] ? 'plan' : 'deploy';
    check.fail(
      join(path, 'roles'),
      `${show(clash.name)} is also the name of the pipeline's ${which} role; rename one of them (IAM ignores case)`,
    );
  }
  return generated;
}

interface RoleContext {
  readonly audiences: string[];
  readonly issuer: BitbucketIssuer | undefined;
  readonly providerArn: string | undefined;
  readonly trustPolicyMaxSize: number;
  readonly baseDir: string;
  readonly bootstrap?: AccountBootstrap;
  readonly names: NameSource;
}

function readRole(check: Checker, path: string, value: unknown, context: RoleContext): ResolvedRole | undefined {
  const object = check.fields(path, value, FIELDS.role, Object.keys(RETIRED_ROLE_FIELDS));
  if (object === undefined) return undefined;
  for (const [field, instead] of Object.entries(RETIRED_ROLE_FIELDS)) {
    if (object[field] !== undefined) check.fail(join(path, field), `is no longer a role setting: ${instead}`);
  }
  const problemsBefore = check.problems.length;
  const name = object.name === undefined ? undefined : check.string(join(path, 'name'), object.name, RULES.roleName);
  const label = `role ${name === undefined ? path : JSON.stringify(name)}`;

  const allowAllRepositories = check.boolean(join(path, 'allowAllRepositories'), object.allowAllRepositories, false);
  const repositories = readRepositories(check, join(path, 'repositories'), object.repositories, context.names);
  if (allowAllRepositories && object.repositories !== undefined) {
    check.fail(
      join(path, 'repositories'),
      'must be omitted when allowAllRepositories is true: a role either trusts listed repositories or the whole workspace',
    );
  } else if (
    !allowAllRepositories &&
    (object.repositories === undefined || (Array.isArray(object.repositories) && object.repositories.length === 0))
  ) {
    check.fail(
      join(path, 'repositories'),
      'must list at least one repository, e.g. [{"uuid": "{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}"}]; a role without a repository scope admits every repository of the workspace, so that needs "allowAllRepositories": true',
    );
  }
  if (allowAllRepositories) {
    check.warnings.push(
      `${label} trusts EVERY repository of the workspace (allowAllRepositories): any pipeline step with oidc: true can assume it`,
    );
  }

  const roleAudiences =
    object.audiences === undefined
      ? context.audiences
      : check.strings(join(path, 'audiences'), object.audiences, RULES.audience, { what: 'audiences', min: 1 });
  roleAudiences.forEach((audience, i) => {
    if (context.audiences.length > 0 && !context.audiences.includes(audience)) {
      check.fail(
        join(join(path, 'audiences'), i),
        `${show(audience)} must be one of the workspace's audiences ${JSON.stringify(context.audiences)} (the provider rejects any other)`,
      );
    }
  });
  if (Array.isArray(object.sourceIpCidrs) && object.sourceIpCidrs.length === 0) {
    check.fail(join(path, 'sourceIpCidrs'), '[] is empty: omit it to accept the assume call from any address, or list CIDR blocks');
  }
  const sourceIpCidrs = check.strings(join(path, 'sourceIpCidrs'), object.sourceIpCidrs, RULES.cidr, { what: 'CIDR blocks' });
  const managedPolicyArns = check.strings(join(path, 'managedPolicyArns'), object.managedPolicyArns, RULES.managedPolicyArn, {
    what: 'policy ARNs',
    max: LIMITS.managedPoliciesPerRole,
  });
  if (managedPolicyArns.length > LIMITS.managedPoliciesPerRoleDefault) {
    check.warnings.push(
      `${label} attaches ${managedPolicyArns.length} managed policies; AWS's default quota is ${LIMITS.managedPoliciesPerRoleDefault} (raise it first)`,
    );
  }
  if (managedPolicyArns.some((arn) => /:policy\/AdministratorAccess$/.test(arn))) {
    check.warnings.push(`${label} has AdministratorAccess: consider a narrower policy for a pipeline role`);
  }
  const inlinePolicies = readInlinePolicies(check, join(path, 'inlinePolicies'), object.inlinePolicies, context.baseDir);
  const maxSessionDurationSeconds = check.integer(
    join(path, 'maxSessionDurationSeconds'),
    object.maxSessionDurationSeconds,
    LIMITS.minSessionDuration,
    LIMITS.maxSessionDuration,
    LIMITS.minSessionDuration,
    'seconds',
  );
  const workloadPath = context.bootstrap?.workloadPath ?? '/';
  const rolePath = check.optionalString(join(path, 'path'), object.path, RULES.rolePath) ?? workloadPath;
  if (!rolePath.startsWith(workloadPath)) {
    check.fail(
      join(path, 'path'),
      `${show(rolePath)} must lie under the account's workloadPath ${show(workloadPath)}, the only path the deploy role may manage, e.g. ${show(`${workloadPath}deploy/`)}`,
    );
  }
  const permissionsBoundaryArn = context.bootstrap?.boundary.arn;
  const suppressions = readSuppressions(check, join(path, 'suppressions'), object.suppressions);
  const description = check.optionalString(join(path, 'description'), object.description, RULES.description);
  const tags = check.tags(join(path, 'tags'), object.tags);

  if (
    name === undefined ||
    check.problems.length > problemsBefore ||
    context.issuer === undefined ||
    context.providerArn === undefined ||
    roleAudiences.length === 0
  ) {
    return undefined;
  }
  const { document: trustPolicy, sizeProblem } = roleTrustPolicy({
    providerArn: context.providerArn,
    issuer: context.issuer,
    audiences: roleAudiences,
    repositories,
    allowAllRepositories,
    sourceIpCidrs,
    maxSize: context.trustPolicyMaxSize,
  });
  if (sizeProblem !== undefined) return check.fail(join(path, 'repositories'), sizeProblem);
  return {
    name,
    repositories,
    allowAllRepositories,
    audiences: roleAudiences,
    sourceIpCidrs,
    managedPolicyArns,
    inlinePolicies,
    maxSessionDurationSeconds,
    path: rolePath,
    tags,
    trustPolicy,
    suppressions,
    ...(permissionsBoundaryArn === undefined ? {} : { permissionsBoundaryArn }),
    ...(description === undefined ? {} : { description }),
  };
}

function readRepositories(check: Checker, path: string, value: unknown, names: NameSource): ResolvedRepository[] {
  const items = check.list(path, value, { what: 'repositories' }) ?? [];
  const repositories: ResolvedRepository[] = [];
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const itemPath = join(path, i);
    const object = check.fields(itemPath, item, FIELDS.repository);
    if (object === undefined) return;
    const ref = readRepositoryRef(check, itemPath, object);
    const repository = ref === undefined ? undefined : names.repository(check, itemPath, ref);
    if (Array.isArray(object.environments) && object.environments.length === 0) {
      check.fail(
        join(itemPath, 'environments'),
        '[] is empty: omit it to admit every step of the repository, or list deployment environments',
      );
    }
    const environments: string[] = [];
    const environmentNames: Record<string, string> = {};
    (check.list(join(itemPath, 'environments'), object.environments, { what: 'environments' }) ?? []).forEach((entry, e) => {
      const at = join(join(itemPath, 'environments'), e);
      const environmentRef = readEnvironmentRef(check, at, entry);
      const environment =
        environmentRef === undefined || repository === undefined ? undefined : names.environment(check, at, repository, environmentRef);
      if (environment === undefined) return;
      if (environments.includes(environment.uuid)) {
        check.fail(join(join(itemPath, 'environments'), e), `${show(entry)} is listed twice; each of the environments must appear once`);
        return;
      }
      environments.push(environment.uuid);
      if (environment.name !== undefined) environmentNames[environment.uuid] = environment.name;
    });
    if (repository === undefined) return;
    const { uuid, name } = repository;
    if (seen.has(uuid)) {
      check.fail(
        join(itemPath, object.uuid === undefined ? 'name' : 'uuid'),
        `${show(object.uuid ?? object.name)} is also repositories[${seen.get(uuid)}]; list each repository once (put all its environments in one entry)`,
      );
      return;
    }
    seen.set(uuid, i);
    repositories.push({
      uuid,
      environments,
      ...(name === undefined ? {} : { name }),
      ...(Object.keys(environmentNames).length === 0 ? {} : { environmentNames }),
    });
  });
  return repositories;
}

/**
 * Reads `inlinePolicies`: policy name -> a standard IAM policy document (as AWS shows it), or the path
 * of a JSON file holding one, relative to the configuration file.
 */
function readInlinePolicies(check: Checker, path: string, value: unknown, baseDir: string): Record<string, PolicyDocument> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return (
      check.fail(
        path,
        `${show(value)} must be an object of policy names to IAM policy documents, e.g. {"read-artifacts": {"Version": "2012-10-17", "Statement": [...]}} or {"read-artifacts": "policies/read-artifacts.json"}`,
      ) ?? {}
    );
  }
  const policies: Record<string, PolicyDocument> = {};
  const report = (field: string, message: string) => check.fail(field, message);
  for (const [name, entry] of Object.entries(value as JsonObject)) {
    if (name.startsWith('//')) continue;
    const entryPath = join(path, name);
    if (!RULES.policyName.test(name)) {
      check.fail(entryPath, `policy name ${violation(name, RULES.policyName)}`);
      continue;
    }
    const document = typeof entry === 'string' ? readPolicyFile(check, entryPath, entry, baseDir) : entry;
    if (document === undefined) continue;
    const read = readPolicyDocument(entryPath, document, report, unknownField);
    if (read !== undefined) policies[name] = read;
  }
  const sizeProblem = inlinePoliciesSizeProblem(policies);
  if (sizeProblem !== undefined) check.fail(path, sizeProblem);
  return policies;
}

/** Reads a policy document from a JSON file named in the configuration. */
function readPolicyFile(check: Checker, path: string, file: string, baseDir: string): unknown {
  if (!/\.json$/i.test(file)) {
    return check.fail(
      path,
      `${show(file)} must be an IAM policy document or the path of a .json file holding one, e.g. "policies/read-artifacts.json"`,
    );
  }
  const resolved = isAbsolute(file) ? file : resolvePath(baseDir, file);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (error) {
    return check.fail(
      path,
      `${show(file)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'} at ${resolved}); paths are relative to the configuration file`,
    );
  }
  try {
    return parseJson(text);
  } catch (error) {
    return check.fail(path, `${show(file)} ${(error as Error).message}`);
  }
}

function readSuppressions(check: Checker, path: string, value: unknown): { rule: string; reason: string }[] {
  const items = check.list(path, value, { what: 'suppressions' }) ?? [];
  const suppressions: { rule: string; reason: string }[] = [];
  items.forEach((item, i) => {
    const object = check.fields(join(path, i), item, FIELDS.suppression);
    if (object === undefined) return;
    const rule = object.rule === undefined ? undefined : check.string(join(join(path, i), 'rule'), object.rule);
    const reason = object.reason === undefined ? undefined : check.string(join(join(path, i), 'reason'), object.reason);
    if (rule !== undefined && reason !== undefined) suppressions.push({ rule, reason });
  });
  return suppressions;
}
