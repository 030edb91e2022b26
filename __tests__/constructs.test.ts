/** The constructs used directly from any CDKTF app, without the configuration file. */
import { Testing, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { BitbucketOidcProvider } from '../src/constructs/provider';
import { BitbucketPipelinesRole, RoleOptions } from '../src/constructs/role';
import { bitbucketTrustPolicy, TrustScopeError } from '../src/bitbucket/trust-policy';
import { bitbucketIssuer } from '../src/bitbucket/protocol';

const WORKSPACE = { workspace: 'acme', workspaceUuid: '4ccef084-b141-4ed8-8a6d-f7ee786f4016' };
const REPO = '96397bd0-02f7-409e-80c1-d99c0344747a';
const ISSUER = 'api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';

function stack(): TerraformStack {
  const s = new TerraformStack(Testing.app(), 'test');
  new AwsProvider(s, 'aws', { region: 'eu-west-1' });
  return s;
}

const role = (overrides: Partial<RoleOptions> = {}): RoleOptions => ({ name: 'ci', ...overrides });

describe('BitbucketOidcProvider', () => {
  it('without an account ID, exposes a reference to the created provider, and roles use jsonencode (valid in HCL too)', () => {
    const s = stack();
    const provider = new BitbucketOidcProvider(s, 'provider', WORKSPACE);
    new BitbucketPipelinesRole(s, 'role', { provider, trust: { repositories: [{ uuid: REPO }] }, role: role() });
    const synthesized = JSON.parse(Testing.synth(s));
    const assumeRolePolicy: string = Object.values<any>(synthesized.resource.aws_iam_role)[0].assume_role_policy;
    expect(assumeRolePolicy).toMatch(/^\$\{jsonencode\(/);
    expect(assumeRolePolicy).toContain('aws_iam_openid_connect_provider.provider_');
  });

  it('with an account ID, exposes the literal ARN AWS will assign', () => {
    const provider = new BitbucketOidcProvider(stack(), 'provider', { ...WORKSPACE, accountId: '123456789012' });
    expect(provider.arn).toBe(`arn:aws:iam::123456789012:oidc-provider/${ISSUER}`);
  });

  it('refuses invalid props, listing every problem', () => {
    expect(() => new BitbucketOidcProvider(stack(), 'provider', { workspace: 'Acme', workspaceUuid: 'x', thumbprints: ['abc'] })).toThrow(
      /workspace: "Acme" must be .*\n.*workspaceUuid: "x" must be a UUID.*\n.*thumbprints\[0\]: "abc" must be 40 hexadecimal/,
    );
  });

  it('reuses an existing provider by ARN without creating one', () => {
    const s = stack();
    const arn = `arn:aws:iam::123456789012:oidc-provider/${ISSUER}`;
    const provider = BitbucketOidcProvider.fromArn(s, 'existing', { ...WORKSPACE, arn });
    new BitbucketPipelinesRole(s, 'role', { provider, trust: { repositories: [{ uuid: REPO }] }, role: role() });
    const synthesized = JSON.parse(Testing.synth(s));
    expect(synthesized.resource.aws_iam_openid_connect_provider).toBeUndefined();
    expect(provider.resource).toBeUndefined();
    expect(JSON.parse(Object.values<any>(synthesized.resource.aws_iam_role)[0].assume_role_policy).Statement[0].Principal).toEqual({
      Federated: arn,
    });
  });

  it("refuses to reuse a provider of another workspace's issuer", () => {
    const arn = 'arn:aws:iam::123456789012:oidc-provider/api.bitbucket.org/2.0/workspaces/other/pipelines-config/identity/oidc';
    expect(() => BitbucketOidcProvider.fromArn(stack(), 'existing', { ...WORKSPACE, arn })).toThrow(
      /must be the provider of issuer https:\/\/api\.bitbucket\.org\/2\.0\/workspaces\/acme/,
    );
  });

  it('finds the account provider from the account ID', () => {
    const provider = BitbucketOidcProvider.fromAccount(stack(), 'existing', {
      ...WORKSPACE,
      accountId: '123456789012',
      partition: 'aws-cn',
    });
    expect(provider.arn).toBe(`arn:aws-cn:iam::123456789012:oidc-provider/${ISSUER}`);
  });
});

describe('BitbucketPipelinesRole', () => {
  const provider = () => BitbucketOidcProvider.fromAccount(stack(), 'p', { ...WORKSPACE, accountId: '123456789012' });

  it('refuses a role with no repository scope', () => {
    expect(() => new BitbucketPipelinesRole(stack(), 'r', { provider: provider(), trust: {}, role: role() })).toThrow(TrustScopeError);
    expect(() => new BitbucketPipelinesRole(stack(), 'r', { provider: provider(), trust: { repositories: [] }, role: role() })).toThrow(
      /needs at least one repository .* allowAllRepositories/,
    );
  });

  it('refuses repositories together with allowAllRepositories', () => {
    expect(
      () =>
        new BitbucketPipelinesRole(stack(), 'r', {
          provider: provider(),
          trust: { repositories: [{ uuid: REPO }], allowAllRepositories: true },
          role: role(),
        }),
    ).toThrow(/mutually exclusive/);
  });

  it('refuses invalid role options, listing every problem', () => {
    const make = () =>
      new BitbucketPipelinesRole(stack(), 'r', {
        provider: provider(),
        trust: { repositories: [{ uuid: REPO }], audiences: ['sts.amazonaws.com'] },
        role: role({ name: 'n'.repeat(65), maxSessionDurationSeconds: 100, path: 'x', managedPolicyArns: ['ReadOnlyAccess'] }),
      });
    expect(make).toThrow(/role\.name: .* must be 1-64 characters/);
    expect(make).toThrow(/role\.path: "x" must start and end with \//);
    expect(make).toThrow(/role\.maxSessionDurationSeconds: 100 must be a whole number of seconds from 3600 to 43200/);
    expect(make).toThrow(/role\.managedPolicyArns\[0\]: "ReadOnlyAccess" must be an IAM managed policy ARN/);
    expect(make).toThrow(/trust\.audiences: "sts\.amazonaws\.com" must be one of the provider's client IDs/);
  });

  it('refuses a trust policy over the quota, and takes it under a raised quota', () => {
    const environments = Array.from({ length: 30 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const trust = { repositories: [{ uuid: REPO, environments }] };
    expect(() => new BitbucketPipelinesRole(stack(), 'r', { provider: provider(), trust, role: role() })).toThrow(/must be at most 2048/);
    expect(
      () => new BitbucketPipelinesRole(stack(), 'r', { provider: provider(), trust, role: role({ trustPolicyMaxSize: 4096 }) }),
    ).not.toThrow();
  });

  it('exposes its trust policy, equal to the one the typed helpers build', () => {
    const r = new BitbucketPipelinesRole(stack(), 'r', { provider: provider(), trust: { repositories: [{ uuid: REPO }] }, role: role() });
    expect(r.trustPolicy).toEqual(
      bitbucketTrustPolicy({
        providerArn: `arn:aws:iam::123456789012:oidc-provider/${ISSUER}`,
        issuer: bitbucketIssuer('acme'),
        audiences: ['ari:cloud:bitbucket::workspace/4ccef084-b141-4ed8-8a6d-f7ee786f4016'],
        repositories: [{ uuid: REPO }],
      }),
    );
  });
});
