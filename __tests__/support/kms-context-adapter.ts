/**
 * Test-only: lets `@cloud-copilot/iam-simulate` evaluate conditions on `kms:EncryptionContext:aws:s3:arn`.
 *
 * Why: AWS documents the key as `kms:EncryptionContext:${EncryptionContextKey}`, a variable key whose
 * variable follows a colon. The engine matches variable keys only after a `/` (as in
 * `aws:ResourceTag/${TagKey}`), so it drops `kms:EncryptionContext:aws:s3:arn` from every request
 * (reporting it in `ignoredContextKeys`, which `support/simulate-permissions.ts` refuses) and a policy
 * conditioned on it never matches. A test in `state-bucket-permissions.test.ts` shows it.
 *
 * What it does: it renames that one key, in the policies AND in the request, to
 * `aws:PrincipalTag/kms:EncryptionContext:aws:s3:arn`: a global key the engine evaluates for every
 * action, single-valued and a string like the original, compared by the same operators with the same
 * values. Nothing else changes. It refuses (throws) a policy or request that already uses the alias,
 * so no mapping can hide a difference.
 */
import { PolicyDocument, PolicyStatement } from '../../src/iam/policy';
import type { PermissionRequest, SimulatedPrincipal } from './simulate-permissions';

/** The key S3 sets to the object's ARN when it asks KMS for a data key (S3 Bucket Keys off). */
export const S3_CONTEXT_KEY = 'kms:EncryptionContext:aws:s3:arn';
/** What the engine sees instead. */
export const S3_CONTEXT_KEY_ALIAS = `aws:PrincipalTag/${S3_CONTEXT_KEY}`;

function renameKey(key: string): string {
  if (key.toLowerCase() === S3_CONTEXT_KEY_ALIAS.toLowerCase())
    throw new Error(`adapter: ${key} is already used; it cannot stand for ${S3_CONTEXT_KEY}`);
  return key.toLowerCase() === S3_CONTEXT_KEY.toLowerCase() ? S3_CONTEXT_KEY_ALIAS : key;
}

function adaptStatement(statement: PolicyStatement): PolicyStatement {
  if (statement.Condition === undefined) return statement;
  const condition = Object.fromEntries(
    Object.entries(statement.Condition).map(([operator, block]) => [
      operator,
      Object.fromEntries(Object.entries(block ?? {}).map(([key, value]) => [renameKey(key), value])),
    ]),
  );
  return { ...statement, Condition: condition };
}

/** A policy with the S3 encryption-context key renamed. */
export function adaptPolicy(policy: PolicyDocument): PolicyDocument {
  return { ...policy, Statement: policy.Statement.map(adaptStatement) };
}

/** A principal whose identity policies and boundary have the key renamed. */
export function adaptPrincipal(principal: SimulatedPrincipal): SimulatedPrincipal {
  return {
    ...principal,
    identityPolicies: principal.identityPolicies.map(adaptPolicy),
    ...(principal.boundary === undefined ? {} : { boundary: adaptPolicy(principal.boundary) }),
  };
}

/** A request whose context and resource policy have the key renamed. */
export function adaptRequest(request: PermissionRequest): PermissionRequest {
  return {
    ...request,
    ...(request.context === undefined
      ? {}
      : { context: Object.fromEntries(Object.entries(request.context).map(([key, value]) => [renameKey(key), value])) }),
    ...(request.resourcePolicy === undefined ? {} : { resourcePolicy: adaptPolicy(request.resourcePolicy) }),
  };
}
