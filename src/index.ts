// Public API, for use from any CDKTF app.
export {
  ASSUME_ROLE_WITH_WEB_IDENTITY,
  BITBUCKET_AUDIENCE_PREFIX,
  BITBUCKET_ISSUER_HOST,
  bitbucketIssuer,
  bracedUuid,
  environmentSubPattern,
  normaliseUuid,
  oidcProviderArn,
  parseWorkspace,
  partitionOfRegion,
  repositorySubPattern,
  workspaceAudience,
} from './bitbucket';
export type { BitbucketIssuer } from './bitbucket';
export { permissionStatement, policyDocument, policySize } from './policy';
export type {
  BaseConditionOperator,
  ConditionOperator,
  Conditions,
  ConditionValue,
  PermissionStatementOptions,
  PolicyDocument,
  PolicyStatement,
  Principal,
} from './policy';
export { bitbucketSubPatterns, bitbucketTrustPolicy, bitbucketTrustStatement, TrustScopeError } from './trust-policy';
export type { BitbucketTrustScope, BitbucketTrustStatementOptions, RepositoryScope } from './trust-policy';
export { evaluateTrustPolicy, wildcardMatch } from './evaluate';
export type { AssumeRoleRequest, ConditionOutcome, Decision, StatementOutcome } from './evaluate';
export { BitbucketOidcProvider } from './provider';
export type {
  AccountBitbucketOidcProviderProps,
  BitbucketOidcProviderProps,
  BitbucketWorkspaceProps,
  ExistingBitbucketOidcProviderProps,
  IBitbucketOidcProvider,
} from './provider';
export { BitbucketPipelinesRole, renderPolicy } from './role';
export type { BitbucketPipelinesRoleProps, BitbucketRoleTrust, RoleOptions } from './role';
export { configureS3State, MIN_TERRAFORM_VERSION } from './backend';
export type { S3StateProps } from './backend';
export type { AccountConfig, OidcConfig, RepositoryConfig, ResolvedConfig, RoleConfig } from './config';
export { ConfigError, validateConfig } from './validate-config';
export type { ConfigProblem } from './validate-config';
export { CONFIG_ENV_VAR, loadConfig } from './load-config';
export { roleArn, stackName, stateKey } from './config';
export { AccountStack } from './stack';
export { buildApp } from './app';
export { synthesize } from './synth';
export { assumeRoleRequest, bitbucketClaims, issuerHostAndPath } from './token';
export type { BitbucketTokenClaims, ClaimsOptions, RequestTarget } from './token';
