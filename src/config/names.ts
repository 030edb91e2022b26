/**
 * Names or UUIDs: wherever the configuration takes a Bitbucket UUID (the workspace, a repository, a
 * deployment environment) it also takes the name people know it by, and a `NameSource` turns either
 * into the UUID that Bitbucket puts in its OIDC tokens.
 *
 * The synth's source is the lock file (`lock.ts`), never Bitbucket: a name missing from it is an
 * error that says `npm run resolve`. `npm run resolve` validates the configuration with a source that
 * records every reference instead (`src/resolve/`), then asks Bitbucket for them.
 */
import { EnvironmentTypeName } from '../bitbucket/api';
import { bracedUuid, normaliseUuid } from '../bitbucket/protocol';
import { join, quote as show } from '../iam/rules';
import { Checker } from './checker';
import { FIELDS } from './fields';
import { LoadedLock, LockedRepository, RESOLVE_COMMAND } from './lock';

/** A reference as the configuration writes it: a UUID (normalised: lower case, no braces), a name, or both. */
export interface Reference {
  readonly uuid?: string;
  readonly name?: string;
}

/** A repository with its UUID (normalised) and, when known, its full name `workspace/slug`. */
export interface NamedRepository {
  readonly uuid: string;
  readonly name?: string;
}

/** A deployment environment with its UUID (normalised) and what else is known of it. */
export interface NamedEnvironment {
  readonly uuid: string;
  readonly name?: string;
  readonly type?: EnvironmentTypeName;
  readonly rank?: number;
}

/** Turns the configuration's references into UUIDs, reporting what it cannot. */
export interface NameSource {
  /**
   * The workspace's UUID (normalised), from `workspaceUuid` or the lock.
   * @param workspace the `workspace` field's slug, when valid
   * @param configured the `workspaceUuid` field, normalised, when given and valid
   */
  workspaceUuid(check: Checker, workspace: string | undefined, configured: string | undefined): string | undefined;
  repository(check: Checker, path: string, ref: Reference): NamedRepository | undefined;
  /** An environment of `repository` (Bitbucket keeps environments per repository). */
  environment(check: Checker, path: string, repository: NamedRepository, ref: Reference): NamedEnvironment | undefined;
}

/** A repository's full name: `workspace/slug`. */
const FULL_NAME = /^([a-z0-9][a-z0-9_-]{0,61})\/([A-Za-z0-9._-]{1,128})$/;

/** Reads `{ "uuid": ..., "name": ... }` of a repository: at least one of the two. */
export function readRepositoryRef(check: Checker, path: string, object: Record<string, unknown>): Reference | undefined {
  const before = check.problems.length;
  const uuid = object.uuid === undefined ? undefined : check.uuid(join(path, 'uuid'), object.uuid);
  const name = check.optionalString(join(path, 'name'), object.name);
  if (object.uuid === undefined && object.name === undefined) {
    check.fail(path, `needs the repository's "name" (workspace/slug, e.g. ${show('acme/web')}) or its "uuid"`);
  }
  if (check.problems.length > before) return undefined;
  return { ...(uuid === undefined ? {} : { uuid }), ...(name === undefined ? {} : { name }) };
}

/**
 * Reads an environment: a bare string (a UUID when it looks like one, else a name) or
 * `{ "uuid": ..., "name": ... }` with at least one of the two.
 */
export function readEnvironmentRef(check: Checker, path: string, value: unknown): Reference | undefined {
  if (typeof value === 'string') {
    if (looksLikeUuid(value)) {
      const uuid = check.uuid(path, value);
      return uuid === undefined ? undefined : { uuid };
    }
    return value.trim() === '' ? check.fail(path, `${show(value)} must be a deployment environment's name or UUID`) : { name: value };
  }
  const object = check.fields(path, value, FIELDS.environment);
  if (object === undefined) return undefined;
  const before = check.problems.length;
  const uuid = object.uuid === undefined ? undefined : check.uuid(join(path, 'uuid'), object.uuid);
  const name = check.optionalString(join(path, 'name'), object.name);
  if (name !== undefined && name.trim() === '') check.fail(join(path, 'name'), `${show(name)} must not be empty`);
  if (object.uuid === undefined && object.name === undefined) {
    check.fail(path, `needs the environment's "name" (as in Repository settings > Deployments, e.g. ${show('Production')}) or its "uuid"`);
  }
  if (check.problems.length > before) return undefined;
  return { ...(uuid === undefined ? {} : { uuid }), ...(name === undefined ? {} : { name }) };
}

/** A string meant as a UUID (braced, or starting with 8 hex digits and a dash), so a mistyped one is reported as a bad UUID. */
function looksLikeUuid(value: string): boolean {
  return /^\s*\{/.test(value) || /^\s*[0-9a-fA-F]{8}-/.test(value);
}

/**
 * Checks a repository name used to look it up: `workspace/slug`, in the configuration's workspace (the
 * workspace's issuer signs only its own repositories' tokens). Returns the slug.
 */
export function repositorySlug(check: Checker, path: string, name: string, workspace: string): string | undefined {
  const match = FULL_NAME.exec(name.trim());
  if (match === null) {
    return check.fail(
      join(path, 'name'),
      `${show(name)} must be the repository's full name, workspace/slug, e.g. ${show(`${workspace}/web`)}`,
    );
  }
  if (match[1] !== workspace) {
    return check.fail(
      join(path, 'name'),
      `${show(name)} is a repository of workspace ${show(match[1])}, and this configuration is workspace ${show(workspace)}'s: its issuer signs only the tokens of its own repositories`,
    );
  }
  return match[2];
}

/** The phrasings of the lock's problems, named once. */
const say = {
  noLock: (lockFile: string) =>
    `there is no lock file ${lockFile}: run ${RESOLVE_COMMAND}, which asks Bitbucket for the UUIDs of the configuration's names and writes it`,
  notInLock: (what: string, lockFile: string) =>
    `${what} is not in ${lockFile}: run ${RESOLVE_COMMAND} to add it (it asks Bitbucket for the UUIDs of the configuration's names)`,
  disagrees: (given: string, what: string, locked: string, lockFile: string) =>
    `${show(bracedUuid(given))} is not the UUID Bitbucket gave ${what} (${lockFile} has ${show(locked)}): correct or remove the uuid, or, if it was deleted and created again, run ${RESOLVE_COMMAND}`,
};

/**
 * The synth's names: the lock file's, when there is one. Without a lock, UUIDs work as before and a
 * name is only a label; a reference by name alone is an error that says to run `npm run resolve`.
 * With a lock, every reference must be in it (a UUID the lock lacks was never checked with Bitbucket),
 * and a UUID given with a name must be the one the lock holds for that name.
 */
export class LockNames implements NameSource {
  /** The lock's repositories and environments by name and UUID, built on first use (lookups in time independent of the lock's size). */
  private index?: LockIndex;

  /** @param lockFile the lock's path as the user would type it, for messages */
  constructor(
    private loaded: LoadedLock | undefined,
    private readonly lockFile = '<configuration>.lock.json, beside the configuration',
  ) {}

  private indexed(repositories: Readonly<Record<string, LockedRepository>>): LockIndex {
    this.index ??= lockIndex(repositories);
    return this.index;
  }

  /** Refuses a lock made for another workspace (and then resolves as if there were none). */
  workspaceUuid(check: Checker, workspace: string | undefined, configured: string | undefined): string | undefined {
    if (this.loaded !== undefined && workspace !== undefined && this.loaded.lock.workspace.slug !== workspace) {
      check.fail(
        'workspace',
        `${show(workspace)} is not the workspace ${this.lockFile} was resolved for (${show(this.loaded.lock.workspace.slug)}): run ${RESOLVE_COMMAND} to resolve this configuration's names`,
      );
      this.loaded = undefined;
    }
    const locked = this.loaded === undefined ? undefined : normaliseUuid(this.loaded.lock.workspace.uuid);
    if (configured !== undefined) {
      if (locked !== undefined && locked !== configured) {
        return check.fail('workspaceUuid', say.disagrees(configured, `workspace ${show(workspace)}`, bracedUuid(locked), this.lockFile));
      }
      return configured;
    }
    if (locked !== undefined) return locked;
    return check.fail('workspaceUuid', `is required unless the lock file gives it; ${say.noLock(this.lockFile)}`);
  }

  repository(check: Checker, path: string, ref: Reference): NamedRepository | undefined {
    const repositories = this.loaded?.lock.repositories;
    if (repositories === undefined) {
      if (ref.uuid !== undefined) return { uuid: ref.uuid, ...(ref.name === undefined ? {} : { name: ref.name }) };
      return check.fail(join(path, 'name'), `${show(ref.name)} has no UUID: ${say.noLock(this.lockFile)}`);
    }
    const index = this.indexed(repositories);
    if (ref.name !== undefined) {
      const key = index.repositoryByLowerName.get(ref.name.trim().toLowerCase());
      if (key === undefined) return check.fail(join(path, 'name'), say.notInLock(`repository ${show(ref.name)}`, this.lockFile));
      const uuid = normaliseUuid(repositories[key].uuid)!;
      if (ref.uuid !== undefined && ref.uuid !== uuid) {
        return check.fail(join(path, 'uuid'), say.disagrees(ref.uuid, `repository ${show(key)}`, repositories[key].uuid, this.lockFile));
      }
      return { uuid, name: key };
    }
    const key = index.repositoryByUuid.get(ref.uuid!);
    if (key === undefined) return check.fail(join(path, 'uuid'), say.notInLock(`repository ${show(bracedUuid(ref.uuid!))}`, this.lockFile));
    return { uuid: ref.uuid!, name: key };
  }

  environment(check: Checker, path: string, repository: NamedRepository, ref: Reference): NamedEnvironment | undefined {
    const labelled = (uuid: string): NamedEnvironment => ({ uuid, ...(ref.name === undefined ? {} : { name: ref.name }) });
    const repositories = this.loaded?.lock.repositories;
    if (repositories === undefined) {
      if (ref.uuid !== undefined) return labelled(ref.uuid);
      return check.fail(path, `environment ${show(ref.name)} has no UUID: ${say.noLock(this.lockFile)}`);
    }
    const index = this.indexed(repositories);
    const lockedName = index.repositoryByUuid.get(repository.uuid);
    const where = `of repository ${show(repository.name ?? bracedUuid(repository.uuid))}`;
    const environments = lockedName === undefined ? {} : repositories[lockedName].environments;
    const environmentIndex = lockedName === undefined ? EMPTY_ENVIRONMENT_INDEX : index.environments.get(lockedName)!;
    const found = (name: string): NamedEnvironment => {
      const entry = environments[name];
      return {
        uuid: normaliseUuid(entry.uuid)!,
        name,
        ...(entry.type === undefined ? {} : { type: entry.type }),
        ...(entry.rank === undefined ? {} : { rank: entry.rank }),
      };
    };
    if (ref.name !== undefined) {
      const wanted = ref.name.trim();
      const key = Object.prototype.hasOwnProperty.call(environments, wanted)
        ? wanted
        : environmentIndex.byLowerName.get(wanted.toLowerCase());
      if (key === undefined) return check.fail(path, say.notInLock(`environment ${show(ref.name)} ${where}`, this.lockFile));
      const environment = found(key);
      if (ref.uuid !== undefined && ref.uuid !== environment.uuid) {
        return check.fail(
          join(path, 'uuid'),
          say.disagrees(ref.uuid, `environment ${show(key)} ${where}`, environments[key].uuid, this.lockFile),
        );
      }
      return environment;
    }
    const key = environmentIndex.byUuid.get(ref.uuid!);
    if (key === undefined) return check.fail(path, say.notInLock(`environment ${show(bracedUuid(ref.uuid!))} ${where}`, this.lockFile));
    return found(key);
  }
}

/** Names by lower-case name and by UUID; the first name in the lock's order wins, as a scan would find it. */
interface NameIndex {
  readonly byLowerName: Map<string, string>;
  readonly byUuid: Map<string, string>;
}

interface LockIndex {
  readonly repositoryByLowerName: Map<string, string>;
  readonly repositoryByUuid: Map<string, string>;
  /** By repository name. */
  readonly environments: Map<string, NameIndex>;
}

const EMPTY_ENVIRONMENT_INDEX: NameIndex = { byLowerName: new Map(), byUuid: new Map() };

function nameIndex(entries: Readonly<Record<string, { readonly uuid: string }>>): NameIndex {
  const index: NameIndex = { byLowerName: new Map(), byUuid: new Map() };
  for (const [name, { uuid }] of Object.entries(entries)) {
    if (!index.byLowerName.has(name.toLowerCase())) index.byLowerName.set(name.toLowerCase(), name);
    const normal = normaliseUuid(uuid);
    if (normal !== undefined && !index.byUuid.has(normal)) index.byUuid.set(normal, name);
  }
  return index;
}

function lockIndex(repositories: Readonly<Record<string, LockedRepository>>): LockIndex {
  const { byLowerName, byUuid } = nameIndex(repositories);
  const environments = new Map(Object.entries(repositories).map(([name, repository]) => [name, nameIndex(repository.environments)]));
  return { repositoryByLowerName: byLowerName, repositoryByUuid: byUuid, environments };
}
