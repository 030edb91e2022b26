/**
 * What a role's trust admits, in words for messages.
 */
import { repositoryLabel } from './labels';
import { FindingRole } from './finding';

/**
 * Why every step of some repository may assume the role (the role admits `{REPOSITORY}:*`), or
 * undefined when only deployment steps of listed environments may.
 */
export function everyStepScope(role: Pick<FindingRole, 'allowAllRepositories' | 'repositories'>): string | undefined {
  if (role.allowAllRepositories) return 'every step of every repository of the workspace (allowAllRepositories)';
  const open = role.repositories.filter((repository) => repository.environments.length === 0);
  if (open.length === 0) return undefined;
  return `every step of ${open.map(repositoryLabel).join(', ')} (no environments listed)`;
}
