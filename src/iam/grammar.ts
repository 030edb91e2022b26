/**
 * The grammar IAM accepts for an identity-based policy document, checked before synthesis: a policy
 * exactly as `aws iam get-role-policy` or the console shows it is read into a typed `PolicyDocument`,
 * and every problem is reported (field path, value, rule, example), not only the first.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */
import {
  Conditions,
  isConditionOperator,
  LEGACY_POLICY_VERSION,
  PolicyDocument,
  POLICY_VERSION,
  PolicyStatement,
  policySize,
} from './policy';
import { join, LIMITS, quote, RULES, violation } from './rules';

/** Receives one problem: where it is and what is wrong (the message does not repeat the path). */
export type ReportProblem = (path: string, message: string) => void;

/**
 * Phrases a field the grammar does not know, given the fields it does; the config reader passes its
 * `unknownField`, which also guesses the field that was meant.
 */
export type UnknownFieldMessage = (key: string, known: readonly string[]) => string;

const listKnownFields: UnknownFieldMessage = (_key, known) => `unknown field (known fields: ${known.join(', ')})`;

/** The fields of a policy document and of a statement, in the order AWS writes them. */
export const DOCUMENT_FIELDS = ['Version', 'Id', 'Statement'] as const;
export const STATEMENT_FIELDS = ['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'] as const;
/** Fields of resource-based and trust policies, which have no place in a role's permissions. */
const PRINCIPAL_FIELDS = ['Principal', 'NotPrincipal'] as const;

/** An IAM policy variable such as `${aws:username}` or `${aws:PrincipalTag/team}`. */
const POLICY_VARIABLE = /\$\{[^}]*\}/;

const EXAMPLE_STATEMENT = '{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-artifacts/*"}';

/** Whether a string uses an IAM policy variable. */
export function hasPolicyVariable(value: string): boolean {
  return POLICY_VARIABLE.test(value);
}

/** A reporter that remembers whether anything was reported through it. */
function tracked(report: ReportProblem): { fail: ReportProblem; failed: () => boolean } {
  let failed = false;
  return {
    fail: (path, message) => {
      failed = true;
      report(path, message);
    },
    failed: () => failed,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a string or a non-empty list of strings, each checked by `check`; undefined on any problem. */
function stringOrList(
  path: string,
  value: unknown,
  what: string,
  example: string,
  report: ReportProblem,
  check: (item: string, itemPath: string) => boolean = () => true,
): string | string[] | undefined {
  if (typeof value === 'string') return check(value, path) ? value : undefined;
  if (!Array.isArray(value) || value.length === 0) {
    report(path, `${quote(value)} must be a string or a non-empty list of ${what}, e.g. ${example}`);
    return undefined;
  }
  let ok = true;
  value.forEach((item, i) => {
    if (typeof item !== 'string') {
      report(join(path, i), `${quote(item)} must be a string, e.g. ${example}`);
      ok = false;
    } else if (!check(item, join(path, i))) ok = false;
  });
  return ok ? (value as string[]) : undefined;
}

/**
 * Reads a condition block `{ Operator: { key: value } }`. IAM stores booleans and numbers as strings
 * (`"Bool": {"aws:SecureTransport": false}` reads back as `"false"`), so they are written as strings.
 */
function readCondition(path: string, value: unknown, report: ReportProblem): Conditions | undefined {
  const example = '{"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}';
  if (!isObject(value) || Object.keys(value).length === 0) {
    report(path, `${quote(value)} must be a non-empty object of condition operators, e.g. ${example}`);
    return undefined;
  }
  let ok = true;
  const condition: Record<string, Record<string, string | string[]>> = {};
  for (const [operator, block] of Object.entries(value)) {
    const operatorPath = join(path, operator);
    if (!isConditionOperator(operator)) {
      report(
        operatorPath,
        'is not an IAM condition operator, e.g. "StringEquals", "StringLike", "ArnLike", "Bool", "StringEqualsIfExists", "ForAnyValue:StringEquals"',
      );
      ok = false;
      continue;
    }
    if (!isObject(block) || Object.keys(block).length === 0) {
      report(
        operatorPath,
        `${quote(block)} must be a non-empty object of condition keys to values, e.g. {"aws:RequestedRegion": "eu-west-1"}`,
      );
      ok = false;
      continue;
    }
    condition[operator] = {};
    for (const [key, keyValue] of Object.entries(block)) {
      const keyPath = join(operatorPath, key);
      if (!/^[A-Za-z0-9-]+:\S+$/.test(key)) {
        report(keyPath, 'is not a condition key, which is service:name, e.g. "aws:RequestedRegion" or "s3:prefix"');
        ok = false;
        continue;
      }
      const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
      const valid = scalar(keyValue) || (Array.isArray(keyValue) && keyValue.length > 0 && keyValue.every(scalar));
      if (!valid) {
        report(keyPath, `${quote(keyValue)} must be a string, true/false, a number, or a non-empty list of them`);
        ok = false;
        continue;
      }
      condition[operator][key] = Array.isArray(keyValue) ? keyValue.map(String) : String(keyValue);
    }
  }
  return ok ? (condition as Conditions) : undefined;
}

function readStatement(
  path: string,
  value: unknown,
  report: ReportProblem,
  unknownField: UnknownFieldMessage,
): PolicyStatement | undefined {
  if (!isObject(value)) {
    report(path, `${quote(value)} must be a statement object, e.g. ${EXAMPLE_STATEMENT}`);
    return undefined;
  }
  const { fail, failed } = tracked(report);
  for (const key of Object.keys(value)) {
    if ((PRINCIPAL_FIELDS as readonly string[]).includes(key)) {
      fail(
        join(path, key),
        "has no place in a role's permissions policy (the role is the principal); who may assume the role comes from its repositories and environments",
      );
    } else if (!(STATEMENT_FIELDS as readonly string[]).includes(key)) {
      fail(join(path, key), unknownField(key, STATEMENT_FIELDS));
    }
  }
  const { Sid, Effect, Action, NotAction, Resource, NotResource, Condition } = value;
  if (Sid !== undefined && (typeof Sid !== 'string' || !RULES.sid.test(Sid))) fail(join(path, 'Sid'), violation(Sid, RULES.sid));
  if (Effect === undefined) fail(join(path, 'Effect'), 'is required: "Allow" or "Deny"');
  else if (Effect !== 'Allow' && Effect !== 'Deny') fail(join(path, 'Effect'), `${quote(Effect)} must be "Allow" or "Deny" (case matters)`);

  const actionRule = (item: string, itemPath: string) => RULES.action.test(item) || (fail(itemPath, violation(item, RULES.action)), false);
  const resourceRule = (item: string, itemPath: string) =>
    RULES.resource.test(item) || (fail(itemPath, violation(item, RULES.resource)), false);
  const pair = (name: string, notName: string, a: unknown, notA: unknown, what: string, example: string, rule: typeof actionRule) => {
    if (a !== undefined && notA !== undefined) {
      fail(join(path, notName), `cannot be used together with ${name} in one statement: use one of them`);
      return {};
    }
    if (a === undefined && notA === undefined) {
      fail(join(path, name), `is required (or ${notName}), e.g. ${example}`);
      return {};
    }
    const [field, raw] = a !== undefined ? [name, a] : [notName, notA];
    const read = stringOrList(join(path, field), raw, what, example, fail, rule);
    return read === undefined ? {} : { [field]: read };
  };
  const actions = pair('Action', 'NotAction', Action, NotAction, 'actions', '"s3:GetObject"', actionRule);
  const resources = pair('Resource', 'NotResource', Resource, NotResource, 'resources', '"arn:aws:s3:::acme-artifacts/*"', resourceRule);
  const condition = Condition === undefined ? undefined : readCondition(join(path, 'Condition'), Condition, fail);
  if (failed()) return undefined;
  return {
    ...(Sid === undefined ? {} : { Sid: Sid as string }),
    Effect: Effect as 'Allow' | 'Deny',
    ...actions,
    ...resources,
    ...(condition === undefined ? {} : { Condition: condition }),
  } as PolicyStatement;
}

/** The strings of a statement where IAM resolves policy variables: resources and condition values. */
function variableSites(statement: PolicyStatement): string[] {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : typeof v === 'string' ? [v] : v);
  const conditionValues = Object.values(statement.Condition ?? {}).flatMap((block) => Object.values(block ?? {}).flatMap(list));
  return [...list(statement.Resource), ...list(statement.NotResource), ...conditionValues];
}

/**
 * Reads a standard IAM identity policy document (`Version`, `Statement` as an object or a list;
 * `Sid`, `Effect`, `Action`|`NotAction`, `Resource`|`NotResource`, `Condition`, each a string or a
 * list), reporting every problem. Returns the typed document, with `Statement` always a list, or
 * undefined when anything is wrong.
 */
export function readPolicyDocument(
  path: string,
  value: unknown,
  report: ReportProblem,
  unknownField: UnknownFieldMessage = listKnownFields,
): PolicyDocument | undefined {
  const example = `{"Version": "${POLICY_VERSION}", "Statement": [${EXAMPLE_STATEMENT}]}`;
  if (!isObject(value)) {
    report(path, `${quote(value)} must be an IAM policy document, e.g. ${example}`);
    return undefined;
  }
  const { fail, failed } = tracked(report);
  for (const key of Object.keys(value)) {
    if (!(DOCUMENT_FIELDS as readonly string[]).includes(key)) fail(join(path, key), unknownField(key, DOCUMENT_FIELDS));
  }
  const { Version, Id, Statement } = value;
  if (Version === undefined) {
    fail(
      join(path, 'Version'),
      `is required: "${POLICY_VERSION}" (without it IAM reads the policy as ${LEGACY_POLICY_VERSION}, where policy variables do not work)`,
    );
  } else if (Version !== POLICY_VERSION && Version !== LEGACY_POLICY_VERSION) {
    fail(join(path, 'Version'), `${quote(Version)} must be "${POLICY_VERSION}" (or the legacy "${LEGACY_POLICY_VERSION}")`);
  }
  if (Id !== undefined && typeof Id !== 'string') fail(join(path, 'Id'), `${quote(Id)} must be a string`);

  const statementPath = join(path, 'Statement');
  let items: { value: unknown; path: string }[] = [];
  if (Statement === undefined) fail(statementPath, `is required: a statement or a list of statements, e.g. [${EXAMPLE_STATEMENT}]`);
  else if (Array.isArray(Statement)) {
    if (Statement.length === 0) fail(statementPath, `must list at least one statement, e.g. [${EXAMPLE_STATEMENT}]`);
    items = Statement.map((item, i) => ({ value: item, path: join(statementPath, i) }));
  } else items = [{ value: Statement, path: statementPath }];

  const statements: PolicyStatement[] = [];
  const sids = new Map<string, string>();
  for (const item of items) {
    const statement = readStatement(item.path, item.value, fail, unknownField);
    if (statement === undefined) continue;
    if (statement.Sid !== undefined && statement.Sid !== '') {
      const first = sids.get(statement.Sid);
      if (first !== undefined)
        fail(join(item.path, 'Sid'), `${quote(statement.Sid)} is also the Sid of ${first}; Sids must be unique within a policy`);
      else sids.set(statement.Sid, item.path);
    }
    statements.push(statement);
  }
  const withVariable = statements.flatMap(variableSites).find(hasPolicyVariable);
  if (Version === LEGACY_POLICY_VERSION && withVariable !== undefined) {
    fail(
      join(path, 'Version'),
      `"${LEGACY_POLICY_VERSION}" reads policy variables literally (${quote(withVariable)}); they need "Version": "${POLICY_VERSION}"`,
    );
  }
  if (failed()) return undefined;
  return { Version: Version as PolicyDocument['Version'], ...(Id === undefined ? {} : { Id: Id as string }), Statement: statements };
}

/**
 * Checks the inline policies of one role together: IAM's quota on their total size (whitespace
 * excluded). Returns the message of the problem, or undefined.
 */
export function inlinePoliciesSizeProblem(policies: Readonly<Record<string, PolicyDocument>>): string | undefined {
  const total = Object.values(policies).reduce((sum, document) => sum + policySize(document), 0);
  return total > LIMITS.inlinePoliciesPerRoleSize
    ? `the inline policies total ${total} characters (whitespace excluded), which must be at most ${LIMITS.inlinePoliciesPerRoleSize} per role (IAM's quota); move some statements into a managed policy`
    : undefined;
}
