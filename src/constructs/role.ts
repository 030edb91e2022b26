/**
 * An IAM role that Bitbucket Pipelines steps assume with their OIDC token. Its trust policy comes
 * from the typed helpers in `trust-policy.ts`; its permissions from managed policy attachments and
 * typed inline policies (never the deprecated `managed_policy_arns` / `inline_policy` arguments).
 */
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { PolicyDocument } from '../iam/policy';
import { IBitbucketOidcProvider } from './provider';
import { checkValue, LIMITS, RULES } from '../iam/rules';
import { checkResolved, escapeDirectives, escapeLiterals, escapeTemplate, literal } from './template-literal';
import { BitbucketTrustScope, roleTrustPolicy } from '../bitbucket/trust-policy';

/** Which pipelines may assume the role. */
export interface BitbucketRoleTrust extends BitbucketTrustScope {
  /**
   * Audiences the role accepts; each must be one of the provider's client IDs.
   * @default - every audience of the provider
   */
  readonly audiences?: readonly string[];
}

/** Plain IAM role options, apart from the Bitbucket trust. */
export interface RoleOptions {
  /**
   * Role name: 1-64 characters of `A-Za-z0-9+=,.@_-`, unique (case-insensitively) in the account.
   * @example 'bitbucket-deploy'
   */
  readonly name: string;
  /** @default - no description */
  readonly description?: string;
  /**
   * @default '/'
   * @example '/bitbucket/'
   */
  readonly path?: string;
  /**
   * Longest session the role grants, 3600-43200 seconds.
   * @default 3600
   */
  readonly maxSessionDurationSeconds?: number;
  /** @default - no permissions boundary */
  readonly permissionsBoundaryArn?: string;
  /**
   * Managed policies attached with `aws_iam_role_policy_attachment`.
   * @default - none
   * @example ['arn:aws:iam::aws:policy/ReadOnlyAccess']
   */
  readonly managedPolicyArns?: readonly string[];
  /**
   * Inline policies by name, written as typed documents (see `policyDocument`, `permissionStatement`).
   * @default - none
   */
  readonly inlinePolicies?: Readonly<Record<string, PolicyDocument>>;
  /** @default - no tags besides the provider's default tags */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * The account's role trust policy size quota, in characters without whitespace. Raise it only
   * after AWS raised the quota for the account.
   * @default 2048
   */
  readonly trustPolicyMaxSize?: number;
}

/** Props of `BitbucketPipelinesRole`. */
export interface BitbucketPipelinesRoleProps {
  /** The workspace's provider in the role's account (created, or reused with `fromArn`). */
  readonly provider: IBitbucketOidcProvider;
  /** Which repositories and deployment environments may assume the role. */
  readonly trust: BitbucketRoleTrust;
  /** Name, path, session, permissions and tags of the role. */
  readonly role: RoleOptions;
}

/**
 * A policy as a Terraform argument. Without tokens, the JSON text with Terraform's template sequences
 * escaped, so IAM policy variables such as `${aws:username}` reach AWS as written. With tokens (a
 * provider created without an account ID), `jsonencode(...)`, since a token inside a
 * `JSON.stringify`'d string is mangled by `cdktf synth --hcl`; cdktf escapes `${` in its literal parts
 * itself, but not `%{`.
 */
export function renderPolicy(document: PolicyDocument): string {
  const json = JSON.stringify(document);
  if (!Token.isUnresolved(json)) return escapeTemplate(json);
  return Fn.jsonencode(escapeLiterals(document, escapeDirectives));
}

/** An IAM role trusted by the scoped Bitbucket Pipelines steps of a workspace. */
export class BitbucketPipelinesRole extends Construct {
  /** The role resource. */
  readonly resource: IamRole;
  /** The trust policy, as a typed document (what `assume_role_policy` holds). */
  readonly trustPolicy: PolicyDocument;
  /** The role's ARN (a reference to the created role). */
  readonly arn: string;
  /** The role's name. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: BitbucketPipelinesRoleProps) {
    super(scope, id);
    const { provider, trust, role } = props;
    const { audiences = provider.audiences, ...scopeOptions } = trust;
    const {
      name,
      description,
      path = '/',
      maxSessionDurationSeconds = LIMITS.minSessionDuration,
      permissionsBoundaryArn,
      managedPolicyArns = [],
      inlinePolicies = {},
      tags,
      trustPolicyMaxSize = LIMITS.trustPolicySize,
    } = role;

    const trustPolicy = roleTrustPolicy({
      providerArn: provider.arn,
      issuer: provider.issuer,
      audiences,
      ...scopeOptions,
      maxSize: trustPolicyMaxSize,
    });
    this.trustPolicy = trustPolicy.document;
    const assumeRolePolicy = renderPolicy(this.trustPolicy);
    const problems = [
      ...checkResolved('role.name', name, RULES.roleName),
      checkValue('role.path', path, RULES.rolePath),
      description === undefined ? undefined : checkValue('role.description', description, RULES.description),
      Number.isInteger(maxSessionDurationSeconds) &&
      maxSessionDurationSeconds >= LIMITS.minSessionDuration &&
      maxSessionDurationSeconds <= LIMITS.maxSessionDuration
        ? undefined
        : `role.maxSessionDurationSeconds: ${maxSessionDurationSeconds} must be a whole number of seconds from ${LIMITS.minSessionDuration} to ${LIMITS.maxSessionDuration}, e.g. 3600`,
      ...(permissionsBoundaryArn === undefined
        ? []
        : checkResolved('role.permissionsBoundaryArn', permissionsBoundaryArn, RULES.managedPolicyArn)),
      ...managedPolicyArns.flatMap((arn, i) => checkResolved(`role.managedPolicyArns[${i}]`, arn, RULES.managedPolicyArn)),
      managedPolicyArns.length > LIMITS.managedPoliciesPerRole
        ? `role.managedPolicyArns: ${managedPolicyArns.length} policies must be at most ${LIMITS.managedPoliciesPerRole} (the most AWS allows per role)`
        : undefined,
      new Set(managedPolicyArns).size === managedPolicyArns.length ? undefined : 'role.managedPolicyArns: each ARN must appear once',
      ...Object.keys(inlinePolicies).map((policyName) => checkValue('role.inlinePolicies', policyName, RULES.policyName)),
      ...audiences
        .filter((a) => !provider.audiences.includes(a))
        .map((a) => `trust.audiences: ${JSON.stringify(a)} must be one of the provider's client IDs ${JSON.stringify(provider.audiences)}`),
      // A token (a provider ARN known at apply time) has a length of its own, not the policy's.
      Token.isUnresolved(assumeRolePolicy) ? undefined : trustPolicy.sizeProblem,
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0) throw new Error(`Invalid role ${JSON.stringify(name)}:\n  - ${problems.join('\n  - ')}`);

    this.resource = new IamRole(this, 'role', {
      name,
      assumeRolePolicy,
      path,
      maxSessionDuration: maxSessionDurationSeconds,
      ...(description === undefined ? {} : { description: literal(description) }),
      ...(permissionsBoundaryArn === undefined ? {} : { permissionsBoundary: permissionsBoundaryArn }),
      ...(tags === undefined ? {} : { tags: escapeLiterals({ ...tags }) }),
      // A created provider must exist before a role can trust it.
      ...(provider.resource === undefined ? {} : { dependsOn: [provider.resource] }),
    });
    for (const policyArn of managedPolicyArns) {
      // Keyed by ARN, not position, so reordering the list does not replace attachments.
      new IamRolePolicyAttachment(this, `attachment ${policyArn.replace(/\//g, '|')}`, { role: this.resource.name, policyArn });
    }
    for (const [policyName, document] of Object.entries(inlinePolicies)) {
      new IamRolePolicy(this, `inline-policy-${policyName}`, {
        role: this.resource.name,
        name: policyName,
        policy: renderPolicy(document),
      });
    }
    this.arn = this.resource.arn;
    this.name = name;
  }
}
