/**
 * The one suite that checks the USER's configuration, on purpose: the file `BITBUCKET_OIDC_CONFIG`
 * names (a repository variable in Bitbucket; the bundled example when unset), against the committed
 * `bitbucket-pipelines.yml`. It fails the pipeline's test step when an account of the configuration
 * has no deployment step, or a deployment step names no account. Every other suite is hermetic to
 * that variable (`support/hermetic-env.ts`).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { loadConfig } from '../src/config/load';
import { deploymentSteps, pipelineFitProblems, PIPELINE_FILE } from '../src/ci';
import { ROOT } from './support/synth';

describe("the committed pipeline and the user's configuration", () => {
  const loaded = loadConfig(process.env, ROOT);
  const configFile = path.relative(ROOT, loaded.file);

  it(`gives every account of ${configFile} a deployment step, and no deployment step to another account`, () => {
    const steps = deploymentSteps(readFileSync(path.join(ROOT, PIPELINE_FILE), 'utf8'));

    expect(steps.length).toBeGreaterThan(0);
    expect(pipelineFitProblems(loaded.config, steps, { configFile, pipelineFile: PIPELINE_FILE })).toEqual([]);
  });
});
