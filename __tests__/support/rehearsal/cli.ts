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
import { readFileSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { lockPathFor, lockText, parseLock } from '../../../src/config/lock';
import { LockNames } from '../../../src/config/names';
import { readConfigFile } from '../../../src/config/load';
import { validateConfig } from '../../../src/config/validate';
import { PIPELINE_FILE } from '../../../src/ci';
import { DOCUMENTED_CONFIGS_PAGE, documentedConfigs } from '../terraform/stacks';
import { PULL_REQUEST, PUSH_TO_MAIN, Rehearsal, tail, TestStepMode, withDeploymentStepsFor } from './rehearse';
import { StepResult } from './runner';

const USAGE = `Usage: npm run rehearse [-- --quick] [--fit-pipeline] [--documented]

Runs bitbucket-pipelines.yml step by step, as Bitbucket runs it, against a local STS, S3 and IAM
(127.0.0.1), for the configuration BITBUCKET_OIDC_CONFIG names (else config/example.json).
  --quick   step 1 links node_modules instead of npm ci, and runs only the suite that checks your
            configuration instead of the whole npm test (the whole rehearsal takes about a minute then)
  --fit-pipeline
            rehearses bitbucket-pipelines.yml with its deployment steps replaced by those
            npm run pipeline-steps prints for the configuration, as you would paste them
  --documented
            rehearses each complete configuration of docs/configuration.md instead, as a new user
            would (the configuration added to the commit, and --fit-pipeline)
Exit codes: 0 every step passed; 1 a step failed; 2 the rehearsal could not start.`;

/** One configuration to rehearse: its path in the repository, and the files added to the commit. */
interface Subject {
  readonly configFile: string;
  readonly files?: Readonly<Record<string, string>>;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      'fit-pipeline': { type: 'boolean' },
      documented: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const root = process.cwd();
  const testStep: TestStepMode = values.quick === true ? 'quick' : 'exact';
  const pipeline = readFileSync(path.join(root, PIPELINE_FILE), 'utf8');
  const subjects: Subject[] =
    values.documented === true ? documentedSubjects(root, pipeline) : [userSubject(root, pipeline, values['fit-pipeline'] === true)];
  for (const subject of subjects) {
    const code = await rehearse(root, subject, testStep);
    if (code !== 0) return code;
  }
  return 0;
}

/** The configuration BITBUCKET_OIDC_CONFIG names (else the example), and with `fit` the pipeline made for it. */
function userSubject(root: string, pipeline: string, fit: boolean): Subject {
  const configFile = process.env.BITBUCKET_OIDC_CONFIG?.trim() || 'config/example.json';
  if (!fit) return { configFile };
  const { config } = readConfigFile(path.resolve(root, configFile));
  return { configFile, files: { [PIPELINE_FILE]: withDeploymentStepsFor(pipeline, config, configFile) } };
}

/** The complete configurations of docs/configuration.md, each with the pipeline's deployment steps made for it. */
function documentedSubjects(root: string, pipeline: string): Subject[] {
  return documentedConfigs().map(({ heading, document, lock }, i) => {
    // A configuration shown with its lock file is committed under the name the lock was made for.
    const configFile = lock === undefined ? `config/documented-${i + 1}.json` : `config/${lock.config}`;
    const parsed = lock === undefined ? undefined : parseLock(lock, lockPathFor(configFile), lock.config);
    const names = new LockNames(
      parsed === undefined ? undefined : { file: lockPathFor(configFile), lock: parsed },
      lockPathFor(configFile),
    );
    const config = validateConfig(document, configFile, root, names).config;
    console.log(`rehearse: ${DOCUMENTED_CONFIGS_PAGE} "${heading}" as ${configFile}`);
    const files = {
      [configFile]: `${JSON.stringify(document, null, 2)}\n`,
      ...(parsed === undefined ? {} : { [lockPathFor(configFile)]: lockText(parsed) }),
      [PIPELINE_FILE]: withDeploymentStepsFor(pipeline, config, configFile),
    };
    return { configFile, files };
  });
}

/** One rehearsal: first deploy, the pull-request pipeline, then the main pipeline. */
async function rehearse(root: string, subject: Subject, testStep: TestStepMode): Promise<number> {
  const started = Date.now();
  let rehearsal: Rehearsal;
  try {
    rehearsal = await Rehearsal.start({ root, ...subject, testStep, out: (line) => console.log(`rehearse: ${line}`) });
  } catch (error) {
    console.error(`error: the rehearsal could not start: ${(error as Error).message}`);
    return 2;
  }
  try {
    await rehearsal.firstDeploy();
    for (const trigger of [PULL_REQUEST, PUSH_TO_MAIN]) {
      const run = await rehearsal.pipeline(trigger);
      for (const result of run.results) {
        // The test step's jest summary, so a reader sees what its npm test ran.
        for (const line of result.log.match(/^(Test Suites|Tests):.*$/gm) ?? [])
          console.log(`rehearse:   step "${result.step.name}": ${line}`);
      }
      const failed = run.results.find((r) => !r.passed);
      if (failed !== undefined) return report(failed);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const { stsLog, s3Log, providerCalls } = rehearsal.aws;
    const kms = s3Log.filter((entry) => entry.actions.some((action) => action.startsWith('kms:'))).length;
    console.log(
      `rehearse: ${stsLog.length} STS answers, ${s3Log.length} S3 requests decided (${kms} with a KMS key), ${providerCalls.length} provider calls`,
    );
    console.log(`rehearse: every step passed for ${subject.configFile} in ${seconds} s`);
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

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`error: a bug in the rehearsal: ${(error as Error).stack ?? error}`);
    process.exit(3);
  },
);
