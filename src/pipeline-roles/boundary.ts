/**
 * The account's permissions boundary: the most any workload role can ever do, whatever policies the
 * pipeline attaches to it. Modelled on AWS CDK's bootstrap boundary, with the escalation paths of a
 * pipeline that manages IAM closed.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
 * @see https://docs.aws.amazon.com/cdk/v2/guide/customize-permissions-boundaries.html
 */
import { permissionStatement, PolicyDocument, policyDocument, PolicyStatement } from '../iam/policy';
import {
  BOUNDARY_SETTING_ACTIONS,
  BOUNDED_ROLE_CHANGE_ACTIONS,
  LONG_LIVED_CREDENTIAL_ACTIONS,
  MANAGED_POLICY_EDIT_ACTIONS,
  PERMISSIONS_BOUNDARY_KEY,
  USER_AND_GROUP_PERMISSION_ACTIONS,
} from './pipeline-actions';
import { bootstrapProtectionStatements, bootstrapResourcesOf } from './bootstrap-protection';
import { PipelinePolicyContext, resolvePipelineContext, ResolvedPipelineContext } from './policy-context';
import { assertPolicyFits } from './limits';

/**
 * The boundary's statements:
 *
 * - `AllowWorkloadActions`: the ceiling (`boundaryAllowedActions`, default `*`).
 * - Roles only with this boundary: no role created, or re-bounded, with another boundary or none; no
 *   change to the trust, policies or existence of a role that does not carry it (an administrator's
 *   role outside the boundary cannot be given more).
 * - No editing of customer-managed policies in place: a new default version of a policy attached to
 *   an unbounded role or user would grant it anything. Workloads may still create new policies and
 *   attach them to bounded roles.
 * - The bootstrap resources (pipeline roles, OIDC provider, this policy) and every boundary are
 *   protected as in the deploy role.
 * - No users and no long-lived credentials: see `LONG_LIVED_CREDENTIAL_ACTIONS`; and no new grants to
 *   existing users and groups, which no boundary caps.
 */
export function boundaryStatements(context: ResolvedPipelineContext): PolicyStatement[] {
  const { arns, boundaryAllowedActions } = context;
  const notThisBoundary = { StringNotEquals: { [PERMISSIONS_BOUNDARY_KEY]: arns.boundaryPolicy } };
  return [
    permissionStatement({ sid: 'AllowWorkloadActions', actions: [...boundaryAllowedActions], resources: ['*'] }),
    permissionStatement({
      sid: 'DenyRolesWithoutThisBoundary',
      effect: 'Deny',
      actions: [...BOUNDARY_SETTING_ACTIONS],
      resources: ['*'],
      conditions: notThisBoundary,
    }),
    permissionStatement({
      sid: 'DenyChangesToRolesWithoutThisBoundary',
      effect: 'Deny',
      actions: [...BOUNDED_ROLE_CHANGE_ACTIONS],
      resources: ['*'],
      conditions: notThisBoundary,
    }),
    permissionStatement({
      sid: 'DenyEditingManagedPolicies',
      effect: 'Deny',
      actions: [...MANAGED_POLICY_EDIT_ACTIONS],
      resources: [arns.customerManagedPolicies],
    }),
    ...bootstrapProtectionStatements(bootstrapResourcesOf(context)),
    permissionStatement({
      sid: 'DenyUsersAndLongLivedCredentials',
      effect: 'Deny',
      actions: [...LONG_LIVED_CREDENTIAL_ACTIONS],
      resources: ['*'],
    }),
    permissionStatement({
      sid: 'DenyGrantsToUsersAndGroups',
      effect: 'Deny',
      actions: [...USER_AND_GROUP_PERMISSION_ACTIONS],
      resources: ['*'],
    }),
  ];
}

/**
 * The permissions boundary policy document (a customer-managed policy, created by the bootstrap
 * stack). Throws when the context is invalid or the policy exceeds the managed-policy size quota.
 */
export function boundaryPolicy(context: PipelinePolicyContext): PolicyDocument {
  return assertPolicyFits('the permissions boundary policy', policyDocument(...boundaryStatements(resolvePipelineContext(context))));
}

/** The boundary policy's ARN, for `permissions_boundary` on workload roles and for docs/permissions.md. */
export function boundaryPolicyArn(context: PipelinePolicyContext): string {
  return resolvePipelineContext(context).arns.boundaryPolicy;
}
