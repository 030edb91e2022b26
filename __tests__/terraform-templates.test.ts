/**
 * The fast layer under the Terraform acceptance suite: every string of every synthesized
 * `cdk.tf.json` (the same configurations) parses as a Terraform template with HashiCorp's HCL parser,
 * and every reference in it names a block the stack declares. No Terraform binary needed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { acceptanceConfigs, POLICY_VARIABLES_FIXTURE, synthesizeConfig, SynthResult } from './support/terraform/stacks';
import { templateProblems } from './support/terraform/templates';

const CONFIGS = acceptanceConfigs();

describe('Terraform templates in the synthesized JSON', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'bitbucket-oidc-templates-'));
  const synthesized = new Map<string, SynthResult>();

  beforeAll(async () => {
    for (const config of CONFIGS) synthesized.set(config.slug, await synthesizeConfig(config, 'json', path.join(root, config.slug)));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** The stacks of a configuration, parsed; fails with the synth's message when there are none. */
  const stacksOf = (slug: string) => {
    const result = synthesized.get(slug);
    if (result === undefined || result.error !== undefined) throw new Error(`the configuration does not synthesize:\n${result?.error}`);
    return result.stacks.map((stack) => ({ name: stack.name, json: JSON.parse(readFileSync(path.join(stack.dir, stack.file), 'utf8')) }));
  };

  it.each(CONFIGS.map((c) => [c.name, c.slug]))(
    '%s: every string parses as a template and every reference names a declared block',
    async (_name, slug) => {
      const stacks = stacksOf(slug);
      expect(stacks.length).toBeGreaterThan(0);
      for (const { name, json } of stacks) {
        expect({ stack: name, problems: await templateProblems(json) }).toEqual({ stack: name, problems: [] });
      }
    },
  );

  it("reads the fixture's IAM policy variables as escaped literal text ($${aws:username}), not as references", async () => {
    const slug = CONFIGS.find((c) => c.file === POLICY_VARIABLES_FIXTURE)?.slug ?? 'missing';
    const stacks = stacksOf(slug);
    const text = stacks.map((s) => JSON.stringify(s.json)).join('\n');
    expect(text).toContain('$${aws:username}');
    expect(text).toContain('$${aws:PrincipalTag/team}');
    expect(text).toContain('%%{ also literal }');
    for (const { json } of stacks) expect(await templateProblems(json)).toEqual([]);
  });

  it('flags an unescaped policy variable, a stray %{ and references to undeclared blocks', async () => {
    const stack = {
      resource: {
        aws_iam_role: { known: { name: 'known' } },
        aws_iam_role_policy: {
          p: {
            role: '${aws_iam_role.known.name}',
            policy: '{"Resource": "arn:aws:s3:::home/${aws:username}/*"}',
            name: '%{ if true }',
            description: '${aws_iam_role.unknown.arn}',
            depends_on: ['aws_iam_policy.absent'],
          },
        },
      },
      output: { o: { value: '${var.undeclared}' } },
    };
    const problems = await templateProblems(stack);
    expect(problems.map((p) => [p.path, p.problem.replace(/^cdk\.tf\.json:[\d,-]+: /, '').split(';')[0]])).toEqual([
      ['resource.aws_iam_role_policy.p.policy', 'Extra characters after interpolation expression'],
      ['resource.aws_iam_role_policy.p.name', 'Unexpected end of template'],
      ['resource.aws_iam_role_policy.p.description', 'reference to undeclared aws_iam_role.unknown.arn'],
      ['resource.aws_iam_role_policy.p.depends_on.0', 'reference to undeclared aws_iam_policy.absent'],
      ['output.o.value', 'reference to undeclared var.undeclared'],
    ]);
  });
});
