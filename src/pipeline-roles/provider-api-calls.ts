/**
 * The IAM API calls the Terraform AWS provider (hashicorp/aws 6.25, the version cdktf 0.21's bindings
 * pin) makes for each resource type of the workload stack, per CRUD operation, read from the provider
 * source. The plan role gets exactly the `read` calls; the deploy role gets every call except those in
 * {@link CALLS_NOT_GRANTED}. A test checks both policies against this table, so a new call here
 * fails a test until a policy grants it or a reason for not granting it is written down.
 */

/** The provider's calls for one resource (or data source) type. */
export interface ProviderApiCalls {
  /** Terraform type, e.g. `aws_iam_role`. */
  readonly resourceType: string;
  /** Source file in hashicorp/terraform-provider-aws, and the functions the calls were read from. */
  readonly source: string;
  /** Calls made by Read: refresh during `terraform plan`, and after every create or update. */
  readonly read: readonly string[];
  readonly create: readonly string[];
  readonly update: readonly string[];
  readonly delete: readonly string[];
}

const PROVIDER_SOURCE = 'https://github.com/hashicorp/terraform-provider-aws/blob/v6.25.0/internal/service/iam';

/**
 * `aws_iam_role`.
 *
 * - Read (`resourceRoleRead`): `findRoleByName` -> GetRole (tags come from GetRole's output through
 *   `setTagsOut` in `resourceRoleFlatten`, so the tagging interceptor does not call ListRoleTags);
 *   `readRoleInlinePolicies` -> `findRolePolicyNames` (ListRolePolicies) and GetRolePolicy per name,
 *   for the deprecated `inline_policy` attribute; `findRoleAttachedPolicies` -> ListAttachedRolePolicies,
 *   for the deprecated `managed_policy_arns`. Both run on every refresh, whether or not they are set.
 * - Create (`resourceRoleCreate`, `retryCreateRole`): CreateRole, with `PermissionsBoundary` and `Tags`
 *   (AWS requires iam:TagRole too for tags on create); PutRolePolicy / AttachRolePolicy only for the
 *   deprecated `inline_policy` / `managed_policy_arns`.
 * - Update (`resourceRoleUpdate`): UpdateAssumeRolePolicy, UpdateRoleDescription, UpdateRole
 *   (max_session_duration), PutRolePermissionsBoundary, or DeleteRolePermissionsBoundary when the
 *   boundary is removed; TagRole / UntagRole (tagging interceptor).
 * - Delete (`deleteRole`): `deleteRoleInstanceProfiles` -> `findInstanceProfilesForRole`
 *   (ListInstanceProfilesForRole) and RemoveRoleFromInstanceProfile per profile; detach (ListAttached-
 *   RolePolicies, DetachRolePolicy) and delete inline policies (ListRolePolicies, DeleteRolePolicy)
 *   when `force_detach_policies` or the deprecated attributes are set; DeleteRole.
 *
 * @see https://github.com/hashicorp/terraform-provider-aws/blob/v6.25.0/internal/service/iam/role.go
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html (iam:TagRole for tag-on-create)
 */
export const AWS_IAM_ROLE_CALLS: ProviderApiCalls = {
  resourceType: 'aws_iam_role',
  source: `${PROVIDER_SOURCE}/role.go`,
  read: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'],
  create: ['iam:CreateRole', 'iam:TagRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy'],
  update: [
    'iam:UpdateAssumeRolePolicy',
    'iam:UpdateRoleDescription',
    'iam:UpdateRole',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:TagRole',
    'iam:UntagRole',
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:AttachRolePolicy',
    'iam:DetachRolePolicy',
  ],
  delete: [
    'iam:ListInstanceProfilesForRole',
    'iam:RemoveRoleFromInstanceProfile',
    'iam:ListAttachedRolePolicies',
    'iam:DetachRolePolicy',
    'iam:ListRolePolicies',
    'iam:DeleteRolePolicy',
    'iam:DeleteRole',
  ],
};

/**
 * `aws_iam_role_policy`: Read `findRolePolicyByTwoPartKey` -> GetRolePolicy; Create and Update
 * `resourceRolePolicyPut` -> PutRolePolicy (then GetRolePolicy); Delete -> DeleteRolePolicy.
 *
 * @see https://github.com/hashicorp/terraform-provider-aws/blob/v6.25.0/internal/service/iam/role_policy.go
 */
export const AWS_IAM_ROLE_POLICY_CALLS: ProviderApiCalls = {
  resourceType: 'aws_iam_role_policy',
  source: `${PROVIDER_SOURCE}/role_policy.go`,
  read: ['iam:GetRolePolicy'],
  create: ['iam:PutRolePolicy'],
  update: ['iam:PutRolePolicy'],
  delete: ['iam:DeleteRolePolicy'],
};

/**
 * `aws_iam_role_policy_attachment`: Read `findAttachedRolePolicyByTwoPartKey` ->
 * ListAttachedRolePolicies; Create `attachPolicyToRole` -> AttachRolePolicy; Delete
 * `detachPolicyFromRole` -> DetachRolePolicy. No update (both arguments force replacement).
 *
 * @see https://github.com/hashicorp/terraform-provider-aws/blob/v6.25.0/internal/service/iam/role_policy_attachment.go
 */
export const AWS_IAM_ROLE_POLICY_ATTACHMENT_CALLS: ProviderApiCalls = {
  resourceType: 'aws_iam_role_policy_attachment',
  source: `${PROVIDER_SOURCE}/role_policy_attachment.go`,
  read: ['iam:ListAttachedRolePolicies'],
  create: ['iam:AttachRolePolicy'],
  update: [],
  delete: ['iam:DetachRolePolicy'],
};

/**
 * `data.aws_iam_openid_connect_provider`, when the workload stack references the workspace provider
 * (to put its ARN in a trust policy): by `arn`, GetOpenIDConnectProvider only; by `url`, also
 * ListOpenIDConnectProviders (`findOpenIDConnectProviderByURL`), which is not granted: the ARN is
 * deterministic (`oidcProviderArn`), so reference it by ARN.
 *
 * @see https://github.com/hashicorp/terraform-provider-aws/blob/v6.25.0/internal/service/iam/openid_connect_provider_data_source.go
 */
export const AWS_IAM_OPENID_CONNECT_PROVIDER_DATA_CALLS: ProviderApiCalls = {
  resourceType: 'data.aws_iam_openid_connect_provider',
  source: `${PROVIDER_SOURCE}/openid_connect_provider_data_source.go`,
  read: ['iam:GetOpenIDConnectProvider', 'iam:ListOpenIDConnectProviders'],
  create: [],
  update: [],
  delete: [],
};

/** The workload stack's role resource types (the OIDC provider data source is separate: other ARN). */
export const WORKLOAD_ROLE_RESOURCE_CALLS: readonly ProviderApiCalls[] = [
  AWS_IAM_ROLE_CALLS,
  AWS_IAM_ROLE_POLICY_CALLS,
  AWS_IAM_ROLE_POLICY_ATTACHMENT_CALLS,
];

/** Calls the provider can make that the pipeline roles are deliberately not given, and why. */
export const CALLS_NOT_GRANTED: Readonly<Record<string, string>> = {
  'iam:DeleteRolePermissionsBoundary':
    "removing a workload role's boundary lifts its cap; a stack that drops `permissions_boundary` fails at apply instead",
  'iam:RemoveRoleFromInstanceProfile':
    'the workload stack manages no instance profiles (its resource is the instance profile, outside the managed path)',
  'iam:ListOpenIDConnectProviders': 'only needed to look the provider up by URL; its ARN is deterministic, so the stack reads it by ARN',
};

/** The distinct calls of some resource types for some operations, in first-seen order. */
export function providerCalls(
  types: readonly ProviderApiCalls[],
  operations: readonly ('read' | 'create' | 'update' | 'delete')[],
): string[] {
  return [...new Set(types.flatMap((type) => operations.flatMap((operation) => type[operation])))];
}
