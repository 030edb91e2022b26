/**
 * Differential proof of the trust policies: for every role synthesized from a set of configurations,
 * many tokens (admitted, near misses, hostile values) are decided three ways, and all three must agree:
 *
 * 1. the project's own evaluator (`src/iam/evaluate.ts`),
 * 2. an independent IAM engine, `@cloud-copilot/iam-simulate` (through the adapter in
 *    `support/iam-simulate-adapter.ts`),
 * 3. the expected decision, computed here from the configuration's meaning (issuer, audiences,
 *    `sub` prefixes, CIDRs) with plain string and bit-string operations, using neither evaluator nor any
 *    IAM wildcard matching.
 */
import { readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import { build } from 'esbuild';
import { evaluateTrustPolicy } from '../src/iam/evaluate';
import { PolicyDocument } from '../src/iam/policy';
import { assumeRoleRequest, BitbucketTokenClaims } from '../src/bitbucket/token';
import {
  bitsToIp,
  claimUuid,
  environmentUuid,
  lastAddressBits,
  networkBits,
  outsideAddressBits,
  RoleMeaning,
  roleMeaning,
  TokenCase,
} from './support/expected-decision';
import { generateConfig, prng, randomUuid } from './support/generate-config';
import { adaptPolicy, simulateAssumeRole, TRUSTED_ISSUER_ALIAS } from './support/iam-simulate-adapter';
import { exampleConfig } from './support/synth';
import { synthesizedRoles } from './support/synthesized-roles';
import { decideThreeWays } from './support/three-way';

type Json = Record<string, any>;

const ROOT = path.resolve(__dirname, '..');
const ENGINE = '@cloud-copilot/iam-simulate';

// ---------------------------------------------------------------------------------------------
// The tokens: admitted ones, near misses and hostile values, one dimension varied at a time.
// ---------------------------------------------------------------------------------------------

const STEP = '{0f7c7b1e-4e2b-4d5a-9a55-1c2b3d4e5f60}';
const OTHER_WORKSPACE_AUDIENCE = 'ari:cloud:bitbucket::workspace/99999999-9999-4999-8999-999999999999';

/** Every repository and environment the configuration mentions, plus strangers. */
function universe(config: Json): { repositories: Map<string, string[]> } {
  const repositories = new Map<string, string[]>();
  for (const account of config.accounts) {
    for (const name of [
      ...(account.roles ?? []).map((r: Json) => r.name),
      ...(config.pipeline === undefined ? [] : ['bitbucket-plan', 'bitbucket-deploy']),
    ]) {
      const role = configRoleOf(config, account, name);
      for (const repo of role.repositories ?? []) {
        const envs = repositories.get(claimUuid(repo.uuid)) ?? [];
        for (const env of (repo.environments ?? []).map(environmentUuid)) if (!envs.includes(claimUuid(env))) envs.push(claimUuid(env));
        repositories.set(claimUuid(repo.uuid), envs);
      }
    }
  }
  const random = prng(99);
  for (let i = 0; i < 2; i++) repositories.set(`{${randomUuid(random)}}`, []);
  // Every repository also gets an environment nobody configured.
  for (const [repo, envs] of repositories) repositories.set(repo, [...envs, `{${randomUuid(random)}}`]);
  return { repositories };
}

function tokenCases(config: Json, meaning: RoleMeaning): TokenCase[] {
  const { repositories } = universe(config);
  const allEnvs = [...new Set([...repositories.values()].flat())];
  const iss = meaning.issuerUrl;
  const aud = meaning.audiences[0];
  // An admitted sub for this role (any repository's sub when the role admits all of them).
  const firstRepo = meaning.subPrefixes === undefined ? [...repositories.keys()][0] : meaning.subPrefixes[0].split(':')[0];
  const admittedSub = meaning.subPrefixes === undefined ? `${firstRepo}:${STEP}` : `${meaning.subPrefixes[0]}${STEP}`;
  const scopedEnv = meaning.subPrefixes?.[0].split(':')[1] || repositories.get(firstRepo)![0];
  const inside = meaning.cidrs.length === 0 ? undefined : bitsToIp(lastAddressBits(meaning.cidrs[0]));
  const base = { iss, aud, sub: admittedSub, accountId: meaning.accountId, sourceIp: inside ?? '203.0.113.7' };
  const cases: TokenCase[] = [];
  const add = (label: string, overrides: Partial<TokenCase>) => cases.push({ label, ...base, ...overrides });

  // Subjects: every repository's normal and deployment steps, cross-wired environments, odd values.
  const subs: [string, string | undefined][] = [];
  for (const [repo, envs] of repositories) {
    subs.push([`normal step of ${repo}`, `${repo}:${STEP}`]);
    for (const env of new Set([...envs, ...allEnvs.slice(0, 3)]))
      subs.push([`deployment step of ${repo} in ${env}`, `${repo}:${env}:${STEP}`]);
  }
  const upper = (s: string) => s.toUpperCase();
  subs.push(
    ['absent sub', undefined],
    ['empty sub', ''],
    ['sub "*"', '*'],
    ['sub "{}"', '{}'],
    ['sub "?"', '?'],
    ['sub "*:*"', '*:*'],
    ['sub "{*}:*"', '{*}:*'],
    ['sub "{?}:?"', '{?}:?'],
    ['sub "{}:{}:{}"', '{}:{}:{}'],
    ['sub "{REPO}:*" literally', '{REPO}:*'],
    ['sub "{REPO}:{ENV}:*" literally', '{REPO}:{ENV}:*'],
    ["the role's own pattern as a literal sub", `${firstRepo}:*`],
    ["the role's own environment pattern as a literal sub", `${firstRepo}:${scopedEnv}:*`],
    ['repository UUID in upper case', `${upper(firstRepo)}:${STEP}`],
    ['environment UUID in upper case', `${firstRepo}:${upper(scopedEnv)}:${STEP}`],
    ['repository UUID without braces', `${firstRepo.replace(/[{}]/g, '')}:${STEP}`],
    ['repository alone, no colon', firstRepo],
    ['repository glued to the step', `${firstRepo}${STEP}`],
    ['repository with a suffix before the colon', `${firstRepo.slice(0, -1)}-evil}:${STEP}`],
    ['repository and environment without the step', `${firstRepo}:${scopedEnv}`],
    ['repository and environment with an empty step', `${firstRepo}:${scopedEnv}:`],
    ['extra segments after a deployment step', `${firstRepo}:${scopedEnv}:${STEP}:{extra}:more`],
    ['extra segments after a normal step', `${firstRepo}:${STEP}:{extra}`],
    ['the repository as a later segment', `{${randomUuid(prng(5))}}:${firstRepo}:${STEP}`],
    ['a leading space', ` ${admittedSub}`],
    ['a trailing space', `${admittedSub} `],
    ['a newline inside', `${firstRepo}\n:${STEP}`],
    ['a tab in the step part', `${admittedSub}\t`],
  );
  for (const [label, sub] of subs) add(label, { sub });

  // Audiences, with an admitted sub and with a refused one (so aud alone never decides).
  const workspaceAudiences = [
    `ari:cloud:bitbucket::workspace/${config.workspaceUuid.replace(/[{}]/g, '').toLowerCase()}`,
    ...(config.audiences ?? []),
  ];
  const auds: [string, string | undefined][] = [...new Set([...meaning.audiences, ...workspaceAudiences])].map(
    (a) => [`audience ${a}`, a] as [string, string],
  );
  auds.push(
    ['absent audience', undefined],
    ["another workspace's audience", OTHER_WORKSPACE_AUDIENCE],
    ['the AWS default audience', 'sts.amazonaws.com'],
    ['empty audience', ''],
    ['audience "*"', '*'],
    ['audience "?"', '?'],
    ['audience "{}"', '{}'],
    ['audience in upper case', upper(aud)],
    ['audience with a trailing space', `${aud} `],
    ['audience prefix with "*"', `${aud.slice(0, -4)}*`],
  );
  for (const [label, a] of auds) {
    add(label, { aud: a });
    add(`${label}, from another repository`, { aud: a, sub: `{${randomUuid(prng(6))}}:${STEP}` });
  }

  // Issuers and accounts.
  const otherAccount = meaning.accountId === '999988887777' ? '999988887776' : '999988887777';
  add("another workspace's issuer", { iss: iss.replace(`/workspaces/${config.workspace}/`, '/workspaces/evil/') });
  add('the issuer with a trailing slash', { iss: `${iss}/` });
  add('the issuer over http', { iss: iss.replace('https://', 'http://') });
  add('the issuer with the workspace in upper case', {
    iss: iss.replace(`/workspaces/${config.workspace}/`, `/workspaces/${upper(config.workspace)}/`),
  });
  add("the role's issuer presented in another account", { accountId: otherAccount });

  // Source addresses: in and just outside each CIDR, the other address family, none at all.
  const ips: [string, string | undefined][] = [
    ['no source address', undefined],
    ['a documentation IPv4 address', '198.51.100.20'],
    ['an IPv6 address', '2001:db8::1'],
  ];
  for (const cidr of meaning.cidrs) {
    ips.push([`first address of ${cidr}`, bitsToIp(networkBits(cidr))], [`last address of ${cidr}`, bitsToIp(lastAddressBits(cidr))]);
    ips.push([`just outside ${cidr}`, bitsToIp(outsideAddressBits(cidr))]);
  }
  for (const [label, sourceIp] of ips) add(label, { sourceIp });

  const seen = new Set<string>();
  return cases.filter((c) => {
    const key = JSON.stringify([c.iss, c.aud, c.sub, c.accountId, c.sourceIp]);
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

// ---------------------------------------------------------------------------------------------
// The configurations.
// ---------------------------------------------------------------------------------------------

const WORKSPACE_UUID = '{8A1F1C70-0C1E-4F7B-9C53-6F2D2A1B3C4D}';
const REPO = [
  '{1DE489BE-2F5A-4EE0-9F8A-5D0C0B3B7C11}',
  '2b7e151a-28ae-4d2a-abf7-158809cf4f3c',
  '{3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f}',
  '4f5e6d7c-8b9a-4a0b-9c1d-2e3f4a5b6c7d',
];
const ENV = [
  '{aa11bb22-cc33-4d44-8e55-ff6677889900}',
  '{bb22cc33-dd44-4e55-9f66-001122334455}',
  'cc33dd44-ee55-4f66-a077-112233445566',
  '{dd44ee55-ff66-4a77-b188-223344556677}',
];

function handwritten(accounts: Json[], extra: Json = {}): Json {
  return {
    workspace: 'acme',
    workspaceUuid: WORKSPACE_UUID,
    state: { bucket: 'acme-terraform-state', region: 'eu-west-1' },
    ...extra,
    accounts,
  };
}
const account = (name: string, accountId: string, roles: Json[], extra: Json = {}): Json => ({
  name,
  accountId,
  region: 'eu-west-1',
  ...extra,
  roles,
});

const CONFIGS: [string, Json][] = [
  ['the bundled example', exampleConfig()],
  ['a repository-wide role', handwritten([account('prod', '123456789012', [{ name: 'repo-wide', repositories: [{ uuid: REPO[0] }] }])])],
  [
    'an environment-scoped role',
    handwritten([
      account('prod', '123456789012', [{ name: 'env-scoped', repositories: [{ uuid: REPO[0], environments: [ENV[0], ENV[1], ENV[2]] }] }]),
    ]),
  ],
  [
    'a role of several repositories',
    handwritten([
      account('prod', '123456789012', [
        {
          name: 'several',
          repositories: [
            { uuid: REPO[0] },
            { uuid: REPO[1], environments: [ENV[0]] },
            { uuid: REPO[2] },
            { uuid: REPO[3], environments: [ENV[1], ENV[3]] },
          ],
        },
        { name: 'overlapping', repositories: [{ uuid: REPO[1] }] },
      ]),
    ]),
  ],
  [
    'mixed roles over accounts, one reusing its provider',
    handwritten([
      account('staging', '111122223333', [
        { name: 'plan', repositories: [{ uuid: REPO[0] }, { uuid: REPO[1] }] },
        { name: 'deploy', repositories: [{ uuid: REPO[0], environments: [ENV[0]] }] },
      ]),
      account(
        'production',
        '444455556666',
        [
          { name: 'plan', repositories: [{ uuid: REPO[0] }] },
          {
            name: 'deploy',
            repositories: [
              { uuid: REPO[0], environments: [ENV[1]] },
              { uuid: REPO[2], environments: [ENV[2]] },
            ],
          },
          { name: 'everyone-read', allowAllRepositories: true },
        ],
        {
          existingProviderArn:
            'arn:aws:iam::444455556666:oidc-provider/api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc',
        },
      ),
    ]),
  ],
  [
    'custom audiences',
    handwritten(
      [
        account('prod', '123456789012', [
          { name: 'any-audience', repositories: [{ uuid: REPO[0] }] },
          { name: 'deploy-audience-only', audiences: ['urn:acme:deploy'], repositories: [{ uuid: REPO[1], environments: [ENV[0]] }] },
          {
            name: 'workspace-audience-only',
            audiences: ['ari:cloud:bitbucket::workspace/8a1f1c70-0c1e-4f7b-9c53-6f2d2a1b3c4d'],
            repositories: [{ uuid: REPO[2] }],
          },
        ]),
      ],
      { audiences: ['bitbucket-ci', 'urn:acme:deploy'] },
    ),
  ],
  [
    'source IP ranges',
    handwritten([
      account('prod', '123456789012', [
        {
          name: 'pipelines-ips',
          repositories: [{ uuid: REPO[0] }],
          sourceIpCidrs: ['34.199.54.113/32', '104.192.136.0/21', '2401:1d80:1010::/64'],
        },
        { name: 'one-range', repositories: [{ uuid: REPO[1], environments: [ENV[0]] }], sourceIpCidrs: ['10.20.30.0/24'] },
      ]),
    ]),
  ],
  [
    'workspace-wide roles',
    handwritten(
      [
        account('prod', '123456789012', [
          { name: 'all-repos', allowAllRepositories: true },
          { name: 'all-repos-from-pipelines', allowAllRepositories: true, sourceIpCidrs: ['18.205.93.0/25'] },
          { name: 'all-repos-custom-audience', allowAllRepositories: true, audiences: ['bitbucket-ci'] },
        ]),
      ],
      { audiences: ['bitbucket-ci'] },
    ),
  ],
  [
    'a generated configuration of 15 roles',
    generateConfig({ roles: 15, accounts: 2, seed: 7, customAudiences: ['bitbucket-ci'], allowAllEvery: 7 }),
  ],
  ['a generated configuration of 25 roles', generateConfig({ roles: 25, accounts: 3, seed: 42 })],
];

/** At least this many cases must run: a guard against a generator that silently shrinks. */
const MINIMUM_CASES = 4000;

// ---------------------------------------------------------------------------------------------

describe('the iam-simulate adapter', () => {
  const provider = 'arn:aws:iam::123456789012:oidc-provider/api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';
  const issuer = 'api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';
  const audience = 'ari:cloud:bitbucket::workspace/8a1f1c70-0c1e-4f7b-9c53-6f2d2a1b3c4d';
  const policy: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: provider },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${issuer}:aud`]: audience },
          StringLike: { [`${issuer}:sub`]: '{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}:*' },
        },
      },
    ],
  };
  const role = { accountId: '123456789012', name: 'deploy' };
  const claims = (sub: string, iss = `https://${issuer}`): BitbucketTokenClaims => ({ iss, aud: audience, sub });
  const request = (c: BitbucketTokenClaims) => assumeRoleRequest(c, { partition: 'aws', accountId: '123456789012' });
  const admitted = claims(`{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}:${STEP}`);

  it('exists because, unadapted, the engine drops the Bitbucket keys and denies a token the policy admits', async () => {
    const verdict = await simulateAssumeRole(policy, request(admitted), role, { adapt: false });
    expect(verdict.decision).toBe('DENY');
    expect(verdict.ignoredContextKeys).toEqual(expect.arrayContaining([`${issuer}:aud`, `${issuer}:sub`]));
    expect(evaluateTrustPolicy(policy, request(admitted)).decision).toBe('ALLOW');
  });

  it('makes the engine allow a token the policy admits, without ignoring any key', async () => {
    const verdict = await simulateAssumeRole(policy, request(admitted), role);
    expect(verdict).toEqual({ decision: 'ALLOW', overallResult: 'Allowed', ignoredContextKeys: [] });
  });

  it('makes the engine deny a token of another repository, and one with another audience', async () => {
    expect((await simulateAssumeRole(policy, request(claims(`{2b7e151a-28ae-4d2a-abf7-158809cf4f3c}:${STEP}`)), role)).decision).toBe(
      'DENY',
    );
    expect((await simulateAssumeRole(policy, request({ ...admitted, aud: 'sts.amazonaws.com' }), role)).decision).toBe('DENY');
  });

  it("keeps another workspace's claims under keys the policy does not name", async () => {
    // The request names the trusted provider but carries another issuer's keys: nothing to match.
    const foreign = request(claims(admitted.sub, 'https://api.bitbucket.org/2.0/workspaces/evil/pipelines-config/identity/oidc'));
    const crossed = { ...foreign, federatedPrincipal: provider };
    expect((await simulateAssumeRole(policy, crossed, role)).decision).toBe('DENY');
    expect(evaluateTrustPolicy(policy, crossed).decision).toBe('DENY');
  });

  it('renames only the Bitbucket keys: operators, values, principal and other keys are untouched', () => {
    const withIp: PolicyDocument = {
      ...policy,
      Statement: [{ ...policy.Statement[0], Condition: { ...policy.Statement[0].Condition, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }],
    };
    expect(adaptPolicy(withIp).Statement[0]).toEqual({
      Effect: 'Allow',
      Principal: { Federated: provider },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: { [`${TRUSTED_ISSUER_ALIAS}:aud`]: audience },
        StringLike: { [`${TRUSTED_ISSUER_ALIAS}:sub`]: '{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}:*' },
        IpAddress: { 'aws:SourceIp': '10.0.0.0/8' },
      },
    });
  });

  it("documents the one divergence found: after an admitted prefix, the engine's `*` stops at a line break", async () => {
    // The engine turns `*` into the regex `.*` without the `s` flag, so it never matches `\n`; the
    // project evaluator matches any characters, as IAM documents `*`. Bitbucket's sub is built from
    // UUIDs and never holds a line break, so this case is outside the token space and left out of the
    // agreement sweep. (Not checked against AWS itself.) Before the prefix ends, both refuse.
    const after = request(claims(`{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}:${STEP}\n{x}`));
    expect(evaluateTrustPolicy(policy, after).decision).toBe('ALLOW');
    expect((await simulateAssumeRole(policy, after, role)).decision).toBe('DENY');
    const before = request(claims(`{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}\n:${STEP}`));
    expect(evaluateTrustPolicy(policy, before).decision).toBe('DENY');
    expect((await simulateAssumeRole(policy, before, role)).decision).toBe('DENY');
  });

  it('refuses a Bitbucket claim key it cannot map faithfully', () => {
    const amr: PolicyDocument = {
      ...policy,
      Statement: [{ ...policy.Statement[0], Condition: { StringEquals: { [`${issuer}:amr`]: 'x' } } }],
    };
    expect(() => adaptPolicy(amr)).toThrow(/no faithful mapping/);
  });
});

describe('the AGPL engine stays out of the product', () => {
  function sourceFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const file = path.join(dir, name);
      return statSync(file).isDirectory() ? sourceFiles(file) : /\.[cm]?[jt]s$/.test(name) ? [file] : [];
    });
  }

  it('is imported by no file of src/ nor by main.ts', () => {
    const offenders = [...sourceFiles(path.join(ROOT, 'src')), path.join(ROOT, 'main.ts')].filter((file) =>
      readFileSync(file, 'utf8').includes('@cloud-copilot/'),
    );
    expect(offenders).toEqual([]);
  });

  it('is a devDependency, never a runtime dependency', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain(ENGINE);
    expect(Object.keys(manifest.peerDependencies ?? {})).not.toContain(ENGINE);
    expect(Object.keys(manifest.optionalDependencies ?? {})).not.toContain(ENGINE);
    expect(Object.keys(manifest.devDependencies ?? {})).toContain(ENGINE);
  });

  it("is not in the synth bundle's import graph", async () => {
    const result = await build({
      entryPoints: [path.join(ROOT, 'main.ts')],
      bundle: true,
      platform: 'node',
      packages: 'external',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const imported = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imported.length).toBeGreaterThan(0);
    expect(imported.filter((p) => p.includes('@cloud-copilot'))).toEqual([]);
  });
});

/**
 * A role as the configuration means it: a listed workload role, or (read from the `pipeline` section
 * and the account's deployment environment, as the README describes them) a pipeline role: the plan
 * role admits every step of the pipeline's repository, the deploy role its environment's deployments.
 */
function configRoleOf(config: Json, account: Json, name: string): Json {
  const listed = (account.roles ?? []).find((r: Json) => r.name === name);
  if (listed !== undefined) return listed;
  const repository = config.pipeline.repository.uuid;
  if (name === (config.pipeline.planRoleName ?? 'bitbucket-plan')) return { repositories: [{ uuid: repository }] };
  const environment =
    typeof account.deploymentEnvironment === 'string' ? account.deploymentEnvironment : account.deploymentEnvironment.uuid;
  return { repositories: [{ uuid: repository, environments: [environment] }] };
}

describe('the project evaluator and iam-simulate agree with the expected decision on every synthesized role', () => {
  const totals = { cases: 0, allowed: 0, roles: 0 };

  it.each(CONFIGS)(
    '%s',
    async (_name, config) => {
      const roles = synthesizedRoles(config);
      expect(roles.length).toBeGreaterThan(0);
      const disagreements: string[] = [];
      for (const role of roles) {
        const configAccount = config.accounts.find((a: Json) => a.name === role.account);
        const configRole = configRoleOf(config, configAccount, role.name);
        const meaning = roleMeaning(config, configAccount, configRole);
        for (const token of tokenCases(config, meaning)) {
          const { evaluator, engine, expected } = await decideThreeWays(role, meaning, token);
          totals.cases++;
          if (expected === 'ALLOW') totals.allowed++;
          if (evaluator !== expected || engine !== expected) {
            disagreements.push(
              `${role.account}/${role.name}, ${token.label} (${JSON.stringify(token)}): expected ${expected}, evaluator ${evaluator}, engine ${engine}`,
            );
          }
        }
        totals.roles++;
      }
      expect(disagreements.slice(0, 10)).toEqual([]);
    },
    60_000,
  );

  it(`ran at least ${MINIMUM_CASES} cases, with both decisions well represented`, () => {
    process.stdout.write(
      `\ndifferential: ${totals.cases} cases over ${totals.roles} roles of ${CONFIGS.length} configurations (${totals.allowed} ALLOW, ${totals.cases - totals.allowed} DENY): evaluator, iam-simulate and expectation agree on all\n`,
    );
    expect(totals.cases).toBeGreaterThanOrEqual(MINIMUM_CASES);
    expect(totals.allowed).toBeGreaterThan(totals.cases / 20);
    expect(totals.cases - totals.allowed).toBeGreaterThan(totals.cases / 2);
  });
});
