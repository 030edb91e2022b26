/**
 * Names, not UUIDs: `npm run resolve` asks a local double of Bitbucket's REST API for the UUIDs of a
 * configuration that names everything, and writes the lock file; the synth then reads the lock only,
 * offline, and its trust policies are decided by the independent engine against tokens made of the
 * double's UUIDs. Also: what a failed resolve leaves (nothing), `--check`, and the order of the
 * deployment steps that the lock's environment types give.
 */
import { spawn } from 'child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { assumeRoleRequest, bitbucketClaims } from '../src/bitbucket/token';
import { normaliseUuid } from '../src/bitbucket/protocol';
import { runPipelineSteps } from '../src/ci';
import { synthesize } from '../src/cli/synth';
import { unescapeTemplate } from '../src/constructs/template-literal';
import { PolicyDocument } from '../src/iam/policy';
import { loadConfig } from '../src/config/load';
import { validateConfig } from '../src/config/validate';
import { runResolve } from '../src/resolve/command';
import { BitbucketApiDouble, DoubleWorkspace, startBitbucketApiDouble } from './support/bitbucket-api-double';
import { exampleWorld } from './support/example-world';
import { makeKey, NOW_SECONDS, runDoctor, sign } from './support/doctor';
import { hermeticEnv } from './support/hermetic-env';
import { simulateAssumeRole } from './support/iam-simulate-adapter';
import { exampleConfig, ROOT } from './support/synth';

const EMAIL = 'platform@acme.example';
const API_TOKEN = 'ATATT3xFfGF0-resolve-secret-9c2e71';
const ACCESS_TOKEN = 'ATCTT3xFfGN0-resolve-bearer-5d18aa';
const SECRETS = [API_TOKEN, ACCESS_TOKEN, Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')];

const UUID = {
  workspace: '{6b1f0c2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b}',
  infra: '{7c2a1d3f-4b5e-4f60-9b0c-1d2e3f4a5b6c}',
  web: '{8d3b2e40-5c6f-4071-8c1d-2e3f4a5b6c7d}',
  infraTest: '{9e4c3f51-6d70-4182-9d2e-3f4a5b6c7d8e}',
  infraStaging: '{af5d4062-7e81-4293-8e3f-4a5b6c7d8e9f}',
  infraProduction: '{b06e5173-8f92-43a4-9f4a-5b6c7d8e9fa0}',
  webStaging: '{c17f6284-90a3-44b5-a05b-6c7d8e9fa0b1}',
  webProduction: '{d2807395-a1b4-45c6-b16c-7d8e9fa0b1c2}',
  webPreview: '{e3918406-b2c5-46d7-827d-8e9fa0b1c2d3}',
};

/** The double's world: with two environments a page, infra's production and web's production are on page 2. */
function world(): DoubleWorkspace[] {
  return [
    {
      uuid: UUID.workspace,
      slug: 'acme',
      name: 'Acme',
      repositories: [
        {
          uuid: UUID.infra,
          slug: 'infra',
          environments: [
            { uuid: UUID.infraTest, name: 'test', type: 'Test' },
            { uuid: UUID.infraStaging, name: 'staging', type: 'Staging' },
            { uuid: UUID.infraProduction, name: 'production', type: 'Production' },
          ],
        },
        {
          uuid: UUID.web,
          slug: 'web',
          environments: [
            { uuid: UUID.webPreview, name: 'Web preview', type: 'Test' },
            { uuid: UUID.webStaging, name: 'Web staging', type: 'Staging' },
            { uuid: UUID.webProduction, name: 'Web production', type: 'Production' },
          ],
        },
      ],
    },
  ];
}

/** A configuration without a single UUID; production listed before staging. */
function namesOnlyConfig(): any {
  const uploadRole = (environment: string) => ({
    name: 'web-artifacts-upload',
    repositories: [{ name: 'acme/web', environments: [environment] }],
    inlinePolicies: {
      upload: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::acme-web/*' }] },
    },
  });
  return {
    workspace: 'acme',
    state: { bucket: 'acme-terraform-state', region: 'eu-west-1' },
    pipeline: { repository: { name: 'acme/infra' } },
    accounts: [
      {
        name: 'production',
        accountId: '444455556666',
        region: 'eu-west-1',
        deploymentEnvironment: { name: 'production' },
        roles: [uploadRole('Web production')],
      },
      {
        name: 'staging',
        accountId: '111122223333',
        region: 'eu-west-1',
        deploymentEnvironment: 'staging',
        roles: [uploadRole('Web staging')],
      },
    ],
  };
}

let double: BitbucketApiDouble;
let work: string;
let configFile: string;
let lockFile: string;
/** Everything every command printed in a test, to look for secrets in. */
let printed: string[];

beforeEach(async () => {
  double = await startBitbucketApiDouble({
    workspaces: world(),
    credentials: { apiTokens: [{ email: EMAIL, apiToken: API_TOKEN }], accessTokens: [{ accessToken: ACCESS_TOKEN }] },
    defaultPagelen: 2,
  });
  work = mkdtempSync(path.join(tmpdir(), 'resolve-'));
  mkdirSync(path.join(work, 'config'));
  configFile = path.join(work, 'config', 'acme.json');
  lockFile = path.join(work, 'config', 'acme.lock.json');
  writeConfig(namesOnlyConfig());
  printed = [];
});

afterEach(async () => {
  for (const secret of SECRETS) {
    expect(printed.join('\n')).not.toContain(secret);
    if (existsSync(lockFile)) expect(readFileSync(lockFile, 'utf8')).not.toContain(secret);
  }
  await double.stop();
  rmSync(work, { recursive: true, force: true });
});

function writeConfig(config: unknown): void {
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
}

const basic = { BITBUCKET_EMAIL: EMAIL, BITBUCKET_API_TOKEN: API_TOKEN };

/** `npm run resolve [-- --check]`, in-process, with the double's URL and these credentials. */
function resolve(credentials: NodeJS.ProcessEnv = basic, argv: string[] = []) {
  return resolveFile('config/acme.json', credentials, argv);
}

async function resolveFile(config: string, credentials: NodeJS.ProcessEnv, argv: string[] = []) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runResolve({
    argv,
    env: { BITBUCKET_OIDC_CONFIG: config, BITBUCKET_API_URL: double.url, ...credentials },
    cwd: work,
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    sleep: async () => undefined,
  });
  printed.push(...stdout, ...stderr);
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

/** The synth, in-process: no Bitbucket variables at all, so it could not call the API if it tried. */
function synth() {
  const stderr: string[] = [];
  const code = synthesize({
    env: { BITBUCKET_OIDC_CONFIG: 'config/acme.json' },
    cwd: work,
    outdir: path.join(work, 'cdktf.out'),
    stdout: () => undefined,
    stderr: (line) => stderr.push(line),
  });
  printed.push(...stderr);
  return { code, stderr: stderr.join('\n') };
}

/** The synth, with a pipeline file whose `main` pipeline is these lines. */
function synthWithMainPipeline(lines: string[]) {
  const text = ['pipelines:', '  branches:', '    main:', ...lines.map((line) => `      ${line}`)].join('\n');
  writeFileSync(path.join(work, 'bitbucket-pipelines.yml'), `${text}\n`);
  return synth();
}

/** The trust policy of a synthesized role, as AWS receives it. */
function trustPolicy(stack: string, roleName: string): PolicyDocument {
  const json = JSON.parse(readFileSync(path.join(work, 'cdktf.out', 'stacks', stack, 'cdk.tf.json'), 'utf8'));
  const role = Object.values<any>(json.resource.aws_iam_role).find((r) => r.name === roleName);
  return JSON.parse(unescapeTemplate(role.assume_role_policy));
}

/** The engine's decision on a deployment step's token of `repository` in `environment` (braced UUIDs, the double's). */
async function decide(policy: PolicyDocument, accountId: string, roleName: string, repository: string, environment?: string) {
  const claims = bitbucketClaims({
    workspace: 'acme',
    workspaceUuid: normaliseUuid(UUID.workspace)!,
    repositoryUuid: normaliseUuid(repository)!,
    ...(environment === undefined ? {} : { environmentUuid: normaliseUuid(environment)! }),
    stepUuid: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    issuedAt: 1_780_000_000,
  });
  const verdict = await simulateAssumeRole(policy, assumeRoleRequest(claims, { partition: 'aws', accountId }), {
    accountId,
    name: roleName,
  });
  return verdict.decision;
}

describe('npm run resolve', () => {
  it('resolves a configuration that names everything into a lock file of Bitbucket’s UUIDs, reading every page of environments', async () => {
    const run = await resolve();

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      'wrote config/acme.lock.json (workspace acme, 2 repositories, 4 environments): commit it with config/acme.json',
    );
    const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
    expect(lock).toEqual({
      '//': expect.stringContaining('npm run resolve'),
      config: 'acme.json',
      lockVersion: 1,
      workspace: { slug: 'acme', uuid: UUID.workspace },
      repositories: {
        'acme/infra': {
          uuid: UUID.infra,
          environments: {
            production: { uuid: UUID.infraProduction, type: 'Production', rank: 0 },
            staging: { uuid: UUID.infraStaging, type: 'Staging', rank: 0 },
          },
        },
        'acme/web': {
          uuid: UUID.web,
          environments: {
            'Web production': { uuid: UUID.webProduction, type: 'Production', rank: 0 },
            'Web staging': { uuid: UUID.webStaging, type: 'Staging', rank: 0 },
          },
        },
      },
    });
    // Both production environments are on the second page, which only `next` leads to.
    expect(double.requests.filter((r) => r.path.endsWith('/environments/') && r.query.page === '2')).toHaveLength(2);
  });

  it('writes the same bytes on every run, keys sorted, and says when the lock is already up to date', async () => {
    await resolve();
    const first = readFileSync(lockFile, 'utf8');
    const again = await resolve({ BITBUCKET_ACCESS_TOKEN: ACCESS_TOKEN });

    expect(again).toMatchObject({
      code: 0,
      stdout: 'config/acme.lock.json is up to date (workspace acme, 2 repositories, 4 environments)',
    });
    expect(readFileSync(lockFile, 'utf8')).toBe(first);
    expect(first.endsWith('}\n')).toBe(true);
    const keys = Object.keys(JSON.parse(first));
    expect(keys).toEqual([...keys].sort());
    // Both kinds of credentials reached the API: Basic first, Bearer the second time.
    expect(new Set(double.requests.map((r) => r.auth))).toEqual(new Set(['basic', 'bearer']));
    expect(readdirNames(path.join(work, 'config'))).toEqual(['acme.json', 'acme.lock.json']);
  });

  it('keeps the UUIDs a configuration gives when Bitbucket agrees, and refuses one that disagrees, at its field', async () => {
    const config = namesOnlyConfig();
    config.pipeline.repository.uuid = UUID.infra.toUpperCase();
    config.accounts[1].deploymentEnvironment = { name: 'staging', uuid: UUID.infraProduction };
    writeConfig(config);
    const run = await resolve();

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      [
        'error: 1 problem in config/acme.json, so config/acme.lock.json was not written:',
        `  - accounts[1].deploymentEnvironment: "${UUID.infraProduction}" is not the UUID of environment "staging" of "acme/infra", which Bitbucket says is "${UUID.infraStaging}": correct or remove the uuid`,
      ].join('\n'),
    );
    expect(existsSync(lockFile)).toBe(false);
  });

  it('names an environment Bitbucket does not have, with the nearest of those it has', async () => {
    const config = namesOnlyConfig();
    config.accounts[0].deploymentEnvironment = { name: 'prodution' };
    writeConfig(config);
    const run = await resolve();

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      '  - accounts[0].deploymentEnvironment: repository "acme/infra" has no deployment environment "prodution": did you mean "production"? Its environments are "test", "staging", "production"',
    );
  });

  it('refuses a repository of another workspace before asking Bitbucket anything', async () => {
    const config = namesOnlyConfig();
    config.accounts[0].roles[0].repositories[0].name = 'other/web';
    writeConfig(config);
    const run = await resolve();

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `accounts[0].roles[0].repositories[0].name: "other/web" is a repository of workspace "other", and this configuration is workspace "acme"'s`,
    );
    expect(double.requests).toEqual([]);
  });

  it('fails on a refused token, says so, and leaves no lock, or the previous lock untouched', async () => {
    const refused = await resolve({ BITBUCKET_EMAIL: EMAIL, BITBUCKET_API_TOKEN: 'ATATT3xFfGF0-not-the-token' });

    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error: Bitbucket refused the token \(401\) for GET http:\/\/127\.0\.0\.1:\d+\/2\.0\/workspaces\/acme\./,
    );
    expect(refused.stderr).toContain('config/acme.lock.json was not written.');
    expect(existsSync(lockFile)).toBe(false);

    await resolve();
    const before = readFileSync(lockFile, 'utf8');
    double.workspaces[0].repositories[0].environments[2].uuid = '{f4a29517-c3d6-47e8-938e-9fa0b1c2d3e4}';
    double.script({ status: 401, path: '/environments' });
    const failedLater = await resolve();

    expect(failedLater.code).toBe(1);
    expect(readFileSync(lockFile, 'utf8')).toBe(before);
    expect(readdirNames(path.join(work, 'config'))).toEqual(['acme.json', 'acme.lock.json']);
  });

  it('says which variable to set when credentials are missing, and that app passwords are gone', async () => {
    const noToken = await resolve({ BITBUCKET_EMAIL: EMAIL });
    const appPassword = await resolve({ BITBUCKET_USERNAME: 'acme-bot', BITBUCKET_APP_PASSWORD: 'app-password-value' });

    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('BITBUCKET_EMAIL is set but BITBUCKET_API_TOKEN is not');
    expect(appPassword.code).toBe(1);
    expect(appPassword.stderr).toContain('28 July 2026');
    expect(appPassword.stderr).not.toContain('app-password-value');
    expect(double.requests).toEqual([]);
  });

  it('waits as a 429 asks and then resolves', async () => {
    double.script({ status: 429, retryAfter: '2', path: '/environments' });
    const run = await resolve();

    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^note: .*\(429\) for GET http:\/\/127\.0\.0\.1:\d+\/2\.0\/repositories\/acme\/.*\/environments.*; retrying in 2 s$/,
    );
  });

  it('says a configuration file it cannot read, and writes nothing', async () => {
    const run = await resolveFile('config/missing.json', basic);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot be read (ENOENT); set BITBUCKET_OIDC_CONFIG to the path of your configuration file');
    expect(run.stderr).toContain('config/missing.lock.json was not written.');
    expect(double.requests).toEqual([]);
  });

  it('needs BITBUCKET_OIDC_CONFIG, and takes no other argument than --check', async () => {
    const stderr: string[] = [];
    const io = { cwd: work, stdout: () => undefined, stderr: (l: string) => stderr.push(l) };
    const noConfig = await runResolve({ ...io, argv: [], env: basic });
    const badArgument = await runResolve({ ...io, argv: ['--chek'], env: { ...basic, BITBUCKET_OIDC_CONFIG: 'config/acme.json' } });

    expect([noConfig, badArgument]).toEqual([2, 2]);
    expect(stderr[0]).toContain('BITBUCKET_OIDC_CONFIG is not set');
    expect(stderr[1]).toContain('unknown argument "--chek"');
  });
});

describe('the bundled example', () => {
  it('has the committed lock that npm run resolve writes against its Bitbucket, and reads as it does with its UUIDs written in, plus the environments’ types', async () => {
    await double.stop();
    double = await startBitbucketApiDouble({ workspaces: exampleWorld(), credentials: { accessTokens: [{ accessToken: ACCESS_TOKEN }] } });
    copyFileSync(path.join(ROOT, 'config', 'example.json'), path.join(work, 'config', 'example.json'));
    const run = await resolveFile('config/example.json', { BITBUCKET_ACCESS_TOKEN: ACCESS_TOKEN });

    expect(run.code).toBe(0);
    expect(readFileSync(path.join(work, 'config', 'example.lock.json'), 'utf8')).toBe(
      readFileSync(path.join(ROOT, 'config', 'example.lock.json'), 'utf8'),
    );
    const fromLock = loadConfig({}, ROOT).config;
    expect(fromLock.accounts.map((a) => a.deploymentEnvironment)).toEqual([
      expect.objectContaining({ name: 'Staging', type: 'Staging', rank: 0 }),
      expect.objectContaining({ name: 'Production', type: 'Production', rank: 0 }),
    ]);
    const withoutKinds = {
      ...fromLock,
      accounts: fromLock.accounts.map(({ deploymentEnvironment: e, ...account }) => ({
        ...account,
        deploymentEnvironment: { uuid: e!.uuid, name: e!.name },
      })),
    };
    expect(withoutKinds).toEqual(validateConfig(exampleConfig(), 'example').config);
  });
});

describe("the README's quick start", () => {
  it('runs as shown, against the double: copy the example, resolve its names with an API token, synthesize', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /<!-- quick-start:start -->\n```sh\n([\s\S]*?)```/.exec(readme)![1];
    const email = /BITBUCKET_EMAIL=(\S+)/.exec(block)![1];
    const apiToken = /BITBUCKET_API_TOKEN=(\S+)/.exec(block)![1];
    await double.stop();
    double = await startBitbucketApiDouble({ workspaces: exampleWorld(), credentials: { apiTokens: [{ email, apiToken }] } });
    // A project of its own: the files the commands read, node_modules and src linked.
    for (const file of ['package.json', 'tsconfig.json', 'main.ts']) copyFileSync(path.join(ROOT, file), path.join(work, file));
    for (const folder of ['config', 'scripts', 'terraform']) cpSync(path.join(ROOT, folder), path.join(work, folder), { recursive: true });
    for (const folder of ['node_modules', 'src']) symlinkSync(path.join(ROOT, folder), path.join(work, folder));
    rmSync(path.join(work, 'config', 'acme.json'));

    const run = await new Promise<{ code: number | null; output: string }>((done) => {
      const child = spawn('bash', ['-euo', 'pipefail', '-c', block], {
        cwd: work,
        env: hermeticEnv({ BITBUCKET_API_URL: double.url, NODE_DISABLE_COMPILE_CACHE: '1' }),
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('close', (code) => done({ code, output }));
    });
    printed.push(run.output);

    expect({ code: run.code, output: run.code === 0 ? '' : run.output }).toEqual({ code: 0, output: '' });
    expect(run.output).toContain('wrote config/acme.lock.json (workspace acme, 2 repositories, 4 environments)');
    expect(JSON.parse(readFileSync(path.join(work, 'config', 'acme.lock.json'), 'utf8')).config).toBe('acme.json');
    expect(readdirSync(path.join(work, 'cdktf.out', 'stacks')).sort()).toEqual([
      'bitbucket-oidc-production-bootstrap',
      'bitbucket-oidc-production-workload',
      'bitbucket-oidc-staging-bootstrap',
      'bitbucket-oidc-staging-workload',
    ]);
  }, 60_000);
});

describe('the synth with a lock file', () => {
  it('writes trust policies with exactly the double’s UUIDs, which admit the named pipelines and no other', async () => {
    await resolve();
    const requestsBefore = double.requests.length;
    const run = synth();

    expect(run.code).toBe(0);
    expect(double.requests).toHaveLength(requestsBefore);
    const deploy = trustPolicy('bitbucket-oidc-production-bootstrap', 'bitbucket-deploy');
    const upload = trustPolicy('bitbucket-oidc-production-workload', 'web-artifacts-upload');
    expect(JSON.stringify(deploy)).toContain(`${UUID.infra}:${UUID.infraProduction}:`);
    expect(JSON.stringify(upload)).toContain(`${UUID.web}:${UUID.webProduction}:`);

    const production = '444455556666';
    expect(await decide(deploy, production, 'bitbucket-deploy', UUID.infra, UUID.infraProduction)).toBe('ALLOW');
    expect(await decide(deploy, production, 'bitbucket-deploy', UUID.infra, UUID.infraStaging)).toBe('DENY');
    expect(await decide(deploy, production, 'bitbucket-deploy', UUID.web, UUID.infraProduction)).toBe('DENY');
    expect(await decide(upload, production, 'web-artifacts-upload', UUID.web, UUID.webProduction)).toBe('ALLOW');
    expect(await decide(upload, production, 'web-artifacts-upload', UUID.web, UUID.webStaging)).toBe('DENY');
    expect(await decide(upload, production, 'web-artifacts-upload', UUID.web)).toBe('DENY');
    const stagingUpload = trustPolicy('bitbucket-oidc-staging-workload', 'web-artifacts-upload');
    expect(await decide(stagingUpload, '111122223333', 'web-artifacts-upload', UUID.web, UUID.webStaging)).toBe('ALLOW');
  });

  it('fails without the lock, naming the fields and saying npm run resolve, and writes nothing', () => {
    const run = synth();

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('workspaceUuid: is required unless the lock file gives it; there is no lock file');
    expect(run.stderr).toContain('pipeline.repository.name: "acme/infra" has no UUID');
    expect(run.stderr).toContain('run npm run resolve');
    expect(existsSync(path.join(work, 'cdktf.out', 'stacks'))).toBe(false);
  });

  it('refuses a name the lock lacks, and a lock made for another workspace or configuration', async () => {
    await resolve();
    const resolved = readFileSync(lockFile, 'utf8');
    const config = namesOnlyConfig();
    config.accounts[0].roles[0].repositories.push({ name: 'acme/api' });
    writeConfig(config);
    const missing = synth();
    writeConfig({ ...namesOnlyConfig(), workspace: 'acme-labs' });
    const otherWorkspace = synth();
    writeConfig(namesOnlyConfig());
    writeFileSync(lockFile, resolved.replace('"config": "acme.json"', '"config": "other.json"'));
    const otherConfig = synth();

    expect(missing.stderr).toContain(
      'accounts[0].roles[0].repositories[1].name: repository "acme/api" is not in config/acme.lock.json: run npm run resolve to add it',
    );
    expect(otherWorkspace.stderr).toContain(
      'workspace: "acme-labs" is not the workspace config/acme.lock.json was resolved for ("acme"): run npm run resolve',
    );
    expect(otherConfig.stderr).toContain(
      'error: 1 problem in config/acme.lock.json:\n  - config: "other.json": the lock was made for another configuration file, not "acme.json"; run npm run resolve to write it again',
    );
    expect([missing.code, otherWorkspace.code, otherConfig.code]).toEqual([1, 1, 1]);
  });

  it('gives the doctor the lock’s names for a configuration that holds only UUIDs', async () => {
    await resolve();
    const config = namesOnlyConfig();
    config.workspaceUuid = UUID.workspace;
    config.pipeline.repository = { uuid: UUID.infra };
    config.accounts[0].deploymentEnvironment = UUID.infraProduction;
    config.accounts[1].deploymentEnvironment = UUID.infraStaging;
    config.accounts[0].roles[0].repositories = [{ uuid: UUID.web, environments: [UUID.webProduction] }];
    config.accounts[1].roles[0].repositories = [{ uuid: UUID.web, environments: [UUID.webStaging] }];
    writeConfig(config);
    const key = await makeKey('resolve-test');
    const claims = bitbucketClaims({
      workspace: 'acme',
      workspaceUuid: normaliseUuid(UUID.workspace)!,
      repositoryUuid: normaliseUuid(UUID.web)!,
      environmentUuid: normaliseUuid(UUID.webStaging)!,
      stepUuid: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      issuedAt: NOW_SECONDS - 60,
    });
    const run = await runDoctor(['--token-file', '-', '--account', 'production', '--role', 'web-artifacts-upload'], {
      env: { BITBUCKET_OIDC_CONFIG: 'config/acme.json' },
      cwd: work,
      stdin: await sign(claims, key),
    });
    printed.push(run.stdout, run.stderr);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `hint      deployment environment ${UUID.webStaging} (Web staging) is not one this role admits for repository ${UUID.web} (acme/web); it admits ${UUID.webProduction} (Web production)`,
    );
  });

  it('refuses a UUID in the configuration that the lock gives another, at its field', async () => {
    await resolve();
    const config = namesOnlyConfig();
    config.accounts[0].roles[0].repositories[0].uuid = UUID.infra;
    writeConfig(config);
    const run = synth();

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `accounts[0].roles[0].repositories[0].uuid: "${UUID.infra}" is not the UUID Bitbucket gave repository "acme/web" (config/acme.lock.json has "${UUID.web}")`,
    );
  });
});

describe('npm run resolve -- --check', () => {
  it('agrees with an unchanged Bitbucket, and writes nothing', async () => {
    await resolve();
    const before = readFileSync(lockFile, 'utf8');
    const run = await resolve(basic, ['--check']);

    expect(run).toEqual({ code: 0, stdout: 'config/acme.lock.json agrees with Bitbucket', stderr: '' });
    expect(readFileSync(lockFile, 'utf8')).toBe(before);
  });

  it('reports an environment recreated, a type changed and a repository renamed, one line each, and exits 1', async () => {
    await resolve();
    const [infra, web] = double.workspaces[0].repositories;
    const recreated = '{f4a29517-c3d6-47e8-938e-9fa0b1c2d3e4}';
    infra.environments[2].uuid = recreated;
    infra.environments[1].type = 'Test';
    web.slug = 'website';
    const run = await resolve(basic, ['--check']);

    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')).toEqual([
      `environment "production" of "acme/infra" was deleted and created again: its UUID is now "${recreated}", not the lock's "${UUID.infraProduction}", so the roles that trust it admit none of its deployment steps; update the configuration if needed, then run npm run resolve and apply`,
      `environment "staging" of "acme/infra" is now of type "Test", not the lock's "Staging": Bitbucket orders deployment steps by type; run npm run resolve, then npm run pipeline-steps`,
      `repository "acme/web" was renamed to "acme/website" (same UUID "${UUID.web}"): rename it in the configuration, then run npm run resolve`,
    ]);
    expect(run.stderr).toBe('config/acme.lock.json differs from Bitbucket in 3 ways');
  });

  it('exits 2 when there is no lock to check', async () => {
    const run = await resolve(basic, ['--check']);

    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: there is no lock file config/acme.lock.json to check: run npm run resolve first');
  });
});

describe('the deployment steps of a resolved configuration', () => {
  function pipelineSteps() {
    const out: string[] = [];
    const err: string[] = [];
    const code = runPipelineSteps({
      argv: [],
      env: { BITBUCKET_OIDC_CONFIG: 'config/acme.json' },
      cwd: work,
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  }

  it('prints staging before production for a configuration that lists production first', async () => {
    await resolve();
    const run = pipelineSteps();

    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').filter((l) => l.includes('deployment:'))).toEqual([
      '          deployment: staging',
      '          deployment: production',
    ]);
    expect(run.stdout).toContain('# staging (Staging, rank 0), production (Production, rank 0)');
  });

  it('keeps the configuration’s order where the lock gives no type', () => {
    const config = namesOnlyConfig();
    config.workspaceUuid = UUID.workspace;
    config.pipeline.repository = { uuid: UUID.infra };
    config.accounts[0].deploymentEnvironment = UUID.infraProduction;
    config.accounts[1].deploymentEnvironment = UUID.infraStaging;
    for (const account of config.accounts) account.roles = [];
    writeConfig(config);
    const run = pipelineSteps();

    expect(run.stdout.split('\n').filter((l) => l.includes('deployment:'))).toEqual([
      '          deployment: production',
      '          deployment: staging',
    ]);
  });

  it('warns at the synth when the pipeline file deploys production before staging, naming both steps', async () => {
    await resolve();
    const run = synthWithMainPipeline([
      '- step: { name: Deploy production, deployment: production, script: [echo] }',
      '- step: { name: Deploy staging, deployment: staging, script: [echo] }',
    ]);

    expect(run.code).toBe(0);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('warning: bitbucket-pipelines.yml'))).toHaveLength(1);
    expect(run.stderr).toContain(
      'warning: bitbucket-pipelines.yml: step "Deploy staging" (pipelines.branches.main[1]) deploys to staging, a Staging environment, after step "Deploy production" (pipelines.branches.main[0]) deployed to production, a Production one: Bitbucket requires deployment steps in the order Test, Staging, Production and refuses the pipeline',
    );
  });

  it('warns at the synth when one parallel group deploys to a Staging and a Production environment', async () => {
    await resolve();
    const run = synthWithMainPipeline([
      '- parallel:',
      '    - step: { name: Deploy staging, deployment: staging, script: [echo] }',
      '    - step: { name: Deploy production, deployment: production, script: [echo] }',
    ]);

    expect(run.stderr.split('\n').filter((l) => l.startsWith('warning: bitbucket-pipelines.yml'))).toEqual([
      'warning: bitbucket-pipelines.yml: the parallel group pipelines.branches.main[0].parallel deploys to staging, a Staging environment, and to production, a Production one: Bitbucket requires all deployment steps of a parallel group to share one type and refuses the pipeline; put them in groups of one type each',
    ]);
  });
});

function readdirNames(folder: string): string[] {
  return readdirSync(folder).sort();
}
