/**
 * The plan role: what `terraform plan` of the workload stack needs and nothing more. It reads the
 * workload roles and the workspace OIDC provider, reads its state, and writes only its lock file.
 */
import { PolicyDocument, policyDocument, PolicyStatement } from '../iam/policy';
import { PipelinePolicyContext, resolvePipelineContext, ResolvedPipelineContext } from './policy-context';
import { assertPolicyFits } from './limits';
import { stateLocationOf, statePolicyStatements } from './state-access';
import { workloadReadStatements } from './workload-roles';

/** The plan role's statements, in policy order. */
export function planRoleStatements(context: ResolvedPipelineContext): PolicyStatement[] {
  const { arns } = context;
  return [...workloadReadStatements(arns.workloadRoles, arns.oidcProvider), ...statePolicyStatements(stateLocationOf(context), 'plan')];
}

/**
 * The plan role's identity policy. Throws when the context is invalid (every problem listed) or the
 * policy exceeds the managed-policy size quota.
 */
export function planRolePolicy(context: PipelinePolicyContext): PolicyDocument {
  return assertPolicyFits('the plan role policy', policyDocument(...planRoleStatements(resolvePipelineContext(context))));
}
