/**
 * Does `bitbucket-pipelines.yml` fit the configuration? Every account needs a deployment step, or the
 * pipeline never applies its workload stack; a deployment step of an environment that names no
 * account fails in the pipeline (the deploy step finds no stack); and deployment steps out of
 * Bitbucket's order of environment types (Test, Staging, Production, from the lock file), or a
 * parallel group that mixes types, make Bitbucket refuse the whole pipeline.
 *
 * The convention: a deployment step's environment (`deployment: <name>`) is named exactly like the
 * account it applies. The deploy step applies `${OIDC_ACCOUNT:-$BITBUCKET_DEPLOYMENT_ENVIRONMENT}`, and
 * the `OIDC_ACCOUNT` deployment variable lives in Bitbucket's settings, out of sight of this file, so
 * an environment named otherwise cannot be checked and is reported.
 *
 * The file is read with the `yaml` package, with YAML 1.1 merge keys (`<<: *deploy`, as the committed
 * pipeline uses): a step's `deployment` often comes from an anchor, which a line-by-line reader would
 * attribute to the wrong step or miss.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { parseDocument } from 'yaml';
import { ResolvedAccount, ResolvedConfig } from '../config/types';
import { deploymentKind, DeploymentKind, mayFollow } from './deployment-order';

/** The pipeline file Bitbucket reads, at the repository's root. */
export const PIPELINE_FILE = 'bitbucket-pipelines.yml';

/** A step that declares `deployment:` (or a step of a stage that does). */
export interface DeploymentStep {
  /** The deployment environment's name: by convention, the account's. */
  readonly environment: string;
  /** The step's `name`, when it has one. */
  readonly name?: string;
  /** Where the step is, e.g. `pipelines.branches.main[2]`. */
  readonly where: string;
  /** The pipeline the step is in, e.g. `pipelines.branches.main`. */
  readonly pipeline: string;
  /** Where its parallel group is, when it is in one, e.g. `pipelines.branches.main[2].parallel`. */
  readonly parallelGroup?: string;
}

/** The pipeline file cannot be read as YAML. */
export class PipelineFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineFileError';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every deployment step of every pipeline of the file (`default`, `branches`, `tags`, `bookmarks`,
 * `pull-requests`, `custom`), in file order; steps in parallel groups and stages included. Steps
 * that are only defined (under `definitions`) and never used are not deployment steps.
 */
export function deploymentSteps(text: string, file = PIPELINE_FILE): DeploymentStep[] {
  const document = parseDocument(text, { merge: true });
  if (document.errors.length > 0) {
    const [first] = document.errors;
    const line = first.linePos?.[0].line;
    throw new PipelineFileError(`${file} is not valid YAML${line === undefined ? '' : ` (line ${line})`}: ${first.message.split('\n')[0]}`);
  }
  const root: unknown = document.toJS();
  const pipelines = isObject(root) ? root.pipelines : undefined;
  if (!isObject(pipelines)) return [];

  const steps: DeploymentStep[] = [];
  const visit = (items: unknown, where: string, inherited: { pipeline: string; environment?: string; parallelGroup?: string }): void => {
    if (!Array.isArray(items)) return;
    items.forEach((item: unknown, index) => {
      if (!isObject(item)) return;
      const at = `${where}[${index}]`;
      if (isObject(item.step)) {
        const environment = typeof item.step.deployment === 'string' ? item.step.deployment : inherited.environment;
        if (environment !== undefined) {
          steps.push({
            environment,
            ...(typeof item.step.name === 'string' ? { name: item.step.name } : {}),
            where: at,
            pipeline: inherited.pipeline,
            ...(inherited.parallelGroup === undefined ? {} : { parallelGroup: inherited.parallelGroup }),
          });
        }
      }
      if (isObject(item.stage)) {
        const environment = typeof item.stage.deployment === 'string' ? item.stage.deployment : inherited.environment;
        visit(item.stage.steps, `${at}.stage.steps`, { ...inherited, ...(environment === undefined ? {} : { environment }) });
      }
      const parallel = item.parallel;
      const group = `${at}.parallel`;
      if (Array.isArray(parallel)) visit(parallel, group, { ...inherited, parallelGroup: group });
      else if (isObject(parallel)) visit(parallel.steps, `${group}.steps`, { ...inherited, parallelGroup: group });
    });
  };
  for (const [kind, value] of Object.entries(pipelines)) {
    if (kind === 'default') visit(value, 'pipelines.default', { pipeline: 'pipelines.default' });
    else if (isObject(value)) {
      for (const [name, items] of Object.entries(value))
        visit(items, `pipelines.${kind}.${name}`, { pipeline: `pipelines.${kind}.${name}` });
    }
  }
  return steps;
}

/** Names of the two files, as the user would type them, for messages. */
export interface FitSources {
  readonly configFile: string;
  readonly pipelineFile: string;
}

/**
 * Problems between the configuration's accounts and the pipeline's deployment steps, one sentence
 * each: accounts without a deployment step, then deployment steps whose environment names no
 * account. Empty when the configuration has no `pipeline` section (no deploy role: nothing to apply).
 */
export function pipelineFitProblems(config: ResolvedConfig, steps: readonly DeploymentStep[], sources: FitSources): string[] {
  if (config.pipeline === undefined) return [];
  const { configFile, pipelineFile } = sources;
  const accounts = config.accounts.map((a) => a.name);
  const problems: string[] = [];
  for (const account of accounts) {
    if (steps.some((s) => s.environment === account)) continue;
    problems.push(
      `account "${account}" of ${configFile} has no deployment step in ${pipelineFile}, so the pipeline never applies its workload stack: add a step with "deployment: ${account}" (the environment is named like the account; npm run pipeline-steps prints the steps to paste)`,
    );
  }
  for (const step of steps) {
    if (accounts.includes(step.environment)) continue;
    const sameButCase = accounts.find((a) => a.toLowerCase() === step.environment.toLowerCase());
    const suggestion = sameButCase === undefined ? '' : `; did you mean "${sameButCase}"?`;
    const label = step.name === undefined ? step.where : `"${step.name}" (${step.where})`;
    problems.push(
      `${pipelineFile}: step ${label} has "deployment: ${step.environment}", and ${configFile} has no account "${step.environment}" (its accounts are ${accounts.join(', ')})${suggestion}: a deployment step applies the account named exactly like its environment, so rename the environment to its account or remove the step`,
    );
  }
  problems.push(...orderProblems(config.accounts, steps, pipelineFile));
  return problems;
}

/** A step as messages name it. */
const stepLabel = (step: DeploymentStep) => (step.name === undefined ? step.where : `"${step.name}" (${step.where})`);

/**
 * Bitbucket's order rule, for the steps whose environment is an account's with a known type: in each
 * pipeline, no step of a lower type after one of a higher type, and one type per parallel group.
 */
function orderProblems(accounts: readonly ResolvedAccount[], steps: readonly DeploymentStep[], pipelineFile: string): string[] {
  const kinds = new Map(accounts.map((a) => [a.name, deploymentKind(a)]));
  const problems: string[] = [];
  /** Per pipeline, the step of the highest type so far; per parallel group, its first typed step. */
  const highest = new Map<string, { step: DeploymentStep; kind: DeploymentKind }>();
  const groups = new Map<string, { step: DeploymentStep; kind: DeploymentKind }>();
  for (const step of steps) {
    const kind = kinds.get(step.environment);
    if (kind?.type === undefined) continue;
    const before = highest.get(step.pipeline);
    const sameGroup = before !== undefined && step.parallelGroup !== undefined && before.step.parallelGroup === step.parallelGroup;
    if (before !== undefined && !sameGroup && !mayFollow(before.kind, kind)) {
      problems.push(
        `${pipelineFile}: step ${stepLabel(step)} deploys to ${step.environment}, a ${kind.type} environment, after step ${stepLabel(before.step)} deployed to ${before.step.environment}, a ${before.kind.type} one: Bitbucket requires deployment steps in the order Test, Staging, Production and refuses the pipeline; move the step before it (npm run pipeline-steps prints the steps in order)`,
      );
      continue;
    }
    if (before === undefined || !mayFollow(kind, before.kind)) highest.set(step.pipeline, { step, kind });
    if (step.parallelGroup === undefined) continue;
    const first = groups.get(step.parallelGroup);
    if (first === undefined) groups.set(step.parallelGroup, { step, kind });
    else if (first.kind.type !== kind.type) {
      problems.push(
        `${pipelineFile}: the parallel group ${step.parallelGroup} deploys to ${first.step.environment}, a ${first.kind.type} environment, and to ${step.environment}, a ${kind.type} one: Bitbucket requires all deployment steps of a parallel group to share one type and refuses the pipeline; put them in groups of one type each`,
      );
    }
  }
  return problems;
}

/**
 * The synth's check: the pipeline file in `cwd` against the configuration, as warning sentences.
 * Nothing when there is no pipeline file (the stacks are applied otherwise) or no `pipeline` section.
 */
export function pipelineFitWarnings(config: ResolvedConfig, options: { readonly cwd: string; readonly configFile: string }): string[] {
  const file = path.join(options.cwd, PIPELINE_FILE);
  if (config.pipeline === undefined || !existsSync(file)) return [];
  const pipelineFile = path.relative(options.cwd, file) || file;
  let steps: DeploymentStep[];
  try {
    steps = deploymentSteps(readFileSync(file, 'utf8'), pipelineFile);
  } catch (error) {
    const reason =
      error instanceof PipelineFileError
        ? error.message
        : `${pipelineFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    return [`${reason}, so its deployment steps were not checked against ${options.configFile}`];
  }
  return pipelineFitProblems(config, steps, { configFile: options.configFile, pipelineFile });
}
