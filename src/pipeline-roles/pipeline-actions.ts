/**
 * IAM action lists named once, each with the reason it exists. Statement builders combine them; the
 * docs/permissions.md table and the tests read them through the builders.
 *
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
import { AWS_IAM_ROLE_CALLS, CALLS_NOT_GRANTED, providerCalls, WORKLOAD_ROLE_RESOURCE_CALLS } from './provider-api-calls';

/** The condition key naming a role's permissions boundary (the requested one for CreateRole / PutRolePermissionsBoundary). */
export const PERMISSIONS_BOUNDARY_KEY = 'iam:PermissionsBoundary';

/**
 * Role actions for which the Service Authorization Reference lists `iam:PermissionsBoundary`. Only
 * these may carry a condition on it: for any other action the key is absent, so a `StringEquals` on
 * it never matches (and a `StringNotEquals` always does). TagRole and UntagRole are not among them.
 *
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html#awsidentityandaccessmanagementiam-policy-keys
 */
export const ROLE_ACTIONS_WITH_BOUNDARY_KEY = [
  'iam:CreateRole',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:UpdateAssumeRolePolicy',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
  'iam:DeleteRole',
  'iam:GetRole',
] as const;

/** The Terraform provider's reads of the workload role resource types (see `provider-api-calls.ts`). */
export const WORKLOAD_ROLE_READ_ACTIONS: readonly string[] = providerCalls(WORKLOAD_ROLE_RESOURCE_CALLS, ['read']);

/** Extra read the provider makes before deleting a role (`deleteRoleInstanceProfiles`). */
export const WORKLOAD_ROLE_DELETE_READ_ACTIONS: readonly string[] = providerCalls([AWS_IAM_ROLE_CALLS], ['delete']).filter(
  (action) => /^iam:(Get|List)/.test(action) && !WORKLOAD_ROLE_READ_ACTIONS.includes(action) && !(action in CALLS_NOT_GRANTED),
);

/** The Terraform provider's read of the workspace OIDC provider, referenced by ARN. */
export const OIDC_PROVIDER_READ_ACTIONS = ['iam:GetOpenIDConnectProvider'] as const;

/** Sets a role's boundary: allowed only with the account's boundary as the value. */
export const BOUNDARY_SETTING_ACTIONS = ['iam:CreateRole', 'iam:PutRolePermissionsBoundary'] as const;

/**
 * Changes to an existing role's trust, settings, policies or existence that carry
 * `iam:PermissionsBoundary` (the role's CURRENT boundary): the deploy role may make them only on roles
 * that carry the account's boundary, and the boundary denies them on roles that do not.
 *
 * `iam:UpdateAssumeRolePolicy` is here because Terraform needs it to change a workload role's trust.
 * No IAM condition key can limit what a trust policy says: whoever may call it may make the role
 * trust any principal, in any account. What limits the damage is the boundary the role carries.
 */
export const BOUNDED_ROLE_CHANGE_ACTIONS = [
  'iam:UpdateAssumeRolePolicy',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:DeleteRole',
] as const;

/** Role tagging: no `iam:PermissionsBoundary` key, so scoped by path only. */
export const ROLE_TAGGING_ACTIONS = ['iam:TagRole', 'iam:UntagRole'] as const;

/** Removes a boundary from a role or user: never allowed to the pipeline or to workloads. */
export const BOUNDARY_REMOVAL_ACTIONS = ['iam:DeleteRolePermissionsBoundary', 'iam:DeleteUserPermissionsBoundary'] as const;

/**
 * Every write to an IAM role (the role resource type), plus passing it to a service and assuming it:
 * what nobody but the administrator may do to the pipeline's own roles. (AssumeRoleWithWebIdentity
 * and AssumeRoleWithSAML are not here: they are unauthenticated calls, decided by the role's trust
 * policy alone, never by the caller's identity policy or boundary.)
 */
export const ROLE_PROTECTED_ACTIONS = [
  'iam:CreateRole',
  'iam:DeleteRole',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
  'iam:UpdateAssumeRolePolicy',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:CreateServiceLinkedRole',
  'iam:DeleteServiceLinkedRole',
  'iam:PassRole',
  'sts:AssumeRole',
] as const;

/** Every write to an OIDC provider. */
export const OIDC_PROVIDER_WRITE_ACTIONS = [
  'iam:CreateOpenIDConnectProvider',
  'iam:DeleteOpenIDConnectProvider',
  'iam:UpdateOpenIDConnectProviderThumbprint',
  'iam:AddClientIDToOpenIDConnectProvider',
  'iam:RemoveClientIDFromOpenIDConnectProvider',
  'iam:TagOpenIDConnectProvider',
  'iam:UntagOpenIDConnectProvider',
] as const;

/** Every write to a managed policy and its versions (CreatePolicy: re-creating it under its name). */
export const MANAGED_POLICY_WRITE_ACTIONS = [
  'iam:CreatePolicy',
  'iam:CreatePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:DeletePolicyVersion',
  'iam:DeletePolicy',
  'iam:TagPolicy',
  'iam:UntagPolicy',
] as const;

/** Changes the permissions of a customer-managed policy in place (new default version). */
export const MANAGED_POLICY_EDIT_ACTIONS = ['iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion'] as const;

/**
 * Long-lived credentials: users, their access keys, passwords and other secrets. The point of the
 * design is that nothing holds a credential that outlives a pipeline step; and an access key or a
 * password created for an EXISTING user (possibly an administrator, never under the boundary) is a
 * direct escalation. So the boundary denies them all, not only `iam:CreateUser`.
 */
export const LONG_LIVED_CREDENTIAL_ACTIONS = [
  'iam:CreateUser',
  'iam:CreateAccessKey',
  'iam:UpdateAccessKey',
  'iam:CreateLoginProfile',
  'iam:UpdateLoginProfile',
  'iam:CreateServiceSpecificCredential',
  'iam:UploadSSHPublicKey',
  'iam:UploadSigningCertificate',
] as const;

/** Grants more to existing users and groups, which the boundary never caps. */
export const USER_AND_GROUP_PERMISSION_ACTIONS = [
  'iam:AttachUserPolicy',
  'iam:PutUserPolicy',
  'iam:PutUserPermissionsBoundary',
  'iam:AddUserToGroup',
  'iam:AttachGroupPolicy',
  'iam:PutGroupPolicy',
] as const;

/** State object access for `terraform plan` (read) and `terraform apply` (read and write). */
export const STATE_READ_ACTIONS = ['s3:GetObject'] as const;
export const STATE_WRITE_ACTIONS = ['s3:GetObject', 's3:PutObject'] as const;
/** The S3 native lock: created with a conditional PutObject, read on conflict, deleted on unlock. */
export const STATE_LOCK_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'] as const;
/** Decrypts the state (GetObject) and encrypts the state and the lock file (PutObject) under SSE-KMS. */
export const STATE_KMS_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;
/** What S3 asks KMS for on a GetObject of an SSE-KMS object (S3 Bucket Keys off). */
export const STATE_KMS_DECRYPT_ACTIONS = ['kms:Decrypt'] as const;
/** What S3 asks KMS for on a single-part PutObject under SSE-KMS (Terraform's state and lock are small). */
export const STATE_KMS_ENCRYPT_ACTIONS = ['kms:GenerateDataKey'] as const;

/** Listing the state bucket; always limited by `s3:prefix` to the role's own state key. */
export const STATE_LIST_ACTIONS = ['s3:ListBucket'] as const;
