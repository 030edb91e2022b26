/**
 * IAM's policy size quotas, checked when a policy is built (synth time), not when AWS refuses it.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length
 */
import { PolicyDocument, policySizeProblem } from '../iam/policy';

/** Characters, whitespace not counted. */
export const POLICY_SIZE_LIMITS = {
  /** One customer-managed policy. */
  managedPolicy: 6144,
  /** All inline policies of one role together. */
  inlinePoliciesPerRole: 10240,
} as const;

/**
 * Throws when `document` exceeds the managed-policy quota. Every pipeline policy is held to it (the
 * stricter of the two), so the bootstrap stack may attach each one inline or as a managed policy.
 */
export function assertPolicyFits(name: string, document: PolicyDocument, limit: number = POLICY_SIZE_LIMITS.managedPolicy): PolicyDocument {
  const problem = policySizeProblem(
    name,
    document,
    limit,
    ' (IAM\'s managed policy quota); shorten the paths, bucket, key or boundary name, e.g. managedPath "/bitbucket/"',
  );
  if (problem !== undefined) throw new Error(problem);
  return document;
}
