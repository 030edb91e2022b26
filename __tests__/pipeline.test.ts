/**
 * bitbucket-pipelines.yml and its scripts: valid against Atlassian's schema, OIDC exactly where
 * Terraform runs, gated deployments, no long-lived keys, Terraform pinned in one place; and
 * scripts/terraform-oidc.sh run against synthesized-looking stacks with a stand-in `terraform`.
 */
import Ajv from 'ajv';
import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseDocument } from 'yaml';
import { deploymentStepLines } from '../src/ci';
import { claims, EXAMPLE, EXAMPLE_CONFIG_FILE, makeKey, ROOT, sign, TestKey } from './support/doctor';
import { ScriptWorld, scriptWorld, TERRAFORM_SCRIPT } from './support/terraform-oidc';

const SCHEMA = path.resolve(ROOT, '..', 'shared', 'reference', 'bitbucket-pipelines.schema.json');
const PIPELINE_FILE = path.join(ROOT, 'bitbucket-pipelines.yml');
const INSTALLER = path.join(ROOT, 'scripts', 'install-terraform.sh');

type Step = Record<string, unknown> & {
  name?: string;
  script?: string[];
  oidc?: boolean;
  deployment?: string;
  trigger?: string;
  caches?: string[];
  artifacts?: string[];
};
type Item = { step?: Step; parallel?: unknown; stage?: { steps?: Item[] } };

const text = readFileSync(PIPELINE_FILE, 'utf8');
const document = parseDocument(text, { merge: true });
const pipeline = document.toJS() as {
  image: string;
  definitions: { caches: Record<string, string | { key?: { files: string[] }; path: string }> };
  pipelines: { 'pull-requests': Record<string, Item[]>; branches: Record<string, Item[]>; custom: Record<string, Item[]> };
};

/** Every step of a pipeline, in order (parallel groups and stages flattened). */
function stepsOf(items: Item[]): Step[] {
  return items.flatMap((item) => {
    if (item.step) return [item.step];
    if (item.stage?.steps) return stepsOf(item.stage.steps);
    const parallel = item.parallel as Item[] | { steps: Item[] } | undefined;
    if (parallel) return stepsOf(Array.isArray(parallel) ? parallel : parallel.steps);
    return [];
  });
}

const pullRequest = stepsOf(pipeline.pipelines['pull-requests']['**']);
const main = stepsOf(pipeline.pipelines.branches.main);
const custom = Object.values(pipeline.pipelines.custom).flatMap(stepsOf);
const allSteps = [...pullRequest, ...main, ...custom];
const script = (step: Step): string => (step.script ?? []).join('\n');
const runsTerraform = (step: Step): boolean => /terraform/.test(script(step).replace(/install-terraform\.sh/g, ''));

describe('bitbucket-pipelines.yml', () => {
  if (existsSync(SCHEMA)) {
    it("is valid against Atlassian's pipeline schema", () => {
      const validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));

      expect(document.errors).toEqual([]);
      expect(document.warnings).toEqual([]);
      expect(validate(pipeline) ? [] : validate.errors).toEqual([]);
    });

    it('uses only step keys the schema knows (the schema itself allows unknown ones)', () => {
      const schema = JSON.parse(readFileSync(SCHEMA, 'utf8'));
      const known = Object.keys(schema.components.schemas.step_base.properties).concat('condition');

      for (const step of allSteps) expect(Object.keys(step).filter((k) => !known.includes(k))).toEqual([]);
    });
  } else {
    it.skip(`is valid against Atlassian's pipeline schema (SKIPPED: ${SCHEMA} is absent; it is only in the project's shared reference folder)`, () =>
      undefined);
  }

  it('runs in a node:24 image that has what the scripts use (the full Debian image: curl and unzip)', () => {
    expect(pipeline.image).toBe('node:24-bookworm');
  });

  it('gives an OIDC token to every step that runs Terraform, and to no other step', () => {
    const terraformSteps = allSteps.filter(runsTerraform);

    expect(terraformSteps.length).toBeGreaterThanOrEqual(4);
    for (const step of allSteps)
      expect({ name: step.name, oidc: step.oidc === true }).toEqual({ name: step.name, oidc: runsTerraform(step) });
  });

  it('installs Terraform before running it in every OIDC step', () => {
    for (const step of allSteps.filter((s) => s.oidc)) {
      const lines = step.script ?? [];
      const install = lines.findIndex((l) => l.includes('scripts/install-terraform.sh'));
      const run = lines.findIndex((l) => l.includes('scripts/terraform-oidc.sh'));
      expect(install).toBeGreaterThanOrEqual(0);
      expect(install).toBeLessThan(run);
    }
  });

  it('tests, synthesizes and plans every account with the read-only role on pull requests', () => {
    const [test, plan] = pullRequest;

    expect(pullRequest).toHaveLength(2);
    // Terraform before the tests: under CI=true the acceptance suite requires it (and runs it offline).
    expect(test.script).toEqual([
      'scripts/install-terraform.sh',
      'npm ci',
      'npm test',
      'npm run synth',
      'npm run build:explain',
      'npm run build:plan-digest',
    ]);
    expect(test.oidc).toBeUndefined();
    expect(test.artifacts).toEqual(expect.arrayContaining(['cdktf.out/**', 'dist/explain.js', 'dist/plan-digest.js']));
    expect(script(plan)).toContain('scripts/terraform-oidc.sh plan "${PLAN_ROLE_NAME:-bitbucket-plan}"');
    expect(plan.artifacts).toEqual(['plans/**']);
    expect(plan.deployment).toBeUndefined();
  });

  it('on main, repeats the checks and then deploys each account by hand, after its plan could be read', () => {
    expect(main.map((s) => s.name)).toEqual([pullRequest[0].name, pullRequest[1].name, 'Deploy staging', 'Deploy production']);
    const [, , staging, production] = main;

    expect(staging).toMatchObject({ deployment: 'staging', oidc: true, trigger: 'manual' });
    expect(production).toMatchObject({ deployment: 'production', oidc: true, trigger: 'manual' });
  });

  it('has the deployment steps npm run pipeline-steps prints for the example config, verbatim', () => {
    expect(text).toContain([...deploymentStepLines('staging'), ...deploymentStepLines('production')].join('\n'));
  });

  it('applies one account per deployment step, with the deploy role, named after an account of the example config', () => {
    const accounts = (JSON.parse(readFileSync(EXAMPLE_CONFIG_FILE, 'utf8')).accounts as Array<{ name: string }>).map((a) => a.name);
    for (const step of main.filter((s) => s.deployment !== undefined)) {
      expect(accounts).toContain(step.deployment);
      expect(script(step)).toContain(
        'scripts/terraform-oidc.sh apply "${DEPLOY_ROLE_NAME:-bitbucket-deploy}" "${OIDC_ACCOUNT:-$BITBUCKET_DEPLOYMENT_ENVIRONMENT}"',
      );
    }
  });

  it('checks every account for drift in the custom pipeline drift-check: a synth without token or tests, then the read-only plan role, keeping nothing', () => {
    const [synth, drift, ...more] = stepsOf(pipeline.pipelines.custom['drift-check']);

    expect(more).toEqual([]);
    expect(synth.oidc).toBeUndefined();
    expect(synth.script).toEqual(['npm ci', 'npm run synth', 'npm run build:explain', 'npm run build:plan-changes']);
    expect(synth.artifacts).toEqual(['cdktf.out/**', 'dist/explain.js', 'dist/plan-changes.js']);
    expect(drift).toMatchObject({ oidc: true });
    expect([drift.deployment, drift.artifacts, drift.trigger]).toEqual([undefined, undefined, undefined]);
    expect(script(drift)).toContain('scripts/terraform-oidc.sh drift "${PLAN_ROLE_NAME:-bitbucket-plan}"');
    // OIDC only: no Bitbucket credentials.
    expect(JSON.stringify([synth, drift])).not.toMatch(/BITBUCKET_(EMAIL|API_TOKEN|ACCESS_TOKEN)/);
  });

  it("caches npm's download cache keyed on the lockfile in the step that installs", () => {
    const install = allSteps.filter((s) => (s.script ?? []).includes('npm ci'));

    expect(install.length).toBeGreaterThan(0);
    for (const step of install) {
      const caches = (step.caches ?? []).map((name) => pipeline.definitions.caches[name]);
      expect(caches).toContainEqual({ key: { files: ['package-lock.json'] }, path: '~/.npm' });
    }
  });

  it('holds no long-lived AWS keys, in the pipeline or its scripts', () => {
    const sources = [text, ...readdirSync(path.join(ROOT, 'scripts')).map((f) => readFileSync(path.join(ROOT, 'scripts', f), 'utf8'))];

    for (const source of sources) expect(source).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AKIA[0-9A-Z]{16}/);
  });
});

describe('the Terraform installer', () => {
  const installer = readFileSync(INSTALLER, 'utf8');
  const version = /^TERRAFORM_VERSION="(\d+)\.(\d+)\.(\d+)"$/m.exec(installer);

  it('pins the Terraform version and checksum in this one file', () => {
    const elsewhere = [PIPELINE_FILE, TERRAFORM_SCRIPT, path.join(ROOT, 'package.json')].map((f) => readFileSync(f, 'utf8'));

    expect(version).not.toBeNull();
    expect(installer).toMatch(/^PINNED_SHA256="[0-9a-f]{64}"$/m);
    for (const source of elsewhere) expect(source).not.toMatch(/TERRAFORM_VERSION=|releases\.hashicorp\.com|terraform_\d+\.\d+\.\d+/);
  });

  it('pins a version that has S3 native locking (Terraform >= 1.10, as the stacks require)', () => {
    const backend = readFileSync(path.join(ROOT, 'src', 'stacks', 'backend.ts'), 'utf8');
    const [major, minor] = /MIN_TERRAFORM_VERSION = '(\d+)\.(\d+)'/.exec(backend)!.slice(1).map(Number);
    const [pinnedMajor, pinnedMinor] = version!.slice(1).map(Number);

    expect(pinnedMajor * 1000 + pinnedMinor).toBeGreaterThanOrEqual(major * 1000 + minor);
    expect(spawnSync('bash', [INSTALLER, '--print-version'], { encoding: 'utf8' }).stdout.trim()).toBe(version!.slice(1).join('.'));
  });

  it('checks the archive against the pinned checksum before unpacking it, and downloads from HashiCorp unless told otherwise', () => {
    const check = installer.indexOf('sha256sum --check');

    expect(check).toBeGreaterThan(0);
    expect(check).toBeLessThan(installer.indexOf('unzip -q'));
    expect(installer).toContain('RELEASES_URL="${TERRAFORM_RELEASES_URL:-https://releases.hashicorp.com/terraform}"');
    expect(installer).toContain('TERRAFORM_SHA256="${TERRAFORM_SHA256:-$PINNED_SHA256}"');
    expect(installer).toContain('"${RELEASES_URL}/${TERRAFORM_VERSION}/${archive}"');
    expect(installer).toContain("--proto '=https'");
  });

  const linuxAmd64 = process.platform === 'linux' && os.arch() === 'x64';
  (linuxAmd64 ? it : it.skip)('refuses an archive whose checksum differs from the pin, and installs nothing', () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'install-terraform-'));
    try {
      // A stand-in curl that "downloads" an archive other than the pinned one.
      mkdirSync(path.join(work, 'bin'));
      writeFileSync(
        path.join(work, 'bin', 'curl'),
        '#!/usr/bin/env bash\nwhile [ "$1" != "--output" ]; do shift; done\necho tampered > "$2"\n',
      );
      chmodSync(path.join(work, 'bin', 'curl'), 0o755);
      const result = spawnSync('bash', [INSTALLER, path.join(work, 'install')], {
        encoding: 'utf8',
        env: { PATH: `${path.join(work, 'bin')}:/usr/bin:/bin`, HOME: work },
      });

      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        /has SHA-256 [0-9a-f]{64}, and it must be [0-9a-f]{64} \(the pinned checksum\); refusing to install it/,
      );
      expect(existsSync(path.join(work, 'install', 'terraform'))).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('scripts/terraform-oidc.sh', () => {
  let world: ScriptWorld;
  let key: TestKey;

  beforeAll(async () => {
    world = scriptWorld('terraform-oidc-');
    key = await makeKey('k');
  });

  afterAll(() => world.remove());

  beforeEach(() => world.clearLog());

  const fresh = (options: Parameters<typeof claims>[0] = {}) => claims({ issuedAt: Math.floor(Date.now() / 1000) - 60, ...options });

  it("plans every stack with its own account's plan role, after the doctor admitted the token", async () => {
    const token = await sign(fresh(), key);
    const result = world.run(['plan', 'bitbucket-plan'], token);
    const calls = world.calls();
    const stack = (name: string) => `-chdir=cdktf.out/stacks/bitbucket-oidc-${name}-workload`;
    const planFile = (name: string) => calls.find((c) => c.args.startsWith(`${stack(name)} plan`))!.args.split('-out=')[1];

    expect(result.status).toBe(0);
    expect(calls.map(({ roleArn, session, args }) => [roleArn, session, args])).toEqual([
      [
        'arn:aws:iam::444455556666:role/bitbucket-pipeline/bitbucket-plan',
        'bitbucket-42-production',
        `${stack('production')} init -input=false -lockfile=readonly -no-color`,
      ],
      [
        'arn:aws:iam::444455556666:role/bitbucket-pipeline/bitbucket-plan',
        'bitbucket-42-production',
        `${stack('production')} plan -input=false -no-color -lock-timeout=5m -out=${planFile('production')}`,
      ],
      [
        'arn:aws:iam::444455556666:role/bitbucket-pipeline/bitbucket-plan',
        'bitbucket-42-production',
        `${stack('production')} show -no-color ${planFile('production')}`,
      ],
      [
        'arn:aws:iam::444455556666:role/bitbucket-pipeline/bitbucket-plan',
        'bitbucket-42-production',
        `${stack('production')} show -json ${planFile('production')}`,
      ],
      [
        'arn:aws:iam::111122223333:role/bitbucket-pipeline/bitbucket-plan',
        'bitbucket-42-staging',
        `${stack('staging')} init -input=false -lockfile=readonly -no-color`,
      ],
      [
        'arn:aws:iam::111122223333:role/bitbucket-pipeline/bitbucket-plan',
        'bitbucket-42-staging',
        `${stack('staging')} plan -input=false -no-color -lock-timeout=5m -out=${planFile('staging')}`,
      ],
      [
        'arn:aws:iam::111122223333:role/bitbucket-pipeline/bitbucket-plan',
        'bitbucket-42-staging',
        `${stack('staging')} show -no-color ${planFile('staging')}`,
      ],
      [
        'arn:aws:iam::111122223333:role/bitbucket-pipeline/bitbucket-plan',
        'bitbucket-42-staging',
        `${stack('staging')} show -json ${planFile('staging')}`,
      ],
    ]);
    // Terraform read the step's token from a file outside the clone, removed afterwards.
    expect(
      calls.every(({ tokenFile, token: content }) => content === token && !tokenFile.startsWith(world.dir) && !existsSync(tokenFile)),
    ).toBe(true);
    // The plan files were outside the clone too, and are gone.
    for (const name of ['staging', 'production'])
      expect([planFile(name).startsWith(world.dir), existsSync(planFile(name))]).toEqual([false, false]);
    expect(world.read('plans/bitbucket-oidc-staging-workload.txt')).toContain('# aws_iam_role.staging-deploy will be created');
    expect(world.read('plans/bitbucket-oidc-staging-workload.digest')).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    // In each account: the role, then the doctor's verdict, then Terraform.
    const out = result.stdout;
    const section = out.indexOf(
      '== bitbucket-oidc-staging-workload: plan as arn:aws:iam::111122223333:role/bitbucket-pipeline/bitbucket-plan',
    );
    const verdict = out.indexOf('Result: ALLOW by 1 of 1 role: staging/bitbucket-plan', section);
    expect(section).toBeGreaterThan(0);
    expect(verdict).toBeGreaterThan(section);
    expect(out.indexOf('Terraform has been successfully initialized!', section)).toBeGreaterThan(verdict);
  });

  it("applies only the deployment's account, with its deploy role", async () => {
    world.run(['plan', 'bitbucket-plan', 'staging'], await sign(fresh(), key));
    world.clearLog();
    const result = world.run(['apply', 'bitbucket-deploy', 'staging'], await sign(fresh({ environmentUuid: EXAMPLE.stagingEnv }), key));
    const calls = world.calls();

    expect(result.status).toBe(0);
    expect(calls.every((c) => c.args.startsWith('-chdir=cdktf.out/stacks/bitbucket-oidc-staging-workload '))).toBe(true);
    expect(calls.every((c) => c.roleArn === 'arn:aws:iam::111122223333:role/bitbucket-pipeline/bitbucket-deploy')).toBe(true);
    expect(calls.map((c) => c.args.split(' ')[1])).toEqual(['init', 'plan', 'show', 'apply']);
  });

  it("stops before Terraform, with the doctor's reason, when the role would refuse the token", async () => {
    world.run(['plan', 'bitbucket-plan', 'production'], await sign(fresh(), key));
    world.clearLog();
    const token = await sign(fresh(), key); // a normal step, not a deployment step
    const result = world.run(['apply', 'bitbucket-deploy', 'production'], token);

    expect(result.status).toBe(1);
    expect(world.calls()).toEqual([]);
    expect(result.stderr).toContain('this step is not a deployment step');
  });

  it('refuses to run without a token, without a configuration, or with several accounts to apply', async () => {
    const token = await sign(fresh(), key);
    const noToken = world.run(['plan', 'bitbucket-plan'], undefined);
    const noConfig = world.run(['plan', 'bitbucket-plan'], token, { BITBUCKET_OIDC_CONFIG: '' });
    const twoAccounts = world.run(['apply', 'bitbucket-deploy', 'staging', 'production'], token);
    const noStack = world.run(['apply', 'bitbucket-deploy', 'qa'], token);
    const noDigestTool = world.run(['plan', 'bitbucket-plan'], token, { PLAN_DIGEST_JS: 'dist/absent.js' });

    expect([noToken.status, noConfig.status, twoAccounts.status, noStack.status, noDigestTool.status]).toEqual([2, 2, 2, 2, 2]);
    expect(noToken.stderr).toContain('add "oidc: true" to this step');
    expect(noConfig.stderr).toContain('BITBUCKET_OIDC_CONFIG is not set');
    expect(twoAccounts.stderr).toContain('apply takes exactly one account');
    expect(noStack.stderr).toContain('account "qa" has no stack cdktf.out/stacks/bitbucket-oidc-qa');
    expect(noDigestTool.stderr).toContain('dist/absent.js is missing: run npm run build:plan-digest first');
    expect(world.calls()).toEqual([]);
  });
});
