/**
 * The stub `hashicorp/aws` provider as a client of a local AWS (`TF_STUB_AWS_WORLD_URL`): real Terraform, the
 * stub installed by `init -plugin-dir` and started by Terraform (so it sees the command's environment), and
 * an HTTP double on 127.0.0.1 standing in for the local AWS: the provider API (`POST /call`, the contract of
 * /tmp/rehearsal/SPEC.md) and STS (`AssumeRoleWithWebIdentity`, `GetCallerIdentity`, answered in STS's XML).
 *
 * Every Terraform command gets an environment built from nothing (the suite runs inside Bitbucket, where
 * `CI` and `BITBUCKET_*` are set): PATH, a fresh HOME, and what the test needs.
 */
import { randomUUID } from 'crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { createServer, IncomingMessage, Server } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { readIni } from './support/terraform/credentials';
import { installStubProvider, StubProvider } from './support/terraform/plugin-dir';
import { xmlText } from './support/terraform/sts-client';
import { describeFailure, describeWithTerraform, terraform, TerraformRun } from './support/terraform/terraform-cli';
import { errorSummary, JsonObject, WorldCall, WorldError } from './support/terraform/world-client';
import { ProviderApi, startProviderApi } from './support/rehearsal/local-aws/provider-api';
import { LocalSts, startLocalSts } from './support/rehearsal/local-aws/sts';
import { AwsWorld, RoleRecord } from './support/rehearsal/local-aws/world';

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const ROLE_NAME = 'web-artifacts-upload';
const DEPLOY_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/bitbucket/bitbucket-deploy`;
const REQUEST_ID = /RequestID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}, /;

/** Who an access key belongs to, as GetCallerIdentity answers. */
interface Identity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
}

/** One STS request the double answered. */
interface StsRequest {
  readonly action: string;
  readonly parameters: Record<string, string>;
  readonly authorization?: string;
  readonly securityToken?: string;
}

/** The local AWS's stand-in: a provider API that keeps resources by type and ID, and an STS. */
class LocalAwsDouble {
  readonly calls: WorldCall[] = [];
  readonly sts: StsRequest[] = [];
  /** Resources by `<type>/<id>`. */
  readonly resources = new Map<string, JsonObject>();
  /** Access key ID -> identity (the administrators' static keys; role sessions are added as STS issues them). */
  readonly identities = new Map<string, Identity>();
  /** Errors to answer instead, by `<type>/<operation>`. */
  readonly refusals = new Map<string, WorldError>();
  /** Whether AssumeRoleWithWebIdentity is refused (as a trust policy that does not match would). */
  refuseWebIdentity = false;
  private server?: Server;

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      void body(request).then((text) => {
        const answer = request.url === '/call' ? this.providerApi(JSON.parse(text) as WorldCall) : this.stsAnswer(request, text);
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  reset(): void {
    this.calls.length = 0;
    this.sts.length = 0;
    this.refusals.clear();
    this.refuseWebIdentity = false;
  }

  private providerApi(call: WorldCall): { status: number; headers: Record<string, string>; body: string } {
    this.calls.push(call);
    const json = (value: unknown) => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) });
    const refusal = this.refusals.get(`${call.resourceType}/${call.operation}`);
    if (refusal !== undefined) return json({ error: refusal });
    const key = `${call.resourceType}/${String((call.planned ?? call.prior)?.id)}`;
    if (call.operation === 'read') return json({ state: this.resources.get(key) ?? null });
    if (call.operation === 'delete') {
      this.resources.delete(key);
      return json({ state: null });
    }
    this.resources.set(key, call.planned as JsonObject);
    return json({ state: call.planned });
  }

  private stsAnswer(request: IncomingMessage, text: string): { status: number; headers: Record<string, string>; body: string } {
    const parameters = Object.fromEntries(new URLSearchParams(text));
    const action = parameters.Action;
    const header = (name: string) => (typeof request.headers[name] === 'string' ? (request.headers[name] as string) : undefined);
    this.sts.push({ action, parameters, authorization: header('authorization'), securityToken: header('x-amz-security-token') });
    const requestId = randomUUID();
    const xml = (status: number, body: string) => ({
      status,
      headers: { 'Content-Type': 'text/xml', 'x-amzn-RequestId': requestId },
      body,
    });
    const error = (status: number, code: string, message: string) =>
      xml(
        status,
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code>` +
          `<Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    if (action === 'AssumeRoleWithWebIdentity') {
      if (this.refuseWebIdentity) return error(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      const [, account, roleName] = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(parameters.RoleArn) ?? [];
      const accessKeyId = `ASIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`;
      const sessionToken = `token-${randomUUID()}`;
      const arn = `arn:aws:sts::${account}:assumed-role/${roleName}/${parameters.RoleSessionName}`;
      this.identities.set(accessKeyId, { account, arn, userId: `AROAEXAMPLE:${parameters.RoleSessionName}` });
      return xml(
        200,
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
          `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>` +
          `<SessionToken>${sessionToken}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>` +
          `<AssumedRoleUser><Arn>${arn}</Arn><AssumedRoleId>AROAEXAMPLE:${parameters.RoleSessionName}</AssumedRoleId></AssumedRoleUser>` +
          `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
          `</AssumeRoleWithWebIdentityResponse>`,
      );
    }
    if (action === 'GetCallerIdentity') {
      const accessKeyId = /Credential=([^/]+)\//.exec(header('authorization') ?? '')?.[1] ?? '';
      const identity = this.identities.get(accessKeyId);
      if (identity === undefined) return error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
      return xml(
        200,
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>${identity.arn}</Arn><UserId>${identity.userId}</UserId><Account>${identity.account}</Account></GetCallerIdentityResult>` +
          `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    }
    return error(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
  }
}

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/** A configuration with one role, the provider pinned to `ACCOUNT` as the project's stacks pin theirs. */
function configuration(version: string): object {
  return {
    terraform: { required_providers: { aws: { source: 'hashicorp/aws', version } } },
    provider: { aws: [{ region: 'eu-west-1', allowed_account_ids: [ACCOUNT] }] },
    resource: { aws_iam_role: { web: { name: ROLE_NAME, path: '/bitbucket/', assume_role_policy: TRUST_POLICY, tags: { team: 'web' } } } },
  };
}

describeWithTerraform(
  (version) => `the stub provider as a client of a local AWS (Terraform ${version})`,
  () => {
    const root = mkdtempSync(path.join(tmpdir(), 'stub-provider-world-'));
    const aws = new LocalAwsDouble();
    let provider: StubProvider;
    const adminKey = 'AKIAADMINEXAMPLE0001';
    const otherKey = 'AKIAOTHEREXAMPLE0002';

    beforeAll(async () => {
      provider = installStubProvider(path.join(root, 'install'), { resources: ['aws_iam_role'], dataSources: [] });
      await aws.start();
      aws.identities.set(adminKey, { account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/administrator`, userId: 'AIDAADMINEXAMPLE' });
      aws.identities.set(otherKey, {
        account: OTHER_ACCOUNT,
        arn: `arn:aws:iam::${OTHER_ACCOUNT}:user/administrator`,
        userId: 'AIDAOTHER',
      });
    }, 60_000);
    afterAll(async () => {
      await aws.stop();
      rmSync(root, { recursive: true, force: true });
    });
    beforeEach(() => aws.reset());

    /** A fresh, initialised working directory and its environment (nothing of this process's but PATH). */
    async function workspace(name: string, extra: Record<string, string>, world = true): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
      const dir = path.join(root, name);
      const home = path.join(dir, 'home');
      mkdirSync(home, { recursive: true });
      writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(configuration(provider.version)));
      writeFileSync(path.join(dir, 'terraformrc'), '');
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: home,
        CHECKPOINT_DISABLE: '1',
        TF_IN_AUTOMATION: '1',
        TF_INPUT: '0',
        TF_CLI_CONFIG_FILE: path.join(dir, 'terraformrc'),
        AWS_EC2_METADATA_DISABLED: 'true',
        ...(world ? { TF_STUB_AWS_WORLD_URL: aws.url, AWS_ENDPOINT_URL_STS: aws.url } : {}),
        ...extra,
      };
      const init = await terraform(dir, ['init', '-input=false', '-no-color', `-plugin-dir=${provider.pluginDir}`], env);
      if (init.code !== 0) throw new Error(describeFailure(init, dir));
      return { dir, env };
    }
    const run = (dir: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<TerraformRun> =>
      terraform(dir, [...args, '-no-color'], env);
    const staticKeys = { AWS_ACCESS_KEY_ID: adminKey, AWS_SECRET_ACCESS_KEY: 'secret' };

    describe('with static keys in the environment', () => {
      let dir: string;
      let env: NodeJS.ProcessEnv;
      beforeAll(async () => ({ dir, env } = await workspace('static', staticKeys)), 60_000);

      it('creates the role through the provider API, with the caller account in its ARN', async () => {
        const apply = await run(dir, env, 'apply', '-input=false', '-auto-approve');
        expect(apply.code).toBe(0);
        const creates = aws.calls.filter((c) => c.operation === 'create');
        expect(creates).toHaveLength(1);
        expect(creates[0]).toMatchObject({ accessKeyId: adminKey, region: 'eu-west-1', resourceType: 'aws_iam_role', prior: null });
        expect(creates[0].planned).toMatchObject({
          name: ROLE_NAME,
          arn: `arn:aws:iam::${ACCOUNT}:role/bitbucket/${ROLE_NAME}`,
          tags_all: { team: 'web' },
        });
        // Terraform configures the provider for the plan and again for the apply: each asks who the caller is.
        expect(new Set(aws.sts.map((r) => r.action))).toEqual(new Set(['GetCallerIdentity']));
        expect(aws.sts[0].authorization).toMatch(
          new RegExp(`^AWS4-HMAC-SHA256 Credential=${adminKey}/\\d{8}/eu-west-1/sts/aws4_request, `),
        );
      }, 60_000);

      it('plans no change while the world holds the role as configured', async () => {
        const plan = await run(dir, env, 'plan', '-input=false', '-detailed-exitcode');
        expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 0, stderr: '' });
        expect(aws.calls.map((c) => `${c.operation} ${c.resourceType}`)).toEqual(['read aws_iam_role']);
        expect(aws.calls[0].prior).toMatchObject({ id: ROLE_NAME });
      }, 60_000);

      it('plans to create the role again when the world says it is gone', async () => {
        aws.resources.clear();
        const plan = await run(dir, env, 'plan', '-input=false', '-detailed-exitcode');
        expect(plan.code).toBe(2);
        expect(plan.stdout).toContain('# aws_iam_role.web will be created');
        expect(plan.stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
      }, 60_000);
    });

    describe('with the role created', () => {
      let dir: string;
      let env: NodeJS.ProcessEnv;
      const key = `aws_iam_role/${ROLE_NAME}`;
      beforeAll(async () => {
        ({ dir, env } = await workspace('changes', staticKeys));
        const apply = await run(dir, env, 'apply', '-input=false', '-auto-approve');
        if (apply.code !== 0) throw new Error(describeFailure(apply, dir));
      }, 60_000);

      it('updates a role whose tags the world changed, sending what AWS holds and what is planned', async () => {
        aws.resources.set(key, { ...(aws.resources.get(key) as JsonObject), tags: { team: 'ops' }, tags_all: { team: 'ops' } });
        const apply = await run(dir, env, 'apply', '-input=false', '-auto-approve');
        expect(apply.code).toBe(0);
        expect(apply.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
        const update = aws.calls.find((c) => c.operation === 'update');
        expect(update?.prior).toMatchObject({ tags: { team: 'ops' } });
        expect(update?.planned).toMatchObject({ tags: { team: 'web' }, tags_all: { team: 'web' } });
      }, 60_000);

      it('keeps the role in state when DeleteRole is refused', async () => {
        const message = `User: arn:aws:iam::${ACCOUNT}:user/administrator is not authorized to perform: iam:DeleteRole`;
        aws.refusals.set('aws_iam_role/delete', {
          service: 'IAM',
          operation: 'DeleteRole',
          code: 'AccessDenied',
          statusCode: 403,
          message,
        });
        const destroy = await run(dir, env, 'destroy', '-input=false', '-auto-approve');
        expect(destroy.code).toBe(1);
        expect(destroy.stderr).toContain(`Error: deleting IAM Role (${ROLE_NAME}): operation error IAM: DeleteRole, `);
        const list = await run(dir, env, 'state', 'list');
        expect(list.stdout.trim()).toBe('aws_iam_role.web');
      }, 60_000);
    });

    it('fails an apply whose CreateRole is refused with the provider wording, and saves no role in state', async () => {
      const { dir, env } = await workspace('refused', staticKeys);
      const message =
        `User: arn:aws:iam::${ACCOUNT}:user/administrator is not authorized to perform: iam:CreateRole on resource: ` +
        `arn:aws:iam::${ACCOUNT}:role/bitbucket/${ROLE_NAME} because no identity-based policy allows the iam:CreateRole action`;
      aws.refusals.set('aws_iam_role/create', { service: 'IAM', operation: 'CreateRole', code: 'AccessDenied', statusCode: 403, message });
      const apply = await run(dir, env, 'apply', '-input=false', '-auto-approve');
      expect(apply.code).toBe(1);
      expect(apply.stderr).toContain(
        `Error: creating IAM Role (${ROLE_NAME}): operation error IAM: CreateRole, https response error StatusCode: 403, `,
      );
      expect(apply.stderr).toMatch(REQUEST_ID);
      expect(apply.stderr).toContain(`api error AccessDenied: ${message}`);
      const list = await run(dir, env, 'state', 'list');
      expect({ code: list.code, stdout: list.stdout.trim() }).toEqual({ code: 0, stdout: '' });
    }, 60_000);

    describe('with a web identity token', () => {
      const tokenFile = () => path.join(root, 'web-identity-token');
      const webIdentity = () => ({
        AWS_ROLE_ARN: DEPLOY_ROLE_ARN,
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile(),
        AWS_ROLE_SESSION_NAME: 'bitbucket-7-staging',
      });
      beforeAll(() => writeFileSync(tokenFile(), 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ7cmVwb30ifQ.c2lnbmF0dXJl'));

      it('exchanges the token from the file for the role, and calls AWS with the session', async () => {
        const { dir, env } = await workspace('web-identity', webIdentity());
        const apply = await run(dir, env, 'apply', '-input=false', '-auto-approve');
        expect(apply.code).toBe(0);
        // One exchange per configuration of the provider (plan, then apply), each followed by GetCallerIdentity.
        expect(aws.sts.map((r) => r.action)).toEqual([
          'AssumeRoleWithWebIdentity',
          'GetCallerIdentity',
          'AssumeRoleWithWebIdentity',
          'GetCallerIdentity',
        ]);
        const [assume, , , whoami] = aws.sts;
        expect(assume).toMatchObject({
          action: 'AssumeRoleWithWebIdentity',
          parameters: {
            RoleArn: DEPLOY_ROLE_ARN,
            RoleSessionName: 'bitbucket-7-staging',
            WebIdentityToken: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ7cmVwb30ifQ.c2lnbmF0dXJl',
            Version: '2011-06-15',
          },
          authorization: undefined,
        });
        expect(whoami.action).toBe('GetCallerIdentity');
        const sessionKey = /Credential=(ASIA[A-Z0-9]+)\//.exec(whoami.authorization ?? '')?.[1];
        expect(sessionKey).toBeDefined();
        expect(whoami.securityToken).toMatch(/^token-/);
        expect(aws.calls.map((c) => [c.operation, c.accessKeyId, c.sessionToken])).toEqual([['create', sessionKey, whoami.securityToken]]);
      }, 60_000);

      it('reports a refused AssumeRoleWithWebIdentity as the provider does', async () => {
        const { dir, env } = await workspace('web-identity-refused', webIdentity());
        aws.refuseWebIdentity = true;
        const plan = await run(dir, env, 'plan', '-input=false');
        expect(plan.code).toBe(1);
        expect(plan.stderr).toContain('Error: No valid credential sources found');
        // Terraform wraps a diagnostic's detail: compare with the line breaks undone.
        const detail = plan.stderr.replace(/\s+/g, ' ');
        expect(detail).toContain(
          'Error: failed to refresh cached credentials, failed to retrieve credentials, operation error STS: AssumeRoleWithWebIdentity, ' +
            'https response error StatusCode: 403, ',
        );
        expect(detail).toMatch(REQUEST_ID);
        expect(detail).toContain('api error AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity');
        expect(aws.calls).toEqual([]);
      }, 60_000);
    });

    it('refuses credentials of an account outside allowed_account_ids, before any call', async () => {
      const { dir, env } = await workspace('other-account', { AWS_ACCESS_KEY_ID: otherKey, AWS_SECRET_ACCESS_KEY: 'secret' });
      const plan = await run(dir, env, 'plan', '-input=false');
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain(`Error: AWS account ID not allowed: ${OTHER_ACCOUNT}`);
      expect(aws.calls).toEqual([]);
    }, 60_000);

    it('reports keys STS does not know as the provider does', async () => {
      const { dir, env } = await workspace('unknown-key', { AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNEXAMPLE00', AWS_SECRET_ACCESS_KEY: 'secret' });
      const plan = await run(dir, env, 'plan', '-input=false');
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain(
        'Error: Retrieving AWS account details: validating provider credentials: retrieving caller identity from STS: ' +
          'operation error STS: GetCallerIdentity, https response error StatusCode: 403, ',
      );
      expect(plan.stderr).toContain('api error InvalidClientTokenId: The security token included in the request is invalid.');
    }, 60_000);

    it("takes AWS_PROFILE's keys from AWS_SHARED_CREDENTIALS_FILE", async () => {
      const credentials = path.join(root, 'credentials');
      writeFileSync(
        credentials,
        `[default]\naws_access_key_id = ${otherKey}\naws_secret_access_key = x\n\n[admin]\naws_access_key_id = ${adminKey}\n` +
          'aws_secret_access_key = secret\n',
      );
      const { dir, env } = await workspace('profile', { AWS_PROFILE: 'admin', AWS_SHARED_CREDENTIALS_FILE: credentials });
      const plan = await run(dir, env, 'plan', '-input=false');
      expect(plan.code).toBe(0);
      expect(aws.sts.map((r) => /Credential=([^/]+)\//.exec(r.authorization ?? '')?.[1])).toEqual([adminKey]);
    }, 60_000);

    it('names a profile missing from the credentials file as the provider does', async () => {
      const { dir, env } = await workspace('no-profile', { AWS_PROFILE: 'absent', AWS_SHARED_CREDENTIALS_FILE: path.join(root, 'none') });
      const plan = await run(dir, env, 'plan', '-input=false');
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain('Error: failed to get shared config profile, absent');
      expect(aws.sts).toEqual([]);
    }, 60_000);

    describe("against the rehearsal's local AWS (provider API and STS over one world)", () => {
      const world = new AwsWorld();
      let providerApi: ProviderApi;
      let sts: LocalSts;
      beforeAll(async () => {
        providerApi = await startProviderApi(world);
        sts = await startLocalSts(world);
      });
      afterAll(async () => {
        await providerApi?.stop();
        await sts?.stop();
      });

      it('creates the role in the world, then plans no change, and a create again once the world lost it', async () => {
        const keys = world.addAccount(ACCOUNT);
        const { dir, env } = await workspace('local-aws', {
          TF_STUB_AWS_WORLD_URL: providerApi.endpoint,
          AWS_ENDPOINT_URL_STS: sts.endpoint,
          AWS_ACCESS_KEY_ID: keys.accessKeyId,
          AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        });
        const arn = `arn:aws:iam::${ACCOUNT}:role/bitbucket/${ROLE_NAME}`;
        const apply = await run(dir, env, 'apply', '-input=false', '-auto-approve');
        expect(apply.code === 0 ? '' : apply.stderr).toBe('');
        expect(world.roles.get(arn)?.tags).toEqual({ team: 'web' });
        expect(providerApi.calls.filter((c) => c.operation === 'create').map((c) => c.apiOperation)).toContain('CreateRole');
        const plan = await run(dir, env, 'plan', '-input=false', '-detailed-exitcode');
        expect(plan.code === 0 ? '' : plan.stderr + plan.stdout).toBe('');
        world.roles.delete(arn);
        const again = await run(dir, env, 'plan', '-input=false', '-detailed-exitcode');
        expect(again.stdout).toContain('# aws_iam_role.web will be created');
        expect(again.code).toBe(2);
      }, 60_000);

      it("refuses a role session's CreateRole with tags it may not add, in AWS's words, creating nothing", async () => {
        world.addAccount(ACCOUNT);
        const deploy: RoleRecord = {
          accountId: ACCOUNT,
          name: 'bitbucket-deploy',
          path: '/bitbucket/',
          arn: DEPLOY_ROLE_ARN,
          uniqueId: 'AROAEXAMPLEDEPLOY0001',
          assumeRolePolicy: { Version: '2012-10-17', Statement: [] },
          maxSessionDuration: 3600,
          tags: {},
          inlinePolicies: new Map([
            ['create-roles', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:CreateRole', Resource: '*' }] }],
          ]),
          attachedPolicyArns: new Set<string>(),
        };
        world.roles.set(deploy.arn, deploy);
        const { credentials } = world.startRoleSession(deploy, 'bitbucket-7-staging', 3600);
        const { dir, env } = await workspace('local-aws-refused', {
          TF_STUB_AWS_WORLD_URL: providerApi.endpoint,
          AWS_ENDPOINT_URL_STS: sts.endpoint,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken ?? '',
        });
        const apply = await run(dir, env, 'apply', '-input=false', '-auto-approve');
        expect(apply.code).toBe(1);
        const printed = apply.stderr.replace(/\s+/g, ' ');
        expect(printed).toContain(
          `Error: creating IAM Role (${ROLE_NAME}): operation error IAM: CreateRole, https response error StatusCode: 403, `,
        );
        expect(printed).toContain(
          `api error AccessDenied: User: arn:aws:sts::${ACCOUNT}:assumed-role/bitbucket-deploy/bitbucket-7-staging is not authorized ` +
            `to perform: iam:TagRole on resource: arn:aws:iam::${ACCOUNT}:role/bitbucket/${ROLE_NAME}`,
        );
        expect(world.roles.has(`arn:aws:iam::${ACCOUNT}:role/bitbucket/${ROLE_NAME}`)).toBe(false);
        const list = await run(dir, env, 'state', 'list');
        expect(list.stdout.trim()).toBe('');
      }, 60_000);
    });

    it('without TF_STUB_AWS_WORLD_URL needs no credentials and calls no AWS', async () => {
      const { dir, env } = await workspace('pure-fake', {}, false);
      const apply = await run(dir, env, 'apply', '-input=false', '-auto-approve');
      expect(apply.code).toBe(0);
      const show = await run(dir, env, 'show', '-json');
      const role = (JSON.parse(show.stdout) as { values: { root_module: { resources: { values: { arn: string } }[] } } }).values.root_module
        .resources[0];
      expect(role.values.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/bitbucket/${ROLE_NAME}`);
      expect([aws.calls, aws.sts]).toEqual([[], []]);
    }, 60_000);
  },
);

describe('the provider wording of refused calls', () => {
  const error: WorldError = {
    service: 'IAM',
    operation: 'TagRole',
    code: 'AccessDenied',
    statusCode: 403,
    message: 'no',
    requestId: 'r-1',
  };

  it('names the role being created, then the SDK error', () => {
    expect(
      errorSummary({ resourceType: 'aws_iam_role', operation: 'create', prior: null, planned: { name: 'web', id: 'web' } }, error),
    ).toBe(
      'creating IAM Role (web): operation error IAM: TagRole, https response error StatusCode: 403, RequestID: r-1, ' +
        'api error AccessDenied: no',
    );
  });

  it('words inline policies and attachments as the provider does', () => {
    const policy = { role: 'web', name: 'deploy', id: 'web:deploy' };
    const attachment = { role: 'web', policy_arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess', id: 'web-1' };
    expect(errorSummary({ resourceType: 'aws_iam_role_policy', operation: 'create', prior: null, planned: policy }, error)).toMatch(
      /^putting IAM Role \(web\) Policy \(deploy\): /,
    );
    expect(
      errorSummary({ resourceType: 'aws_iam_role_policy_attachment', operation: 'delete', prior: attachment, planned: null }, error),
    ).toMatch(/^detaching IAM Policy \(arn:aws:iam::aws:policy\/ReadOnlyAccess\) from IAM Role \(web\): /);
  });

  it('drops the "api error" prefix for errors the service model declares', () => {
    const missing = {
      ...error,
      operation: 'GetRole',
      code: 'NoSuchEntity',
      statusCode: 404,
      message: 'The role with name web cannot be found.',
    };
    expect(errorSummary({ resourceType: 'aws_iam_role', operation: 'read', prior: { id: 'web' }, planned: null }, missing)).toBe(
      'reading IAM Role (web): operation error IAM: GetRole, https response error StatusCode: 404, RequestID: r-1, ' +
        'NoSuchEntity: The role with name web cannot be found.',
    );
  });
});

describe('STS XML and credential files', () => {
  it('reads STS XML text with its entities decoded', () => {
    expect(xmlText('<Error><Message>a &lt;b&gt; &amp; &#39;c&#x27;</Message></Error>', 'Message')).toBe("a <b> & 'c'");
  });

  it('reads INI sections, ignoring comments', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ini-')), 'credentials');
    writeFileSync(file, '# keys\n[default]\naws_access_key_id = AKIA1\n; note\n[profile x]\nAWS_Secret_Access_Key=s=1\n');
    expect(readIni(file)).toEqual({ default: { aws_access_key_id: 'AKIA1' }, 'profile x': { aws_secret_access_key: 's=1' } });
    rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
