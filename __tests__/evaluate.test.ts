/** The project's IAM evaluator: the semantics the trust policy tests rely on. */
import { cidrContains, evaluateTrustPolicy, wildcardMatch } from '../src/iam/evaluate';
import { Conditions, policyDocument, PolicyStatement } from '../src/iam/policy';

const PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/example.com';
const ACTION = 'sts:AssumeRoleWithWebIdentity';

function allow(condition?: Conditions, extra: Partial<PolicyStatement> = {}): PolicyStatement {
  return { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: ACTION, ...(condition ? { Condition: condition } : {}), ...extra };
}

function decision(statements: PolicyStatement[], values: Record<string, string | string[] | undefined>, principal = PROVIDER) {
  return evaluateTrustPolicy(policyDocument(...statements), { action: ACTION, federatedPrincipal: principal, values }).decision;
}

describe('StringLike wildcard matching', () => {
  it.each([
    ['{a}:*', '{a}:{b}', true],
    ['{a}:*', '{a}:', true],
    ['{a}:*', '{a}', false],
    ['{a}:{e}:*', '{a}:{b}', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*', '', true],
    ['{a}:*', '{A}:{b}', false],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
  ])('pattern %s against %s is %s (braces literal, case-sensitive)', (pattern, value, expected) => {
    expect(wildcardMatch(pattern, value)).toBe(expected);
  });
});

describe('CIDR matching', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['34.199.54.113/32', '34.199.54.113', true],
    ['2401:1d80::/32', '2401:1d80:ffff::1', true],
    ['2401:1d80::/32', '2401:1d81::1', false],
    ['10.0.0.0/8', '2401:1d80::1', undefined],
  ])('%s contains %s: %s', (cidr, address, expected) => {
    expect(cidrContains(cidr, address)).toBe(expected);
  });
});

describe('trust policy evaluation', () => {
  it('denies by default when no statement applies', () => {
    expect(decision([allow({ StringEquals: { k: 'v' } })], { k: 'other' })).toBe('DENY');
  });
  it('allows when principal, action and every condition match', () => {
    expect(decision([allow({ StringEquals: { k: 'v' }, StringLike: { s: 'a*' } })], { k: 'v', s: 'abc' })).toBe('ALLOW');
  });
  it('denies a request from another federated principal', () => {
    expect(decision([allow()], {}, 'arn:aws:iam::123456789012:oidc-provider/other.example.com')).toBe('DENY');
  });
  it('denies another action', () => {
    expect(
      evaluateTrustPolicy(policyDocument(allow()), { action: 'sts:AssumeRole', federatedPrincipal: PROVIDER, values: {} }).decision,
    ).toBe('DENY');
  });
  it('lets an explicit Deny win over an Allow', () => {
    expect(decision([allow(), { ...allow(), Effect: 'Deny' }], {})).toBe('DENY');
  });
  it('treats several values of one key as alternatives', () => {
    expect(decision([allow({ StringEquals: { k: ['a', 'b'] } })], { k: 'b' })).toBe('ALLOW');
  });
  it('fails a condition on a missing key, unless IfExists or negated', () => {
    expect(decision([allow({ StringEquals: { k: 'v' } })], {})).toBe('DENY');
    expect(decision([allow({ StringEqualsIfExists: { k: 'v' } })], {})).toBe('ALLOW');
    expect(decision([allow({ StringNotEquals: { k: 'v' } })], {})).toBe('ALLOW');
  });
  it('shows why ForAllValues is avoided: it passes a request without the key', () => {
    expect(decision([allow({ 'ForAllValues:StringLike': { k: 'v*' } })], {})).toBe('ALLOW');
    expect(decision([allow({ StringLike: { k: 'v*' } })], {})).toBe('DENY');
  });
  it('evaluates Null on presence of a key', () => {
    expect(decision([allow({ Null: { k: 'false' } })], { k: 'x' })).toBe('ALLOW');
    expect(decision([allow({ Null: { k: 'false' } })], {})).toBe('DENY');
  });
  it('denies on an operator it does not understand, and says so', () => {
    const result = evaluateTrustPolicy(policyDocument(allow({ NumericLessThan: { k: '3' } })), {
      action: ACTION,
      federatedPrincipal: PROVIDER,
      values: { k: '1' },
    });
    expect(result.decision).toBe('DENY');
    expect(result.statements[0].conditions[0]).toMatchObject({ operator: 'NumericLessThan', unsupported: true, matched: false });
  });
  it('reports expected and actual values of each condition', () => {
    const result = evaluateTrustPolicy(policyDocument(allow({ StringLike: { sub: '{r}:*' } })), {
      action: ACTION,
      federatedPrincipal: PROVIDER,
      values: { sub: '{x}:{s}' },
    });
    expect(result.statements[0].conditions).toEqual([
      { operator: 'StringLike', key: 'sub', expected: ['{r}:*'], actual: '{x}:{s}', matched: false },
    ]);
  });
});
