/**
 * Typed IAM policy documents, shaped like the JSON AWS reads, so that no policy in this project is
 * hand-written JSON. Modelled on aws-cdk's IAM layer: `Conditions` is `{ Operator: { key: value } }`.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 */

/** IAM condition operators without qualifiers. */
export type BaseConditionOperator =
  | 'StringEquals'
  | 'StringNotEquals'
  | 'StringEqualsIgnoreCase'
  | 'StringNotEqualsIgnoreCase'
  | 'StringLike'
  | 'StringNotLike'
  | 'NumericEquals'
  | 'NumericNotEquals'
  | 'NumericLessThan'
  | 'NumericLessThanEquals'
  | 'NumericGreaterThan'
  | 'NumericGreaterThanEquals'
  | 'DateEquals'
  | 'DateNotEquals'
  | 'DateLessThan'
  | 'DateLessThanEquals'
  | 'DateGreaterThan'
  | 'DateGreaterThanEquals'
  | 'Bool'
  | 'BinaryEquals'
  | 'IpAddress'
  | 'NotIpAddress'
  | 'ArnEquals'
  | 'ArnLike'
  | 'ArnNotEquals'
  | 'ArnNotLike';

/**
 * A condition operator as IAM spells it: an optional set qualifier, the operator, an optional
 * `IfExists`; or `Null`.
 */
export type ConditionOperator = `${'' | 'ForAnyValue:' | 'ForAllValues:'}${BaseConditionOperator}${'' | 'IfExists'}` | 'Null';

/** Every operator name in `BaseConditionOperator`, for validating operators read from JSON. */
export const BASE_CONDITION_OPERATORS: readonly BaseConditionOperator[] = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
];

/** Whether a string read from JSON is a `ConditionOperator`. */
export function isConditionOperator(value: string): value is ConditionOperator {
  if (value === 'Null') return true;
  const base = value.replace(/^(ForAnyValue:|ForAllValues:)/, '').replace(/IfExists$/, '');
  return (BASE_CONDITION_OPERATORS as readonly string[]).includes(base);
}

/** One or more values; several values for one key match if any of them does. */
export type ConditionValue = string | string[];

/** `{ Operator: { conditionKey: value } }`: every operator and every key must hold. */
export type Conditions = { [Operator in ConditionOperator]?: Record<string, ConditionValue> };

/** Who may assume a role. */
export type Principal =
  { readonly Federated: string | string[] } | { readonly AWS: string | string[] } | { readonly Service: string | string[] };

/**
 * One statement of a policy document. A statement names its actions with `Action` or, to match every
 * action but some, `NotAction`; and its resources with `Resource` or `NotResource` (exactly one of each
 * pair in an identity policy; a trust policy has a `Principal` and no resource).
 */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: Principal;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Condition?: Conditions;
}

/** The current policy language version: the only one with policy variables (`${aws:username}`). */
export const POLICY_VERSION = '2012-10-17';
/** The original policy language version, still accepted by IAM; it reads `${...}` literally. */
export const LEGACY_POLICY_VERSION = '2008-10-17';

/** A policy document. */
export interface PolicyDocument {
  readonly Version: typeof POLICY_VERSION | typeof LEGACY_POLICY_VERSION;
  readonly Id?: string;
  readonly Statement: PolicyStatement[];
}

/** Whether a statement matches `action`: listed in `Action`, or not listed in `NotAction`. */
export function statementMatchesAction(
  statement: PolicyStatement,
  action: string,
  match: (pattern: string, value: string) => boolean,
): boolean {
  const matchesAny = (patterns: string | string[] | undefined) =>
    asList(patterns).some((pattern) => match(pattern.toLowerCase(), action.toLowerCase()));
  return statement.NotAction === undefined ? matchesAny(statement.Action) : !matchesAny(statement.NotAction);
}

/** Builds a policy document from statements. */
export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: POLICY_VERSION, Statement: statements };
}

/** Options of a permission (identity-based) statement: `actions` or `notActions`, `resources` or `notResources`. */
export interface PermissionStatementOptions {
  /** @default 'Allow' */
  readonly effect?: 'Allow' | 'Deny';
  /**
   * Actions the statement matches.
   * @example ['s3:GetObject']
   */
  readonly actions?: string[];
  /**
   * Matches every action except these (`NotAction`); use with `resources` to bound it.
   * @default - none (use `actions`)
   * @example ['iam:*']
   */
  readonly notActions?: string[];
  /** @example ['arn:aws:s3:::my-bucket/*'] */
  readonly resources?: string[];
  /**
   * Matches every resource except these (`NotResource`).
   * @default - none (use `resources`)
   */
  readonly notResources?: string[];
  /** @default - no conditions */
  readonly conditions?: Conditions;
  /** @default - no statement ID */
  readonly sid?: string;
}

/** Builds a permission statement (no principal: it is attached to a role). */
export function permissionStatement(options: PermissionStatementOptions): PolicyStatement {
  const { effect = 'Allow', actions, notActions, resources, notResources, conditions, sid } = options;
  if ((actions === undefined) === (notActions === undefined))
    throw new Error('a permission statement needs exactly one of actions and notActions');
  if ((resources === undefined) === (notResources === undefined))
    throw new Error('a permission statement needs exactly one of resources and notResources');
  return {
    ...(sid === undefined ? {} : { Sid: sid }),
    Effect: effect,
    ...(actions === undefined ? {} : { Action: singleOrList(actions) }),
    ...(notActions === undefined ? {} : { NotAction: singleOrList(notActions) }),
    ...(resources === undefined ? {} : { Resource: singleOrList(resources) }),
    ...(notResources === undefined ? {} : { NotResource: singleOrList(notResources) }),
    ...(conditions === undefined || Object.keys(conditions).length === 0 ? {} : { Condition: conditions }),
  };
}

/** A single value stays a string (the shorter form counts less against AWS's size quotas). */
export function singleOrList(values: readonly string[]): string | string[] {
  return values.length === 1 ? values[0] : [...values];
}

/** A value that may be one string or a list, as a list. */
export function asList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

/**
 * Size of a policy as AWS counts it against the role trust policy quota: the JSON without
 * whitespace.
 */
export function policySize(document: PolicyDocument): number {
  return JSON.stringify(document).replace(/\s/g, '').length;
}

/**
 * The one policy size check: undefined when `document` is at most `limit` characters (whitespace not
 * counted), otherwise `<name> is <size> characters (whitespace not counted) and must be at most
 * <limit>` followed by `why` (the quota, and how to get under it).
 */
export function policySizeProblem(name: string, document: PolicyDocument, limit: number, why: string): string | undefined {
  const size = policySize(document);
  return size > limit ? `${name} is ${size} characters (whitespace not counted) and must be at most ${limit}${why}` : undefined;
}
