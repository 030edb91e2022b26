/**
 * The synth entry point: load and validate the configuration, report every problem at once (exit 1,
 * nothing written), else write one stack per account to `cdktf.out/stacks/`.
 *
 * Every failure a user can fix (the configuration, the output folder) is an `error: ...` line naming
 * the file or folder and what to do; `main` turns anything else into one line asking for a bug report.
 */
import { readdirSync, rmSync, statSync } from 'fs';
import * as path from 'path';
import { buildApp } from '../stacks/app';
import { skipTokenCreationStacks } from '../stacks/creation-stacks';
import { copyLockFileIntoStacks } from '../stacks/lock-file';
import { stackName } from '../config/types';
import { CONFIG_ENV_VAR, loadConfig } from '../config/load';
import { ConfigError } from '../config/validate';
import { pipelineFitWarnings } from '../ci/pipeline-fit';

/** Where synth reads from and reports to; the defaults are the process's. */
export interface SynthOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** @default - `CDKTF_OUTDIR` (set by the cdktf CLI), else `cdktf.out` */
  readonly outdir?: string;
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
}

const OUTDIR_ENV_VAR = 'CDKTF_OUTDIR';

/** Runs the synth; returns the process exit code. Throws only on what is not the user's to fix (a bug). */
export function synthesize(options: SynthOptions = {}): number {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const { out, err } = streams(options);
  const outdir = path.resolve(cwd, options.outdir ?? env[OUTDIR_ENV_VAR] ?? 'cdktf.out');
  const fromEnv = options.outdir === undefined && env[OUTDIR_ENV_VAR] !== undefined;
  const stacksDir = path.join(outdir, 'stacks');
  const shown = (file: string) => path.relative(cwd, file) || file;

  let loaded;
  try {
    loaded = loadConfig(env, cwd);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err(`error: ${error.message}`);
    // Stacks of an earlier run must not be deployed (`cdktf deploy --skip-synth`) as if they were this config's.
    let removed = '';
    try {
      if (statOf(stacksDir) !== undefined) {
        rmSync(stacksDir, { recursive: true, force: true });
        removed = ` (the previous stacks in ${shown(stacksDir)} were removed, so they cannot be deployed by mistake)`;
      }
    } catch (rmError) {
      if (!isFileSystemError(rmError)) throw rmError;
      removed = ` (the previous stacks in ${shown(stacksDir)} could not be removed, ${rmError.code}: delete them before deploying)`;
    }
    err(`Nothing was synthesized${removed}. Fix the problems above and run again.`);
    return 1;
  }
  const { config, warnings, file, isExample } = loaded;
  if (isExample) {
    err(
      `note: ${CONFIG_ENV_VAR} is not set, so the bundled example ${shown(file)} is used; its accounts are AWS's documentation accounts, so it can never be applied. Set ${CONFIG_ENV_VAR}=path/to/your-config.json.`,
    );
  }
  for (const warning of warnings) err(`warning: ${warning}`);
  for (const warning of pipelineFitWarnings(config, { cwd, configFile: shown(file) })) err(`warning: ${warning}`);

  const unusable = outdirProblem(outdir, fromEnv);
  if (unusable !== undefined) {
    err(`error: ${unusable}`);
    err('Nothing was synthesized.');
    return 1;
  }
  try {
    clearStacks(stacksDir, launchedByCdktfCli(env));
    const { app } = buildApp(config, { outdir });
    app.synth();
    // The provider lock file (terraform/.terraform.lock.hcl) into every stack; refuses a lock of another version.
    if (!copyLockFileIntoStacks(outdir, err)) return 1;
  } catch (error) {
    if (!isFileSystemError(error)) throw error;
    err(`error: ${describeWriteError(error, outdir, fromEnv)}`);
    // Half-written stacks must not be deployed either.
    try {
      rmSync(stacksDir, { recursive: true, force: true });
    } catch {
      // the write failed already; the message above names the folder
    }
    err('Nothing was synthesized.');
    return 1;
  }

  out(`Synthesized ${config.accounts.length * 2} stack(s) from ${shown(file)} into ${shown(stacksDir)}/:`);
  for (const account of config.accounts) {
    const provider = account.reuseProvider ? 'reuses the existing OIDC provider' : 'creates the OIDC provider';
    const boundary = account.boundary.create
      ? `creates the boundary ${account.boundary.name}`
      : `uses the boundary ${account.boundary.arn}`;
    const pipelineRoles =
      account.pipelineRoles.length === 0 ? 'no pipeline roles' : `pipeline roles ${account.pipelineRoles.map((r) => r.name).join(', ')}`;
    const roles = account.roles.length === 0 ? 'no roles' : `roles ${account.roles.map((r) => r.name).join(', ')}`;
    const bucket = config.state.account?.name === account.name ? `, creates the state bucket ${config.state.bucket}` : '';
    out(
      `  ${stackName(account, 'bootstrap')}: account ${account.accountId} (apply as an administrator), ${provider}, ${boundary}, ${pipelineRoles}${bucket}`,
    );
    out(
      `  ${stackName(account, 'workload')}: account ${account.accountId} (the pipeline applies it), ${roles} under ${account.workloadPath}`,
    );
  }
  return 0;
}

/**
 * The process entry (`main.ts`): the synth's exit code, and for an exception the synth did not expect
 * one `error:` line and a request to report it; the stack trace only when `DEBUG` is set.
 */
export function main(options: SynthOptions = {}): number {
  const env = options.env ?? process.env;
  const { err } = streams(options);
  const debug = env.DEBUG !== undefined && !['', '0', 'false'].includes(env.DEBUG);
  const restore = debug ? () => undefined : skipTokenCreationStacks();
  try {
    return synthesize(options);
  } catch (error) {
    const { name, message: text, stack } = (typeof error === 'object' && error !== null ? error : {}) as Partial<Error>;
    const message = typeof text === 'string' ? `${name ?? 'Error'}: ${text}` : String(error);
    const [first, ...more] = message.split('\n').filter((line) => line.trim() !== '');
    err(`error: the synth failed unexpectedly: ${first ?? 'no message'}${more.length > 0 && !debug ? ' (...)' : ''}`);
    if (debug) err(typeof stack === 'string' ? stack : message);
    err(`This is a bug, please report it${debug ? ' with the output above' : ' with the output of the same command run with DEBUG=1'}.`);
    return 1;
  } finally {
    restore();
  }
}

function streams(options: SynthOptions): { out: (line: string) => void; err: (line: string) => void } {
  return {
    out: options.stdout ?? ((line: string) => process.stdout.write(`${line}\n`)),
    err: options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`)),
  };
}

/** An error of a file-system call (it has an errno code, the call and usually the path). */
function isFileSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  // Not `instanceof Error`: errors of Node's fs come from another realm under jest.
  const { code, syscall } = (typeof error === 'object' && error !== null ? error : {}) as NodeJS.ErrnoException;
  return typeof code === 'string' && typeof syscall === 'string';
}

/** The output folder, and where its path came from. */
const named = (outdir: string, fromEnv: boolean) => `the output folder ${outdir}${fromEnv ? ` (${OUTDIR_ENV_VAR})` : ''}`;

/** A path's status; `undefined` when nothing is there, also when a part of the path is a file (ENOTDIR). */
function statOf(file: string): ReturnType<typeof statSync> {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    if (isFileSystemError(error) && error.code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Why the output folder cannot be used, checked before synth: cdktf creates only its last level. */
function outdirProblem(outdir: string, fromEnv: boolean): string | undefined {
  try {
    const stat = statOf(outdir);
    if (stat !== undefined) {
      return stat.isDirectory()
        ? undefined
        : `${named(outdir, fromEnv)} is a file, not a folder. Remove the file or set ${OUTDIR_ENV_VAR} to a folder.`;
    }
    const parent = path.dirname(outdir);
    const parentStat = statOf(parent);
    if (parentStat === undefined) {
      return `${named(outdir, fromEnv)} cannot be created: its parent folder ${parent} does not exist. Create it (mkdir -p ${parent}) or set ${OUTDIR_ENV_VAR} to a folder whose parent exists.`;
    }
    if (!parentStat.isDirectory()) {
      return `${named(outdir, fromEnv)} cannot be created: ${parent} is a file, not a folder. Set ${OUTDIR_ENV_VAR} to a folder whose parent is a folder.`;
    }
    return undefined;
  } catch (error) {
    if (!isFileSystemError(error)) throw error;
    return describeWriteError(error, outdir, fromEnv);
  }
}

/** A failed write in the output folder, as a sentence with what to do. */
function describeWriteError(error: NodeJS.ErrnoException & { code: string }, outdir: string, fromEnv: boolean): string {
  const where = error.path ?? outdir;
  switch (error.code) {
    case 'EACCES':
    case 'EPERM':
      return `cannot write to ${where} (${error.code}: permission denied). Make ${named(outdir, fromEnv)} writable or set ${OUTDIR_ENV_VAR} to a folder you can write to.`;
    case 'EROFS':
      return `cannot write to ${where} (EROFS: read-only file system). Set ${OUTDIR_ENV_VAR} to a folder on a writable file system.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `cannot write to ${where} (${error.code}: no space left). Free some space and run again.`;
    default: {
      const reason = error.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
      return `cannot write to ${where} (${error.code}: ${reason}). Check ${named(outdir, fromEnv)} or set ${OUTDIR_ENV_VAR} to another folder.`;
    }
  }
}

/**
 * The cdktf CLI (`cdktf synth|diff|deploy`) runs this app with `CDKTF_CONTEXT_JSON` naming
 * `cdktfRelativeModules`; nothing else sets that key.
 */
function launchedByCdktfCli(env: NodeJS.ProcessEnv): boolean {
  try {
    const context: unknown = JSON.parse(env.CDKTF_CONTEXT_JSON ?? '{}');
    return typeof context === 'object' && context !== null && 'cdktfRelativeModules' in context;
  } catch {
    return false;
  }
}

/**
 * Empties `stacks/` before the synth: stacks of accounts removed from the configuration must not
 * linger for the pipeline to plan, nor a `cdk.tf` of an `--hcl` run next to a new `cdk.tf.json`.
 *
 * Under the cdktf CLI every stack folder is emptied but kept: the CLI lists the folders of `stacks/`
 * before it runs this app and afterwards deletes those the new manifest does not name, with an
 * `rmSync` that fails (`ENOENT ... lstat cdktf.out/stacks/<removed>`) when the folder is gone already.
 */
function clearStacks(stacksDir: string, underCli: boolean): void {
  if (!underCli) {
    rmSync(stacksDir, { recursive: true, force: true });
    return;
  }
  const entries = statOf(stacksDir) === undefined ? [] : readdirSync(stacksDir, { withFileTypes: true });
  for (const entry of entries) {
    const entryPath = path.join(stacksDir, entry.name);
    const inside = entry.isDirectory() ? readdirSync(entryPath).map((name) => path.join(entryPath, name)) : [entryPath];
    for (const file of inside) rmSync(file, { recursive: true, force: true });
  }
}
