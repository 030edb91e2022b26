/**
 * The value rules of AWS and IAM that this project checks before synthesis (Bitbucket's own rules,
 * the workspace slug and the UUID, are `BITBUCKET_RULES` in `src/bitbucket/protocol.ts`). Each rule has
 * a test, the rule in words and a valid example, so the config validator and the constructs report
 * the same message for the same mistake.
 */
import { parseIp } from './evaluate';

/** A rule a single string value must satisfy. */
export interface ValueRule {
  readonly test: (value: string) => boolean;
  /** The rule, phrased to follow "must": `be 12 digits`. */
  readonly rule: string;
  readonly example: string;
  /** The regular expression, when the rule is one (the configuration's JSON Schema uses it). */
  readonly regex?: RegExp;
}

/** A rule that is a regular expression. */
export function patternRule(regex: RegExp, rule: string, example: string): ValueRule {
  return { test: (value) => regex.test(value), rule, example, regex };
}

/** IAM's character set for role and policy names. */
const IAM_NAME_CHARS = 'A-Z a-z 0-9 + = , . @ _ -';

export const RULES = {
  accountId: patternRule(/^\d{12}$/, 'be a 12-digit AWS account ID (as a string, to keep leading zeros)', '123456789012'),
  region: patternRule(/^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/, 'be an AWS region code', 'eu-west-1'),
  accountName: patternRule(
    /^[a-z0-9][a-z0-9_-]{0,47}$/,
    'be 1-48 characters of lower-case letters, digits, - and _, starting with a letter or digit (it names the stack and its state key)',
    'production',
  ),
  roleName: patternRule(/^[A-Za-z0-9+=,.@_-]{1,64}$/, `be 1-64 characters of ${IAM_NAME_CHARS}`, 'bitbucket-deploy'),
  policyName: patternRule(/^[A-Za-z0-9+=,.@_-]{1,128}$/, `be 1-128 characters of ${IAM_NAME_CHARS}`, 'read-artifacts'),
  rolePath: {
    test: (value: string) => value.length <= 512 && /^\/([\x21-\x7E]*\/)?$/.test(value) && !value.includes('//'),
    rule: 'start and end with /, have no empty segment, and be at most 512 printable ASCII characters',
    example: '/bitbucket/',
  } satisfies ValueRule,
  description: patternRule(
    /^[\t\n\r\x20-\x7E\xA1-\xFF]{0,1000}$/,
    'be at most 1000 characters of printable Latin-1 text',
    'Deploys the infra repository',
  ),
  audience: patternRule(
    /^[\x21-\x7E]{1,255}$/,
    'be 1-255 printable characters without spaces (IAM client ID rule)',
    'ari:cloud:bitbucket::workspace/8a1f1c70-0c1e-4f7b-9c53-6f2d2a1b3c4d',
  ),
  thumbprint: patternRule(
    /^[0-9a-fA-F]{40}$/,
    'be 40 hexadecimal characters (a SHA-1 certificate thumbprint)',
    '9e99a48a9960b14926bb7f3b02e22da2b0ab7280',
  ),
  cidr: {
    test: (value: string) => {
      const [address, bits, extra] = value.split('/');
      const ip = parseIp(address);
      if (ip === undefined || bits === undefined || extra !== undefined || !/^\d{1,3}$/.test(bits)) return false;
      return Number(bits) <= ip.bits;
    },
    rule: 'be an IPv4 or IPv6 CIDR block',
    example: '34.199.54.113/32',
  } satisfies ValueRule,
  managedPolicyArn: patternRule(
    /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/([\x21-\x7E]*\/)?[A-Za-z0-9+=,.@_-]{1,128}$/,
    'be an IAM managed policy ARN',
    'arn:aws:iam::aws:policy/ReadOnlyAccess',
  ),
  oidcProviderArn: patternRule(
    /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/.+$/,
    'be an IAM OIDC provider ARN',
    'arn:aws:iam::123456789012:oidc-provider/api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc',
  ),
  bucket: patternRule(
    /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'be an S3 bucket name: 3-63 characters of lower-case letters, digits, . and -, starting and ending with a letter or digit',
    'acme-terraform-state',
  ),
  keyPrefix: patternRule(
    /^(?!\/)(?!.*\/\/)[A-Za-z0-9!_.*'()\/-]{1,512}(?<!\/)$/,
    "be an S3 key prefix: letters, digits and !_.*'()-/, without a leading or trailing /",
    'bitbucket-oidc',
  ),
  tagKey: patternRule(
    /^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u,
    'be 1-128 letters, digits, spaces or _.:/=+-@, not starting with aws:',
    'team',
  ),
  tagValue: patternRule(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u, 'be at most 256 letters, digits, spaces or _.:/=+-@', 'platform'),
  action: patternRule(
    /^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+)$/,
    'be an IAM action as service:Action (wildcards * and ? allowed)',
    's3:GetObject',
  ),
  resource: patternRule(
    /^(\*|arn:[^:\s]+:[^:\s]*:\S*)$/,
    'be * or an ARN (arn:partition:service:region:account:resource; wildcards and policy variables allowed)',
    'arn:aws:s3:::acme-artifacts/*',
  ),
  sid: patternRule(/^[A-Za-z0-9]*$/, "be letters and digits only (IAM's rule for a Sid)", 'ReadArtifacts'),
} as const;

/** AWS's limits, named once. */
export const LIMITS = {
  /** Default role trust policy size quota, in characters without whitespace. */
  trustPolicySize: 2048,
  /** The largest trust policy size quota AWS grants on request (newer docs; older ones say 4096). */
  trustPolicySizeMax: 8192,
  minSessionDuration: 3600,
  maxSessionDuration: 43200,
  /** Client IDs (audiences) per OIDC provider. */
  clientIds: 100,
  thumbprints: 5,
  /** Managed policies attached to one role: the default quota is 10, raisable to this maximum. */
  managedPoliciesPerRole: 20,
  managedPoliciesPerRoleDefault: 10,
  tagsPerRole: 50,
  /** Characters of all inline policies of one role together, whitespace excluded. */
  inlinePoliciesPerRoleSize: 10240,
} as const;

/** A value quoted for a message, shortened when long (a 1001-character description, say). */
export function quote(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `"<value>" must <rule>, e.g. "<example>"`: the one phrasing of a broken rule. */
export function violation(value: unknown, rule: ValueRule): string {
  return `${quote(value)} must ${rule.rule}, e.g. ${JSON.stringify(rule.example)}`;
}

/**
 * Checks a value against a rule; returns a message naming the field, quoting the value and stating
 * the rule with an example, or undefined when the value is fine.
 */
export function checkValue(field: string, value: string, rule: ValueRule): string | undefined {
  return rule.test(value) ? undefined : `${field}: ${violation(value, rule)}`;
}

/** A field path: `accounts[0].roles` + `name` = `accounts[0].roles.name`, + 1 = `accounts[0].roles[1]`. */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

// `*` and `?` are wildcards in a policy and `${` starts a policy variable, so a path, key or ARN
// containing them would match more than the one thing it names.
export const NO_WILDCARDS: ValueRule = {
  test: (value) => !/[*?$]/.test(value),
  rule: 'not contain *, ? or $ (in a policy they are wildcards or policy variables)',
  example: '/bitbucket/',
};

/** Whether a value is known only later (a cdktf Token, say), so that no rule can check it yet. */
export type IsUnresolved = (value: string) => boolean;

/** Checks a field against rules, every message at once. */
export type ValuesCheck = (field: string, value: string, ...rules: ValueRule[]) => string[];

/**
 * The one token-skipping check: `check(field, value, ...rules)` lists what `checkValue` reports for
 * each rule, and nothing for a value that `isUnresolved` says is not known yet. The IAM layer knows
 * nothing of cdktf: the layers that do pass `Token.isUnresolved`.
 */
export function valuesCheck(isUnresolved: IsUnresolved): ValuesCheck {
  return (field, value, ...rules) =>
    isUnresolved(value) ? [] : rules.map((rule) => checkValue(field, value, rule)).filter((p): p is string => p !== undefined);
}
