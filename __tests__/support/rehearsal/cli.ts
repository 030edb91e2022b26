/**
 * `npm run rehearse`: runs `bitbucket-pipelines.yml` as Bitbucket would, against AWS on 127.0.0.1,
 * for the configuration `BITBUCKET_OIDC_CONFIG` names (else the bundled example): the administrator's
 * first deploy, the pull-request pipeline (test, plan), then the main pipeline (test, plan, every
 * deployment step as if started by hand). One line per step: step, role assumed, result, time. On a
 * failure it shows the tail of that step's log and exits 1; a rehearsal that cannot start exits 2.
 *
 * It lives with the test support because the local AWS decides with `@cloud-copilot/iam-simulate`, a
 * test-only dependency; `npm run rehearse` bundles it with esbuild and runs it.
 */
import * as path from 'path';
import { parseArgs } from 'util';
import { PULL_REQUEST, PUSH_TO_MAIN, Rehearsal, tail, TestStepMode } from './rehearse';
import { StepResult } from './runner';

const USAGE = `Usage: npm run rehearse [-- --quick]

Runs bitbucket-pipelines.yml step by step, as Bitbucket runs it, against a local STS, S3 and IAM
(127.0.0.1), for the configuration BITBUCKET_OIDC_CONFIG names (else config/example.json).
  --quick   step 1 links node_modules instead of npm ci, and runs only the suite that checks your
            configuration instead of the whole npm test (the whole rehearsal takes about a minute then)
Exit codes: 0 every step passed; 1 a step failed; 2 the rehearsal could not start.`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const root = path.resolve(__dirname, '..', '..', '..');
  const configFile = process.env.BITBUCKET_OIDC_CONFIG?.trim() || 'config/example.json';
  const testStep: TestStepMode = values.quick === true ? 'quick' : 'exact';
  const started = Date.now();
  let rehearsal: Rehearsal;
  try {
    rehearsal = await Rehearsal.start({ root, configFile, testStep, out: (line) => console.log(`rehearse: ${line}`) });
  } catch (error) {
    console.error(`error: the rehearsal could not start: ${(error as Error).message}`);
    return 2;
  }
  try {
    await rehearsal.firstDeploy();
    for (const trigger of [PULL_REQUEST, PUSH_TO_MAIN]) {
      const run = await rehearsal.pipeline(trigger);
      const failed = run.results.find((r) => !r.passed);
      if (failed !== undefined) return report(failed);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    console.log(`rehearse: every step passed for ${configFile} in ${seconds} s`);
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    await rehearsal.stop();
  }
}

function report(failed: StepResult): number {
  console.error(`error: step "${failed.step.name}" (${failed.step.where}) failed with exit code ${failed.exitCode}; the end of its log:`);
  console.error(tail(failed.log));
  return 1;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`error: a bug in the rehearsal: ${(error as Error).stack ?? error}`);
  process.exit(3);
});
