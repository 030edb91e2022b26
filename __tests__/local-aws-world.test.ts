/**
 * The rehearsal's in-memory AWS (`support/rehearsal/local-aws/world.ts`) and the provider API the stub
 * Terraform provider calls (`provider-api.ts`, `provider-calls.ts`): credentials, decisions by the
 * independent engine (allowed and denied, with AWS's wording), and what the provider's calls change.
 */
import { request } from 'http';
import {
  AWS_IAM_ROLE_CALLS,
  AWS_IAM_ROLE_POLICY_ATTACHMENT_CALLS,
  AWS_IAM_ROLE_POLICY_CALLS,
  boundaryPolicy,
  deployRolePolicy,
  PipelinePolicyContext,
  planRolePolicy,
  ProviderApiCalls,
} from '../src/pipeline-roles';
import { PolicyDocument } from '../src/iam/policy';
import { answerProviderCall, MadeCall, ProviderCallRequest, startProviderApi } from './support/rehearsal/local-aws/provider-api';
import { AwsError, AwsWorld, Caller, RoleRecord } from './support/rehearsal/local-aws/world';

jest.setTimeout(60_000);

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const REGION = 'eu-west-1';
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/bitbucket-workload-boundary`;
const ISSUER = 'api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}`;
const AUDIENCE = 'ari:cloud:bitbucket::workspace/8a1f1c70-0c1e-4f7b-9c53-6f2d2a1b3c4d';
const REPO = '{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}';

const policy = (...statements: PolicyDocument['Statement']): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });
const EVERYTHING = policy({ Effect: 'Allow', Action: '*', Resource: '*' });
const TRUST = policy({
  Effect: 'Allow',
  Principal: { Federated: PROVIDER },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringEquals: { [`${ISSUER}:aud`]: AUDIENCE }, StringLike: { [`${ISSUER}:sub`]: `${REPO}:*` } },
});

/** A role put straight into the world (as a bootstrap apply would have left it). */
function addRole(
  world: AwsWorld,
  name: string,
  inline: PolicyDocument,
  options: { path?: string; account?: string; boundary?: string } = {},
): RoleRecord {
  const { path = '/bitbucket-pipeline/', account = ACCOUNT, boundary } = options;
  const arn = `arn:aws:iam::${account}:role${path}${name}`;
  const role: RoleRecord = {
    accountId: account,
    name,
    path,
    arn,
    uniqueId: world.roleUniqueId(account, name),
    assumeRolePolicy: TRUST,
    ...(boundary === undefined ? {} : { permissionsBoundary: boundary }),
    maxSessionDuration: 3600,
    tags: {},
    inlinePolicies: new Map([['inline', inline]]),
    attachedPolicyArns: new Set(),
  };
  world.roles.set(arn, role);
  return role;
}

function session(world: AwsWorld, role: RoleRecord): { caller: Caller; accessKeyId: string; sessionToken: string } {
  const { credentials, caller } = world.startRoleSession(role, 'bitbucket-7-staging', 3600);
  return { caller, accessKeyId: credentials.accessKeyId, sessionToken: credentials.sessionToken! };
}

const thrown = (fn: () => unknown): AwsError => {
  try {
    fn();
  } catch (error) {
    return error as AwsError;
  }
  throw new Error('expected an error');
};

/** CreateRole allowed only with the account's boundary (as the deploy role's policy does). */
const CREATE_ONLY_WITH_BOUNDARY = policy({
  Effect: 'Allow',
  Action: 'iam:CreateRole',
  Resource: `arn:aws:iam::${ACCOUNT}:role/bitbucket/*`,
  Condition: { StringEquals: { 'iam:PermissionsBoundary': BOUNDARY } },
});

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/bitbucket/web`;
const createRequest = (extra: Record<string, string> = {}) => ({
  action: 'iam:CreateRole',
  resource: ROLE_ARN,
  resourceAccount: ACCOUNT,
  context: extra,
});

describe('credentials', () => {
  it('gives each account one administrator, whose static keys resolve to its user', () => {
    const world = new AwsWorld();
    const keys = world.addAccount(ACCOUNT);
    expect(world.addAccount(ACCOUNT)).toEqual(keys);
    expect(keys.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    const caller = world.caller(keys.accessKeyId);
    expect(caller).toEqual({
      accountId: ACCOUNT,
      arn: `arn:aws:iam::${ACCOUNT}:user/administrator`,
      userId: expect.stringMatching(/^AIDA/),
    });
  });

  it('refuses an unknown access key: InvalidAccessKeyId for S3, InvalidClientTokenId for the other services', () => {
    const world = new AwsWorld();
    expect(thrown(() => world.caller('AKIAUNKNOWN000000000'))).toMatchObject({ code: 'InvalidAccessKeyId', statusCode: 403 });
    expect(thrown(() => world.caller('AKIAUNKNOWN000000000', undefined, 'STS'))).toMatchObject({
      code: 'InvalidClientTokenId',
      statusCode: 403,
    });
  });

  it('resolves a role session to its assumed-role ARN, and refuses it with a wrong token or once expired', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const world = new AwsWorld({ now: () => now });
    const role = addRole(world, 'bitbucket-deploy', EVERYTHING);
    const { accessKeyId, sessionToken } = session(world, role);
    expect(world.caller(accessKeyId, sessionToken)).toEqual({
      accountId: ACCOUNT,
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/bitbucket-deploy/bitbucket-7-staging`,
      userId: `${role.uniqueId}:bitbucket-7-staging`,
      roleArn: role.arn,
    });
    expect(thrown(() => world.caller(accessKeyId, 'not-the-token'))).toMatchObject({ code: 'InvalidToken', statusCode: 400 });
    now = new Date('2026-01-01T01:00:00Z');
    expect(thrown(() => world.caller(accessKeyId, sessionToken))).toMatchObject({
      code: 'ExpiredToken',
      statusCode: 400,
      message: 'The provided token has expired.',
    });
    expect(thrown(() => world.caller(accessKeyId, sessionToken, 'IAM'))).toMatchObject({ code: 'ExpiredToken' });
  });
});

describe('decisions', () => {
  it('lets the administrator create a role, and logs the decision', async () => {
    const world = new AwsWorld();
    const admin = world.caller(world.addAccount(ACCOUNT).accessKeyId);
    expect(await world.authorize(admin, createRequest())).toEqual({ allowed: true, result: 'Allowed', message: '' });
    expect(world.decisions).toEqual([{ caller: admin.arn, action: 'iam:CreateRole', resource: ROLE_ARN, allowed: true }]);
  });

  it('denies CreateRole without the boundary to a role allowed it only with the boundary, and allows it with the boundary', async () => {
    const world = new AwsWorld();
    const { caller } = session(world, addRole(world, 'bitbucket-deploy', CREATE_ONLY_WITH_BOUNDARY));
    const denied = await world.authorize(caller, createRequest());
    expect(denied).toEqual({
      allowed: false,
      result: 'ImplicitlyDenied',
      message:
        `User: ${caller.arn} is not authorized to perform: iam:CreateRole on resource: ${ROLE_ARN} ` +
        'because no identity-based policy allows the iam:CreateRole action',
    });
    expect((await world.authorize(caller, createRequest({ 'iam:PermissionsBoundary': BOUNDARY }))).allowed).toBe(true);
  });

  it("applies the role's permissions boundary: an explicit deny in it wins over an identity policy allowing everything", async () => {
    const world = new AwsWorld();
    world.managedPolicies.set(BOUNDARY, {
      arn: BOUNDARY,
      name: 'bitbucket-workload-boundary',
      path: '/',
      document: policy({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'iam:CreateUser', Resource: '*' }),
    });
    const { caller } = session(world, addRole(world, 'greedy-app', EVERYTHING, { path: '/bitbucket/', boundary: BOUNDARY }));
    const userArn = `arn:aws:iam::${ACCOUNT}:user/backdoor`;
    const decision = await world.authorize(caller, { action: 'iam:CreateUser', resource: userArn, resourceAccount: ACCOUNT });
    expect(decision.message).toMatch(/iam:CreateUser on resource: .* with an explicit deny in a permissions boundary$/);
    expect((await world.authorize(caller, { action: 's3:ListAllMyBuckets', resource: '*', resourceAccount: ACCOUNT })).allowed).toBe(true);
  });

  describe('cross-account S3 GetObject', () => {
    const object = 'arn:aws:s3:::acme-terraform-state/staging/workload.tfstate';
    const getObject = { action: 's3:GetObject', resource: object, resourceAccount: OTHER };
    const readState = policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme-terraform-state/*' });
    const bucketPolicy = policy({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::acme-terraform-state/*',
    });

    it('is allowed when both the identity policy and the bucket policy allow it', async () => {
      const world = new AwsWorld();
      const { caller } = session(world, addRole(world, 'bitbucket-plan', readState));
      expect((await world.authorize(caller, getObject, bucketPolicy)).allowed).toBe(true);
    });

    it('is denied with the identity policy alone, quoting the S3 resource', async () => {
      const world = new AwsWorld();
      const { caller } = session(world, addRole(world, 'bitbucket-plan', readState));
      const decision = await world.authorize(caller, getObject);
      expect(decision.allowed).toBe(false);
      expect(decision.message).toBe(
        `User: ${caller.arn} is not authorized to perform: s3:GetObject on resource: "${object}" ` +
          'because no resource-based policy allows the s3:GetObject action',
      );
    });

    it('is denied with the bucket policy alone', async () => {
      const world = new AwsWorld();
      const { caller } = session(
        world,
        addRole(world, 'bitbucket-plan', policy({ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' })),
      );
      const decision = await world.authorize(caller, getObject, bucketPolicy);
      expect(decision.allowed).toBe(false);
      expect(decision.message).toMatch(/because no identity-based policy allows the s3:GetObject action$/);
    });
  });

  it('refuses to decide, naming it, when the caller holds an AWS-managed policy', async () => {
    const world = new AwsWorld();
    const role = addRole(world, 'bitbucket-deploy', EVERYTHING);
    role.attachedPolicyArns.add('arn:aws:iam::aws:policy/ReadOnlyAccess');
    const { caller } = session(world, role);
    await expect(world.authorize(caller, createRequest())).rejects.toThrow(
      /arn:aws:iam::aws:policy\/ReadOnlyAccess is an AWS-managed policy/,
    );
  });

  it("decides AssumeRoleWithWebIdentity by the role's trust policy: this repository's steps, not another's", async () => {
    const world = new AwsWorld();
    const role = addRole(world, 'bitbucket-deploy', EVERYTHING);
    const claims = (sub: string) => ({ iss: `https://${ISSUER}`, aud: AUDIENCE, sub });
    expect((await world.decideAssumeRoleWithWebIdentity(role, claims(`${REPO}:{6c1a0b55-1111-4c1c-9d1f-0123456789ab}`))).allowed).toBe(
      true,
    );
    expect(
      await world.decideAssumeRoleWithWebIdentity(
        role,
        claims('{2b7e151a-28ae-4d2a-abf7-158809cf4f3c}:{6c1a0b55-1111-4c1c-9d1f-0123456789ab}'),
      ),
    ).toEqual({ allowed: false, result: 'ImplicitlyDenied', message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity' });
  });
});

// ---------------------------------------------------------------------------------------------
// The provider API
// ---------------------------------------------------------------------------------------------

const TRUST_JSON = JSON.stringify(TRUST);

function roleAttributes(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'web',
    path: '/bitbucket/',
    assume_role_policy: TRUST_JSON,
    permissions_boundary: BOUNDARY,
    max_session_duration: 3600,
    description: 'web artifacts upload',
    tags: { app: 'web' },
    tags_all: { app: 'web', 'managed-by': 'bitbucket-oidc-cdktf' },
    force_detach_policies: false,
    inline_policy: [],
    managed_policy_arns: [],
    arn: ROLE_ARN,
    id: 'web',
    unique_id: 'AROASTUBFILLEDIN00000',
    ...extra,
  };
}

function call(
  keys: { accessKeyId: string; sessionToken?: string },
  resourceType: string,
  operation: ProviderCallRequest['operation'],
  prior: Record<string, unknown> | null,
  planned: Record<string, unknown> | null,
): ProviderCallRequest {
  return { ...keys, region: REGION, resourceType, operation, prior, planned };
}

describe('the provider API', () => {
  it('creates the role the administrator asks for, with its tags and boundary, and answers the state AWS holds', async () => {
    const world = new AwsWorld();
    const admin = world.addAccount(ACCOUNT);
    const answer = await answerProviderCall(world, call(admin, 'aws_iam_role', 'create', null, roleAttributes()));
    const role = world.roles.get(ROLE_ARN)!;
    expect(role).toMatchObject({
      permissionsBoundary: BOUNDARY,
      tags: { app: 'web', 'managed-by': 'bitbucket-oidc-cdktf' },
      assumeRolePolicy: TRUST,
    });
    expect(answer).toEqual({ state: roleAttributes({ unique_id: role.uniqueId }) });
  });

  it('refuses a denied TagRole during create as the whole CreateRole, and leaves no role behind', async () => {
    const world = new AwsWorld();
    const deploy = session(world, addRole(world, 'bitbucket-deploy', CREATE_ONLY_WITH_BOUNDARY));
    const answer = await answerProviderCall(world, call(deploy, 'aws_iam_role', 'create', null, roleAttributes()));
    expect(answer).toEqual({
      error: {
        service: 'IAM',
        operation: 'CreateRole',
        code: 'AccessDenied',
        statusCode: 403,
        message:
          `User: ${deploy.caller.arn} is not authorized to perform: iam:TagRole on resource: ${ROLE_ARN} ` +
          'because no identity-based policy allows the iam:TagRole action',
      },
    });
    expect(world.roles.has(ROLE_ARN)).toBe(false);
  });

  it('creates the role once TagRole is allowed too, but refuses it without the boundary', async () => {
    const world = new AwsWorld();
    const allowTagging = policy(...CREATE_ONLY_WITH_BOUNDARY.Statement, {
      Effect: 'Allow',
      Action: ['iam:TagRole', 'iam:Get*', 'iam:List*'],
      Resource: '*',
    });
    const deploy = session(world, addRole(world, 'bitbucket-deploy', allowTagging));
    const unbounded = await answerProviderCall(
      world,
      call(deploy, 'aws_iam_role', 'create', null, roleAttributes({ permissions_boundary: null })),
    );
    expect(unbounded).toMatchObject({ error: { operation: 'CreateRole', message: expect.stringContaining('perform: iam:CreateRole') } });
    expect(await answerProviderCall(world, call(deploy, 'aws_iam_role', 'create', null, roleAttributes()))).toHaveProperty(
      'state.arn',
      ROLE_ARN,
    );
  });

  it('answers state null when reading a role that was deleted, so Terraform plans to create it again', async () => {
    const world = new AwsWorld();
    const admin = world.addAccount(ACCOUNT);
    const created = await answerProviderCall(world, call(admin, 'aws_iam_role', 'create', null, roleAttributes()));
    const state = (created as { state: Record<string, unknown> }).state;
    expect(await answerProviderCall(world, call(admin, 'aws_iam_role', 'read', state, null))).toEqual({ state });
    expect(await answerProviderCall(world, call(admin, 'aws_iam_role', 'delete', state, null))).toEqual({ state: null });
    expect(await answerProviderCall(world, call(admin, 'aws_iam_role', 'read', state, null))).toEqual({ state: null });
  });

  it('reports a drifted trust policy on read, and puts it back on update', async () => {
    const world = new AwsWorld();
    const admin = world.addAccount(ACCOUNT);
    const { state } = (await answerProviderCall(world, call(admin, 'aws_iam_role', 'create', null, roleAttributes()))) as {
      state: Record<string, unknown>;
    };
    world.roles.get(ROLE_ARN)!.assumeRolePolicy = EVERYTHING;
    const read = (await answerProviderCall(world, call(admin, 'aws_iam_role', 'read', state, null))) as { state: Record<string, unknown> };
    expect(JSON.parse(read.state.assume_role_policy as string)).toEqual(EVERYTHING);
    await answerProviderCall(world, call(admin, 'aws_iam_role', 'update', read.state, state));
    expect(world.roles.get(ROLE_ARN)!.assumeRolePolicy).toEqual(TRUST);
  });

  it('answers the first call of an unknown access key with InvalidClientTokenId, as IAM does', async () => {
    const world = new AwsWorld();
    expect(
      await answerProviderCall(world, call({ accessKeyId: 'AKIAUNKNOWN000000000' }, 'aws_iam_role', 'read', roleAttributes(), null)),
    ).toMatchObject({ error: { service: 'IAM', operation: 'GetRole', code: 'InvalidClientTokenId', statusCode: 403 } });
  });

  it('refuses an unknown resource type, naming it', async () => {
    const world = new AwsWorld();
    await expect(answerProviderCall(world, call(world.addAccount(ACCOUNT), 'aws_lambda_function', 'read', {}, null))).rejects.toThrow(
      /aws_lambda_function/,
    );
  });

  it('records the bootstrap: OIDC provider, boundary policy, state bucket with its policy, encryption and versioning', async () => {
    const world = new AwsWorld();
    const admin = world.addAccount(ACCOUNT);
    const created: string[] = [];
    world.onBucketCreated((bucket) => void created.push(bucket.name));
    const apply = async (type: string, planned: Record<string, unknown>) => {
      const answer = await answerProviderCall(world, call(admin, type, 'create', null, planned));
      expect(answer).toHaveProperty('state');
    };
    await apply('aws_iam_openid_connect_provider', { url: `https://${ISSUER}`, client_id_list: [AUDIENCE], thumbprint_list: [] });
    await apply('aws_iam_policy', { name: 'bitbucket-workload-boundary', path: '/', policy: JSON.stringify(EVERYTHING) });
    const bucketPolicy = policy({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Resource: 'arn:aws:s3:::acme-state/*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    await apply('aws_s3_bucket', { bucket: 'acme-state', region: REGION, force_destroy: false });
    await apply('aws_s3_bucket_policy', { bucket: 'acme-state', policy: JSON.stringify(bucketPolicy) });
    await apply('aws_s3_bucket_versioning', { bucket: 'acme-state', versioning_configuration: [{ status: 'Enabled' }] });
    await apply('aws_s3_bucket_server_side_encryption_configuration', {
      bucket: 'acme-state',
      rule: [
        {
          apply_server_side_encryption_by_default: [
            { sse_algorithm: 'aws:kms', kms_master_key_id: 'arn:aws:kms:eu-west-1:111122223333:key/k1' },
          ],
          bucket_key_enabled: false,
        },
      ],
    });
    expect(world.oidcProviders.get(PROVIDER)).toMatchObject({ url: `https://${ISSUER}`, clientIds: [AUDIENCE] });
    expect(world.managedPolicies.get(BOUNDARY)?.document).toEqual(EVERYTHING);
    expect(world.buckets.get('acme-state')).toMatchObject({
      accountId: ACCOUNT,
      region: REGION,
      policy: bucketPolicy,
      versioning: true,
      encryption: { algorithm: 'aws:kms', kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/k1' },
    });
    expect(created).toEqual(['acme-state']);
  });

  it("keeps a KMS key to its key policy: a key that trusts only another role refuses even the administrator's read", async () => {
    const world = new AwsWorld();
    const admin = world.addAccount(ACCOUNT);
    const keyPolicy = policy({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/key-admin` },
      Action: 'kms:*',
      Resource: '*',
    });
    const keyId = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    const answer = await answerProviderCall(
      world,
      call(admin, 'aws_kms_key', 'create', null, { key_id: keyId, policy: JSON.stringify(keyPolicy) }),
    );
    const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;
    expect(world.kmsKeys.get(keyArn)?.policy).toEqual(keyPolicy);
    expect(answer).toEqual({
      error: {
        service: 'KMS',
        operation: 'DescribeKey',
        code: 'AccessDeniedException',
        statusCode: 400,
        message:
          `User: arn:aws:iam::${ACCOUNT}:user/administrator is not authorized to perform: kms:DescribeKey on resource: ${keyArn} ` +
          'because no resource-based policy allows the kms:DescribeKey action',
      },
    });
  });

  it('makes only calls the project lists for the role types (provider-api-calls.ts), whatever the change', async () => {
    const world = new AwsWorld();
    const admin = world.addAccount(ACCOUNT);
    world.managedPolicies.set(BOUNDARY, { arn: BOUNDARY, name: 'bitbucket-workload-boundary', path: '/', document: EVERYTHING });
    const made: MadeCall[] = [];
    const run = async (
      type: string,
      operation: ProviderCallRequest['operation'],
      prior: Record<string, unknown> | null,
      planned: Record<string, unknown> | null,
    ) => {
      const answer = await answerProviderCall(world, call(admin, type, operation, prior, planned), made);
      expect(answer).not.toHaveProperty('error');
      return (answer as { state: Record<string, unknown> }).state;
    };
    const inline = { name: 'legacy', policy: JSON.stringify(EVERYTHING) };
    const role = await run('aws_iam_role', 'create', null, roleAttributes({ inline_policy: [inline], managed_policy_arns: [BOUNDARY] }));
    const changed = {
      ...role,
      assume_role_policy: JSON.stringify(EVERYTHING),
      description: 'other',
      max_session_duration: 7200,
      permissions_boundary: null,
      tags_all: { team: 'x' },
      inline_policy: [],
      managed_policy_arns: [],
    };
    const updated = await run('aws_iam_role', 'update', role, changed);
    await run('aws_iam_role', 'update', updated, { ...updated, permissions_boundary: BOUNDARY });
    const rolePolicy = await run('aws_iam_role_policy', 'create', null, {
      role: 'web',
      name: 'upload',
      policy: JSON.stringify(EVERYTHING),
    });
    await run('aws_iam_role_policy', 'update', rolePolicy, { ...rolePolicy, policy: JSON.stringify(TRUST) });
    const attachment = await run('aws_iam_role_policy_attachment', 'create', null, { role: 'web', policy_arn: BOUNDARY });
    await run('aws_iam_role_policy_attachment', 'read', attachment, null);
    await run('aws_iam_role_policy_attachment', 'delete', attachment, null);
    await run('aws_iam_role_policy', 'delete', rolePolicy, null);
    await run('aws_iam_role', 'delete', { ...updated, force_detach_policies: true }, null);
    const tables: Record<string, ProviderApiCalls> = {
      aws_iam_role: AWS_IAM_ROLE_CALLS,
      aws_iam_role_policy: AWS_IAM_ROLE_POLICY_CALLS,
      aws_iam_role_policy_attachment: AWS_IAM_ROLE_POLICY_ATTACHMENT_CALLS,
    };
    const unlisted = made.flatMap((m) =>
      m.actions
        .filter((action) => ![...tables[m.resourceType][m.operation], ...tables[m.resourceType].read].includes(action))
        .map((action) => `${m.resourceType} ${m.operation}: ${action}`),
    );
    expect(unlisted).toEqual([]);
    // ... and, over this run, every listed call but the instance-profile one (the world has no instance profiles).
    const listed = new Set([
      ...AWS_IAM_ROLE_CALLS.read,
      ...AWS_IAM_ROLE_CALLS.create,
      ...AWS_IAM_ROLE_CALLS.update,
      ...AWS_IAM_ROLE_CALLS.delete,
    ]);
    listed.delete('iam:RemoveRoleFromInstanceProfile');
    expect(new Set(made.flatMap((m) => m.actions))).toEqual(listed);
    expect(world.roles.size).toBe(0);
  });

  it('serves POST /call on 127.0.0.1 and stops when told', async () => {
    const world = new AwsWorld();
    const admin = world.addAccount(ACCOUNT);
    const api = await startProviderApi(world);
    try {
      expect(api.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const post = (body: unknown) =>
        new Promise<{ status: number; body: unknown }>((resolve, reject) => {
          const req = request(`${api.endpoint}/call`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
          });
          req.on('error', reject);
          req.end(JSON.stringify(body));
        });
      expect(await post(call(admin, 'aws_iam_role', 'read', roleAttributes(), null))).toEqual({ status: 200, body: { state: null } });
      expect(await post(call(admin, 'aws_sqs_queue', 'read', {}, null))).toMatchObject({
        status: 400,
        body: { message: expect.stringContaining('aws_sqs_queue') },
      });
      expect(api.calls.map((c) => c.apiOperation)).toEqual(['GetRole']);
    } finally {
      await api.stop();
    }
  });
});

describe("the project's own pipeline policies, through the provider API", () => {
  const context: PipelinePolicyContext = {
    partition: 'aws',
    accountId: ACCOUNT,
    workspace: 'acme',
    state: { bucket: 'acme-terraform-state', key: `bitbucket-oidc/${ACCOUNT}/workload.tfstate` },
  };
  const upload = {
    role: 'web',
    name: 'upload-artifacts',
    policy: JSON.stringify(policy({ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::acme-artifacts/*' })),
  };

  function pipelineWorld() {
    const world = new AwsWorld();
    world.managedPolicies.set(BOUNDARY, {
      arn: BOUNDARY,
      name: 'bitbucket-workload-boundary',
      path: '/',
      document: boundaryPolicy(context),
    });
    const deploy = session(world, addRole(world, 'bitbucket-deploy', deployRolePolicy(context)));
    const plan = session(world, addRole(world, 'bitbucket-plan', planRolePolicy(context)));
    return { world, deploy, plan };
  }

  it('lets the deploy role create, read and delete a workload role with its tags, boundary and inline policy', async () => {
    const { world, deploy } = pipelineWorld();
    const role = await answerProviderCall(world, call(deploy, 'aws_iam_role', 'create', null, roleAttributes()));
    expect(role).toHaveProperty('state.arn', ROLE_ARN);
    const inline = await answerProviderCall(world, call(deploy, 'aws_iam_role_policy', 'create', null, upload));
    expect(inline).toHaveProperty('state.id', 'web:upload-artifacts');
    expect(
      await answerProviderCall(world, call(deploy, 'aws_iam_role', 'read', (role as { state: Record<string, unknown> }).state, null)),
    ).toHaveProperty('state');
    expect(await answerProviderCall(world, call(deploy, 'aws_iam_role_policy', 'delete', upload, null))).toEqual({ state: null });
    expect(
      await answerProviderCall(world, call(deploy, 'aws_iam_role', 'delete', (role as { state: Record<string, unknown> }).state, null)),
    ).toEqual({ state: null });
    expect(world.roles.has(ROLE_ARN)).toBe(false);
  });

  it('refuses the deploy role a workload role without the boundary', async () => {
    const { world, deploy } = pipelineWorld();
    expect(
      await answerProviderCall(world, call(deploy, 'aws_iam_role', 'create', null, roleAttributes({ permissions_boundary: null }))),
    ).toMatchObject({ error: { operation: 'CreateRole', code: 'AccessDenied', message: expect.stringContaining('iam:CreateRole') } });
  });

  it('lets the plan role refresh the workload role but not create one', async () => {
    const { world, deploy, plan } = pipelineWorld();
    const { state } = (await answerProviderCall(world, call(deploy, 'aws_iam_role', 'create', null, roleAttributes()))) as {
      state: Record<string, unknown>;
    };
    await answerProviderCall(world, call(deploy, 'aws_iam_role_policy', 'create', null, upload));
    expect(await answerProviderCall(world, call(plan, 'aws_iam_role', 'read', state, null))).toEqual({ state });
    expect(await answerProviderCall(world, call(plan, 'aws_iam_role_policy', 'read', upload, null))).toHaveProperty(
      'state.policy',
      upload.policy,
    );
    const other = roleAttributes({ name: 'other', arn: `arn:aws:iam::${ACCOUNT}:role/bitbucket/other`, id: 'other' });
    expect(await answerProviderCall(world, call(plan, 'aws_iam_role', 'create', null, other))).toMatchObject({
      error: {
        operation: 'CreateRole',
        message: expect.stringContaining(`${plan.caller.arn} is not authorized to perform: iam:CreateRole`),
      },
    });
  });
});
