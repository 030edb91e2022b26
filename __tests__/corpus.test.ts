/**
 * The bad-input corpus: one malformed configuration per file in `__tests__/corpus/`, each run through
 * the real synth entry point (`synthesize`, as `node dist/main.js` runs it). For every case the synth
 * must exit non-zero, name the expected field path(s) in its error output, and write no stack. A few
 * `pass-*` files are the other side of the boundaries (64-character names, 3600 and 43200 seconds...)
 * and must synthesize.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { synthesize } from '../src/cli/synth';

const CORPUS = path.join(__dirname, 'corpus');

/** A malformed configuration and what the error must say. */
interface BadCase {
  /** File name in `corpus/`, without `.json`. */
  readonly file: string;
  /** Field paths the error must name, each as `<path>: ` at the start of a problem line. */
  readonly paths: readonly string[];
  /** Words of the rule the error must state, when the path alone does not say enough. */
  readonly says?: string;
}

const BAD: readonly BadCase[] = [
  // Not JSON, or not an object.
  { file: 'invalid-json-trailing-comma', paths: [], says: 'is not valid JSON at line 7' },
  { file: 'invalid-json-comment', paths: [], says: 'is not valid JSON at line 2' },
  { file: 'invalid-json-empty-file', paths: [], says: 'is not valid JSON' },
  { file: 'invalid-json-truncated', paths: [], says: 'is not valid JSON' },
  { file: 'invalid-json-single-quotes', paths: [], says: 'is not valid JSON' },
  { file: 'top-level-array', paths: [], says: 'must be an object' },
  { file: 'top-level-null', paths: [], says: 'null must be an object' },
  // Missing fields.
  { file: 'missing-workspace', paths: ['workspace'], says: 'is required' },
  { file: 'missing-workspace-uuid', paths: ['workspaceUuid'], says: 'is required' },
  { file: 'missing-state', paths: ['state'], says: 'is required' },
  { file: 'missing-accounts', paths: ['accounts'], says: 'is required' },
  { file: 'missing-state-bucket', paths: ['state.bucket'], says: 'is required' },
  { file: 'missing-account-id', paths: ['accounts[0].accountId'], says: 'is required' },
  { file: 'missing-role-name', paths: ['accounts[0].roles[0].name'], says: 'is required' },
  { file: 'missing-repository-name-and-uuid', paths: ['accounts[0].roles[0].repositories[0]'], says: 'needs the repository\'s "name"' },
  // Names without the lock file that resolves them (there is none beside the corpus).
  { file: 'names-without-lock', paths: ['workspaceUuid', 'accounts[0].roles[0].repositories[0].name'], says: 'npm run resolve' },
  // Wrong types.
  { file: 'account-id-as-number', paths: ['accounts[0].accountId'], says: 'must be a string' },
  { file: 'roles-as-object', paths: ['accounts[0].roles'], says: 'must be a list' },
  { file: 'accounts-as-object', paths: ['accounts'], says: 'must be a list' },
  { file: 'role-is-null', paths: ['accounts[0].roles[0]'], says: 'must be an object' },
  { file: 'allow-all-as-string', paths: ['accounts[0].roles[0].allowAllRepositories'], says: 'must be true or false' },
  { file: 'session-duration-as-string', paths: ['accounts[0].roles[0].maxSessionDurationSeconds'], says: 'whole number' },
  { file: 'environments-as-string', paths: ['accounts[0].roles[0].repositories[0].environments'], says: 'must be a list' },
  { file: 'repositories-null', paths: ['accounts[0].roles[0].repositories'], says: 'must be a list' },
  // Malformed and duplicate UUIDs.
  { file: 'workspace-uuid-malformed', paths: ['workspaceUuid'], says: 'must be a UUID' },
  { file: 'workspace-uuid-unbalanced-brace', paths: ['workspaceUuid'], says: 'must be a UUID' },
  { file: 'repository-uuid-too-short', paths: ['accounts[0].roles[0].repositories[0].uuid'], says: 'must be a UUID' },
  { file: 'repository-uuid-unbalanced-brace', paths: ['accounts[0].roles[0].repositories[0].uuid'], says: 'must be a UUID' },
  { file: 'repository-uuid-with-spaces', paths: ['accounts[0].roles[0].repositories[0].uuid'], says: 'must be a UUID' },
  { file: 'environment-uuid-not-hex', paths: ['accounts[0].roles[0].repositories[0].environments[0]'], says: 'must be a UUID' },
  { file: 'environment-uuid-unbalanced-brace', paths: ['accounts[0].roles[0].repositories[0].environments[0]'], says: 'must be a UUID' },
  { file: 'duplicate-repository-uuids', paths: ['accounts[0].roles[0].repositories[1].uuid'], says: 'list each repository once' },
  { file: 'duplicate-environment-uuids', paths: ['accounts[0].roles[0].repositories[0].environments[1]'], says: 'is listed twice' },
  // Role names and session durations (the passing side of each boundary is below).
  { file: 'role-name-65-characters', paths: ['accounts[0].roles[0].name'], says: 'be 1-64 characters' },
  { file: 'role-name-empty', paths: ['accounts[0].roles[0].name'], says: 'be 1-64 characters' },
  { file: 'role-name-with-slash', paths: ['accounts[0].roles[0].name'], says: 'be 1-64 characters' },
  { file: 'session-duration-3599', paths: ['accounts[0].roles[0].maxSessionDurationSeconds'], says: 'from 3600 to 43200' },
  { file: 'session-duration-43201', paths: ['accounts[0].roles[0].maxSessionDurationSeconds'], says: 'from 3600 to 43200' },
  { file: 'session-duration-fractional', paths: ['accounts[0].roles[0].maxSessionDurationSeconds'], says: 'whole number' },
  // Trust policy size.
  { file: 'trust-policy-oversize', paths: ['accounts[0].roles[0].repositories'], says: 'must be at most 2048' },
  { file: 'trust-policy-oversize-for-raised-quota', paths: ['accounts[0].roles[0].repositories'], says: 'must be at most 4096' },
  { file: 'trust-policy-quota-above-maximum', paths: ['trustPolicyMaxSize'], says: 'from 2048 to 8192' },
  // Unknown fields that look like typos of real ones: reported, with the field meant.
  {
    file: 'typo-repositores',
    paths: ['accounts[0].roles[0].repositores', 'accounts[0].roles[0].repositories'],
    says: 'did you mean "repositories"',
  },
  { file: 'typo-enviroments', paths: ['accounts[0].roles[0].repositories[0].enviroments'], says: 'did you mean "environments"' },
  {
    file: 'typo-allow-all-repos',
    paths: ['accounts[0].roles[0].allowAllRepos', 'accounts[0].roles[0].repositories'],
    says: 'did you mean "allowAllRepositories"',
  },
  { file: 'typo-source-ip-cidr', paths: ['accounts[0].roles[0].sourceIpCidr'], says: 'did you mean "sourceIpCidrs"' },
  { file: 'typo-workspace-uuid-case', paths: ['workspaceUUID', 'workspaceUuid'], says: 'did you mean "workspaceUuid"' },
  { file: 'typo-audience-on-role', paths: ['accounts[0].roles[0].audience'], says: 'did you mean "audiences"' },
  {
    file: 'typo-max-session-duration',
    paths: ['accounts[0].roles[0].maxSessionDuration'],
    says: 'did you mean "maxSessionDurationSeconds"',
  },
  { file: 'unknown-field-proto', paths: ['accounts[0].roles[0].__proto__'], says: 'unknown field' },
  // Empty lists and duplicates.
  { file: 'empty-roles', paths: ['accounts[0].roles'], says: 'at least 1 roles' },
  { file: 'empty-accounts', paths: ['accounts'], says: 'at least 1 accounts' },
  { file: 'empty-environments', paths: ['accounts[0].roles[0].repositories[0].environments'], says: 'is empty' },
  { file: 'empty-repositories', paths: ['accounts[0].roles[0].repositories'], says: 'must list at least one repository' },
  { file: 'no-repository-scope', paths: ['accounts[0].roles[0].repositories'], says: 'must list at least one repository' },
  { file: 'duplicate-account-names', paths: ['accounts[1].name'], says: 'must be unique' },
  { file: 'duplicate-account-ids', paths: ['accounts[1].accountId'], says: 'list each account once' },
  { file: 'duplicate-role-names-by-case', paths: ['accounts[0].roles[1].name'], says: 'IAM ignores case' },
  // Regions, ARNs, providers.
  { file: 'bad-region', paths: ['accounts[0].region'], says: 'must be an AWS region code' },
  { file: 'bad-region-upper-case', paths: ['accounts[0].region'], says: 'must be an AWS region code' },
  { file: 'bad-state-region', paths: ['state.region'], says: 'must be an AWS region code' },
  { file: 'bad-state-bucket', paths: ['state.bucket'], says: 'must be an S3 bucket name' },
  { file: 'bad-managed-policy-arn', paths: ['accounts[0].roles[0].managedPolicyArns[0]'], says: 'must be an IAM managed policy ARN' },
  {
    file: 'bad-permissions-boundary-arn',
    paths: ['accounts[0].permissionsBoundary.arn'],
    says: 'must be the ARN of a customer-managed policy of this account',
  },
  { file: 'retired-permissions-boundary-arn', paths: ['accounts[0].roles[0].permissionsBoundaryArn'], says: 'is no longer a role setting' },
  { file: 'existing-provider-of-another-workspace', paths: ['accounts[0].existingProviderArn'], says: 'must be the provider of issuer' },
  { file: 'existing-provider-of-another-account', paths: ['accounts[0].existingProviderArn'], says: 'in account 123456789012' },
  { file: 'existing-provider-not-an-oidc-provider', paths: ['accounts[0].existingProviderArn'], says: 'must be an IAM OIDC provider ARN' },
  { file: 'existing-provider-with-trailing-slash', paths: ['accounts[0].existingProviderArn'], says: 'must be the provider of issuer' },
  // Source CIDRs and thumbprints.
  { file: 'cidr-prefix-too-long', paths: ['accounts[0].roles[0].sourceIpCidrs[0]'], says: 'CIDR block' },
  { file: 'cidr-not-an-address', paths: ['accounts[0].roles[0].sourceIpCidrs[0]'], says: 'CIDR block' },
  { file: 'cidr-without-prefix', paths: ['accounts[0].roles[0].sourceIpCidrs[0]'], says: 'CIDR block' },
  { file: 'cidr-octet-out-of-range', paths: ['accounts[0].roles[0].sourceIpCidrs[0]'], says: 'CIDR block' },
  { file: 'thumbprint-too-short', paths: ['thumbprints[0]'], says: '40 hexadecimal characters' },
  { file: 'thumbprint-not-hex', paths: ['thumbprints[0]'], says: '40 hexadecimal characters' },
  { file: 'too-many-thumbprints', paths: ['thumbprints'], says: 'at most 5' },
  // Trust scope and audiences.
  {
    file: 'allow-all-with-repositories',
    paths: ['accounts[0].roles[0].repositories'],
    says: 'must be omitted when allowAllRepositories is true',
  },
  {
    file: 'role-audience-not-a-workspace-audience',
    paths: ['accounts[0].roles[0].audiences[0]'],
    says: "must be one of the workspace's audiences",
  },
  { file: 'role-audiences-empty', paths: ['accounts[0].roles[0].audiences'], says: 'at least 1' },
  { file: 'custom-audience-empty', paths: ['audiences[0]'], says: '1-255 printable characters' },
  { file: 'custom-audience-repeats-workspace-audience', paths: ['audiences[0]'], says: 'is the workspace audience' },
  // Other values.
  { file: 'workspace-upper-case', paths: ['workspace'], says: 'lower-case letters' },
  { file: 'workspace-issuer-of-another-host', paths: ['workspace'], says: 'lower-case letters' },
  { file: 'role-path-without-slashes', paths: ['accounts[0].roles[0].path'], says: 'start and end with /' },
  { file: 'tag-key-reserved', paths: ['tags'], says: 'not starting with aws:' },
  { file: 'account-id-11-digits', paths: ['accounts[0].accountId'], says: '12-digit' },
  { file: 'account-name-upper-case', paths: ['accounts[0].name'], says: 'lower-case letters' },
  { file: 'inline-policy-bad-action', paths: ['accounts[0].roles[0].inlinePolicies.upload.Statement[0].Action'], says: 'service:Action' },
  {
    file: 'condition-operator-misspelt',
    paths: ['accounts[0].roles[0].inlinePolicies.upload.Statement[0].Condition.StringEqual'],
    says: 'is not an IAM condition operator',
  },
  // Every problem in one run, not the first one only.
  {
    file: 'several-problems-at-once',
    paths: [
      'workspace',
      'accounts[0].accountId',
      'accounts[0].roles[0].name',
      'accounts[0].roles[0].maxSessionDurationSeconds',
      'accounts[0].roles[0].repositories[0].enviroments',
    ],
    says: '5 problems',
  },
];

/** Boundaries and forgiving input that must synthesize. */
const GOOD: readonly string[] = [
  'pass-role-name-64-characters',
  'pass-session-duration-3600',
  'pass-session-duration-43200',
  'pass-braced-upper-case-uuids',
  'pass-oversize-policy-under-raised-quota',
];

/** Temporary directories of this run, removed at the end. */
const created: string[] = [];

function runSynth(file: string): { code: number; stdout: string; stderr: string; outdir: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'bitbucket-oidc-corpus-'));
  created.push(root);
  const outdir = path.join(root, 'cdktf.out');
  const out: string[] = [];
  const err: string[] = [];
  const code = synthesize({
    env: { BITBUCKET_OIDC_CONFIG: path.join(CORPUS, `${file}.json`) },
    cwd: CORPUS,
    outdir,
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), outdir };
}

afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

describe('the bad-input corpus', () => {
  it('has one table row per file and at least 40 malformed configurations', () => {
    const files = readdirSync(CORPUS)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    expect([...BAD.map((c) => c.file), ...GOOD].sort()).toEqual(files);
    expect(new Set(BAD.map((c) => c.file)).size).toBe(BAD.length);
    expect(BAD.length).toBeGreaterThanOrEqual(40);
  });

  describe.each(BAD)('$file', ({ file, paths, says }) => {
    const result = runSynth(file);

    it('exits non-zero and writes no stack', () => {
      expect(result.code).not.toBe(0);
      expect(existsSync(path.join(result.outdir, 'stacks'))).toBe(false);
      expect(result.stdout).toBe('');
    });

    it(`names ${paths.length === 0 ? 'the whole file' : paths.join(', ')} in the error`, () => {
      const problems = result.stderr
        .split('\n')
        .filter((line) => line.startsWith('  - '))
        .map((line) => line.slice(4));
      expect(problems.length).toBeGreaterThan(0);
      for (const fieldPath of paths) {
        expect(problems.some((problem) => problem.startsWith(`${fieldPath}: `))).toBe(true);
      }
      if (says !== undefined) expect(result.stderr).toContain(says);
      expect(result.stderr).toContain('Nothing was synthesized');
    });
  });

  describe.each(GOOD)('%s', (file) => {
    it('synthesizes its stacks (the passing side of the boundary)', () => {
      const result = runSynth(file);
      expect(result.stderr).not.toContain('error:');
      expect(result.code).toBe(0);
      expect(existsSync(path.join(result.outdir, 'stacks', 'bitbucket-oidc-production-workload', 'cdk.tf.json'))).toBe(true);
    });
  });
});
