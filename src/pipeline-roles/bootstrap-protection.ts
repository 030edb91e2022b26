/**
 * Explicit denials that protect what the administrator's bootstrap stack created: the pipeline roles,
 * the workspace OIDC provider and the permissions boundary. The deploy role carries them as defence in
 * depth (its Allows never reach these resources); the boundary carries them for workload roles.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html (an explicit Deny wins)
 */
import { permissionStatement, PolicyStatement } from '../iam/policy';
import {
  BOUNDARY_REMOVAL_ACTIONS,
  MANAGED_POLICY_WRITE_ACTIONS,
  OIDC_PROVIDER_WRITE_ACTIONS,
  ROLE_PROTECTED_ACTIONS,
} from './pipeline-actions';
import { ResolvedPipelineContext } from './policy-context';

/** The bootstrap resources, as ARNs. */
export interface BootstrapResources {
  /** `arn:<p>:iam::<acct>:role<pipelineRolePath>*` */
  readonly pipelineRolesArn: string;
  /** The workspace OIDC provider. */
  readonly oidcProviderArn: string;
  /** The permissions boundary policy. */
  readonly boundaryArn: string;
}

/** The bootstrap resources of a resolved context (the deploy role and the boundary protect the same ones). */
export function bootstrapResourcesOf({ arns }: ResolvedPipelineContext): BootstrapResources {
  return { pipelineRolesArn: arns.pipelineRoles, oidcProviderArn: arns.oidcProvider, boundaryArn: arns.boundaryPolicy };
}

/**
 * Denies every write to the pipeline roles (and passing or assuming them), to the OIDC provider, and
 * to the boundary policy and its versions, and the removal of any boundary.
 */
export function bootstrapProtectionStatements(resources: BootstrapResources): PolicyStatement[] {
  const { pipelineRolesArn, oidcProviderArn, boundaryArn } = resources;
  return [
    permissionStatement({
      sid: 'DenyChangesToPipelineRoles',
      effect: 'Deny',
      actions: [...ROLE_PROTECTED_ACTIONS],
      resources: [pipelineRolesArn],
    }),
    permissionStatement({
      sid: 'DenyChangesToWorkspaceOidcProvider',
      effect: 'Deny',
      actions: [...OIDC_PROVIDER_WRITE_ACTIONS],
      resources: [oidcProviderArn],
    }),
    permissionStatement({
      sid: 'DenyChangesToPermissionsBoundary',
      effect: 'Deny',
      actions: [...MANAGED_POLICY_WRITE_ACTIONS],
      resources: [boundaryArn],
    }),
    permissionStatement({
      sid: 'DenyRemovingPermissionsBoundaries',
      effect: 'Deny',
      actions: [...BOUNDARY_REMOVAL_ACTIONS],
      resources: ['*'],
    }),
  ];
}
