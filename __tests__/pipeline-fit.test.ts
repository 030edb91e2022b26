/**
 * bitbucket-pipelines.yml fits the configuration: every account has a deployment step (environment
 * named like the account) and no deployment step names an account the configuration lacks. Checked
 * here for the user's configuration, by the synth as warnings, and by `npm run pipeline-steps`, which
 * prints the steps to paste.
 */
import Ajv from 'ajv';
import { spawnSync } from 'child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parseDocument } from 'yaml';
import { ResolvedConfig } from '../src/config/types';
import { validateConfig } from '../src/config/validate';
import { deploymentSteps, deploymentStepsSnippet, pipelineFitProblems, pipelineFitWarnings, runPipelineSteps } from '../src/ci';
import { synthesize } from '../src/cli/synth';
import { exampleConfig, ROOT } from './support/synth';
import { loadConfig } from '../src/config/load';
import { hermeticEnv } from './support/hermetic-env';

const PIPELINE_FILE = path.join(ROOT, 'bitbucket-pipelines.yml');
const SCHEMA = path.resolve(ROOT, '..', 'shared', 'reference', 'bitbucket-pipelines.schema.json');
const committed = readFileSync(PIPELINE_FILE, 'utf8');
const sources = { configFile: 'config/acme.json', pipelineFile: 'bitbucket-pipelines.yml' };

/** The example configuration with its accounts replaced by accounts of these names. */
function configWithAccounts(names: string[], change: (config: any) => void = () => undefined): any {
  const config = exampleConfig();
  const [template] = config.accounts;
  config.accounts = names.map((name, i) => ({
    ...template,
    name,
    accountId: String(100000000000 + i),
    deploymentEnvironment: { uuid: `{00000000-0000-4000-8000-${String(i).padStart(12, '0')}}`, name },
    roles: [],
  }));
  // The account whose bootstrap stack holds the state bucket, when the configuration names one.
  if (config.state.account !== undefined) config.state.account = names[0];
  change(config);
  return config;
}

function resolved(input: unknown): ResolvedConfig {
  return validateConfig(input, 'config/acme.json', ROOT).config;
}

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'pipeline-fit-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('deployment steps of a pipeline file', () => {
  it('reads the environment of steps built from an anchor with a merge key, with their names and places', () => {
    expect(deploymentSteps(committed)).toEqual([
      { environment: 'staging', name: 'Deploy staging', where: 'pipelines.branches.main[2]', pipeline: 'pipelines.branches.main' },
      { environment: 'production', name: 'Deploy production', where: 'pipelines.branches.main[3]', pipeline: 'pipelines.branches.main' },
    ]);
  });

  it('finds them in every kind of pipeline, in parallel groups and in deployment stages, and ignores steps only defined', () => {
    const text = [
      'definitions:',
      '  steps:',
      '    - step: &unused',
      '        name: Never used',
      '        deployment: qa',
      '        script: [echo]',
      'pipelines:',
      '  default:',
      '    - parallel:',
      '        - step: { name: A, deployment: dev, script: [echo] }',
      '        - step: { name: B, script: [echo] }',
      '  custom:',
      '    release:',
      '      - stage:',
      '          name: Release',
      '          deployment: prod',
      '          steps:',
      '            - step: { name: Plan, script: [echo] }',
      '  tags:',
      "    'v*':",
      '      - parallel:',
      '          steps:',
      '            - step: { deployment: staging, script: [echo] }',
    ].join('\n');

    expect(deploymentSteps(text)).toEqual([
      {
        environment: 'dev',
        name: 'A',
        where: 'pipelines.default[0].parallel[0]',
        pipeline: 'pipelines.default',
        parallelGroup: 'pipelines.default[0].parallel',
      },
      { environment: 'prod', name: 'Plan', where: 'pipelines.custom.release[0].stage.steps[0]', pipeline: 'pipelines.custom.release' },
      {
        environment: 'staging',
        where: 'pipelines.tags.v*[0].parallel.steps[0]',
        pipeline: 'pipelines.tags.v*',
        parallelGroup: 'pipelines.tags.v*[0].parallel',
      },
    ]);
  });

  it('refuses a file that is not YAML, naming the file and the line', () => {
    expect(() => deploymentSteps('pipelines:\n  default:\n    - step: [unclosed\n', 'bitbucket-pipelines.yml')).toThrow(
      /^bitbucket-pipelines\.yml is not valid YAML \(line \d+\): /,
    );
  });
});

describe('the fit of a pipeline to a configuration', () => {
  it('names each account without a deployment step, the rule and the fix', () => {
    const config = resolved(configWithAccounts(['dev', 'staging', 'production']));

    expect(pipelineFitProblems(config, deploymentSteps(committed), sources)).toEqual([
      'account "dev" of config/acme.json has no deployment step in bitbucket-pipelines.yml, so the pipeline never applies its workload stack: add a step with "deployment: dev" (the environment is named like the account; npm run pipeline-steps prints the steps to paste)',
    ]);
  });

  it('names each deployment step whose environment is no account, with the accounts there are', () => {
    const config = resolved(configWithAccounts(['dev', 'staging', 'prod']));
    const problems = pipelineFitProblems(config, deploymentSteps(committed), sources);

    expect(problems).toHaveLength(3);
    expect(problems[2]).toBe(
      'bitbucket-pipelines.yml: step "Deploy production" (pipelines.branches.main[3]) has "deployment: production", and config/acme.json has no account "production" (its accounts are dev, staging, prod): a deployment step applies the account named exactly like its environment, so rename the environment to its account or remove the step',
    );
  });

  it('suggests the account an environment names in other letter case', () => {
    const config = resolved(configWithAccounts(['staging', 'production']));
    const steps = deploymentSteps('pipelines:\n  default:\n    - step: { name: Prod, deployment: Production, script: [echo] }\n');

    expect(pipelineFitProblems(config, steps, sources).join('\n')).toContain(
      'has no account "Production" (its accounts are staging, production); did you mean "production"?',
    );
  });

  it('checks nothing for a configuration without a pipeline section (no deploy role, nothing to apply)', () => {
    const config = resolved(
      configWithAccounts(['dev'], (c) => {
        delete c.pipeline;
        for (const account of c.accounts) {
          delete account.deploymentEnvironment;
          account.roles = exampleConfig().accounts[0].roles;
        }
      }),
    );

    expect(config.pipeline).toBeUndefined();
    expect(pipelineFitProblems(config, deploymentSteps(committed), sources)).toEqual([]);
  });
});

describe('the synth', () => {
  function synthIn(cwd: string, config: unknown) {
    const file = path.join(work, 'acme.json');
    writeFileSync(file, JSON.stringify(config));
    const stderr: string[] = [];
    const code = synthesize({
      env: { BITBUCKET_OIDC_CONFIG: file },
      cwd,
      outdir: path.join(work, 'cdktf.out'),
      stdout: () => undefined,
      stderr: (l) => stderr.push(l),
    });
    return { code, stderr };
  }

  it('warns when the pipeline file in its folder lacks an account or deploys one the config lacks, and still synthesizes', () => {
    copyFileSync(PIPELINE_FILE, path.join(work, 'bitbucket-pipelines.yml'));
    const { code, stderr } = synthIn(work, configWithAccounts(['dev', 'staging']));

    expect(code).toBe(0);
    expect(stderr.filter((l) => l.includes('bitbucket-pipelines.yml'))).toEqual([
      expect.stringMatching(/^warning: account "dev" of acme\.json has no deployment step in bitbucket-pipelines\.yml/),
      expect.stringMatching(
        /^warning: bitbucket-pipelines\.yml: step "Deploy production" .* has "deployment: production", and acme\.json has no account "production"/,
      ),
    ]);
    expect(existsSync(path.join(work, 'cdktf.out', 'stacks', 'bitbucket-oidc-dev-workload'))).toBe(true);
  });

  it('says nothing about a pipeline file that fits, or when there is none', () => {
    copyFileSync(PIPELINE_FILE, path.join(work, 'bitbucket-pipelines.yml'));
    const fits = synthIn(work, exampleConfig());
    rmSync(path.join(work, 'bitbucket-pipelines.yml'));
    const none = synthIn(work, configWithAccounts(['dev']));

    expect([fits.code, none.code]).toEqual([0, 0]);
    expect([...fits.stderr, ...none.stderr].filter((l) => l.includes('bitbucket-pipelines.yml'))).toEqual([]);
  });

  it('warns that it could not check a pipeline file that is not YAML', () => {
    writeFileSync(path.join(work, 'bitbucket-pipelines.yml'), 'pipelines: [\n');
    const warnings = pipelineFitWarnings(resolved(exampleConfig()), { cwd: work, configFile: 'config/acme.json' });

    expect(warnings).toEqual([
      expect.stringMatching(
        /^bitbucket-pipelines\.yml is not valid YAML \(line \d+\): .*, so its deployment steps were not checked against config\/acme\.json$/,
      ),
    ]);
  });
});

describe('npm run pipeline-steps', () => {
  function steps(config: unknown) {
    const file = path.join(work, 'acme.json');
    writeFileSync(file, JSON.stringify(config));
    const out: string[] = [];
    const err: string[] = [];
    const code = runPipelineSteps({
      argv: [],
      env: { BITBUCKET_OIDC_CONFIG: file },
      cwd: ROOT,
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  }

  it('prints steps that, pasted in place of the committed ones, make a valid pipeline that fits the config', () => {
    const config = configWithAccounts(['dev', 'staging', 'prod']);
    const { code, stdout, stderr } = steps(config);
    const start = committed.indexOf('      # Manual: a person reads');
    const pasted = `${committed.slice(0, start)}${stdout}\n`;
    const document = parseDocument(pasted, { merge: true });

    expect(code).toBe(0);
    expect(start).toBeGreaterThan(0);
    expect(document.errors).toEqual([]);
    expect(pipelineFitProblems(resolved(config), deploymentSteps(pasted), sources)).toEqual([]);
    if (existsSync(SCHEMA)) {
      const validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
      expect(validate(document.toJS()) ? [] : validate.errors).toEqual([]);
    }
    // And it says what the committed file lacks and has in excess.
    expect(stderr).toContain('warning: account "dev" of');
    expect(stderr).toContain('has "deployment: production", and');
  });

  it('prints one manual step per account, in the order of the configuration', () => {
    const { stdout } = steps(configWithAccounts(['prod', 'dev']));

    expect(stdout.split('\n').filter((l) => !l.trimStart().startsWith('#'))).toEqual([
      '      - step:',
      '          <<: *deploy',
      '          name: Deploy prod',
      '          deployment: prod',
      '          trigger: manual',
      '      - step:',
      '          <<: *deploy',
      '          name: Deploy dev',
      '          deployment: dev',
      '          trigger: manual',
    ]);
  });

  it('refuses more accounts than one pipeline has steps for, before printing any', () => {
    const names = Array.from({ length: 99 }, (_, i) => `account-${i}`);
    // The bucket outside the project: its policy would not hold 99 accounts' statements.
    const { code, stdout, stderr } = steps(configWithAccounts(names, (c) => delete c.state.account));

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'has 99 accounts, and one pipeline holds at most 100 steps, so at most 98 deployment steps after the test and plan steps: Bitbucket would refuse the pipeline',
    );
  });

  it('says when the committed file already fits, and refuses an invalid configuration', () => {
    const fits = steps(exampleConfig());
    const invalid = steps({ ...exampleConfig(), workspace: 'Not A Slug!' });

    expect(fits.stderr).toContain('note: the deployment steps of bitbucket-pipelines.yml already cover exactly the accounts of');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: 1 problem in .*acme\.json:\n {2}- workspace: /);
  });

  it('runs as an npm script, with the bundled example when no configuration is set', () => {
    // npm under Node.js 22 and later keeps a compile cache in the temp folder, which the test run reports as left over.
    const run = spawnSync('npm', ['run', '--silent', 'pipeline-steps'], {
      cwd: ROOT,
      env: hermeticEnv({ NODE_DISABLE_COMPILE_CACHE: '1' }),
      encoding: 'utf8',
      timeout: 60_000,
    });

    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${deploymentStepsSnippet(loadConfig({}, ROOT).config, 'config/example.json')}\n`);
    expect(run.stderr).toContain(
      'note: BITBUCKET_OIDC_CONFIG is not set, so the steps are those of the bundled example config/example.json',
    );
  }, 60_000);
});
