/**
 * The token doctor (`npm run explain`): decisions and reasons for tokens built and signed here,
 * exit codes, `--json`, `--role`/`--account`, signature verification against a JWKS served on
 * 127.0.0.1, and one end-to-end run of the bundled command.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hermeticEnv } from './support/hermetic-env';
import type { FetchLike, JsonError, JsonReport, RoleReport } from '../src/doctor';
import {
  claims,
  EXAMPLE,
  EXAMPLE_CONFIG_FILE,
  JsonServer,
  loadBundle,
  makeKey,
  NOW_SECONDS,
  ROOT,
  runDoctor,
  serveJson,
  sign,
  TestKey,
} from './support/doctor';
import { exampleConfig } from './support/synth';

const ISSUER = 'https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';
const braced = (uuid: string): string => `{${uuid}}`;

let key: TestKey;
let dir: string;

beforeAll(async () => {
  key = await makeKey('bitbucket-2026');
  dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-test-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
/** Writes text to a fresh file of the test's directory and returns its path. */
function file(text: string, name = `token-${++files}.jwt`): string {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
}

async function tokenFile(payload: Record<string, unknown>, signer: TestKey = key): Promise<string> {
  return file(`${await sign(payload, signer)}\n`);
}

function report(run: { stdout: string }): JsonReport {
  return JSON.parse(run.stdout) as JsonReport;
}

function roleOf(json: JsonReport, name: string): RoleReport {
  const found = json.roles.find((r) => `${r.account}/${r.role}` === name);
  if (found === undefined) throw new Error(`no role ${name} in the report: ${json.roles.map((r) => `${r.account}/${r.role}`).join(', ')}`);
  return found;
}

/** The example config with one change, written to a file. */
function exampleWith(change: (config: any) => void): string {
  const config = exampleConfig();
  change(config);
  return file(JSON.stringify(config), `config-${++files}.json`);
}

describe('token doctor decisions', () => {
  it('allows a staging deployment step to assume the staging deploy role and no other deploy role', async () => {
    const token = await tokenFile(claims({ environmentUuid: EXAMPLE.stagingEnv }));
    const run = await runDoctor(['--token-file', token, '--json']);
    const json = report(run);

    expect(run.code).toBe(0);
    expect(json.exitCode).toBe(0);
    expect(json.allowed).toEqual(['staging/bitbucket-plan', 'staging/bitbucket-deploy', 'production/bitbucket-plan']);
    expect(roleOf(json, 'staging/bitbucket-deploy').failures).toEqual([]);
    expect(roleOf(json, 'production/bitbucket-deploy').decision).toBe('DENY');
    expect(json.token.subject).toEqual({
      kind: 'deployment',
      repository: braced(EXAMPLE.infra),
      repositoryName: 'acme/infra',
      environment: braced(EXAMPLE.stagingEnv),
      environmentName: 'Staging',
      step: braced(EXAMPLE.step),
    });
  });

  it('prints ALLOW or DENY per role and says that the signature was not verified', async () => {
    const token = await tokenFile(claims({ environmentUuid: EXAMPLE.stagingEnv }));
    const run = await runDoctor(['--token-file', token]);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^ {2}ALLOW +staging\/bitbucket-deploy +arn:aws:iam::111122223333:role\/bitbucket-pipeline\/bitbucket-deploy$/m,
    );
    expect(run.stdout).toMatch(
      /^ {2}DENY +production\/bitbucket-deploy +arn:aws:iam::444455556666:role\/bitbucket-pipeline\/bitbucket-deploy$/m,
    );
    expect(run.stdout).toMatch(/SKIP +signature +NOT verified/);
    expect(run.stdout).toMatch(/^Result: ALLOW by 3 of 6 roles: .*signature NOT verified; exit 0\)$/m);
    expect(run.stderr).toBe('');
  });

  it('refuses a token of another repository, naming the repositories the role admits', async () => {
    const token = await tokenFile(claims({ repositoryUuid: EXAMPLE.stranger }));
    const run = await runDoctor(['--token-file', token, '--role', 'bitbucket-plan', '--json']);
    const [failure] = roleOf(report(run), 'staging/bitbucket-plan').failures;

    expect(run.code).toBe(1);
    expect(failure).toMatchObject({
      check: 'condition',
      operator: 'StringLike',
      key: `${ISSUER.replace('https://', '')}:sub`,
      expected: [`${braced(EXAMPLE.infra)}:*`],
      actual: `${braced(EXAMPLE.stranger)}:${braced(EXAMPLE.step)}`,
    });
    expect(failure.hint).toContain(`repository ${braced(EXAMPLE.stranger)} is not in this role's scope`);
    expect(failure.hint).toContain(`${braced(EXAMPLE.infra)} (acme/infra)`);
    expect(run.stderr.split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^denied: no checked role admits this token: staging\/bitbucket-plan: repository/);
  });

  it('refuses a deployment step of another environment, naming the environment the role admits', async () => {
    const token = await tokenFile(claims({ environmentUuid: EXAMPLE.productionEnv }));
    const run = await runDoctor(['--token-file', token, '--role', 'bitbucket-deploy', '--account', 'staging']);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`expected  ${braced(EXAMPLE.infra)}:${braced(EXAMPLE.stagingEnv)}:*`);
    expect(run.stdout).toContain(`actual    ${braced(EXAMPLE.infra)}:${braced(EXAMPLE.productionEnv)}:${braced(EXAMPLE.step)}`);
    expect(run.stdout).toContain(
      `deployment environment ${braced(EXAMPLE.productionEnv)} (Production) is not one this role admits for repository ${braced(EXAMPLE.infra)} (acme/infra); it admits ${braced(EXAMPLE.stagingEnv)} (Staging)`,
    );
  });

  it('refuses a normal step for a role scoped to a deployment environment', async () => {
    const token = await tokenFile(claims());
    const run = await runDoctor(['--token-file', token, '--role', 'bitbucket-deploy', '--account', 'production']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `this step is not a deployment step; the role requires a deployment step of environment ${braced(EXAMPLE.productionEnv)} (Production) for repository ${braced(EXAMPLE.infra)} (acme/infra)`,
    );
  });

  it('refuses an audience that is not a client ID of the provider, as AWS does with "Incorrect token audience"', async () => {
    const token = await tokenFile(claims({ audience: `ari:cloud:bitbucket::workspace/${EXAMPLE.stranger}` }));
    const json = report(await runDoctor(['--token-file', token, '--json']));
    const audience = json.checks.find((c) => c.check === 'audience');

    expect(json.exitCode).toBe(1);
    expect(audience).toMatchObject({
      status: 'fail',
      actual: `ari:cloud:bitbucket::workspace/${EXAMPLE.stranger}`,
      expected: [`ari:cloud:bitbucket::workspace/${EXAMPLE.workspaceUuid}`],
    });
    expect(audience?.message).toContain('Incorrect token audience');
    expect(audience?.message).toContain(`the default audience of workspace ${braced(EXAMPLE.stranger)}`);
    expect(json.roles.every((r) => r.decision === 'DENY')).toBe(true);
    const roleFailure = roleOf(json, 'staging/bitbucket-plan').failures.find((f) => f.check === 'condition');
    expect(roleFailure?.key).toMatch(/:aud$/);
    expect(roleFailure?.hint).toContain('is not one the role accepts');
  });

  it('points a custom audience at the config\'s "audiences"', async () => {
    const token = await tokenFile(claims({ audience: 'sts.amazonaws.com' }));
    const run = await runDoctor(['--token-file', token, '--role', 'bitbucket-plan']);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('a custom audience must be listed in the config\'s "audiences"');
  });

  it('refuses an issuer with a trailing slash, as AWS does with "No OpenIDConnect provider found"', async () => {
    const token = await tokenFile({ ...claims(), iss: `${ISSUER}/` });
    const json = report(await runDoctor(['--token-file', token, '--role', 'bitbucket-plan', '--json']));
    const issuer = json.checks.find((c) => c.check === 'issuer');
    const plan = roleOf(json, 'staging/bitbucket-plan');

    expect(json.exitCode).toBe(1);
    expect(issuer).toMatchObject({ status: 'fail', expected: ISSUER, actual: `${ISSUER}/` });
    expect(issuer?.message).toContain('it has a trailing slash');
    expect(issuer?.message).toContain('No OpenIDConnect provider found');
    // The policy, evaluated as if the issuer matched, admits the token: the issuer is the only problem.
    expect(plan.trustPolicy).toMatchObject({ decision: 'ALLOW', issuerSubstituted: true });
    expect(plan.decision).toBe('DENY');
    expect(plan.failures.map((f) => f.check)).toEqual(['issuer']);
  });

  it('refuses an issuer of another workspace, naming both workspaces', async () => {
    const token = await tokenFile(claims({ workspace: 'globex' }));
    const run = await runDoctor(['--token-file', token, '--role', 'bitbucket-plan']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('it names workspace "globex", and the config is for workspace "acme"');
    expect(run.stdout).toMatch(/^ {2}FAIL {2}issuer /m);
  });

  it('refuses an issuer spelt with http://', async () => {
    const token = await tokenFile({ ...claims(), iss: ISSUER.replace('https://', 'http://') });
    const run = await runDoctor(['--token-file', token, '--role', 'bitbucket-plan']);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('it uses http:// instead of https://');
  });

  it('refuses an expired token, saying when it expired', async () => {
    const token = await tokenFile(claims({ issuedAt: NOW_SECONDS - 7200, lifetime: 3600 }));
    const json = report(await runDoctor(['--token-file', token, '--json']));
    const expiry = json.checks.find((c) => c.check === 'expiry');

    expect(json.exitCode).toBe(1);
    expect(expiry?.status).toBe('fail');
    expect(expiry?.message).toContain('expired at 2026-03-01T11:00:00Z (60 min ago)');
    expect(json.allowed).toEqual([]);
  });

  it('treats a token as expired from its exp second on, and valid one second before', () => {
    const { doctor } = loadBundle();
    const at = (exp: number) => doctor.expiryCheck({ ...claims(), exp }, new Date(NOW_SECONDS * 1000)).status;

    expect(at(NOW_SECONDS)).toBe('fail');
    expect(at(NOW_SECONDS + 1)).toBe('pass');
  });

  it('reports every problem in one run: a foreign issuer and a repository outside the scope', async () => {
    const token = await tokenFile({ ...claims({ repositoryUuid: EXAMPLE.stranger }), iss: `${ISSUER}/` });
    const plan = roleOf(report(await runDoctor(['--token-file', token, '--json'])), 'production/bitbucket-plan');

    expect(plan.failures.map((f) => f.check)).toEqual(['issuer', 'condition']);
    expect(plan.failures[1].hint).toContain("is not in this role's scope");
  });

  it('admits a role limited by aws:SourceIp only with a caveat, and checks an address given with --source-ip', async () => {
    const config = exampleWith((c) => {
      c.accounts[0].roles.push({
        name: 'ip-limited',
        repositories: [{ uuid: EXAMPLE.infra }],
        managedPolicyArns: ['arn:aws:iam::aws:policy/ViewOnlyAccess'],
        sourceIpCidrs: ['203.0.113.0/24'],
      });
    });
    const env = { BITBUCKET_OIDC_CONFIG: config };
    const token = await tokenFile(claims());
    const args = ['--token-file', token, '--account', 'staging', '--role', 'ip-limited', '--json'];

    const unknown = roleOf(report(await runDoctor(args, { env })), 'staging/ip-limited');
    const inside = roleOf(report(await runDoctor([...args, '--source-ip', '203.0.113.9'], { env })), 'staging/ip-limited');
    const outside = await runDoctor([...args, '--source-ip', '198.51.100.7'], { env });

    expect(unknown.decision).toBe('ALLOW');
    expect(unknown.caveats.join()).toContain('only when the call comes from 203.0.113.0/24');
    expect(inside).toMatchObject({ decision: 'ALLOW', caveats: [] });
    expect(outside.code).toBe(1);
    expect(roleOf(report(outside), 'staging/ip-limited').failures[0]).toMatchObject({
      key: 'aws:SourceIp',
      expected: ['203.0.113.0/24'],
      actual: '198.51.100.7',
    });
    expect(roleOf(report(outside), 'staging/ip-limited').failures[0].hint).toContain(
      'address "198.51.100.7" is in none of the networks the role admits calls from',
    );
  });

  describe('a role limited to two networks', () => {
    const cidrs = ['203.0.113.0/24', '198.51.100.0/24'];
    const limitedConfig = () =>
      exampleWith((c) => {
        c.accounts[0].roles.push({
          name: 'ip-limited',
          repositories: [{ uuid: EXAMPLE.infra }],
          managedPolicyArns: ['arn:aws:iam::aws:policy/ViewOnlyAccess'],
          sourceIpCidrs: cidrs,
        });
      });
    /** The lines of one role's block in the text report. */
    const block = (stdout: string, name: string): string[] => {
      const lines = stdout.split('\n');
      const start = lines.findIndex((l) => new RegExp(`^ {2}(ALLOW|DENY) +${name} `).test(l));
      const end = lines.findIndex((l, i) => i > start && !l.startsWith('           '));
      return lines.slice(start, end);
    };
    const count = (lines: string[], text: string): number => lines.join('\n').split(text).length - 1;

    it('prints its networks once, as a caveat, when it refuses a token for another reason and the address is unknown', async () => {
      const env = { BITBUCKET_OIDC_CONFIG: limitedConfig() };
      const run = await runDoctor(
        ['--token-file', await tokenFile(claims({ repositoryUuid: EXAMPLE.stranger })), '--account', 'staging', '--role', 'ip-limited'],
        { env },
      );
      const lines = block(run.stdout, 'staging/ip-limited');

      expect(run.code).toBe(1);
      expect(lines[0]).toMatch(/^ {2}DENY /);
      for (const cidr of cidrs) expect(count(lines, cidr)).toBe(1);
      expect(lines.join('\n')).toContain('caveat: it also admits only calls from 203.0.113.0/24 or 198.51.100.0/24');
      // The unknown address is not a failed condition: the failure is the repository.
      expect(lines.filter((l) => l.includes('failed'))).toEqual([expect.stringContaining(':sub')]);
    });

    it('prints its networks once, under expected, when the address given with --source-ip is outside them', async () => {
      const env = { BITBUCKET_OIDC_CONFIG: limitedConfig() };
      const run = await runDoctor(
        ['--token-file', await tokenFile(claims()), '--account', 'staging', '--role', 'ip-limited', '--source-ip', '192.0.2.1'],
        { env },
      );
      const lines = block(run.stdout, 'staging/ip-limited');

      expect(run.code).toBe(1);
      for (const cidr of cidrs) expect(count(lines, cidr)).toBe(1);
      expect(lines.join('\n')).toMatch(
        /failed +IpAddress aws:SourceIp\n +expected +203\.0\.113\.0\/24\n +198\.51\.100\.0\/24\n +actual +192\.0\.2\.1/,
      );
    });
  });

  describe('an account that reuses an existing provider', () => {
    const providerArn = 'arn:aws:iam::444455556666:oidc-provider/api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';
    const reusing = () => ({
      BITBUCKET_OIDC_CONFIG: exampleWith((c) => {
        c.accounts[1].existingProviderArn = providerArn;
      }),
    });

    it('says its audience could not be verified offline, and how to check it', async () => {
      const run = await runDoctor(
        ['--token-file', await tokenFile(claims()), '--account', 'production', '--role', 'bitbucket-plan', '--json'],
        { env: reusing() },
      );
      const audience = report(run).checks.find((c) => c.check === 'audience');

      expect(run.code).toBe(0);
      expect(audience?.status).toBe('warn');
      expect(audience?.message).toContain(
        'account production reuses an existing provider (existingProviderArn), whose client IDs could not be verified offline',
      );
      expect(audience?.message).toContain(`aws iam get-open-id-connect-provider --open-id-connect-provider-arn ${providerArn}`);
      expect(roleOf(report(run), 'production/bitbucket-plan').caveats.join()).toContain(
        "only if the account's reused provider lists the token's audience",
      );
    });

    it('still passes the audience check of an account whose provider the project creates', async () => {
      const run = await runDoctor(['--token-file', await tokenFile(claims()), '--account', 'staging', '--json'], { env: reusing() });

      expect(report(run).checks.find((c) => c.check === 'audience')).toMatchObject({
        status: 'pass',
        message: "is one of the provider's client IDs",
      });
    });
  });
});

describe('token doctor input it cannot judge (exit 2)', () => {
  const b64 = (text: string): string => Buffer.from(text).toString('base64url');
  const header = b64(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));

  it.each([
    ['an empty file', '\n', 'is empty'],
    ['a single word', 'not-a-jwt', 'must be three base64url parts separated by ".", and it has 1'],
    ['five parts (an encrypted JWE)', 'a.b.c.d.e', 'an encrypted JWE'],
    ['a payload that is not JSON', `${header}.${b64('not json')}.c2ln`, 'its payload (part 2) must be a base64url-encoded JSON object'],
    ['characters outside base64url', `${header}.e30=.c2ln`, 'its payload (part 2) must be non-empty base64url'],
    ['an unexpanded shell variable', '$BITBUCKET_STEP_OIDC_TOKEN', 'unexpanded shell variable'],
  ])('refuses %s, naming the rule', async (_what, text, rule) => {
    const run = await runDoctor(['--token-file', file(text)]);

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: the token from --token-file ".*" /);
    expect(run.stderr).toContain(rule);
  });

  it('refuses a JWT without a sub claim, naming the claim and its rule', async () => {
    const { sub: _sub, ...rest } = claims();
    const run = await runDoctor(['--token-file', await tokenFile(rest)]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('claim "sub" is missing, and it must be a string such as {REPOSITORY_UUID}:{STEP_UUID}');
  });

  it('refuses a token file that cannot be read', async () => {
    const run = await runDoctor(['--token-file', path.join(dir, 'absent.jwt')]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --token-file ".*absent\.jwt" cannot be read \(ENOENT\)/);
  });

  it('refuses to run without a token, saying where a token comes from', async () => {
    const run = await runDoctor([]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no token: pass --token-file <path>');
    expect(run.stderr).toContain('"oidc: true"');
  });

  it('refuses an unknown role, listing the roles of the configuration', async () => {
    const run = await runDoctor(['--token-file', await tokenFile(claims()), '--role', 'bitbucket-planner']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--role "bitbucket-planner" must name a role of');
    expect(run.stderr).toContain(
      'bitbucket-plan (staging, production), bitbucket-deploy (staging, production), web-artifacts-upload (staging, production)',
    );
  });

  it('refuses an unknown account, listing the accounts', async () => {
    const run = await runDoctor(['--token-file', await tokenFile(claims()), '--account', 'prod']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--account "prod" must name an account of');
    expect(run.stderr).toContain('its accounts are staging, production');
  });

  it('refuses an invalid configuration, with one line of reason and then every problem', async () => {
    const config = exampleWith((c) => {
      c.accounts[0].accountId = '1234';
    });
    const run = await runDoctor(['--token-file', await tokenFile(claims())], { env: { BITBUCKET_OIDC_CONFIG: config } });
    const lines = run.stderr.split('\n');

    expect(run.code).toBe(2);
    expect(lines[0]).toMatch(/^error: the configuration is unusable: 1 problem in .*config-\d+\.json$/);
    expect(lines[1]).toContain('accounts[0].accountId');
  });

  it('refuses an unknown option and an address that is not one', async () => {
    const option = await runDoctor(['--tokenfile', 'x.jwt']);
    const address = await runDoctor(['--source-ip', '300.1.1.1']);

    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^error: Unknown option '--tokenfile'; run with --help for the options$/);
    expect(address.code).toBe(2);
    expect(address.stderr).toContain('--source-ip "300.1.1.1" must be an IPv4 or IPv6 address');
  });

  it('never prints the raw token, in any mode', async () => {
    const token = await sign(claims({ repositoryUuid: EXAMPLE.stranger }), key);
    const tokenPath = file(token);
    const runs = await Promise.all([
      runDoctor(['--token-file', tokenPath]),
      runDoctor(['--token-file', tokenPath, '--json']),
      runDoctor(['--token-file', file(`${token}.extra`)]),
    ]);
    const signature = token.split('.')[2];

    expect(runs.map((r) => r.code)).toEqual([1, 1, 2]);
    for (const run of runs) {
      expect(`${run.stdout}\n${run.stderr}`).not.toContain(signature);
    }
  });
});

describe('token doctor sources and selection', () => {
  it('reads the token from stdin with --token-file -', async () => {
    const run = await runDoctor(['--token-file', '-', '--json'], { stdin: `${await sign(claims(), key)}\n` });

    expect(run.code).toBe(0);
    expect(report(run).tokenSource).toBe('stdin');
  });

  it("reads BITBUCKET_STEP_OIDC_TOKEN, and names the environment from the same step's variables", async () => {
    const token = await sign(claims({ environmentUuid: EXAMPLE.stagingEnv }), key);
    const env = {
      BITBUCKET_OIDC_CONFIG: EXAMPLE_CONFIG_FILE,
      BITBUCKET_STEP_OIDC_TOKEN: token,
      BITBUCKET_STEP_UUID: braced(EXAMPLE.step),
      BITBUCKET_DEPLOYMENT_ENVIRONMENT: 'staging',
    };
    const json = report(await runDoctor(['--json', '--role', 'bitbucket-deploy'], { env }));

    expect(json.tokenSource).toBe('BITBUCKET_STEP_OIDC_TOKEN');
    expect(json.token.subject).toMatchObject({ kind: 'deployment', environmentName: 'staging' });
    expect(roleOf(json, 'production/bitbucket-deploy').failures[0].hint).toContain(`${braced(EXAMPLE.stagingEnv)} (staging)`);
  });

  it('checks only the named role, in every account that has it', async () => {
    const json = report(await runDoctor(['--token-file', await tokenFile(claims()), '--role', 'bitbucket-plan', '--json']));

    expect(json.roles.map((r) => `${r.account}/${r.role}`)).toEqual(['staging/bitbucket-plan', 'production/bitbucket-plan']);
  });

  it('narrows to one account with --account', async () => {
    const json = report(await runDoctor(['--token-file', await tokenFile(claims()), '--account', 'production', '--json']));

    expect(json.roles.map((r) => r.role)).toEqual(['bitbucket-plan', 'bitbucket-deploy', 'web-artifacts-upload']);
  });

  it('prints the ARN of the one selected role with --print-role-arn, without a token', async () => {
    const run = await runDoctor(['--print-role-arn', '--account', 'production', '--role', 'bitbucket-deploy']);

    expect(run).toEqual({ code: 0, stdout: 'arn:aws:iam::444455556666:role/bitbucket-pipeline/bitbucket-deploy', stderr: '' });
  });

  it('refuses --print-role-arn when the selection is not exactly one role', async () => {
    const run = await runDoctor(['--print-role-arn', '--role', 'bitbucket-plan']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('they select 2: staging/bitbucket-plan, production/bitbucket-plan');
  });

  it('reads normal and deployment subs into their parts', () => {
    const { doctor } = loadBundle();

    expect(doctor.parseSubject('{r}:{s}')).toEqual({ kind: 'step', repository: '{r}', step: '{s}' });
    expect(doctor.parseSubject('{r}:{e}:{s}')).toEqual({ kind: 'deployment', repository: '{r}', environment: '{e}', step: '{s}' });
    expect(doctor.parseSubject('repo:acme/infra:ref:main')).toEqual({ kind: 'unrecognised' });
  });
});

describe('token doctor --json', () => {
  it('prints a versioned report with a stable shape', async () => {
    const json = report(await runDoctor(['--token-file', await tokenFile(claims()), '--role', 'bitbucket-deploy', '--json']));
    const [role] = json.roles;

    expect(Object.keys(json).sort()).toEqual([
      'allowed',
      'checks',
      'config',
      'exitCode',
      'roles',
      'signatureVerified',
      'token',
      'tokenSource',
      'version',
    ]);
    expect(json).toMatchObject({ version: 1, exitCode: 1, signatureVerified: false, allowed: [] });
    expect(json.checks.map((c) => c.check)).toEqual(['issuer', 'audience', 'expiry', 'signature', 'workspace']);
    expect(Object.keys(role).sort()).toEqual(['account', 'accountId', 'arn', 'caveats', 'decision', 'failures', 'role', 'trustPolicy']);
    expect(Object.keys(role.failures[0]).sort()).toEqual(['actual', 'check', 'expected', 'hint', 'key', 'operator']);
    expect(role.trustPolicy.conditions.map((c) => [c.operator, c.matched])).toEqual([
      ['StringEquals', true],
      ['StringLike', false],
    ]);
  });

  it('prints the reason as JSON too when the input is unusable', async () => {
    const run = await runDoctor(['--token-file', file('garbage'), '--json']);
    const json = JSON.parse(run.stdout) as JsonError;

    expect(run.code).toBe(2);
    expect(json).toMatchObject({ version: 1, exitCode: 2, details: [] });
    expect(json.error).toContain('is not a JWT');
  });
});

describe('token doctor signature verification', () => {
  let server: JsonServer;
  let otherKey: TestKey;
  const documents: Record<string, unknown> = {};
  const issuerPath = '/2.0/workspaces/acme/pipelines-config/identity/oidc';
  /** A fetch that sends requests for api.bitbucket.org to the local server, under `prefix`. */
  const via =
    (prefix: string): FetchLike =>
    (url, init) =>
      fetch(url.replace('https://api.bitbucket.org', `${server.url}${prefix}`), init);

  beforeAll(async () => {
    otherKey = await makeKey(key.kid); // same kid, other key: a forger's
    server = await serveJson(documents);
    Object.assign(documents, {
      '/jwks.json': { keys: [key.jwk] },
      [`${issuerPath}/.well-known/openid-configuration`]: { issuer: ISSUER, jwks_uri: `${server.url}/jwks.json` },
      [`/fallback${issuerPath}/keys.json`]: { keys: [key.jwk] },
      '/not-json': 'this is not JSON',
      '/no-keys': { issuer: ISSUER },
    });
  });

  afterAll(async () => {
    await server.close();
  });

  it('accepts a token signed by a key of the JWKS', async () => {
    const run = await runDoctor(['--token-file', await tokenFile(claims()), '--jwks-url', `${server.url}/jwks.json`, '--json']);
    const json = report(run);

    expect(run.code).toBe(0);
    expect(json.signatureVerified).toBe(true);
    expect(json.checks.find((c) => c.check === 'signature')).toMatchObject({
      status: 'pass',
      message: `signed with RS256 by key kid "${key.kid}" of ${server.url}/jwks.json`,
    });
  });

  it('refuses a token signed by another key with the same kid (exit 1)', async () => {
    const run = await runDoctor(['--token-file', await tokenFile(claims(), otherKey), '--jwks-url', `${server.url}/jwks.json`, '--json']);
    const json = report(run);

    expect(run.code).toBe(1);
    expect(json.checks.find((c) => c.check === 'signature')?.message).toContain('the signature does not match key');
    expect(json.roles.every((r) => r.decision === 'DENY' && r.failures.some((f) => f.check === 'signature'))).toBe(true);
  });

  it('never says "NOT verified" of a signature it checked and refused', async () => {
    const run = await runDoctor(['--token-file', await tokenFile(claims(), otherKey), '--jwks-url', `${server.url}/jwks.json`]);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ {2}FAIL {2}signature +the signature does not match key/m);
    expect(run.stdout).toMatch(/^Result: DENY: .*\(signature INVALID: checked against the JWKS and refused; exit 1\)$/m);
    expect(`${run.stdout}\n${run.stderr}`).not.toContain('NOT verified');
  });

  it('refuses a token whose key ID is not in the JWKS (exit 1)', async () => {
    const stranger = await makeKey('somebody-else');
    const run = await runDoctor(['--token-file', await tokenFile(claims(), stranger), '--jwks-url', `${server.url}/jwks.json`]);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}signature +no key of .* matches the token's kid "somebody-else"/);
  });

  it("finds the keys through the configured issuer's openid-configuration", async () => {
    const before = server.requests.length;
    const run = await runDoctor(['--token-file', await tokenFile(claims()), '--verify-signature'], { fetch: via('') });

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('signature verified');
    expect(server.requests.slice(before)).toEqual([`${issuerPath}/.well-known/openid-configuration`, '/jwks.json']);
  });

  it('falls back to <issuer>/keys.json when discovery fails', async () => {
    const before = server.requests.length;
    const run = await runDoctor(['--token-file', await tokenFile(claims()), '--verify-signature'], { fetch: via('/fallback') });

    expect(run.code).toBe(0);
    expect(server.requests.slice(before)).toEqual([
      `/fallback${issuerPath}/.well-known/openid-configuration`,
      `/fallback${issuerPath}/keys.json`,
    ]);
  });

  it("takes the keys from the configured issuer, never from the token's own iss", async () => {
    const before = server.requests.length;
    const token = await tokenFile(claims({ workspace: 'forger' }));
    await runDoctor(['--token-file', token, '--verify-signature'], { fetch: via('') });

    expect(server.requests.slice(before).every((url) => !url.includes('forger'))).toBe(true);
    expect(server.requests.slice(before)[0]).toBe(`${issuerPath}/.well-known/openid-configuration`);
  });

  it.each([
    ['answers 404', '/missing.json', 'cannot fetch the JWKS from http://127.0.0.1:PORT/missing.json: HTTP 404'],
    ['is not JSON', '/not-json', 'the JWKS at http://127.0.0.1:PORT/not-json is not JSON'],
    ['has no keys list', '/no-keys', 'must be a JSON object with a "keys" list, and it has none'],
  ])('exits 2 when the JWKS %s', async (_what, where, message) => {
    const run = await runDoctor(['--token-file', await tokenFile(claims()), '--jwks-url', `${server.url}${where}`]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message.replace('http://127.0.0.1:PORT', server.url));
  });

  it('exits 2 when the JWKS server cannot be reached, and for a --jwks-url that is not a URL', async () => {
    const closed = await serveJson({});
    await closed.close();
    const unreachable = await runDoctor(['--token-file', await tokenFile(claims()), '--jwks-url', `${closed.url}/jwks.json`]);
    const notUrl = await runDoctor(['--token-file', await tokenFile(claims()), '--jwks-url', 'keys.json']);

    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain(`cannot fetch the JWKS from ${closed.url}/jwks.json (ECONNREFUSED)`);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toContain('--jwks-url "keys.json" must be an http(s) URL');
  });
});

describe('npm run explain', () => {
  it('bundles and runs the doctor end to end, with the bundled example config when none is set', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await tokenFile(claims({ issuedAt: now - 60 }));
    // npm under Node.js 22 and later keeps a compile cache in the temp folder, which the test run reports as left over.
    const run = spawnSync('npm', ['run', '--silent', 'explain', '--', '--token-file', token, '--role', 'bitbucket-plan'], {
      cwd: ROOT,
      env: hermeticEnv({ NODE_DISABLE_COMPILE_CACHE: '1' }),
      encoding: 'utf8',
      timeout: 30_000,
    });

    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^ {2}ALLOW +staging\/bitbucket-plan/m);
    expect(run.stdout).toMatch(/^ {2}ALLOW +production\/bitbucket-plan/m);
    expect(run.stderr).toContain(
      'note: BITBUCKET_OIDC_CONFIG is not set, so the roles of the bundled example config/example.json are checked',
    );
  });
});
