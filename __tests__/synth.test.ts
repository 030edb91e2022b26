/**
 * The synth entry point as a user runs it: exit codes, what it writes, and what it says.
 * It runs in-process (the same code `npm run synth` bundles) with a temporary output directory.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { synthesize } from '../src/synth';
import { exampleConfig, ROOT } from './support/synth';

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'synth-test-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function run(env: NodeJS.ProcessEnv) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = synthesize({ env, cwd: work, outdir: path.join(work, 'cdktf.out'), stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

function writeConfig(config: unknown, name = 'config.json'): string {
  const file = path.join(work, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

const stacksWritten = () => (existsSync(path.join(work, 'cdktf.out', 'stacks')) ? readdirSync(path.join(work, 'cdktf.out', 'stacks')).sort() : []);

describe('npm run synth', () => {
  it('synthesizes the bundled example when BITBUCKET_OIDC_CONFIG is unset, and says so', () => {
    const { code, stdout, stderr } = run({});
    expect(code).toBe(0);
    expect(stacksWritten()).toEqual(['bitbucket-oidc-production', 'bitbucket-oidc-staging']);
    expect(stderr).toMatch(/BITBUCKET_OIDC_CONFIG is not set, so the bundled example .* is used/);
    expect(stdout).toContain('bitbucket-oidc-production: account 444455556666, creates the OIDC provider, roles bitbucket-plan, bitbucket-deploy, web-artifacts-upload');
  });

  it('reads the configuration named by BITBUCKET_OIDC_CONFIG, relative to the working directory', () => {
    const config = exampleConfig();
    config.accounts = [config.accounts[0]];
    writeConfig(config, 'mine.json');
    const { code, stderr } = run({ BITBUCKET_OIDC_CONFIG: 'mine.json' });
    expect(code).toBe(0);
    expect(stderr).not.toContain('bundled example');
    expect(stacksWritten()).toEqual(['bitbucket-oidc-staging']);
  });

  it('removes stacks of accounts no longer in the configuration', () => {
    mkdirSync(path.join(work, 'cdktf.out', 'stacks', 'bitbucket-oidc-removed'), { recursive: true });
    expect(run({}).code).toBe(0);
    expect(stacksWritten()).not.toContain('bitbucket-oidc-removed');
  });

  it('exits 1, lists every problem and writes no stack when the configuration is invalid', () => {
    const config = exampleConfig();
    config.accounts[0].accountId = '1234';
    config.accounts[1].roles[0].repositores = config.accounts[1].roles[0].repositories;
    delete config.accounts[1].roles[0].repositories;
    const file = writeConfig(config);
    const { code, stdout, stderr } = run({ BITBUCKET_OIDC_CONFIG: file });
    expect(code).toBe(1);
    expect(stderr).toContain(`3 problems in ${file}`);
    expect(stderr).toContain('accounts[0].accountId: "1234" must be a 12-digit AWS account ID');
    expect(stderr).toContain('accounts[1].roles[0].repositores: unknown field; did you mean "repositories"?');
    expect(stderr).toContain('accounts[1].roles[0].repositories: must list at least one repository');
    expect(stderr).toContain('Nothing was synthesized');
    expect(stdout).toBe('');
    expect(stacksWritten()).toEqual([]);
  });

  it('removes the stacks of an earlier run when the configuration is invalid, so they cannot be deployed by mistake', () => {
    expect(run({}).code).toBe(0);
    expect(stacksWritten()).toHaveLength(2);
    const { code, stderr } = run({ BITBUCKET_OIDC_CONFIG: writeConfig('{}') });
    expect(code).toBe(1);
    expect(stderr).toMatch(/the previous stacks in .*stacks were removed/);
    expect(stacksWritten()).toEqual([]);
  });

  it('exits 1 with the reason when the configuration file cannot be read or parsed', () => {
    const missing = run({ BITBUCKET_OIDC_CONFIG: 'nope.json' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.json:\n\s+- cannot be read \(ENOENT\); set BITBUCKET_OIDC_CONFIG/);
    const broken = run({ BITBUCKET_OIDC_CONFIG: writeConfig('{ "workspace": "acme", }') });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('is not valid JSON at line 1');
    expect(stacksWritten()).toEqual([]);
  });

  it('prints a warning for a role trusted by the whole workspace', () => {
    const config = exampleConfig();
    delete config.accounts[0].roles[0].repositories;
    config.accounts[0].roles[0].allowAllRepositories = true;
    const { code, stderr } = run({ BITBUCKET_OIDC_CONFIG: writeConfig(config) });
    expect(code).toBe(0);
    expect(stderr).toContain('warning: role "bitbucket-plan" trusts EVERY repository of the workspace');
  });
});

describe('HCL output (cdktf synth --hcl, the exit ramp to plain Terraform)', () => {
  // cdktf reads SYNTH_HCL_OUTPUT from the process environment (the CLI sets it for --hcl).
  beforeEach(() => {
    process.env.SYNTH_HCL_OUTPUT = 'true';
  });
  afterEach(() => {
    delete process.env.SYNTH_HCL_OUTPUT;
  });

  it('is valid HCL that carries the same backend, version constraint and trust policies as the JSON', async () => {
    expect(run({}).code).toBe(0);
    const hcl = readFileSync(path.join(work, 'cdktf.out', 'stacks', 'bitbucket-oidc-production', 'cdk.tf'), 'utf8');
    const parsed = await parseHcl('cdk.tf', hcl);

    expect(parsed.terraform[0].required_version).toBe('>= 1.10');
    expect(parsed.terraform[0].backend.s3[0]).toMatchObject({ encrypt: true, use_lockfile: true, key: 'bitbucket-oidc/production.tfstate' });

    delete process.env.SYNTH_HCL_OUTPUT;
    expect(run({}).code).toBe(0);
    const json = JSON.parse(readFileSync(path.join(work, 'cdktf.out', 'stacks', 'bitbucket-oidc-production', 'cdk.tf.json'), 'utf8'));
    for (const [id, role] of Object.entries<any>(json.resource.aws_iam_role)) {
      expect(JSON.parse(parsed.resource.aws_iam_role[id][0].assume_role_policy)).toEqual(JSON.parse(role.assume_role_policy));
    }
  });

  it('writes depends_on as bare references, not the deprecated quoted form', () => {
    expect(run({}).code).toBe(0);
    const hcl = readFileSync(path.join(work, 'cdktf.out', 'stacks', 'bitbucket-oidc-production', 'cdk.tf'), 'utf8');
    expect(hcl).toMatch(/depends_on = \[\s*aws_iam_openid_connect_provider\.[\w-]+,\s*\]/);
    expect(hcl).not.toMatch(/^\s*\d+ = "/m);
  });
});

it('the bundled example is the file README and synth name', () => {
  expect(existsSync(path.join(ROOT, 'config', 'example.json'))).toBe(true);
});
