/**
 * The token doctor's analysis: what AWS checks before any trust policy (issuer, audience, expiry,
 * signature), then every selected role's trust policy evaluated against the token with the project's
 * own evaluator, each denial with the condition that failed, its expected and actual values, and a hint.
 * Pure: no I/O, the clock is an input.
 */
import { BITBUCKET_ISSUER_HOST, bracedUuid, normaliseUuid } from '../bitbucket/protocol';
import { ResolvedAccount, ResolvedConfig, ResolvedRole } from '../config/types';
import { AssumeRoleRequest, ConditionOutcome, Decision, evaluateTrustPolicy, StatementOutcome } from '../iam/evaluate';
import { asList } from '../iam/policy';
import { assumeRoleRequest, BitbucketTokenClaims } from '../bitbucket/token';
import { audienceOrigin, conditionHint, Labels, labelled, oneOf } from './hints';
import { BITBUCKET_TOKEN_ALGORITHM, DecodedToken, SignatureCheck, TokenHeader } from './jwt';
import { AccountRole, rolesOf } from './role-selection';
import { ParsedSubject, parseSubject } from './subject';

/** Names of the step a token belongs to, from the step's own environment (`BITBUCKET_*`). */
export interface StepContext {
  /** `BITBUCKET_STEP_UUID`: the context applies only to the token of this step. */
  readonly stepUuid?: string;
  /** `BITBUCKET_REPO_FULL_NAME`, e.g. `acme/infra`. */
  readonly repositoryFullName?: string;
  /** `BITBUCKET_DEPLOYMENT_ENVIRONMENT`, e.g. `production`. */
  readonly deploymentEnvironment?: string;
}

/** What the doctor analyses. */
export interface ExplainInput {
  readonly token: DecodedToken;
  readonly config: ResolvedConfig;
  /** The roles to check (see `selectRoles`). */
  readonly roles: readonly AccountRole[];
  readonly now: Date;
  /** The signature check, when one was made. @default - the signature is not verified */
  readonly signature?: SignatureCheck;
  /** The caller's address, for `aws:SourceIp` conditions. @default - unknown */
  readonly sourceIp?: string;
  /** @default - no names besides the config's repository labels */
  readonly step?: StepContext;
}

/** The outcome of a check. */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skipped';

/** A check AWS makes on the token itself, before any trust policy (a failure denies every role). */
export interface TokenCheck {
  readonly check: 'issuer' | 'audience' | 'expiry' | 'signature' | 'workspace';
  readonly status: CheckStatus;
  readonly expected?: string | string[];
  readonly actual?: string | string[] | number | null;
  /** One line, in plain language. */
  readonly message: string;
  /** What AWS answers when this check fails. */
  readonly awsError?: string;
}

/** One reason a role refuses the token. */
export interface Failure {
  /** A token check's name, or `principal`, `action`, `condition` or `explicit-deny` for the trust policy. */
  readonly check: TokenCheck['check'] | 'principal' | 'action' | 'condition' | 'explicit-deny';
  readonly operator?: string;
  readonly key?: string;
  readonly expected: string[];
  readonly actual: string | string[] | null;
  readonly hint: string;
}

/** One condition of a role's trust policy, as evaluated. */
export interface ConditionReport {
  readonly statement: number;
  readonly operator: string;
  readonly key: string;
  readonly expected: string[];
  readonly actual: string | string[] | null;
  readonly matched: boolean;
}

/** The verdict for one role. */
export interface RoleReport {
  readonly account: string;
  readonly accountId: string;
  readonly role: string;
  readonly arn: string;
  /** ALLOW only when every token check passes and the trust policy allows. */
  readonly decision: 'ALLOW' | 'DENY';
  /** The trust policy's own decision. */
  readonly trustPolicy: {
    readonly decision: 'ALLOW' | 'DENY';
    readonly reason: 'explicit-allow' | 'explicit-deny' | 'implicit-deny';
    /**
     * True when the token's issuer differs from the provider's and the policy was evaluated with the
     * provider's issuer instead, to show what else would fail.
     */
    readonly issuerSubstituted: boolean;
    readonly conditions: ConditionReport[];
  };
  /** Why the role refuses the token (empty for ALLOW). */
  readonly failures: Failure[];
  /** What the doctor could not check (e.g. the source address). */
  readonly caveats: string[];
}

/** The parts of the token's `sub`, with names where known. */
export type SubjectReport = ParsedSubject & { readonly repositoryName?: string; readonly environmentName?: string };

/** The whole analysis. */
export interface DoctorReport {
  readonly token: {
    readonly header: TokenHeader;
    readonly claims: BitbucketTokenClaims;
    readonly subject: SubjectReport;
  };
  readonly checks: TokenCheck[];
  readonly roles: RoleReport[];
  /** `account/role` of every role that admits the token. */
  readonly allowed: string[];
}

/** Seconds of clock difference tolerated for `iat` in the future. */
const CLOCK_SKEW_SECONDS = 300;

/** Analyses a token against the selected roles of a configuration. */
export function explainToken(input: ExplainInput): DoctorReport {
  const { token, config } = input;
  const { claims } = token;
  const labels = collectLabels(input);
  const subject = parseSubject(claims.sub);
  const checks = tokenChecks(input);
  const issuerMatches = checks[0].status === 'pass';
  const context: RoleContext = {
    // With a foreign issuer AWS stops at "No OpenIDConnect provider found"; evaluating the policy as if
    // the issuer matched still shows what else would fail, so one run finds every problem.
    policyClaims: issuerMatches ? claims : { ...claims, iss: config.issuer.url },
    issuerMatches,
    tokenFailures: tokenCheckFailures(checks),
    subject,
    labels,
    ...(input.sourceIp === undefined ? {} : { sourceIp: input.sourceIp }),
  };
  const roles = input.roles.map((selected) => explainRole(selected, context));
  return {
    token: { header: token.header, claims, subject: describeSubject(subject, labels) },
    checks,
    roles,
    allowed: roles.filter((r) => r.decision === 'ALLOW').map((r) => `${r.account}/${r.role}`),
  };
}

/** What AWS checks on the token before any trust policy; the issuer check comes first. */
function tokenChecks(input: ExplainInput): TokenCheck[] {
  const { token, config, now } = input;
  return [
    issuerCheck(token.claims.iss, config),
    audienceCheck(token.claims.aud, config, reusedProviders(input.roles)),
    expiryCheck(token.claims, now),
    signatureCheck(token.header, input.signature),
    ...workspaceCheck(token.claims, config),
  ];
}

/** The failed token checks, as failures of every role. */
function tokenCheckFailures(checks: readonly TokenCheck[]): Failure[] {
  return checks
    .filter((c) => c.status === 'fail')
    .map((c) => ({
      check: c.check,
      expected: asList(c.expected as string | string[] | undefined),
      actual: actualOf(c.actual),
      hint: c.message,
    }));
}

/** What every role's verdict shares: the token as evaluated, and what the token checks found. */
interface RoleContext {
  /** The claims the trust policies are evaluated with (the provider's issuer, when the token's differs). */
  readonly policyClaims: BitbucketTokenClaims;
  readonly issuerMatches: boolean;
  readonly tokenFailures: readonly Failure[];
  readonly subject: ParsedSubject;
  readonly labels: Labels;
  readonly sourceIp?: string;
}

/** The verdict for one role: its trust policy evaluated, why it refuses, and what the doctor cannot see. */
function explainRole({ account, role, arn }: AccountRole, context: RoleContext): RoleReport {
  const request = assumeRoleRequest(context.policyClaims, {
    partition: account.partition,
    accountId: account.accountId,
    ...(context.sourceIp === undefined ? {} : { sourceIp: context.sourceIp }),
  });
  const decision = evaluateTrustPolicy(role.trustPolicy, request);
  // aws:SourceIp is the caller's address: unknown here unless --source-ip is given, so such a
  // condition is neither met nor failed; its networks are reported once, as a caveat.
  const unknownIp = (c: ConditionOutcome): boolean => context.sourceIp === undefined && c.key === 'aws:SourceIp' && c.actual === undefined;
  const { policyAllows, failures } = trustPolicyFailures(decision, { role, request, unknownIp, context });
  const allowed = context.tokenFailures.length === 0 && policyAllows && failures.length === 0;
  const unknownIpCidrs = [...new Set(decision.statements.flatMap((s) => s.conditions.filter(unknownIp).flatMap((c) => c.expected)))];
  return {
    account: account.name,
    accountId: account.accountId,
    role: role.name,
    arn,
    decision: allowed ? 'ALLOW' : 'DENY',
    trustPolicy: trustPolicyReport(decision, context.issuerMatches),
    failures: [...context.tokenFailures, ...failures],
    caveats: roleCaveats(allowed, unknownIpCidrs, account.reuseProvider),
  };
}

/** What a denial is read with: the role, the request, and which conditions the doctor cannot decide. */
interface DenialContext {
  readonly role: ResolvedRole;
  readonly request: AssumeRoleRequest;
  readonly unknownIp: (c: ConditionOutcome) => boolean;
  readonly context: RoleContext;
}

/**
 * Why the trust policy refuses the token: each explicit denial, or for an implicit one what every Allow
 * statement misses. A statement that misses only an unknown source address counts as allowing.
 */
function trustPolicyFailures(decision: Decision, denial: DenialContext): { policyAllows: boolean; failures: Failure[] } {
  if (decision.reason === 'explicit-deny') {
    const failures = decision.statements
      .filter((st) => st.applies && st.effect === 'Deny')
      .map((s): Failure => ({
        check: 'explicit-deny',
        expected: [],
        actual: null,
        hint: `statement ${s.sid ?? s.index} of the trust policy denies this token explicitly`,
      }));
    return { policyAllows: false, failures };
  }
  if (decision.reason !== 'implicit-deny') return { policyAllows: decision.decision === 'ALLOW', failures: [] };
  const allows = decision.statements.filter((st) => st.effect === 'Allow');
  const allowedButForUnknownIp = allows.some(
    (s) => s.principalMatched && s.actionMatched && s.conditions.every((c) => c.matched || denial.unknownIp(c)),
  );
  if (allowedButForUnknownIp) return { policyAllows: true, failures: [] };
  return { policyAllows: false, failures: allows.flatMap((s) => statementFailures(s, denial)) };
}

/** What one Allow statement misses: its principal, its action, each failed condition with a hint. */
function statementFailures(outcome: StatementOutcome, { role, request, unknownIp, context }: DenialContext): Failure[] {
  const statement = role.trustPolicy.Statement[outcome.index];
  const failures: Failure[] = [];
  if (!outcome.principalMatched) failures.push(principalFailure(asList(federatedOf(statement.Principal)), request));
  if (!outcome.actionMatched) {
    const hint = `the statement does not allow ${request.action}`;
    failures.push({ check: 'action', expected: asList(statement.Action), actual: request.action, hint });
  }
  for (const c of outcome.conditions.filter((condition) => !condition.matched && !unknownIp(condition))) {
    failures.push({
      check: 'condition',
      operator: c.operator,
      key: c.key,
      expected: c.expected,
      actual: actualOf(c.actual),
      hint: conditionHint(c, { subject: context.subject, sub: context.policyClaims.sub, role, labels: context.labels }),
    });
  }
  return failures;
}

/** The trust policy's own decision, with every condition as evaluated. */
function trustPolicyReport(decision: Decision, issuerMatches: boolean): RoleReport['trustPolicy'] {
  return {
    decision: decision.decision,
    reason: decision.reason,
    issuerSubstituted: !issuerMatches,
    conditions: decision.statements.flatMap((s) =>
      s.conditions.map((c) => ({
        statement: s.index,
        operator: c.operator,
        key: c.key,
        expected: c.expected,
        actual: actualOf(c.actual),
        matched: c.matched,
      })),
    ),
  };
}

/** What the doctor cannot see: the caller's address, and a reused provider's client IDs. */
function roleCaveats(allowed: boolean, unknownIpCidrs: readonly string[], reuseProvider: boolean): string[] {
  const caveats: string[] = [];
  if (unknownIpCidrs.length > 0) {
    const networks = oneOf(unknownIpCidrs);
    caveats.push(
      allowed
        ? `only when the call comes from ${networks}: AWS checks aws:SourceIp, which the doctor cannot see (pass --source-ip to check an address)`
        : `it also admits only calls from ${networks} (aws:SourceIp, which the doctor cannot see; pass --source-ip to check an address)`,
    );
  }
  if (reuseProvider && allowed) {
    caveats.push(
      "only if the account's reused provider lists the token's audience among its client IDs, which the doctor cannot see (see the audience check)",
    );
  }
  return caveats;
}

function actualOf(value: string | readonly string[] | number | null | undefined): string | string[] | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? value : [...value];
}

function federatedOf(principal: unknown): string | string[] | undefined {
  if (typeof principal !== 'object' || principal === null || !('Federated' in principal)) return undefined;
  return (principal as { Federated: string | string[] }).Federated;
}

function principalFailure(trusted: string[], request: AssumeRoleRequest): Failure {
  return {
    check: 'principal',
    expected: trusted,
    actual: request.federatedPrincipal,
    hint:
      trusted.length === 0
        ? 'the statement trusts no OIDC provider (no Federated principal)'
        : `the role trusts provider ${oneOf(trusted)}, and the token's issuer names provider ${request.federatedPrincipal}`,
  };
}

/** Repository and environment names from the config, and from the step's variables. */
function collectLabels(input: ExplainInput): Labels {
  const repositories = new Map<string, string>();
  const environments = new Map<string, string>();
  for (const account of input.config.accounts) {
    for (const role of rolesOf(account)) {
      for (const repository of role.repositories) {
        if (repository.name !== undefined) repositories.set(bracedUuid(repository.uuid), repository.name);
        for (const [uuid, name] of Object.entries(repository.environmentNames ?? {})) environments.set(bracedUuid(uuid), name);
      }
    }
  }
  const subject = parseSubject(input.token.claims.sub);
  const step = input.step;
  // The step's BITBUCKET_* variables describe this token only when they belong to the same step.
  if (step?.stepUuid !== undefined && subject.kind !== 'unrecognised' && normalise(step.stepUuid) === normalise(subject.step)) {
    if (step.repositoryFullName && !repositories.has(subject.repository)) repositories.set(subject.repository, step.repositoryFullName);
    if (step.deploymentEnvironment && subject.kind === 'deployment') environments.set(subject.environment, step.deploymentEnvironment);
  }
  return { repositories, environments };
}

/** A UUID in the braced lower-case form of Bitbucket's claims; a non-UUID is compared as given. */
function normalise(uuid: string): string {
  const bare = normaliseUuid(uuid);
  return bare === undefined ? uuid.trim() : bracedUuid(bare);
}

function describeSubject(subject: ParsedSubject, labels: Labels): SubjectReport {
  if (subject.kind === 'unrecognised') return subject;
  const repositoryName = labels.repositories.get(subject.repository);
  const environmentName = subject.kind === 'deployment' ? labels.environments.get(subject.environment) : undefined;
  return {
    ...subject,
    ...(repositoryName === undefined ? {} : { repositoryName }),
    ...(environmentName === undefined ? {} : { environmentName }),
  };
}

/** AWS compares `iss` with the provider URL as an exact string. */
export function issuerCheck(iss: string, config: ResolvedConfig): TokenCheck {
  const expected = config.issuer.url;
  if (iss === expected) {
    return { check: 'issuer', status: 'pass', expected, actual: iss, message: 'matches the OIDC provider URL exactly' };
  }
  const reasons: string[] = [];
  const slug = /\/workspaces\/([^/]+)\/pipelines-config\/identity\/oidc\/*$/i.exec(iss)?.[1];
  if (/\/+$/.test(iss) && iss.replace(/\/+$/, '') === expected) reasons.push('it has a trailing slash');
  else if (iss.replace(/^http:\/\//, 'https://') === expected) reasons.push('it uses http:// instead of https://');
  else if (iss.toLowerCase() === expected.toLowerCase()) reasons.push('it differs in upper/lower case');
  else if (slug !== undefined && slug !== config.workspace) {
    reasons.push(
      `it names workspace "${slug}", and the config is for workspace "${config.workspace}" (fix "workspace" in the config, or this pipeline runs in another workspace)`,
    );
  } else if (!iss.replace(/^https?:\/\//, '').startsWith(`${BITBUCKET_ISSUER_HOST}/`)) {
    reasons.push('it is not a Bitbucket Pipelines issuer');
  } else {
    reasons.push('the strings differ');
  }
  return {
    check: 'issuer',
    status: 'fail',
    expected,
    actual: iss,
    message: `the token's issuer "${iss}" differs from the provider's "${expected}": ${reasons.join('; ')}. AWS compares them exactly and answers "No OpenIDConnect provider found"`,
    awsError: 'InvalidIdentityToken: No OpenIDConnect provider found in your account for the issuer',
  };
}

/** The accounts of the checked roles that reuse an existing provider, each once. */
function reusedProviders(roles: readonly AccountRole[]): ResolvedAccount[] {
  const accounts = new Map<string, ResolvedAccount>();
  for (const { account } of roles) if (account.reuseProvider) accounts.set(account.name, account);
  return [...accounts.values()];
}

/**
 * AWS accepts a token only when its audience is one of the provider's client IDs. The config's
 * audiences are the client IDs of the provider this project creates; a reused provider
 * (`existingProviderArn`) keeps the client IDs it was given, which only AWS can tell.
 */
export function audienceCheck(
  aud: string | readonly string[],
  config: ResolvedConfig,
  reused: readonly Pick<ResolvedAccount, 'name' | 'providerArn'>[] = [],
): TokenCheck {
  const actual = typeof aud === 'string' ? aud : [...aud];
  const values = asList(aud);
  const expected = [...config.audiences];
  const matching = values.find((a) => expected.includes(a));
  if (matching !== undefined && reused.length > 0) {
    const accounts = reused.map((a) => a.name);
    const commands = reused.map((a) => `aws iam get-open-id-connect-provider --open-id-connect-provider-arn ${a.providerArn}`);
    return {
      check: 'audience',
      status: 'warn',
      expected,
      actual,
      message: `is one of the config's audiences, but account${accounts.length === 1 ? '' : 's'} ${oneOf(accounts)} reuse${accounts.length === 1 ? 's' : ''} an existing provider (existingProviderArn), whose client IDs could not be verified offline: check that its ClientIDList contains ${JSON.stringify(matching)} with ${commands.join('; ')}`,
    };
  }
  if (matching !== undefined) {
    return { check: 'audience', status: 'pass', expected, actual, message: "is one of the provider's client IDs" };
  }
  return {
    check: 'audience',
    status: 'fail',
    expected,
    actual,
    message: `audience ${JSON.stringify(actual)} is not one of the provider's client IDs (${oneOf(expected.map((e) => JSON.stringify(e)))})${audienceOrigin(actual)}, and AWS answers "Incorrect token audience"`,
    awsError: 'InvalidIdentityToken: Incorrect token audience',
  };
}

function iso(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function duration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** A token is usable from `nbf` (if any) until `exp`. */
export function expiryCheck(claims: BitbucketTokenClaims, now: Date): TokenCheck {
  const nowSeconds = now.getTime() / 1000;
  const { exp, nbf, iat } = claims;
  if (typeof nbf === 'number' && nbf > nowSeconds) {
    return {
      check: 'expiry',
      status: 'fail',
      expected: `not before ${iso(nbf)}`,
      actual: iso(nowSeconds),
      message: `the token is not valid before ${iso(nbf)} (in ${duration(nbf - nowSeconds)}); check this machine's clock`,
      awsError: 'InvalidIdentityToken: the token is not yet valid',
    };
  }
  if (exp === undefined) {
    return { check: 'expiry', status: 'warn', message: 'the token has no "exp" claim; every Bitbucket Pipelines token has one' };
  }
  if (exp <= nowSeconds) {
    return {
      check: 'expiry',
      status: 'fail',
      expected: `before ${iso(exp)}`,
      actual: iso(nowSeconds),
      message: `the token expired at ${iso(exp)} (${duration(nowSeconds - exp)} ago): a step's token is only valid while the step runs; take a fresh one from a new run`,
      awsError: 'ExpiredTokenException: Token expired',
    };
  }
  if (typeof iat === 'number' && iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    return {
      check: 'expiry',
      status: 'warn',
      expected: `issued before ${iso(nowSeconds)}`,
      actual: iso(iat),
      message: `the token was issued in the future (${iso(iat)}, ${duration(iat - nowSeconds)} ahead); check this machine's clock`,
    };
  }
  return {
    check: 'expiry',
    status: 'pass',
    expected: `before ${iso(exp)}`,
    actual: iso(nowSeconds),
    message: `valid until ${iso(exp)} (for another ${duration(exp - nowSeconds)})`,
  };
}

/** The signature: verified, refused, or (by default) not checked at all. */
export function signatureCheck(header: TokenHeader, signature: SignatureCheck | undefined): TokenCheck {
  if (signature === undefined) {
    if (header.alg !== BITBUCKET_TOKEN_ALGORITHM) {
      return {
        check: 'signature',
        status: 'warn',
        expected: BITBUCKET_TOKEN_ALGORITHM,
        actual: header.alg ?? null,
        message: `NOT verified, and the header says alg ${JSON.stringify(header.alg ?? null)}: Bitbucket signs with RS256, so AWS would refuse this token`,
      };
    }
    return {
      check: 'signature',
      status: 'skipped',
      message: "NOT verified: the claims are as the token states them; pass --verify-signature to check it against the workspace's keys",
    };
  }
  if (signature.status === 'valid') {
    return { check: 'signature', status: 'pass', expected: signature.jwks.url, message: signature.detail };
  }
  return {
    check: 'signature',
    status: 'fail',
    expected: signature.jwks.url,
    actual: header.kid ?? null,
    message: `${signature.detail}; AWS refuses such a token`,
    awsError: 'InvalidIdentityToken: the token signature is invalid',
  };
}

/** The token's workspace against the config's (informational: the audience carries the same UUID). */
function workspaceCheck(claims: BitbucketTokenClaims, config: ResolvedConfig): TokenCheck[] {
  const claim = claims.workspaceUuid;
  if (typeof claim !== 'string') return [];
  const expected = bracedUuid(config.workspaceUuid);
  if (claim.toLowerCase() === expected) {
    return [
      {
        check: 'workspace',
        status: 'pass',
        expected,
        actual: claim,
        message: `workspace ${labelled(claim, new Map([[expected, config.workspace]]))} is the config's`,
      },
    ];
  }
  return [
    {
      check: 'workspace',
      status: 'warn',
      expected,
      actual: claim,
      message: `the token comes from workspace ${claim}, and the config's workspaceUuid is ${expected}`,
    },
  ];
}
