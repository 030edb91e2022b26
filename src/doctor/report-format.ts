/**
 * The doctor's report for people (text) and for programs (`--json`, a stable versioned shape).
 */
import { CheckStatus, DoctorReport, Failure, RoleReport } from './explain';
import { labelled } from './hints';

/** Where the report's inputs came from. */
export interface ReportSource {
  /** The configuration file, as the user would type it (relative to the working directory). */
  readonly configFile: string;
  readonly isExample: boolean;
  /** `--token-file "t.jwt"`, `stdin` or `BITBUCKET_STEP_OIDC_TOKEN`. */
  readonly token: string;
}

/** Version of the `--json` shape; bumped on any incompatible change. */
export const JSON_REPORT_VERSION = 1;

/** The `--json` document of a completed analysis. */
export interface JsonReport extends DoctorReport {
  readonly version: typeof JSON_REPORT_VERSION;
  readonly exitCode: number;
  readonly config: { readonly file: string; readonly isExample: boolean };
  readonly tokenSource: string;
  readonly signatureVerified: boolean;
}

/** The `--json` document when the input was unusable (exit 2). */
export interface JsonError {
  readonly version: typeof JSON_REPORT_VERSION;
  readonly exitCode: number;
  readonly error: string;
  readonly details: readonly string[];
}

/** Builds the `--json` document. */
export function jsonReport(report: DoctorReport, source: ReportSource, exitCode: number): JsonReport {
  return {
    version: JSON_REPORT_VERSION,
    exitCode,
    config: { file: source.configFile, isExample: source.isExample },
    tokenSource: source.token,
    signatureVerified: report.checks.some((c) => c.check === 'signature' && c.status === 'pass'),
    ...report,
  };
}

const STATUS: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skipped: 'SKIP' };

function time(seconds: unknown): string | undefined {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z') : undefined;
}

/** Label/value rows, values aligned; continuation values (index > 0) on their own rows. */
function rows(indent: string, entries: ReadonlyArray<readonly [string, string | readonly string[]]>): string[] {
  const width = Math.max(...entries.map(([label]) => label.length)) + 2;
  return entries.flatMap(([label, value]) => {
    const values = typeof value === 'string' ? [value] : value.length === 0 ? ['(none)'] : value;
    return values.map((v, i) => `${indent}${(i === 0 ? label : '').padEnd(width)}${v}`);
  });
}

function failureLines(failure: Failure): string[] {
  const what = failure.check === 'condition' ? `${failure.operator} ${failure.key}` : failure.check;
  const entries: Array<readonly [string, string | readonly string[]]> = [['failed', what]];
  if (failure.expected.length > 0) entries.push(['expected', failure.expected]);
  if (failure.actual !== null) entries.push(['actual', failure.actual]);
  entries.push(['hint', failure.hint]);
  return rows('           ', entries);
}

function roleLines(role: RoleReport, nameWidth: number, tokenChecksFailed: boolean): string[] {
  const lines = [`  ${role.decision.padEnd(6)} ${`${role.account}/${role.role}`.padEnd(nameWidth)}  ${role.arn}`];
  const policyFailures = role.failures.filter((f) => ['principal', 'action', 'condition', 'explicit-deny'].includes(f.check));
  if (role.decision === 'DENY' && tokenChecksFailed) {
    const names = role.failures.filter((f) => !policyFailures.includes(f)).map((f) => f.check);
    lines.push(`           refused before its trust policy: ${names.join(', ')} (see the checks above)`);
    if (policyFailures.length > 0 && role.trustPolicy.issuerSubstituted) {
      lines.push('           and its trust policy, evaluated as if the issuer matched, would also refuse it:');
    } else if (policyFailures.length > 0) {
      lines.push('           and its trust policy would also refuse it:');
    }
  }
  for (const failure of policyFailures) lines.push(...failureLines(failure));
  for (const caveat of role.caveats) lines.push(`           caveat: ${caveat}`);
  return lines;
}

/** The text report. */
export function formatReport(report: DoctorReport, source: ReportSource, exitCode: number): string[] {
  const { claims, subject } = report.token;
  const config = `${source.configFile}${source.isExample ? ' (the bundled example)' : ''}`;
  const lines = [`Token doctor: may this token assume the roles of ${config}?`, ''];

  const subjectParts: string[] = [];
  if (subject.kind !== 'unrecognised') {
    subjectParts.push(
      `repository ${labelled(subject.repository, new Map(subject.repositoryName ? [[subject.repository, subject.repositoryName]] : []))}`,
    );
    if (subject.kind === 'deployment') {
      const env = subject.environmentName ? `${subject.environment} (${subject.environmentName})` : subject.environment;
      subjectParts.push(`deployment environment ${env}`);
    } else {
      subjectParts.push('a normal step (not a deployment step)');
    }
  }
  const entries: Array<readonly [string, string | readonly string[]]> = [
    ['issuer', claims.iss],
    ['audience', typeof claims.aud === 'string' ? claims.aud : [...claims.aud]],
    [
      'subject',
      subject.kind === 'unrecognised'
        ? [claims.sub, "(not Bitbucket's {REPOSITORY}:[{ENVIRONMENT}:]{STEP} format)"]
        : [claims.sub, subjectParts.join(', ')],
    ],
  ];
  if (typeof claims.branchName === 'string') entries.push(['branch', claims.branchName]);
  const issued = time(claims.iat);
  const expires = time(claims.exp);
  if (issued !== undefined || expires !== undefined) {
    entries.push([
      'valid',
      `${issued === undefined ? '' : `issued ${issued}`}${issued && expires ? ', ' : ''}${expires === undefined ? '' : `expires ${expires}`}`,
    ]);
  }
  lines.push(`Token from ${source.token}`, ...rows('  ', entries), '');

  lines.push('Checks AWS makes on the token before any trust policy');
  const checkWidth = Math.max(...report.checks.map((c) => c.check.length)) + 2;
  for (const check of report.checks) lines.push(`  ${STATUS[check.status]}  ${check.check.padEnd(checkWidth)}${check.message}`);
  lines.push('');

  const tokenChecksFailed = report.checks.some((c) => c.status === 'fail');
  lines.push('Roles');
  const nameWidth = Math.max(...report.roles.map((r) => r.account.length + r.role.length + 1));
  for (const role of report.roles) lines.push(...roleLines(role, nameWidth, tokenChecksFailed));
  lines.push('');

  const signature = signatureSummary(report);
  const count = `${report.allowed.length} of ${report.roles.length} role${report.roles.length === 1 ? '' : 's'}`;
  lines.push(
    report.allowed.length > 0
      ? `Result: ALLOW by ${count}: ${report.allowed.join(', ')} (${signature}; exit ${exitCode})`
      : `Result: DENY: ${report.roles.length === 1 ? 'the checked role does not admit' : `none of the ${report.roles.length} checked roles admits`} this token (${signature}; exit ${exitCode})`,
  );
  return lines;
}

/**
 * The signature's state for the result line: verified, checked and refused, or not checked. A
 * signature that was checked and failed is never "NOT verified", which would read as "not checked".
 */
function signatureSummary(report: DoctorReport): string {
  const check = report.checks.find((c) => c.check === 'signature');
  if (check?.status === 'pass') return 'signature verified';
  if (check?.status === 'fail') return 'signature INVALID: checked against the JWKS and refused';
  return 'signature NOT verified';
}

/** One line saying why no role admits the token (for stderr, exit 1). */
export function denialReason(report: DoctorReport): string {
  const failedCheck = report.checks.find((c) => c.status === 'fail');
  if (failedCheck !== undefined) return `AWS would refuse this token before any trust policy: ${failedCheck.message}`;
  const [first] = report.roles;
  if (first === undefined) return 'no role was checked';
  const hint = first.failures[0]?.hint ?? 'its trust policy refuses the token';
  const more = report.roles.length - 1;
  const others = more > 0 ? ` (${more} more role${more === 1 ? ' refuses' : 's refuse'} it too; see the report)` : '';
  return `no checked role admits this token: ${first.account}/${first.role}: ${hint}${others}`;
}
