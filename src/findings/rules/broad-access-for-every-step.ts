/**
 * BBOIDC-IAM2: a role that every step of a repository may assume can write, or read data broadly.
 */
import { classifyAction } from '../action-classes';
import { quoteList } from '../labels';
import {
  ADMIN_POLICIES,
  awsManagedPolicyName,
  DATA_READING_POLICIES,
  METADATA_ONLY_POLICIES,
  POWER_USER_POLICY,
} from '../managed-policies';
import { allowStatements, isBroadResource, onResources, StatementView, statementLabel } from '../statements';
import { everyStepScope } from '../trust';
import { FindingRole, FindingRule, RuleHit } from '../finding';

/**
 * The writes a plan must make to take Terraform's S3 lock (`use_lockfile`): allowed on lock objects,
 * which hold no state, so a read-only plan role need not be suppressed wholesale.
 */
const TERRAFORM_LOCK_WRITES = ['s3:putobject', 's3:deleteobject'];

export const BroadAccessForEveryStep: FindingRule = {
  id: 'BBOIDC-IAM2',
  level: 'error',
  summary: 'A role that every step of a repository may assume (pull requests included) can write, or read data broadly.',
  why:
    'The trust admits {REPOSITORY}:*: every branch and every pull-request pipeline. Whoever can push a branch writes ' +
    "that step's script and so controls its token; nothing in IAM can tell a pull request from main. Writes let a " +
    'branch change the account; data reads let it copy objects, items, secrets and logs out.',
  fix:
    'Move writes and data reads to a role trusted only by a deployment environment ("environments": ["{ENVIRONMENT_UUID}"]), ' +
    'whose branch restrictions Bitbucket enforces. Keep the every-step role to metadata: ViewOnlyAccess, or inline ' +
    'Describe*/List*/Get* of configuration on named resources (and the Terraform state object a plan reads).',
  check(role: FindingRole): RuleHit[] {
    const scope = everyStepScope(role);
    if (scope === undefined) return [];
    const trusted = `, and ${scope} may assume the role`;
    const hits: RuleHit[] = [];
    for (const arn of role.managedPolicyArns) {
      const what = managedPolicyProblem(arn);
      if (what !== undefined) hits.push({ message: `managed policy ${JSON.stringify(arn)} ${what}${trusted}` });
    }
    for (const statement of allowStatements(role)) {
      const writes = writeActions(statement);
      if (writes !== undefined) hits.push({ message: `${statementLabel(statement)} ${writes}${trusted}` });
      const reads = broadDataReads(statement);
      if (reads !== undefined) hits.push({ message: `${statementLabel(statement)} ${reads}${trusted}` });
    }
    return hits;
  },
};

/** What a managed policy may do beyond reading metadata, or undefined when it only reads metadata. */
function managedPolicyProblem(arn: string): string | undefined {
  const name = awsManagedPolicyName(arn);
  if (name === undefined) return 'is customer managed: its contents are not visible at synth, so it may write or read data';
  if (METADATA_ONLY_POLICIES.includes(name)) return undefined;
  if (Object.prototype.hasOwnProperty.call(DATA_READING_POLICIES, name)) return `reads data: it ${DATA_READING_POLICIES[name]}`;
  if (Object.prototype.hasOwnProperty.call(ADMIN_POLICIES, name) || name === POWER_USER_POLICY) return 'allows writes';
  return 'is not known to read metadata only, so it may write or read data';
}

/** The writes a statement allows, described, or undefined. */
function writeActions(statement: StatementView): string | undefined {
  if (statement.notActions !== undefined) {
    return `allows every action except ${quoteList(statement.notActions)}, writes included`;
  }
  const lockOnly = statement.resources.length > 0 && statement.resources.every((r) => r.endsWith('.tflock'));
  const writes = statement.actions.filter(
    (action) => classifyAction(action) === 'write' && !(lockOnly && TERRAFORM_LOCK_WRITES.includes(action.toLowerCase())),
  );
  return writes.length === 0 ? undefined : `allows write actions ${quoteList(writes)} ${onResources(statement)}`;
}

/** The data reads a statement allows on every resource (of a type), described, or undefined. */
function broadDataReads(statement: StatementView): string | undefined {
  if (statement.notActions !== undefined) return undefined; // reported as writes
  const broad = statement.resources.filter(isBroadResource);
  if (statement.notResources === undefined && broad.length === 0) return undefined;
  const reads = statement.actions.filter((action) => classifyAction(action) === 'data-read');
  return reads.length === 0 ? undefined : `allows data reads ${quoteList(reads)} ${onResources(statement, broad)}`;
}
