/**
 * BBOIDC-IAM1: the role is administrator, or can make itself one.
 */
import { actionMatches, IAM_ESCALATION_ACTIONS, isWriteAction, splitAction } from '../action-classes';
import { quoteList } from '../labels';
import { ADMIN_POLICIES, awsManagedPolicyName, POWER_USER_POLICY } from '../managed-policies';
import { allowStatements, coversEveryResource, coversIamResources, onResources, StatementView, statementLabel } from '../statements';
import { FindingRole, FindingRule, RuleHit } from '../finding';

/** Condition keys that limit IAM writes to what an administrator set up (a boundary, a policy). */
const IAM_LIMITING_CONDITION_KEYS = ['iam:permissionsboundary', 'iam:policyarn'];

export const AdminEquivalent: FindingRule = {
  id: 'BBOIDC-IAM1',
  level: 'error',
  summary: 'The role has administrator permissions, or IAM writes that let it grant itself administrator permissions.',
  why:
    'Anything that runs in a step the role trusts (a compromised dependency, a pushed pipeline file) then controls the ' +
    'whole account, IAM included: it can create users, access keys or roles that outlive the short-lived ' +
    'pipeline credentials, and remove the guard rails that would show it.',
  fix:
    'Grant the actions the pipeline deploys with, on the resources it owns. If it must manage IAM, allow only the ' +
    'IAM actions it needs, on a role path (arn:aws:iam::<account>:role/bitbucket/*), with a permissions boundary ' +
    'required by an iam:PermissionsBoundary condition, as the AWS CDK bootstrap does. Suppress only with a dated reason.',
  check(role: FindingRole): RuleHit[] {
    const hits: RuleHit[] = [];
    const managed = role.managedPolicyArns.map((arn) => ({ arn, name: awsManagedPolicyName(arn) }));
    const powerUser = managed.find((m) => m.name === POWER_USER_POLICY);
    for (const { arn, name } of managed) {
      // IAMFullAccess next to PowerUserAccess is reported once, as the pair below.
      if (name === 'IAMFullAccess' && powerUser !== undefined) continue;
      if (name !== undefined && Object.prototype.hasOwnProperty.call(ADMIN_POLICIES, name)) {
        hits.push({ message: `managed policy ${JSON.stringify(arn)} ${ADMIN_POLICIES[name]}` });
      }
    }
    const statements = allowStatements(role);
    if (powerUser !== undefined) {
      const iamWriters = [
        ...managed.filter((m) => m.name === 'IAMFullAccess').map((m) => `managed policy ${JSON.stringify(m.arn)}`),
        ...statements.filter(allowsIamWrite).map(statementLabel),
      ];
      if (iamWriters.length > 0) {
        hits.push({
          message:
            `managed policy ${JSON.stringify(powerUser.arn)} allows everything but IAM, and ${iamWriters.join(', ')} ` +
            'allows IAM writes: together they are administrator (create a role with AdministratorAccess and pass it to a Lambda function)',
        });
      }
    }
    for (const statement of statements) {
      const hit = statementHit(statement);
      if (hit !== undefined) hits.push({ message: `${statementLabel(statement)} ${hit}` });
    }
    return hits;
  },
};

/** What makes one Allow statement administrator-equivalent, or undefined. */
function statementHit(statement: StatementView): string | undefined {
  const resources = onResources(statement);
  const everything = statement.actions.filter((a) => a === '*' || /^\*:\*+$/.test(a));
  if (everything.length > 0 && coversEveryResource(statement)) {
    return `allows "Action": ${quoteList(everything)} ${resources}: every action of every service`;
  }
  const iamAll = statement.actions.filter((a) => splitAction(a).service.toLowerCase() === 'iam' && /^\*+$/.test(splitAction(a).name));
  if (iamAll.length > 0) {
    return `allows ${quoteList(iamAll)} ${resources}: it can rewrite its own policies and remove its own permissions boundary`;
  }
  const limited = statement.conditionKeys.some((key) => IAM_LIMITING_CONDITION_KEYS.includes(key.toLowerCase()));
  if (!limited && coversIamResources(statement)) {
    const escalating = statement.actions.filter((pattern) => IAM_ESCALATION_ACTIONS.some((action) => actionMatches(pattern, action)));
    if (escalating.length > 0) {
      return (
        `allows ${quoteList(escalating)} ${resources} without an iam:PermissionsBoundary or iam:PolicyARN condition: ` +
        'it can attach AdministratorAccess to itself or to a role it passes'
      );
    }
  }
  if (statement.notActions !== undefined && coversEveryResource(statement)) {
    const left = leftIamWrites(statement.notActions);
    if (left.length > 0) {
      const shown =
        left.length > 3
          ? `${left
              .slice(0, 3)
              .map((a) => JSON.stringify(a))
              .join(', ')} and ${left.length - 3} more IAM writes`
          : quoteList(left);
      return `allows every action except ${quoteList(statement.notActions)} ${resources}, which leaves ${shown} allowed`;
    }
  }
  return undefined;
}

/** The IAM escalation actions that a `NotAction` list does not exclude. */
function leftIamWrites(notActions: readonly string[]): string[] {
  return IAM_ESCALATION_ACTIONS.filter((action) => !notActions.some((pattern) => actionMatches(pattern, action)));
}

/** Whether an Allow statement allows some IAM write, on any resource. */
function allowsIamWrite(statement: StatementView): boolean {
  if (statement.notActions !== undefined) return leftIamWrites(statement.notActions).length > 0;
  return statement.actions.some((pattern) => {
    const service = splitAction(pattern).service.toLowerCase();
    return (service === 'iam' || service === '*') && isWriteAction(pattern);
  });
}
