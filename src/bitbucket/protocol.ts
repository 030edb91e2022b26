/**
 * Bitbucket Pipelines OIDC protocol facts, named once. Every issuer URL, condition key, audience and
 * `sub` pattern in this project is derived from the functions in this file.
 *
 * @see https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/
 */
import { patternRule } from '../iam/rules';

/** Host that issues Bitbucket Pipelines OIDC tokens. */
export const BITBUCKET_ISSUER_HOST = 'api.bitbucket.org';

/** Prefix of the default audience; the workspace UUID (no braces) follows it. */
export const BITBUCKET_AUDIENCE_PREFIX = 'ari:cloud:bitbucket::workspace/';

/** The STS action a web-identity principal performs. */
export const ASSUME_ROLE_WITH_WEB_IDENTITY = 'sts:AssumeRoleWithWebIdentity';

/** Bitbucket workspace IDs (slugs): lower-case letters, digits, `-` and `_`. */
export const WORKSPACE_SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]{0,61}$/;

/** Bitbucket's value rules, in the form of the IAM layer's (`src/iam/rules.ts`). */
export const BITBUCKET_RULES = {
  workspace: patternRule(
    WORKSPACE_SLUG_PATTERN,
    'be the workspace ID (slug) as in bitbucket.org/<workspace>: lower-case letters, digits, - and _, or the issuer URL from Repository settings > OpenID Connect',
    'acme',
  ),
  uuid: patternRule(
    // Braces in pairs only: normaliseUuid strips `{...}`, so a lone brace must fail here, not later.
    /^(?=\{.*\}$|[^{}]*$)\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$/,
    'be a UUID (braces and upper case are accepted)',
    '{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}',
  ),
} as const;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The scheme of every issuer URL; AWS names providers and condition keys after the URL without it. */
export const ISSUER_SCHEME = 'https://';

/**
 * The two spellings of a workspace's issuer. AWS compares the token's `iss` with `url` as an exact
 * string (no trailing slash), and names condition keys and provider ARNs after `hostAndPath`.
 */
export interface BitbucketIssuer {
  /** Workspace slug the issuer belongs to, e.g. `acme`. */
  readonly workspace: string;
  /** `https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc` */
  readonly url: string;
  /** `api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc` */
  readonly hostAndPath: string;
  /** Condition key for the token's audience: `<hostAndPath>:aud`. */
  readonly audKey: string;
  /** Condition key for the token's subject: `<hostAndPath>:sub`. */
  readonly subKey: string;
}

/** Builds both spellings of the issuer, and its condition keys, from the workspace slug. */
export function bitbucketIssuer(workspace: string): BitbucketIssuer {
  const hostAndPath = `${BITBUCKET_ISSUER_HOST}/2.0/workspaces/${workspace}/pipelines-config/identity/oidc`;
  return {
    workspace,
    url: `${ISSUER_SCHEME}${hostAndPath}`,
    hostAndPath,
    audKey: `${hostAndPath}:aud`,
    subKey: `${hostAndPath}:sub`,
  };
}

/**
 * Reads a workspace slug from either the slug itself or the issuer URL that Bitbucket's
 * "OpenID Connect" settings page shows (users paste either). Returns undefined when it is neither.
 */
export function parseWorkspace(input: string): string | undefined {
  const trimmed = input.trim();
  if (WORKSPACE_SLUG_PATTERN.test(trimmed)) return trimmed;
  // Accept the issuer URL as shown by Bitbucket, with or without scheme or trailing slash.
  const match = /^(?:https:\/\/)?api\.bitbucket\.org\/2\.0\/workspaces\/([^/]+)\/pipelines-config\/identity\/oidc\/?$/.exec(trimmed);
  if (match && WORKSPACE_SLUG_PATTERN.test(match[1])) return match[1];
  return undefined;
}

/**
 * Normalises a UUID as Bitbucket shows it (`{8A1F...}`, `8a1f...`) to lower case without braces.
 * Bitbucket's claims are lower-case, and AWS compares `StringLike` case-sensitively, so an upper-case
 * UUID in a condition would never match. Returns undefined when the input is not a UUID.
 */
export function normaliseUuid(input: string): string | undefined {
  const bare = input
    .trim()
    .replace(/^\{(.*)\}$/, '$1')
    .toLowerCase();
  return UUID_PATTERN.test(bare) ? bare : undefined;
}

/** A UUID in the braced form that Bitbucket puts in token claims: `{8a1f...}`. */
export function bracedUuid(uuid: string): string {
  return `{${uuid}}`;
}

/** The workspace's default audience: `ari:cloud:bitbucket::workspace/<uuid without braces>`. */
export function workspaceAudience(workspaceUuid: string): string {
  return `${BITBUCKET_AUDIENCE_PREFIX}${workspaceUuid}`;
}

/**
 * `sub` pattern admitting every step of a repository, deployment steps included:
 * `{REPOSITORY_UUID}:*`. The trailing wildcard is needed because the step UUID changes every run.
 */
export function repositorySubPattern(repositoryUuid: string): string {
  return `${bracedUuid(repositoryUuid)}:*`;
}

/**
 * `sub` pattern admitting only deployment steps of one environment of a repository:
 * `{REPOSITORY_UUID}:{ENVIRONMENT_UUID}:*`. A normal step's `sub` has no environment part, so it
 * never matches.
 */
export function environmentSubPattern(repositoryUuid: string, environmentUuid: string): string {
  return `${bracedUuid(repositoryUuid)}:${bracedUuid(environmentUuid)}:*`;
}

/** Partition of an AWS region, for building ARNs (`aws`, `aws-cn`, `aws-us-gov`, ...). */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

/** The ARN AWS gives the workspace's OIDC provider in an account (deterministic, so reusable). */
export function oidcProviderArn(partition: string, accountId: string, issuer: BitbucketIssuer): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${issuer.hostAndPath}`;
}
