/**
 * Helpers that build the trust policy of a role assumed by Bitbucket Pipelines: which OIDC tokens may
 * call `sts:AssumeRoleWithWebIdentity`. Every condition key comes from `bitbucketIssuer`.
 */
import { ASSUME_ROLE_WITH_WEB_IDENTITY, BitbucketIssuer, environmentSubPattern, repositorySubPattern } from './protocol';
import { Conditions, policyDocument, PolicyDocument, policySize, PolicyStatement, singleOrList } from '../iam/policy';
import { LIMITS } from '../iam/rules';

/** A repository whose pipelines may assume a role, optionally narrowed to deployment environments. */
export interface RepositoryScope {
  /**
   * Repository UUID, without braces, lower case (see `normaliseUuid`).
   * @example '1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11'
   */
  readonly uuid: string;
  /**
   * Deployment environment UUIDs. When set, only deployment steps of these environments match;
   * when empty, every step of the repository matches, deployment steps included.
   * @default - every step of the repository
   */
  readonly environments?: readonly string[];
}

/** Which pipelines a role trusts. */
export interface BitbucketTrustScope {
  /** Repositories (and environments) admitted. Required unless `allowAllRepositories` is true. */
  readonly repositories?: readonly RepositoryScope[];
  /**
   * Admit every repository of the workspace (the policy then checks the audience only).
   * Mutually exclusive with `repositories`.
   * @default false
   */
  readonly allowAllRepositories?: boolean;
  /**
   * Only accept the assume call from these source CIDRs (`aws:SourceIp`), e.g. Bitbucket Pipelines'
   * published IP ranges.
   * @default - no source IP condition
   * @see https://support.atlassian.com/bitbucket-cloud/docs/what-are-the-bitbucket-cloud-ip-addresses-i-should-use-to-configure-my-corporate-firewall/
   */
  readonly sourceIpCidrs?: readonly string[];
}

/** Everything needed to build the Bitbucket trust statement. */
export interface BitbucketTrustStatementOptions extends BitbucketTrustScope {
  /** ARN of the workspace's OIDC provider in the role's account (the Federated principal). */
  readonly providerArn: string;
  /** The workspace's issuer (condition keys come from it). */
  readonly issuer: BitbucketIssuer;
  /** Token audiences accepted (`aud`); at least one. */
  readonly audiences: readonly string[];
}

/** Raised when a trust scope would admit more, or other, pipelines than were meant. */
export class TrustScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustScopeError';
  }
}

/**
 * The `sub` patterns a scope admits: `{REPO}:*` for a repository without environments,
 * `{REPO}:{ENV}:*` for each of its environments otherwise. Throws for an empty scope, since a role
 * with no `sub` condition admits every repository of the workspace.
 */
export function bitbucketSubPatterns(repositories: readonly RepositoryScope[]): string[] {
  if (repositories.length === 0) {
    throw new TrustScopeError(
      'a Bitbucket role needs at least one repository in its trust scope; set allowAllRepositories to trust every repository of the workspace',
    );
  }
  return repositories.flatMap(({ uuid, environments = [] }) =>
    environments.length === 0 ? [repositorySubPattern(uuid)] : environments.map((env) => environmentSubPattern(uuid, env)),
  );
}

/**
 * The statement that lets the scoped Bitbucket pipelines assume a role: Federated principal = the
 * provider, action `sts:AssumeRoleWithWebIdentity`, `StringEquals` on `aud`, `StringLike` on `sub`
 * (plain single-valued operators: a `ForAllValues:` qualifier would pass a token without the key),
 * and `IpAddress` on `aws:SourceIp` when CIDRs are given.
 */
export function bitbucketTrustStatement(options: BitbucketTrustStatementOptions): PolicyStatement {
  const { providerArn, issuer, audiences, repositories = [], allowAllRepositories = false, sourceIpCidrs = [] } = options;
  if (audiences.length === 0) {
    throw new TrustScopeError('a Bitbucket role needs at least one accepted audience');
  }
  if (allowAllRepositories && repositories.length > 0) {
    throw new TrustScopeError('allowAllRepositories and repositories are mutually exclusive: drop one of them');
  }
  const condition: Conditions = {
    StringEquals: { [issuer.audKey]: singleOrList(audiences) },
    ...(allowAllRepositories ? {} : { StringLike: { [issuer.subKey]: singleOrList(bitbucketSubPatterns(repositories)) } }),
    ...(sourceIpCidrs.length === 0 ? {} : { IpAddress: { 'aws:SourceIp': singleOrList(sourceIpCidrs) } }),
  };
  return {
    Effect: 'Allow',
    Principal: { Federated: providerArn },
    Action: ASSUME_ROLE_WITH_WEB_IDENTITY,
    Condition: condition,
  };
}

/** A trust policy document holding the single Bitbucket trust statement. */
export function bitbucketTrustPolicy(options: BitbucketTrustStatementOptions): PolicyDocument {
  return policyDocument(bitbucketTrustStatement(options));
}

/** What a role's trust policy is built from: the trust statement, and the account's quota. */
export interface RoleTrustPolicyOptions extends BitbucketTrustStatementOptions {
  /**
   * The account's role trust policy quota, in characters without whitespace.
   * @default 2048
   */
  readonly maxSize?: number;
}

/** A role's trust policy, as the config validator and the role construct both build it. */
export interface RoleTrustPolicy {
  readonly document: PolicyDocument;
  /** Why the document does not fit the quota; undefined when it does. */
  readonly sizeProblem?: string;
}

/**
 * The one builder of a role's trust policy: the single Bitbucket trust statement, checked against the
 * account's role trust policy quota (the config validator reports the problem at the role's
 * repositories, the construct in its error; neither lets an oversize policy reach AWS).
 */
export function roleTrustPolicy(options: RoleTrustPolicyOptions): RoleTrustPolicy {
  const { maxSize = LIMITS.trustPolicySize, ...statement } = options;
  const document = bitbucketTrustPolicy(statement);
  const size = policySize(document);
  if (size <= maxSize) return { document };
  return {
    document,
    sizeProblem:
      `the trust policy would be ${size} characters, which must be at most ${maxSize} (the role trust policy quota, whitespace excluded); ` +
      'split the role, list fewer repositories or environments, or raise trustPolicyMaxSize after AWS raised the quota',
  };
}
