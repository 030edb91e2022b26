/**
 * Deterministic generator of valid configurations of any size, for the differential tests and the
 * benchmark (`bench/bench.ts`): the same options always give the same configuration.
 *
 * Roles cycle through the shapes users write: repository-wide, environment-scoped, several
 * repositories (some with environments), source-IP-limited, and (rarely) workspace-wide, spread
 * round-robin over the accounts, with managed and inline policies like the example's.
 */

/** Options of `generateConfig`. */
export interface GenerateOptions {
  /** Number of roles in total. */
  readonly roles: number;
  /** Number of AWS accounts the roles are spread over. @default 1 + floor(roles / 100), at most 10 */
  readonly accounts?: number;
  /** Seed of the pseudo-random UUIDs. @default 1 */
  readonly seed?: number;
  /** Custom audiences of the workspace. @default [] */
  readonly customAudiences?: readonly string[];
  /** One role in this many trusts the whole workspace (`allowAllRepositories`). @default 0 - never */
  readonly allowAllEvery?: number;
  /**
   * A `pipeline` section, a deployment environment for each account, and the state bucket managed by
   * the first account's bootstrap stack, as a team running this project from its own pipeline has.
   * @default false
   */
  readonly pipeline?: boolean;
}

/** A small seeded PRNG (mulberry32): fast, deterministic, good enough for test data. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random version-4 UUID, lower case, without braces. */
export function randomUuid(random: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const variant = '89ab'[Math.floor(random() * 4)];
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
}

const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2', 'eu-central-1'];

/** A valid configuration (plain JSON, as a user would write it) with `roles` roles. */
export function generateConfig(options: GenerateOptions): Record<string, unknown> {
  const { roles, seed = 1, customAudiences = [], allowAllEvery = 0, pipeline = false } = options;
  const requested = options.accounts ?? 1 + Math.floor(roles / 100);
  // Without a pipeline section every account needs a role of its own.
  const accountCount = Math.max(1, pipeline ? requested : Math.min(requested, Math.max(roles, 1)));
  const random = prng(seed);
  const uuid = () => randomUuid(random);
  // A pool of repositories that roles draw from, as in a real workspace; each repository has its own
  // deployment environments in each account (one environment never deploys to two accounts).
  const pool = Array.from({ length: Math.max(4, Math.ceil(roles / 3)) }, () => ({
    uuid: `{${uuid()}}`,
    environments: Array.from({ length: accountCount }, () => [`{${uuid()}}`, `{${uuid()}}`, `{${uuid()}}`]),
  }));

  const accounts = Array.from({ length: accountCount }, (_, a) => ({
    name: `account-${String(a + 1).padStart(2, '0')}`,
    accountId: String(100000000000 + (a + 1) * 1111111).padStart(12, '0'),
    region: REGIONS[a % REGIONS.length],
    ...(pipeline ? { deploymentEnvironment: { uuid: `{${uuid()}}`, name: `Account ${a + 1}` } } : {}),
    roles: [] as Record<string, unknown>[],
  }));

  for (let r = 0; r < roles; r++) {
    const account = r % accountCount;
    const pick = () => {
      const repo = pool[Math.floor(random() * pool.length)];
      return { uuid: repo.uuid, environments: repo.environments[account] };
    };
    const name = `bitbucket-role-${String(r + 1).padStart(4, '0')}`;
    const shape = r % 5;
    let trust: Record<string, unknown>;
    if (allowAllEvery > 0 && r % allowAllEvery === allowAllEvery - 1) {
      trust = { allowAllRepositories: true };
    } else if (shape === 0) {
      trust = { repositories: [{ uuid: pick().uuid }] };
    } else if (shape === 1) {
      const repo = pick();
      trust = { repositories: [{ uuid: repo.uuid, environments: repo.environments.slice(0, 2) }] };
    } else if (shape === 2) {
      const [a, b, c] = [pick(), pick(), pick()];
      const distinct = [...new Map([a, b, c].map((repo) => [repo.uuid, repo])).values()];
      trust = {
        repositories: distinct.map((repo, i) =>
          i === 0 ? { uuid: repo.uuid, environments: [repo.environments[0]] } : { uuid: repo.uuid },
        ),
      };
    } else if (shape === 3) {
      trust = { repositories: [{ uuid: pick().uuid }], sourceIpCidrs: ['34.199.54.113/32', '104.192.136.0/21', '2401:1d80:1010::/64'] };
    } else {
      const repo = pick();
      trust = { repositories: [{ uuid: repo.uuid, environments: [repo.environments[2]] }] };
    }
    // A role that every step may assume reads metadata only (the security findings refuse more).
    const everyStep =
      (trust.allowAllRepositories as boolean | undefined) === true ||
      (trust.repositories as { environments?: string[] }[]).some((repo) => repo.environments === undefined);
    const policies = everyStep
      ? { managedPolicyArns: ['arn:aws:iam::aws:policy/ViewOnlyAccess'] }
      : {
          inlinePolicies: {
            'upload-artifacts': {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::acme-artifacts/role-${r + 1}/*` }],
            },
          },
        };
    accounts[account].roles.push({ name, description: `Generated role ${r + 1}`, ...trust, ...policies });
  }

  return {
    workspace: 'acme',
    workspaceUuid: `{${uuid()}}`,
    ...(customAudiences.length === 0 ? {} : { audiences: [...customAudiences] }),
    state: { bucket: 'acme-terraform-state', region: 'eu-west-1', ...(pipeline ? { account: accounts[0].name } : {}) },
    ...(pipeline ? { pipeline: { repository: { uuid: `{${uuid()}}` } } } : {}),
    accounts,
  };
}
