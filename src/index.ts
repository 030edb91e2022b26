/**
 * The public API of `bitbucket-oidc-cdktf`, for use from any CDKTF app: what a user composes into
 * their own stacks. The configuration loader, the synth, the doctor and the pipeline tooling are this
 * repository's own commands and stay out; so do helpers that only those commands need.
 *
 * @example
 * import { BitbucketOidcProvider, BitbucketPipelinesRole } from 'bitbucket-oidc-cdktf';
 */

// The constructs: the workspace's OIDC provider, a role its pipelines assume, the Terraform state bucket.
export { BitbucketOidcProvider } from './constructs/provider';
export type {
  AccountBitbucketOidcProviderProps,
  BitbucketOidcProviderProps,
  ExistingBitbucketOidcProviderProps,
  IBitbucketOidcProvider,
} from './constructs/provider';
export { BitbucketPipelinesRole, renderPolicy } from './constructs/role';
export type { BitbucketPipelinesRoleProps, BitbucketRoleTrust, RoleOptions } from './constructs/role';
export { StateBucket } from './constructs/state-bucket';
export type { StateBucketEncryption, StateBucketProps } from './constructs/state-bucket';

// The stack's S3 backend, with S3 native locking.
export { configureS3State } from './stacks/backend';
export type { S3StateProps, StateObjectEncryption } from './stacks/backend';

// The trust policy, for a role built without the construct, and the protocol facts it is derived from.
export { bitbucketTrustPolicy, bitbucketTrustStatement, TrustScopeError } from './bitbucket/trust-policy';
export type { BitbucketTrustScope, BitbucketTrustStatementOptions, RepositoryScope } from './bitbucket/trust-policy';
export { bitbucketIssuer, normaliseUuid, partitionOfRegion } from './bitbucket/protocol';
export type { BitbucketIssuer } from './bitbucket/protocol';

// Typed IAM policies.
export { permissionStatement, policyDocument } from './iam/policy';
export type { Conditions, PermissionStatementOptions, PolicyDocument, PolicyStatement } from './iam/policy';

// Least-privilege policies of a pipeline that applies Terraform: the plan and deploy roles, the workload
// roles' permissions boundary, the state bucket's policy and key policy, and one stack's state access.
export {
  boundaryPolicy,
  boundaryPolicyArn,
  deployRolePolicy,
  PipelinePolicyContextError,
  planRolePolicy,
  stateBucketPolicy,
  stateKeyPolicy,
  statePolicyStatements,
} from './pipeline-roles';
export type { PipelinePolicyContext, StateBucketPolicyInput, StateKeyPolicyInput, StateLocation } from './pipeline-roles';

// The security findings (cdk-nag style rules), run over roles described as plain data.
export { blockingFindings, FINDING_RULES, formatFindings, runFindings } from './findings';
export type { Finding, FindingRole, FindingRule } from './findings';
