/**
 * Test support for `scripts/terraform-oidc.sh`: a working folder laid out as a pipeline step finds it
 * (synthesized-looking stacks, the bundled doctor, plan digest and plan changes), a stand-in
 * `terraform`, and a run of the script with a step's environment.
 *
 * The stand-in logs every call (role, session, token file, token, arguments) to `terraform.log`. Its
 * "infrastructure" is one file per stack, `world/<stack>.json`: the JSON `terraform show -json`
 * prints for a plan made now. `plan -out=<file>` copies it into the plan file, so a plan made before
 * the world changed keeps the old changes, as a real saved plan does. `world/<stack>.fail` makes that
 * stack's plan fail. `plan -detailed-exitcode` exits 2 when that JSON has a change (an action other
 * than `no-op`), as Terraform does.
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import { buildSync } from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stackName } from '../../src/config/types';
import { EXAMPLE_CONFIG_FILE, ROOT } from './doctor';

export const TERRAFORM_SCRIPT = path.join(ROOT, 'scripts', 'terraform-oidc.sh');

/** The stand-in terraform (bash), copied next to its log and world. */
const STAND_IN = path.join(__dirname, 'terraform-stand-in.sh');

/** A plan's `terraform show -json` document with one role to create, named `role`. */
export function planJson(role: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format_version: '1.2',
    terraform_version: '1.14.7',
    timestamp: new Date().toISOString(),
    planned_values: { root_module: {} },
    resource_changes: [
      {
        address: `aws_iam_role.${role}`,
        mode: 'managed',
        type: 'aws_iam_role',
        name: role,
        change: {
          actions: ['create'],
          before: null,
          after: { name: role, path: '/bitbucket/' },
          after_unknown: { arn: true, id: true },
          before_sensitive: false,
          after_sensitive: {},
        },
      },
    ],
    output_changes: { role_arns: { actions: ['create'], before: null, after_unknown: true } },
    ...extra,
  };
}

/** One call of the stand-in terraform. */
export interface TerraformCall {
  readonly roleArn: string;
  readonly session: string;
  readonly tokenFile: string;
  readonly token: string;
  readonly args: string;
}

/** A working folder for the script, with its stand-in terraform. */
export interface ScriptWorld {
  readonly dir: string;
  /** Sets what a plan of the account's workload stack would contain from now on. */
  setPlan(account: string, plan: Record<string, unknown>): void;
  /** Makes the account's plans fail (or work again). */
  failPlans(account: string, fail: boolean): void;
  /** The calls of the stand-in since the last `clearLog`. */
  calls(): TerraformCall[];
  clearLog(): void;
  /** Runs the script; `token` undefined leaves BITBUCKET_STEP_OIDC_TOKEN unset. */
  run(args: string[], token: string | undefined, extra?: NodeJS.ProcessEnv): SpawnSyncReturns<string>;
  /** A file of the folder, or undefined when it is missing. */
  read(file: string): string | undefined;
  remove(): void;
}

/** The accounts of the example configuration, which the stacks are named after. */
export const EXAMPLE_ACCOUNTS = ['staging', 'production'] as const;

/** Makes a working folder: stacks of the example's accounts, the bundles, the stand-in terraform. */
export function scriptWorld(prefix: string): ScriptWorld {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  // The bundles the pipeline builds (npm run build:explain, build:plan-digest, build:plan-changes), in one build.
  buildSync({
    entryPoints: ['explain', 'plan-digest', 'plan-changes'].map((name) => path.join(ROOT, 'src', 'cli', `${name}.ts`)),
    bundle: true,
    platform: 'node',
    target: 'node20',
    outdir: path.join(dir, 'dist'),
    logLevel: 'warning',
  });
  mkdirSync(path.join(dir, 'world'));
  // Named as the synth names them, so the script's stack prefix cannot drift from stackName().
  for (const name of EXAMPLE_ACCOUNTS) {
    mkdirSync(path.join(dir, 'cdktf.out', 'stacks', stackName({ name }, 'workload')), { recursive: true });
    mkdirSync(path.join(dir, 'cdktf.out', 'stacks', stackName({ name }, 'bootstrap')), { recursive: true });
    writeFileSync(path.join(dir, 'world', `${stackName({ name }, 'workload')}.json`), JSON.stringify(planJson(`${name}-deploy`)));
  }
  const terraform = path.join(dir, 'terraform');
  copyFileSync(STAND_IN, terraform);
  chmodSync(terraform, 0o755);
  const log = path.join(dir, 'terraform.log');

  return {
    dir,
    setPlan: (account, plan) =>
      writeFileSync(path.join(dir, 'world', `${stackName({ name: account }, 'workload')}.json`), JSON.stringify(plan)),
    failPlans: (account, fail) => {
      const marker = path.join(dir, 'world', `${stackName({ name: account }, 'workload')}.fail`);
      if (fail) writeFileSync(marker, '');
      else rmSync(marker, { force: true });
    },
    calls: () =>
      (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []).map((line) => {
        const [roleArn, session, tokenFile, token, args] = line.split('|');
        return { roleArn, session, tokenFile, token, args };
      }),
    clearLog: () => rmSync(log, { force: true }),
    run: (args, token, extra = {}) => {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: dir,
        BITBUCKET_OIDC_CONFIG: EXAMPLE_CONFIG_FILE,
        BITBUCKET_BUILD_NUMBER: '42',
        TERRAFORM: terraform,
        ...(token === undefined ? {} : { BITBUCKET_STEP_OIDC_TOKEN: token }),
        ...extra,
      };
      return spawnSync('bash', [TERRAFORM_SCRIPT, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
    },
    read: (file) => (existsSync(path.join(dir, file)) ? readFileSync(path.join(dir, file), 'utf8') : undefined),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
