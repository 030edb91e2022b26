/**
 * The name source of `npm run resolve`: it validates the configuration as the synth would, but instead
 * of looking names up it records every reference (with the field paths that make it) and answers with
 * a stand-in UUID, derived from the name, so that the rest of the validation runs unchanged. The
 * validated configuration is thrown away; the references are what Bitbucket is then asked about.
 */
import { createHash } from 'crypto';
import { bracedUuid } from '../bitbucket/protocol';
import { Checker } from '../config/checker';
import { NamedEnvironment, NamedRepository, NameSource, Reference, repositorySlug } from '../config/names';

/** An environment as the configuration references it, and where. */
export interface RecordedEnvironment {
  readonly ref: Reference;
  readonly paths: string[];
}

/** A repository as the configuration references it, where, and its environments the configuration names. */
export interface RecordedRepository {
  /** The reference; a later one with more detail (a UUID besides the name) adds to it. */
  ref: Reference;
  /** The slug, when referenced by name. */
  slug?: string;
  readonly paths: string[];
  readonly environments: RecordedEnvironment[];
}

/** A UUID that stands in for a name until Bitbucket is asked, the same for the same name. */
function standIn(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Records the references of a configuration while it is validated. */
export class RecordingNames implements NameSource {
  /** The `workspace` field's slug. */
  workspace: string | undefined;
  /** The `workspaceUuid` field, normalised, when given. */
  configuredWorkspaceUuid: string | undefined;
  /** By name (lower case) or braced UUID. */
  readonly repositories = new Map<string, RecordedRepository>();
  private readonly byUuid = new Map<string, RecordedRepository>();

  workspaceUuid(_check: Checker, workspace: string | undefined, configured: string | undefined): string | undefined {
    this.workspace = workspace;
    this.configuredWorkspaceUuid = configured;
    return configured ?? standIn(`workspace:${workspace}`);
  }

  repository(check: Checker, path: string, ref: Reference): NamedRepository | undefined {
    let slug: string | undefined;
    if (ref.name !== undefined) {
      if (this.workspace === undefined) return undefined; // the workspace field is wrong, and says so
      slug = repositorySlug(check, path, ref.name, this.workspace);
      if (slug === undefined) return undefined;
    }
    const key = ref.name === undefined ? bracedUuid(ref.uuid!) : ref.name.trim().toLowerCase();
    let recorded = this.repositories.get(key);
    if (recorded === undefined) {
      recorded = { ref, paths: [], environments: [], ...(slug === undefined ? {} : { slug }) };
      this.repositories.set(key, recorded);
    } else if (recorded.ref.uuid === undefined && ref.uuid !== undefined) {
      recorded.ref = { ...recorded.ref, uuid: ref.uuid };
    }
    recorded.paths.push(path);
    const uuid = ref.uuid ?? standIn(`repository:${key}`);
    this.byUuid.set(uuid, recorded);
    return { uuid, ...(ref.name === undefined ? {} : { name: ref.name }) };
  }

  environment(_check: Checker, path: string, repository: NamedRepository, ref: Reference): NamedEnvironment | undefined {
    const recorded = this.byUuid.get(repository.uuid);
    if (recorded === undefined) return undefined;
    recorded.environments.push({ ref, paths: [path] });
    const key = ref.name === undefined ? `{${ref.uuid}}` : ref.name.trim().toLowerCase();
    return { uuid: ref.uuid ?? standIn(`environment:${repository.uuid}:${key}`), ...(ref.name === undefined ? {} : { name: ref.name }) };
  }
}
