/** What each account's bootstrap and workload stacks hand to Terraform: state, provider pinning, OIDC provider, roles, outputs. */
import { roleArn, StackKind } from '../src/config/types';
import { readFileSync } from 'fs';
import * as path from 'path';
import { policyContext } from '../src/config/pipeline-section';
import { validateConfig } from '../src/config/validate';
import { permissionTableMarkdown } from '../src/pipeline-roles';
import { exampleConfig, ROOT, StackJson, synthConfig, synthesizeAccountStacks } from './support/synth';

const ISSUER = 'api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';

describe('the stacks synthesized from the example', () => {
  const accounts = synthesizeAccountStacks(exampleConfig());
  const parsed = (account: string, kind: StackKind): StackJson => JSON.parse(accounts[account][kind]);
  const bootstrap = parsed('production', 'bootstrap');
  const workload = parsed('production', 'workload');
  const stacks = synthConfig(exampleConfig());
  const production = stacks.production;

  it('writes a bootstrap and a workload stack per account of the configuration', () => {
    expect(Object.keys(accounts)).toEqual(['staging', 'production']);
    expect(Object.keys(accounts.production)).toEqual(['bootstrap', 'workload']);
  });

  it("keeps each stack's state in S3, encrypted and locked with a lock file, under its own key", () => {
    expect(workload.terraform.backend.s3).toEqual({
      bucket: 'acme-terraform-state-example',
      region: 'eu-west-1',
      key: 'bitbucket-oidc/444455556666/workload.tfstate',
      encrypt: true,
      use_lockfile: true,
    });
    expect(bootstrap.terraform.backend.s3.key).toBe('bitbucket-oidc/444455556666/bootstrap.tfstate');
    expect(parsed('staging', 'workload').terraform.backend.s3.key).toBe('bitbucket-oidc/111122223333/workload.tfstate');
  });

  it("has S3 encrypt the state with the bucket's KMS key under SSE-KMS: with the key named, or with no header so the bucket's default applies", () => {
    const backend = (encryption: unknown) => {
      const config = { ...exampleConfig(), state: { ...exampleConfig().state, encryption } };
      return (JSON.parse(synthesizeAccountStacks(config).staging.workload) as StackJson).terraform.backend.s3;
    };
    const existing = 'arn:aws:kms:eu-west-1:444455556666:key/0f1e2d3c-4b5a-4678-9abc-def012345678';

    // encrypt = true with no key would send "AES256" on every write: SSE-S3, not the bucket's key.
    expect(backend('SSE-KMS')).toMatchObject({ encrypt: false });
    expect(backend('SSE-KMS').kms_key_id).toBeUndefined();
    expect(backend({ kmsKeyArn: existing })).toMatchObject({ encrypt: true, kms_key_id: existing });
    expect(backend('SSE-S3')).toMatchObject({ encrypt: true });
    expect(backend('SSE-S3').kms_key_id).toBeUndefined();
  });

  it('requires Terraform 1.10 or later (S3 native locking)', () => {
    expect(workload.terraform.required_version).toBe('>= 1.10');
    expect(bootstrap.terraform.required_version).toBe('>= 1.10');
  });

  it('pins the AWS provider to the account, so a plan with other credentials fails', () => {
    for (const stack of [bootstrap, workload]) {
      expect(stack.provider.aws).toEqual([expect.objectContaining({ region: 'eu-west-1', allowed_account_ids: ['444455556666'] })]);
    }
  });

  it('tags every resource through default tags: managed-by, then workspace tags, then account tags', () => {
    expect(production.provider.aws[0].default_tags).toEqual([
      { tags: { 'managed-by': 'bitbucket-oidc-cdktf', team: 'platform', environment: 'production' } },
    ]);
  });

  it('creates the OIDC provider in the bootstrap stack for the workspace issuer, with the workspace audience and no thumbprints', () => {
    const providers = Object.values<any>(bootstrap.resource.aws_iam_openid_connect_provider);
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({
      url: `https://${ISSUER}`,
      client_id_list: ['ari:cloud:bitbucket::workspace/4ccef084-b141-4ed8-8a6d-f7ee786f4016'],
    });
    expect(providers[0].thumbprint_list).toBeUndefined();
    expect(workload.resource.aws_iam_openid_connect_provider).toBeUndefined();
  });

  it('makes each bootstrap role depend on the provider it trusts; workload roles name it by ARN', () => {
    const providerId = Object.keys(bootstrap.resource.aws_iam_openid_connect_provider)[0];
    for (const role of Object.values<any>(bootstrap.resource.aws_iam_role)) {
      expect(role.depends_on).toEqual([`aws_iam_openid_connect_provider.${providerId}`]);
    }
    for (const role of Object.values<any>(workload.resource.aws_iam_role)) {
      expect(role.depends_on).toBeUndefined();
      expect(JSON.parse(role.assume_role_policy).Statement[0].Principal).toEqual({
        Federated: `arn:aws:iam::444455556666:oidc-provider/${ISSUER}`,
      });
    }
  });

  it('puts the pipeline roles and the boundary in the bootstrap stack, the workload roles in the workload stack', () => {
    const names = (stack: StackJson) =>
      Object.values<any>(stack.resource.aws_iam_role ?? {})
        .map((role) => role.name)
        .sort();
    expect(names(bootstrap)).toEqual(['bitbucket-deploy', 'bitbucket-plan']);
    expect(names(workload)).toEqual(['web-artifacts-upload']);
    expect(Object.values<any>(bootstrap.resource.aws_iam_policy)).toEqual([
      expect.objectContaining({ name: 'bitbucket-workload-boundary', path: '/' }),
    ]);
    expect(workload.resource.aws_iam_policy).toBeUndefined();
  });

  it('gives no pipeline role and no workload role a managed policy, and no role the deprecated arguments', () => {
    expect(production.resource.aws_iam_role_policy_attachment).toBeUndefined();
    const roles = Object.values<any>(production.resource.aws_iam_role);
    expect(roles.every((role) => role.managed_policy_arns === undefined && role.inline_policy === undefined)).toBe(true);
  });

  it('writes inline policies as aws_iam_role_policy, as the configuration wrote them', () => {
    const upload = Object.values<any>(workload.resource.aws_iam_role_policy).find((p) => p.name === 'upload-artifacts');
    expect(JSON.parse(upload.policy)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::acme-web-artifacts/releases/*' }],
    });
  });

  it("puts workload roles under the workload path with the account's boundary, and pipeline roles outside it without one", () => {
    const web = Object.values<any>(workload.resource.aws_iam_role).find((r) => r.name === 'web-artifacts-upload');
    expect(web).toMatchObject({
      path: '/bitbucket/',
      max_session_duration: 3600,
      permissions_boundary: 'arn:aws:iam::444455556666:policy/bitbucket-workload-boundary',
      tags: { app: 'web' },
    });
    const deploy = Object.values<any>(bootstrap.resource.aws_iam_role).find((r) => r.name === 'bitbucket-deploy');
    expect(deploy).toMatchObject({ path: '/bitbucket-pipeline/', max_session_duration: 3600 });
    expect(deploy.permissions_boundary).toBeUndefined();
    expect(deploy.description).toContain('deployment steps of Production in acme/infra');
  });

  it('outputs the provider, boundary and pipeline role ARNs from the bootstrap, the role ARNs by name from the workload', () => {
    expect(bootstrap.output.oidc_provider_arn.value).toBe(`arn:aws:iam::444455556666:oidc-provider/${ISSUER}`);
    expect(bootstrap.output.permissions_boundary_arn.value).toBe('arn:aws:iam::444455556666:policy/bitbucket-workload-boundary');
    const ids = (stack: StackJson) =>
      Object.fromEntries(Object.entries<any>(stack.resource.aws_iam_role).map(([id, role]) => [role.name, id]));
    expect(bootstrap.output.pipeline_role_arns.value).toEqual({
      'bitbucket-plan': `\${aws_iam_role.${ids(bootstrap)['bitbucket-plan']}.arn}`,
      'bitbucket-deploy': `\${aws_iam_role.${ids(bootstrap)['bitbucket-deploy']}.arn}`,
    });
    expect(workload.output.role_arns.value).toEqual({
      'web-artifacts-upload': `\${aws_iam_role.${ids(workload)['web-artifacts-upload']}.arn}`,
    });
  });
});

describe('a configuration without a pipeline section', () => {
  const config = exampleConfig();
  delete config.pipeline;
  for (const account of config.accounts) delete account.deploymentEnvironment;
  const production = synthesizeAccountStacks(config).production;

  it('creates the provider and the boundary, and no pipeline role', () => {
    const bootstrap = JSON.parse(production.bootstrap);
    expect(bootstrap.resource.aws_iam_role).toBeUndefined();
    expect(bootstrap.resource.aws_iam_policy).toBeDefined();
    expect(bootstrap.output.pipeline_role_arns.value).toEqual({});
  });
});

describe('an existing permissions boundary named by ARN', () => {
  const config = exampleConfig();
  config.accounts[1].permissionsBoundary = { arn: 'arn:aws:iam::444455556666:policy/platform/boundary' };
  const production = synthesizeAccountStacks(config).production;

  it('is not created, and every workload role carries it', () => {
    expect(JSON.parse(production.bootstrap).resource.aws_iam_policy).toBeUndefined();
    for (const role of Object.values<any>(JSON.parse(production.workload).resource.aws_iam_role)) {
      expect(role.permissions_boundary).toBe('arn:aws:iam::444455556666:policy/platform/boundary');
    }
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
    expect(provider.client_id_list).toEqual([
      'ari:cloud:bitbucket::workspace/4ccef084-b141-4ed8-8a6d-f7ee786f4016',
      'api://acme-deployments',
    ]);
  });
  it('writes thumbprints in lower case when given', () => {
    expect(provider.thumbprint_list).toEqual(['9e99a48a9960b14926bb7f3b02e22da2b0ab7280']);
  });
});

describe('role ARNs', () => {
  it('are known from the configuration before the role exists: partition, account, path and name', () => {
    expect(roleArn({ partition: 'aws-cn', accountId: '123456789012' }, { path: '/ci/', name: 'plan' })).toBe(
      'arn:aws-cn:iam::123456789012:role/ci/plan',
    );
    expect(roleArn({ partition: 'aws', accountId: '123456789012' }, { path: '/', name: 'deploy' })).toBe(
      'arn:aws:iam::123456789012:role/deploy',
    );
  });
});

describe('docs/permissions.md', () => {
  it("shows the pipeline roles' permissions exactly as the builders generate them for the example", () => {
    const { config } = validateConfig(exampleConfig());
    const account = config.accounts.find((a) => a.name === 'production')!;
    const table = permissionTableMarkdown(
      policyContext({ pipeline: config.pipeline!, account, bootstrap: account, workspace: config.workspace, state: config.state }),
      { includeBoundary: true },
    );
    const page = readFileSync(path.join(ROOT, 'docs', 'permissions.md'), 'utf8');
    const shown = /<!-- permission-table:start -->\n([\s\S]*?)\n<!-- permission-table:end -->/.exec(page);
    expect(shown?.[1]).toBe(table.trimEnd());
  });
});
