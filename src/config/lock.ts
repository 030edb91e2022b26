/**
 * The lock file: the UUIDs Bitbucket gave the names of a configuration, written by `npm run resolve`
 * beside the configuration (`config/acme.json` -> `config/acme.lock.json`) and committed with it. The
 * synth reads names from it and never calls Bitbucket, so a synth is as offline and repeatable as
 * before; `npm run resolve -- --check` compares it with Bitbucket.
 *
 * The file is deterministic: keys sorted at every level, no timestamps, two-space indentation and a
 * final newline, so resolving an unchanged workspace rewrites it byte for byte.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { BITBUCKET_RULES, normaliseUuid } from '../bitbucket/protocol';
import { ENVIRONMENT_TYPE_NAMES, EnvironmentTypeName } from '../bitbucket/api';
import { join, quote as show } from '../iam/rules';
import { Checker, ConfigProblem } from './checker';
import { parseJson } from './json';

/** The lock file format's version; a lock of another version is refused with the command that rewrites it. */
export const LOCK_VERSION = 1;

/** The command that writes the lock file, named once for every message that asks for it. */
export const RESOLVE_COMMAND = 'npm run resolve';

/** A deployment environment as Bitbucket describes it. */
export interface LockedEnvironment {
  /** UUID in braces, as Bitbucket returns it and puts in a deployment step's token. */
  readonly uuid: string;
  /** Test, Staging or Production: the order Bitbucket requires deployment steps in. @default - unknown */
  readonly type?: EnvironmentTypeName;
  /** The environment's position within its type (Repository settings > Deployments). @default - unknown */
  readonly rank?: number;
}

/** A repository and the environments of it that the configuration names. */
export interface LockedRepository {
  /** UUID in braces. */
  readonly uuid: string;
  /** By the environment's name in Bitbucket. */
  readonly environments: Readonly<Record<string, LockedEnvironment>>;
}

/** The whole lock file. */
export interface NameLock {
  readonly lockVersion: number;
  /** The file name of the configuration it was resolved for, e.g. `acme.json`. */
  readonly config: string;
  /** The workspace: its ID (slug) and UUID in braces. */
  readonly workspace: { readonly slug: string; readonly uuid: string };
  /** By full name, `workspace/slug`, as Bitbucket spells it. */
  readonly repositories: Readonly<Record<string, LockedRepository>>;
}

/** A lock read from its file. */
export interface LoadedLock {
  readonly file: string;
  readonly lock: NameLock;
}

/** The lock file of a configuration file: `config/acme.json` -> `config/acme.lock.json`. */
export function lockPathFor(configFile: string): string {
  const { dir, name } = path.parse(configFile);
  return path.join(dir, `${name}.lock.json`);
}

const COMMENT =
  `Written by ${RESOLVE_COMMAND} from Bitbucket's REST API: the UUIDs of the names in the configuration. ` +
  `Commit it; do not edit it. Run ${RESOLVE_COMMAND} again after adding a name, and ${RESOLVE_COMMAND} -- --check ` +
  'to see whether Bitbucket still agrees.';

/** The lock as file text: keys sorted at every level, no timestamps, a final newline. */
export function lockText(lock: NameLock): string {
  return `${JSON.stringify(sortKeys({ '//': COMMENT, ...lock }), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** A lock file that cannot be used. */
export class LockFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`${file} cannot be used:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
    this.name = 'LockFileError';
  }
}

/**
 * Reads the lock file of `configFile`, when there is one; refuses (`LockFileError`) a lock that is not
 * a lock, is of another version, or was made for another configuration file.
 */
export function readLockFor(configFile: string): LoadedLock | undefined {
  const file = lockPathFor(configFile);
  if (!existsSync(file)) return undefined;
  let value: unknown;
  try {
    value = parseJson(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new LockFileError(file, [{ path: '', message: (error as Error).message }]);
  }
  return { file, lock: parseLock(value, file, path.basename(configFile)) };
}

/** Checks a parsed lock file's shape; `configName` is the file name of the configuration it must belong to. */
export function parseLock(value: unknown, file: string, configName: string): NameLock {
  const check = new Checker();
  const top = check.object('', value, ['lockVersion', 'config', 'workspace', 'repositories'], []);
  if (top === undefined) throw new LockFileError(file, check.problems);
  if (top.lockVersion !== LOCK_VERSION) {
    check.fail('lockVersion', `${show(top.lockVersion)} is not ${LOCK_VERSION}, the version this project reads`);
  }
  const config = check.string('config', top.config);
  if (config !== undefined && config !== configName) {
    check.fail('config', `${show(config)}: the lock was made for another configuration file, not ${show(configName)}`);
  }
  const workspaceObject = check.object('workspace', top.workspace, ['slug', 'uuid'], []);
  const slug = workspaceObject === undefined ? undefined : check.string('workspace.slug', workspaceObject.slug, BITBUCKET_RULES.workspace);
  const workspaceUuid = workspaceObject === undefined ? undefined : lockedUuid(check, 'workspace.uuid', workspaceObject.uuid);
  const repositories: Record<string, LockedRepository> = {};
  for (const [name, entry] of entriesOf(check, 'repositories', top.repositories)) {
    const at = join('repositories', name);
    const object = check.object(at, entry, ['uuid', 'environments'], []);
    if (object === undefined) continue;
    const uuid = lockedUuid(check, join(at, 'uuid'), object.uuid);
    const environments: Record<string, LockedEnvironment> = {};
    for (const [environmentName, environment] of entriesOf(check, join(at, 'environments'), object.environments)) {
      const envAt = join(join(at, 'environments'), environmentName);
      const envObject = check.object(envAt, environment, ['uuid'], ['type', 'rank']);
      if (envObject === undefined) continue;
      const envUuid = lockedUuid(check, join(envAt, 'uuid'), envObject.uuid);
      const type = envObject.type;
      if (type !== undefined && !(ENVIRONMENT_TYPE_NAMES as readonly unknown[]).includes(type)) {
        check.fail(join(envAt, 'type'), `${show(type)} must be one of ${ENVIRONMENT_TYPE_NAMES.join(', ')}`);
      }
      const rank = envObject.rank;
      if (rank !== undefined && (typeof rank !== 'number' || !Number.isInteger(rank))) {
        check.fail(join(envAt, 'rank'), `${show(rank)} must be a whole number`);
      }
      if (envUuid === undefined) continue;
      environments[environmentName] = {
        uuid: envUuid,
        ...(typeof type === 'string' ? { type: type as EnvironmentTypeName } : {}),
        ...(typeof rank === 'number' ? { rank } : {}),
      };
    }
    if (uuid !== undefined) repositories[name] = { uuid, environments };
  }
  if (check.problems.length > 0 || config === undefined || slug === undefined || workspaceUuid === undefined) {
    throw new LockFileError(file, check.problems);
  }
  return { lockVersion: LOCK_VERSION, config, workspace: { slug, uuid: workspaceUuid }, repositories };
}

/** The entries of an object keyed by name (any key is a name). */
function entriesOf(check: Checker, at: string, value: unknown): [string, unknown][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    check.fail(at, `${show(value)} must be an object keyed by name`);
    return [];
  }
  return Object.entries(value);
}

/** A UUID of the lock: in braces, lower case, as Bitbucket writes them. */
function lockedUuid(check: Checker, at: string, value: unknown): string | undefined {
  const text = check.string(at, value);
  if (text === undefined) return undefined;
  const uuid = normaliseUuid(text);
  if (uuid === undefined || text !== `{${uuid}}`)
    return check.fail(at, `${show(text)} must be a lower-case UUID in braces, as Bitbucket writes them`);
  return text;
}
