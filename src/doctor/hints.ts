/**
 * Plain-language reasons for a failed trust-policy condition: which repository, deployment
 * environment or audience the token carries, and which ones the role admits.
 */
import { bracedUuid, BITBUCKET_AUDIENCE_PREFIX } from '../bitbucket/protocol';
import { ResolvedRole } from '../config/types';
import { ConditionOutcome } from '../iam/evaluate';
import { ParsedSubject } from './subject';

/** Names for UUIDs, for messages: `{96397bd0-...} (acme/infra)`. Keys are braced, lower-case UUIDs. */
export interface Labels {
  readonly repositories: ReadonlyMap<string, string>;
  readonly environments: ReadonlyMap<string, string>;
}

/** A braced UUID with its label when one is known. */
export function labelled(uuid: string, names: ReadonlyMap<string, string>): string {
  const name = names.get(uuid);
  return name === undefined ? uuid : `${uuid} (${name})`;
}

/** `a`, `a or b`, `a, b or c`. */
export function oneOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function show(value: string | readonly string[] | undefined): string {
  if (value === undefined) return 'nothing';
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify([...value]);
}

/** Why a condition on the token's `sub` failed, in terms of repositories and environments. */
export function subjectHint(subject: ParsedSubject, sub: string, role: ResolvedRole, labels: Labels): string {
  if (subject.kind === 'unrecognised') {
    return `sub ${JSON.stringify(sub)} is not in Bitbucket's format {REPOSITORY}:{STEP} or {REPOSITORY}:{ENVIRONMENT}:{STEP}, so no sub pattern of the role can match it`;
  }
  const repository = labelled(subject.repository, labels.repositories);
  const scopes = role.repositories.filter((r) => bracedUuid(r.uuid) === subject.repository);
  if (scopes.length === 0) {
    const admitted = role.repositories.map((r) => labelled(bracedUuid(r.uuid), labels.repositories));
    return `repository ${repository} is not in this role's scope; it admits ${oneOf(admitted)}: add the repository to the role in the config, or use a role meant for this repository`;
  }
  const environments = scopes.flatMap((r) => r.environments.map(bracedUuid));
  if (environments.length === 0) {
    // The scope admits every step of the repository, so only a malformed sub can fail here.
    return `sub ${JSON.stringify(sub)} does not match the role's pattern ${subject.repository}:*`;
  }
  const required = oneOf(environments.map((e) => labelled(e, labels.environments)));
  if (subject.kind === 'step') {
    return `this step is not a deployment step; the role requires a deployment step of environment ${required} for repository ${repository}: add "deployment: <environment>" to the step in bitbucket-pipelines.yml`;
  }
  const environment = labelled(subject.environment, labels.environments);
  return `deployment environment ${environment} is not one this role admits for repository ${repository}; it admits ${required}: run the step in an admitted environment, or add this one to the role`;
}

/** Why a condition on the token's `aud` failed. */
export function audienceHint(actual: string | readonly string[] | undefined, role: ResolvedRole): string {
  return `audience ${show(actual)} is not one the role accepts (it accepts ${oneOf(role.audiences.map((a) => JSON.stringify(a)))})${audienceOrigin(actual)}`;
}

/** When an audience is another workspace's default audience, say so. */
export function audienceOrigin(actual: string | readonly string[] | undefined): string {
  const values = actual === undefined ? [] : typeof actual === 'string' ? [actual] : actual;
  const foreign = values.find((a) => a.startsWith(BITBUCKET_AUDIENCE_PREFIX));
  return foreign === undefined
    ? '; a custom audience must be listed in the config\'s "audiences"'
    : `; ${JSON.stringify(foreign)} is the default audience of workspace {${foreign.slice(BITBUCKET_AUDIENCE_PREFIX.length)}}`;
}

/** Why any failed condition failed: specific for `sub`, `aud` and `aws:SourceIp`, generic otherwise. */
export function conditionHint(
  outcome: ConditionOutcome,
  context: { readonly subject: ParsedSubject; readonly sub: string; readonly role: ResolvedRole; readonly labels: Labels },
): string {
  const { operator, key, expected, actual } = outcome;
  if (outcome.unsupported) {
    return `operator ${operator} is not one the doctor evaluates, so it counts as failed; check this condition by hand`;
  }
  if (key.endsWith(':sub') && actual !== undefined) return subjectHint(context.subject, context.sub, context.role, context.labels);
  if (key.endsWith(':aud') && actual !== undefined) return audienceHint(actual, context.role);
  // The networks are the condition's expected values, printed next to the hint: not repeated here.
  if (key === 'aws:SourceIp') {
    return actual === undefined
      ? 'the role only admits calls from the networks of its sourceIpCidrs (under expected); the doctor cannot see the address AWS will see (pass --source-ip to check one)'
      : `address ${show(actual)} is in none of the networks the role admits calls from (its sourceIpCidrs, under expected): run the step from one of them, or change sourceIpCidrs`;
  }
  if (actual === undefined) {
    return `the request carries no ${key}: the token's issuer names other condition keys than the role's`;
  }
  return `${operator} on ${key} needs ${oneOf(expected.map((e) => JSON.stringify(e)))}, and the request has ${show(actual)}`;
}
