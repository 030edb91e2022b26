/**
 * The `Default` values of the real `hashicorp/aws` provider's schemas (6.x) for the types the rehearsal
 * touches: the provider plans an unset argument with its default (`max_session_duration = 3600`), and AWS
 * then holds that value. The schemas the stub derives from the cdktf bindings know no defaults, so the stub
 * plans them from this table when it is a client of the local AWS (`TF_STUB_AWS_WORLD_URL`); otherwise the
 * world's answer (3600) would differ from the plan (null) and Terraform would call the result inconsistent.
 *
 * Top-level arguments only. As a pure fake (no world) the stub plans no defaults, as it always has.
 */
import { ObjectValue, Value } from './values';

/** Defaults by resource type and argument, from the provider's schema definitions. */
export const PROVIDER_DEFAULTS: Readonly<Record<string, Readonly<Record<string, Value>>>> = {
  aws_iam_role: { force_detach_policies: false, max_session_duration: 3600, path: '/' },
  aws_iam_policy: { path: '/' },
  aws_s3_bucket: { force_destroy: false },
  aws_s3_bucket_public_access_block: {
    block_public_acls: false,
    block_public_policy: false,
    ignore_public_acls: false,
    restrict_public_buckets: false,
  },
  aws_kms_key: {
    bypass_policy_lockout_safety_check: false,
    customer_master_key_spec: 'SYMMETRIC_DEFAULT',
    enable_key_rotation: false,
    is_enabled: true,
    key_usage: 'ENCRYPT_DECRYPT',
  },
};

/** The planned state with the provider's defaults for the arguments the configuration leaves unset. */
export function withProviderDefaults(typeName: string, planned: Value, config: Value): Value {
  const defaults = PROVIDER_DEFAULTS[typeName];
  if (defaults === undefined || planned === null || typeof planned !== 'object' || Array.isArray(planned)) return planned;
  const configured = (config ?? {}) as ObjectValue;
  const state = { ...(planned as ObjectValue) };
  for (const [name, value] of Object.entries(defaults)) {
    if (name in state && (configured[name] ?? null) === null && (state[name] ?? null) === null) state[name] = value;
  }
  return state;
}
