/**
 * Runs a pipeline's steps as Bitbucket Pipelines runs them, on this machine: it stands in for the
 * Pipelines runner and the step's container. Each step gets a fresh clone of the commit holding only
 * the artifacts of earlier steps, a fresh HOME with its caches restored, a temp folder of its own (the
 * container's /tmp), and an environment built from nothing: no variable of the calling process
 * leaks in (the suite itself runs inside Bitbucket, where CI, BITBUCKET_* and BITBUCKET_OIDC_CONFIG are
 * set). The script runs in one bash, line by line, each echoed as `+ <line>`; the first failing line
 * ends the step with its exit code; the time limit kills the step's whole process group.
 * Not reproduced: the image (the step runs on this machine, with Node.js 24 first on the PATH),
 * services, pipes, after-script, masking of secured variables, and the clone depth.
 * @see https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import { createHash, randomUUID } from 'crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { cp } from 'fs/promises';
import * as path from 'path';
import { promisify } from 'util';
import { ArtifactSet, ArtifactStore, collectArtifacts } from './artifacts';
import { CacheDefinition, PipelineItem, PipelineTrigger, StepDefinition } from './pipeline-file';

/** The Bitbucket repository the pipeline belongs to, as its BITBUCKET_* variables name it. */
export interface BitbucketRepository {
  /** With or without braces; the step sees it with braces, as Bitbucket sets it. */
  readonly uuid: string;
  readonly workspace: string;
  readonly slug: string;
}

/** How to run steps. */
export interface RunnerOptions {
  /** A git repository to clone from (a folder). */
  readonly repository: string;
  /** The commit each step clones. */
  readonly commit: string;
  /** A folder the runner owns (clones, homes, artifacts, scripts); the caller removes it. */
  readonly workRoot: string;
  /** Node.js 24's bin folder: first on the PATH after the step's own bin (see `node24.ts`). */
  readonly nodeBinDir: string;
  /** Repository variables (and the rehearsal's endpoint settings). */
  readonly variables: Readonly<Record<string, string>>;
  /** Deployment variables per environment name. */
  readonly deploymentVariables?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly bitbucketRepository: BitbucketRepository;
  /** Environment name -> UUID (braces as Bitbucket sets them); every deployment step's environment must be here. */
  readonly deploymentEnvironments: Readonly<Record<string, string>>;
  /** The pipeline file's caches (`PipelineFile.cacheDefinitions`); needed when a step names a cache. */
  readonly cacheDefinitions?: Readonly<Record<string, CacheDefinition>>;
  /** Folder of the caches kept between pipelines, as Bitbucket keeps them. */
  readonly caches: string;
  /** Cache name -> an existing folder linked in (not copied) when the cache is absent (e.g. npm -> ~/.npm); nothing is kept from it. */
  readonly seedCaches?: Readonly<Record<string, string>>;
  /** Extra variables per step (e.g. BITBUCKET_STEP_OIDC_TOKEN for oidc steps); gets the step's BITBUCKET_* values. */
  readonly stepEnvironment?: (step: StepDefinition, bitbucket: Readonly<Record<string, string>>) => Promise<Record<string, string>>;
  /** Replaces a script line (e.g. to skip a recursive test run); the note is printed in the log after the line. */
  readonly rewriteLine?: (line: string, step: StepDefinition) => { line: string; note?: string };
  /** One line per finished step: its name, result and time. */
  readonly onOutput?: (line: string) => void;
  /** Told of the artifacts a passed step kept, before any later step gets them (the store's copies may be changed). */
  readonly onArtifacts?: (artifacts: ArtifactSet) => void;
  /** A time limit for every step, when shorter than the step's max-time. */
  readonly stepTimeoutSeconds?: number;
  /** BITBUCKET_BUILD_NUMBER. @default 1 */
  readonly buildNumber?: number;
}

/** What a step did. */
export interface StepResult {
  readonly step: StepDefinition;
  readonly passed: boolean;
  /** The failing line's exit code (0 when passed); null when the step was killed. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly seconds: number;
  /** Everything the step printed (stdout and stderr, in order), with the `+ <line>` echoes. */
  readonly log: string;
  readonly stepUuid: string;
  /** The step's clone (BITBUCKET_CLONE_DIR), left for the caller to inspect. */
  readonly cloneDir: string;
  /** The artifacts the step kept (passed steps only). */
  readonly artifacts?: ArtifactSet;
}

const DEFAULT_MAX_TIME_MINUTES = 120; // Bitbucket's default max-time
const braced = (uuid: string): string => (uuid.startsWith('{') ? uuid : `{${uuid}}`);
const run = promisify(execFile);

/**
 * Runs the pipeline's items in order: a parallel group's steps run together, each seeing only the
 * artifacts of the items before the group. Stops after the first failed step (or group). Manual
 * steps run as if a person started them.
 */
export async function runPipeline(items: readonly PipelineItem[], trigger: PipelineTrigger, options: RunnerOptions): Promise<StepResult[]> {
  const pipelineUuid = braced(randomUUID());
  const results: StepResult[] = [];
  let artifacts: ArtifactSet[] = [];
  for (const item of items) {
    const steps = item.kind === 'step' ? [item.step] : item.steps;
    const group = await Promise.all(steps.map((step) => runStep(step, trigger, artifacts, options, pipelineUuid)));
    results.push(...group);
    if (group.some((r) => !r.passed)) break;
    artifacts = [...artifacts, ...group.flatMap((r) => (r.artifacts === undefined ? [] : [r.artifacts]))];
  }
  return results;
}

/** Runs one step (also on its own, to re-run a step with the artifacts its earlier steps kept). */
export async function runStep(
  step: StepDefinition,
  trigger: PipelineTrigger,
  artifactsBefore: readonly ArtifactSet[],
  options: RunnerOptions,
  pipelineUuid: string = braced(randomUUID()),
): Promise<StepResult> {
  const started = Date.now();
  const stepUuid = braced(randomUUID());
  mkdirSync(path.join(options.workRoot, 'steps'), { recursive: true });
  const slug = step.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40);
  const stepDir = mkdtempSync(path.join(options.workRoot, 'steps', `${slug}-`));
  const [cloneDir, home, bin, tmp] = ['build', 'home', 'bin', 'tmp'].map((name) => path.join(stepDir, name));
  const store = new ArtifactStore(path.join(options.workRoot, 'artifacts'));
  for (const folder of [home, bin, tmp]) mkdirSync(folder);

  const branch = 'pullRequest' in trigger ? trigger.pullRequest.source : trigger.branch;
  const gitEnv = { PATH: '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
  await run('git', ['clone', '--quiet', '--no-checkout', options.repository, cloneDir], { env: gitEnv });
  await run('git', ['-C', cloneDir, 'checkout', '--quiet', '-B', branch, options.commit], { env: gitEnv });
  if (step.downloadArtifacts) store.restore(artifactsBefore, cloneDir);
  const caches = await restoreCaches(step, { cloneDir, home }, options);

  const bitbucket = bitbucketVariables(step, trigger, { cloneDir, stepUuid, pipelineUuid }, options);
  const env: Record<string, string> = {
    PATH: `${bin}:${options.nodeBinDir}:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    TMPDIR: tmp,
    CI: 'true',
    TERRAFORM_INSTALL_DIR: bin, // the step's bin stands for the image's /usr/local/bin
    ...bitbucket,
    ...options.variables,
    ...(step.deployment === undefined ? {} : options.deploymentVariables?.[step.deployment]),
    ...(options.stepEnvironment === undefined ? {} : await options.stepEnvironment(step, bitbucket)),
  };
  const scriptFile = path.join(stepDir, 'script.sh');
  writeFileSync(scriptFile, stepScript(step, options.rewriteLine));
  const limit = Math.min(options.stepTimeoutSeconds ?? Infinity, (step.maxTime ?? DEFAULT_MAX_TIME_MINUTES) * 60);
  const outcome = await runScript(scriptFile, { cwd: cloneDir, env, timeoutSeconds: limit });

  const passed = outcome.exitCode === 0;
  const artifacts = passed ? store.save(step.where, cloneDir, step.artifacts) : undefined;
  if (artifacts !== undefined) options.onArtifacts?.(artifacts);
  if (passed) await saveCaches(caches, options);
  const seconds = (Date.now() - started) / 1000;
  const result = passed ? 'passed' : outcome.timedOut ? `timed out after ${limit} s` : `failed (exit code ${outcome.exitCode})`;
  const manual = step.trigger === 'manual' ? ' (manual step, run as if started by hand)' : '';
  options.onOutput?.(`step "${step.name}" ${result} in ${seconds.toFixed(1)} s${manual}`);
  return {
    step,
    passed,
    exitCode: outcome.exitCode,
    timedOut: outcome.timedOut,
    seconds,
    log: outcome.log,
    stepUuid,
    cloneDir,
    ...(artifacts === undefined ? {} : { artifacts }),
  };
}

/** The BITBUCKET_* variables of a step, as Bitbucket sets them. */
function bitbucketVariables(
  step: StepDefinition,
  trigger: PipelineTrigger,
  ids: { cloneDir: string; stepUuid: string; pipelineUuid: string },
  options: RunnerOptions,
): Record<string, string> {
  const { uuid, workspace, slug } = options.bitbucketRepository;
  const variables: Record<string, string> = {
    BITBUCKET_BUILD_NUMBER: String(options.buildNumber ?? 1),
    BITBUCKET_CLONE_DIR: ids.cloneDir,
    BITBUCKET_COMMIT: options.commit,
    BITBUCKET_BRANCH: 'pullRequest' in trigger ? trigger.pullRequest.source : trigger.branch,
    ...('pullRequest' in trigger
      ? { BITBUCKET_PR_ID: String(trigger.pullRequest.id ?? 1), BITBUCKET_PR_DESTINATION_BRANCH: trigger.pullRequest.destination }
      : {}),
    BITBUCKET_REPO_UUID: braced(uuid),
    BITBUCKET_REPO_SLUG: slug,
    BITBUCKET_REPO_FULL_NAME: `${workspace}/${slug}`,
    BITBUCKET_WORKSPACE: workspace,
    BITBUCKET_STEP_UUID: ids.stepUuid,
    BITBUCKET_PIPELINE_UUID: ids.pipelineUuid,
  };
  if (step.deployment !== undefined) {
    const environmentUuid = options.deploymentEnvironments[step.deployment];
    if (environmentUuid === undefined) {
      throw new Error(`step "${step.name}" (${step.where}) deploys to "${step.deployment}", not among the deployment environments given`);
    }
    variables.BITBUCKET_DEPLOYMENT_ENVIRONMENT = step.deployment;
    variables.BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID = braced(environmentUuid);
  }
  return variables;
}

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** The step's script for one bash: each line echoed, run, and its failure ending the script with its exit code. */
function stepScript(step: StepDefinition, rewrite: RunnerOptions['rewriteLine']): string {
  return step.script
    .map((original) => {
      const { line, note } = rewrite?.(original, step) ?? { line: original };
      const echo = `printf '%s\\n' ${shellQuote(`+ ${original}`)}${note === undefined ? '' : ` ${shellQuote(`  (rehearsal: ${note})`)}`}`;
      return `${echo}\n${line}\n__step_status=$?; if [ "$__step_status" -ne 0 ]; then exit "$__step_status"; fi\n`;
    })
    .join('');
}

/** Runs the script in its own process group; the time limit, and the end of the step, kill the whole group. */
function runScript(
  file: string,
  options: { cwd: string; env: Record<string, string>; timeoutSeconds: number },
): Promise<{ exitCode: number | null; timedOut: boolean; log: string }> {
  return new Promise((resolve, reject) => {
    const { cwd, env } = options;
    const child: ChildProcess = spawn('/bin/bash', [file], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = Number.isFinite(options.timeoutSeconds)
      ? setTimeout(() => {
          timedOut = true;
          killGroup();
        }, options.timeoutSeconds * 1000)
      : undefined;
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    let exitCode: number | null = null;
    let finished = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(grace);
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (timedOut) chunks.push(Buffer.from(`\nThe step exceeded its time limit of ${options.timeoutSeconds} s and was stopped.\n`));
      resolve({ exitCode: timedOut ? null : exitCode, timedOut, log: Buffer.concat(chunks).toString('utf8') });
    };
    child.on('exit', (code) => {
      clearTimeout(timer);
      exitCode = code;
      killGroup(); // the container ends with the step: nothing it started in the background survives
      grace = setTimeout(finish, 2000); // a process that left the group could keep stdout open: wait for it at most 2 s
    });
    child.on('close', finish);
  });
}

/** A step's cache: where the step has it, and where it is kept between pipelines. */
interface StepCache {
  readonly inStep: string;
  readonly kept: string;
}

/** Restores the step's caches from the kept ones (or the seeds) into its HOME or clone. */
async function restoreCaches(step: StepDefinition, dirs: { cloneDir: string; home: string }, options: RunnerOptions): Promise<StepCache[]> {
  const caches: StepCache[] = [];
  for (const name of step.caches) {
    const definition = options.cacheDefinitions?.[name];
    if (definition === undefined) throw new Error(`${step.where}: cache "${name}" is not in RunnerOptions.cacheDefinitions`);
    const inStep = cachePath(definition.path, dirs);
    const kept = path.join(options.caches, `${name}${cacheKey(definition, dirs.cloneDir)}`);
    const seed = options.seedCaches?.[name];
    if (existsSync(kept)) {
      await cp(kept, inStep, { recursive: true, verbatimSymlinks: true });
    } else if (seed !== undefined && existsSync(seed)) {
      // A seed is linked, not copied: it is the machine's own cache (npm's is hundreds of megabytes).
      mkdirSync(path.dirname(inStep), { recursive: true });
      symlinkSync(seed, inStep);
    }
    caches.push({ inStep, kept });
  }
  return caches;
}

/** Keeps the caches the pipelines do not have yet (Bitbucket never replaces a kept cache). */
async function saveCaches(caches: readonly StepCache[], options: RunnerOptions): Promise<void> {
  mkdirSync(options.caches, { recursive: true });
  for (const { inStep, kept } of caches) {
    const linkedSeed = existsSync(inStep) && lstatSync(inStep).isSymbolicLink();
    if (!existsSync(kept) && existsSync(inStep) && !linkedSeed) await cp(inStep, kept, { recursive: true, verbatimSymlinks: true });
  }
}

/** `~/...` is in the step's HOME; a relative path in its clone. */
function cachePath(cache: string, dirs: { cloneDir: string; home: string }): string {
  if (cache === '~' || cache.startsWith('~/')) return path.join(dirs.home, cache.slice(1));
  if (path.isAbsolute(cache)) throw new Error(`cache path ${cache}: absolute paths outside HOME are not supported by the rehearsal`);
  return path.join(dirs.cloneDir, cache);
}

/** A keyed cache's key: the hash of its key files' contents (so a new lock file starts a new cache). */
function cacheKey(definition: CacheDefinition, cloneDir: string): string {
  if (definition.keyFiles.length === 0) return '';
  const hash = createHash('sha256');
  for (const file of collectArtifacts(cloneDir, definition.keyFiles)) {
    hash.update(`${file}\0`).update(readFileSync(path.join(cloneDir, file)));
  }
  return `-${hash.digest('hex').slice(0, 16)}`;
}
