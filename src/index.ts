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
} from './bitbucket/protocol';
export type { BitbucketIssuer } from './bitbucket/protocol';
export { permissionStatement, policyDocument, policySize } from './iam/policy';
export { hasPolicyVariable, readPolicyDocument } from './iam/grammar';
export type { ReportProblem } from './iam/grammar';
export { escapeTemplate, unescapeTemplate } from './constructs/template-literal';
export type {
  BaseConditionOperator,
  ConditionOperator,
  Conditions,
  ConditionValue,
  PermissionStatementOptions,
  PolicyDocument,
  PolicyStatement,
  Principal,
} from './iam/policy';
export { bitbucketSubPatterns, bitbucketTrustPolicy, bitbucketTrustStatement, TrustScopeError } from './bitbucket/trust-policy';
export type { BitbucketTrustScope, BitbucketTrustStatementOptions, RepositoryScope } from './bitbucket/trust-policy';
export { evaluateTrustPolicy, wildcardMatch } from './iam/evaluate';
export type { AssumeRoleRequest, ConditionOutcome, Decision, StatementOutcome } from './iam/evaluate';
export { BitbucketOidcProvider } from './constructs/provider';
export type {
  AccountBitbucketOidcProviderProps,
  BitbucketOidcProviderProps,
  BitbucketWorkspaceProps,
  ExistingBitbucketOidcProviderProps,
  IBitbucketOidcProvider,
} from './constructs/provider';
export { BitbucketPipelinesRole, renderPolicy } from './constructs/role';
export type { BitbucketPipelinesRoleProps, BitbucketRoleTrust, RoleOptions } from './constructs/role';
export { configureS3State, MIN_TERRAFORM_VERSION, type StateObjectEncryption } from './stacks/backend';
export type { S3StateProps } from './stacks/backend';
export type { AccountConfig, OidcConfig, RepositoryConfig, ResolvedConfig, RoleConfig } from './config/types';
export { ConfigError, validateConfig } from './config/validate';
export type { ConfigProblem } from './config/validate';
export { CONFIG_ENV_VAR, loadConfig } from './config/load';
export { roleArn, stackName, stateKey } from './config/types';
export { AccountStack } from './stacks/account-stack';
export { buildApp } from './stacks/app';
export { synthesize } from './cli/synth';
export { assumeRoleRequest, bitbucketClaims, tokenIssuerHostAndPath } from './bitbucket/token';
export type { BitbucketTokenClaims, ClaimsOptions, RequestTarget } from './bitbucket/token';
