/**
 * `bitbucket-pipelines.yml` read the way Bitbucket reads it, for the rehearsal's runner: the pipelines
 * (pull requests, branches, custom, default) as typed steps and parallel groups, with anchors, aliases
 * and YAML 1.1 merge keys resolved (`<<: *deploy`), and the pipeline a branch or pull request triggers.
 * It stands in for Bitbucket's own parser; like `src/ci/pipeline-fit.ts` it uses the `yaml` package.
 * Stages are flattened into their steps (the stage's `deployment` and `trigger` passed on).
 * @see https://support.atlassian.com/bitbucket-cloud/docs/use-glob-patterns-on-the-pipelines-yaml-file/
 */
import { parseDocument } from 'yaml';

/** One step, with what the runner needs. */
export interface StepDefinition {
  readonly name: string;
  /** The script's commands, in order (a multi-line command stays one entry). */
  readonly script: readonly string[];
  /** `oidc: true`: Bitbucket gives the step an OIDC token. */
  readonly oidc: boolean;
  /** The deployment environment's name (`deployment:`). */
  readonly deployment?: string;
  readonly trigger: 'automatic' | 'manual';
  /** Glob patterns of the files kept as artifacts after the step (`artifacts:` or `artifacts.paths`). */
  readonly artifacts: readonly string[];
  /** Whether the step gets the artifacts of earlier steps (`artifacts.download`, default true). */
  readonly downloadArtifacts: boolean;
  /** Names of the caches the step uses (defined under `definitions.caches`, or Bitbucket's predefined ones). */
  readonly caches: readonly string[];
  readonly image?: string;
  /** Minutes: the step's `max-time`, else the file's `options.max-time`; Bitbucket's default is 120. */
  readonly maxTime?: number;
  /** Where the step is, e.g. `pipelines.branches.main[2]` (as `src/ci/pipeline-fit.ts` names it). */
  readonly where: string;
}

/** A pipeline's item: one step, or a parallel group. */
export type PipelineItem =
  { readonly kind: 'step'; readonly step: StepDefinition } | { readonly kind: 'parallel'; readonly steps: readonly StepDefinition[] };

/** A cache: the folder kept between pipelines and, for a keyed cache, the files whose contents key it. */
export interface CacheDefinition {
  /** `~/...` (the step's HOME) or relative to the clone. */
  readonly path: string;
  /** Glob patterns of the files keying the cache (`key.files`); empty for an unkeyed cache. */
  readonly keyFiles: readonly string[];
}

/** The pipelines of a file. */
export interface PipelineFile {
  readonly image?: string;
  /** Cache name -> folder, e.g. `npm` -> `~/.npm` (Bitbucket's predefined caches included). */
  readonly caches: Readonly<Record<string, string>>;
  /** The same caches with their keys. */
  readonly cacheDefinitions: Readonly<Record<string, CacheDefinition>>;
  readonly pullRequests: Readonly<Record<string, PipelineItem[]>>;
  readonly branches: Readonly<Record<string, PipelineItem[]>>;
  readonly custom: Readonly<Record<string, PipelineItem[]>>;
  readonly default?: PipelineItem[];
}

/** What starts a pipeline: a push to a branch, or a pull request (its source branch is what is built). */
export type PipelineTrigger =
  | { readonly branch: string }
  /** A custom pipeline, run by hand or on a schedule, on a branch. */
  | { readonly custom: string; readonly branch: string }
  | { readonly pullRequest: { readonly source: string; readonly destination: string; /** @default 1 */ readonly id?: number } };

/** The pipeline file cannot be run: the message names the file and the place. */
export class PipelineDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineDefinitionError';
  }
}

/** Bitbucket's predefined caches (usable without a definition), for the ones a Node.js project might name. */
const PREDEFINED_CACHES: Readonly<Record<string, string>> = { node: 'node_modules', pip: '~/.cache/pip', maven: '~/.m2/repository' };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
/** `image: name` or `image: { name: ... }`. */
const imageName = (image: unknown): string | undefined =>
  typeof image === 'string' ? image : isObject(image) && typeof image.name === 'string' ? image.name : undefined;

/** Reads the file's text into its pipelines; throws a {@link PipelineDefinitionError} naming the place of a problem. */
export function readPipelineFile(text: string, file = 'bitbucket-pipelines.yml'): PipelineFile {
  const document = parseDocument(text, { merge: true });
  const fail = (message: string): never => {
    throw new PipelineDefinitionError(`${file}: ${message}`);
  };
  if (document.errors.length > 0) {
    const [first] = document.errors;
    fail(`not valid YAML (line ${first.linePos?.[0].line ?? '?'}): ${first.message.split('\n')[0]}`);
  }
  const root: unknown = document.toJS();
  if (!isObject(root) || !isObject(root.pipelines)) return fail('has no "pipelines" section');
  const options = isObject(root.options) ? root.options : {};
  const defaultMaxTime = typeof options['max-time'] === 'number' ? options['max-time'] : undefined;

  const cacheDefinitions: Record<string, CacheDefinition> = {};
  for (const [name, path] of Object.entries(PREDEFINED_CACHES)) cacheDefinitions[name] = { path, keyFiles: [] };
  const definitions = isObject(root.definitions) && isObject(root.definitions.caches) ? root.definitions.caches : {};
  for (const [name, value] of Object.entries(definitions)) {
    if (typeof value === 'string') cacheDefinitions[name] = { path: value, keyFiles: [] };
    else if (isObject(value) && typeof value.path === 'string') {
      const files = isObject(value.key) && Array.isArray(value.key.files) ? value.key.files.filter((f) => typeof f === 'string') : [];
      cacheDefinitions[name] = { path: value.path, keyFiles: files as string[] };
    } else fail(`definitions.caches.${name} must be a path or { key: { files: [...] }, path }`);
  }

  const readStep = (raw: unknown, where: string, inherited: { deployment?: string; trigger?: string }): StepDefinition => {
    if (!isObject(raw)) return fail(`${where}.step must be a mapping`);
    if (!Array.isArray(raw.script) || raw.script.length === 0) return fail(`${where} has no script`);
    const script = raw.script.map((line, index) =>
      typeof line === 'string' ? line : fail(`${where}.script[${index}] is not a command (pipes are not supported by the rehearsal)`),
    );
    const artifacts = raw.artifacts;
    const paths = Array.isArray(artifacts) ? artifacts : isObject(artifacts) && Array.isArray(artifacts.paths) ? artifacts.paths : [];
    const caches = Array.isArray(raw.caches) ? raw.caches.map(String) : [];
    for (const name of caches) if (cacheDefinitions[name] === undefined) fail(`${where} uses cache "${name}", which is not defined`);
    const deployment = typeof raw.deployment === 'string' ? raw.deployment : inherited.deployment;
    const trigger = raw.trigger ?? inherited.trigger ?? 'automatic';
    if (trigger !== 'automatic' && trigger !== 'manual') fail(`${where}.trigger must be automatic or manual, not ${String(trigger)}`);
    const image = imageName(raw.image);
    const maxTime = typeof raw['max-time'] === 'number' ? raw['max-time'] : defaultMaxTime;
    return {
      name: typeof raw.name === 'string' ? raw.name : 'Build',
      script,
      oidc: raw.oidc === true || isObject(raw.oidc),
      ...(deployment === undefined ? {} : { deployment }),
      trigger: trigger as StepDefinition['trigger'],
      artifacts: paths.map(String),
      downloadArtifacts: !(isObject(artifacts) && artifacts.download === false),
      caches,
      ...(image === undefined ? {} : { image }),
      ...(maxTime === undefined ? {} : { maxTime }),
      where,
    };
  };

  const readItems = (raw: unknown, where: string): PipelineItem[] => {
    if (!Array.isArray(raw)) return fail(`${where} must be a list of steps`);
    return raw.flatMap((item: unknown, index): PipelineItem[] => {
      const at = `${where}[${index}]`;
      if (isObject(item) && item.step !== undefined) return [{ kind: 'step', step: readStep(item.step, at, {}) }];
      if (isObject(item) && item.parallel !== undefined) {
        const parallel = item.parallel;
        const [list, listAt] = isObject(parallel) ? [parallel.steps, `${at}.parallel.steps`] : [parallel, `${at}.parallel`];
        if (!Array.isArray(list)) return fail(`${listAt} must be a list of steps`);
        const steps = list.map((entry: unknown, i) =>
          isObject(entry) && entry.step !== undefined ? readStep(entry.step, `${listAt}[${i}]`, {}) : fail(`${listAt}[${i}] is not a step`),
        );
        return [{ kind: 'parallel', steps }];
      }
      if (isObject(item) && isObject(item.stage)) {
        const stage = item.stage;
        if (!Array.isArray(stage.steps)) return fail(`${at}.stage has no steps`);
        const deployment = typeof stage.deployment === 'string' ? stage.deployment : undefined;
        return stage.steps.map((entry: unknown, i): PipelineItem => {
          const inherited = { deployment, trigger: i === 0 ? (stage.trigger as string | undefined) : undefined };
          const stepAt = `${at}.stage.steps[${i}]`;
          return { kind: 'step', step: isObject(entry) ? readStep(entry.step, stepAt, inherited) : fail(`${stepAt} is not a step`) };
        });
      }
      if (isObject(item) && item.variables !== undefined) return []; // a custom pipeline's run-time variables
      return fail(`${at} is neither a step, a parallel group nor a stage`);
    });
  };

  const pipelines = root.pipelines;
  const section = (key: string): Record<string, PipelineItem[]> => {
    const value = pipelines[key];
    if (value === undefined) return {};
    if (!isObject(value)) return fail(`pipelines.${key} must be a mapping of names to pipelines`);
    return Object.fromEntries(Object.entries(value).map(([name, items]) => [name, readItems(items, `pipelines.${key}.${name}`)]));
  };
  return {
    ...(imageName(root.image) === undefined ? {} : { image: imageName(root.image) }),
    caches: Object.fromEntries(Object.entries(cacheDefinitions).map(([name, c]) => [name, c.path])),
    cacheDefinitions,
    pullRequests: section('pull-requests'),
    branches: section('branches'),
    custom: section('custom'),
    ...(pipelines.default === undefined ? {} : { default: readItems(pipelines.default, 'pipelines.default') }),
  };
}

/**
 * Whether a branch name matches a pipeline's glob as Bitbucket matches them: `*` any characters but `/`,
 * `**` any characters (`/` included), `?` one character but `/`.
 */
export function branchMatches(pattern: string, branch: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`).test(branch);
}

/** The most specific matching pattern: the exact name, else the matching glob with most literal characters (file order on ties). */
function bestMatch(patterns: readonly string[], branch: string): string | undefined {
  if (patterns.includes(branch)) return branch;
  const literal = (p: string) => p.replace(/[*?]/g, '').length;
  let best: string | undefined;
  for (const p of patterns) if (branchMatches(p, branch) && (best === undefined || literal(p) > literal(best))) best = p;
  return best;
}

/**
 * The pipeline Bitbucket runs for a push to a branch (its branch pipeline, else `default`) or for a
 * pull request (the pull-request pipeline matching its source branch). Throws when there is none.
 */
export function pipelineFor(file: PipelineFile, trigger: PipelineTrigger): { name: string; items: PipelineItem[] } {
  if ('custom' in trigger) {
    const items = file.custom[trigger.custom];
    if (items === undefined) throw new PipelineDefinitionError(`there is no custom pipeline ${trigger.custom}`);
    return { name: `pipelines.custom.${trigger.custom}`, items };
  }
  if ('pullRequest' in trigger) {
    const pattern = bestMatch(Object.keys(file.pullRequests), trigger.pullRequest.source);
    const { source } = trigger.pullRequest;
    if (pattern === undefined) throw new PipelineDefinitionError(`no pull-request pipeline matches the source branch ${source}`);
    return { name: `pipelines.pull-requests.${pattern}`, items: file.pullRequests[pattern] };
  }
  const pattern = bestMatch(Object.keys(file.branches), trigger.branch);
  if (pattern !== undefined) return { name: `pipelines.branches.${pattern}`, items: file.branches[pattern] };
  if (file.default !== undefined) return { name: 'pipelines.default', items: file.default };
  throw new PipelineDefinitionError(`no branch pipeline matches ${trigger.branch}, and there is no default pipeline`);
}

/** Every step of the items, in order (parallel groups flattened). */
export function stepsOf(items: readonly PipelineItem[]): StepDefinition[] {
  return items.flatMap((item) => (item.kind === 'step' ? [item.step] : [...item.steps]));
}
