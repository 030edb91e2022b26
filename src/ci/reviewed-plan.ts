/**
 * The digest of a saved Terraform plan's changes: what the plan step shows for review and the deploy
 * step must find again before it applies its own saved plan (`scripts/terraform-oidc.sh`).
 *
 * Input: `terraform show -json <planfile>`. The digest covers, per resource instance, its address
 * (and deposed key), `change.actions`, `change.before`, `change.after` and `change.after_unknown`, and
 * every output change (actions, before, after, after_unknown): the changes a reviewer approves and the
 * values they are computed from. It leaves out what differs between two plans of the same changes:
 * the plan's timestamp, Terraform's version, the configuration's source, variables and prior state.
 * Both sides are written as canonical JSON (object keys sorted, resources in address order), so
 * Terraform's own key order never matters.
 *
 * The plan JSON holds state values (secrets included), so it is only ever piped through this module:
 * the digest is the one thing written down. Its command, `terraform show -json <planfile> | node
 * dist/plan-digest.js` (bundled from `bin/plan-digest.ts`; the plan and deploy steps have node but no
 * node_modules), imports nothing but Node's crypto.
 */
import { createHash } from 'crypto';

/** The prefix of every digest: the algorithm, so that a later change of algorithm is visible. */
export const DIGEST_PREFIX = 'sha256:';

/** A digest as the plan step writes it to `plans/<stack>.digest`. */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** The input is not the JSON of a saved plan. */
export class PlanDigestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanDigestError';
  }
}

/** One resource instance's change, as digested. */
export interface ReviewedResourceChange {
  readonly address: string;
  /** Only for a deposed object (a create_before_destroy leftover). */
  readonly deposed?: string;
  readonly actions: unknown;
  readonly before: unknown;
  readonly after: unknown;
  readonly after_unknown: unknown;
}

/** One output's change, as digested. */
export interface ReviewedOutputChange {
  readonly actions: unknown;
  readonly before: unknown;
  readonly after: unknown;
  readonly after_unknown: unknown;
}

/** Everything the digest covers. */
export interface ReviewedChanges {
  readonly resource_changes: ReviewedResourceChange[];
  readonly output_changes: Record<string, ReviewedOutputChange>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `before`, `after` and `after_unknown` are absent when Terraform has nothing to say: the same as null. */
const orNull = (value: unknown): unknown => (value === undefined ? null : value);

/**
 * The parts of a plan's JSON document that the digest covers. `source` names the input in errors.
 * Throws `PlanDigestError` when the document is not a saved plan's JSON.
 */
export function reviewedChanges(plan: unknown, source: string): ReviewedChanges {
  if (!isObject(plan) || typeof plan.format_version !== 'string' || !isObject(plan.planned_values)) {
    const what =
      isObject(plan) && 'values' in plan ? "a state's JSON (terraform show -json without a plan file)" : 'not the JSON of a saved plan';
    throw new PlanDigestError(
      `${source} is ${what}: it must be the output of terraform show -json <planfile>, an object with "format_version" and "planned_values"`,
    );
  }
  const resource_changes = resourceChangeEntries(plan, 'resource_changes', source).map((entry): ReviewedResourceChange => {
    const { change } = entry;
    return {
      address: entry.address,
      ...(typeof entry.deposed === 'string' ? { deposed: entry.deposed } : {}),
      actions: orNull(change.actions),
      before: orNull(change.before),
      after: orNull(change.after),
      after_unknown: orNull(change.after_unknown),
    };
  });
  resource_changes.sort((a, b) => compare(`${a.address} ${a.deposed ?? ''}`, `${b.address} ${b.deposed ?? ''}`));

  const outputs = plan.output_changes ?? {};
  if (!isObject(outputs)) {
    throw new PlanDigestError(
      `${source}: "output_changes" must be an object of output names, and it is ${JSON.stringify(outputs).slice(0, 60)}`,
    );
  }
  const output_changes: Record<string, ReviewedOutputChange> = {};
  for (const [name, change] of Object.entries(outputs)) {
    if (!isObject(change)) throw new PlanDigestError(`${source}: output_changes.${name} must be an object`);
    output_changes[name] = {
      actions: orNull(change.actions),
      before: orNull(change.before),
      after: orNull(change.after),
      after_unknown: orNull(change.after_unknown),
    };
  }
  return { resource_changes, output_changes };
}

/** One entry of a plan's list of resource instances (`resource_changes`, `resource_drift`), as Terraform writes it. */
export type PlanResourceEntry = Record<string, unknown> & { readonly address: string; readonly change: Record<string, unknown> };

/**
 * The entries of one of a saved plan's lists of resource instances: `resource_changes` (what the plan
 * does) or `resource_drift` (what changed outside Terraform since the last apply). Absent means none.
 * Throws `PlanDigestError` when the list or one of its entries has another shape.
 */
export function resourceChangeEntries(
  plan: Record<string, unknown>,
  list: 'resource_changes' | 'resource_drift',
  source: string,
): PlanResourceEntry[] {
  const entries = plan[list] ?? [];
  if (!Array.isArray(entries)) {
    throw new PlanDigestError(`${source}: "${list}" must be a list, and it is ${JSON.stringify(entries).slice(0, 60)}`);
  }
  return entries.map((entry: unknown, index) => {
    if (!isObject(entry) || typeof entry.address !== 'string' || !isObject(entry.change)) {
      throw new PlanDigestError(`${source}: ${list}[${index}] must be an object with "address" (a string) and "change" (an object)`);
    }
    return entry as PlanResourceEntry;
  });
}

/** Code-unit order, the same on every machine (not the locale's). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON with every object's keys sorted, no whitespace: one text for one value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (isObject(value)) {
    const entries = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort(compare)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The text of `terraform show -json <planfile>`, parsed; throws `PlanDigestError` when it is not JSON. */
export function parsePlanJson(showJson: string, source: string): unknown {
  try {
    return JSON.parse(showJson);
  } catch (error) {
    const reason = showJson.trim() === '' ? 'it is empty' : (error as Error).message;
    throw new PlanDigestError(`${source} is not JSON (${reason}): it must be the output of terraform show -json <planfile>`);
  }
}

/** The digest of a plan given as the text of `terraform show -json <planfile>`. */
export function planDigest(showJson: string, source = 'the plan JSON'): string {
  return digestOf(reviewedChanges(parsePlanJson(showJson, source), source));
}

/** The digest of changes already extracted. */
export function digestOf(changes: ReviewedChanges): string {
  return `${DIGEST_PREFIX}${createHash('sha256').update(canonicalJson(changes)).digest('hex')}`;
}

/** Where a command reads from and writes to. */
export interface CommandOptions {
  readonly argv: readonly string[];
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

export const PLAN_DIGEST_USAGE = `Usage: terraform show -json <planfile> | node dist/plan-digest.js

Prints sha256:<hex>, the digest of the plan's changes: per resource instance its address, actions,
before, after and after_unknown, and every output change (see src/ci/reviewed-plan.ts).`;

/** `plan-digest`: 0 with the digest on stdout, 2 for input that is not a saved plan's JSON. */
export function runPlanDigest(options: CommandOptions & { readonly stdin: string }): number {
  if (options.argv.includes('--help') || options.argv.includes('-h')) {
    options.stdout(PLAN_DIGEST_USAGE);
    return 0;
  }
  if (options.argv.length > 0) {
    options.stderr(
      `error: plan-digest takes no arguments, and it was given ${options.argv.map((a) => JSON.stringify(a)).join(' ')}; it reads the plan's JSON from stdin\n${PLAN_DIGEST_USAGE}`,
    );
    return 2;
  }
  try {
    options.stdout(planDigest(options.stdin, 'the plan JSON on stdin'));
    return 0;
  } catch (error) {
    if (!(error instanceof PlanDigestError)) throw error;
    options.stderr(`error: ${error.message}`);
    return 2;
  }
}
