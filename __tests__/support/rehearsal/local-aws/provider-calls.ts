/**
 * The AWS API calls the real Terraform AWS provider (hashicorp/aws 6.25) makes for each resource type
 * the project uses, per operation, in the provider's order, each with the IAM action(s) AWS authorizes,
 * the resource ARN, the context keys AWS sets and the resource policy it consults, and what the call
 * changes in the world. It stands in for the provider's resource code (`internal/service/{iam,s3,kms}`).
 *
 * The IAM role types take their action names from `src/pipeline-roles/provider-api-calls.ts`
 * (a test checks that every call made here is listed there). Create and update end with the read the
 * provider makes to refresh the state; a call that fails stops the operation (see `CallContext.call`).
 *
 * Not modelled: the provider's retries and waiters, the S3 bucket's deprecated inline arguments (acl,
 * versioning, policy... on `aws_s3_bucket` itself), KMS's policy lockout safety check, instance profiles.
 */
import { randomUUID } from 'crypto';
import type { PolicyDocument } from '../../../../src/iam/policy';
import { AccessRequest, AwsError, AwsWorld, BucketRecord, Caller, RoleRecord } from './world';

/** Terraform's attributes of one resource, as the stub provider sends them. */
export type Attributes = Readonly<Record<string, unknown>>;

/** One authorization an API call needs, with the resource policy AWS consults for it. */
export interface Authorization extends AccessRequest {
  readonly resourcePolicy?: PolicyDocument;
}

/** One API call, e.g. IAM CreateRole (which needs iam:CreateRole and, with tags, iam:TagRole). */
export interface ApiCall {
  readonly service: 'IAM' | 'S3' | 'KMS';
  /** The API operation, as the SDK names it in errors: `CreateRole`. */
  readonly operation: string;
  readonly authorizations: readonly Authorization[];
}

/** What a resource type's code is given: the world, who calls (lazily checked), and the way to call. */
export interface CallContext {
  readonly world: AwsWorld;
  /** The caller's account (the provider's account: ARNs are built from it). */
  readonly accountId: string;
  readonly region: string;
  /**
   * Makes one API call: checks the credentials, authorizes each authorization in order, then runs
   * `effect`. Throws {@link ApiCallError} at the first failure, so nothing after it happens.
   */
  call(call: ApiCall, effect?: () => void | Promise<void>): Promise<Caller>;
}

/** A failed API call, named as the SDK names it: `operation error IAM: CreateRole`. */
export class ApiCallError extends Error {
  constructor(
    readonly service: string,
    readonly operation: string,
    readonly error: AwsError,
  ) {
    super(`operation error ${service}: ${operation}, ${error.code}: ${error.message}`);
    this.name = 'ApiCallError';
  }
}

/** A resource type: read answers `null` when the resource is gone (Terraform then plans to create it). */
export interface ResourceCalls {
  read(c: CallContext, prior: Attributes): Promise<Attributes | null>;
  create(c: CallContext, planned: Attributes): Promise<Attributes | null>;
  update(c: CallContext, prior: Attributes, planned: Attributes): Promise<Attributes | null>;
  delete(c: CallContext, prior: Attributes): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Helpers: attribute values, policies, tags, requests
// ---------------------------------------------------------------------------------------------

const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const optional = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const blocks = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
/** An unset string for state: the prior's own way of saying so (null or "") when it had none. */
const unset = (prior: unknown): string | null => (prior === '' ? '' : null);

/** A policy in state (a JSON string), parsed; IAM's error for a malformed one. */
function parsePolicy(value: unknown): PolicyDocument {
  try {
    const document = JSON.parse(str(value)) as PolicyDocument;
    if (typeof document === 'object' && document !== null && Array.isArray(document.Statement)) return document;
  } catch {
    // answered below, as IAM does
  }
  throw new AwsError('MalformedPolicyDocument', 'This policy contains invalid Json', 400);
}

/** The policy string for state: the prior string while it means the same document (as the provider's semantic equality keeps it). */
function policyString(prior: unknown, document: PolicyDocument): string {
  try {
    if (same(JSON.parse(str(prior)), document)) return str(prior);
  } catch {
    // not JSON: replaced below
  }
  return JSON.stringify(document);
}

function samePolicy(a: unknown, b: unknown): boolean {
  try {
    return same(JSON.parse(str(a)), JSON.parse(str(b)));
  } catch {
    return a === b;
  }
}

/** The tags the provider sends: `tags_all` (default tags merged in). */
function tagsOf(attributes: Attributes): Record<string, string> {
  const tags = (attributes.tags_all ?? attributes.tags ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(tags).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** `aws:RequestTag/<key>` and `aws:TagKeys`, as AWS sets them for a request carrying tags. */
function tagContext(tags: Record<string, string>): Record<string, string | string[]> {
  const keys = Object.keys(tags);
  if (keys.length === 0) return {};
  return { 'aws:TagKeys': keys, ...Object.fromEntries(keys.map((key) => [`aws:RequestTag/${key}`, tags[key]])) };
}

/** `tags` and `tags_all` for state from the tags AWS holds (default tags are those in `tags_all` but not in `tags`). */
function tagState(prior: Attributes, held: Record<string, string>): Record<string, unknown> {
  if (same(tagsOf(prior), held)) return {};
  const own = (prior.tags ?? {}) as Record<string, unknown>;
  const defaults = Object.keys(tagsOf(prior)).filter((key) => !(key in own));
  const tags = Object.fromEntries(Object.entries(held).filter(([key]) => !defaults.includes(key)));
  return { tags: Object.keys(tags).length === 0 ? null : tags, tags_all: Object.keys(held).length === 0 ? null : held };
}

/** The tag changes of an update: keys to remove (Untag*), tags to set (Tag*). */
function tagChanges(prior: Attributes, planned: Attributes): { removed: string[]; added: Record<string, string> } {
  const before = tagsOf(prior);
  const after = tagsOf(planned);
  return {
    removed: Object.keys(before).filter((key) => !(key in after)),
    added: Object.fromEntries(Object.entries(after).filter(([key, value]) => before[key] !== value)),
  };
}

/** Every provider call goes over TLS (the key stands in for S3's and IAM's HTTPS endpoints). */
const TLS = { 'aws:SecureTransport': 'true' };

function request(
  c: CallContext,
  action: string,
  resource: string,
  context: AccessRequest['context'] = {},
  extra: Partial<Authorization> = {},
): Authorization {
  return { action, resource, resourceAccount: c.accountId, context: { ...TLS, ...context }, ...extra };
}

const iamArn = (c: CallContext, resource: string) => `arn:${c.world.partition}:iam::${c.accountId}:${resource}`;
const iam = (operation: string, ...authorizations: Authorization[]): ApiCall => ({ service: 'IAM', operation, authorizations });
const notFound = (message: string) => new AwsError('NoSuchEntity', message, 404);
const boundaryContext = (boundary: string | undefined): Record<string, string> =>
  boundary === undefined ? {} : { 'iam:PermissionsBoundary': boundary };

// ---------------------------------------------------------------------------------------------
// aws_iam_role, aws_iam_role_policy, aws_iam_role_policy_attachment
// (action names: AWS_IAM_ROLE_CALLS & co. in src/pipeline-roles/provider-api-calls.ts)
// ---------------------------------------------------------------------------------------------

/** A request on an existing role: `iam:PermissionsBoundary` is its current boundary (the engine drops it where AWS does). */
function onRole(
  c: CallContext,
  action: string,
  role: RoleRecord | { arn: string; permissionsBoundary?: string },
  context: AccessRequest['context'] = {},
): Authorization {
  return request(c, action, role.arn, { ...boundaryContext(role.permissionsBoundary), ...context });
}

/** The role a role-typed resource names (`role` is a name), or a stand-in ARN for one that does not exist. */
function namedRole(c: CallContext, name: string): RoleRecord | { arn: string; permissionsBoundary?: undefined } {
  return c.world.roleByName(c.accountId, name) ?? { arn: iamArn(c, `role/${name}`) };
}

function existingRole(c: CallContext, name: string): RoleRecord {
  const role = c.world.roleByName(c.accountId, name);
  if (role === undefined) throw notFound(`The role with name ${name} cannot be found.`);
  return role;
}

/** The deprecated `inline_policy` blocks that name a policy. */
const inlinePolicyBlocks = (attributes: Attributes) => blocks(attributes.inline_policy).filter((b) => optional(b.name) !== undefined);

async function putRolePolicy(c: CallContext, roleName: string, policyName: string, policy: unknown): Promise<void> {
  await c.call(iam('PutRolePolicy', onRole(c, 'iam:PutRolePolicy', namedRole(c, roleName))), () => {
    existingRole(c, roleName).inlinePolicies.set(policyName, parsePolicy(policy));
  });
}

async function deleteRolePolicy(c: CallContext, roleName: string, policyName: string): Promise<void> {
  await c.call(iam('DeleteRolePolicy', onRole(c, 'iam:DeleteRolePolicy', namedRole(c, roleName))), () => {
    if (!existingRole(c, roleName).inlinePolicies.delete(policyName)) {
      throw notFound(`The role policy with name ${policyName} cannot be found.`);
    }
  });
}

async function attachRolePolicy(c: CallContext, roleName: string, policyArn: string): Promise<void> {
  await c.call(iam('AttachRolePolicy', onRole(c, 'iam:AttachRolePolicy', namedRole(c, roleName), { 'iam:PolicyARN': policyArn })), () => {
    const role = existingRole(c, roleName);
    const awsManaged = /^arn:[^:]+:iam::aws:policy\//.test(policyArn);
    if (!awsManaged && !c.world.managedPolicies.has(policyArn)) throw notFound(`Policy ${policyArn} does not exist or is not attachable.`);
    role.attachedPolicyArns.add(policyArn);
  });
}

async function detachRolePolicy(c: CallContext, roleName: string, policyArn: string): Promise<void> {
  await c.call(iam('DetachRolePolicy', onRole(c, 'iam:DetachRolePolicy', namedRole(c, roleName), { 'iam:PolicyARN': policyArn })), () => {
    if (!existingRole(c, roleName).attachedPolicyArns.delete(policyArn)) throw notFound(`Policy ${policyArn} was not found.`);
  });
}

const awsIamRole: ResourceCalls = {
  async read(c, prior) {
    const role = c.world.roleByName(c.accountId, str(prior.name));
    await c.call(iam('GetRole', onRole(c, 'iam:GetRole', role ?? { arn: iamArn(c, `role${str(prior.path, '/')}${str(prior.name)}`) })));
    if (role === undefined) return null;
    await c.call(iam('ListRolePolicies', onRole(c, 'iam:ListRolePolicies', role)));
    for (let i = 0; i < role.inlinePolicies.size; i += 1) await c.call(iam('GetRolePolicy', onRole(c, 'iam:GetRolePolicy', role)));
    await c.call(iam('ListAttachedRolePolicies', onRole(c, 'iam:ListAttachedRolePolicies', role)));
    return {
      ...prior,
      id: role.name,
      name: role.name,
      path: role.path,
      arn: role.arn,
      unique_id: role.uniqueId,
      assume_role_policy: policyString(prior.assume_role_policy, role.assumeRolePolicy),
      permissions_boundary: role.permissionsBoundary ?? unset(prior.permissions_boundary),
      max_session_duration: role.maxSessionDuration,
      description: role.description ?? unset(prior.description),
      ...tagState(prior, role.tags),
    };
  },

  async create(c, planned) {
    const name = str(planned.name);
    const path = str(planned.path, '/');
    const arn = iamArn(c, `role${path}${name}`);
    const boundary = optional(planned.permissions_boundary);
    const tags = tagsOf(planned);
    const hasTags = Object.keys(tags).length > 0;
    // One CreateRole call; with tags AWS authorizes iam:TagRole too, and refuses the whole call if it is denied.
    const createRole = iam(
      'CreateRole',
      request(c, 'iam:CreateRole', arn, { ...boundaryContext(boundary), ...tagContext(tags) }),
      ...(hasTags ? [request(c, 'iam:TagRole', arn, tagContext(tags))] : []),
    );
    await c.call(createRole, () => {
      if (c.world.roleByName(c.accountId, name) !== undefined)
        throw new AwsError('EntityAlreadyExists', `Role with name ${name} already exists.`, 409);
      c.world.roles.set(arn, {
        accountId: c.accountId,
        name,
        path,
        arn,
        uniqueId: c.world.roleUniqueId(c.accountId, name),
        assumeRolePolicy: parsePolicy(planned.assume_role_policy),
        ...(boundary === undefined ? {} : { permissionsBoundary: boundary }),
        maxSessionDuration: typeof planned.max_session_duration === 'number' ? planned.max_session_duration : 3600,
        ...(optional(planned.description) === undefined ? {} : { description: str(planned.description) }),
        tags,
        inlinePolicies: new Map(),
        attachedPolicyArns: new Set(),
      });
    });
    for (const block of inlinePolicyBlocks(planned)) await putRolePolicy(c, name, str(block.name), block.policy);
    for (const policyArn of strings(planned.managed_policy_arns)) await attachRolePolicy(c, name, policyArn);
    return awsIamRole.read(c, planned);
  },

  async update(c, prior, planned) {
    const name = str(prior.name);
    const role = () => existingRole(c, name);
    const current = () => namedRole(c, name);
    if (!samePolicy(prior.assume_role_policy, planned.assume_role_policy)) {
      await c.call(iam('UpdateAssumeRolePolicy', onRole(c, 'iam:UpdateAssumeRolePolicy', current())), () => {
        role().assumeRolePolicy = parsePolicy(planned.assume_role_policy);
      });
    }
    if (str(prior.description) !== str(planned.description)) {
      await c.call(iam('UpdateRoleDescription', onRole(c, 'iam:UpdateRoleDescription', current())), () => {
        role().description = optional(planned.description);
      });
    }
    if (prior.max_session_duration !== planned.max_session_duration) {
      await c.call(iam('UpdateRole', onRole(c, 'iam:UpdateRole', current())), () => {
        role().maxSessionDuration = Number(planned.max_session_duration ?? 3600);
      });
    }
    const boundary = optional(planned.permissions_boundary);
    if (optional(prior.permissions_boundary) !== boundary) {
      if (boundary !== undefined) {
        await c.call(
          iam('PutRolePermissionsBoundary', request(c, 'iam:PutRolePermissionsBoundary', current().arn, boundaryContext(boundary))),
          () => {
            role().permissionsBoundary = boundary;
          },
        );
      } else {
        await c.call(iam('DeleteRolePermissionsBoundary', onRole(c, 'iam:DeleteRolePermissionsBoundary', current())), () => {
          delete role().permissionsBoundary;
        });
      }
    }
    // The deprecated exclusive attributes, only when they are set.
    const before = new Map(inlinePolicyBlocks(prior).map((b) => [str(b.name), b.policy]));
    const after = new Map(inlinePolicyBlocks(planned).map((b) => [str(b.name), b.policy]));
    for (const [policyName, policy] of after)
      if (!samePolicy(before.get(policyName), policy)) await putRolePolicy(c, name, policyName, policy);
    for (const policyName of before.keys()) if (!after.has(policyName)) await deleteRolePolicy(c, name, policyName);
    const attachedBefore = strings(prior.managed_policy_arns);
    const attachedAfter = strings(planned.managed_policy_arns);
    for (const arn of attachedAfter.filter((a) => !attachedBefore.includes(a))) await attachRolePolicy(c, name, arn);
    for (const arn of attachedBefore.filter((a) => !attachedAfter.includes(a))) await detachRolePolicy(c, name, arn);
    // The tagging interceptor: untag, then tag.
    const { removed, added } = tagChanges(prior, planned);
    if (removed.length > 0) {
      await c.call(iam('UntagRole', onRole(c, 'iam:UntagRole', current(), { 'aws:TagKeys': removed })), () => {
        for (const key of removed) delete role().tags[key];
      });
    }
    if (Object.keys(added).length > 0) {
      await c.call(iam('TagRole', onRole(c, 'iam:TagRole', current(), tagContext(added))), () => {
        Object.assign(role().tags, added);
      });
    }
    return awsIamRole.read(c, planned);
  },

  async delete(c, prior) {
    const name = str(prior.name);
    const found = c.world.roleByName(c.accountId, name);
    await c.call(iam('ListInstanceProfilesForRole', onRole(c, 'iam:ListInstanceProfilesForRole', namedRole(c, name))));
    if (found === undefined) return; // NoSuchEntity: already gone, as the provider accepts
    const force = prior.force_detach_policies === true;
    if (force || strings(prior.managed_policy_arns).length > 0) {
      await c.call(iam('ListAttachedRolePolicies', onRole(c, 'iam:ListAttachedRolePolicies', found)));
      for (const arn of [...found.attachedPolicyArns]) await detachRolePolicy(c, name, arn);
    }
    if (force || inlinePolicyBlocks(prior).length > 0) {
      await c.call(iam('ListRolePolicies', onRole(c, 'iam:ListRolePolicies', found)));
      for (const policyName of [...found.inlinePolicies.keys()]) await deleteRolePolicy(c, name, policyName);
    }
    await c.call(iam('DeleteRole', onRole(c, 'iam:DeleteRole', namedRole(c, name))), () => {
      const role = existingRole(c, name);
      if (role.inlinePolicies.size > 0) throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete policies first.', 409);
      if (role.attachedPolicyArns.size > 0)
        throw new AwsError('DeleteConflict', 'Cannot delete entity, must detach all policies first.', 409);
      c.world.roles.delete(role.arn);
    });
  },
};

const awsIamRolePolicy: ResourceCalls = {
  async read(c, prior) {
    const roleName = str(prior.role);
    const name = str(prior.name);
    await c.call(iam('GetRolePolicy', onRole(c, 'iam:GetRolePolicy', namedRole(c, roleName))));
    const document = c.world.roleByName(c.accountId, roleName)?.inlinePolicies.get(name);
    if (document === undefined) return null;
    return { ...prior, id: `${roleName}:${name}`, role: roleName, name, policy: policyString(prior.policy, document) };
  },
  async create(c, planned) {
    await putRolePolicy(c, str(planned.role), str(planned.name), planned.policy);
    return awsIamRolePolicy.read(c, planned);
  },
  async update(c, _prior, planned) {
    return awsIamRolePolicy.create(c, planned);
  },
  async delete(c, prior) {
    await deleteRolePolicy(c, str(prior.role), str(prior.name)).catch(ignoreNotFound);
  },
};

const awsIamRolePolicyAttachment: ResourceCalls = {
  async read(c, prior) {
    const roleName = str(prior.role);
    await c.call(iam('ListAttachedRolePolicies', onRole(c, 'iam:ListAttachedRolePolicies', namedRole(c, roleName))));
    const attached = c.world.roleByName(c.accountId, roleName)?.attachedPolicyArns.has(str(prior.policy_arn)) === true;
    return attached ? { ...prior } : null;
  },
  async create(c, planned) {
    await attachRolePolicy(c, str(planned.role), str(planned.policy_arn));
    return awsIamRolePolicyAttachment.read(c, planned);
  },
  async update() {
    throw new Error('aws_iam_role_policy_attachment has no update: both arguments force a new resource');
  },
  async delete(c, prior) {
    await detachRolePolicy(c, str(prior.role), str(prior.policy_arn)).catch(ignoreNotFound);
  },
};

/** The provider treats NoSuchEntity / NoSuchBucket... on delete as "already gone". */
function ignoreNotFound(error: unknown): void {
  if (error instanceof ApiCallError && error.error.statusCode === 404) return;
  throw error;
}

// ---------------------------------------------------------------------------------------------
// aws_iam_openid_connect_provider, aws_iam_policy
// ---------------------------------------------------------------------------------------------

/** AWS keeps the URL with its scheme and names the provider after it without: one provider per URL per account. */
const providerUrl = (url: unknown) => `https://${str(url).replace(/^https:\/\//, '')}`;
const providerArn = (c: CallContext, url: unknown) => iamArn(c, `oidc-provider/${str(url).replace(/^https:\/\//, '')}`);

const awsIamOpenIdConnectProvider: ResourceCalls = {
  async read(c, prior) {
    const arn = providerArn(c, prior.url);
    await c.call(iam('GetOpenIDConnectProvider', request(c, 'iam:GetOpenIDConnectProvider', arn)));
    const provider = c.world.oidcProviders.get(arn);
    if (provider === undefined) return null;
    return {
      ...prior,
      id: arn,
      arn,
      url: providerUrl(prior.url) === provider.url ? prior.url : provider.url,
      client_id_list: same([...strings(prior.client_id_list)].sort(), [...provider.clientIds].sort())
        ? prior.client_id_list
        : provider.clientIds,
      thumbprint_list: provider.thumbprints,
      ...tagState(prior, provider.tags),
    };
  },
  async create(c, planned) {
    const arn = providerArn(c, planned.url);
    const tags = tagsOf(planned);
    const create = iam(
      'CreateOpenIDConnectProvider',
      request(c, 'iam:CreateOpenIDConnectProvider', arn, tagContext(tags)),
      ...(Object.keys(tags).length > 0 ? [request(c, 'iam:TagOpenIDConnectProvider', arn, tagContext(tags))] : []),
    );
    await c.call(create, () => {
      const url = providerUrl(planned.url);
      if (c.world.oidcProviders.has(arn)) throw new AwsError('EntityAlreadyExists', `Provider with url ${url} already exists.`, 409);
      c.world.oidcProviders.set(arn, {
        arn,
        url,
        clientIds: strings(planned.client_id_list),
        thumbprints: strings(planned.thumbprint_list),
        tags,
      });
    });
    return awsIamOpenIdConnectProvider.read(c, planned);
  },
  async update(c, prior, planned) {
    const arn = providerArn(c, prior.url);
    const provider = () =>
      c.world.oidcProviders.get(arn) ??
      (() => {
        throw notFound(`OpenIDConnect Provider not found for arn ${arn}`);
      })();
    const before = strings(prior.client_id_list);
    const after = strings(planned.client_id_list);
    for (const id of after.filter((v) => !before.includes(v))) {
      await c.call(iam('AddClientIDToOpenIDConnectProvider', request(c, 'iam:AddClientIDToOpenIDConnectProvider', arn)), () => {
        provider().clientIds.push(id);
      });
    }
    for (const id of before.filter((v) => !after.includes(v))) {
      await c.call(iam('RemoveClientIDFromOpenIDConnectProvider', request(c, 'iam:RemoveClientIDFromOpenIDConnectProvider', arn)), () => {
        provider().clientIds = provider().clientIds.filter((v) => v !== id);
      });
    }
    if (!same(strings(prior.thumbprint_list), strings(planned.thumbprint_list))) {
      await c.call(iam('UpdateOpenIDConnectProviderThumbprint', request(c, 'iam:UpdateOpenIDConnectProviderThumbprint', arn)), () => {
        provider().thumbprints = strings(planned.thumbprint_list);
      });
    }
    await retag(c, prior, planned, 'IAM', 'UntagOpenIDConnectProvider', 'TagOpenIDConnectProvider', 'iam', arn, () => provider().tags);
    return awsIamOpenIdConnectProvider.read(c, planned);
  },
  async delete(c, prior) {
    const arn = providerArn(c, prior.url);
    await c.call(iam('DeleteOpenIDConnectProvider', request(c, 'iam:DeleteOpenIDConnectProvider', arn)), () => {
      c.world.oidcProviders.delete(arn);
    });
  },
};

/** Untag then tag, through `Untag<X>` / `Tag<X>` calls (IAM) or `UntagResource` / `TagResource` (KMS). */
async function retag(
  c: CallContext,
  prior: Attributes,
  planned: Attributes,
  service: ApiCall['service'],
  untag: string,
  tag: string,
  prefix: string,
  arn: string,
  held: () => Record<string, string>,
  resourcePolicy?: PolicyDocument,
): Promise<void> {
  const { removed, added } = tagChanges(prior, planned);
  const extra = resourcePolicy === undefined ? {} : { resourcePolicy };
  if (removed.length > 0) {
    await c.call(
      { service, operation: untag, authorizations: [request(c, `${prefix}:${untag}`, arn, { 'aws:TagKeys': removed }, extra)] },
      () => {
        for (const key of removed) delete held()[key];
      },
    );
  }
  if (Object.keys(added).length > 0) {
    await c.call({ service, operation: tag, authorizations: [request(c, `${prefix}:${tag}`, arn, tagContext(added), extra)] }, () => {
      Object.assign(held(), added);
    });
  }
}

const policyArn = (c: CallContext, attributes: Attributes) => iamArn(c, `policy${str(attributes.path, '/')}${str(attributes.name)}`);

const awsIamPolicy: ResourceCalls = {
  async read(c, prior) {
    const arn = policyArn(c, prior);
    await c.call(iam('GetPolicy', request(c, 'iam:GetPolicy', arn)));
    const policy = c.world.managedPolicies.get(arn);
    if (policy === undefined) return null;
    await c.call(iam('GetPolicyVersion', request(c, 'iam:GetPolicyVersion', arn)));
    return { ...prior, id: arn, arn, name: policy.name, path: policy.path, policy: policyString(prior.policy, policy.document) };
  },
  async create(c, planned) {
    const arn = policyArn(c, planned);
    const name = str(planned.name);
    const tags = tagsOf(planned);
    const create = iam(
      'CreatePolicy',
      request(c, 'iam:CreatePolicy', arn, tagContext(tags)),
      ...(Object.keys(tags).length > 0 ? [request(c, 'iam:TagPolicy', arn, tagContext(tags))] : []),
    );
    await c.call(create, () => {
      if ([...c.world.managedPolicies.values()].some((p) => p.name === name && p.arn.includes(`:${c.accountId}:`))) {
        throw new AwsError('EntityAlreadyExists', `A policy called ${name} already exists. Duplicate names are not allowed.`, 409);
      }
      c.world.managedPolicies.set(arn, { arn, name, path: str(planned.path, '/'), document: parsePolicy(planned.policy) });
    });
    return awsIamPolicy.read(c, planned);
  },
  async update(c, prior, planned) {
    const arn = policyArn(c, prior);
    if (!samePolicy(prior.policy, planned.policy)) {
      await c.call(iam('ListPolicyVersions', request(c, 'iam:ListPolicyVersions', arn)));
      await c.call(iam('CreatePolicyVersion', request(c, 'iam:CreatePolicyVersion', arn)), () => {
        const policy = c.world.managedPolicies.get(arn);
        if (policy === undefined) throw notFound(`Policy ${arn} does not exist or is not attachable.`);
        policy.document = parsePolicy(planned.policy);
      });
    }
    const { removed, added } = tagChanges(prior, planned);
    if (removed.length > 0) await c.call(iam('UntagPolicy', request(c, 'iam:UntagPolicy', arn, { 'aws:TagKeys': removed })));
    if (Object.keys(added).length > 0) await c.call(iam('TagPolicy', request(c, 'iam:TagPolicy', arn, tagContext(added))));
    return awsIamPolicy.read(c, planned);
  },
  async delete(c, prior) {
    const arn = policyArn(c, prior);
    await c.call(iam('ListPolicyVersions', request(c, 'iam:ListPolicyVersions', arn)));
    await c.call(iam('DeletePolicy', request(c, 'iam:DeletePolicy', arn)), () => {
      const inUse = [...c.world.roles.values()].some((r) => r.attachedPolicyArns.has(arn) || r.permissionsBoundary === arn);
      if (inUse) throw new AwsError('DeleteConflict', 'Cannot delete a policy attached to entities.', 409);
      c.world.managedPolicies.delete(arn);
    });
  },
};

// ---------------------------------------------------------------------------------------------
// aws_s3_bucket and its configuration resources
// ---------------------------------------------------------------------------------------------

const bucketArn = (c: CallContext, name: string) => `arn:${c.world.partition}:s3:::${name}`;

/** A request on a bucket: the owner's account, the bucket policy consulted (same-account: either may allow; cross-account: both must). */
function onBucket(c: CallContext, action: string, name: string): Authorization {
  const bucket = c.world.buckets.get(name);
  return request(
    c,
    action,
    bucketArn(c, name),
    {},
    {
      resourceAccount: bucket?.accountId ?? c.accountId,
      ...(bucket?.policy === undefined ? {} : { resourcePolicy: bucket.policy }),
    },
  );
}

const s3 = (operation: string, action: string, c: CallContext, bucket: string): ApiCall => ({
  service: 'S3',
  operation,
  authorizations: [onBucket(c, action, bucket)],
});

function existingBucket(c: CallContext, name: string): BucketRecord {
  const bucket = c.world.buckets.get(name);
  if (bucket === undefined) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404);
  return bucket;
}

/** What `resourceBucketRead` asks S3, in order, after HeadBucket (operation, IAM action). */
const BUCKET_READ_CALLS: readonly (readonly [string, string])[] = [
  ['GetBucketPolicy', 's3:GetBucketPolicy'],
  ['GetBucketAcl', 's3:GetBucketAcl'],
  ['GetBucketCors', 's3:GetBucketCORS'],
  ['GetBucketWebsite', 's3:GetBucketWebsite'],
  ['GetBucketVersioning', 's3:GetBucketVersioning'],
  ['GetBucketAccelerateConfiguration', 's3:GetAccelerateConfiguration'],
  ['GetBucketRequestPayment', 's3:GetBucketRequestPayment'],
  ['GetBucketLogging', 's3:GetBucketLogging'],
  ['GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration'],
  ['GetBucketReplication', 's3:GetReplicationConfiguration'],
  ['GetBucketEncryption', 's3:GetEncryptionConfiguration'],
  ['GetObjectLockConfiguration', 's3:GetBucketObjectLockConfiguration'],
  ['GetBucketTagging', 's3:GetBucketTagging'],
];

const awsS3Bucket: ResourceCalls = {
  async read(c, prior) {
    const name = str(prior.bucket);
    await c.call(s3('HeadBucket', 's3:ListBucket', c, name));
    const bucket = c.world.buckets.get(name);
    if (bucket === undefined) return null;
    for (const [operation, action] of BUCKET_READ_CALLS) await c.call(s3(operation, action, c, name));
    return { ...prior, id: name, bucket: name, arn: bucketArn(c, name), region: bucket.region, bucket_region: bucket.region };
  },
  async create(c, planned) {
    const name = str(planned.bucket);
    const region = str(planned.region, c.region);
    await c.call(s3('CreateBucket', 's3:CreateBucket', c, name), async () => {
      const existing = c.world.buckets.get(name);
      if (existing?.accountId === c.accountId) {
        throw new AwsError(
          'BucketAlreadyOwnedByYou',
          'Your previous request to create the named bucket succeeded and you already own it.',
          409,
        );
      }
      if (existing !== undefined) {
        throw new AwsError(
          'BucketAlreadyExists',
          'The requested bucket name is not available. The bucket namespace is shared by all users of the system. ' +
            'Please select a different name and try again.',
          409,
        );
      }
      // S3's defaults for a new bucket since 2023: SSE-S3, Block Public Access on, ACLs disabled.
      await c.world.addBucket({
        name,
        accountId: c.accountId,
        region,
        encryption: { algorithm: 'AES256' },
        versioning: false,
        publicAccessBlocked: true,
        objectOwnership: 'BucketOwnerEnforced',
      });
    });
    if (Object.keys(tagsOf(planned)).length > 0) await c.call(s3('PutBucketTagging', 's3:PutBucketTagging', c, name));
    return awsS3Bucket.read(c, planned);
  },
  async update(c, prior, planned) {
    if (!same(tagsOf(prior), tagsOf(planned))) {
      const name = str(prior.bucket);
      const empty = Object.keys(tagsOf(planned)).length === 0;
      await c.call(s3(empty ? 'DeleteBucketTagging' : 'PutBucketTagging', 's3:PutBucketTagging', c, name));
    }
    return awsS3Bucket.read(c, planned);
  },
  async delete(c, prior) {
    const name = str(prior.bucket);
    await c.call(s3('DeleteBucket', 's3:DeleteBucket', c, name), async () => {
      existingBucket(c, name);
      await c.world.removeBucket(name);
    });
  },
};

/** A bucket configuration resource: one Get, one Put, one Delete call, and how it reads and writes the bucket's record. */
interface BucketConfiguration {
  readonly get: readonly [operation: string, action: string];
  readonly put: readonly [operation: string, action: string];
  readonly remove: readonly [operation: string, action: string];
  /** The state's attributes from the record; undefined when the bucket has no such configuration. */
  readonly state: (bucket: BucketRecord, prior: Attributes, c: CallContext) => Record<string, unknown> | undefined;
  readonly apply: (bucket: BucketRecord, planned: Attributes, c: CallContext) => void;
  readonly clear: (bucket: BucketRecord) => void;
}

function bucketConfiguration(config: BucketConfiguration): ResourceCalls {
  const calls: ResourceCalls = {
    async read(c, prior) {
      const name = str(prior.bucket);
      await c.call(s3(...config.get, c, name));
      const bucket = c.world.buckets.get(name);
      const state = bucket === undefined ? undefined : config.state(bucket, prior, c);
      return state === undefined ? null : { ...prior, id: name, region: bucket?.region ?? prior.region ?? null, ...state };
    },
    async create(c, planned) {
      const name = str(planned.bucket);
      await c.call(s3(...config.put, c, name), () => config.apply(existingBucket(c, name), planned, c));
      return calls.read(c, planned);
    },
    async update(c, _prior, planned) {
      return calls.create(c, planned);
    },
    async delete(c, prior) {
      const name = str(prior.bucket);
      await c.call(s3(...config.remove, c, name), () => config.clear(existingBucket(c, name))).catch(ignoreNotFound);
    },
  };
  return calls;
}

const awsS3BucketPolicy = bucketConfiguration({
  get: ['GetBucketPolicy', 's3:GetBucketPolicy'],
  put: ['PutBucketPolicy', 's3:PutBucketPolicy'],
  remove: ['DeleteBucketPolicy', 's3:DeleteBucketPolicy'],
  state: (bucket, prior) => (bucket.policy === undefined ? undefined : { policy: policyString(prior.policy, bucket.policy) }),
  apply: (bucket, planned) => {
    bucket.policy = parsePolicy(planned.policy);
  },
  clear: (bucket) => {
    delete bucket.policy;
  },
});

/** `kms_master_key_id` may be a key ID, a key ARN or an alias: S3 keeps what it was given; the world resolves it to the key's ARN. */
function kmsKeyArnOf(c: CallContext, keyId: string): string {
  if (keyId.startsWith('arn:')) {
    return keyId.includes(':alias/') ? (c.world.kmsAliases.get(keyId)?.targetKeyArn ?? keyId) : keyId;
  }
  const prefix = `arn:${c.world.partition}:kms:${c.region}:${c.accountId}:`;
  return keyId.startsWith('alias/')
    ? (c.world.kmsAliases.get(`${prefix}${keyId}`)?.targetKeyArn ?? `${prefix}${keyId}`)
    : `${prefix}key/${keyId}`;
}

const awsS3BucketEncryption = bucketConfiguration({
  get: ['GetBucketEncryption', 's3:GetEncryptionConfiguration'],
  put: ['PutBucketEncryption', 's3:PutEncryptionConfiguration'],
  remove: ['DeleteBucketEncryption', 's3:PutEncryptionConfiguration'],
  state: (bucket, prior, c) => {
    const encryption = bucket.encryption ?? { algorithm: 'AES256' };
    const [rule] = blocks(prior.rule);
    const [byDefault] = blocks(rule?.apply_server_side_encryption_by_default);
    const priorKey = optional(byDefault?.kms_master_key_id);
    const matches =
      str(byDefault?.sse_algorithm) === encryption.algorithm &&
      (priorKey === undefined ? encryption.kmsKeyArn === undefined : kmsKeyArnOf(c, priorKey) === encryption.kmsKeyArn);
    if (matches) return {};
    return {
      rule: [
        {
          ...rule,
          apply_server_side_encryption_by_default: [
            { sse_algorithm: encryption.algorithm, kms_master_key_id: encryption.kmsKeyArn ?? null },
          ],
          bucket_key_enabled: encryption.bucketKey ?? false,
        },
      ],
    };
  },
  apply: (bucket, planned, c) => {
    const [rule] = blocks(planned.rule);
    const [byDefault] = blocks(rule?.apply_server_side_encryption_by_default);
    const algorithm = str(byDefault?.sse_algorithm, 'AES256');
    const keyId = optional(byDefault?.kms_master_key_id);
    if (algorithm !== 'AES256' && algorithm !== 'aws:kms') {
      throw new AwsError('InvalidArgument', `The encryption method specified is not supported: ${algorithm}`, 400);
    }
    bucket.encryption = {
      algorithm,
      ...(algorithm === 'aws:kms' && keyId !== undefined ? { kmsKeyArn: kmsKeyArnOf(c, keyId) } : {}),
      ...(rule?.bucket_key_enabled === true ? { bucketKey: true } : {}),
    };
  },
  // S3 cannot switch default encryption off: deleting the configuration restores SSE-S3.
  clear: (bucket) => {
    bucket.encryption = { algorithm: 'AES256' };
  },
});

const awsS3BucketVersioning = bucketConfiguration({
  get: ['GetBucketVersioning', 's3:GetBucketVersioning'],
  put: ['PutBucketVersioning', 's3:PutBucketVersioning'],
  remove: ['PutBucketVersioning', 's3:PutBucketVersioning'],
  state: (bucket, prior) => {
    const [configuration] = blocks(prior.versioning_configuration);
    const status = str(configuration?.status);
    if ((status === 'Enabled') === bucket.versioning) return {};
    return { versioning_configuration: [{ ...configuration, status: bucket.versioning ? 'Enabled' : 'Suspended' }] };
  },
  apply: (bucket, planned) => {
    bucket.versioning = str(blocks(planned.versioning_configuration)[0]?.status) === 'Enabled';
  },
  clear: (bucket) => {
    bucket.versioning = false;
  },
});

const PUBLIC_ACCESS_FLAGS = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];

const awsS3BucketPublicAccessBlock = bucketConfiguration({
  get: ['GetPublicAccessBlock', 's3:GetBucketPublicAccessBlock'],
  put: ['PutPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  remove: ['DeletePublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  state: (bucket, prior) => {
    const all = PUBLIC_ACCESS_FLAGS.every((flag) => prior[flag] === true);
    return all === bucket.publicAccessBlocked
      ? {}
      : Object.fromEntries(PUBLIC_ACCESS_FLAGS.map((flag) => [flag, bucket.publicAccessBlocked]));
  },
  apply: (bucket, planned) => {
    bucket.publicAccessBlocked = PUBLIC_ACCESS_FLAGS.every((flag) => planned[flag] === true);
  },
  clear: (bucket) => {
    bucket.publicAccessBlocked = false;
  },
});

const awsS3BucketOwnershipControls = bucketConfiguration({
  get: ['GetBucketOwnershipControls', 's3:GetBucketOwnershipControls'],
  put: ['PutBucketOwnershipControls', 's3:PutBucketOwnershipControls'],
  remove: ['DeleteBucketOwnershipControls', 's3:PutBucketOwnershipControls'],
  state: (bucket, prior) => {
    if (bucket.objectOwnership === undefined) return undefined;
    const [rule] = blocks(prior.rule);
    return str(rule?.object_ownership) === bucket.objectOwnership ? {} : { rule: [{ object_ownership: bucket.objectOwnership }] };
  },
  apply: (bucket, planned) => {
    bucket.objectOwnership = str(blocks(planned.rule)[0]?.object_ownership, 'BucketOwnerEnforced');
  },
  clear: (bucket) => {
    delete bucket.objectOwnership;
  },
});

const awsS3BucketLifecycleConfiguration = bucketConfiguration({
  get: ['GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration'],
  put: ['PutBucketLifecycleConfiguration', 's3:PutLifecycleConfiguration'],
  remove: ['DeleteBucketLifecycle', 's3:PutLifecycleConfiguration'],
  state: (bucket) => (bucket.lifecycleRules === undefined ? undefined : { rule: bucket.lifecycleRules }),
  apply: (bucket, planned) => {
    bucket.lifecycleRules = blocks(planned.rule);
  },
  clear: (bucket) => {
    delete bucket.lifecycleRules;
  },
});

// ---------------------------------------------------------------------------------------------
// aws_kms_key, aws_kms_alias
// ---------------------------------------------------------------------------------------------

/**
 * The default key policy AWS gives a key created without one: the account's IAM policies decide.
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
function defaultKeyPolicy(c: CallContext): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:${c.world.partition}:iam::${c.accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

const kmsKeyArn = (c: CallContext, keyId: string) => `arn:${c.world.partition}:kms:${c.region}:${c.accountId}:key/${keyId}`;

/** A request on a key: the key's account, its key policy consulted (KMS needs it to allow the account or the caller). */
function onKey(c: CallContext, action: string, arn: string): Authorization {
  const key = c.world.kmsKeys.get(arn);
  return request(
    c,
    action,
    arn,
    {},
    { resourceAccount: arn.split(':')[4] ?? c.accountId, ...(key === undefined ? {} : { resourcePolicy: key.policy }) },
  );
}

const kms = (operation: string, ...authorizations: Authorization[]): ApiCall => ({ service: 'KMS', operation, authorizations });

const keyNotFound = (arn: string) => new AwsError('NotFoundException', `Key '${arn}' does not exist`, 400);

const awsKmsKey: ResourceCalls = {
  async read(c, prior) {
    const arn = str(prior.arn, kmsKeyArn(c, str(prior.key_id, str(prior.id))));
    await c.call(kms('DescribeKey', onKey(c, 'kms:DescribeKey', arn)));
    const key = c.world.kmsKeys.get(arn);
    if (key === undefined) return null;
    for (const [operation, action] of [
      ['GetKeyPolicy', 'kms:GetKeyPolicy'],
      ['GetKeyRotationStatus', 'kms:GetKeyRotationStatus'],
      ['ListResourceTags', 'kms:ListResourceTags'],
    ]) {
      await c.call(kms(operation, onKey(c, action, arn)));
    }
    return { ...prior, id: key.keyId, key_id: key.keyId, arn, policy: policyString(prior.policy, key.policy) };
  },
  async create(c, planned) {
    const keyId = str(planned.key_id, str(planned.id, randomUUID()));
    const arn = kmsKeyArn(c, keyId);
    await c.call(kms('CreateKey', request(c, 'kms:CreateKey', '*', tagContext(tagsOf(planned)))), () => {
      const policy = optional(planned.policy) === undefined ? defaultKeyPolicy(c) : parsePolicy(planned.policy);
      c.world.kmsKeys.set(arn, { arn, keyId, accountId: c.accountId, region: c.region, policy });
    });
    if (planned.enable_key_rotation === true) await c.call(kms('EnableKeyRotation', onKey(c, 'kms:EnableKeyRotation', arn)));
    return awsKmsKey.read(c, { ...planned, id: keyId, key_id: keyId, arn });
  },
  async update(c, prior, planned) {
    const arn = str(prior.arn);
    if (!samePolicy(prior.policy, planned.policy)) {
      await c.call(kms('PutKeyPolicy', onKey(c, 'kms:PutKeyPolicy', arn)), () => {
        const key = c.world.kmsKeys.get(arn);
        if (key === undefined) throw keyNotFound(arn);
        key.policy = optional(planned.policy) === undefined ? defaultKeyPolicy(c) : parsePolicy(planned.policy);
      });
    }
    if (str(prior.description) !== str(planned.description))
      await c.call(kms('UpdateKeyDescription', onKey(c, 'kms:UpdateKeyDescription', arn)));
    if (prior.enable_key_rotation !== planned.enable_key_rotation) {
      const operation = planned.enable_key_rotation === true ? 'EnableKeyRotation' : 'DisableKeyRotation';
      await c.call(kms(operation, onKey(c, `kms:${operation}`, arn)));
    }
    const key = c.world.kmsKeys.get(arn);
    await retag(c, prior, planned, 'KMS', 'UntagResource', 'TagResource', 'kms', arn, () => ({}), key?.policy);
    return awsKmsKey.read(c, planned);
  },
  async delete(c, prior) {
    const arn = str(prior.arn);
    await c.call(kms('ScheduleKeyDeletion', onKey(c, 'kms:ScheduleKeyDeletion', arn)), () => {
      if (!c.world.kmsKeys.delete(arn)) throw keyNotFound(arn);
    });
  },
};

const aliasArn = (c: CallContext, name: unknown) => `arn:${c.world.partition}:kms:${c.region}:${c.accountId}:${str(name)}`;
const aliasRequest = (c: CallContext, action: string, name: unknown) => request(c, action, aliasArn(c, name));

const awsKmsAlias: ResourceCalls = {
  async read(c, prior) {
    await c.call(kms('ListAliases', request(c, 'kms:ListAliases', '*')));
    const alias = c.world.kmsAliases.get(aliasArn(c, prior.name));
    if (alias === undefined) return null;
    const targetKeyId =
      kmsKeyArnOf(c, str(prior.target_key_id)) === alias.targetKeyArn ? prior.target_key_id : alias.targetKeyArn.split('/').pop();
    return { ...prior, id: alias.name, arn: alias.arn, target_key_arn: alias.targetKeyArn, target_key_id: targetKeyId };
  },
  async create(c, planned) {
    const arn = aliasArn(c, planned.name);
    const target = kmsKeyArnOf(c, str(planned.target_key_id));
    await c.call(kms('CreateAlias', aliasRequest(c, 'kms:CreateAlias', planned.name), onKey(c, 'kms:CreateAlias', target)), () => {
      if (c.world.kmsAliases.has(arn)) throw new AwsError('AlreadyExistsException', `An alias with the name ${arn} already exists`, 400);
      if (!c.world.kmsKeys.has(target)) throw keyNotFound(target);
      c.world.kmsAliases.set(arn, { arn, name: str(planned.name), targetKeyArn: target });
    });
    return awsKmsAlias.read(c, planned);
  },
  async update(c, prior, planned) {
    const arn = aliasArn(c, prior.name);
    const before = kmsKeyArnOf(c, str(prior.target_key_id));
    const after = kmsKeyArnOf(c, str(planned.target_key_id));
    const call = kms(
      'UpdateAlias',
      aliasRequest(c, 'kms:UpdateAlias', prior.name),
      onKey(c, 'kms:UpdateAlias', before),
      onKey(c, 'kms:UpdateAlias', after),
    );
    await c.call(call, () => {
      const alias = c.world.kmsAliases.get(arn);
      if (alias === undefined) throw new AwsError('NotFoundException', `Alias ${arn} is not found.`, 400);
      alias.targetKeyArn = after;
    });
    return awsKmsAlias.read(c, planned);
  },
  async delete(c, prior) {
    const arn = aliasArn(c, prior.name);
    const target = c.world.kmsAliases.get(arn)?.targetKeyArn ?? kmsKeyArnOf(c, str(prior.target_key_id));
    await c.call(kms('DeleteAlias', aliasRequest(c, 'kms:DeleteAlias', prior.name), onKey(c, 'kms:DeleteAlias', target)), () => {
      c.world.kmsAliases.delete(arn);
    });
  },
};

/** Every resource type the provider API serves. */
export const PROVIDER_RESOURCES: Readonly<Record<string, ResourceCalls>> = {
  aws_iam_role: awsIamRole,
  aws_iam_role_policy: awsIamRolePolicy,
  aws_iam_role_policy_attachment: awsIamRolePolicyAttachment,
  aws_iam_openid_connect_provider: awsIamOpenIdConnectProvider,
  aws_iam_policy: awsIamPolicy,
  aws_s3_bucket: awsS3Bucket,
  aws_s3_bucket_policy: awsS3BucketPolicy,
  aws_s3_bucket_server_side_encryption_configuration: awsS3BucketEncryption,
  aws_s3_bucket_versioning: awsS3BucketVersioning,
  aws_s3_bucket_public_access_block: awsS3BucketPublicAccessBlock,
  aws_s3_bucket_ownership_controls: awsS3BucketOwnershipControls,
  aws_s3_bucket_lifecycle_configuration: awsS3BucketLifecycleConfiguration,
  aws_kms_key: awsKmsKey,
  aws_kms_alias: awsKmsAlias,
};
