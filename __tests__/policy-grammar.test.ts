/**
 * Inline policies as AWS writes them: a standard IAM policy document per policy name, read and checked
 * against IAM's grammar before synthesis, every problem reported with its field, value and rule.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { readPolicyDocument } from '../src/iam/grammar';
import { validateConfig } from '../src/config/validate';
import { configProblems } from './support/config-problems';

const REPO = '96397bd0-02f7-409e-80c1-d99c0344747a';
/** A deployment environment, so that the role's permissions raise no finding for every-step trust. */
const ENV = '74c10e16-5478-4362-8e1b-117147a4112f';
const ROLE = 'accounts[0].roles[0]';

function config(inlinePolicies: unknown): any {
  return {
    workspace: 'acme',
    workspaceUuid: '4ccef084-b141-4ed8-8a6d-f7ee786f4016',
    state: { bucket: 'acme-state', region: 'eu-west-1' },
    accounts: [
      {
        name: 'production',
        accountId: '123456789012',
        region: 'eu-west-1',
        roles: [{ name: 'deploy', repositories: [{ uuid: REPO, environments: [ENV] }], inlinePolicies }],
      },
    ],
  };
}

function problemsOf(inlinePolicies: unknown, baseDir?: string): { path: string; message: string }[] {
  return configProblems(config(inlinePolicies), baseDir);
}

/** The one problem of a single policy `document` named "p": its path below the policy, and message. */
function problemOf(document: unknown): { at: string; message: string } {
  const found = problemsOf({ p: document });
  expect(found).toHaveLength(1);
  return { at: found[0].path.replace(`${ROLE}.inlinePolicies.p`, ''), message: found[0].message };
}

const allow = (statement: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Action: 's3:GetObject',
  Resource: 'arn:aws:s3:::acme/*',
  ...statement,
});
const policy = (...statements: unknown[]) => ({ Version: '2012-10-17', Statement: statements });

describe('inline policies as AWS writes them', () => {
  it('accepts a pasted AWS policy with NotAction, a string Action and policy variables, as written', () => {
    const pasted = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'EverythingButIam', Effect: 'Allow', NotAction: ['iam:*', 'organizations:*'], Resource: '*' },
        {
          Sid: 'OwnHome',
          Effect: 'Allow',
          Action: 's3:*',
          Resource: 'arn:aws:s3:::acme-home/${aws:PrincipalTag/team}/*',
          Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } },
        },
      ],
    };
    const { config: resolved } = validateConfig(config({ 'team-home': pasted }));
    expect(resolved.accounts[0].roles[0].inlinePolicies['team-home']).toEqual(pasted);
  });

  it('takes a single statement object as well as a list, and stores a list', () => {
    const { config: resolved } = validateConfig(config({ p: { Version: '2012-10-17', Statement: allow() } }));
    expect(resolved.accounts[0].roles[0].inlinePolicies.p.Statement).toEqual([allow()]);
  });

  it('writes booleans and numbers in conditions as the strings IAM stores', () => {
    const { config: resolved } = validateConfig(
      config({ p: policy(allow({ Condition: { Bool: { 'aws:SecureTransport': true }, NumericLessThan: { 's3:max-keys': 10 } } })) }),
    );
    expect(resolved.accounts[0].roles[0].inlinePolicies.p.Statement[0].Condition).toEqual({
      Bool: { 'aws:SecureTransport': 'true' },
      NumericLessThan: { 's3:max-keys': '10' },
    });
  });

  it('takes NotResource, IfExists and set operators', () => {
    expect(problemsOf({ p: policy(allow({ Resource: undefined, NotResource: 'arn:aws:s3:::secrets/*' })) })).toEqual([]);
    expect(
      problemsOf({
        p: policy(
          allow({
            Condition: {
              StringEqualsIfExists: { 'aws:RequestedRegion': 'eu-west-1' },
              'ForAnyValue:StringLike': { 'aws:TagKeys': ['team*'] },
            },
          }),
        ),
      }),
    ).toEqual([]);
  });

  it('reads a policy from a JSON file beside the configuration', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bitbucket-oidc-policy-'));
    try {
      writeFileSync(path.join(dir, 'upload.json'), JSON.stringify(policy(allow({ Action: 's3:PutObject' }))));
      const { config: resolved } = validateConfig(config({ upload: 'upload.json' }), 'test.json', dir);
      expect(resolved.accounts[0].roles[0].inlinePolicies.upload.Statement[0].Action).toBe('s3:PutObject');
      const missing = problemsOf({ upload: 'missing.json' }, dir);
      expect(missing).toEqual([expect.objectContaining({ path: `${ROLE}.inlinePolicies.upload` })]);
      expect(missing[0].message).toMatch(
        /"missing.json" cannot be read \(ENOENT at .*missing.json\); paths are relative to the configuration file/,
      );
      writeFileSync(path.join(dir, 'broken.json'), '{"Version": "2012-10-17",}');
      expect(problemsOf({ upload: 'broken.json' }, dir)[0].message).toContain('is not valid JSON at line 1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses the retired list form with the form to use instead', () => {
    const found = problemsOf([{ name: 'p', statements: [{ actions: ['s3:GetObject'], resources: ['*'] }] }]);
    expect(found).toHaveLength(1);
    expect(found[0].path).toBe(`${ROLE}.inlinePolicies`);
    expect(found[0].message).toContain('must be an object of policy names to IAM policy documents');
  });

  it('reports every problem of every policy in one run', () => {
    const found = problemsOf({
      a: policy(allow({ Action: 'GetObject' }), allow({ Effect: 'allow' })),
      b: { Statement: allow({ Resource: 'bucket' }) },
    });
    expect(found.map((p) => p.path)).toEqual([
      `${ROLE}.inlinePolicies.a.Statement[0].Action`,
      `${ROLE}.inlinePolicies.a.Statement[1].Effect`,
      `${ROLE}.inlinePolicies.b.Version`,
      `${ROLE}.inlinePolicies.b.Statement.Resource`,
    ]);
  });
});

describe('the IAM policy grammar', () => {
  it('requires Version, and refuses policy variables under 2008-10-17, which reads them literally', () => {
    expect(problemOf({ Statement: [allow()] })).toMatchObject({
      at: '.Version',
      message: expect.stringContaining('is required: "2012-10-17"'),
    });
    expect(problemOf({ Version: '2012-10-18', Statement: [allow()] }).message).toContain('"2012-10-18" must be "2012-10-17"');
    expect(problemsOf({ p: { Version: '2008-10-17', Statement: [allow()] } })).toEqual([]);
    const legacy = problemOf({ Version: '2008-10-17', Statement: [allow({ Resource: 'arn:aws:s3:::home/${aws:username}/*' })] });
    expect(legacy).toMatchObject({ at: '.Version', message: expect.stringContaining('they need "Version": "2012-10-17"') });
    expect(legacy.message).toContain('${aws:username}');
  });

  it('requires a Statement, and at least one in a list', () => {
    expect(problemOf({ Version: '2012-10-17' })).toMatchObject({ at: '.Statement', message: expect.stringContaining('is required') });
    expect(problemOf(policy()).message).toContain('must list at least one statement');
  });

  it('takes Effect Allow or Deny only, with its case', () => {
    expect(problemOf(policy(allow({ Effect: 'allow' })))).toMatchObject({
      at: '.Statement[0].Effect',
      message: expect.stringContaining('"allow" must be "Allow" or "Deny"'),
    });
    expect(problemOf(policy(allow({ Effect: undefined }))).at).toBe('.Statement[0].Effect');
  });

  it('takes actions as service:Action with * and ? wildcards', () => {
    expect(problemsOf({ p: policy(allow({ Action: ['s3:Get*', 'ec2:Describe?pc*'] })) })).toEqual([]);
    expect(readPolicyDocument('p', policy(allow({ Action: '*' })), () => undefined)).toBeDefined();
    expect(problemOf(policy(allow({ Action: ['s3:GetObject', 'GetObject'] })))).toMatchObject({
      at: '.Statement[0].Action[1]',
      message: expect.stringContaining('service:Action'),
    });
    expect(problemOf(policy(allow({ Action: [] }))).message).toContain('a string or a non-empty list of actions');
    expect(problemOf(policy(allow({ Action: [7] }))).at).toBe('.Statement[0].Action[0]');
  });

  it('takes resources as * or ARNs', () => {
    expect(
      problemsOf({
        p: policy(
          allow({ Action: 's3:ListBucket', Resource: ['*', 'arn:aws-cn:s3:::b/*', 'arn:aws:iam::${aws:PrincipalAccount}:role/x'] }),
        ),
      }),
    ).toEqual([]);
    expect(problemOf(policy(allow({ Resource: 'acme-bucket' })))).toMatchObject({
      at: '.Statement[0].Resource',
      message: expect.stringContaining('be * or an ARN'),
    });
    expect(problemOf(policy(allow({ Resource: 'arn:aws' }))).at).toBe('.Statement[0].Resource');
  });

  it('needs exactly one of Action and NotAction, and of Resource and NotResource', () => {
    expect(problemOf(policy(allow({ NotAction: 'iam:*' })))).toMatchObject({
      at: '.Statement[0].NotAction',
      message: expect.stringContaining('cannot be used together with Action'),
    });
    expect(problemOf(policy(allow({ Action: undefined })))).toMatchObject({
      at: '.Statement[0].Action',
      message: expect.stringContaining('is required (or NotAction)'),
    });
    expect(problemOf(policy(allow({ Resource: undefined })))).toMatchObject({
      at: '.Statement[0].Resource',
      message: expect.stringContaining('is required (or NotResource)'),
    });
    expect(problemOf(policy(allow({ NotResource: '*' }))).at).toBe('.Statement[0].NotResource');
  });

  it('refuses Principal and NotPrincipal, which belong to trust and resource policies', () => {
    expect(problemOf(policy(allow({ Principal: { AWS: '*' } })))).toMatchObject({
      at: '.Statement[0].Principal',
      message: expect.stringContaining("has no place in a role's permissions policy"),
    });
    expect(problemOf(policy(allow({ NotPrincipal: { AWS: '*' } }))).at).toBe('.Statement[0].NotPrincipal');
  });

  it('names the field a misspelt one most likely meant', () => {
    const found = problemsOf({ p: policy({ Effect: 'Allow', Actions: 's3:GetObject', Resource: '*' }) });
    expect(found.map((p) => p.path)).toEqual([
      `${ROLE}.inlinePolicies.p.Statement[0].Actions`,
      `${ROLE}.inlinePolicies.p.Statement[0].Action`,
    ]);
    expect(found[0].message).toContain('unknown field; did you mean "Action"?');
    expect(problemOf({ Version: '2012-10-17', Statements: [allow()], Statement: [allow()] }).message).toContain(
      'did you mean "Statement"?',
    );
  });

  it('refuses condition operators IAM does not know, with its qualifiers and IfExists known', () => {
    expect(problemOf(policy(allow({ Condition: { StringEqual: { 'aws:RequestedRegion': 'eu-west-1' } } })))).toMatchObject({
      at: '.Statement[0].Condition.StringEqual',
      message: expect.stringContaining('is not an IAM condition operator'),
    });
    expect(problemOf(policy(allow({ Condition: { 'ForAllValue:StringEquals': { 'aws:TagKeys': 'team' } } }))).at).toBe(
      '.Statement[0].Condition.ForAllValue:StringEquals',
    );
  });

  it('refuses condition keys without a service prefix and empty condition values', () => {
    expect(problemOf(policy(allow({ Condition: { StringEquals: { RequestedRegion: 'eu-west-1' } } }))).message).toContain('service:name');
    expect(problemOf(policy(allow({ Condition: { StringEquals: { 'aws:RequestedRegion': [] } } }))).message).toContain('non-empty list');
    expect(problemOf(policy(allow({ Condition: {} }))).at).toBe('.Statement[0].Condition');
  });

  it('refuses a Sid that is not alphanumeric, and a Sid used twice', () => {
    expect(problemOf(policy(allow({ Sid: 'read-objects' })))).toMatchObject({
      at: '.Statement[0].Sid',
      message: expect.stringContaining('letters and digits only'),
    });
    expect(problemOf(policy(allow({ Sid: 'Read' }), allow({ Sid: 'Read' })))).toMatchObject({
      at: '.Statement[1].Sid',
      message: expect.stringContaining('unique within a policy'),
    });
  });

  it('refuses inline policies of one role totalling over 10,240 characters, whitespace excluded', () => {
    const resources = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) => `arn:aws:s3:::bucket-${String(from + i).padStart(6, '0')}/*`);
    const sizeOf = (n: number) => JSON.stringify(policy(allow({ Resource: resources(n, 0) }))).length;
    let n = 1;
    while (sizeOf(n + 1) <= 10240) n++;
    expect(problemsOf({ p: policy(allow({ Resource: resources(n, 0) })) })).toEqual([]);
    const over = problemsOf({ p: policy(allow({ Resource: resources(n, 0) })), q: policy(allow({ Resource: resources(1, n) })) });
    expect(over).toEqual([
      expect.objectContaining({ path: `${ROLE}.inlinePolicies`, message: expect.stringContaining('must be at most 10240 per role') }),
    ]);
  });

  it("refuses a policy name outside IAM's character set", () => {
    const found = problemsOf({ 'read artifacts': policy(allow()) });
    expect(found).toEqual([
      expect.objectContaining({
        path: `${ROLE}.inlinePolicies.read artifacts`,
        message: expect.stringContaining('policy name "read artifacts" must be 1-128 characters'),
      }),
    ]);
  });
});

describe('readPolicyDocument', () => {
  it('reports through the callback and returns nothing for a broken document', () => {
    const reported: string[] = [];
    expect(
      readPolicyDocument('doc', { Version: '2012-10-17', Statement: { Effect: 'Allow' } }, (at, message) =>
        reported.push(`${at}: ${message}`),
      ),
    ).toBeUndefined();
    expect(reported).toEqual([
      expect.stringMatching(/^doc\.Statement\.Action: is required \(or NotAction\)/),
      expect.stringMatching(/^doc\.Statement\.Resource: is required \(or NotResource\)/),
    ]);
  });
});
