/**
 * One synthesized stack through real Terraform, offline, against the stub provider: with
 * `zz_backend_override.tf.json` swapping the S3 backend for local state, `init`, `validate`,
 * `plan -out`, `show -json` of the plan, `apply` of the plan, `show -json` of the state. On request,
 * first the untouched stack (S3 backend and all): `init -backend=false`, then `validate`. That proves
 * the backend block parses, no more: Terraform checks a backend's arguments only when it configures
 * the backend, which for S3 means reaching AWS.
 *
 * How Terraform reaches the stub is the caller's choice (`Launch`): installed by `init -plugin-dir` and
 * started by Terraform through go-plugin with AutoMTLS, as a real provider is; or a running stub
 * server named in `TF_REATTACH_PROVIDERS` (see `stub-server.ts`), five times faster.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { SynthesizedStack } from './stacks';
import { describeFailure, terraform, TerraformRun } from './terraform-cli';

/** The parts of `terraform show -json <planfile>` the suites read. */
export interface PlanJson {
  readonly resource_changes?: {
    readonly address: string;
    readonly type: string;
    readonly change: { readonly actions: string[]; readonly after: unknown; readonly after_unknown: unknown; readonly after_sensitive: unknown };
  }[];
  readonly output_changes?: Record<string, { readonly after: unknown; readonly after_unknown: unknown }>;
}

/** A resource of `terraform show -json` (state). */
export interface StateResource {
  readonly address: string;
  readonly type: string;
  readonly values: Record<string, any>;
}

/** The parts of `terraform show -json` (state) the suites read. */
export interface StateJson {
  readonly values?: {
    readonly outputs?: Record<string, { readonly value: unknown }>;
    readonly root_module: { readonly resources?: StateResource[] };
  };
}

/** How Terraform reaches the stub provider. */
export type Launch = 'plugin-dir' | 'reattach';

/** What happened to one stack. */
export interface StackOutcome {
  readonly stack: SynthesizedStack;
  readonly launch: Launch;
  /** `.terraform.lock.hcl` after `init` (Terraform writes none for a reattached provider). */
  readonly lockFile?: string;
  /** Where it ran. */
  readonly workDir: string;
  readonly runs: TerraformRun[];
  /** The first failed step, with Terraform's output. */
  readonly failure?: string;
  readonly plan?: PlanJson;
  readonly state?: StateJson;
}

/** Local state instead of the S3 backend, as an override file (the stack's own files stay untouched). */
export const BACKEND_OVERRIDE = { terraform: { backend: { local: { path: 'terraform.tfstate' } } } };

/** Copies a stack's Terraform file into a fresh folder. */
export function copyStack(stack: SynthesizedStack, workDir: string): void {
  mkdirSync(workDir, { recursive: true });
  copyFileSync(path.join(stack.dir, stack.file), path.join(workDir, stack.file));
}

/** Where the stub is and how Terraform reaches it. */
export interface StubAccess {
  readonly pluginDir: string;
  readonly launch: Launch;
  /** The commands' environment (with `TF_REATTACH_PROVIDERS` for `reattach`). */
  readonly env: NodeJS.ProcessEnv;
  /** Also validate the untouched stack, S3 backend included, before swapping the backend. */
  readonly untouchedFirst?: boolean;
  /**
   * A lock file for the stub (`stub-lock.ts`): the copy of the stack gets it in place of the project's
   * (whose checksums are the real provider's), and every `init` runs with `-lockfile=readonly`.
   */
  readonly lockFile?: string;
}

/** Runs the whole sequence on a stack in `workDir`; stops at the first failing step. */
export async function runStack(stack: SynthesizedStack, workDir: string, access: StubAccess): Promise<StackOutcome> {
  const { pluginDir, launch, env } = access;
  copyStack(stack, workDir);
  if (access.lockFile !== undefined) writeFileSync(path.join(workDir, '.terraform.lock.hcl'), access.lockFile);
  const runs: TerraformRun[] = [];
  const step = async (args: string[]): Promise<TerraformRun | undefined> => {
    const run = await terraform(workDir, args, env);
    runs.push(run);
    return run.code === 0 ? run : undefined;
  };
  const lockFilePath = path.join(workDir, '.terraform.lock.hcl');
  const lockFile = () => (existsSync(lockFilePath) ? readFileSync(lockFilePath, 'utf8') : undefined);
  const stubLog = env.TF_STUB_AWS_LOG;
  const failed = (): StackOutcome => {
    const log = stubLog !== undefined && existsSync(stubLog) ? `\nThe stub's log (${stubLog}):\n${readFileSync(stubLog, 'utf8').split('\n').slice(-30).join('\n')}` : '';
    return { stack, launch, workDir, runs, lockFile: lockFile(), failure: describeFailure(runs[runs.length - 1], workDir) + log };
  };

  const init = ['init', '-input=false', '-no-color', `-plugin-dir=${pluginDir}`, ...(access.lockFile === undefined ? [] : ['-lockfile=readonly'])];
  const validate = ['validate', '-no-color'];
  if (access.untouchedFirst === true && (!(await step([...init, '-backend=false'])) || !(await step(validate)))) return failed();

  writeFileSync(path.join(workDir, 'zz_backend_override.tf.json'), JSON.stringify(BACKEND_OVERRIDE));
  if (!(await step(init)) || !(await step(validate)) || !(await step(['plan', '-input=false', '-no-color', '-out=tfplan']))) return failed();
  const planJson = await step(['show', '-json', '-no-color', 'tfplan']);
  if (!planJson) return failed();
  if (!(await step(['apply', '-input=false', '-no-color', '-auto-approve', 'tfplan']))) return failed();
  const stateJson = await step(['show', '-json', '-no-color']);
  if (!stateJson) return failed();
  return { stack, launch, workDir, runs, lockFile: lockFile(), plan: JSON.parse(planJson.stdout) as PlanJson, state: JSON.parse(stateJson.stdout) as StateJson };
}

/**
 * `terraform validate` of a copy of a stack whose file `edit` changed (e.g. a misspelt argument). Not
 * through an override file: Terraform merges an override's arguments only where the original
 * block has them, and silently drops any other (so a misspelling there passes validation).
 */
export async function validateEdited(
  stack: SynthesizedStack,
  workDir: string,
  edit: (text: string) => string,
  pluginDir: string,
  env: NodeJS.ProcessEnv,
): Promise<TerraformRun> {
  copyStack(stack, workDir);
  const file = path.join(workDir, stack.file);
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  const init = await terraform(workDir, ['init', '-input=false', '-no-color', '-backend=false', `-plugin-dir=${pluginDir}`], env);
  return init.code === 0 ? terraform(workDir, ['validate', '-no-color'], env) : init;
}

/** The planned values of every resource and output, by address: what must not depend on JSON vs HCL. */
export function plannedValues(plan: PlanJson): Record<string, unknown> {
  const resources = (plan.resource_changes ?? []).map((r) => [
    r.address,
    { actions: r.change.actions, after: r.change.after, after_unknown: r.change.after_unknown, after_sensitive: r.change.after_sensitive },
  ]);
  const outputs = Object.entries(plan.output_changes ?? {}).map(([name, o]) => [`output.${name}`, { after: o.after, after_unknown: o.after_unknown }]);
  return Object.fromEntries([...resources, ...outputs]);
}

/** The resources of a state, optionally of one type. */
export function stateResources(state: StateJson | undefined, type?: string): StateResource[] {
  const all = state?.values?.root_module.resources ?? [];
  return type === undefined ? all : all.filter((r) => r.type === type);
}
