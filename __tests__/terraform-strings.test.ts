/**
 * Literal text reaches AWS as written: every string that Terraform would read as a template
 * (`${...}`, `%{...}`) is escaped in the JSON we synthesize, and the HCL export (`cdktf synth --hcl`)
 * holds the very same strings, quotes, backslashes and line breaks included.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { escapeTemplate, unescapeTemplate } from '../src/constructs/template-literal';
import { validateConfig } from '../src/config/validate';
import { buildApp } from '../src/stacks/app';
import { hclString } from '../src/stacks/hcl';

const REPO = '96397bd0-02f7-409e-80c1-d99c0344747a';

/** A role whose policy, description and audience hold template sequences, quotes and a backslash. */
function trickyConfig(): any {
  return {
    workspace: 'acme',
    workspaceUuid: '4ccef084-b141-4ed8-8a6d-f7ee786f4016',
    audiences: ['custom-${audience}'],
    state: { bucket: 'acme-state', region: 'eu-west-1' },
    accounts: [
      {
        name: 'production',
        accountId: '123456789012',
        region: 'eu-west-1',
        roles: [
          {
            name: 'home',
            description: 'Says "hi" with ${not-a-reference}, %{ not-a-directive } and a \\ backslash\non two lines',
            repositories: [{ uuid: REPO, environments: ['74c10e16-5478-4362-8e1b-117147a4112f'] }],
            inlinePolicies: {
              home: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    NotAction: 'iam:*',
                    Resource: 'arn:aws:s3:::acme-home/${aws:username}/*',
                    Condition: {
                      StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' },
                      StringLike: { 's3:prefix': ['%{x}', 'a"b\\c'] },
                    },
                  },
                ],
              },
            },
          },
        ],
      },
    ],
  };
}

/** Synthesizes a configuration as JSON and as HCL; returns both files' text. */
function synthBoth(input: unknown, kind: 'bootstrap' | 'workload' = 'workload'): { json: any; hcl: string } {
  const { config } = validateConfig(input, 'test config');
  const dir = mkdtempSync(path.join(tmpdir(), 'bitbucket-oidc-strings-'));
  const previous = process.env.SYNTH_HCL_OUTPUT;
  try {
    buildApp(config, { outdir: path.join(dir, 'json') }).app.synth();
    process.env.SYNTH_HCL_OUTPUT = 'true';
    buildApp(config, { outdir: path.join(dir, 'hcl') }).app.synth();
    const stack = path.join('stacks', `bitbucket-oidc-production-${kind}`);
    return {
      json: JSON.parse(readFileSync(path.join(dir, 'json', stack, 'cdk.tf.json'), 'utf8')),
      hcl: readFileSync(path.join(dir, 'hcl', stack, 'cdk.tf'), 'utf8'),
    };
  } finally {
    if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = previous;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('template escaping', () => {
  it('escapes ${ as $${ and %{ as %%{, which Terraform reads back as written', () => {
    expect(escapeTemplate('a/${aws:username}/%{x}')).toBe('a/$${aws:username}/%%{x}');
    expect(unescapeTemplate(escapeTemplate('a/${aws:username}/%{x}'))).toBe('a/${aws:username}/%{x}');
  });

  it('keeps a literal $${ literal too', () => {
    expect(unescapeTemplate(escapeTemplate('cost: $${x}'))).toBe('cost: $${x}');
  });

  it('leaves text without template sequences untouched', () => {
    expect(escapeTemplate('arn:aws:s3:::acme/$/{x}/%')).toBe('arn:aws:s3:::acme/$/{x}/%');
  });
});

describe('literal strings in the synthesized JSON', () => {
  const { json } = synthBoth(trickyConfig());
  const bootstrapJson = synthBoth(trickyConfig(), 'bootstrap').json;
  const role = Object.values<any>(json.resource.aws_iam_role)[0];
  const inline = Object.values<any>(json.resource.aws_iam_role_policy)[0];

  it('escapes IAM policy variables in inline policies, and the policy reads back as the user wrote it', () => {
    expect(inline.policy).toContain('arn:aws:s3:::acme-home/$${aws:username}/*');
    expect(inline.policy).not.toMatch(/(^|[^$])\$\{/);
    expect(JSON.parse(unescapeTemplate(inline.policy))).toEqual(trickyConfig().accounts[0].roles[0].inlinePolicies.home);
  });

  it('escapes the description and the custom audience in the provider and the trust policy', () => {
    expect(role.description).toBe('Says "hi" with $${not-a-reference}, %%{ not-a-directive } and a \\ backslash\non two lines');
    const provider = Object.values<any>(bootstrapJson.resource.aws_iam_openid_connect_provider)[0];
    expect(provider.client_id_list).toContain('custom-$${audience}');
    expect(role.assume_role_policy).toContain('custom-$${audience}');
  });
});

describe('the HCL export', () => {
  const stacks = [synthBoth(trickyConfig()), synthBoth(trickyConfig(), 'bootstrap')];

  it('parses, and every attribute of every resource holds the same string as the JSON', async () => {
    let compared = 0;
    for (const { json, hcl } of stacks) {
      const parsed: any = await parseHcl('cdk.tf', hcl);
      for (const [type, resources] of Object.entries<any>(json.resource)) {
        for (const [name, attributes] of Object.entries<any>(resources)) {
          const fromHcl = parsed.resource[type][name][0];
          for (const [attribute, value] of Object.entries<any>(attributes)) {
            if (attribute === '//' || attribute === 'depends_on') continue;
            expect({ [attribute]: fromHcl[attribute] }).toEqual({ [attribute]: value });
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThanOrEqual(10);
  });

  it('writes a literal string as an HCL string with quotes, backslashes and line breaks escaped', () => {
    expect(hclString('a "b" \\ $${c}\nd')).toBe('"a \\"b\\" \\\\ $${c}\\nd"');
  });
});
