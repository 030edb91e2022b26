/**
 * The heart of the product: which tokens may assume which role. Every rule is checked by evaluating
 * the synthesized trust policies (parsed from cdk.tf.json) against Bitbucket token claims.
 */
import { bitbucketClaims, BitbucketTokenClaims, ClaimsOptions } from '../src/bitbucket/token';
import { decide, exampleConfig, synthConfig, trustPolicies } from './support/synth';

const WORKSPACE_UUID = '4ccef084-b141-4ed8-8a6d-f7ee786f4016';
const INFRA = '96397bd0-02f7-409e-80c1-d99c0344747a';
const WEB = '321a1c39-2430-4131-a294-b2e03b3cafe7';
const STAGING_ENV = '591c2b80-ce14-4225-ab17-a366fc4c4e02';
const PRODUCTION_ENV = '74c10e16-5478-4362-8e1b-117147a4112f';
const WEB_PRODUCTION_ENV = 'bc48892b-427e-4925-8fb0-a6bc531b0070';
const OTHER_REPO = 'aaaaaaaa-1111-4222-8333-444444444444';
const STEP = '0f7c7b1e-4e2b-4d5a-9a55-1c2b3d4e5f60';
const PRODUCTION_ACCOUNT = '444455556666';
const STAGING_ACCOUNT = '111122223333';

function token(overrides: Partial<ClaimsOptions> = {}): BitbucketTokenClaims {
  return bitbucketClaims({
    workspace: 'acme',
    workspaceUuid: WORKSPACE_UUID,
    repositoryUuid: INFRA,
    stepUuid: STEP,
    issuedAt: 1_800_000_000,
    ...overrides,
  });
}

describe('trust policies synthesized from the example configuration', () => {
  const stacks = synthConfig(exampleConfig());
  const production = trustPolicies(stacks.production);
  const staging = trustPolicies(stacks.staging);

  describe('a repository-scoped role (bitbucket-plan)', () => {
    it('admits any step of its repository', () => {
      expect(decide(production['bitbucket-plan'], token(), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    });
    it('admits deployment steps of its repository too', () => {
      expect(decide(production['bitbucket-plan'], token({ environmentUuid: PRODUCTION_ENV }), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    });
    it('refuses a step of another repository of the same workspace', () => {
      expect(decide(production['bitbucket-plan'], token({ repositoryUuid: WEB }), PRODUCTION_ACCOUNT)).toBe('DENY');
      expect(decide(production['bitbucket-plan'], token({ repositoryUuid: OTHER_REPO }), PRODUCTION_ACCOUNT)).toBe('DENY');
    });
    it("refuses a token carrying another workspace's audience", () => {
      const otherAudience = token({ audience: 'ari:cloud:bitbucket::workspace/99999999-9999-4999-8999-999999999999' });
      expect(decide(production['bitbucket-plan'], otherAudience, PRODUCTION_ACCOUNT)).toBe('DENY');
    });
    it("refuses a token of another workspace's issuer, even with this repository's sub", () => {
      expect(decide(production['bitbucket-plan'], token({ workspace: 'evil' }), PRODUCTION_ACCOUNT)).toBe('DENY');
    });
    it('refuses an issuer spelt with a trailing slash (AWS compares it exactly)', () => {
      const claims = { ...token(), iss: `${token().iss}/` };
      expect(decide(production['bitbucket-plan'], claims, PRODUCTION_ACCOUNT)).toBe('DENY');
    });
    it("refuses a token presented to another account's provider", () => {
      expect(decide(production['bitbucket-plan'], token(), STAGING_ACCOUNT)).toBe('DENY');
    });
    it('refuses a sub whose repository UUID is upper case or unbraced (the match is exact)', () => {
      const upper = { ...token(), sub: token().sub.toUpperCase() };
      const bare = { ...token(), sub: `${INFRA}:{${STEP}}` };
      expect(decide(production['bitbucket-plan'], upper, PRODUCTION_ACCOUNT)).toBe('DENY');
      expect(decide(production['bitbucket-plan'], bare, PRODUCTION_ACCOUNT)).toBe('DENY');
    });
  });

  describe('an environment-scoped role (bitbucket-deploy)', () => {
    it('admits a deployment step of its environment', () => {
      expect(decide(production['bitbucket-deploy'], token({ environmentUuid: PRODUCTION_ENV }), PRODUCTION_ACCOUNT)).toBe('ALLOW');
      expect(decide(staging['bitbucket-deploy'], token({ environmentUuid: STAGING_ENV }), STAGING_ACCOUNT)).toBe('ALLOW');
    });
    it('refuses a deployment step of another environment of the same repository', () => {
      expect(decide(production['bitbucket-deploy'], token({ environmentUuid: STAGING_ENV }), PRODUCTION_ACCOUNT)).toBe('DENY');
    });
    it('refuses a non-deployment step of the right repository', () => {
      expect(decide(production['bitbucket-deploy'], token(), PRODUCTION_ACCOUNT)).toBe('DENY');
    });
    it("refuses another repository's deployment step of an environment with the same UUID", () => {
      expect(
        decide(production['bitbucket-deploy'], token({ repositoryUuid: WEB, environmentUuid: PRODUCTION_ENV }), PRODUCTION_ACCOUNT),
      ).toBe('DENY');
    });
  });

  it('gives each role only its own pipelines: the web role admits the web deployment and nothing of infra', () => {
    const web = production['web-artifacts-upload'];
    expect(decide(web, token({ repositoryUuid: WEB, environmentUuid: WEB_PRODUCTION_ENV }), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    expect(decide(web, token({ environmentUuid: PRODUCTION_ENV }), PRODUCTION_ACCOUNT)).toBe('DENY');
    expect(decide(web, token({ repositoryUuid: WEB }), PRODUCTION_ACCOUNT)).toBe('DENY');
  });
});

/** A one-account, one-role configuration around the given role. */
function configWithRole(role: Record<string, unknown>, top: Record<string, unknown> = {}): unknown {
  return {
    workspace: 'acme',
    workspaceUuid: WORKSPACE_UUID,
    state: { bucket: 'acme-state', region: 'eu-west-1' },
    ...top,
    accounts: [{ name: 'main', accountId: PRODUCTION_ACCOUNT, region: 'eu-west-1', roles: [{ name: 'ci', ...role }] }],
  };
}

function policyOf(role: Record<string, unknown>, top: Record<string, unknown> = {}) {
  return trustPolicies(synthConfig(configWithRole(role, top)).main).ci;
}

describe('trust scope options', () => {
  it('admits every listed repository and environment, and nothing else', () => {
    const policy = policyOf({ repositories: [{ uuid: INFRA }, { uuid: WEB, environments: [STAGING_ENV, PRODUCTION_ENV] }] });
    expect(decide(policy, token(), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    expect(decide(policy, token({ repositoryUuid: WEB, environmentUuid: STAGING_ENV }), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    expect(decide(policy, token({ repositoryUuid: WEB, environmentUuid: PRODUCTION_ENV }), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    expect(decide(policy, token({ repositoryUuid: WEB }), PRODUCTION_ACCOUNT)).toBe('DENY');
    expect(decide(policy, token({ repositoryUuid: WEB, environmentUuid: WEB_PRODUCTION_ENV }), PRODUCTION_ACCOUNT)).toBe('DENY');
    expect(decide(policy, token({ repositoryUuid: OTHER_REPO }), PRODUCTION_ACCOUNT)).toBe('DENY');
  });

  it('accepts UUIDs written with braces and in upper case, and still matches the lower-case claims', () => {
    const policy = policyOf({ repositories: [{ uuid: `{${INFRA.toUpperCase()}}`, environments: [`{${PRODUCTION_ENV.toUpperCase()}}`] }] });
    expect(decide(policy, token({ environmentUuid: PRODUCTION_ENV }), PRODUCTION_ACCOUNT)).toBe('ALLOW');
  });

  it('with allowAllRepositories, admits every repository of the workspace but still checks the audience', () => {
    const policy = policyOf({ allowAllRepositories: true });
    expect(decide(policy, token({ repositoryUuid: OTHER_REPO }), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    expect(
      decide(policy, token({ audience: 'ari:cloud:bitbucket::workspace/99999999-9999-4999-8999-999999999999' }), PRODUCTION_ACCOUNT),
    ).toBe('DENY');
    expect(decide(policy, token({ workspace: 'evil' }), PRODUCTION_ACCOUNT)).toBe('DENY');
  });

  it('with sourceIpCidrs, admits the call only from those addresses', () => {
    const policy = policyOf({ repositories: [{ uuid: INFRA }], sourceIpCidrs: ['34.199.54.113/32', '2401:1d80::/32'] });
    expect(decide(policy, token(), PRODUCTION_ACCOUNT, '34.199.54.113')).toBe('ALLOW');
    expect(decide(policy, token(), PRODUCTION_ACCOUNT, '2401:1d80:1::5')).toBe('ALLOW');
    expect(decide(policy, token(), PRODUCTION_ACCOUNT, '34.199.54.114')).toBe('DENY');
    expect(decide(policy, token(), PRODUCTION_ACCOUNT)).toBe('DENY');
  });

  it('with custom audiences, admits tokens for any of the workspace audiences by default', () => {
    const custom = 'api://acme-deployments';
    const policy = policyOf({ repositories: [{ uuid: INFRA }] }, { audiences: [custom] });
    expect(decide(policy, token({ audience: custom }), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    expect(decide(policy, token(), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    expect(decide(policy, token({ audience: 'api://other' }), PRODUCTION_ACCOUNT)).toBe('DENY');
  });

  it('with role audiences, admits only those of the workspace audiences', () => {
    const custom = 'api://acme-deployments';
    const policy = policyOf({ repositories: [{ uuid: INFRA }], audiences: [custom] }, { audiences: [custom] });
    expect(decide(policy, token({ audience: custom }), PRODUCTION_ACCOUNT)).toBe('ALLOW');
    expect(decide(policy, token(), PRODUCTION_ACCOUNT)).toBe('DENY');
  });

  it('with an existing provider, trusts exactly that provider', () => {
    const arn = `arn:aws:iam::${PRODUCTION_ACCOUNT}:oidc-provider/api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc`;
    const config = configWithRole({ repositories: [{ uuid: INFRA }] }) as any;
    config.accounts[0].existingProviderArn = arn;
    const policy = trustPolicies(synthConfig(config).main).ci;
    expect(policy.Statement[0].Principal).toEqual({ Federated: arn });
    expect(decide(policy, token(), PRODUCTION_ACCOUNT)).toBe('ALLOW');
  });
});

describe('the shape of the trust policy', () => {
  const ISSUER = 'api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';

  it('is one Allow statement for sts:AssumeRoleWithWebIdentity with StringEquals on aud and StringLike on sub', () => {
    const policy = policyOf({ repositories: [{ uuid: INFRA }, { uuid: WEB, environments: [PRODUCTION_ENV] }] });
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${PRODUCTION_ACCOUNT}:oidc-provider/${ISSUER}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { [`${ISSUER}:aud`]: `ari:cloud:bitbucket::workspace/${WORKSPACE_UUID}` },
            StringLike: { [`${ISSUER}:sub`]: [`{${INFRA}}:*`, `{${WEB}}:{${PRODUCTION_ENV}}:*`] },
          },
        },
      ],
    });
  });

  it('never uses ForAllValues or ForAnyValue, which a token without the key would pass', () => {
    const policy = policyOf({ repositories: [{ uuid: INFRA }], sourceIpCidrs: ['10.0.0.0/8'] });
    expect(Object.keys(policy.Statement[0].Condition ?? {})).toEqual(['StringEquals', 'StringLike', 'IpAddress']);
  });

  it('builds the provider ARN from the partition of the region', () => {
    const config = configWithRole({ repositories: [{ uuid: INFRA }] }) as any;
    config.accounts[0].region = 'us-gov-west-1';
    const policy = trustPolicies(synthConfig(config).main).ci;
    expect(policy.Statement[0].Principal).toEqual({ Federated: `arn:aws-us-gov:iam::${PRODUCTION_ACCOUNT}:oidc-provider/${ISSUER}` });
  });
});
