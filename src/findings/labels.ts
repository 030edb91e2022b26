/**
 * How messages name things: a role as `<account>/<role>`, repositories and environments by name when
 * the config gives one, else by UUID.
 */
import { FindingEnvironment, FindingRepository, FindingRole } from './finding';

/** `<account>/<role>`, e.g. `production/deploy`. */
export function roleLabel(role: Pick<FindingRole, 'account' | 'name'>): string {
  return `${role.account.name}/${role.name}`;
}

/** `repository "infra"`, or `repository {uuid}` when it has no name. */
export function repositoryLabel(repository: Pick<FindingRepository, 'uuid' | 'name'>): string {
  return `repository ${named(repository)}`;
}

/** `environment "staging" ({uuid})`, or `environment {uuid}` when it has no name. */
export function environmentLabel(environment: FindingEnvironment): string {
  return environment.name === undefined
    ? `environment {${environment.uuid}}`
    : `environment ${JSON.stringify(environment.name)} ({${environment.uuid}})`;
}

function named(thing: { readonly uuid: string; readonly name?: string }): string {
  return thing.name === undefined ? `{${thing.uuid}}` : JSON.stringify(thing.name);
}

/** A list of quoted values: `"a", "b" and "c"`. */
export function quoteList(values: readonly string[]): string {
  const quoted = values.map((value) => JSON.stringify(value));
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}
