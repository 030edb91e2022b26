/**
 * The state bucket as the state account's bootstrap stack synthesizes it: which stack has it, each
 * setting, the bucket and key policies as generated, encryption options, another region, and the
 * table of the bucket policy in docs/permissions.md.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { stateStoragePolicies } from '../src/config/state-section';
import { StackKind } from '../src/config/types';
import { validateConfig } from '../src/config/validate';
import { RESOURCE_POLICY_SIZE_LIMITS, resourcePolicyTableMarkdown } from '../src/pipeline-roles';
import { PolicyDocument, policySize } from '../src/iam/policy';
import { unescapeTemplate } from '../src/constructs/template-literal';
import { exampleConfig, ROOT, StackJson, synthesizeAccountStacks } from './support/synth';

const BUCKET = 'acme-terraform-state-example';
const S3_TYPES = [
  'aws_s3_bucket',
  'aws_s3_bucket_versioning',
  'aws_s3_bucket_server_side_encryption_configuration',
  'aws_s3_bucket_public_access_block',
  'aws_s3_bucket_ownership_controls',
  'aws_s3_bucket_lifecycle_configuration',
  'aws_s3_bucket_policy',
];

function stacksOf(input: unknown): (account: string, kind: StackKind) => StackJson {
  const stacks = synthesizeAccountStacks(input);
  return (account, kind) => JSON.parse(stacks[account][kind]);
}

/** The one resource of a type in a stack. */
function only(stack: StackJson, type: string): any {
  const blocks = Object.values(stack.resource[type] ?? {});
  expect({ type, count: blocks.length }).toEqual({ type, count: 1 });
  return blocks[0];
}

function withState(state: Record<string, unknown>): any {
  const config = exampleConfig();
  config.state = { ...config.state, ...state };
  return config;
}

describe('the state bucket of the example (state.account "production")', () => {
  const stack = stacksOf(exampleConfig());
  const bootstrap = stack('production', 'bootstrap');
  const { config } = validateConfig(exampleConfig());

  it('is created by the bootstrap stack of the state account, and by no other stack', () => {
    for (const type of S3_TYPES) expect(Object.keys(bootstrap.resource[type] ?? {})).toHaveLength(1);
    for (const [account, kind] of [
      ['staging', 'bootstrap'],
      ['staging', 'workload'],
      ['production', 'workload'],
    ] as const) {
      const types = Object.keys(stack(account, kind).resource);
      expect(types.filter((t) => t.startsWith('aws_s3_') || t.startsWith('aws_kms_'))).toEqual([]);
    }
  });

  it("keeps that stack's own state in the bucket it creates", () => {
    expect(bootstrap.terraform.backend.s3).toMatchObject({ bucket: BUCKET, key: 'bitbucket-oidc/444455556666/bootstrap.tfstate' });
    expect(only(bootstrap, 'aws_s3_bucket').bucket).toBe(BUCKET);
  });

  it('can never be destroyed by Terraform, nor emptied by it', () => {
    expect(only(bootstrap, 'aws_s3_bucket')).toMatchObject({ lifecycle: { prevent_destroy: true }, force_destroy: false });
  });

  it('is in the state region, set on every resource of the bucket', () => {
    for (const type of S3_TYPES) expect({ type, region: only(bootstrap, type).region }).toEqual({ type, region: 'eu-west-1' });
  });

  it('versions every object, so a bad apply can be rolled back', () => {
    expect(only(bootstrap, 'aws_s3_bucket_versioning').versioning_configuration).toEqual({ status: 'Enabled' });
  });

  it("encrypts with S3's keys by default (SSE-S3), S3 Bucket Keys off", () => {
    expect(only(bootstrap, 'aws_s3_bucket_server_side_encryption_configuration').rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' }, bucket_key_enabled: false },
    ]);
  });

  it('blocks all four kinds of public access, and disables ACLs', () => {
    expect(only(bootstrap, 'aws_s3_bucket_public_access_block')).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(only(bootstrap, 'aws_s3_bucket_ownership_controls').rule).toEqual({ object_ownership: 'BucketOwnerEnforced' });
  });

  it('expires replaced versions after 90 days, removes orphan delete markers and aborts unfinished uploads after 7 days', () => {
    const lifecycle = only(bootstrap, 'aws_s3_bucket_lifecycle_configuration');
    expect(lifecycle.rule).toEqual([
      {
        id: 'expire-replaced-state-versions',
        status: 'Enabled',
        filter: [{ prefix: '' }],
        noncurrent_version_expiration: [{ noncurrent_days: 90 }],
        expiration: [{ expired_object_delete_marker: true }],
        abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
      },
    ]);
    expect(lifecycle.depends_on).toEqual([expect.stringMatching(/^aws_s3_bucket_versioning\./)]);
  });

  it('attaches exactly the generated bucket policy, after the public access block', () => {
    const policy = only(bootstrap, 'aws_s3_bucket_policy');
    // Terraform reads `$${aws:PrincipalAccount}` as the policy variable itself, which it sends to S3.
    expect(policy.policy).toContain('$${aws:PrincipalAccount}');
    expect(JSON.parse(unescapeTemplate(policy.policy))).toEqual(stateStoragePolicies(config).bucketPolicy);
    expect(policy.depends_on).toEqual([expect.stringMatching(/^aws_s3_bucket_public_access_block\./)]);
  });

  it("outputs the bucket's ARN, and no key", () => {
    expect(Object.keys(bootstrap.output)).toContain('state_bucket_arn');
    expect(Object.keys(bootstrap.output)).not.toContain('state_kms_key_arn');
  });

  it('is described in docs/permissions.md by a table rendered from the same policy', () => {
    const page = readFileSync(path.join(ROOT, 'docs', 'permissions.md'), 'utf8');
    const table = /<!-- state-bucket-policy-table:start -->\n([\s\S]*?)\n<!-- state-bucket-policy-table:end -->/.exec(page)?.[1];
    expect(table).toBe(resourcePolicyTableMarkdown(stateStoragePolicies(config).bucketPolicy));
  });
});

describe("the state bucket's policy", () => {
  const { config } = validateConfig(exampleConfig());
  const policy = stateStoragePolicies(config).bucketPolicy;
  const grants = policy.Statement.filter((s) => s.Effect === 'Allow');

  it('refuses every request without TLS, then every workload role, before any grant', () => {
    expect(policy.Statement.slice(0, 2)).toEqual([
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'DenyWorkloadRoles',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/bitbucket/*'] } },
      },
    ]);
  });

  it('lists every account once per grant as principals, narrowed to the pipeline roles by aws:PrincipalArn (valid before the roles exist)', () => {
    expect(grants).toHaveLength(4);
    for (const grant of grants) {
      expect((grant.Principal as { AWS: string[] }).AWS).toEqual(['arn:aws:iam::111122223333:root', 'arn:aws:iam::444455556666:root']);
      const roles = [grant.Condition?.ArnLike?.['aws:PrincipalArn']].flat();
      expect(roles.length).toBeGreaterThan(0);
      // The account is the caller's, fixed by the principal: `*` stands for it alone.
      for (const role of roles) expect(role).toMatch(/^arn:aws:iam::\*:role\/bitbucket-pipeline\/bitbucket-(plan|deploy)$/);
    }
  });

  it("grants each account its own keys only: ${aws:PrincipalAccount}, which AWS resolves to the caller's account ID", () => {
    for (const grant of grants) {
      const keys = [grant.Resource, grant.Condition?.StringEquals?.['s3:prefix']]
        .flat()
        .filter((r) => r !== undefined && r !== `arn:aws:s3:::${BUCKET}`);
      for (const key of keys) expect(key).toMatch(/(^|\/)bitbucket-oidc\/\$\{aws:PrincipalAccount\}\/workload\.tfstate(\.tflock)?$/);
    }
  });

  it('gives only the deploy role PutObject on its state, and nobody PutObject on any other object but a lock file', () => {
    const puts = grants.filter((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(puts.length).toBe(2);
    for (const put of puts) {
      const resource = String(put.Resource);
      if (resource.endsWith('.tflock')) continue;
      expect(put.Condition?.ArnLike?.['aws:PrincipalArn']).toMatch(/bitbucket-deploy$/);
      expect(resource).toMatch(/\/workload\.tfstate$/);
    }
  });

  it('keeps four statements per account with keys by account name (the original layout)', () => {
    const { config: byName } = validateConfig(withState({ keyLayout: 'account-name' }));
    const named = stateStoragePolicies(byName).bucketPolicy.Statement.filter((s) => s.Effect === 'Allow');
    expect(named.map((s) => s.Sid)).toEqual(
      ['111122223333', '444455556666'].flatMap((id) => [
        `PipelineRolesOf${id}ListTheirStateKey`,
        `PipelineRolesOf${id}ReadTheirState`,
        `PipelineRolesOf${id}LockTheirState`,
        `DeployRoleOf${id}WritesItsState`,
      ]),
    );
    expect(JSON.stringify(named)).toContain('bitbucket-oidc/staging/workload.tfstate');
    expect(JSON.stringify(named)).not.toContain('PrincipalAccount');
  });

  it('grants nothing under a bootstrap key', () => {
    expect(JSON.stringify(grants)).not.toContain('bootstrap.tfstate');
  });

  it('has only the two denials without a pipeline section', () => {
    const config2 = exampleConfig();
    delete config2.pipeline;
    for (const account of config2.accounts) delete account.deploymentEnvironment;
    const { config: resolved } = validateConfig(config2);
    expect(stateStoragePolicies(resolved).bucketPolicy.Statement.map((s) => s.Sid)).toEqual(['DenyInsecureTransport', 'DenyWorkloadRoles']);
  });

  /** `count` accounts with pipeline roles, the bucket in the first. */
  function manyAccounts(count: number, keyLayout?: string): any {
    const many = exampleConfig();
    many.state = { ...many.state, account: 'account-000', ...(keyLayout === undefined ? {} : { keyLayout }) };
    many.accounts = Array.from({ length: count }, (_, i) => ({
      name: `account-${String(i).padStart(3, '0')}`,
      accountId: String(100000000000 + i),
      region: 'eu-west-1',
      deploymentEnvironment: `{${String(i).padStart(8, '0')}-0000-4000-8000-000000000000}`,
      roles: [],
    }));
    return many;
  }

  it.each([10, 50, 100])(
    "holds %i accounts within S3's 20 KB, and its size and the key policy's are those docs/configuration.md gives",
    (count) => {
      const withKey = manyAccounts(count);
      withKey.state.encryption = 'SSE-KMS';
      const { bucketPolicy, keyPolicy } = stateStoragePolicies(validateConfig(withKey).config);
      const [bucket, key] = [policySize(bucketPolicy), policySize(keyPolicy!)];
      expect(bucket).toBeLessThanOrEqual(RESOURCE_POLICY_SIZE_LIMITS.bucketPolicy);
      expect(key).toBeLessThanOrEqual(RESOURCE_POLICY_SIZE_LIMITS.keyPolicy);
      const page = readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
      expect(page).toContain(`| ${count} | ${bucket.toLocaleString('en')} | ${key.toLocaleString('en')} |`);
    },
  );

  it("refuses, at validation, more accounts than S3's 20 KB bucket policy quota holds, and says what to do", () => {
    expect(() => validateConfig(manyAccounts(150))).toThrow(
      /state\.account: the state bucket policy is \d+ characters .* at most 20480: it grants 6 statements; keep the state of fewer accounts in one bucket/,
    );
    expect(() => validateConfig(manyAccounts(20, 'account-name'))).toThrow(
      /state\.account: the state bucket policy is \d+ characters .* at most 20480: it grants 82 statements; lay the state keys out by account ID \("state\.keyLayout": "account-id"/,
    );
  });
});

describe('the state bucket with other settings', () => {
  it('creates a KMS key with SSE-KMS: rotation on, prevent_destroy, the generated key policy; the bucket uses it', () => {
    const input = withState({ encryption: 'SSE-KMS' });
    const bootstrap = stacksOf(input)('production', 'bootstrap');
    const key = only(bootstrap, 'aws_kms_key');
    expect(key).toMatchObject({
      enable_key_rotation: true,
      deletion_window_in_days: 30,
      lifecycle: { prevent_destroy: true },
      region: 'eu-west-1',
    });
    expect(JSON.parse(unescapeTemplate(key.policy))).toEqual(stateStoragePolicies(validateConfig(input).config).keyPolicy);
    const keyId = Object.keys(bootstrap.resource.aws_kms_key)[0];
    expect(only(bootstrap, 'aws_s3_bucket_server_side_encryption_configuration').rule).toEqual([
      {
        apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: `\${aws_kms_key.${keyId}.arn}` },
        bucket_key_enabled: false,
      },
    ]);
    expect(Object.keys(bootstrap.output)).toContain('state_kms_key_arn');
  });

  it('gives the pipeline roles of every account the created key, through S3 and for their own objects only', () => {
    const { config } = validateConfig(withState({ encryption: 'SSE-KMS' }));
    const staging = config.accounts.find((a) => a.name === 'staging')!;
    const [plan, deploy] = staging.pipelineRoles.map((role) => Object.values(role.inlinePolicies)[0] as PolicyDocument);
    const object = `arn:aws:s3:::${BUCKET}/bitbucket-oidc/111122223333/workload.tfstate`;
    const keyOf = (document: PolicyDocument, sid: string) => document.Statement.find((s) => s.Sid === sid);
    expect(keyOf(plan, 'DecryptOwnStateWithStateKey')).toEqual({
      Sid: 'DecryptOwnStateWithStateKey',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: 'arn:aws:kms:eu-west-1:444455556666:key/*',
      Condition: {
        StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': [object, `${object}.tflock`] },
      },
    });
    expect(keyOf(plan, 'EncryptOwnStateLockWithStateKey')?.Condition?.StringEquals?.['kms:EncryptionContext:aws:s3:arn']).toEqual([
      `${object}.tflock`,
    ]);
    expect(keyOf(deploy, 'EncryptOwnStateAndLockWithStateKey')?.Condition?.StringEquals?.['kms:EncryptionContext:aws:s3:arn']).toEqual([
      object,
      `${object}.tflock`,
    ]);
  });

  it('uses an existing key named by ARN, creates none, and grants the roles that key only', () => {
    const arn = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const input = withState({ encryption: { kmsKeyArn: arn } });
    const bootstrap = stacksOf(input)('production', 'bootstrap');
    expect(bootstrap.resource.aws_kms_key).toBeUndefined();
    expect(only(bootstrap, 'aws_s3_bucket_server_side_encryption_configuration').rule[0].apply_server_side_encryption_by_default).toEqual({
      sse_algorithm: 'aws:kms',
      kms_master_key_id: arn,
    });
    const { config } = validateConfig(input);
    const plan = Object.values(config.accounts[0].pipelineRoles[0].inlinePolicies)[0] as PolicyDocument;
    expect(plan.Statement.filter((s) => [s.Action].flat().some((a) => String(a).startsWith('kms:'))).map((s) => s.Resource)).toEqual([
      arn,
      arn,
    ]);
  });

  it("puts the bucket in state.region when the state account's provider is in another region", () => {
    const input = withState({ region: 'eu-central-1' });
    const bootstrap = stacksOf(input)('production', 'bootstrap');
    expect(bootstrap.provider.aws).toEqual([expect.objectContaining({ region: 'eu-west-1' })]);
    for (const type of S3_TYPES) expect({ type, region: only(bootstrap, type).region }).toEqual({ type, region: 'eu-central-1' });
    expect(bootstrap.terraform.backend.s3.region).toBe('eu-central-1');
  });

  it('keeps replaced versions for noncurrentVersionExpirationDays', () => {
    const bootstrap = stacksOf(withState({ noncurrentVersionExpirationDays: 3650 }))('production', 'bootstrap');
    expect(only(bootstrap, 'aws_s3_bucket_lifecycle_configuration').rule[0].noncurrent_version_expiration).toEqual([
      { noncurrent_days: 3650 },
    ]);
  });

  it('is created by no stack without state.account, and the synth says the bucket is managed outside this project', () => {
    const input = exampleConfig();
    delete input.state.account;
    const stack = stacksOf(input);
    for (const account of ['staging', 'production']) {
      for (const kind of ['bootstrap', 'workload'] as const) expect(stack(account, kind).resource.aws_s3_bucket).toBeUndefined();
    }
    const { warnings } = validateConfig(input);
    expect(warnings).toContainEqual(
      expect.stringMatching(
        /^state\.account is not set, so the state bucket "acme-terraform-state-example" is managed outside this project: .*bucket policy must grant them their own state keys/,
      ),
    );
  });
});
