/**
 * The drift check: a saved plan's changes as one line each (src/ci/plan-changes.ts).
 */
import { CHANGED_OUTSIDE, DELETED_OUTSIDE, NOT_APPLIED, planChangeLines, PlanDigestError, runPlanChanges } from '../src/ci';
import { planJson } from './support/terraform-oidc';

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
