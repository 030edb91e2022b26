/**
 * The deployment steps of `bitbucket-pipelines.yml` for a configuration, ready to paste under
 * `pipelines: branches: main:` (`npm run pipeline-steps`): one step per account, in the
 * configuration's order, each with the `&deploy` step of `definitions`, the account's environment
 * (named like the account; see `fit.ts`) and `trigger: manual`, so that a person reads the plan the
 * plan step made (`plans/<stack>.txt`) before the deploy step applies it.
 */
import { existsSync } from 'fs';
import * as path from 'path';
import { CONFIG_ENV_VAR, loadConfig } from '../config/load';
import { ResolvedConfig } from '../config/types';
import { ConfigError } from '../config/validate';
import { PIPELINE_FILE, pipelineFitWarnings } from './pipeline-fit';
import { CommandOptions } from './reviewed-plan';

/** Indentation of a step in `pipelines: branches: main:` of the committed file. */
const ITEM_INDENT = ' '.repeat(6);

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

/** The snippet for every account of the configuration, with a comment saying where it goes. */
export function deploymentStepsSnippet(config: ResolvedConfig, configFile: string): string {
  const accounts = config.accounts.map((a) => a.name);
  const comment = (line: string) => `${ITEM_INDENT}# ${line}`;
  return [
    comment(`Deployment steps for ${configFile} (accounts ${accounts.join(', ')}): paste them under`),
    comment('pipelines: branches: main: in bitbucket-pipelines.yml, after the plan step. Each step applies'),
    comment('the account named like its deployment environment: create the environments with these names'),
    comment("(Repository settings > Deployments) and copy each one's UUID into its account's deploymentEnvironment."),
    ...accounts.flatMap(deploymentStepLines),
  ].join('\n');
}

/** `pipeline-steps`: the snippet on stdout; 1 when the configuration is invalid. */
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
