/**
 * Asks Bitbucket for the UUIDs of a configuration's references and builds the lock file's contents:
 * `GET /workspaces/{workspace}`, `GET /repositories/{workspace}/{slug}` (or `{uuid}` for a repository
 * given by UUID, which Bitbucket accepts in the slug's place) and every page of
 * `GET /repositories/{workspace}/{slug}/environments` for the repositories whose environments the
 * configuration names (the API cannot filter them by name).
 *
 * A reference Bitbucket does not have, or a UUID that disagrees with the name it is given with, is a
 * problem at the field that makes it; every such problem is collected. Any other failure of the API
 * (a refused token, a missing scope, the network) stops the whole run.
 */
import { BitbucketApiClient, BitbucketApiError, BitbucketEnvironment, BitbucketRepository } from '../bitbucket/api';
import { bracedUuid, normaliseUuid } from '../bitbucket/protocol';
import { ConfigProblem } from '../config/checker';
import { LOCK_VERSION, LockedEnvironment, LockedRepository, NameLock } from '../config/lock';
import { closest } from '../config/suggestions';
import { quote as show } from '../iam/rules';
import { RecordedRepository, RecordingNames } from './recording-names';

/** The lock, or the problems that kept it from being made. */
export type ResolveResult =
  { readonly lock: NameLock; readonly problems: [] } | { readonly lock?: undefined; readonly problems: ConfigProblem[] };

const problem = (path: string, message: string): ConfigProblem => ({ path, message: `${path}: ${message}` });

/** `{lower-case-uuid}`, as the lock writes UUIDs. */
export function lockUuid(uuid: string): string {
  const normalised = normaliseUuid(uuid);
  return normalised === undefined ? uuid : bracedUuid(normalised);
}

/** Finds an environment by name: exactly, else the only one whose name differs only in case. */
export function environmentNamed(environments: readonly BitbucketEnvironment[], name: string): BitbucketEnvironment | undefined {
  const wanted = name.trim();
  const exact = environments.find((e) => e.name === wanted);
  if (exact !== undefined) return exact;
  const folded = environments.filter((e) => e.name.toLowerCase() === wanted.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

/** What the lock records of an environment. */
function lockedEnvironment(environment: BitbucketEnvironment): LockedEnvironment {
  return {
    uuid: lockUuid(environment.uuid),
    ...(environment.environment_type === undefined ? {} : { type: environment.environment_type.name }),
    ...(environment.rank === undefined ? {} : { rank: environment.rank }),
  };
}

/** "did you mean" and the environments Bitbucket lists, for a name it does not have. */
function nearest(environments: readonly BitbucketEnvironment[], name: string): string {
  const names = environments.map((e) => e.name);
  if (names.length === 0) return 'the repository has no deployment environments (Repository settings > Deployments)';
  const guess = closest(name, names);
  const listed =
    names.length > 12 ? `${names.slice(0, 12).map(show).join(', ')} and ${names.length - 12} more` : names.map(show).join(', ');
  return `${guess === undefined ? '' : `did you mean ${show(guess)}? `}Its environments are ${listed}`;
}

/**
 * Resolves every recorded reference with Bitbucket.
 * @param configName the configuration's file name, recorded in the lock
 */
export async function resolveNames(recorded: RecordingNames, client: BitbucketApiClient, configName: string): Promise<ResolveResult> {
  const problems: ConfigProblem[] = [];
  const workspace = recorded.workspace!;
  let found;
  try {
    found = await client.getWorkspace(workspace);
  } catch (error) {
    if (!(error instanceof BitbucketApiError) || error.code !== 'not-found') throw error;
    return { problems: [problem('workspace', error.message)] };
  }
  const workspaceUuid = lockUuid(found.uuid);
  const configured = recorded.configuredWorkspaceUuid;
  if (configured !== undefined && bracedUuid(configured) !== workspaceUuid) {
    problems.push(
      problem(
        'workspaceUuid',
        `${show(bracedUuid(configured))} is not workspace ${show(workspace)}'s UUID, which Bitbucket says is ${show(workspaceUuid)}`,
      ),
    );
  }

  const repositories: Record<string, { uuid: string; environments: Record<string, LockedEnvironment> }> = {};
  for (const repository of recorded.repositories.values()) {
    const answer = await lookUpRepository(client, workspace, repository, problems);
    if (answer === undefined) continue;
    const fullName = answer.full_name ?? `${workspace}/${answer.slug}`;
    const entry = (repositories[fullName] ??= { uuid: lockUuid(answer.uuid), environments: {} });
    if (repository.environments.length === 0) continue;
    const environments = await client.listEnvironments(workspace, answer.slug);
    for (const { ref, paths } of repository.environments) {
      const byName = ref.name === undefined ? undefined : environmentNamed(environments, ref.name);
      const byUuid = ref.uuid === undefined ? undefined : environments.find((e) => normaliseUuid(e.uuid) === ref.uuid);
      if (ref.name !== undefined && byName === undefined) {
        problems.push(
          problem(
            paths[0],
            `repository ${show(fullName)} has no deployment environment ${show(ref.name)}: ${nearest(environments, ref.name)}`,
          ),
        );
        continue;
      }
      if (ref.name === undefined && byUuid === undefined) {
        problems.push(
          problem(
            paths[0],
            `repository ${show(fullName)} has no deployment environment ${show(bracedUuid(ref.uuid!))} (deleted, or another repository's?): ${nearest(environments, '')}`,
          ),
        );
        continue;
      }
      if (byName !== undefined && ref.uuid !== undefined && normaliseUuid(byName.uuid) !== ref.uuid) {
        problems.push(
          problem(
            paths[0],
            `${show(bracedUuid(ref.uuid))} is not the UUID of environment ${show(byName.name)} of ${show(fullName)}, which Bitbucket says is ${show(lockUuid(byName.uuid))}: correct or remove the uuid`,
          ),
        );
        continue;
      }
      const environment = (byName ?? byUuid)!;
      entry.environments[environment.name] = lockedEnvironment(environment);
    }
  }
  if (problems.length > 0) return { problems };
  const locked: Record<string, LockedRepository> = repositories;
  return {
    lock: { lockVersion: LOCK_VERSION, config: configName, workspace: { slug: found.slug, uuid: workspaceUuid }, repositories: locked },
    problems: [],
  };
}

/** `GET /repositories/{workspace}/{slug or uuid}`; a 404 or a disagreeing UUID is a problem, recorded. */
async function lookUpRepository(
  client: BitbucketApiClient,
  workspace: string,
  repository: RecordedRepository,
  problems: ConfigProblem[],
): Promise<BitbucketRepository | undefined> {
  const { ref, slug, paths } = repository;
  const at = `${paths[0]}.${ref.name === undefined ? 'uuid' : 'name'}`;
  let answer: BitbucketRepository;
  try {
    answer = await client.getRepository(workspace, slug ?? bracedUuid(ref.uuid!));
  } catch (error) {
    if (!(error instanceof BitbucketApiError) || error.code !== 'not-found') throw error;
    problems.push(problem(at, error.message));
    return undefined;
  }
  if (ref.name !== undefined && ref.uuid !== undefined && normaliseUuid(answer.uuid) !== ref.uuid) {
    problems.push(
      problem(
        `${paths[0]}.uuid`,
        `${show(bracedUuid(ref.uuid))} is not the UUID of repository ${show(ref.name)}, which Bitbucket says is ${show(lockUuid(answer.uuid))}: correct or remove the uuid`,
      ),
    );
    return undefined;
  }
  return answer;
}
