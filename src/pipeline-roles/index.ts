/**
 * Least-privilege policies for a Bitbucket pipeline that manages IAM roles: the plan role, the deploy
 * role, the workload roles' permissions boundary, the state bucket's policy and key policy, and the
 * docs/permissions.md table rendered from them.
 */
export {
  LOCK_FILE_SUFFIX,
  PIPELINE_POLICY_DEFAULTS,
  PipelinePolicyContextError,
  resolvePipelineContext,
  s3ViaService,
  type PipelineArns,
  type PipelinePolicyContext,
  type PipelineStateContext,
  type ResolvedPipelineContext,
} from './policy-context';
export * from './pipeline-actions';
export {
  AWS_IAM_OPENID_CONNECT_PROVIDER_DATA_CALLS,
  AWS_IAM_ROLE_CALLS,
  AWS_IAM_ROLE_POLICY_ATTACHMENT_CALLS,
  AWS_IAM_ROLE_POLICY_CALLS,
  CALLS_NOT_GRANTED,
  providerCalls,
  WORKLOAD_ROLE_RESOURCE_CALLS,
  type ProviderApiCalls,
} from './provider-api-calls';
export {
  S3_ENCRYPTION_CONTEXT_KEY,
  stateKeyStatements,
  stateKeyUseConditions,
  stateLocationOf,
  statePolicyStatements,
  type StateAccess,
  type StateKmsKey,
  type StateLocation,
} from './state-access';
export {
  denyInsecureTransportStatement,
  denyWorkloadRolesStatement,
  pipelineStateAccessStatements,
  PRINCIPAL_ACCOUNT_VARIABLE,
  RESOURCE_POLICY_SIZE_LIMITS,
  sharedStateAccessStatements,
  stateBucketPolicy,
  stateKeyPolicy,
  workloadRolePatterns,
  type StateBucketAccount,
  type StateBucketPolicyInput,
  type StateKeyPolicyInput,
} from './state-bucket-policy';
export { roleManagementStatements, workloadReadStatements } from './workload-roles';
export { bootstrapProtectionStatements, type BootstrapResources } from './bootstrap-protection';
export { planRolePolicy, planRoleStatements } from './plan-role';
export { deployRolePolicy, deployRoleStatements } from './deploy-role';
export { boundaryPolicy, boundaryPolicyArn, boundaryStatements } from './boundary';
export { assertPolicyFits, POLICY_SIZE_LIMITS } from './limits';
export {
  PERMISSION_HOLDERS,
  permissionRows,
  permissionTableMarkdown,
  pipelinePermissionRows,
  resourcePolicyTableMarkdown,
  type PermissionRow,
} from './permission-table';
