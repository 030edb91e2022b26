/**
 * Does `bitbucket-pipelines.yml` fit the configuration? Every account needs a deployment step, or the
 * pipeline never applies its workload stack; a deployment step of an environment that names no
 * account fails in the pipeline (the deploy step finds no stack).
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
import { ResolvedConfig } from '../config/types';

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
  const visit = (items: unknown, where: string, stageEnvironment?: string): void => {
    if (!Array.isArray(items)) return;
    items.forEach((item: unknown, index) => {
      if (!isObject(item)) return;
      const at = `${where}[${index}]`;
      if (isObject(item.step)) {
        const environment = typeof item.step.deployment === 'string' ? item.step.deployment : stageEnvironment;
        if (environment !== undefined) {
          steps.push({ environment, ...(typeof item.step.name === 'string' ? { name: item.step.name } : {}), where: at });
        }
      }
      if (isObject(item.stage)) {
        const environment = typeof item.stage.deployment === 'string' ? item.stage.deployment : stageEnvironment;
        visit(item.stage.steps, `${at}.stage.steps`, environment);
      }
      const parallel = item.parallel;
      if (Array.isArray(parallel)) visit(parallel, `${at}.parallel`, stageEnvironment);
      else if (isObject(parallel)) visit(parallel.steps, `${at}.parallel.steps`, stageEnvironment);
    });
  };
  for (const [kind, value] of Object.entries(pipelines)) {
    if (kind === 'default') visit(value, 'pipelines.default');
    else if (isObject(value)) for (const [name, items] of Object.entries(value)) visit(items, `pipelines.${kind}.${name}`);
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
