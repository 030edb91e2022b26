/**
 * Properties of every synthesized trust policy, checked with fast-check over generated valid
 * configurations (UUIDs braced or bare, upper or lower case; repository-wide, environment-scoped and
 * workspace-wide roles; custom audiences; source IP ranges; reused providers; several partitions).
 * Each property reads the synthesized `cdk.tf.json`, not the objects that built it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { PolicyDocument } from '../src/iam/policy';
import { synthesize } from '../src/cli/synth';
import { ConfigError, validateConfig } from '../src/config/validate';
import { bareUuid, ConfigShape, configUuid, providerArn, validConfig } from './support/config-arbitraries';
import { bitsToIp, claimUuid, lastAddressBits, roleMeaning, TokenCase } from './support/expected-decision';
import { synthesizedRoles, synthesizeStacks } from './support/synthesized-roles';
import { decideThreeWays } from './support/three-way';

type Json = Record<string, any>;

/** Runs per property: enough to meet every shape often, few enough to keep the suite fast. */
const RUNS = 30;
const DEFAULT_TRUST_POLICY_QUOTA = 2048;

const issuerKey = (config: Json, claim: 'aud' | 'sub') =>
  `api.bitbucket.org/2.0/workspaces/${config.workspace}/pipelines-config/identity/oidc:${claim}`;
const asList = (value: string | string[] | undefined) => (value === undefined ? [] : typeof value === 'string' ? [value] : value);
const workspaceAudiences = (config: Json) => [
  `ari:cloud:bitbucket::workspace/${bareUuid(config.workspaceUuid)}`,
  ...(config.audiences ?? []),
];

/** Every role of the configuration with its synthesized trust policy and its configuration entry. */
function rolesOf(config: Json): { account: Json; role: Json; policy: PolicyDocument }[] {
  const synthesized = synthesizedRoles(config);
  const pairs = config.accounts.flatMap((account: Json) =>
    account.roles.map((role: Json) => {
      const found = synthesized.find((s) => s.account === account.name && s.name === role.name);
      if (found === undefined) throw new Error(`role ${role.name} of ${account.name} was not synthesized`);
      return { account, role, policy: found.trustPolicy };
    }),
  );
  expect(synthesized).toHaveLength(pairs.length);
  return pairs;
}

describe('every synthesized trust policy, over generated configurations', () => {
  it('has exactly one Allow statement for the workspace provider of its own account and sts:AssumeRoleWithWebIdentity', () => {
    fc.assert(
      fc.property(validConfig(), (config) => {
        for (const { account, policy } of rolesOf(config)) {
          expect(policy.Statement).toHaveLength(1);
          const [statement] = policy.Statement;
          expect(statement.Effect).toBe('Allow');
          expect(statement.Principal).toEqual({ Federated: providerArn(account, config.workspace) });
          expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("has a StringEquals aud condition on the workspace issuer listing only workspace audiences (the role's, else all)", () => {
    fc.assert(
      fc.property(validConfig(), (config) => {
        for (const { role, policy } of rolesOf(config)) {
          const audiences = asList(policy.Statement[0].Condition?.StringEquals?.[issuerKey(config, 'aud')]);
          expect(audiences.length).toBeGreaterThan(0);
          for (const audience of audiences) expect(workspaceAudiences(config)).toContain(audience);
          expect([...audiences].sort()).toEqual([...(role.audiences ?? workspaceAudiences(config))].sort());
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('has a StringLike sub condition anchored on configured repository UUIDs and ending in :*, unless the role trusts the whole workspace', () => {
    fc.assert(
      fc.property(validConfig(), (config) => {
        for (const { role, policy } of rolesOf(config)) {
          const condition = policy.Statement[0].Condition ?? {};
          const subKeys = Object.values(condition)
            .flatMap((block) => Object.keys(block ?? {}))
            .filter((key) => key.endsWith(':sub'));
          if (role.allowAllRepositories === true) {
            expect(subKeys).toEqual([]);
            continue;
          }
          expect(subKeys).toEqual([issuerKey(config, 'sub')]);
          const patterns = asList(condition.StringLike?.[issuerKey(config, 'sub')]);
          const anchors = role.repositories.map((repo: Json) => `{${bareUuid(repo.uuid)}}:`);
          for (const pattern of patterns) {
            expect(anchors.some((anchor: string) => pattern.startsWith(anchor))).toBe(true);
            expect(pattern.endsWith(':*')).toBe(true);
            // The only wildcard is the trailing one: the repository and environment parts are literal.
            expect(pattern.slice(0, -1)).not.toMatch(/[*?]/);
          }
          const expected = role.repositories.flatMap((repo: Json) =>
            repo.environments === undefined
              ? [`{${bareUuid(repo.uuid)}}:*`]
              : repo.environments.map((env: string) => `{${bareUuid(repo.uuid)}}:{${bareUuid(env)}}:*`),
          );
          expect([...patterns].sort()).toEqual([...expected].sort());
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('uses only StringEquals, StringLike and IpAddress: no ForAllValues/ForAnyValue or IfExists operator', () => {
    fc.assert(
      fc.property(validConfig(), (config) => {
        for (const { role, policy } of rolesOf(config)) {
          const operators = Object.keys(policy.Statement[0].Condition ?? {});
          expect(operators.filter((op) => /^For(All|Any)Values?:|IfExists$/.test(op))).toEqual([]);
          expect(operators.every((op) => ['StringEquals', 'StringLike', 'IpAddress'].includes(op))).toBe(true);
          const ips = asList(policy.Statement[0].Condition?.IpAddress?.['aws:SourceIp']);
          expect([...ips].sort()).toEqual([...(role.sourceIpCidrs ?? [])].sort());
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('fits the trust policy quota (whitespace not counted)', () => {
    fc.assert(
      fc.property(validConfig(), (config) => {
        for (const { policy } of rolesOf(config)) {
          expect(JSON.stringify(policy).replace(/\s/g, '').length).toBeLessThanOrEqual(DEFAULT_TRUST_POLICY_QUOTA);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('is refused at validation, naming the role, exactly when a larger scope would exceed the quota', () => {
    const large: ConfigShape = { maxAccounts: 1, maxRoles: 2, maxRepositories: 12, maxEnvironments: 4 };
    let refused = 0;
    let accepted = 0;
    fc.assert(
      fc.property(validConfig(large), (config) => {
        let problems: readonly { path: string; message: string }[] = [];
        try {
          validateConfig(config);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          problems = error.problems;
        }
        if (problems.length === 0) {
          accepted++;
          for (const { policy } of rolesOf(config))
            expect(JSON.stringify(policy).replace(/\s/g, '').length).toBeLessThanOrEqual(DEFAULT_TRUST_POLICY_QUOTA);
          return;
        }
        refused++;
        for (const problem of problems) {
          expect(problem.path).toMatch(/^accounts\[\d+\]\.roles\[\d+\]\.repositories$/);
          const size = Number(/would be (\d+) characters/.exec(problem.message)?.[1]);
          expect(size).toBeGreaterThan(DEFAULT_TRUST_POLICY_QUOTA);
        }
      }),
      { numRuns: RUNS },
    );
    // Both branches must have been exercised, or the property proved nothing.
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  });

  it('synthesizes to the same bytes from the same configuration', () => {
    fc.assert(
      fc.property(validConfig(), (config) => {
        const copy = JSON.parse(JSON.stringify(config));
        expect(synthesizeStacks(copy)).toEqual(synthesizeStacks(config));
      }),
      { numRuns: RUNS },
    );
  });

  it('writes byte-identical files through the real synth entry point, run twice', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'bitbucket-oidc-determinism-'));
    const tree = (dir: string): Record<string, string> =>
      Object.fromEntries(
        readdirSync(dir).flatMap((name) => {
          const file = path.join(dir, name);
          return statSync(file).isDirectory()
            ? Object.entries(tree(file)).map(([k, v]) => [`${name}/${k}`, v])
            : [[name, readFileSync(file, 'utf8')]];
        }),
      );
    try {
      let run = 0;
      fc.assert(
        fc.property(validConfig(), (config) => {
          run++;
          const file = path.join(root, `config-${run}.json`);
          writeFileSync(file, JSON.stringify(config));
          const outputs = ['a', 'b'].map((side) => {
            const outdir = path.join(root, `out-${run}-${side}`);
            const code = synthesize({ env: { BITBUCKET_OIDC_CONFIG: file }, outdir, stdout: () => undefined, stderr: () => undefined });
            expect(code).toBe(0);
            return tree(outdir);
          });
          // A bootstrap and a workload stack per account.
          expect(Object.keys(outputs[0]).filter((f) => f.endsWith('cdk.tf.json'))).toHaveLength(config.accounts.length * 2);
          expect(outputs[1]).toEqual(outputs[0]);
        }),
        { numRuns: 5 },
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is decided alike by the project evaluator, iam-simulate and the expectation, for generated tokens', async () => {
    let cases = 0;
    let allowed = 0;
    await fc.assert(
      fc.asyncProperty(
        validConfig().chain((config) => fc.tuple(fc.constant(config), fc.array(token(config), { minLength: 6, maxLength: 6 }))),
        async ([config, tokens]) => {
          const synthesized = synthesizedRoles(config);
          for (const account of config.accounts) {
            for (const role of account.roles) {
              const built = synthesized.find((s) => s.account === account.name && s.name === role.name)!;
              const meaning = roleMeaning(config, account, role);
              for (const t of tokens) {
                // Tokens are drawn for the whole configuration; place each in this role's account and range.
                const placed: TokenCase = {
                  ...t,
                  accountId: t.accountId === 'ROLE' ? account.accountId : t.accountId,
                  sourceIp: t.sourceIp === 'INSIDE' ? insideAddress(meaning.cidrs) : t.sourceIp,
                };
                const decisions = await decideThreeWays(built, meaning, placed);
                cases++;
                if (decisions.expected === 'ALLOW') allowed++;
                expect({ token: placed, ...decisions }).toEqual({
                  token: placed,
                  evaluator: decisions.expected,
                  engine: decisions.expected,
                  expected: decisions.expected,
                });
              }
            }
          }
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    ); // no shrinking: each step would synthesize again
    expect(cases).toBeGreaterThanOrEqual(RUNS * 6);
    // Admitted tokens must be among them, or agreement would only mean "both deny".
    expect(allowed).toBeGreaterThan(0);
    process.stdout.write(`properties: ${cases} generated token cases (${allowed} ALLOW) agreed three ways\n`);
  }, 60_000);
});

/** An address inside the first CIDR, or a documentation address when there is none. */
function insideAddress(cidrs: string[]): string {
  return cidrs.length === 0 ? '198.51.100.20' : bitsToIp(lastAddressBits(cidrs[0]));
}

/** Tokens for a configuration: mostly near its repositories, environments and audiences. */
function token(config: Json): fc.Arbitrary<TokenCase> {
  const repositories: Json[] = config.accounts.flatMap((a: Json) => a.roles.flatMap((r: Json) => r.repositories ?? []));
  const repo =
    repositories.length === 0
      ? configUuid.map(claimUuid)
      : fc.oneof(fc.constantFrom(...repositories.map((r) => claimUuid(r.uuid))), configUuid.map(claimUuid));
  const envs = repositories.flatMap((r) => r.environments ?? []).map(claimUuid);
  const env = fc.oneof(fc.constant(undefined), configUuid.map(claimUuid), ...(envs.length === 0 ? [] : [fc.constantFrom(...envs)]));
  const step = configUuid.map(claimUuid);
  // Prefixes some role admits ({REPO}: or {REPO}:{ENV}:), so that admitted tokens are frequent.
  const prefixes = repositories.flatMap((r) =>
    r.environments === undefined ? [`${claimUuid(r.uuid)}:`] : r.environments.map((e: string) => `${claimUuid(r.uuid)}:${claimUuid(e)}:`),
  );
  const stem = fc.oneof(
    { weight: 1, arbitrary: fc.tuple(repo, env).map(([r, e]) => (e === undefined ? `${r}:` : `${r}:${e}:`)) },
    ...(prefixes.length === 0 ? [] : [{ weight: 2, arbitrary: fc.constantFrom(...prefixes) }]),
  );
  const mutation = fc.oneof(
    { weight: 6, arbitrary: fc.constant('none') },
    { weight: 1, arbitrary: fc.constantFrom('upper', 'bare', 'no-step', 'extra', 'literal', 'absent') },
  );
  const sub = fc.tuple(stem, step, mutation, fc.constantFrom('', '*', '{}', '?', '{REPO}:*')).map(([prefix, s, how, literal]) => {
    const sub = `${prefix}${s}`;
    switch (how) {
      case 'upper':
        return sub.toUpperCase();
      case 'bare':
        return sub.replace(/[{}]/g, '');
      case 'no-step':
        return prefix.slice(0, -1);
      case 'extra':
        return `${sub}:{extra}`;
      case 'literal':
        return literal;
      case 'absent':
        return undefined;
      default:
        return sub;
    }
  });
  const issuer = `https://api.bitbucket.org/2.0/workspaces/${config.workspace}/pipelines-config/identity/oidc`;
  const iss = fc.oneof(
    { weight: 8, arbitrary: fc.constant(issuer) },
    fc.constant(`${issuer}/`),
    fc.constant(issuer.replace(`/${config.workspace}/`, '/someone-else/')),
  );
  const audiences = [`ari:cloud:bitbucket::workspace/${bareUuid(config.workspaceUuid)}`, ...(config.audiences ?? [])];
  const aud = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...audiences) },
    fc.constantFrom(undefined, '', '*', 'sts.amazonaws.com'),
    fc.string({ maxLength: 20 }),
  );
  const sourceIp = fc.oneof(
    { weight: 4, arbitrary: fc.constant('INSIDE') },
    fc.constant(undefined),
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.')),
  );
  const accountId = fc.oneof({ weight: 8, arbitrary: fc.constant('ROLE') }, fc.constant('999988887777'));
  return fc.record({ label: fc.constant('generated'), iss, aud, sub, accountId, sourceIp });
}
