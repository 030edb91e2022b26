/**
 * What the pipeline may do to workload roles: read them (plan and deploy), and create, change and
 * delete them (deploy), only under the managed path and only with the account's boundary.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PermissionsBoundary
 */
import { permissionStatement, PolicyStatement } from '../iam/policy';
import {
  BOUNDARY_SETTING_ACTIONS,
  BOUNDED_ROLE_CHANGE_ACTIONS,
  OIDC_PROVIDER_READ_ACTIONS,
  PERMISSIONS_BOUNDARY_KEY,
  ROLE_TAGGING_ACTIONS,
  WORKLOAD_ROLE_DELETE_READ_ACTIONS,
  WORKLOAD_ROLE_READ_ACTIONS,
} from './pipeline-actions';

/**
 * Terraform's refresh of the workload stack: the provider's reads of roles, inline policies and
 * attachments under the managed path, and of the workspace OIDC provider the trust policies name.
 * Reads are not conditioned on the boundary: a role whose boundary was removed out of band must still
 * be readable, so the plan shows the drift.
 */
export function workloadReadStatements(workloadRolesArn: string, oidcProviderArn: string): PolicyStatement[] {
  return [
    permissionStatement({ sid: 'ReadWorkloadRoles', actions: [...WORKLOAD_ROLE_READ_ACTIONS], resources: [workloadRolesArn] }),
    permissionStatement({ sid: 'ReadWorkspaceOidcProvider', actions: [...OIDC_PROVIDER_READ_ACTIONS], resources: [oidcProviderArn] }),
  ];
}

/**
 * Creating, changing and deleting workload roles, their inline policies and attachments.
 *
 * - A role can only be created, or given a boundary, with `iam:PermissionsBoundary` equal to the
 *   account's boundary.
 * - Every other change that carries the key (trust, settings, inline and attached policies, deletion)
 *   is allowed only on roles that carry the boundary now: an unbounded role an administrator put under
 *   the path cannot be given policies by the pipeline.
 * - Any managed policy may be attached, AdministratorAccess included: the boundary caps what the role
 *   can use. The trust policy's content cannot be limited by any IAM condition (see
 *   `BOUNDED_ROLE_CHANGE_ACTIONS`).
 * - No DeleteRolePermissionsBoundary: a role never loses its cap.
 */
export function roleManagementStatements(workloadRolesArn: string, boundaryArn: string): PolicyStatement[] {
  const withBoundary = { StringEquals: { [PERMISSIONS_BOUNDARY_KEY]: boundaryArn } };
  return [
    permissionStatement({
      sid: 'CreateWorkloadRolesOnlyWithBoundary',
      actions: [...BOUNDARY_SETTING_ACTIONS],
      resources: [workloadRolesArn],
      conditions: withBoundary,
    }),
    permissionStatement({
      sid: 'ChangeWorkloadRolesThatHaveBoundary',
      actions: [...BOUNDED_ROLE_CHANGE_ACTIONS],
      resources: [workloadRolesArn],
      conditions: withBoundary,
    }),
    permissionStatement({ sid: 'TagWorkloadRoles', actions: [...ROLE_TAGGING_ACTIONS], resources: [workloadRolesArn] }),
    permissionStatement({
      sid: 'ListInstanceProfilesBeforeDeletingWorkloadRoles',
      actions: [...WORKLOAD_ROLE_DELETE_READ_ACTIONS],
      resources: [workloadRolesArn],
    }),
  ];
}
