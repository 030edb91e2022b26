/**
 * The deploy role: what `terraform apply` of the workload stack needs. The plan role's reads, the
 * management of workload roles under the managed path (always with the boundary), its own state, and
 * explicit denials on everything the bootstrap stack owns. No iam:PassRole, no users, no access keys,
 * no login profiles: none is allowed, so all are implicitly denied.
 */
import { PolicyDocument, policyDocument, PolicyStatement } from '../iam/policy';
import { bootstrapProtectionStatements, bootstrapResourcesOf } from './bootstrap-protection';
import { PipelinePolicyContext, resolvePipelineContext, ResolvedPipelineContext } from './policy-context';
import { assertPolicyFits } from './limits';
import { stateLocationOf, statePolicyStatements } from './state-access';
import { roleManagementStatements, workloadReadStatements } from './workload-roles';

/** The deploy role's statements, in policy order. */
export function deployRoleStatements(context: ResolvedPipelineContext): PolicyStatement[] {
  const { arns } = context;
  return [
    ...workloadReadStatements(arns.workloadRoles, arns.oidcProvider),
    ...roleManagementStatements(arns.workloadRoles, arns.boundaryPolicy),
    ...statePolicyStatements(stateLocationOf(context), 'apply'),
    ...bootstrapProtectionStatements(bootstrapResourcesOf(context)),
  ];
}

/**
 * The deploy role's identity policy. Throws when the context is invalid (every problem listed) or the
 * policy exceeds the managed-policy size quota.
 */
export function deployRolePolicy(context: PipelinePolicyContext): PolicyDocument {
  return assertPolicyFits('the deploy role policy', policyDocument(...deployRoleStatements(resolvePipelineContext(context))));
}
