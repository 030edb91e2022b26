/**
 * Applying what was reviewed: the plan step keeps each account's plan text and the digest of its
 * changes; the deploy step plans again, applies that saved plan only when its digest equals the
 * reviewed one, and refuses otherwise. The digest itself (src/ci/reviewed-plan.ts), then
 * scripts/terraform-oidc.sh with a stand-in terraform, then once with the real terraform when one is
 * on the PATH (its built-in terraform_data resource needs no provider download).
 */
import { spawnSync } from 'child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { canonicalJson, planDigest, PlanDigestError, runPlanDigest } from '../src/ci';
import { claims, EXAMPLE, makeKey, sign, TestKey } from './support/doctor';
import { planJson, ScriptWorld, scriptWorld } from './support/terraform-oidc';
import { hermeticEnv } from './support/hermetic-env';

const STAGING = 'bitbucket-oidc-staging-workload';
const PRODUCTION = 'bitbucket-oidc-production-workload';
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const digest = (plan: unknown): string => planDigest(JSON.stringify(plan));

/** The same value with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reverseKeys(v)]),
  );
}

describe('the plan digest', () => {
  const base = planJson('web-deploy');

  it('is sha256: and 64 hex digits', () => {
    expect(digest(base)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('is the same for two plans of the same changes, whatever their timestamp, Terraform version, prior state and key order', () => {
    const other = {
      ...clone(base),
      timestamp: '2030-01-01T00:00:00Z',
      terraform_version: '1.99.0',
      prior_state: { values: { secret: 'x' } },
      configuration: {},
    };

    expect(digest(other)).toBe(digest(base));
    expect(JSON.stringify(reverseKeys(base))).not.toBe(JSON.stringify(base));
    expect(digest(reverseKeys(base))).toBe(digest(base));
  });

  it('does not depend on the order in which Terraform lists the resources', () => {
    const two = planJson('a', {
      resource_changes: [...(planJson('a').resource_changes as unknown[]), ...(planJson('b').resource_changes as unknown[])],
    });
    const reversed = { ...clone(two), resource_changes: [...(two.resource_changes as unknown[])].reverse() };

    expect(digest(reversed)).toBe(digest(two));
  });

  const changes: Array<[string, (plan: any) => void]> = [
    [
      'an action',
      (p) => {
        p.resource_changes[0].change.actions = ['delete', 'create'];
      },
    ],
    [
      'a value after the change',
      (p) => {
        p.resource_changes[0].change.after.path = '/other/';
      },
    ],
    [
      'a value before the change (the state)',
      (p) => {
        p.resource_changes[0].change.before = { name: 'web-deploy' };
      },
    ],
    [
      'what is unknown until applied',
      (p) => {
        p.resource_changes[0].change.after_unknown.name = true;
      },
    ],
    [
      'an address',
      (p) => {
        p.resource_changes[0].address = 'aws_iam_role.other';
      },
    ],
    [
      'a deposed object',
      (p) => {
        p.resource_changes[0].deposed = '00000001';
      },
    ],
    [
      'a resource more',
      (p) => {
        p.resource_changes.push((planJson('extra').resource_changes as unknown[])[0]);
      },
    ],
    [
      'an output change',
      (p) => {
        p.output_changes.role_arns.actions = ['update'];
      },
    ],
    [
      'an output more',
      (p) => {
        p.output_changes.extra = { actions: ['create'], before: null, after: 'x', after_unknown: false };
      },
    ],
  ];
  it.each(changes)('changes when %s changes', (_what, change) => {
    const changed = clone(base);
    change(changed);

    expect(digest(changed)).not.toBe(digest(base));
  });

  it('treats a plan without resources or outputs as empty lists', () => {
    const empty = { format_version: '1.2', planned_values: { root_module: {} } };

    expect(digest(empty)).toBe(digest({ ...empty, resource_changes: [], output_changes: {} }));
  });

  it.each([
    ['empty input', '', 'the plan JSON is not JSON (it is empty): it must be the output of terraform show -json <planfile>'],
    ['text that is not JSON', 'Plan: 1 to add', 'the plan JSON is not JSON ('],
    [
      "a state's JSON",
      JSON.stringify({ format_version: '1.0', values: {} }),
      "is a state's JSON (terraform show -json without a plan file)",
    ],
    [
      'a list',
      '[]',
      'is not the JSON of a saved plan: it must be the output of terraform show -json <planfile>, an object with "format_version" and "planned_values"',
    ],
    [
      'resource changes that are not a list',
      JSON.stringify({ ...planJson('x'), resource_changes: {} }),
      '"resource_changes" must be a list',
    ],
    [
      'a resource change without an address',
      JSON.stringify({ ...planJson('x'), resource_changes: [{ change: {} }] }),
      'resource_changes[0] must be an object with "address" (a string) and "change" (an object)',
    ],
  ])('refuses %s, naming the rule', (_what, input, message) => {
    expect(() => planDigest(input)).toThrow(PlanDigestError);
    expect(() => planDigest(input)).toThrow(message);
  });

  it('writes canonical JSON: keys sorted at every level, no whitespace', () => {
    expect(canonicalJson({ b: [{ d: 1, c: null }], a: 'x', skipped: undefined })).toBe('{"a":"x","b":[{"c":null,"d":1}]}');
  });

  it('is printed by its command, which reads stdin and exits 2 on input that is not a plan', () => {
    const run = (stdin: string, argv: string[] = []) => {
      const out: string[] = [];
      const err: string[] = [];
      return { code: runPlanDigest({ argv, stdin, stdout: (l) => out.push(l), stderr: (l) => err.push(l) }), out, err };
    };

    expect(run(JSON.stringify(base))).toMatchObject({ code: 0, out: [digest(base)], err: [] });
    expect(run('{}')).toMatchObject({ code: 2, out: [] });
    expect(run('{}').err[0]).toMatch(/^error: the plan JSON on stdin is not the JSON of a saved plan/);
    expect(run('', ['plan.json']).err[0]).toContain(
      'plan-digest takes no arguments, and it was given "plan.json"; it reads the plan\'s JSON from stdin',
    );
  });
});

describe('scripts/terraform-oidc.sh applies only the reviewed plan (stand-in terraform)', () => {
  let world: ScriptWorld;
  let key: TestKey;
  const fresh = (options: Parameters<typeof claims>[0] = {}) => claims({ issuedAt: Math.floor(Date.now() / 1000) - 60, ...options });
  const planStep = async (...accounts: string[]) => world.run(['plan', 'bitbucket-plan', ...accounts], await sign(fresh(), key));
  const deployStep = async (account: 'staging' | 'production') =>
    world.run(
      ['apply', 'bitbucket-deploy', account],
      await sign(fresh({ environmentUuid: account === 'staging' ? EXAMPLE.stagingEnv : EXAMPLE.productionEnv }), key),
    );

  beforeAll(async () => {
    world = scriptWorld('reviewed-apply-');
    key = await makeKey('k');
  });
  afterAll(() => world.remove());
  beforeEach(() => {
    world.clearLog();
    world.setPlan('staging', planJson('staging-deploy'));
    world.setPlan('production', planJson('production-deploy'));
    world.failPlans('staging', false);
    world.failPlans('production', false);
  });

  it('keeps, per account, the plan text and the digest of its changes, and never the plan file or its JSON', async () => {
    const result = await planStep();

    expect(result.status).toBe(0);
    expect(readdirSync(path.join(world.dir, 'plans')).sort()).toEqual([
      `${PRODUCTION}.digest`,
      `${PRODUCTION}.txt`,
      `${STAGING}.digest`,
      `${STAGING}.txt`,
    ]);
    expect(world.read(`plans/${STAGING}.digest`)).toBe(`${digest(planJson('staging-deploy'))}\n`);
    expect(world.read(`plans/${STAGING}.txt`)).toContain('# aws_iam_role.staging-deploy will be created');
    for (const file of readdirSync(path.join(world.dir, 'plans'))) expect(world.read(`plans/${file}`)).not.toContain('resource_changes');
    expect(result.stdout).toContain(`== ${STAGING}: plan to review in plans/${STAGING}.txt, digest ${digest(planJson('staging-deploy'))}`);
  });

  it('applies exactly the saved plan file of its own plan, without planning again, when that plan is the reviewed one', async () => {
    await planStep('staging');
    world.clearLog();
    const result = await deployStep('staging');
    const args = world.calls().map((c) => c.args.replace(`-chdir=cdktf.out/stacks/${STAGING} `, ''));
    const planFile = args[1].split('-out=')[1];

    expect(result.status).toBe(0);
    expect(args).toEqual([
      'init -input=false -lockfile=readonly -no-color',
      `plan -input=false -no-color -lock-timeout=5m -out=${planFile}`,
      `show -json ${planFile}`,
      `apply -input=false -no-color -lock-timeout=5m ${planFile}`,
    ]);
    expect(args.join(' ')).not.toContain('-auto-approve');
    expect(result.stdout).toContain(
      `== ${STAGING}: the plan equals the reviewed one (digest ${digest(planJson('staging-deploy'))}); applying that saved plan`,
    );
    expect(result.stdout).toContain('Apply complete! Applied the saved plan');
  });

  it('refuses when the plan changed since the review, naming the account and both digests, and printing its own plan', async () => {
    await planStep('staging');
    const reviewed = digest(planJson('staging-deploy'));
    const drifted = planJson('staging-deploy-renamed');
    world.setPlan('staging', drifted);
    world.clearLog();
    const result = await deployStep('staging');

    expect(result.status).toBe(1);
    expect(world.calls().map((c) => c.args.split(' ')[1])).toEqual(['init', 'plan', 'show', 'show']);
    expect(result.stderr).toContain(
      `error: account "staging": the plan of this deploy step (digest ${digest(drifted)}) differs from the plan reviewed in the plan step (plans/${STAGING}.txt, digest ${reviewed}), so nothing was applied.`,
    );
    expect(result.stdout).toContain(`== ${STAGING}: the plan of this deploy step, NOT applied:`);
    expect(result.stdout).toContain('# aws_iam_role.staging-deploy-renamed will be created');
  });

  it('refuses to apply without a reviewed digest, or with a digest file that is not one, before running anything', async () => {
    rmSync(path.join(world.dir, 'plans', `${PRODUCTION}.digest`), { force: true });
    const missing = await deployStep('production');
    writeFileSync(path.join(world.dir, 'plans', `${PRODUCTION}.digest`), 'not a digest\n');
    const malformed = await deployStep('production');

    expect([missing.status, malformed.status]).toEqual([1, 1]);
    expect(missing.stderr).toContain(
      `account "production": plans/${PRODUCTION}.digest is missing, so there is no reviewed plan to compare with`,
    );
    expect(malformed.stderr).toContain(`plans/${PRODUCTION}.digest holds "not a digest", and it must be one line sha256:<64 hex digits>`);
    expect(world.calls()).toEqual([]);
  });

  it('plans every account when one fails, then lists the failures and exits non-zero', async () => {
    world.failPlans('production', true);
    const result = await planStep();
    const lastLine = result.stderr.trim().split('\n').pop();

    expect(result.status).toBe(1);
    // production comes first (alphabetical) and fails; staging is planned all the same.
    expect(
      world
        .calls()
        .filter((c) => c.args.includes(' plan '))
        .map((c) => c.args.split(' ')[0]),
    ).toEqual([`-chdir=cdktf.out/stacks/${PRODUCTION}`, `-chdir=cdktf.out/stacks/${STAGING}`]);
    expect(world.read(`plans/${STAGING}.digest`)).toMatch(/^sha256:/);
    expect(world.read(`plans/${PRODUCTION}.digest`)).toBeUndefined();
    expect(world.read(`plans/${PRODUCTION}.txt`)).toBeUndefined();
    expect(lastLine).toBe(
      `error: the plan failed for 1 of 2 accounts: production (terraform plan failed, exit 1). Their output is above, under == bitbucket-oidc-<account>-workload; the other accounts' plans are in plans/`,
    );
  });

  it('lists every failed account, whatever failed, when several fail', async () => {
    world.failPlans('staging', true);
    const stranger = world.run(['plan', 'bitbucket-plan'], await sign(fresh({ repositoryUuid: EXAMPLE.stranger }), key));
    world.failPlans('staging', false);

    expect(stranger.status).toBe(1);
    expect(stranger.stderr).toContain(
      'error: the plan failed for 2 of 2 accounts: production (the token doctor failed, exit 1); staging (the token doctor failed, exit 1).',
    );
    expect(world.calls()).toEqual([]);
  });
});

const terraformOnPath = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
(terraformOnPath ? describe : describe.skip)(
  'scripts/terraform-oidc.sh with the real terraform on the PATH (terraform_data, local state)',
  () => {
    let world: ScriptWorld;
    let key: TestKey;
    const fresh = (options: Parameters<typeof claims>[0] = {}) => claims({ issuedAt: Math.floor(Date.now() / 1000) - 60, ...options });
    const env = { TERRAFORM: 'terraform', CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
    const planStep = async () => world.run(['plan', 'bitbucket-plan', 'staging'], await sign(fresh(), key), env);
    const deployStep = async () =>
      world.run(['apply', 'bitbucket-deploy', 'staging'], await sign(fresh({ environmentUuid: EXAMPLE.stagingEnv }), key), env);
    const stackDir = () => path.join(world.dir, 'cdktf.out', 'stacks', STAGING);
    const state = () =>
      JSON.parse(readFileSync(path.join(stackDir(), 'terraform.tfstate'), 'utf8')) as {
        resources: Array<{ instances: Array<{ attributes: { input: { value: string } } }> }>;
      };

    beforeAll(async () => {
      world = scriptWorld('reviewed-apply-real-');
      key = await makeKey('k');
      mkdirSync(stackDir(), { recursive: true });
      writeFileSync(
        path.join(stackDir(), 'main.tf'),
        'resource "terraform_data" "role" {\n  input = "reviewed"\n}\noutput "role" {\n  value = terraform_data.role.output\n}\n',
      );
    });
    afterAll(() => world.remove());

    it('applies the reviewed plan, then refuses a plan made stale by another apply in between', async () => {
      const plan = await planStep();
      expect(plan.status).toBe(0);
      expect(world.read(`plans/${STAGING}.txt`)).toContain('terraform_data.role will be created');

      const deploy = await deployStep();
      expect(deploy.stderr).toBe('');
      expect(deploy.status).toBe(0);
      expect(state().resources[0].instances[0].attributes.input.value).toBe('reviewed');

      // A new plan is reviewed; before its deploy step runs, someone else applies another change.
      writeFileSync(
        path.join(stackDir(), 'main.tf'),
        readFileSync(path.join(stackDir(), 'main.tf'), 'utf8').replace('"reviewed"', '"changed"'),
      );
      expect((await planStep()).status).toBe(0);
      const reviewed = world.read(`plans/${STAGING}.txt`);
      expect(reviewed).toContain('~ input  = "reviewed" -> "changed"');
      const other = spawnSync('terraform', [`-chdir=${stackDir()}`, 'apply', '-auto-approve', '-input=false', '-no-color'], {
        encoding: 'utf8',
        env: hermeticEnv({ ...env, HOME: world.dir }),
      });
      expect(other.status).toBe(0);

      const stale = await deployStep();
      expect(stale.status).toBe(1);
      expect(stale.stderr).toContain('error: account "staging": the plan of this deploy step (digest sha256:');
      expect(stale.stdout).toContain('the plan of this deploy step, NOT applied:');
    }, 120_000);
  },
);
