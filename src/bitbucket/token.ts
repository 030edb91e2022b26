/**
 * The claims of a Bitbucket Pipelines OIDC token (`BITBUCKET_STEP_OIDC_TOKEN`) and the
 * `sts:AssumeRoleWithWebIdentity` request AWS evaluates a role's trust policy against.
 *
 * @see https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/
 */
import { ASSUME_ROLE_WITH_WEB_IDENTITY, bitbucketIssuer, ISSUER_SCHEME, bracedUuid as braced, workspaceAudience } from './protocol';
import { AssumeRoleRequest } from '../iam/evaluate';

/** Claims of a step's token. UUIDs are lower case in braces, e.g. `{1de489be-...}`. */
export interface BitbucketTokenClaims {
  /** `https://api.bitbucket.org/2.0/workspaces/<slug>/pipelines-config/identity/oidc` */
  readonly iss: string;
  /** `ari:cloud:bitbucket::workspace/<uuid>` or a custom audience. */
  readonly aud: string | readonly string[];
  /** `{REPO}:{STEP}`, or `{REPO}:{ENV}:{STEP}` in a deployment step. */
  readonly sub: string;
  readonly iat?: number;
  readonly exp?: number;
  readonly workspaceUuid?: string;
  readonly repositoryUuid?: string;
  readonly pipelineUuid?: string;
  readonly stepUuid?: string;
  readonly branchName?: string;
  /** Only in deployment steps. */
  readonly deploymentEnvironmentUuid?: string;
  readonly [claim: string]: unknown;
}

/** Where the request is evaluated: the role's account. */
export interface RequestTarget {
  readonly partition: string;
  readonly accountId: string;
  /** The caller's address, for `aws:SourceIp` conditions. @default - absent */
  readonly sourceIp?: string;
}

/**
 * The issuer a token names, read as AWS reads it: the `iss` string minus `https://`, compared
 * exactly (so a trailing slash or a different workspace slug names a provider that does not exist).
 */
export function tokenIssuerHostAndPath(iss: string): string {
  return iss.startsWith(ISSUER_SCHEME) ? iss.slice(ISSUER_SCHEME.length) : iss;
}

/**
 * The request AWS evaluates when a step calls AssumeRoleWithWebIdentity with this token: the
 * Federated principal is the provider named after the token's issuer, and the `aud` and `sub`
 * condition keys carry the claims.
 */
export function assumeRoleRequest(claims: BitbucketTokenClaims, target: RequestTarget): AssumeRoleRequest {
  const hostAndPath = tokenIssuerHostAndPath(claims.iss);
  return {
    action: ASSUME_ROLE_WITH_WEB_IDENTITY,
    federatedPrincipal: `arn:${target.partition}:iam::${target.accountId}:oidc-provider/${hostAndPath}`,
    values: {
      [`${hostAndPath}:aud`]: claims.aud,
      [`${hostAndPath}:sub`]: claims.sub,
      ...(target.sourceIp === undefined ? {} : { 'aws:SourceIp': target.sourceIp }),
    },
  };
}

/** Options of `bitbucketClaims`. */
export interface ClaimsOptions {
  readonly workspace: string;
  /** Workspace UUID without braces. */
  readonly workspaceUuid: string;
  /** Repository UUID without braces. */
  readonly repositoryUuid: string;
  /** Deployment environment UUID without braces, for a deployment step. @default - a normal step */
  readonly environmentUuid?: string;
  /** Step UUID without braces. */
  readonly stepUuid: string;
  /** Pipeline UUID without braces. @default - no pipelineUuid claim */
  readonly pipelineUuid?: string;
  /** @default - the workspace audience */
  readonly audience?: string;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  /** Token lifetime in seconds. @default 3600 */
  readonly lifetime?: number;
  readonly branchName?: string;
}

/**
 * The claims Bitbucket puts in a step's token, built from their parts (for tests, examples and the
 * token doctor's hints). `sub` follows Bitbucket's format for normal and deployment steps.
 */
export function bitbucketClaims(options: ClaimsOptions): BitbucketTokenClaims {
  const {
    workspace,
    workspaceUuid,
    repositoryUuid,
    environmentUuid,
    stepUuid,
    pipelineUuid,
    audience,
    issuedAt,
    lifetime = 3600,
    branchName,
  } = options;
  return {
    iss: bitbucketIssuer(workspace).url,
    aud: audience ?? workspaceAudience(workspaceUuid),
    sub:
      environmentUuid === undefined
        ? `${braced(repositoryUuid)}:${braced(stepUuid)}`
        : `${braced(repositoryUuid)}:${braced(environmentUuid)}:${braced(stepUuid)}`,
    iat: issuedAt,
    exp: issuedAt + lifetime,
    workspaceUuid: braced(workspaceUuid),
    repositoryUuid: braced(repositoryUuid),
    stepUuid: braced(stepUuid),
    ...(pipelineUuid === undefined ? {} : { pipelineUuid: braced(pipelineUuid) }),
    ...(branchName === undefined ? {} : { branchName }),
    ...(environmentUuid === undefined ? {} : { deploymentEnvironmentUuid: braced(environmentUuid) }),
  };
}
