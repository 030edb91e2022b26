/**
 * A saved plan's changes as lines a person reads, one per resource instance the plan would change and
 * one per root output: what the drift check (`scripts/terraform-oidc.sh drift`) prints when
 * `terraform plan -detailed-exitcode` finds changes. Each resource line says why, from the plan's
 * `resource_drift` (what Terraform's refresh found changed since the last apply): changed or deleted
 * outside Terraform (a console edit), or not yet applied (the configuration was changed and not
 * deployed).
 *
 * Input: `terraform show -json <planfile>`, read with the plan digest's checks
 * (`reviewed-plan.ts`), piped through `node dist/plan-changes.js` as the digest is: the JSON holds
 * the state's values, and only the lines (addresses and actions, no values) are printed.
 */
import { CommandOptions, parsePlanJson, PlanDigestError, resourceChangeEntries, reviewedChanges } from './reviewed-plan';

/** How a list of actions reads, e.g. `["delete","create"]`: `replace (delete, then create)`. */
const ACTION_WORDS: Readonly<Record<string, string>> = {
  create: 'create',
  update: 'update',
  delete: 'delete',
  read: 'read',
  forget: 'forget (leave it in AWS, drop it from the state)',
  'delete,create': 'replace (delete, then create)',
  'create,delete': 'replace (create, then delete)',
};

const NO_OP = 'no-op';

/** Why a managed resource instance changes, from the plan's `resource_drift` entry for it (or its absence). */
export const CHANGED_OUTSIDE = 'changed outside Terraform';
export const DELETED_OUTSIDE = 'deleted outside Terraform';
export const NOT_APPLIED = 'not applied yet: the configuration differs from the last apply';

/** `change.actions` as a list of action names (Terraform always writes a list). */
const actionList = (actions: unknown): string[] => (Array.isArray(actions) ? actions.map(String) : [String(actions)]);
/** One resource instance: its address and, for a deposed object, its key. */
const instanceKey = (entry: { readonly address: string; readonly deposed?: unknown }): string =>
  `${entry.address} ${typeof entry.deposed === 'string' ? entry.deposed : ''}`;

/** The words for one list of actions (an unknown combination as Terraform names it, never dropped). */
export function actionWords(actions: readonly string[]): string {
  return ACTION_WORDS[actions.join(',')] ?? actions.join(', ');
}

/**
 * The lines of a plan's changes, resources in address order, then outputs: e.g.
 * `aws_iam_role.deployer: update (changed outside Terraform)`, `output.role_arns: update`.
 * A resource instance with only `no-op` is no change, unless it moves (`moved from <address>`) or is
 * imported (`import <id>`), as Terraform counts them. Throws `PlanDigestError` when the input is not a
 * saved plan's JSON.
 */
export function planChangeLines(showJson: string, source = 'the plan JSON'): string[] {
  const plan = parsePlanJson(showJson, source);
  // Checks the document as the digest does, and gives the changes in the digest's order.
  const { resource_changes, output_changes } = reviewedChanges(plan, source);
  const document = plan as Record<string, unknown>;
  const entries = new Map(resourceChangeEntries(document, 'resource_changes', source).map((entry) => [instanceKey(entry), entry]));
  const drift = new Map(
    resourceChangeEntries(document, 'resource_drift', source).map((entry) => [instanceKey(entry), actionList(entry.change.actions)]),
  );

  const resources = resource_changes.flatMap((change) => {
    const entry = entries.get(instanceKey(change))!;
    const actions = actionList(change.actions).filter((action) => action !== NO_OP);
    // `importing` is an object for an import block (`{ "id": ... }`, or an identity without an id).
    const importing = typeof entry.change.importing === 'object' && entry.change.importing !== null ? entry.change.importing : undefined;
    const moved = typeof entry.previous_address === 'string' ? entry.previous_address : undefined;
    if (actions.length === 0 && importing === undefined && moved === undefined) return [];
    const importId = (importing as { id?: unknown } | undefined)?.id;
    const what = [
      ...(importing === undefined ? [] : [`import ${typeof importId === 'string' ? importId : '(by identity)'}`]),
      ...(actions.length === 0 ? [] : [actionWords(actions)]),
      ...(moved === undefined ? [] : [`moved from ${moved}`]),
    ].join(', then ');
    const deposed = change.deposed === undefined ? '' : ` (deposed object ${change.deposed})`;
    const why = entry.mode === 'data' ? '' : ` (${reasonOf(drift.get(instanceKey(change)))})`;
    return [`${change.address}${deposed}: ${what}${why}`];
  });
  const outputs = Object.entries(output_changes).flatMap(([name, change]) => {
    const actions = actionList(change.actions).filter((action) => action !== NO_OP);
    return actions.length === 0 ? [] : [`output.${name}: ${actionWords(actions)}`];
  });
  return [...resources, ...outputs];
}

/** Why a managed resource instance changes, from its `resource_drift` actions (undefined: no drift). */
function reasonOf(driftActions: readonly string[] | undefined): string {
  if (driftActions === undefined || driftActions.every((action) => action === NO_OP)) return NOT_APPLIED;
  return driftActions.includes('delete') ? DELETED_OUTSIDE : CHANGED_OUTSIDE;
}

export const PLAN_CHANGES_USAGE = `Usage: terraform show -json <planfile> | node dist/plan-changes.js

Prints one line per change of the plan: each resource instance it would change (its address, the
action, and whether it changed outside Terraform or is not applied yet), then each output that
changes. Prints nothing for a plan without changes (see src/ci/plan-changes.ts).`;

/** `plan-changes`: 0 with the lines on stdout, 2 for input that is not a saved plan's JSON. */
export function runPlanChanges(options: CommandOptions & { readonly stdin: string }): number {
  if (options.argv.includes('--help') || options.argv.includes('-h')) {
    options.stdout(PLAN_CHANGES_USAGE);
    return 0;
  }
  if (options.argv.length > 0) {
    options.stderr(
      `error: plan-changes takes no arguments, and it was given ${options.argv.map((a) => JSON.stringify(a)).join(' ')}; it reads the plan's JSON from stdin\n${PLAN_CHANGES_USAGE}`,
    );
    return 2;
  }
  try {
    for (const line of planChangeLines(options.stdin, 'the plan JSON on stdin')) options.stdout(line);
    return 0;
  } catch (error) {
    if (!(error instanceof PlanDigestError)) throw error;
    options.stderr(`error: ${error.message}`);
    return 2;
  }
}
