/**
 * The permission table of docs/permissions.md, rendered from the same builders as the policies, so the two cannot
 * drift: one row per statement (role, statement ID, effect, actions, resources, conditions).
 */
import { asList, PolicyDocument } from '../iam/policy';
import { boundaryPolicy } from './boundary';
import { PipelinePolicyContext } from './policy-context';
import { deployRolePolicy } from './deploy-role';
import { planRolePolicy } from './plan-role';

/** One statement as a table row. */
export interface PermissionRow {
  /** Who holds the statement, e.g. `plan role`. */
  readonly holder: string;
  readonly sid: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** One entry per operator and key: `StringEquals iam:PermissionsBoundary = arn:...`. */
  readonly conditions: readonly string[];
}

/** The holders' labels, named once. */
export const PERMISSION_HOLDERS = {
  plan: 'plan role',
  deploy: 'deploy role',
  boundary: 'workload boundary',
} as const;

/** A policy's statements as rows. */
export function permissionRows(holder: string, document: PolicyDocument): PermissionRow[] {
  return document.Statement.map((statement) => ({
    holder,
    sid: statement.Sid ?? '',
    effect: statement.Effect,
    actions: asList(statement.Action),
    resources: asList(statement.Resource),
    conditions: Object.entries(statement.Condition ?? {}).flatMap(([operator, block]) =>
      Object.entries(block ?? {}).map(([key, value]) => `${operator} ${key} = ${asList(value).join(' or ')}`),
    ),
  }));
}

/** The rows of the plan role, the deploy role and (with `includeBoundary`) the boundary. */
export function pipelinePermissionRows(context: PipelinePolicyContext, options: { includeBoundary?: boolean } = {}): PermissionRow[] {
  const { includeBoundary = false } = options;
  return [
    ...permissionRows(PERMISSION_HOLDERS.plan, planRolePolicy(context)),
    ...permissionRows(PERMISSION_HOLDERS.deploy, deployRolePolicy(context)),
    ...(includeBoundary ? permissionRows(PERMISSION_HOLDERS.boundary, boundaryPolicy(context)) : []),
  ];
}

/** A value as Markdown code in a table cell (`|` escaped, so an ARN or a condition cannot split the row). */
function code(value: string): string {
  return `\`${value.replace(/\|/g, '\\|')}\``;
}

/**
 * The permission table in Markdown, for docs/permissions.md.
 *
 * @example permissionTableMarkdown({ partition: 'aws', accountId: '123456789012', workspace: 'acme',
 *   state: { bucket: 'acme-terraform-state', key: 'bitbucket-oidc/123456789012/workload.tfstate' } })
 */
export function permissionTableMarkdown(context: PipelinePolicyContext, options: { includeBoundary?: boolean } = {}): string {
  const header = ['| Role | Statement | Effect | Actions | Resources | Conditions |', '|---|---|---|---|---|---|'];
  const rows = pipelinePermissionRows(context, options).map(
    (row) =>
      `| ${[
        row.holder,
        row.sid,
        row.effect,
        row.actions.map(code).join('<br>'),
        row.resources.map(code).join('<br>'),
        row.conditions.length === 0 ? '' : row.conditions.map(code).join('<br>'),
      ].join(' | ')} |`,
  );
  return [...header, ...rows].join('\n');
}

/**
 * A resource policy (the state bucket's) as a Markdown table for docs/permissions.md: one row per statement,
 * with its principal.
 */
export function resourcePolicyTableMarkdown(document: PolicyDocument): string {
  const header = ['| Statement | Effect | Principal | Actions | Resources | Conditions |', '|---|---|---|---|---|---|'];
  const rows = permissionRows('', document).map((row, i) => {
    const principal = document.Statement[i].Principal ?? {};
    const principals = Object.entries(principal as Record<string, string | string[]>).flatMap(([kind, value]) =>
      asList(value).map((p) => `${kind}: ${p}`),
    );
    return `| ${[
      row.sid,
      row.effect,
      principals.map(code).join('<br>'),
      row.actions.map(code).join('<br>'),
      row.resources.map(code).join('<br>'),
      row.conditions.length === 0 ? '' : row.conditions.map(code).join('<br>'),
    ].join(' | ')} |`;
  });
  return [...header, ...rows].join('\n');
}
