/**
 * The drift check (the custom pipeline `drift-check`): a saved plan's changes as one line each
 * (src/ci/plan-changes.ts), then `scripts/terraform-oidc.sh drift` with a stand-in terraform: every
 * account checked with its plan role, a change found fails it (exit 3) with one line per change, an
 * account that cannot be checked fails it as an error (exit 1). The rehearsal runs the pipeline itself
 * against a local AWS changed behind Terraform's back (__tests__/rehearsal.test.ts).
 */
import { CHANGED_OUTSIDE, DELETED_OUTSIDE, NOT_APPLIED, planChangeLines, PlanDigestError, runPlanChanges } from '../src/ci';
import { claims, makeKey, sign, TestKey } from './support/doctor';
import { planJson, ScriptWorld, scriptWorld } from './support/terraform-oidc';

const STAGING = 'bitbucket-oidc-staging-workload';
const PRODUCTION = 'bitbucket-oidc-production-workload';

/** A resource instance's entry of `resource_changes` or `resource_drift`. */
const entry = (address: string, actions: string[], extra: Record<string, unknown> = {}, change: Record<string, unknown> = {}) => ({
  address,
  mode: address.startsWith('data.') ? 'data' : 'managed',
  type: address.replace(/^data\./, '').split('.')[0],
  name: address.split('.').pop(),
  change: { actions, before: {}, after: {}, after_unknown: {}, ...change },
  ...extra,
});

/** A plan's JSON document with these resource changes and drift (and no output changes unless given). */
const planOf = (changes: object[], drift: object[] = [], outputs: Record<string, object> = {}) =>
  planJson('unused', { resource_changes: changes, resource_drift: drift, output_changes: outputs });
const plan = (...args: Parameters<typeof planOf>) => JSON.stringify(planOf(...args));

describe("a plan's changes, one line each", () => {
  it('names each changed resource with its action and whether it changed outside Terraform, in address order', () => {
    const lines = planChangeLines(
      plan(
        [
          entry('aws_iam_role_policy.web-upload', ['update']),
          entry('aws_iam_role.web', ['update']),
          entry('aws_iam_role_policy_attachment.web-read', ['create']),
          entry('aws_iam_role.api', ['no-op']),
        ],
        [entry('aws_iam_role.web', ['update']), entry('aws_iam_role_policy_attachment.web-read', ['delete'])],
      ),
    );

    expect(lines).toEqual([
      `aws_iam_role.web: update (${CHANGED_OUTSIDE})`,
      `aws_iam_role_policy.web-upload: update (${NOT_APPLIED})`,
      `aws_iam_role_policy_attachment.web-read: create (${DELETED_OUTSIDE})`,
    ]);
  });

  it('words replacements, reads, moves, imports, deposed objects and outputs, and drops no action it does not know', () => {
    const lines = planChangeLines(
      plan(
        [
          entry('aws_iam_role.a', ['delete', 'create']),
          entry('aws_iam_role.b', ['create', 'delete']),
          entry('aws_iam_role.c', ['no-op'], { previous_address: 'aws_iam_role.old' }),
          entry('aws_iam_role.d', ['no-op'], {}, { importing: { id: 'web-deploy' } }),
          entry('aws_iam_role.e', ['update'], {}, { importing: { id: 'api-deploy' } }),
          entry('aws_iam_role.f', ['delete'], { deposed: '00000001' }),
          entry('aws_iam_role.g', ['frobnicate']),
          entry('data.aws_iam_policy_document.h', ['read']),
        ],
        [],
        { role_arns: { actions: ['update'] }, unchanged: { actions: ['no-op'] } },
      ),
    );

    expect(lines).toEqual([
      `aws_iam_role.a: replace (delete, then create) (${NOT_APPLIED})`,
      `aws_iam_role.b: replace (create, then delete) (${NOT_APPLIED})`,
      `aws_iam_role.c: moved from aws_iam_role.old (${NOT_APPLIED})`,
      `aws_iam_role.d: import web-deploy (${NOT_APPLIED})`,
      `aws_iam_role.e: import api-deploy, then update (${NOT_APPLIED})`,
      `aws_iam_role.f (deposed object 00000001): delete (${NOT_APPLIED})`,
      `aws_iam_role.g: frobnicate (${NOT_APPLIED})`,
      'data.aws_iam_policy_document.h: read',
      'output.role_arns: update',
    ]);
  });

  it('has no line for a plan without changes', () => {
    expect(planChangeLines(plan([entry('aws_iam_role.web', ['no-op'])], [entry('aws_iam_role.web', ['no-op'])]))).toEqual([]);
  });

  it.each([
    ['text that is not JSON', 'Plan: 1 to add', 'is not JSON'],
    ['a state instead of a plan', JSON.stringify({ format_version: '1.0', values: {} }), "is a state's JSON"],
    ['drift that is not a list', JSON.stringify({ ...planJson('x'), resource_drift: {} }), '"resource_drift" must be a list'],
    [
      'a drift entry without an address',
      JSON.stringify({ ...planJson('x'), resource_drift: [{ change: {} }] }),
      'resource_drift[0] must be an object with "address" (a string) and "change" (an object)',
    ],
  ])('refuses %s, naming the rule', (_what, input, message) => {
    expect(() => planChangeLines(input)).toThrow(PlanDigestError);
    expect(() => planChangeLines(input)).toThrow(message);
  });

  it('is printed by its command, which reads stdin and exits 2 on input that is not a plan', () => {
    const run = (stdin: string, argv: string[] = []) => {
      const out: string[] = [];
      const err: string[] = [];
      return { code: runPlanChanges({ argv, stdin, stdout: (l) => out.push(l), stderr: (l) => err.push(l) }), out, err };
    };

    expect(run(plan([entry('aws_iam_role.web', ['update'])]))).toEqual({
      code: 0,
      out: [`aws_iam_role.web: update (${NOT_APPLIED})`],
      err: [],
    });
    expect(run('{}')).toMatchObject({ code: 2, out: [] });
    expect(run('{}').err[0]).toMatch(/^error: the plan JSON on stdin is not the JSON of a saved plan/);
    expect(run('', ['plan.json']).err[0]).toContain('plan-changes takes no arguments, and it was given "plan.json"');
  });
});

describe('scripts/terraform-oidc.sh drift (stand-in terraform)', () => {
  let world: ScriptWorld;
  let key: TestKey;
  const clean = (account: string) => planOf([entry(`aws_iam_role.${account}-deploy`, ['no-op'])]);
  const driftStep = async (extra: NodeJS.ProcessEnv = {}) =>
    world.run(['drift', 'bitbucket-plan'], await sign(claims({ issuedAt: Math.floor(Date.now() / 1000) - 60 }), key), extra);

  beforeAll(async () => {
    world = scriptWorld('drift-check-');
    key = await makeKey('k');
  });
  afterAll(() => world.remove());
  beforeEach(() => {
    world.clearLog();
    world.setPlan('staging', clean('staging'));
    world.setPlan('production', clean('production'));
    world.failPlans('production', false);
  });

  it('plans every account with its plan role and -detailed-exitcode, keeps nothing, and passes saying every account was checked', async () => {
    const result = await driftStep();
    const calls = world.calls();

    expect(result.status).toBe(0);
    expect(
      calls.map((c) => [
        c.roleArn.split(':')[4],
        c.args
          .split(' ')
          .slice(1)
          .join(' ')
          .replace(/-out=\S+/, '-out=<file>'),
      ]),
    ).toEqual([
      ['444455556666', 'init -input=false -lockfile=readonly -no-color'],
      ['444455556666', 'plan -input=false -no-color -lock-timeout=5m -detailed-exitcode -out=<file>'],
      ['111122223333', 'init -input=false -lockfile=readonly -no-color'],
      ['111122223333', 'plan -input=false -no-color -lock-timeout=5m -detailed-exitcode -out=<file>'],
    ]);
    expect(calls.every((c) => c.roleArn.endsWith(':role/bitbucket-pipeline/bitbucket-plan'))).toBe(true);
    expect(result.stdout.trim().split('\n').pop()).toBe(
      '== checked 2 account(s) for drift: every workload stack matches its configuration',
    );
    expect(world.read(`plans/${STAGING}.txt`)).toBeUndefined();
  });

  it('fails with exit 3 and one line per changed resource, naming its stack, when an account drifted', async () => {
    world.setPlan(
      'staging',
      planOf(
        [entry('aws_iam_role.web', ['update']), entry('aws_iam_role_policy.web-upload', ['update'])],
        [entry('aws_iam_role.web', ['update'])],
      ),
    );
    const result = await driftStep();

    expect(result.status).toBe(3);
    expect(result.stdout).toContain(`== ${PRODUCTION}: no changes`);
    expect(result.stdout.trim().split('\n').slice(-3)).toEqual([
      'drift: 1 of 2 accounts differ from their configuration, one line per change (the plans are above; what to do: docs/pipeline.md#drift-checks):',
      `drift: ${STAGING}: aws_iam_role.web: update (${CHANGED_OUTSIDE})`,
      `drift: ${STAGING}: aws_iam_role_policy.web-upload: update (${NOT_APPLIED})`,
    ]);
    expect(result.stderr).not.toContain('error:');
  });

  it('fails as an error (exit 1), not as drift, when an account cannot be checked, and still checks and lists the others', async () => {
    world.failPlans('production', true);
    world.setPlan('staging', planOf([entry('aws_iam_role.web', ['delete'])]));
    const result = await driftStep();

    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`drift: ${STAGING}: aws_iam_role.web: delete (${NOT_APPLIED})`);
    expect(result.stderr.trim().split('\n').pop()).toBe(
      'error: the drift check failed for 1 of 2 accounts, which were not checked: production (terraform plan failed, exit 1). Their output is above, under == bitbucket-oidc-<account>-workload',
    );
  });

  it('refuses to start without the bundled plan-changes, before running anything', async () => {
    const result = await driftStep({ PLAN_CHANGES_JS: 'dist/absent.js' });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('dist/absent.js is missing: run npm run build:plan-changes first');
    expect(world.calls()).toEqual([]);
  });
});
