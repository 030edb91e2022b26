/**
 * The rehearsal's pipeline runner: bitbucket-pipelines.yml read as Bitbucket reads it, and steps run
 * as Bitbucket runs them (fresh clone of the commit, only earlier steps' artifacts, an environment
 * built from nothing, one bash per script, the first failing line ending the step, the time limit
 * killing the process group), plus the local HTTPS stand-in for HashiCorp's release server. Real
 * processes and git repositories made here, in a temp folder removed afterwards.
 */
import { execFile, execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { artifactPattern, collectArtifacts } from './support/rehearsal/artifacts';
import { node24BinDir } from './support/rehearsal/node24';
import { branchMatches, pipelineFor, PipelineTrigger, readPipelineFile, StepDefinition, stepsOf } from './support/rehearsal/pipeline-file';
import { RunnerOptions, runPipeline, runStep, StepResult } from './support/rehearsal/runner';
import { startTerraformReleases, TerraformReleases } from './support/rehearsal/terraform-releases';

const ROOT = path.resolve(__dirname, '..');
const committed = readFileSync(path.join(ROOT, 'bitbucket-pipelines.yml'), 'utf8');
const run = promisify(execFile);

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'pipeline-runner-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the pipeline file', () => {
  const file = readPipelineFile(committed);

  it('reads the pull-request pipeline: install, test and synthesize, then plan every account with an OIDC token', () => {
    const { name, items } = pipelineFor(file, { pullRequest: { source: 'feature/x', destination: 'main' } });
    const steps = stepsOf(items);

    expect(name).toBe('pipelines.pull-requests.**');
    expect(steps.map((s) => [s.name, s.oidc, s.trigger, s.deployment])).toEqual([
      ['Install, test and synthesize', false, 'automatic', undefined],
      ['Plan every account (read-only role)', true, 'automatic', undefined],
    ]);
    expect(steps[0].script).toContain('npm ci');
    expect(steps[0].artifacts).toEqual(['cdktf.out/**', 'dist/explain.js', 'dist/plan-digest.js']);
    expect(steps[0].caches).toEqual(['npm']);
    expect(steps[1].artifacts).toEqual(['plans/**']);
    expect(file.caches).toMatchObject({ npm: '~/.npm', 'terraform-plugins': '~/.terraform.d/plugin-cache' });
    expect(file.cacheDefinitions.npm.keyFiles).toEqual(['package-lock.json']);
  });

  it('reads the main pipeline: four steps, the two deployments manual, with their environments and the script of the merge key', () => {
    const steps = stepsOf(pipelineFor(file, { branch: 'main' }).items);

    expect(steps.map((s) => [s.name, s.deployment, s.trigger, s.oidc, s.where])).toEqual([
      ['Install, test and synthesize', undefined, 'automatic', false, 'pipelines.branches.main[0]'],
      ['Plan every account (read-only role)', undefined, 'automatic', true, 'pipelines.branches.main[1]'],
      ['Deploy staging', 'staging', 'manual', true, 'pipelines.branches.main[2]'],
      ['Deploy production', 'production', 'manual', true, 'pipelines.branches.main[3]'],
    ]);
    expect(steps[2].script).toEqual(steps[3].script);
    expect(steps[3].script.join('\n')).toMatch(/terraform-oidc\.sh apply/);
    expect(steps.every((s) => s.maxTime === 30)).toBe(true); // options.max-time
    expect(file.image).toBe('node:24-bookworm');
  });

  it('reads both forms of parallel groups, of artifacts and of caches, and stages as their steps', () => {
    const text = `
definitions:
  caches:
    plain: ~/.plain
    keyed: { key: { files: [a.lock] }, path: keyed-dir }
pipelines:
  default:
    - parallel:
        - step: { name: a, script: [echo a], artifacts: [a/**] }
        - step: { name: b, script: [echo b], artifacts: { download: false, paths: [b/**] }, caches: [plain, keyed] }
    - parallel:
        fail-fast: true
        steps:
          - step: { name: c, script: [echo c], max-time: 5 }
    - stage:
        deployment: test
        trigger: manual
        steps:
          - step: { name: d, script: [echo d] }
          - step: { name: e, script: [echo e] }
`;
    const parsed = readPipelineFile(text);
    const items = parsed.default ?? [];

    expect(items.map((i) => (i.kind === 'step' ? i.step.name : i.steps.map((s) => s.name)))).toEqual([['a', 'b'], ['c'], 'd', 'e']);
    const [a, b, c, d, e] = stepsOf(items);
    expect([a.artifacts, a.downloadArtifacts, b.artifacts, b.downloadArtifacts]).toEqual([['a/**'], true, ['b/**'], false]);
    expect(b.caches).toEqual(['plain', 'keyed']);
    expect(parsed.cacheDefinitions.keyed).toEqual({ path: 'keyed-dir', keyFiles: ['a.lock'] });
    expect([b.where, c.where, c.maxTime]).toEqual(['pipelines.default[0].parallel[1]', 'pipelines.default[1].parallel.steps[0]', 5]);
    expect([d.deployment, d.trigger, e.deployment, e.trigger]).toEqual(['test', 'manual', 'test', 'automatic']);
  });

  it('picks the pipeline as Bitbucket does: the exact branch name over a glob, * not crossing /, ** crossing it, else default', () => {
    const text = `
pipelines:
  default: [ { step: { name: default, script: [x] } } ]
  branches:
    'feature/*': [ { step: { name: feature-glob, script: [x] } } ]
    feature/exact: [ { step: { name: feature-exact, script: [x] } } ]
    '**': [ { step: { name: any, script: [x] } } ]
`;
    const parsed = readPipelineFile(text);
    const nameFor = (branch: string) => stepsOf(pipelineFor(parsed, { branch }).items)[0].name;

    expect(nameFor('feature/exact')).toBe('feature-exact');
    expect(nameFor('feature/other')).toBe('feature-glob');
    expect(nameFor('feature/a/b')).toBe('any');
    expect(branchMatches('*', 'release/1')).toBe(false);
    expect(branchMatches('release/?', 'release/1')).toBe(true);
    const withoutGlobs = readPipelineFile(text.replace(/ {4}'\*\*'.*\n/, '').replace(/ {4}'feature\/\*'.*\n/, ''));
    expect(stepsOf(pipelineFor(withoutGlobs, { branch: 'feature/other' }).items)[0].name).toBe('default');
  });

  it('refuses a step without a script, naming the file and the place', () => {
    expect(() => readPipelineFile('pipelines:\n  branches:\n    main:\n      - step: { name: x }\n')).toThrow(
      'bitbucket-pipelines.yml: pipelines.branches.main[0] has no script',
    );
  });
});

describe('artifact globs', () => {
  it('take files only: ** any number of folders, * and ? within one name, relative to the clone', () => {
    const dir = path.join(root, 'globs');
    for (const file of ['dist/a.js', 'dist/sub/deep/b.js', 'top.txt', 'reports/r1.txt', 'reports/sub/r2.txt', 'x1.log', 'x12.log']) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), file);
    }

    expect(collectArtifacts(dir, ['dist/**'])).toEqual(['dist/a.js', 'dist/sub/deep/b.js']);
    expect(collectArtifacts(dir, ['*.txt'])).toEqual(['top.txt']);
    expect(collectArtifacts(dir, ['reports/*.txt'])).toEqual(['reports/r1.txt']);
    expect(collectArtifacts(dir, ['**/*.txt'])).toEqual(['reports/r1.txt', 'reports/sub/r2.txt', 'top.txt']);
    expect(collectArtifacts(dir, ['x?.log'])).toEqual(['x1.log']);
    expect(collectArtifacts(dir, ['dist', 'missing/**'])).toEqual([]);
    expect(artifactPattern('dist/**').test('dist')).toBe(false);
  });
});

/** A git repository with two commits: the first has README.md and tool.sh, the second adds later.txt. */
function makeRepository(at: string): { first: string; second: string } {
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: at,
      env: {
        PATH: '/usr/bin:/bin',
        HOME: at,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
    })
      .toString()
      .trim();
  mkdirSync(at, { recursive: true });
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(path.join(at, 'README.md'), 'committed\n');
  git('add', '.');
  git('commit', '--quiet', '-m', 'first');
  const first = git('rev-parse', 'HEAD');
  writeFileSync(path.join(at, 'later.txt'), 'second commit\n');
  git('add', '.');
  git('commit', '--quiet', '-m', 'second');
  return { first, second: git('rev-parse', 'HEAD') };
}

describe('running a pipeline', () => {
  let repository: string;
  let commits: { first: string; second: string };
  let nodeBinDir: string;
  let runs = 0;
  const read = (result: StepResult, file: string) => readFileSync(path.join(result.cloneDir, file), 'utf8').trim();
  const options = (extra: Partial<RunnerOptions> = {}): RunnerOptions => ({
    repository,
    commit: commits.first,
    workRoot: path.join(root, `run-${++runs}`),
    nodeBinDir,
    variables: { REPOSITORY_VARIABLE: 'repository value' },
    deploymentVariables: { staging: { OIDC_ACCOUNT: 'staging-account' } },
    bitbucketRepository: { uuid: '1b2c3d4e-0000-4000-8000-000000000001', workspace: 'acme', slug: 'infra' },
    deploymentEnvironments: { staging: '{5e5e5e5e-0000-4000-8000-000000000002}' },
    caches: path.join(root, 'caches'),
    ...extra,
  });
  const pipeline = (yaml: string, trigger: PipelineTrigger = { branch: 'main' }) => pipelineFor(readPipelineFile(yaml), trigger).items;

  beforeAll(async () => {
    repository = path.join(root, 'repository');
    commits = makeRepository(repository);
    nodeBinDir = await node24BinDir();
  }, 300_000);

  it("gives each step a fresh clone of the commit and only earlier steps' artifacts; parallel steps see not each other's", async () => {
    const items = pipeline(`
pipelines:
  branches:
    main:
      - step:
          name: build
          script:
            - mkdir -p dist/sub && echo app > dist/app.js && echo deep > dist/sub/deep.js && echo notes > notes.txt
            - echo changed > README.md
          artifacts: [dist/**]
      - parallel:
          - step:
              name: left
              script:
                - mkdir left && echo left > left/out.txt
                - ls right 2>/dev/null > seen-right.txt || true
              artifacts: [left/**]
          - step:
              name: right
              script:
                - mkdir right && echo right > right/out.txt
                - ls left 2>/dev/null > seen-left.txt || true
              artifacts: [right/**]
      - step:
          name: after
          script:
            - cat left/out.txt right/out.txt dist/app.js dist/sub/deep.js > seen.txt
            - cat README.md > readme.txt
            - git rev-parse HEAD > head.txt
            - if [ -e notes.txt ] || [ -e later.txt ]; then echo present; else echo absent; fi > absent.txt
`);
    const [build, left, right, after] = await runPipeline(items, { branch: 'main' }, options());

    expect([build, left, right, after].map((r) => r.passed)).toEqual([true, true, true, true]);
    expect(build.artifacts?.files).toEqual(['dist/app.js', 'dist/sub/deep.js']);
    expect(new Set([build, left, right, after].map((r) => r.cloneDir)).size).toBe(4);
    expect(read(left, 'dist/app.js')).toBe('app');
    expect([read(left, 'seen-right.txt'), read(right, 'seen-left.txt')]).toEqual(['', '']);
    expect(read(after, 'seen.txt').split('\n')).toEqual(['left', 'right', 'app', 'deep']);
    expect(read(after, 'readme.txt')).toBe('committed'); // a change to a tracked file is no artifact
    expect(read(after, 'head.txt')).toBe(commits.first);
    expect(read(after, 'absent.txt')).toBe('absent');
  }, 120_000);

  it('builds the environment from nothing: CI=true, BITBUCKET_* defaults, variables; deployment variables in deployments', async () => {
    const saved = { marker: process.env.REHEARSAL_LEAK_MARKER, ci: process.env.CI };
    process.env.REHEARSAL_LEAK_MARKER = 'leaked';
    process.env.CI = 'false';
    try {
      const items = pipeline(`
pipelines:
  branches:
    main:
      - step: { name: build, script: [env > env.txt, node --version > node.txt] }
      - step: { name: deploy, deployment: staging, oidc: true, script: [env > env.txt] }
`);
      const stepEnvironment = async (step: StepDefinition, bitbucket: Readonly<Record<string, string>>): Promise<Record<string, string>> =>
        step.oidc ? { BITBUCKET_STEP_OIDC_TOKEN: `token-for-${bitbucket.BITBUCKET_STEP_UUID}` } : {};
      const [build, deploy] = await runPipeline(items, { branch: 'main' }, options({ stepEnvironment, buildNumber: 42 }));
      const pr = await runStep(stepsOf(items)[0], { pullRequest: { source: 'feature/x', destination: 'main', id: 7 } }, [], options());
      const envOf = (result: StepResult): Record<string, string> =>
        Object.fromEntries(
          read(result, 'env.txt')
            .split('\n')
            .map((line) => line.split(/=(.*)/s).slice(0, 2)),
        );
      const [buildEnv, deployEnv, prEnv] = [envOf(build), envOf(deploy), envOf(pr)];

      expect(buildEnv.REHEARSAL_LEAK_MARKER).toBeUndefined();
      expect(buildEnv.CI).toBe('true');
      expect(buildEnv).toMatchObject({
        BITBUCKET_BUILD_NUMBER: '42',
        BITBUCKET_CLONE_DIR: build.cloneDir,
        BITBUCKET_COMMIT: commits.first,
        BITBUCKET_BRANCH: 'main',
        BITBUCKET_REPO_UUID: '{1b2c3d4e-0000-4000-8000-000000000001}',
        BITBUCKET_REPO_SLUG: 'infra',
        BITBUCKET_REPO_FULL_NAME: 'acme/infra',
        BITBUCKET_WORKSPACE: 'acme',
        BITBUCKET_STEP_UUID: build.stepUuid,
        REPOSITORY_VARIABLE: 'repository value',
        LANG: 'C.UTF-8',
        PATH: `${path.join(path.dirname(build.cloneDir), 'bin')}:${nodeBinDir}:/usr/bin:/bin`,
      });
      expect(buildEnv.HOME).not.toBe(process.env.HOME);
      expect(buildEnv.BITBUCKET_PIPELINE_UUID).toMatch(/^\{[0-9a-f-]{36}\}$/);
      expect(deployEnv.BITBUCKET_PIPELINE_UUID).toBe(buildEnv.BITBUCKET_PIPELINE_UUID);
      expect(deployEnv.BITBUCKET_STEP_UUID).not.toBe(buildEnv.BITBUCKET_STEP_UUID);
      expect(read(build, 'node.txt')).toMatch(/^v24\./);
      for (const name of ['BITBUCKET_DEPLOYMENT_ENVIRONMENT', 'OIDC_ACCOUNT', 'BITBUCKET_STEP_OIDC_TOKEN', 'BITBUCKET_PR_ID']) {
        expect(buildEnv[name]).toBeUndefined();
      }
      expect(deployEnv).toMatchObject({
        BITBUCKET_DEPLOYMENT_ENVIRONMENT: 'staging',
        BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID: '{5e5e5e5e-0000-4000-8000-000000000002}',
        OIDC_ACCOUNT: 'staging-account',
        BITBUCKET_STEP_OIDC_TOKEN: `token-for-${deploy.stepUuid}`,
      });
      expect(prEnv).toMatchObject({ BITBUCKET_BRANCH: 'feature/x', BITBUCKET_PR_ID: '7', BITBUCKET_PR_DESTINATION_BRANCH: 'main' });
    } finally {
      for (const [name, value] of [
        ['REHEARSAL_LEAK_MARKER', saved.marker],
        ['CI', saved.ci],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }, 120_000);

  it('has no Terraform on the PATH: `command -v terraform` fails in a step', async () => {
    const [step] = stepsOf(pipeline('pipelines:\n  default:\n    - step: { name: look, script: [command -v terraform] }\n'));
    const result = await runStep(step, { branch: 'main' }, [], options());

    expect([result.passed, result.exitCode]).toEqual([false, 1]);
  }, 60_000);

  it('runs the lines in one bash: an exported variable reaches the next line; the first failing line ends the step, its code', async () => {
    const [step] = stepsOf(
      pipeline(`
pipelines:
  default:
    - step:
        name: lines
        script:
          - export GREETING=hello
          - echo "$GREETING world" > greeting.txt
          - sh -c 'exit 3'
          - touch after.txt
`),
    );
    const result = await runStep(step, { branch: 'main' }, [], options());

    expect([result.passed, result.exitCode, result.timedOut]).toEqual([false, 3, false]);
    expect(read(result, 'greeting.txt')).toBe('hello world');
    expect(existsSync(path.join(result.cloneDir, 'after.txt'))).toBe(false);
    expect(result.log).toContain('+ export GREETING=hello\n');
    expect(result.log).toContain("+ sh -c 'exit 3'\n");
    expect(result.log).not.toContain('+ touch after.txt');
  }, 60_000);

  it('stops the pipeline after a failed step (a whole parallel group finishes first), keeping no artifacts of it', async () => {
    const items = pipeline(`
pipelines:
  default:
    - step: { name: first, script: [echo ok] }
    - parallel:
        - step: { name: failing, script: [mkdir out && touch out/x, exit 2], artifacts: [out/**] }
        - step: { name: sibling, script: [sleep 1] }
    - step: { name: never, script: [echo never] }
`);
    const lines: string[] = [];
    const results = await runPipeline(items, { branch: 'main' }, options({ onOutput: (line) => lines.push(line) }));

    expect(results.map((r) => [r.step.name, r.passed, r.exitCode])).toEqual([
      ['first', true, 0],
      ['failing', false, 2],
      ['sibling', true, 0],
    ]);
    expect(results[1].artifacts).toBeUndefined();
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.includes('"failing"'))).toMatch(/failed \(exit code 2\)/);
  }, 60_000);

  it('kills the whole process group when the step exceeds its time limit', async () => {
    const [step] = stepsOf(
      pipeline(`
pipelines:
  default:
    - step:
        name: slow
        script:
          - (sleep 60; touch late.txt) & echo $! > background.pid
          - sleep 60
`),
    );
    const result = await runStep(step, { branch: 'main' }, [], options({ stepTimeoutSeconds: 1 }));
    const pid = Number(read(result, 'background.pid'));
    const state = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';

    expect([result.passed, result.timedOut, result.exitCode]).toEqual([false, true, null]);
    expect(result.seconds).toBeLessThan(10);
    expect(result.log).toMatch(/time limit of 1 s/);
    expect(['gone', 'Z']).toContain(state); // killed (a zombie until something reaps it)
  }, 60_000);

  const cachedPipeline = `
definitions:
  caches:
    things: ~/.things
pipelines:
  default:
    - step:
        name: cached
        caches: [things]
        script: ['mkdir -p ~/.things', 'cat ~/.things/*.txt > seen.txt || true', 'echo "$BITBUCKET_BUILD_NUMBER" > ~/.things/run.txt']
`;

  it("keeps a cache after a successful step and restores a copy into a later pipeline's fresh HOME, never replacing it", async () => {
    const cacheDefinitions = readPipelineFile(cachedPipeline).cacheDefinitions;
    const caches = path.join(root, 'cache-test');
    const [first] = await runPipeline(pipeline(cachedPipeline), { branch: 'main' }, options({ caches, cacheDefinitions }));
    const [second] = await runPipeline(pipeline(cachedPipeline), { branch: 'main' }, options({ caches, cacheDefinitions, buildNumber: 2 }));

    expect(read(first, 'seen.txt')).toBe('');
    expect(read(second, 'seen.txt')).toBe('1');
    expect(readFileSync(path.join(caches, 'things', 'run.txt'), 'utf8').trim()).toBe('1'); // a kept cache is never replaced
  }, 60_000);

  it("links a seed into a step whose cache is absent (the machine's own cache), and keeps no copy of it", async () => {
    const seed = path.join(root, 'seed');
    mkdirSync(seed, { recursive: true });
    writeFileSync(path.join(seed, 'seeded.txt'), 'from the seed\n');
    const cacheDefinitions = readPipelineFile(cachedPipeline).cacheDefinitions;
    const caches = path.join(root, 'seeded-cache-test');
    const [first] = await runPipeline(
      pipeline(cachedPipeline),
      { branch: 'main' },
      options({ caches, cacheDefinitions, seedCaches: { things: seed } }),
    );

    expect(read(first, 'seen.txt')).toBe('from the seed');
    expect(readFileSync(path.join(seed, 'run.txt'), 'utf8').trim()).toBe('1');
    expect(existsSync(path.join(caches, 'things'))).toBe(false);
  }, 60_000);
});

describe('the Terraform releases stand-in', () => {
  let releases: TerraformReleases;
  let binary: Buffer;
  const curl = async (url: string, ...args: string[]) => {
    try {
      const flags = ['--silent', '--show-error', '--proto', '=https', '--noproxy', '*'];
      const { stdout } = await run('curl', [...flags, ...args, url], { env: { PATH: '/usr/bin:/bin' } });
      return { code: 0, stdout };
    } catch (error) {
      return { code: (error as { code: number }).code, stdout: '' };
    }
  };

  beforeAll(async () => {
    binary = Buffer.concat([Buffer.from('#!/bin/sh\necho "Terraform v1.14.7"\nexit 0\n'), randomBytes(200_000)]);
    const file = path.join(root, 'fake-terraform');
    writeFileSync(file, binary, { mode: 0o755 });
    releases = await startTerraformReleases({ binary: file, version: '1.14.7', directory: root });
  });
  afterAll(() => releases.stop());

  it('serves the zip over HTTPS checked with its CA bundle; unzip yields the binary byte for byte; its SHA-256 is reported', async () => {
    const out = path.join(root, 'download');
    mkdirSync(out);
    const zip = path.join(out, 'terraform.zip');
    const url = `${releases.url}/1.14.7/terraform_1.14.7_linux_amd64.zip`;
    const answer = await curl(url, '--fail', '--cacert', releases.caBundle, '--output', zip);
    await run('unzip', ['-q', '-o', zip, 'terraform', '-d', out], { env: { PATH: '/usr/bin:/bin' } });
    const { stdout: sums } = await run('sha256sum', [zip]);

    expect(answer.code).toBe(0);
    expect(readFileSync(path.join(out, 'terraform')).equals(binary)).toBe(true);
    expect(sums.split(' ')[0]).toBe(releases.sha256);
    expect((await run(path.join(out, 'terraform'), [])).stdout).toBe('Terraform v1.14.7\n'); // kept executable
    expect(releases.requests).toContainEqual({ method: 'GET', path: releases.archivePath, status: 200 });
  });

  it('is refused by curl without the CA bundle (the certificate is really checked)', async () => {
    expect((await curl(`${releases.url}${releases.archivePath}`, '--fail', '--output', '/dev/null')).code).toBe(60);
  });

  it('answers 404 for any other path', async () => {
    const url = `${releases.url}/1.9.0/terraform_1.9.0_linux_amd64.zip`;
    const other = await curl(url, '--cacert', releases.caBundle, '--output', '/dev/null', '--write-out', '%{http_code}');

    expect(other.stdout).toBe('404');
  });
});
