/** What each account's stack hands to Terraform: state, provider pinning, OIDC provider, roles, outputs. */
import { roleArn } from '../src/config/types';
import { exampleConfig, synthConfig } from './support/synth';

const ISSUER = 'api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';

describe('an account stack synthesized from the example', () => {
  const stacks = synthConfig(exampleConfig());
  const production = stacks.production;

  it('writes one stack per account of the configuration', () => {
    expect(Object.keys(stacks)).toEqual(['staging', 'production']);
  });

  it('keeps state in S3, encrypted and locked with a lock file, under its own key', () => {
    expect(production.terraform.backend.s3).toEqual({
      bucket: 'acme-terraform-state-example',
      region: 'eu-west-1',
      key: 'bitbucket-oidc/production.tfstate',
      encrypt: true,
      use_lockfile: true,
    });
    expect(stacks.staging.terraform.backend.s3.key).toBe('bitbucket-oidc/staging.tfstate');
  });

  it('requires Terraform 1.10 or later (S3 native locking)', () => {
    expect(production.terraform.required_version).toBe('>= 1.10');
  });

  it('pins the AWS provider to the account, so a plan with other credentials fails', () => {
    expect(production.provider.aws).toEqual([
      expect.objectContaining({ region: 'eu-west-1', allowed_account_ids: ['444455556666'] }),
    ]);
  });

  it('tags every resource through default tags: managed-by, then workspace tags, then account tags', () => {
    expect(production.provider.aws[0].default_tags).toEqual([
      { tags: { 'managed-by': 'bitbucket-oidc-cdktf', team: 'platform', environment: 'production' } },
    ]);
  });

  it('creates the OIDC provider for the workspace issuer with the workspace audience and no thumbprints', () => {
    const providers = Object.values(production.resource.aws_iam_openid_connect_provider);
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({
      url: `https://${ISSUER}`,
      client_id_list: ['ari:cloud:bitbucket::workspace/4ccef084-b141-4ed8-8a6d-f7ee786f4016'],
    });
    expect(providers[0].thumbprint_list).toBeUndefined();
  });

  it('makes each role depend on the provider it trusts', () => {
    const providerId = Object.keys(production.resource.aws_iam_openid_connect_provider)[0];
    for (const role of Object.values(production.resource.aws_iam_role)) {
      expect(role.depends_on).toEqual([`aws_iam_openid_connect_provider.${providerId}`]);
    }
  });

  it('attaches managed policies with aws_iam_role_policy_attachment, not the deprecated managed_policy_arns', () => {
    const roles = Object.values(production.resource.aws_iam_role);
    expect(roles.every((role) => role.managed_policy_arns === undefined && role.inline_policy === undefined)).toBe(true);
    const attachments = Object.values(production.resource.aws_iam_role_policy_attachment).map((a) => a.policy_arn).sort();
    expect(attachments).toEqual([
      'arn:aws:iam::aws:policy/IAMFullAccess',
      'arn:aws:iam::aws:policy/PowerUserAccess',
      'arn:aws:iam::aws:policy/ReadOnlyAccess',
    ]);
  });

  it('writes inline policies as aws_iam_role_policy from the typed statements', () => {
    const upload = Object.values(production.resource.aws_iam_role_policy).find((p) => p.name === 'upload-artifacts');
    expect(JSON.parse(upload.policy)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::acme-web-artifacts/releases/*' }],
    });
  });

  it('sets the role options from the configuration', () => {
    const deploy = Object.values(production.resource.aws_iam_role).find((r) => r.name === 'bitbucket-deploy');
    expect(deploy).toMatchObject({
      path: '/',
      max_session_duration: 3600,
      permissions_boundary: 'arn:aws:iam::444455556666:policy/platform-boundary',
      description: 'Applies the infra repository from its production deployment environment only',
    });
    const web = Object.values(production.resource.aws_iam_role).find((r) => r.name === 'web-artifacts-upload');
    expect(web.tags).toEqual({ app: 'web' });
  });

  it('outputs the provider ARN and every role ARN by role name', () => {
    expect(production.output.oidc_provider_arn.value).toBe(`arn:aws:iam::444455556666:oidc-provider/${ISSUER}`);
    const roleIds = Object.fromEntries(Object.entries(production.resource.aws_iam_role).map(([id, role]) => [role.name, id]));
    expect(production.output.role_arns.value).toEqual({
      'bitbucket-plan': `\${aws_iam_role.${roleIds['bitbucket-plan']}.arn}`,
      'bitbucket-deploy': `\${aws_iam_role.${roleIds['bitbucket-deploy']}.arn}`,
      'web-artifacts-upload': `\${aws_iam_role.${roleIds['web-artifacts-upload']}.arn}`,
    });
  });
});

describe('an account that already has the workspace provider', () => {
  const config = exampleConfig();
  const arn = `arn:aws:iam::444455556666:oidc-provider/${ISSUER}`;
  config.accounts[1].existingProviderArn = arn;
  const production = synthConfig(config).production;

  it('creates no provider and trusts the existing one', () => {
    expect(production.resource.aws_iam_openid_connect_provider).toBeUndefined();
    for (const role of Object.values(production.resource.aws_iam_role)) {
      expect(JSON.parse(role.assume_role_policy).Statement[0].Principal).toEqual({ Federated: arn });
      expect(role.depends_on).toBeUndefined();
    }
    expect(production.output.oidc_provider_arn.value).toBe(arn);
  });
});

describe('thumbprints and custom audiences', () => {
  const config = exampleConfig();
  config.thumbprints = ['9E99A48A9960B14926BB7F3B02E22DA2B0AB7280'];
  config.audiences = ['api://acme-deployments'];
  const provider: any = Object.values(synthConfig(config).staging.resource.aws_iam_openid_connect_provider)[0];

  it('lists the custom audiences after the workspace audience as client IDs', () => {
    expect(provider.client_id_list).toEqual(['ari:cloud:bitbucket::workspace/4ccef084-b141-4ed8-8a6d-f7ee786f4016', 'api://acme-deployments']);
  });
  it('writes thumbprints in lower case when given', () => {
    expect(provider.thumbprint_list).toEqual(['9e99a48a9960b14926bb7f3b02e22da2b0ab7280']);
  });
});

describe('role ARNs', () => {
  it('are known from the configuration before the role exists: partition, account, path and name', () => {
    expect(roleArn({ partition: 'aws-cn', accountId: '123456789012' }, { path: '/ci/', name: 'plan' })).toBe('arn:aws-cn:iam::123456789012:role/ci/plan');
    expect(roleArn({ partition: 'aws', accountId: '123456789012' }, { path: '/', name: 'deploy' })).toBe('arn:aws:iam::123456789012:role/deploy');
  });
});
