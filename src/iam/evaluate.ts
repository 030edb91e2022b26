/**
 * A small IAM policy evaluator for role trust policies: given a policy and the request an
 * `sts:AssumeRoleWithWebIdentity` call makes, it decides ALLOW or DENY as AWS does (an explicit Deny
 * wins, then an Allow, else the implicit deny) and says which condition decided it.
 *
 * It covers what trust policies use: Principal, Action and the String, Arn, IpAddress, Bool and Null
 * operators, with `IfExists` and the `ForAnyValue:` / `ForAllValues:` qualifiers. Other operators
 * never match and are reported as unsupported, so an unknown construct can only deny.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { asList, ConditionOperator, PolicyDocument, PolicyStatement, Principal, statementMatchesAction } from './policy';

/** The values a request carries for condition keys; absent keys are undefined. */
export type RequestValues = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What an assume-role call asks for. */
export interface AssumeRoleRequest {
  /** e.g. `sts:AssumeRoleWithWebIdentity` */
  readonly action: string;
  /** The federated principal: the ARN of the OIDC provider matching the token's issuer. */
  readonly federatedPrincipal: string;
  /** Condition key values, e.g. `{ '<issuer>:aud': 'ari:...', '<issuer>:sub': '{...}:{...}' }`. */
  readonly values: RequestValues;
}

/** How one condition (operator + key) fared. */
export interface ConditionOutcome {
  readonly operator: string;
  readonly key: string;
  readonly expected: string[];
  readonly actual: string | readonly string[] | undefined;
  readonly matched: boolean;
  /** Set when the operator is outside what this evaluator understands. */
  readonly unsupported?: boolean;
}

/** How one statement fared. */
export interface StatementOutcome {
  readonly index: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  readonly principalMatched: boolean;
  readonly actionMatched: boolean;
  readonly conditions: ConditionOutcome[];
  /** Principal, action and every condition matched: the statement applies to the request. */
  readonly applies: boolean;
}

/** The decision for a request. */
export interface Decision {
  readonly decision: 'ALLOW' | 'DENY';
  readonly reason: 'explicit-allow' | 'explicit-deny' | 'implicit-deny';
  readonly statements: StatementOutcome[];
}

/** Decides whether `request` may assume a role with trust policy `policy`. */
export function evaluateTrustPolicy(policy: PolicyDocument, request: AssumeRoleRequest): Decision {
  const statements = policy.Statement.map((statement, index) => evaluateStatement(statement, index, request));
  if (statements.some((s) => s.applies && s.effect === 'Deny')) {
    return { decision: 'DENY', reason: 'explicit-deny', statements };
  }
  if (statements.some((s) => s.applies && s.effect === 'Allow')) {
    return { decision: 'ALLOW', reason: 'explicit-allow', statements };
  }
  return { decision: 'DENY', reason: 'implicit-deny', statements };
}

function evaluateStatement(statement: PolicyStatement, index: number, request: AssumeRoleRequest): StatementOutcome {
  const principalMatched = principalMatches(statement.Principal, request.federatedPrincipal);
  const actionMatched = statementMatchesAction(statement, request.action, wildcardMatch);
  const conditions: ConditionOutcome[] = [];
  for (const [operator, block] of Object.entries(statement.Condition ?? {})) {
    for (const [key, value] of Object.entries(block ?? {})) {
      conditions.push(evaluateCondition(operator, key, asList(value), request.values[key]));
    }
  }
  return {
    index,
    ...(statement.Sid === undefined ? {} : { sid: statement.Sid }),
    effect: statement.Effect,
    principalMatched,
    actionMatched,
    conditions,
    applies: principalMatched && actionMatched && conditions.every((c) => c.matched),
  };
}

function principalMatches(principal: Principal | undefined, federated: string): boolean {
  if (principal === undefined || !('Federated' in principal)) return false;
  return asList(principal.Federated).includes(federated);
}

type Comparator = (pattern: string, actual: string) => boolean | undefined;

const COMPARATORS: Record<string, { compare: Comparator; negated: boolean }> = {
  StringEquals: { compare: (p, a) => p === a, negated: false },
  StringNotEquals: { compare: (p, a) => p === a, negated: true },
  StringEqualsIgnoreCase: { compare: (p, a) => p.toLowerCase() === a.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { compare: (p, a) => p.toLowerCase() === a.toLowerCase(), negated: true },
  StringLike: { compare: wildcardMatch, negated: false },
  StringNotLike: { compare: wildcardMatch, negated: true },
  ArnEquals: { compare: wildcardMatch, negated: false },
  ArnLike: { compare: wildcardMatch, negated: false },
  ArnNotEquals: { compare: wildcardMatch, negated: true },
  ArnNotLike: { compare: wildcardMatch, negated: true },
  IpAddress: { compare: cidrContains, negated: false },
  NotIpAddress: { compare: cidrContains, negated: true },
  Bool: { compare: (p, a) => p.toLowerCase() === a.toLowerCase(), negated: false },
};

/**
 * One operator on one key. A negated operator (`StringNotEquals`, ...) matches when no expected value
 * matches; a missing key fails every operator but `Null`, negated ones and `...IfExists`, as in IAM.
 */
function evaluateCondition(
  operator: string,
  key: string,
  expected: string[],
  actual: string | readonly string[] | undefined,
): ConditionOutcome {
  const outcome = (matched: boolean, unsupported = false): ConditionOutcome => ({
    operator,
    key,
    expected,
    actual,
    matched,
    ...(unsupported ? { unsupported } : {}),
  });
  if (operator === 'Null') {
    const absent = actual === undefined || (typeof actual !== 'string' && actual.length === 0);
    return outcome(expected.some((e) => (e.toLowerCase() === 'true') === absent));
  }
  const qualifier = /^(ForAnyValue|ForAllValues):/.exec(operator)?.[1];
  const ifExists = operator.endsWith('IfExists');
  const base = operator.replace(/^(ForAnyValue|ForAllValues):/, '').replace(/IfExists$/, '');
  const comparator = COMPARATORS[base];
  if (comparator === undefined) return outcome(false, true);

  const valueMatches = (value: string): boolean => {
    const any = expected.some((pattern) => comparator.compare(pattern, value) === true);
    return comparator.negated ? !any : any;
  };
  const values = actual === undefined ? [] : typeof actual === 'string' ? [actual] : [...actual];

  if (qualifier === 'ForAllValues') {
    // Vacuously true for an absent or empty key: the known weakness of ForAllValues.
    return outcome(values.every(valueMatches));
  }
  if (qualifier === 'ForAnyValue') {
    return outcome(values.some(valueMatches));
  }
  if (values.length === 0) return outcome(ifExists || comparator.negated);
  // A single-valued operator on a multi-valued key: any value may satisfy it.
  return outcome(values.some(valueMatches));
}

/**
 * IAM's `StringLike` matching: `*` is any run of characters, `?` exactly one; everything else,
 * braces included, is literal; case-sensitive.
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  // Iterative glob matching with backtracking on the last `*`: linear in practice, no regex built.
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = v;
    } else if (star !== -1) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether `address` lies in `cidr` (IPv4 or IPv6); undefined when either is malformed. */
export function cidrContains(cidr: string, address: string): boolean | undefined {
  const [network, bitsText] = cidr.includes('/') ? cidr.split('/') : [cidr, undefined];
  const net = parseIp(network);
  const addr = parseIp(address);
  if (net === undefined || addr === undefined || net.bits !== addr.bits) return undefined;
  const prefix = bitsText === undefined ? net.bits : Number(bitsText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > net.bits) return undefined;
  const shift = BigInt(net.bits - prefix);
  return net.value >> shift === addr.value >> shift;
}

/** Parses an IPv4 or IPv6 address into its bit width and value. */
export function parseIp(text: string): { bits: 32 | 128; value: bigint } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((o) => o > 255) || v4.slice(1).some((o) => o.length > 1 && o.startsWith('0'))) return undefined;
    return { bits: 32, value: octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n) };
  }
  if (!/^[0-9a-fA-F:]+$/.test(text) || !text.includes(':')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return { bits: 128, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** The operators evaluateTrustPolicy understands (the rest deny). */
export function isSupportedOperator(operator: ConditionOperator): boolean {
  const base = operator.replace(/^(ForAnyValue|ForAllValues):/, '').replace(/IfExists$/, '');
  return operator === 'Null' || base in COMPARATORS;
}
