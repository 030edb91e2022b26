/**
 * The environment of every process a test starts (the synth, the doctor, a script, terraform, npm):
 * this process's, less everything that Bitbucket Pipelines, the README or a developer's shell set and
 * that would change what the process does. The suite runs inside a Bitbucket step too, where `CI=true`,
 * the `BITBUCKET_*` variables and the user's `BITBUCKET_OIDC_CONFIG` (a relative path) are set: a test
 * passes in what it means to test, and nothing else gets through.
 *
 * The one exception is `__tests__/user-config.test.ts`, which checks the user's own configuration on
 * purpose and reads `BITBUCKET_OIDC_CONFIG` itself.
 */

/** Variables that are dropped, by name or prefix. */
const DROPPED = [
  /^CI$/,
  /^BITBUCKET_/, // Bitbucket's defaults, the user's BITBUCKET_OIDC_CONFIG, the step's token
  /^AWS_/, // credentials, profiles, endpoints, web identity
  /^TF_/, // Terraform's CLI configuration, arguments, logs, plugin cache
  /^CDKTF_/, // cdktf's output folder and context
  /^SYNTH_HCL_OUTPUT$/,
  /^(PLAN_ROLE_NAME|DEPLOY_ROLE_NAME|OIDC_ACCOUNT)$/, // the pipeline's repository and deployment variables
  /^(EXPLAIN_JS|PLAN_DIGEST_JS|TERRAFORM|STACKS_DIR)$/, // the scripts' overrides
  /^TERRAFORM_(RELEASES_URL|SHA256|INSTALL_DIR)$/,
];

/** This process's environment without the dropped variables, plus `extra` (which wins). */
export function hermeticEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([key]) => !DROPPED.some((pattern) => pattern.test(key)));
  return { ...Object.fromEntries(kept), ...extra };
}
