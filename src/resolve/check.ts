/**
 * `npm run resolve -- --check`: does Bitbucket still agree with the lock file? One sentence for each
 * difference that would make a role admit other pipelines than the lock says, or none:
 * - an environment deleted and created again (same name, new UUID): its roles admit no deployment;
 * - an environment renamed, gone, of another type, or moved to another rank (the steps' order);
 * - a repository renamed (same UUID), deleted and created again (new UUID), or gone;
 * - a workspace whose UUID changed.
 * Each repository and environment of the lock is looked up by name and by UUID, so a rename and a
 * re-creation are told apart.
 */
import { BitbucketApiClient, BitbucketApiError, BitbucketRepository } from '../bitbucket/api';
import { normaliseUuid } from '../bitbucket/protocol';
import { NameLock, RESOLVE_COMMAND } from '../config/lock';
import { quote as show } from '../iam/rules';
import { environmentNamed, lockUuid } from './resolve';

const AFTER = `update the configuration if needed, then run ${RESOLVE_COMMAND} and apply`;

/** A repository by slug or UUID; undefined when Bitbucket answers 404. */
async function repositoryOrNothing(
  client: BitbucketApiClient,
  workspace: string,
  slugOrUuid: string,
): Promise<BitbucketRepository | undefined> {
  try {
    return await client.getRepository(workspace, slugOrUuid);
  } catch (error) {
    if (error instanceof BitbucketApiError && error.code === 'not-found') return undefined;
    throw error;
  }
}

/** The differences between the lock and Bitbucket, one sentence each; empty when they agree. */
export async function lockDifferences(lock: NameLock, client: BitbucketApiClient): Promise<string[]> {
  const differences: string[] = [];
  const workspace = lock.workspace.slug;
  const found = await client.getWorkspace(workspace);
  if (lockUuid(found.uuid) !== lock.workspace.uuid) {
    differences.push(
      `workspace ${show(workspace)} now has the UUID ${show(lockUuid(found.uuid))}, not the lock's ${show(lock.workspace.uuid)}: its issuer and audience changed; ${AFTER}`,
    );
  }
  for (const [fullName, locked] of Object.entries(lock.repositories).sort(([a], [b]) => a.localeCompare(b))) {
    const slug = fullName.slice(fullName.indexOf('/') + 1);
    const byName = await repositoryOrNothing(client, workspace, slug);
    let current: BitbucketRepository | undefined = byName;
    if (byName !== undefined && lockUuid(byName.uuid) !== locked.uuid) {
      differences.push(
        `repository ${show(fullName)} was deleted and created again: its UUID is now ${show(lockUuid(byName.uuid))}, not the lock's ${show(locked.uuid)}, so its roles admit none of its pipelines; ${AFTER}`,
      );
    } else if (byName === undefined) {
      current = await repositoryOrNothing(client, workspace, locked.uuid);
      if (current === undefined) {
        differences.push(
          `repository ${show(fullName)} is gone: Bitbucket has no repository of that name or of UUID ${show(locked.uuid)}; ${AFTER}`,
        );
        continue;
      }
      const renamed = current.full_name ?? `${workspace}/${current.slug}`;
      differences.push(
        `repository ${show(fullName)} was renamed to ${show(renamed)} (same UUID ${show(locked.uuid)}): rename it in the configuration, then run ${RESOLVE_COMMAND}`,
      );
    }
    if (Object.keys(locked.environments).length === 0 || current === undefined) continue;
    const environments = await client.listEnvironments(workspace, current.slug);
    for (const [name, environment] of Object.entries(locked.environments).sort(([a], [b]) => a.localeCompare(b))) {
      const of = `environment ${show(name)} of ${show(fullName)}`;
      const sameName = environmentNamed(environments, name);
      const sameUuid = environments.find((e) => normaliseUuid(e.uuid) === normaliseUuid(environment.uuid));
      if (sameName !== undefined && lockUuid(sameName.uuid) !== environment.uuid) {
        differences.push(
          `${of} was deleted and created again: its UUID is now ${show(lockUuid(sameName.uuid))}, not the lock's ${show(environment.uuid)}, so the roles that trust it admit none of its deployment steps; ${AFTER}`,
        );
      } else if (sameName === undefined && sameUuid !== undefined) {
        differences.push(
          `${of} was renamed to ${show(sameUuid.name)} (same UUID ${show(environment.uuid)}): rename it in the configuration, then run ${RESOLVE_COMMAND}`,
        );
      } else if (sameName === undefined) {
        differences.push(`${of} is gone: the repository has no environment of that name or of UUID ${show(environment.uuid)}; ${AFTER}`);
        continue;
      }
      const now = sameName ?? sameUuid!;
      const type = now.environment_type?.name;
      if (type !== environment.type) {
        differences.push(
          `${of} is now of type ${show(type ?? 'unknown')}, not the lock's ${show(environment.type ?? 'unknown')}: Bitbucket orders deployment steps by type; run ${RESOLVE_COMMAND}, then npm run pipeline-steps`,
        );
      } else if (now.rank !== environment.rank) {
        differences.push(
          `${of} now has rank ${now.rank ?? 'unknown'}, not the lock's ${environment.rank ?? 'unknown'}: run ${RESOLVE_COMMAND}, then npm run pipeline-steps`,
        );
      }
    }
  }
  return differences;
}
