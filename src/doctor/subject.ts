/**
 * Reads a Bitbucket token's `sub` claim back into its parts, so the doctor can say which repository,
 * deployment environment and step a token speaks for.
 *
 * @see https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/
 */

/** A `sub` claim read into its parts. UUIDs keep Bitbucket's braces, as in the claim. */
export type ParsedSubject =
  /** `{REPOSITORY}:{STEP}`: a normal step. */
  | { readonly kind: 'step'; readonly repository: string; readonly step: string }
  /** `{REPOSITORY}:{ENVIRONMENT}:{STEP}`: a deployment step. */
  | { readonly kind: 'deployment'; readonly repository: string; readonly environment: string; readonly step: string }
  /** Anything else (never issued by Bitbucket Pipelines). */
  | { readonly kind: 'unrecognised' };

const BRACED = '\\{[^{}:]+\\}';
const STEP_SUB = new RegExp(`^(${BRACED}):(${BRACED})$`);
const DEPLOYMENT_SUB = new RegExp(`^(${BRACED}):(${BRACED}):(${BRACED})$`);

/**
 * Splits a `sub` claim: `{REPO}:{STEP}` for a normal step, `{REPO}:{ENV}:{STEP}` for a deployment step.
 *
 * @example parseSubject('{96397bd0-...}:{5d0c...}') // { kind: 'step', repository: '{96397bd0-...}', step: '{5d0c...}' }
 */
export function parseSubject(sub: string): ParsedSubject {
  const deployment = DEPLOYMENT_SUB.exec(sub);
  if (deployment !== null) {
    return { kind: 'deployment', repository: deployment[1], environment: deployment[2], step: deployment[3] };
  }
  const step = STEP_SUB.exec(sub);
  if (step !== null) return { kind: 'step', repository: step[1], step: step[2] };
  return { kind: 'unrecognised' };
}
