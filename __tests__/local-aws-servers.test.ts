/**
 * The rehearsal's local STS and S3 (`support/rehearsal/local-aws/`): what they decide and how they
 * answer, over one `AwsWorld`, first through plain HTTP requests, then through the real `terraform`
 * and its S3 backend (web identity credentials, the state object and its lock file), as a pipeline
 * step uses them. Roles get the project's own state policy (`statePolicyStatements`).
 */
import { generateKeyPairSync, KeyObject, randomUUID, sign } from 'crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { bitbucketIssuer, workspaceAudience } from '../src/bitbucket/protocol';
import { bitbucketTrustPolicy } from '../src/bitbucket/trust-policy';
import { permissionStatement, policyDocument, PolicyDocument } from '../src/iam/policy';
import { statePolicyStatements, StateLocation } from '../src/pipeline-roles/state-access';
import { startLocalAws } from './support/rehearsal/local-aws';
import { startLocalS3, LocalS3 } from './support/rehearsal/local-aws/s3';
import { startLocalSts, LocalSts } from './support/rehearsal/local-aws/sts';
import { AwsWorld, RoleRecord } from './support/rehearsal/local-aws/world';
import { describeWithTerraform, terraform } from './support/terraform/terraform-cli';

jest.setTimeout(120_000);

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const REGION = 'eu-west-1';
const WORKSPACE_UUID = '8a1f1c70-2d3e-4f5a-9b6c-7d8e9f0a1b2c';
const REPOSITORY = '{1de489be-0000-4000-8000-00000000000a}';
const OTHER_REPOSITORY = '{1de489be-0000-4000-8000-00000000000b}';
const issuer = bitbucketIssuer('acme');
const audience = workspaceAudience(WORKSPACE_UUID);
const providerArn = (account: string) => `arn:aws:iam::${account}:oidc-provider/${issuer.hostAndPath}`;
const BUCKET = 'acme-terraform-state';
const STATE_KEY = 'bitbucket-oidc/workload.tfstate';

/** The issuer's signing key and the JWKS it publishes. */
function issuerKey(): { key: KeyObject; kid: string; jwks: { keys: object[] } } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  return { key: privateKey, kid, jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] } };
}

/** A compact RS256 JWT. */
function jwt(claims: Record<string, unknown>, key: KeyObject, kid: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'RS256', kid, typ: 'JWT' })}.${part(claims)}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`;
}

const signingKey = issuerKey();
/** A step token of `repository` as Bitbucket issues it (valid for an hour). */
function stepToken(overrides: Record<string, unknown> = {}, repository = REPOSITORY, key = signingKey): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt(
    {
      iss: issuer.url,
      aud: audience,
      sub: `${repository}:{${randomUUID()}}`,
      iat: now,
      exp: now + 3600,
      workspaceUuid: `{${WORKSPACE_UUID}}`,
      repositoryUuid: repository,
      ...overrides,
    },
    key.key,
    key.kid,
  );
}

const stateLocation = (bucket = BUCKET, key = STATE_KEY): StateLocation => ({
  bucketArn: `arn:aws:s3:::${bucket}`,
  key,
  objectArn: `arn:aws:s3:::${bucket}/${key}`,
  lockArn: `arn:aws:s3:::${bucket}/${key}.tflock`,
});

/** Adds a role trusting the repository's steps, with `policy` inline. */
function addRole(
  world: AwsWorld,
  name: string,
  policy: PolicyDocument,
  options: { account?: string; maxSessionDuration?: number } = {},
): RoleRecord {
  const { account = ACCOUNT, maxSessionDuration = 3600 } = options;
  const arn = `arn:aws:iam::${account}:role/bitbucket/${name}`;
  const role: RoleRecord = {
    accountId: account,
    name,
    path: '/bitbucket/',
    arn,
    uniqueId: world.roleUniqueId(account, name),
    assumeRolePolicy: bitbucketTrustPolicy({
      providerArn: providerArn(account),
      issuer,
      audiences: [audience],
      repositories: [{ uuid: REPOSITORY.replace(/[{}]/g, '') }],
    }),
    maxSessionDuration,
    tags: {},
    inlinePolicies: new Map([['permissions', policy]]),
    attachedPolicyArns: new Set(),
  };
  world.roles.set(arn, role);
  return role;
}

/** A world with the workspace's OIDC provider in both accounts and the issuer's keys. */
function newWorld(): AwsWorld {
  const world = new AwsWorld();
  for (const account of [ACCOUNT, OTHER_ACCOUNT]) {
    world.addAccount(account);
    world.oidcProviders.set(providerArn(account), {
      arn: providerArn(account),
      url: issuer.url,
      clientIds: [audience],
      thumbprints: [],
      tags: {},
    });
  }
  world.registerIssuerKeys(issuer.url, signingKey.jwks);
  return world;
}

/** The text of one XML element of an answer. */
const element = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

async function stsCall(
  sts: LocalSts,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; xml: string }> {
  const response = await fetch(sts.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers },
    body: new URLSearchParams({ Version: '2011-06-15', ...form }).toString(),
  });
  return { status: response.status, xml: await response.text() };
}

const assume = (sts: LocalSts, roleArn: string, token: string, extra: Record<string, string> = {}) =>
  stsCall(sts, {
    Action: 'AssumeRoleWithWebIdentity',
    RoleArn: roleArn,
    RoleSessionName: 'bitbucket-step',
    WebIdentityToken: token,
    ...extra,
  });

/** SigV4 headers as an SDK sends them; the signature is never checked. */
const signed = (accessKeyId: string, sessionToken?: string, service = 's3'): Record<string, string> => ({
  authorization:
    `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20250101/${REGION}/${service}/aws4_request, ` +
    `SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
  'x-amz-date': '20250101T000000Z',
  ...(sessionToken === undefined ? {} : { 'x-amz-security-token': sessionToken }),
});

/** Credentials of a role session, through the local STS. */
async function sessionOf(sts: LocalSts, role: RoleRecord): Promise<{ accessKeyId: string; sessionToken: string }> {
  const { status, xml } = await assume(sts, role.arn, stepToken());
  if (status !== 200) throw new Error(`assuming ${role.arn}: ${xml}`);
  return { accessKeyId: element(xml, 'AccessKeyId') ?? '', sessionToken: element(xml, 'SessionToken') ?? '' };
}

describe('local STS', () => {
  let world: AwsWorld;
  let sts: LocalSts;
  let deploy: RoleRecord;
  beforeEach(async () => {
    world = newWorld();
    deploy = addRole(world, 'deploy', policyDocument(...statePolicyStatements(stateLocation(), 'apply')));
    sts = await startLocalSts(world);
  });
  afterEach(() => sts.stop());

  it('gives a step of the trusted repository credentials of the role, as STS answers', async () => {
    const { status, xml } = await assume(sts, deploy.arn, stepToken());
    expect(status).toBe(200);
    expect(xml).toMatch(/^<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/);
    expect(element(xml, 'Arn')).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/deploy/bitbucket-step`);
    expect(element(xml, 'AssumedRoleId')).toBe(`${deploy.uniqueId}:bitbucket-step`);
    expect(element(xml, 'AccessKeyId')).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(element(xml, 'Expiration')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(element(xml, 'Provider')).toBe(providerArn(ACCOUNT));
    expect(element(xml, 'Audience')).toBe(audience);
    expect(element(xml, 'SubjectFromWebIdentityToken')).toMatch(/^\{1de489be-0000-4000-8000-00000000000a\}:\{/);
    expect(sts.log).toEqual([
      expect.objectContaining({ action: 'AssumeRoleWithWebIdentity', roleArn: deploy.arn, code: 'OK', statusCode: 200 }),
    ]);
  });

  it("tells who is calling with the session's credentials, and refuses unknown or missing ones", async () => {
    const session = await sessionOf(sts, deploy);
    const identity = await stsCall(sts, { Action: 'GetCallerIdentity' }, signed(session.accessKeyId, session.sessionToken, 'sts'));
    expect(identity.status).toBe(200);
    expect(element(identity.xml, 'Arn')).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/deploy/bitbucket-step`);
    expect(element(identity.xml, 'Account')).toBe(ACCOUNT);
    expect(element(identity.xml, 'UserId')).toBe(`${deploy.uniqueId}:bitbucket-step`);

    const admin = await stsCall(sts, { Action: 'GetCallerIdentity' }, signed(world.addAccount(ACCOUNT).accessKeyId, undefined, 'sts'));
    expect(element(admin.xml, 'Arn')).toBe(`arn:aws:iam::${ACCOUNT}:user/administrator`);

    const unknown = await stsCall(sts, { Action: 'GetCallerIdentity' }, signed('ASIAUNKNOWNUNKNOWN00', 'token', 'sts'));
    expect([unknown.status, element(unknown.xml, 'Code')]).toEqual([403, 'InvalidClientTokenId']);
    expect(element(unknown.xml, 'Message')).toBe('The security token included in the request is invalid.');
    const unsigned = await stsCall(sts, { Action: 'GetCallerIdentity' });
    expect([unsigned.status, element(unsigned.xml, 'Code')]).toEqual([403, 'MissingAuthenticationToken']);
  });

  it('refuses a step of another repository: AccessDenied, as the trust policy decides', async () => {
    const { status, xml } = await assume(sts, deploy.arn, stepToken({}, OTHER_REPOSITORY));
    expect(status).toBe(403);
    expect(xml).toContain('<Type>Sender</Type>');
    expect(element(xml, 'Code')).toBe('AccessDenied');
    expect(element(xml, 'Message')).toBe('Not authorized to perform sts:AssumeRoleWithWebIdentity');
    expect(world.decisions.at(-1)).toEqual(
      expect.objectContaining({ action: 'sts:AssumeRoleWithWebIdentity', resource: deploy.arn, allowed: false }),
    );
  });

  it('answers a role that does not exist exactly as a refused one', async () => {
    const { status, xml } = await assume(sts, `arn:aws:iam::${ACCOUNT}:role/bitbucket/missing`, stepToken());
    expect([status, element(xml, 'Code'), element(xml, 'Message')]).toEqual([
      403,
      'AccessDenied',
      'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    ]);
  });

  it("refuses a token whose issuer has no OIDC provider in the role's account, naming the issuer", async () => {
    const iss = `${issuer.url}/`; // AWS compares the URL as an exact string
    world.registerIssuerKeys(iss, signingKey.jwks);
    const { status, xml } = await assume(sts, deploy.arn, stepToken({ iss }));
    expect([status, element(xml, 'Code')]).toEqual([400, 'InvalidIdentityToken']);
    expect(element(xml, 'Message')).toBe(`No OpenIDConnect provider found in your account for ${iss}`);
  });

  it('refuses a token for an audience the provider does not list', async () => {
    const { status, xml } = await assume(sts, deploy.arn, stepToken({ aud: 'sts.amazonaws.com' }));
    expect([status, element(xml, 'Code'), element(xml, 'Message')]).toEqual([400, 'InvalidIdentityToken', 'Incorrect token audience']);
  });

  it('refuses a token signed by a key the issuer does not publish, and a string that is no JWT', async () => {
    const forged = await assume(sts, deploy.arn, stepToken({}, REPOSITORY, issuerKey()));
    expect([forged.status, element(forged.xml, 'Code')]).toEqual([400, 'InvalidIdentityToken']);
    const garbage = await assume(sts, deploy.arn, 'not-a-token');
    expect([garbage.status, element(garbage.xml, 'Code')]).toEqual([400, 'InvalidIdentityToken']);
    expect(world.decisions).toEqual([]); // the trust policy is never asked
  });

  it('refuses an expired token with ExpiredTokenException', async () => {
    const past = Math.floor(Date.now() / 1000) - 7200;
    const { status, xml } = await assume(sts, deploy.arn, stepToken({ iat: past, exp: past + 3600 }));
    expect([status, element(xml, 'Code')]).toEqual([400, 'ExpiredTokenException']);
    expect(element(xml, 'Message')).toMatch(
      new RegExp(`^Token expired: current date/time \\d+ must be before the expiration date/time ${past + 3600}$`),
    );
  });

  it('refuses a session longer than the role allows, and a malformed session name', async () => {
    const long = await assume(sts, deploy.arn, stepToken(), { DurationSeconds: '7200' });
    expect([long.status, element(long.xml, 'Code')]).toEqual([400, 'ValidationError']);
    expect(element(long.xml, 'Message')).toBe('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const allowed = await assume(sts, deploy.arn, stepToken(), { DurationSeconds: '3600' });
    expect(allowed.status).toBe(200);
    const name = await assume(sts, deploy.arn, stepToken(), { RoleSessionName: 'step one' });
    expect([name.status, element(name.xml, 'Code')]).toEqual([400, 'ValidationError']);
    expect(element(name.xml, 'Message')).toContain("Value 'step one' at 'roleSessionName' failed to satisfy constraint");
  });

  it('answers an operation it does not know with InvalidAction', async () => {
    const { status, xml } = await stsCall(sts, { Action: 'AssumeRole' });
    expect([status, element(xml, 'Code'), element(xml, 'Message')]).toEqual([
      400,
      'InvalidAction',
      'Could not find operation AssumeRole for version 2011-06-15',
    ]);
  });
});

describe('local S3', () => {
  let world: AwsWorld;
  let sts: LocalSts;
  let s3: LocalS3;
  let dir: string;
  beforeEach(async () => {
    world = newWorld();
    dir = mkdtempSync(path.join(tmpdir(), 'local-s3-'));
    sts = await startLocalSts(world);
    s3 = await startLocalS3(world, dir);
    await s3.createBucket({
      name: BUCKET,
      accountId: ACCOUNT,
      region: REGION,
      versioning: true,
      publicAccessBlocked: true,
      encryption: { algorithm: 'AES256' },
    });
  });
  afterEach(async () => {
    await Promise.all([sts.stop(), s3.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const request = async (method: string, target: string, headers: Record<string, string>, body?: string) => {
    const response = await fetch(`${s3.endpoint}${target}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    return { status: response.status, code: element(text, 'Code'), message: element(text, 'Message'), text };
  };

  it("lets a role with the project's state policy read, write and lock its own state, and nothing else", async () => {
    const role = addRole(world, 'deploy', policyDocument(...statePolicyStatements(stateLocation(), 'apply')));
    const { accessKeyId, sessionToken } = await sessionOf(sts, role);
    const as = signed(accessKeyId, sessionToken);
    expect((await request('PUT', `/${BUCKET}/${STATE_KEY}`, { ...as, 'x-amz-server-side-encryption': 'AES256' }, '{}')).status).toBe(200);
    expect((await request('GET', `/${BUCKET}/${STATE_KEY}`, as)).status).toBe(200);
    expect((await request('PUT', `/${BUCKET}/${STATE_KEY}.tflock`, { ...as, 'if-none-match': '*' }, '{"ID":"1"}')).status).toBe(200);
    expect((await request('PUT', `/${BUCKET}/${STATE_KEY}.tflock`, { ...as, 'if-none-match': '*' }, '{"ID":"2"}')).code).toBe(
      'PreconditionFailed',
    );
    expect((await request('DELETE', `/${BUCKET}/${STATE_KEY}.tflock`, as)).status).toBe(204);
    expect((await request('GET', `/${BUCKET}?list-type=2&prefix=${encodeURIComponent(STATE_KEY)}`, as)).status).toBe(200);

    const workspaces = await request('GET', `/${BUCKET}?list-type=2&max-keys=1000&prefix=env%3A%2F`, as);
    expect([workspaces.status, workspaces.code]).toEqual([403, 'AccessDenied']);
    expect(workspaces.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/deploy/bitbucket-step is not authorized to perform: s3:ListBucket ` +
        `on resource: "arn:aws:s3:::${BUCKET}" because no identity-based policy allows the s3:ListBucket action`,
    );
    const other = await request('PUT', `/${BUCKET}/other/stack.tfstate`, as, '{}');
    expect(other.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/deploy/bitbucket-step is not authorized to perform: s3:PutObject ` +
        `on resource: "arn:aws:s3:::${BUCKET}/other/stack.tfstate" because no identity-based policy allows the s3:PutObject action`,
    );
    expect(await s3.emulator.keys(BUCKET)).toEqual([STATE_KEY]);
    expect(s3.log.map((entry) => `${entry.method} ${entry.actions.join('+')} ${entry.statusCode}`)).toEqual([
      'PUT s3:PutObject 200',
      'GET s3:GetObject 200',
      'PUT s3:PutObject 200',
      'PUT s3:PutObject 412',
      'DELETE s3:DeleteObject 204',
      'GET s3:ListBucket 200',
      'GET s3:ListBucket 403',
      'PUT s3:PutObject 403',
    ]);
  });

  it('answers unknown keys, bad session tokens, anonymous callers and missing buckets as S3 does', async () => {
    const unknown = await request('GET', `/${BUCKET}/${STATE_KEY}`, signed('AKIAUNKNOWNUNKNOWN00'));
    expect([unknown.status, unknown.code, unknown.message]).toEqual([
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    ]);
    const role = addRole(world, 'deploy', policyDocument(...statePolicyStatements(stateLocation(), 'apply')));
    const { accessKeyId } = await sessionOf(sts, role);
    const badToken = await request('GET', `/${BUCKET}/${STATE_KEY}`, signed(accessKeyId, 'forged'));
    expect([badToken.status, badToken.code]).toEqual([400, 'InvalidToken']);
    const anonymous = await request('GET', `/${BUCKET}/${STATE_KEY}`, {});
    expect([anonymous.status, anonymous.code, anonymous.message]).toEqual([403, 'AccessDenied', 'Access Denied']);
    const missing = await request('GET', `/no-such-bucket/${STATE_KEY}`, signed(world.addAccount(ACCOUNT).accessKeyId));
    expect([missing.status, missing.code]).toEqual([404, 'NoSuchBucket']);
  });

  it('needs the bucket policy to grant a role of another account, and honours its explicit denies', async () => {
    const policy = policyDocument(...statePolicyStatements(stateLocation(), 'apply'));
    const foreign = addRole(world, 'deploy', policy, { account: OTHER_ACCOUNT });
    const session = await sessionOf(sts, foreign);
    const as = signed(session.accessKeyId, session.sessionToken);
    const refused = await request('GET', `/${BUCKET}/${STATE_KEY}`, as);
    expect(refused.message).toBe(
      `User: arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/deploy/bitbucket-step is not authorized to perform: s3:GetObject ` +
        `on resource: "arn:aws:s3:::${BUCKET}/${STATE_KEY}" because no resource-based policy allows the s3:GetObject action`,
    );

    const bucket = world.buckets.get(BUCKET);
    if (bucket === undefined) throw new Error('no bucket');
    bucket.policy = policyDocument(
      {
        Sid: 'GrantForeignState',
        Effect: 'Allow',
        Principal: { AWS: foreign.arn },
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: `arn:aws:s3:::${BUCKET}/${STATE_KEY}`,
      },
      { Sid: 'NoDeletes', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
    );
    expect((await request('PUT', `/${BUCKET}/${STATE_KEY}`, as, '{}')).status).toBe(200);
    expect((await request('GET', `/${BUCKET}/${STATE_KEY}`, as)).status).toBe(200);
    const own = addRole(world, 'admin', policyDocument(permissionStatement({ actions: ['s3:*'], resources: ['*'] })));
    const ownSession = await sessionOf(sts, own);
    const denied = await request('DELETE', `/${BUCKET}/${STATE_KEY}`, signed(ownSession.accessKeyId, ownSession.sessionToken));
    expect(denied.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/admin/bitbucket-step is not authorized to perform: s3:DeleteObject ` +
        `on resource: "arn:aws:s3:::${BUCKET}/${STATE_KEY}" with an explicit deny in a resource-based policy`,
    );
  });

  it('asks KMS for the requester under SSE-KMS: GenerateDataKey on PUT, Decrypt on GET, none for an AES256 PUT', async () => {
    const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${randomUUID()}`;
    world.kmsKeys.set(keyArn, {
      arn: keyArn,
      keyId: keyArn.split('/')[1],
      accountId: ACCOUNT,
      region: REGION,
      policy: policyDocument({
        Sid: 'EnableIamPolicies',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: 'kms:*',
        Resource: '*',
      }),
    });
    const bucket = world.buckets.get(BUCKET);
    if (bucket === undefined) throw new Error('no bucket');
    bucket.encryption = { algorithm: 'aws:kms', kmsKeyArn: keyArn };
    const viaService = `s3.${REGION}.amazonaws.com`;
    const location = stateLocation();
    const noKms = addRole(world, 'no-kms', policyDocument(...statePolicyStatements(location, 'apply')));
    const withKms = addRole(
      world,
      'with-kms',
      policyDocument(...statePolicyStatements({ ...location, kms: { keyArn, viaService } }, 'apply')),
    );

    const plain = await sessionOf(sts, noKms);
    const refused = await request('PUT', `/${BUCKET}/${STATE_KEY}`, signed(plain.accessKeyId, plain.sessionToken), '{}');
    expect([refused.status, refused.code]).toEqual([403, 'AccessDenied']);
    expect(refused.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/no-kms/bitbucket-step is not authorized to perform: kms:GenerateDataKey ` +
        `on resource: ${keyArn} because no identity-based policy allows the kms:GenerateDataKey action`,
    );
    const aes = await request(
      'PUT',
      `/${BUCKET}/${STATE_KEY}`,
      { ...signed(plain.accessKeyId, plain.sessionToken), 'x-amz-server-side-encryption': 'AES256' },
      '{}',
    );
    expect(aes.status).toBe(200);
    expect((await request('GET', `/${BUCKET}/${STATE_KEY}`, signed(plain.accessKeyId, plain.sessionToken))).status).toBe(200);

    const kms = await sessionOf(sts, withKms);
    expect((await request('PUT', `/${BUCKET}/${STATE_KEY}`, signed(kms.accessKeyId, kms.sessionToken), '{}')).status).toBe(200);
    expect((await request('GET', `/${BUCKET}/${STATE_KEY}`, signed(kms.accessKeyId, kms.sessionToken))).status).toBe(200);
    const undecryptable = await request('GET', `/${BUCKET}/${STATE_KEY}`, signed(plain.accessKeyId, plain.sessionToken));
    expect(undecryptable.message).toContain('is not authorized to perform: kms:Decrypt on resource: ');
    const otherObject = await request('PUT', `/${BUCKET}/${STATE_KEY}.tflock`, signed(kms.accessKeyId, kms.sessionToken), '{}');
    expect(otherObject.status).toBe(200); // the lock's ARN is in the key's encryption-context condition too
    expect(
      world.decisions.filter((d) => d.action.startsWith('kms:')).map((d) => `${d.caller.split('/')[1]} ${d.action} ${d.allowed}`),
    ).toEqual([
      'no-kms kms:GenerateDataKey false',
      'with-kms kms:GenerateDataKey true',
      'with-kms kms:Decrypt true',
      'no-kms kms:Decrypt false',
      'with-kms kms:GenerateDataKey true',
    ]);
  });

  it('creates in its store the buckets the world creates', async () => {
    await world.addBucket({
      name: 'created-by-the-provider',
      accountId: ACCOUNT,
      region: REGION,
      versioning: false,
      publicAccessBlocked: true,
    });
    expect(await s3.emulator.bucketExists('created-by-the-provider')).toBe(true);
    await world.removeBucket('created-by-the-provider');
    expect(await s3.emulator.bucketExists('created-by-the-provider')).toBe(false);
  });
});

describe('startLocalAws', () => {
  it('serves STS, S3 and the provider API over one world, on 127.0.0.1, until stopped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'local-aws-'));
    const aws = await startLocalAws({ directory: dir });
    try {
      for (const endpoint of [aws.stsEndpoint, aws.s3Endpoint, aws.providerApiEndpoint])
        expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const admin = aws.world.addAccount(ACCOUNT);
      await aws.world.addBucket({ name: BUCKET, accountId: ACCOUNT, region: REGION, versioning: true, publicAccessBlocked: true });
      const identity = await fetch(aws.stsEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed(admin.accessKeyId, undefined, 'sts') },
        body: 'Action=GetCallerIdentity&Version=2011-06-15',
      });
      expect(element(await identity.text(), 'Arn')).toBe(`arn:aws:iam::${ACCOUNT}:user/administrator`);
      const put = await fetch(`${aws.s3Endpoint}/${BUCKET}/hello.txt`, {
        method: 'PUT',
        headers: signed(admin.accessKeyId),
        body: 'hello',
      });
      expect(put.status).toBe(200);
      expect(aws.stsLog.map((e) => e.code)).toEqual(['OK']);
      expect(aws.s3Log.map((e) => `${e.caller} ${e.actions.join()} ${e.statusCode}`)).toEqual([
        `arn:aws:iam::${ACCOUNT}:user/administrator s3:PutObject 200`,
      ]);
    } finally {
      await aws.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    await expect(fetch(aws.stsEndpoint)).rejects.toThrow();
    await expect(fetch(aws.s3Endpoint)).rejects.toThrow();
    await expect(fetch(aws.providerApiEndpoint)).rejects.toThrow();
  });
});

describeWithTerraform(
  (version) => `Terraform ${version}'s S3 backend against the local STS and S3`,
  () => {
    let world: AwsWorld;
    let sts: LocalSts;
    let s3: LocalS3;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'local-aws-terraform-'));
      world = newWorld();
      sts = await startLocalSts(world);
      s3 = await startLocalS3(world, path.join(dir, 's3'));
      await s3.createBucket({
        name: BUCKET,
        accountId: ACCOUNT,
        region: REGION,
        versioning: true,
        publicAccessBlocked: true,
        encryption: { algorithm: 'AES256' },
      });
    });
    afterAll(async () => {
      await Promise.all([sts?.stop(), s3?.stop()]);
      rmSync(dir, { recursive: true, force: true });
    });

    /** A one-output stack with the project's backend settings, and a step's environment built from nothing. */
    function stepFolder(name: string, role: RoleRecord, token: string): { cwd: string; env: NodeJS.ProcessEnv } {
      const cwd = path.join(dir, name);
      const home = path.join(cwd, 'home');
      mkdirSync(home, { recursive: true });
      writeFileSync(
        path.join(cwd, 'main.tf'),
        [
          'terraform {',
          '  backend "s3" {',
          `    bucket = "${BUCKET}"`,
          `    key = "${STATE_KEY}"`,
          `    region = "${REGION}"`,
          '    use_lockfile = true',
          '    encrypt = true',
          '  }',
          '}',
          'output "step" { value = "rehearsed" }',
          '',
        ].join('\n'),
      );
      writeFileSync(path.join(cwd, 'token'), token);
      writeFileSync(path.join(cwd, 'terraformrc'), '');
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: home,
        CHECKPOINT_DISABLE: '1',
        TF_IN_AUTOMATION: '1',
        TF_INPUT: '0',
        TF_CLI_CONFIG_FILE: path.join(cwd, 'terraformrc'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: path.join(cwd, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(cwd, 'no-aws-credentials'),
        AWS_ROLE_ARN: role.arn,
        AWS_WEB_IDENTITY_TOKEN_FILE: path.join(cwd, 'token'),
        AWS_ROLE_SESSION_NAME: `bitbucket-${name}`,
        AWS_ENDPOINT_URL_STS: sts.endpoint,
        AWS_ENDPOINT_URL_S3: s3.endpoint,
      };
      return { cwd, env };
    }
    const init = (step: { cwd: string; env: NodeJS.ProcessEnv }) =>
      terraform(step.cwd, ['init', '-no-color', '-input=false', '-backend-config=use_path_style=true'], step.env);
    const output = (run: { stdout: string; stderr: string }) => `${run.stdout}\n${run.stderr}`;

    it("initialises and applies with the web identity of a role holding the project's state policy", async () => {
      const role = addRole(world, 'deploy', policyDocument(...statePolicyStatements(stateLocation(), 'apply')));
      const step = stepFolder('apply', role, stepToken());
      const initialised = await init(step);
      expect({ code: initialised.code, output: output(initialised) }).toEqual({
        code: 0,
        output: expect.stringContaining('Successfully configured the backend "s3"'),
      });
      const applied = await terraform(step.cwd, ['apply', '-auto-approve', '-no-color', '-input=false'], step.env);
      expect({ code: applied.code, output: output(applied) }).toEqual({ code: 0, output: expect.stringContaining('step = "rehearsed"') });

      expect(JSON.parse((await s3.emulator.read(BUCKET, STATE_KEY)) ?? '{}')).toEqual(
        expect.objectContaining({ outputs: { step: expect.objectContaining({ value: 'rehearsed' }) } }),
      );
      expect(await s3.emulator.keys(BUCKET)).toEqual([STATE_KEY]); // the lock was taken and released
      expect(sts.log.filter((e) => e.roleArn === role.arn).map((e) => `${e.action} ${e.code}`)).toContain('AssumeRoleWithWebIdentity OK');
      expect(
        sts.log.some(
          (e) => e.action === 'GetCallerIdentity' && e.callerArn === `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/bitbucket-apply`,
        ),
      ).toBe(true);
      const calls = s3.log.map((e) => `${e.method} ${e.path.replace(STATE_KEY, '<key>')} ${e.statusCode}`);
      expect(calls).toEqual(
        expect.arrayContaining([
          `GET /${BUCKET} 403`, // the workspace listing (prefix env:/), refused and tolerated
          `PUT /${BUCKET}/<key>.tflock 200`,
          `PUT /${BUCKET}/<key> 200`,
          `DELETE /${BUCKET}/<key>.tflock 204`,
        ]),
      );
    });

    it("fails init when the trust policy refuses the token's sub, with STS's AccessDenied", async () => {
      const role = addRole(world, 'deploy-refused', policyDocument(...statePolicyStatements(stateLocation(), 'apply')));
      const step = stepFolder('refused', role, stepToken({}, OTHER_REPOSITORY));
      const initialised = await init(step);
      expect(initialised.code).toBe(1);
      expect(output(initialised)).toContain('AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity');
    });

    it("fails to take the lock when the role may not write the lock file, with S3's AccessDenied", async () => {
      const location = stateLocation();
      const withoutLock = statePolicyStatements(location, 'apply').filter((statement) => statement.Sid !== 'WriteOwnStateLock');
      const role = addRole(
        world,
        'no-lock',
        policyDocument(...withoutLock, permissionStatement({ actions: ['s3:GetObject'], resources: [location.lockArn] })),
      );
      const step = stepFolder('no-lock', role, stepToken());
      expect((await init(step)).code).toBe(0);
      const applied = await terraform(step.cwd, ['apply', '-auto-approve', '-no-color', '-input=false'], step.env);
      expect(applied.code).toBe(1);
      expect(output(applied)).toContain('Error acquiring the state lock');
      expect(output(applied).replace(/\s+/g, ' ')).toContain(
        `api error AccessDenied: User: arn:aws:sts::${ACCOUNT}:assumed-role/no-lock/bitbucket-no-lock ` +
          `is not authorized to perform: s3:PutObject on resource: "${location.lockArn}" ` +
          'because no identity-based policy allows the s3:PutObject action',
      );
    });
  },
);
