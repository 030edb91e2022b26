/**
 * The `state` section's validation: the state account, the encryption and the version expiry. Each
 * problem names the field, quotes the value, states the rule and gives an example, and every problem
 * of a configuration is reported at once.
 */
import { configSchema, FIELDS } from '../src/config/fields';
import { NONCURRENT_VERSION_DAYS, STATE_DEFAULTS } from '../src/config/state-section';
import { validateConfig } from '../src/config/validate';
import { exampleConfig } from './support/synth';
import { configProblems } from './support/config-problems';

/** The example with its state section changed. */
function withState(state: Record<string, unknown>, change: (config: any) => void = () => undefined): any {
  const config = exampleConfig();
  config.state = { ...config.state, ...state };
  change(config);
  return config;
}

const problemsOf = (config: unknown) => configProblems(config);

/** Asserts exactly one problem, at `path`, whose message contains each fragment (value, rule, example). */
function expectProblem(config: unknown, path: string, ...fragments: string[]): void {
  const found = problemsOf(config);
  expect(found.map((p) => p.path)).toEqual([path]);
  for (const fragment of fragments) expect(found[0].message).toContain(fragment);
}

describe('state.account', () => {
  it('resolves to the named account, with its ID, and applies the defaults', () => {
    const { config } = validateConfig(exampleConfig());
    expect(config.state).toEqual({
      bucket: 'acme-terraform-state-example',
      region: 'eu-west-1',
      keyPrefix: 'bitbucket-oidc',
      keyLayout: 'account-id',
      partition: 'aws',
      account: { name: 'production', accountId: '444455556666' },
      encryption: { type: 'SSE-S3' },
      noncurrentVersionExpirationDays: 90,
    });
  });

  it('refuses a name that is not one of the accounts, listing them', () => {
    expectProblem(
      withState({ account: 'prod' }),
      'state.account',
      '"prod" must be the name of one of the accounts ("staging", "production")',
      'bootstrap stack creates the bucket',
      'e.g. "staging"',
    );
  });

  it('refuses a name that is no account name at all, with the rule', () => {
    expectProblem(
      withState({ account: 'Production' }),
      'state.account',
      '"Production" must be 1-48 characters of lower-case letters',
      'e.g. "production"',
    );
  });

  it("refuses a bucket region of another partition than the state account's", () => {
    const found = problemsOf(withState({ region: 'cn-north-1' }));
    expect(new Set(found.map((p) => p.path))).toEqual(new Set(['state.region']));
    expect(found[0].message).toContain('"cn-north-1" is in partition aws-cn, and the state account "production" is in aws (eu-west-1)');
    expect(found[0].message).toContain('e.g. "eu-west-1"');
  });

  it('warns, without it, that the bucket is managed outside this project', () => {
    const config = exampleConfig();
    delete config.state.account;
    expect(validateConfig(config).warnings).toContainEqual(
      expect.stringContaining(
        'state.account is not set, so the state bucket "acme-terraform-state-example" is managed outside this project',
      ),
    );
    expect(validateConfig(exampleConfig()).warnings.filter((w) => w.includes('state.account'))).toEqual([]);
  });
});

describe('state.encryption', () => {
  it('is SSE-S3 unless set', () => {
    expect(validateConfig(withState({ encryption: 'SSE-S3' })).config.state.encryption).toEqual({ type: 'SSE-S3' });
  });

  it('creates a key with "SSE-KMS"', () => {
    expect(validateConfig(withState({ encryption: 'SSE-KMS' })).config.state.encryption).toEqual({ type: 'SSE-KMS', key: 'created' });
  });

  it("takes an existing key of the bucket's region by ARN", () => {
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(validateConfig(withState({ encryption: { kmsKeyArn } })).config.state.encryption).toEqual({
      type: 'SSE-KMS',
      key: 'existing',
      kmsKeyArn,
    });
  });

  it.each([
    ["a string of S3's API", 'AES256'],
    ['lower case', 'sse-kms'],
    ['a boolean', true],
    ['a list', ['SSE-KMS']],
  ])('refuses %s, naming the accepted values with an example', (_what, value) => {
    expectProblem(
      withState({ encryption: value }),
      'state.encryption',
      `${JSON.stringify(value)} must be "SSE-S3", "SSE-KMS" or {"kmsKeyArn": "<ARN of an existing key>"}`,
      'e.g. "SSE-KMS" or {"kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/',
    );
  });

  it('refuses a misspelt key field, naming the known one, and asks for the ARN', () => {
    const found = problemsOf(withState({ encryption: { kmsKeyId: 'x' } }));
    expect(found.map((p) => p.path)).toEqual(['state.encryption.kmsKeyId', 'state.encryption.kmsKeyArn']);
    expect(found[0].message).toContain('unknown field (known fields: kmsKeyArn');
    expect(found[1].message).toContain('is required, e.g. "arn:aws:kms:eu-west-1:123456789012:key/');
  });

  it.each([
    ['an alias', 'arn:aws:kms:eu-west-1:444455556666:alias/state'],
    ['a key of another region', 'arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    ['a key of another partition', 'arn:aws-cn:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    ['a key ID without its ARN', '1234abcd-12ab-34cd-56ef-1234567890ab'],
  ])("refuses %s as kmsKeyArn, stating the rule (a key of the bucket's region)", (_what, kmsKeyArn) => {
    expectProblem(
      withState({ encryption: { kmsKeyArn } }),
      'state.encryption.kmsKeyArn',
      `${JSON.stringify(kmsKeyArn)} must be the ARN of a KMS key (not an alias) in the bucket's region eu-west-1`,
      'e.g. "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"',
    );
  });

  it('refuses "SSE-KMS" without state.account (nobody would create the key)', () => {
    const config = withState({ encryption: 'SSE-KMS' });
    delete config.state.account;
    expectProblem(
      config,
      'state.encryption',
      '"SSE-KMS" creates a KMS key in the state account\'s bootstrap stack, so it needs "state.account"',
      'e.g. "account": "production"',
    );
  });

  it('accepts an existing key without state.account (a bucket managed elsewhere), and grants the roles that key', () => {
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const config = withState({ encryption: { kmsKeyArn } });
    delete config.state.account;
    const { config: resolved } = validateConfig(config);
    expect(JSON.stringify(resolved.accounts[0].pipelineRoles[0].inlinePolicies)).toContain(kmsKeyArn);
  });
});

describe('state.noncurrentVersionExpirationDays', () => {
  it.each([NONCURRENT_VERSION_DAYS.min, NONCURRENT_VERSION_DAYS.max])('accepts %d (a bound)', (days) => {
    expect(validateConfig(withState({ noncurrentVersionExpirationDays: days })).config.state.noncurrentVersionExpirationDays).toBe(days);
  });

  it.each([0, 3651, -1, 1.5, '90', null])('refuses %p, with the range and the default as example', (days) => {
    expectProblem(
      withState({ noncurrentVersionExpirationDays: days }),
      'state.noncurrentVersionExpirationDays',
      `${JSON.stringify(days)} must be a whole number of days from 1 to 3650, e.g. 90`,
    );
  });

  it('refuses it without state.account (a bucket managed elsewhere keeps its own rules)', () => {
    const config = withState({ noncurrentVersionExpirationDays: 30 });
    delete config.state.account;
    expectProblem(config, 'state.noncurrentVersionExpirationDays', '30 is used only with "state.account"', 'e.g. "account": "production"');
  });
});

describe('the state section as a whole', () => {
  it('reports every problem at once', () => {
    const found = problemsOf(withState({ account: 'prod', encryption: 'AES256', noncurrentVersionExpirationDays: 0 }));
    expect(found.map((p) => p.path).sort()).toEqual(['state.account', 'state.encryption', 'state.noncurrentVersionExpirationDays']);
  });

  it('refuses a pipeline account of another partition than the bucket', () => {
    const config = exampleConfig();
    delete config.state.account;
    config.accounts[0].region = 'cn-north-1';
    const found = problemsOf(config);
    expect(found.map((p) => p.path)).toContain('state.region');
    expect(found.find((p) => p.path === 'state.region')?.message).toContain(
      'the pipeline roles of account "staging" (cn-north-1) are in aws-cn: a role cannot reach a bucket of another partition',
    );
  });

  it('declares its fields once, for the validator and the JSON Schema alike, with the same bounds and defaults', () => {
    expect(Object.keys(FIELDS.state.optional)).toEqual([
      'keyPrefix',
      'keyLayout',
      'account',
      'encryption',
      'noncurrentVersionExpirationDays',
    ]);
    const schema = (configSchema().definitions as Record<string, any>).state.properties;
    expect(schema.noncurrentVersionExpirationDays).toMatchObject({
      minimum: NONCURRENT_VERSION_DAYS.min,
      maximum: NONCURRENT_VERSION_DAYS.max,
      default: STATE_DEFAULTS.noncurrentVersionExpirationDays,
    });
    expect(schema.encryption.default).toBe(STATE_DEFAULTS.encryption);
    expect(schema.keyPrefix.default).toBe(STATE_DEFAULTS.keyPrefix);
    expect(schema.keyLayout).toMatchObject({ enum: ['account-id', 'account-name'], default: STATE_DEFAULTS.keyLayout });
  });

  it('lays the state keys out by account ID unless told otherwise, and refuses another layout by name', () => {
    const { config } = validateConfig(withState({ keyLayout: 'account-name' }));
    expect(config.state.keyLayout).toBe('account-name');
    expectProblem(
      withState({ keyLayout: 'by-id' }),
      'state.keyLayout',
      '"by-id" must be "account-id" or "account-name"',
      'e.g. "account-id"',
    );
    expectProblem(withState({ keyLayout: true }), 'state.keyLayout', 'must be a string');
  });
});
