/**
 * Configuration validation: every rule is checked before synthesis, each problem names the field,
 * quotes the value and states the rule, and all problems are reported in one run.
 */
import { parseConfigJson } from '../src/config/load';
import { validateConfig } from '../src/config/validate';
import { configProblems } from './support/config-problems';

const REPO = '96397bd0-02f7-409e-80c1-d99c0344747a';
const ENV = '74c10e16-5478-4362-8e1b-117147a4112f';

/** A small valid configuration; tests change one thing at a time. */
function base(): any {
  return {
    workspace: 'acme',
    workspaceUuid: '4ccef084-b141-4ed8-8a6d-f7ee786f4016',
    state: { bucket: 'acme-state', region: 'eu-west-1' },
    accounts: [
      {
        name: 'production',
        accountId: '123456789012',
        region: 'eu-west-1',
        roles: [{ name: 'deploy', repositories: [{ uuid: REPO, environments: [ENV] }] }],
      },
    ],
  };
}

/** The problems of a configuration after `change`, or [] when it is valid. */
function problems(change: (config: any) => void): { path: string; message: string }[] {
  const config = base();
  change(config);
  return configProblems(config);
}

/** Asserts exactly one problem, at `path`, whose message contains each fragment. */
function expectProblem(change: (config: any) => void, path: string, ...fragments: string[]): void {
  const found = problems(change);
  expect(found.map((p) => p.path)).toEqual([path]);
  for (const fragment of fragments) expect(found[0].message).toContain(fragment);
}

function expectValid(change: (config: any) => void): void {
  expect(problems(change)).toEqual([]);
}

const role = (config: any) => config.accounts[0].roles[0];

describe('a valid configuration', () => {
  it('resolves with UUIDs normalised to lower case without braces', () => {
    const config = base();
    config.workspaceUuid = '{4CCEF084-B141-4ED8-8A6D-F7EE786F4016}';
    role(config).repositories[0].uuid = `{${REPO.toUpperCase()}}`;
    const { config: resolved } = validateConfig(config);
    expect(resolved.workspaceUuid).toBe('4ccef084-b141-4ed8-8a6d-f7ee786f4016');
    expect(resolved.audiences).toEqual(['ari:cloud:bitbucket::workspace/4ccef084-b141-4ed8-8a6d-f7ee786f4016']);
    expect(resolved.accounts[0].roles[0].repositories[0].uuid).toBe(REPO);
  });

  it('applies the defaults: path /bitbucket/, one hour sessions, state key prefix bitbucket-oidc, 2048-character quota', () => {
    const { config } = validateConfig(base());
    expect(config.accounts[0].roles[0]).toMatchObject({ path: '/bitbucket/', maxSessionDurationSeconds: 3600, managedPolicyArns: [] });
    expect(config.state.keyPrefix).toBe('bitbucket-oidc');
    expect(config.trustPolicyMaxSize).toBe(2048);
  });

  it('does not modify the object it was given', () => {
    const config = base();
    const copy = JSON.parse(JSON.stringify(config));
    validateConfig(config);
    expect(config).toEqual(copy);
  });
});

describe('reporting', () => {
  it('reports every problem of a configuration in one error', () => {
    const found = problems((c) => {
      c.workspace = 'Acme Corp';
      c.accounts[0].accountId = '1234';
      role(c).name = 'x'.repeat(65);
    });
    expect(found.map((p) => p.path)).toEqual(['workspace', 'accounts[0].accountId', 'accounts[0].roles[0].name']);
  });

  it('names the source, the field path, the value, the rule and an example', () => {
    const config = base();
    config.accounts[0].accountId = '1234';
    expect(() => validateConfig(config, 'my-config.json')).toThrow(
      /1 problem in my-config\.json:\n {2}- accounts\[0\]\.accountId: "1234" must be a 12-digit AWS account ID .*e\.g\. "123456789012"/,
    );
  });

  it('reports an unknown field with the field it most likely meant (a typo must not drop a restriction)', () => {
    expectProblem(
      (c) => {
        role(c).repositories[0].enviroments = role(c).repositories[0].environments;
        delete role(c).repositories[0].environments;
      },
      'accounts[0].roles[0].repositories[0].enviroments',
      'unknown field',
      'did you mean "environments"?',
    );
  });

  it('accepts "//" comment keys anywhere', () => {
    expectValid((c) => {
      c['//'] = 'note';
      role(c)['//'] = 'why this role exists';
    });
  });

  it('reports a missing required field with an example', () => {
    expectProblem((c) => delete c.workspace, 'workspace', 'is required', 'e.g.');
  });

  it('without a lock file, asks for npm run resolve where the workspace UUID is left out', () => {
    expectProblem((c) => delete c.workspaceUuid, 'workspaceUuid', 'is required unless the lock file gives it', 'npm run resolve');
  });

  it('reports a value of the wrong type', () => {
    expectProblem((c) => (role(c).maxSessionDurationSeconds = '3600'), 'accounts[0].roles[0].maxSessionDurationSeconds', 'whole number');
    expectProblem((c) => (c.accounts[0].accountId = 123456789012), 'accounts[0].accountId', 'must be a string');
    expectProblem((c) => (role(c).allowAllRepositories = 'false'), 'accounts[0].roles[0].allowAllRepositories', 'true or false');
  });

  it('reports a file that is not JSON with its line and column', () => {
    expect(() => parseConfigJson('{\n  "workspace": "acme",\n}', 'bad.json')).toThrow(/bad\.json:\n.*not valid JSON at line 3, column 1/);
  });
});

describe('deployment environments', () => {
  it('refuses two accounts that share one deployment environment', () => {
    expectProblem(
      (config) => {
        config.pipeline = { repository: { uuid: REPO, name: 'acme/infra' } };
        config.accounts[0].deploymentEnvironment = { uuid: ENV, name: 'Production' };
        config.accounts.push({ ...config.accounts[0], name: 'production-eu', accountId: '210987654321', roles: [] });
      },
      'accounts[1].deploymentEnvironment',
      'is also the deployment environment of accounts[0]; each account needs its own',
    );
  });

  it('does not blame deploymentEnvironment for a pipeline section that is itself wrong', () => {
    const found = problems((config) => {
      config.pipeline = { repository: {} };
      config.accounts[0].deploymentEnvironment = 'Production';
    });

    expect(found.map((p) => p.path)).toEqual(['pipeline.repository']);
  });
});

describe('workspace rules', () => {
  it('refuses a workspace that is not a slug', () => {
    expectProblem((c) => (c.workspace = 'Acme Corp'), 'workspace', '"Acme Corp"', 'lower-case letters', 'e.g. "acme"');
  });
  it('accepts the issuer URL as Bitbucket shows it, and reads the slug from it', () => {
    const config = base();
    config.workspace = 'https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';
    expect(validateConfig(config).config.workspace).toBe('acme');
  });
  it('refuses a workspace UUID that is not a UUID', () => {
    expectProblem((c) => (c.workspaceUuid = '4ccef084-b141'), 'workspaceUuid', 'must be a UUID');
  });
  it('refuses a custom audience listed twice, or equal to the workspace audience', () => {
    expectProblem((c) => (c.audiences = ['api://a', 'api://a']), 'audiences[1]', 'listed twice');
    expectProblem(
      (c) => (c.audiences = ['ari:cloud:bitbucket::workspace/4ccef084-b141-4ed8-8a6d-f7ee786f4016']),
      'audiences[0]',
      'always accepted',
    );
  });
  it('allows 100 client IDs per provider and refuses 101', () => {
    const custom = (n: number) => Array.from({ length: n }, (_, i) => `api://audience-${i}`);
    // The role accepts one audience, so only the provider's client ID list is at stake.
    const oneAudience = (c: any) => (role(c).audiences = ['ari:cloud:bitbucket::workspace/4ccef084-b141-4ed8-8a6d-f7ee786f4016']);
    expectValid((c) => {
      c.audiences = custom(99);
      oneAudience(c);
    });
    expectProblem(
      (c) => {
        c.audiences = custom(100);
        oneAudience(c);
      },
      'audiences',
      '101 client IDs',
      'at most 100',
    );
  });
  it('warns beyond Bitbucket’s 10 custom audiences without refusing', () => {
    const config = base();
    config.audiences = Array.from({ length: 11 }, (_, i) => `api://audience-${i}`);
    expect(validateConfig(config).warnings).toContainEqual(expect.stringContaining('Bitbucket allows at most 10'));
  });
  it('refuses malformed thumbprints and more than five', () => {
    expectProblem((c) => (c.thumbprints = ['abc']), 'thumbprints[0]', '40 hexadecimal');
    expectProblem((c) => (c.thumbprints = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(40))), 'thumbprints', 'at most 5');
  });
  it('takes trustPolicyMaxSize from 2048 to 8192', () => {
    expectValid((c) => (c.trustPolicyMaxSize = 8192));
    expectProblem((c) => (c.trustPolicyMaxSize = 2047), 'trustPolicyMaxSize', 'from 2048 to 8192');
    expectProblem((c) => (c.trustPolicyMaxSize = 8193), 'trustPolicyMaxSize', 'from 2048 to 8192');
  });
});

describe('state rules', () => {
  it('refuses an invalid bucket name, region or key prefix', () => {
    expectProblem((c) => (c.state.bucket = 'Acme_State'), 'state.bucket', 'S3 bucket name');
    expectProblem((c) => (c.state.region = 'Ireland'), 'state.region', 'AWS region code');
    expectProblem((c) => (c.state.keyPrefix = '/state/'), 'state.keyPrefix', 'without a leading or trailing /');
  });
});

describe('account rules', () => {
  const account = (c: any) => c.accounts[0];
  it('refuses an empty accounts list', () => {
    expectProblem((c) => (c.accounts = []), 'accounts', 'at least 1 accounts');
  });
  it('refuses an account ID that is not 12 digits', () => {
    expectProblem((c) => (account(c).accountId = '12345678901'), 'accounts[0].accountId', '12-digit');
    expectProblem((c) => (account(c).accountId = '1234567890123'), 'accounts[0].accountId', '12-digit');
  });
  it('refuses an invalid region', () => {
    expectProblem((c) => (account(c).region = 'eu-west'), 'accounts[0].region', 'AWS region code');
  });
  it('refuses two accounts with the same name or the same account ID', () => {
    expectProblem((c) => c.accounts.push({ ...account(c), accountId: '210987654321' }), 'accounts[1].name', 'must be unique');
    expectProblem((c) => c.accounts.push({ ...account(c), name: 'staging' }), 'accounts[1].accountId', 'list each account once');
  });
  it('refuses an account name that cannot name a stack', () => {
    expectProblem((c) => (account(c).name = 'Prod Account'), 'accounts[0].name', 'lower-case letters');
  });
  it('reuses an existing provider only if its ARN is the workspace issuer in this account', () => {
    const arn = (acct: string, ws: string) =>
      `arn:aws:iam::${acct}:oidc-provider/api.bitbucket.org/2.0/workspaces/${ws}/pipelines-config/identity/oidc`;
    expectValid((c) => (account(c).existingProviderArn = arn('123456789012', 'acme')));
    expectProblem(
      (c) => (account(c).existingProviderArn = arn('123456789012', 'other')),
      'accounts[0].existingProviderArn',
      'must be the provider of issuer',
    );
    expectProblem(
      (c) => (account(c).existingProviderArn = arn('210987654321', 'acme')),
      'accounts[0].existingProviderArn',
      'in account 123456789012',
    );
    expectProblem(
      (c) => (account(c).existingProviderArn = 'arn:aws:iam::123456789012:role/x'),
      'accounts[0].existingProviderArn',
      'OIDC provider ARN',
    );
  });
  it('refuses an account with no roles', () => {
    expectProblem((c) => (account(c).roles = []), 'accounts[0].roles', 'at least 1 roles');
  });
});

describe('role rules', () => {
  const path = 'accounts[0].roles[0]';
  it('takes role names of 64 characters of IAM’s set and refuses 65 or other characters', () => {
    expectValid((c) => (role(c).name = 'r'.repeat(64)));
    expectProblem((c) => (role(c).name = 'r'.repeat(65)), `${path}.name`, '1-64 characters');
    expectProblem((c) => (role(c).name = 'deploy role'), `${path}.name`, '1-64 characters');
  });
  it('refuses two roles of an account whose names differ only in case (IAM ignores case)', () => {
    expectProblem((c) => c.accounts[0].roles.push({ ...role(c), name: 'DEPLOY' }), 'accounts[0].roles[1].name', 'IAM ignores case');
  });
  it('refuses a role without a repository scope unless allowAllRepositories opts in', () => {
    expectProblem((c) => delete role(c).repositories, `${path}.repositories`, 'at least one repository', 'allowAllRepositories');
    expectProblem((c) => (role(c).repositories = []), `${path}.repositories`, 'at least one repository');
  });
  it('trusts the whole workspace with allowAllRepositories, with a warning', () => {
    const config = base();
    delete role(config).repositories;
    role(config).allowAllRepositories = true;
    expect(validateConfig(config).warnings).toContainEqual(expect.stringContaining('trusts EVERY repository of the workspace'));
  });
  it('refuses allowAllRepositories together with repositories', () => {
    expectProblem(
      (c) => (role(c).allowAllRepositories = true),
      `${path}.repositories`,
      'must be omitted when allowAllRepositories is true',
    );
  });
  it('refuses a malformed repository or environment UUID', () => {
    expectProblem((c) => (role(c).repositories[0].uuid = 'infra'), `${path}.repositories[0].uuid`, '"infra"', 'must be a UUID');
    expectProblem(
      (c) => (role(c).repositories[0].environments = ['{production}']),
      `${path}.repositories[0].environments[0]`,
      'must be a UUID',
    );
    expectProblem(
      (c) => (role(c).repositories[0].environments = ['0e7f3a52-9a61-4c1e-8d2b']),
      `${path}.repositories[0].environments[0]`,
      'must be a UUID',
    );
  });
  it('reads a bare environment string that is no UUID as a name, which needs the lock file', () => {
    expectProblem(
      (c) => (role(c).repositories[0].environments = ['production']),
      `${path}.repositories[0].environments[0]`,
      'environment "production" has no UUID',
      'npm run resolve',
    );
  });
  it('refuses a repository listed twice, however its UUID is spelt', () => {
    expectProblem(
      (c) => role(c).repositories.push({ uuid: `{${REPO.toUpperCase()}}` }),
      `${path}.repositories[1].uuid`,
      'list each repository once',
    );
  });
  it('refuses an environment listed twice, or an empty environments list', () => {
    expectProblem(
      (c) => (role(c).repositories[0].environments = [ENV, `{${ENV}}`]),
      `${path}.repositories[0].environments[1]`,
      'listed twice',
    );
    expectProblem(
      (c) => (role(c).repositories[0].environments = []),
      `${path}.repositories[0].environments`,
      'omit it to admit every step',
    );
  });
  it('refuses a role audience that the provider would not accept', () => {
    expectProblem((c) => (role(c).audiences = ['sts.amazonaws.com']), `${path}.audiences[0]`, "must be one of the workspace's audiences");
  });
  it('refuses a malformed source CIDR', () => {
    expectValid((c) => (role(c).sourceIpCidrs = ['34.199.54.113/32', '2401:1d80::/32']));
    expectProblem((c) => (role(c).sourceIpCidrs = ['34.199.54.113']), `${path}.sourceIpCidrs[0]`, 'CIDR');
    expectProblem((c) => (role(c).sourceIpCidrs = ['10.0.0.0/33']), `${path}.sourceIpCidrs[0]`, 'CIDR');
    expectProblem((c) => (role(c).sourceIpCidrs = []), `${path}.sourceIpCidrs`, 'omit it to accept the assume call from any address');
  });
  it('refuses malformed, duplicate or too many managed policy ARNs', () => {
    const arn = (i: number) => `arn:aws:iam::123456789012:policy/p${i}`;
    expectProblem((c) => (role(c).managedPolicyArns = ['ReadOnlyAccess']), `${path}.managedPolicyArns[0]`, 'managed policy ARN');
    expectProblem((c) => (role(c).managedPolicyArns = [arn(1), arn(1)]), `${path}.managedPolicyArns[1]`, 'listed twice');
    expectValid((c) => (role(c).managedPolicyArns = Array.from({ length: 20 }, (_, i) => arn(i))));
    expectProblem(
      (c) => (role(c).managedPolicyArns = Array.from({ length: 21 }, (_, i) => arn(i))),
      `${path}.managedPolicyArns`,
      'at most 20',
    );
  });
  it('takes session durations from 3600 to 43200 seconds', () => {
    expectValid((c) => (role(c).maxSessionDurationSeconds = 3600));
    expectValid((c) => (role(c).maxSessionDurationSeconds = 43200));
    expectProblem((c) => (role(c).maxSessionDurationSeconds = 3599), `${path}.maxSessionDurationSeconds`, 'from 3600 to 43200');
    expectProblem((c) => (role(c).maxSessionDurationSeconds = 43201), `${path}.maxSessionDurationSeconds`, 'from 3600 to 43200');
  });
  it('refuses the retired permissionsBoundaryArn, naming the account setting that replaced it', () => {
    expectProblem(
      (c) => (role(c).permissionsBoundaryArn = 'arn:aws:iam::123456789012:policy/boundary'),
      `${path}.permissionsBoundaryArn`,
      'is no longer a role setting',
      'accounts[].permissionsBoundary',
    );
  });
  it("takes paths that start and end with /, under the account's workload path", () => {
    expectValid((c) => (role(c).path = '/bitbucket/deploy/'));
    expectProblem((c) => (role(c).path = '/other/'), `${path}.path`, 'must lie under the account\'s workloadPath "/bitbucket/"');
    expectValid((c) => {
      c.accounts[0].workloadPath = '/apps/';
      role(c).path = '/apps/web/';
    });
    expect(problems((c) => (role(c).path = 'bitbucket'))[0].message).toContain('start and end with /');
    expect(problems((c) => (role(c).path = '/bitbucket'))[0].message).toContain('start and end with /');
  });
  it('refuses a description over 1000 characters', () => {
    expectValid((c) => (role(c).description = 'd'.repeat(1000)));
    expectProblem((c) => (role(c).description = 'd'.repeat(1001)), `${path}.description`, 'at most 1000');
  });
  it('refuses tag names reserved by AWS', () => {
    expectProblem((c) => (role(c).tags = { 'aws:owner': 'x' }), `${path}.tags`, 'not starting with aws:');
  });
});

describe('trust policy size', () => {
  const environments = (n: number) => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  it('refuses a role whose trust policy exceeds the 2048-character quota, naming its size', () => {
    expectProblem(
      (c) => (role(c).repositories[0].environments = environments(30)),
      'accounts[0].roles[0].repositories',
      'must be at most 2048',
    );
  });
  it('takes the same role once trustPolicyMaxSize is raised', () => {
    expectValid((c) => {
      c.trustPolicyMaxSize = 4096;
      role(c).repositories[0].environments = environments(30);
    });
  });
  it('allows a policy right at the quota and refuses one character more', () => {
    // Measure a policy of 20 environments under the largest quota, then put the quota at its size.
    const config = base();
    config.trustPolicyMaxSize = 8192;
    role(config).repositories[0].environments = environments(20);
    const size = JSON.stringify(validateConfig(config).config.accounts[0].roles[0].trustPolicy).length;
    expect(size).toBeGreaterThan(2048);
    expectValid((c) => {
      c.trustPolicyMaxSize = size;
      role(c).repositories[0].environments = environments(20);
    });
    expectProblem(
      (c) => {
        c.trustPolicyMaxSize = size - 1;
        role(c).repositories[0].environments = environments(20);
      },
      'accounts[0].roles[0].repositories',
      `would be ${size} characters`,
    );
  });
});
