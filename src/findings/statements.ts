/**
 * The inline policy statements of a role, read field by field. `NotAction` and `NotResource` are read
 * through a local accessor so this compiles whether or not `PolicyStatement` declares them yet.
 */
import { asList, PolicyStatement } from '../iam/policy';
import { quoteList } from './labels';
import { FindingRole } from './finding';

/** The fields of a statement that the rules read, as lists. */
export interface StatementView {
  /** The inline policy holding the statement. */
  readonly policy: string;
  /** Position in the policy, from 0. */
  readonly index: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  /** `Action`; empty when the statement uses `NotAction`. */
  readonly actions: readonly string[];
  /** `NotAction`: the statement applies to every action but these. */
  readonly notActions?: readonly string[];
  /** `Resource`; empty when the statement uses `NotResource`. */
  readonly resources: readonly string[];
  /** `NotResource`: the statement applies to every resource but these. */
  readonly notResources?: readonly string[];
  /** The condition keys the statement tests, e.g. `iam:PermissionsBoundary`. */
  readonly conditionKeys: readonly string[];
}

/** Reads one statement. */
export function viewStatement(policy: string, index: number, s: PolicyStatement): StatementView {
  return {
    policy,
    index,
    ...(s.Sid === undefined ? {} : { sid: s.Sid }),
    effect: s.Effect,
    actions: asList(s.Action ?? undefined),
    ...(s.NotAction === undefined ? {} : { notActions: asList(s.NotAction) }),
    resources: asList(s.Resource ?? undefined),
    ...(s.NotResource === undefined ? {} : { notResources: asList(s.NotResource) }),
    conditionKeys: Object.values(s.Condition ?? {}).flatMap((block) => Object.keys(block ?? {})),
  };
}

/** Every inline statement of a role, in policy order. */
export function inlineStatements(role: Pick<FindingRole, 'inlinePolicies'>): StatementView[] {
  return Object.entries(role.inlinePolicies).flatMap(([policy, document]) =>
    document.Statement.map((statement, index) => viewStatement(policy, index, statement)),
  );
}

/** The inline Allow statements of a role. */
export function allowStatements(role: Pick<FindingRole, 'inlinePolicies'>): StatementView[] {
  return inlineStatements(role).filter((s) => s.effect === 'Allow');
}

/** `policy "deploy" statement 2 ("sid")`: where a statement is, for messages. */
export function statementLabel(statement: StatementView): string {
  const sid = statement.sid === undefined ? '' : ` (Sid ${JSON.stringify(statement.sid)})`;
  return `inline policy ${JSON.stringify(statement.policy)} statement ${statement.index + 1}${sid}`;
}

/**
 * Whether a resource pattern covers every resource of its type or service: `*`, `arn:aws:s3:::*`,
 * `arn:aws:iam::123456789012:role/*`, `arn:aws:secretsmanager:*:*:secret:*`.
 */
export function isBroadResource(resource: string): boolean {
  if (resource === '*') return true;
  const parts = resource.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return false;
  const rest = parts.slice(5).join(':');
  // S3 ARNs name the bucket first (`arn:aws:s3:::my-bucket/*` is one bucket); other services may
  // start with a resource type (`role/`, `secret:`, `table/`). Then nothing but wildcards and separators.
  const type = parts[2] === 's3' ? '' : '([A-Za-z0-9-]+[/:])?';
  return new RegExp(`^${type}[*/:]*\\*[*/:]*$`).test(rest);
}

/** Whether a statement applies to every resource (of a type): a broad `Resource`, or any `NotResource`. */
export function coversBroadResources(statement: StatementView): boolean {
  return statement.notResources !== undefined || statement.resources.some(isBroadResource);
}

/** Whether a resource pattern covers every service: `*`, or an ARN whose service is a wildcard. */
function isEveryResource(resource: string): boolean {
  if (resource === '*') return true;
  const parts = resource.split(':');
  return parts[0] === 'arn' && parts.length >= 6 && parts[2] === '*' && isBroadResource(resource);
}

/** Whether a statement applies to every resource of every service: `Resource: "*"`, or any `NotResource`. */
export function coversEveryResource(statement: StatementView): boolean {
  return statement.notResources !== undefined || statement.resources.some(isEveryResource);
}

/** Whether a statement applies to every IAM role, user or policy of the account (or of every account). */
export function coversIamResources(statement: StatementView): boolean {
  return coversEveryResource(statement) || statement.resources.some((r) => /^arn:[^:]*:iam:/.test(r) && isBroadResource(r));
}

/** `on "arn:..." and "arn:..."`, or `on every resource but "arn:..."`: a statement's resources for messages. */
export function onResources(statement: StatementView, resources: readonly string[] = statement.resources): string {
  return statement.notResources === undefined ? `on ${quoteList(resources)}` : `on every resource but ${quoteList(statement.notResources)}`;
}
