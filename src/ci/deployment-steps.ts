/**
 * The deployment steps of `bitbucket-pipelines.yml` for a configuration, ready to paste under
 * `pipelines: branches: main:` (`npm run pipeline-steps`): one step per account, each with the
 * `&deploy` step of `definitions`, the account's environment (named like the account; see
 * `pipeline-fit.ts`) and `trigger: manual`, so that a person reads the plan the plan step made
 * (`plans/<stack>.txt`) before the deploy step applies it. The steps follow Bitbucket's order of
 * environment types (`deployment-order.ts`), and a configuration with more accounts than one
 * pipeline holds steps is refused.
 */
import { existsSync } from 'fs';
import * as path from 'path';
import { CONFIG_ENV_VAR, loadConfig } from '../config/load';
import { RESOLVE_COMMAND } from '../config/lock';
import { ResolvedConfig } from '../config/types';
import { ConfigError } from '../config/validate';
import { deploymentKind, deploymentOrder, PIPELINE_MAX_STEPS } from './deployment-order';
import { PIPELINE_FILE, pipelineFitWarnings } from './pipeline-fit';
import { CommandOptions } from './reviewed-plan';

/** Indentation of a step in `pipelines: branches: main:` of the committed file. */
const ITEM_INDENT = ' '.repeat(6);

/** The steps of the committed pipeline's `main` that run before the deployment steps: test and synthesize, plan. */
const STEPS_BEFORE_DEPLOYMENTS = 2;

/** The most accounts one pipeline can deploy, one step each. */
export const MAX_DEPLOYMENT_STEPS = PIPELINE_MAX_STEPS - STEPS_BEFORE_DEPLOYMENTS;

/** One account's deployment step, as YAML lines at the list's indentation. */
export function deploymentStepLines(account: string): string[] {
  return [
    `${ITEM_INDENT}- step:`,
    `${ITEM_INDENT}    <<: *deploy`,
    `${ITEM_INDENT}    name: Deploy ${account}`,
    `${ITEM_INDENT}    deployment: ${account}`,
    `${ITEM_INDENT}    trigger: manual`,
  ];
}

/**
 * The snippet for every account of the configuration, in Bitbucket's order, with a comment saying
 * where it goes and in which order the steps are.
 */
export function deploymentStepsSnippet(config: ResolvedConfig, configFile: string): string {
  const ordered = deploymentOrder(config.accounts);
  const accounts = ordered.map((a) => a.name);
  const kinds = ordered.map((a) => {
    const { type, rank } = deploymentKind(a);
    return type === undefined ? `${a.name} (type unknown)` : `${a.name} (${type}${rank === undefined ? '' : `, rank ${rank}`})`;
  });
  const comment = (line: string) => `${ITEM_INDENT}# ${line}`;
  return [
    comment(`Deployment steps for ${configFile}: paste them under pipelines: branches: main: in`),
    comment('bitbucket-pipelines.yml, after the plan step. Each step applies the account named like its'),
    comment("deployment environment (Repository settings > Deployments; the account's deploymentEnvironment)."),
    comment(`Bitbucket runs them in the order of their environments' types, Test, Staging, Production:`),
    comment(kinds.join(', ')),
    ...accounts.flatMap(deploymentStepLines),
  ].join('\n');
}

/** `pipeline-steps`: the snippet on stdout; 1 when the configuration is invalid or has more accounts than one pipeline holds steps. */
export function runPipelineSteps(options: CommandOptions & { readonly env: NodeJS.ProcessEnv; readonly cwd: string }): number {
  const { stdout, stderr, env, cwd } = options;
  let loaded;
  try {
    loaded = loadConfig(env, cwd);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    stderr(`error: ${error.message}`);
    return 1;
  }
  const configFile = path.relative(cwd, loaded.file) || loaded.file;
  if (loaded.isExample) {
    stderr(
      `note: ${CONFIG_ENV_VAR} is not set, so the steps are those of the bundled example ${configFile}; set ${CONFIG_ENV_VAR}=path/to/your-config.json`,
    );
  }
  if (loaded.config.pipeline === undefined) {
    stderr(
      `note: ${configFile} has no "pipeline" section, so its accounts have no deploy role and no deployment step can apply them; add "pipeline" (see docs/configuration.md, "The pipeline roles") before pasting these steps`,
    );
  }
  const deployments = loaded.config.accounts.length;
  if (deployments > MAX_DEPLOYMENT_STEPS) {
    stderr(
      `error: ${configFile} has ${deployments} accounts, and one pipeline holds at most ${PIPELINE_MAX_STEPS} steps, so at most ${MAX_DEPLOYMENT_STEPS} deployment steps after the test and plan steps: Bitbucket would refuse the pipeline; split the accounts over several configurations, each with its own pipeline`,
    );
    return 1;
  }
  const unknown = loaded.config.accounts.filter((a) => a.deploymentEnvironment !== undefined && deploymentKind(a).type === undefined);
  if (unknown.length > 0 && unknown.length < deployments) {
    stderr(
      `note: the lock file does not give the environment type of ${unknown.map((a) => a.name).join(', ')}, so their steps keep the configuration's place; run ${RESOLVE_COMMAND} to order them too`,
    );
  }
  stdout(deploymentStepsSnippet(loaded.config, configFile));
  if (!existsSync(path.join(cwd, PIPELINE_FILE))) {
    stderr(`note: there is no ${PIPELINE_FILE} in ${cwd} to compare the steps with`);
    return 0;
  }
  const warnings = pipelineFitWarnings(loaded.config, { cwd, configFile });
  for (const warning of warnings) stderr(`warning: ${warning}`);
  if (warnings.length === 0 && loaded.config.pipeline !== undefined) {
    stderr(`note: the deployment steps of ${PIPELINE_FILE} already cover exactly the accounts of ${configFile}`);
  }
  return 0;
}
