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
export type ConditionOperator =
  | `${'' | 'ForAnyValue:' | 'ForAllValues:'}${BaseConditionOperator}${'' | 'IfExists'}`
  | 'Null';

/** Every operator name in `BaseConditionOperator`, for validating operators read from JSON. */
export const BASE_CONDITION_OPERATORS: readonly BaseConditionOperator[] = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase',
  'StringLike', 'StringNotLike', 'NumericEquals', 'NumericNotEquals', 'NumericLessThan',
  'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals', 'DateEquals',
  'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals',
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
  | { readonly Federated: string | string[] }
  | { readonly AWS: string | string[] }
  | { readonly Service: string | string[] };

/** One statement of a policy document. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: Principal;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Conditions;
}

/** The only current policy language version. */
export const POLICY_VERSION = '2012-10-17';

/** A policy document. */
export interface PolicyDocument {
  readonly Version: typeof POLICY_VERSION;
  readonly Statement: PolicyStatement[];
}

/** Builds a policy document from statements. */
export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: POLICY_VERSION, Statement: statements };
}

/** Options of a permission (identity-based) statement. */
export interface PermissionStatementOptions {
  /** @default 'Allow' */
  readonly effect?: 'Allow' | 'Deny';
  /** @example ['s3:GetObject'] */
  readonly actions: string[];
  /** @example ['arn:aws:s3:::my-bucket/*'] */
  readonly resources: string[];
  /** @default - no conditions */
  readonly conditions?: Conditions;
  /** @default - no statement ID */
  readonly sid?: string;
}

/** Builds a permission statement (no principal: it is attached to a role). */
export function permissionStatement(options: PermissionStatementOptions): PolicyStatement {
  const { effect = 'Allow', actions, resources, conditions, sid } = options;
  return {
    ...(sid === undefined ? {} : { Sid: sid }),
    Effect: effect,
    Action: singleOrList(actions),
    Resource: singleOrList(resources),
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
